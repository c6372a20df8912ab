"""Tests of synthcxr.stats (run: PYTHONPATH=scripts pytest tests/test_stats.py)."""

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import matthews_corrcoef, roc_auc_score

from synthcxr import catalog, metrics, stats

# y_true = [0, 0, 1, 1, 1], predictions at 0.5 = [0, 1, 1, 1, 0]
# -> tn = 1, fp = 1, fn = 1, tp = 2
HAND_Y = np.array([0, 0, 1, 1, 1])
HAND_P = np.array([0.1, 0.8, 0.9, 0.7, 0.2])


def _simulated_scores(rng, n, separation=1.0):
    """Labels and probabilities from a logistic model with the given separation."""
    y = rng.integers(0, 2, n)
    logits = separation * (2 * y - 1) + rng.normal(0, 1, n)
    return y, 1 / (1 + np.exp(-logits))


# ---------------------------------------------------------------------------
# classification_metrics


def test_metrics_hand_computed():
    m = metrics.classification_metrics(HAND_Y, HAND_P)
    assert m["confusion_matrix"] == [[1, 1], [1, 2]]
    assert m["confusion_matrix_labels"] == [0, 1]
    assert m["n"] == 5 and m["n_per_class"] == {"0": 2, "1": 3}
    expected = {
        "accuracy": 3 / 5,
        "sensitivity": 2 / 3,
        "specificity": 1 / 2,
        "precision": 2 / 3,
        "f1": 2 * 2 / (2 * 2 + 1 + 1),
        "balanced_accuracy": (2 / 3 + 1 / 2) / 2,
        "mcc": (2 * 1 - 1 * 1) / math.sqrt(3 * 3 * 2 * 2),
        "majority_baseline_accuracy": 3 / 5,
        "brier": (0.1**2 + 0.8**2 + 0.1**2 + 0.3**2 + 0.8**2) / 5,
        # positive/negative pairs ranked correctly: 0.9 > both, 0.7 > 0.1, 0.2 > 0.1
        "auroc": 4 / 6,
        # precision at each positive, descending scores: 1/1, 2/3, 3/4
        "auprc": (1 + 2 / 3 + 3 / 4) / 3,
        # every image in its own bin -> mean |y - p|
        "ece": (0.1 + 0.8 + 0.1 + 0.3 + 0.8) / 5,
        "threshold": 0.5,
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(value), name


def test_metrics_threshold_is_inclusive():
    m = metrics.classification_metrics(HAND_Y, HAND_P, threshold=0.7)
    # 0.7 counts as PNEUMONIA, as in sklearn.metrics.roc_curve
    assert m["confusion_matrix"] == [[1, 1], [1, 2]]
    m = metrics.classification_metrics(HAND_Y, HAND_P, threshold=0.85)
    assert m["confusion_matrix"] == [[2, 0], [2, 1]]


def test_metrics_are_plain_json_types():
    m = metrics.classification_metrics(HAND_Y, HAND_P)
    for name in catalog.METRICS:
        assert type(m[name]) is float, name
    assert all(type(v) is int for row in m["confusion_matrix"] for v in row)
    assert json.loads(json.dumps(m)) == m


def test_metrics_single_class_in_y_true_are_nan_where_they_need_the_missing_class():
    m = metrics.classification_metrics([0, 0, 0, 0], [0.1, 0.2, 0.7, 0.4])
    # no PNEUMONIA image: nothing about PNEUMONIA (or both classes) can be measured
    for name in ("sensitivity", "precision", "f1", "auprc", "balanced_accuracy", "auroc", "mcc"):
        assert math.isnan(m[name]), name
    assert m["specificity"] == 0.75 and m["accuracy"] == 0.75
    assert m["majority_baseline_accuracy"] == 1.0
    assert m["n_per_class"] == {"0": 4, "1": 0}
    assert m["confusion_matrix"] == [[3, 1], [0, 0]]

    m = metrics.classification_metrics([1, 1, 1], [0.9, 0.8, 0.4])
    for name in ("specificity", "balanced_accuracy", "auroc", "mcc"):
        assert math.isnan(m[name]), name
    # 2 of 3 found, both predicted PNEUMONIA are right, AP of perfectly ranked positives is 1
    assert m["sensitivity"] == pytest.approx(2 / 3) and m["precision"] == 1.0 and m["f1"] == pytest.approx(0.8)
    assert m["auprc"] == 1.0 and m["accuracy"] == pytest.approx(2 / 3)
    json.dumps(m)


@pytest.mark.filterwarnings("ignore")
def test_metrics_single_class_in_predictions():
    m = metrics.classification_metrics([0, 1, 1, 0, 1], [0.1, 0.2, 0.3, 0.05, 0.4])
    assert m["confusion_matrix"] == [[2, 0], [3, 0]]
    assert m["precision"] == 0.0 and m["sensitivity"] == 0.0 and m["f1"] == 0.0
    assert m["mcc"] == 0.0
    assert m["auroc"] == 1.0  # ranking is perfect even if the threshold is not


@pytest.mark.parametrize(
    "y_true, y_prob",
    [([0, 2, 1], [0.1, 0.2, 0.3]), ([0, 1], [0.1, 1.2]), ([0, 1], [0.1]), ([0, 1], [0.1, np.nan])],
)
def test_metrics_reject_bad_input(y_true, y_prob):
    with pytest.raises(ValueError):
        metrics.classification_metrics(y_true, y_prob)


# ---------------------------------------------------------------------------
# calibration


def test_reliability_curve_matches_sklearn_and_counts():
    y, p = _simulated_scores(np.random.default_rng(0), 500)
    mean_predicted, fraction_positive, counts = metrics.reliability_curve(y, p, n_bins=10)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    np.testing.assert_allclose(mean_predicted, prob_pred)
    np.testing.assert_allclose(fraction_positive, prob_true)
    assert counts.sum() == 500 and counts.shape == mean_predicted.shape and (counts > 0).all()
    ece = np.sum(counts * np.abs(fraction_positive - mean_predicted)) / 500
    assert metrics.classification_metrics(y, p)["ece"] == pytest.approx(ece)


def test_ece_calibrated_small_overconfident_large():
    rng = np.random.default_rng(0)
    true_prob = rng.uniform(0, 1, 20_000)
    y = (rng.uniform(0, 1, true_prob.size) < true_prob).astype(int)
    assert metrics.classification_metrics(y, true_prob)["ece"] < 0.02
    overconfident = np.where(true_prob > 0.5, 0.99, 0.01)  # true P(y=1) is 0.75 / 0.25 on average
    assert metrics.classification_metrics(y, overconfident)["ece"] > 0.2


# ---------------------------------------------------------------------------
# bootstrap


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 1),
            st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.5, 0.7, 0.9, 1.0]),  # ties on purpose
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_resampled_metrics_equal_metrics_of_explicit_resample(data):
    """The vectorised weighted metrics equal classification_metrics on repeated rows."""
    y, p, counts = (np.array(column) for column in zip(*data))
    if counts.sum() == 0:
        counts[0] = 1
    fast = stats._resampled_metrics(y, p, counts[None, :], threshold=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-class resamples warn in sklearn
        reference = metrics.classification_metrics(np.repeat(y, counts), np.repeat(p, counts))
    for name in catalog.METRICS:
        np.testing.assert_allclose(fast[name][0], reference[name], atol=1e-12, err_msg=name)


def test_bootstrap_deterministic_and_consistent():
    y, p = _simulated_scores(np.random.default_rng(1), 300)
    a = stats.bootstrap_intervals(y, p, n_boot=300, seed=3)
    b = stats.bootstrap_intervals(y, p, n_boot=300, seed=3)
    c = stats.bootstrap_intervals(y, p, n_boot=300, seed=4)
    assert a == b and a != c
    assert set(a) == set(catalog.METRICS)
    assert stats.bootstrap_interval(y, p, "auroc", n_boot=300, seed=3) == a["auroc"]
    point = metrics.classification_metrics(y, p)
    for name, (low, high) in a.items():
        assert type(low) is float and low <= point[name] <= high, name
    with pytest.raises(ValueError):
        stats.bootstrap_intervals(y, p, metrics=["accuracy", "nope"])


def test_resamples_lacking_a_class_are_left_out_of_every_interval():
    """2 PNEUMONIA images of 8: about 10% of resamples hold none. Both are found (p >= 0.5), so wherever
    sensitivity is defined it is 1; counting the resamples without positives as 0 would pull the interval down."""
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.4, 0.9, 0.8])
    intervals = stats.bootstrap_intervals(y, p, n_boot=400, seed=1)
    assert intervals["sensitivity"] == (1.0, 1.0)
    # the same resamples scored by sklearn on explicitly repeated images, one-class resamples skipped
    weights = stats._bootstrap_weights(y.size, None, 400, np.random.default_rng(1))
    two_classes = [w for w in weights if 0 < w[y == 1].sum() < w.sum()]
    assert len(two_classes) < 380  # the case under test occurs
    for name, score in (("auroc", roc_auc_score), ("mcc", matthews_corrcoef)):
        predicted = p if name == "auroc" else p >= 0.5
        values = [score(np.repeat(y, w), np.repeat(predicted, w)) for w in two_classes]
        expected = np.quantile(values, [0.025, 0.975])
        np.testing.assert_allclose(intervals[name], expected, atol=1e-12, err_msg=name)


def test_bootstrap_accuracy_coverage():
    """A 95% interval covers the true accuracy in roughly 95% of simulated test sets."""
    rng = np.random.default_rng(0)
    true_accuracy, n, n_sets = 0.8, 200, 200
    covered = 0
    for seed in range(n_sets):
        y = rng.integers(0, 2, n)
        correct = rng.uniform(0, 1, n) < true_accuracy
        y_prob = np.where(correct == (y == 1), 0.7, 0.3)
        low, high = stats.bootstrap_interval(y, y_prob, "accuracy", n_boot=400, seed=seed)
        covered += low <= true_accuracy <= high
    assert 0.89 <= covered / n_sets <= 0.99


def test_cluster_bootstrap_wider_for_correlated_groups():
    rng = np.random.default_rng(0)
    n_groups, group_size = 40, 10
    groups = np.repeat([f"p{g}" for g in range(n_groups)], group_size)
    group_correct = rng.uniform(0, 1, n_groups) < 0.8  # all images of a patient right or wrong
    y = rng.integers(0, 2, groups.size)
    correct = np.repeat(group_correct, group_size)
    y_prob = np.where(correct == (y == 1), 0.9, 0.1)
    low_i, high_i = stats.bootstrap_interval(y, y_prob, "accuracy", n_boot=1000)
    low_g, high_g = stats.bootstrap_interval(y, y_prob, "accuracy", groups=groups, n_boot=1000)
    assert high_g - low_g > 2 * (high_i - low_i)


def test_bootstrap_single_class_returns_nan_interval():
    low, high = stats.bootstrap_interval([0, 0, 0], [0.2, 0.6, 0.1], "auroc", n_boot=50)
    assert math.isnan(low) and math.isnan(high)


# ---------------------------------------------------------------------------
# McNemar


def test_mcnemar_hand_table():
    # 5 both right, 8 only A right (b), 2 only B right (c), 3 both wrong
    y = np.zeros(18, dtype=int)
    pred_a = np.array([0] * 5 + [0] * 8 + [1] * 2 + [1] * 3)
    pred_b = np.array([0] * 5 + [1] * 8 + [0] * 2 + [1] * 3)
    result = stats.mcnemar_test(y, pred_a, pred_b)
    assert (result["b"], result["c"]) == (8, 2)
    # two-sided exact: 2 * P(X <= 2), X ~ Binomial(10, 1/2)
    expected = 2 * sum(math.comb(10, k) for k in range(3)) / 2**10
    assert result["p_value"] == pytest.approx(expected)  # 112 / 1024
    assert result["statistic"] == 2.0 and "binomial" in result["method"]
    # swapping the models swaps b and c, same p-value
    swapped = stats.mcnemar_test(y, pred_b, pred_a)
    assert (swapped["b"], swapped["c"], swapped["p_value"]) == (2, 8, result["p_value"])


def test_mcnemar_no_discordant_pairs():
    result = stats.mcnemar_test([0, 1, 1], [0, 1, 0], [0, 1, 0])
    assert (result["b"], result["c"], result["p_value"]) == (0, 0, 1.0)


# ---------------------------------------------------------------------------
# AUROC comparisons


def _slow_delong(y, a, b):
    """DeLong et al. (1988) straight from the definition, O(m n)."""
    placements10, placements01 = [], []
    for s in (a, b):
        x, z = s[y == 1], s[y == 0]
        psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
        placements10.append(psi.mean(axis=1))
        placements01.append(psi.mean(axis=0))
    m, n = placements10[0].size, placements01[0].size
    cov = np.cov(placements10) / m + np.cov(placements01) / n
    auc = [v.mean() for v in placements10]
    return auc[0] - auc[1], math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])


def _two_models(seed, n=400):
    rng = np.random.default_rng(seed)
    y, prob_a = _simulated_scores(rng, n, separation=1.2)
    prob_b = np.clip(prob_a + rng.normal(0, 0.25, n), 0, 1)
    return y, np.round(prob_a, 2), np.round(prob_b, 2)  # rounding creates ties


def test_delong_matches_definition_and_sklearn():
    y, a, b = _two_models(0)
    result = stats.delong_test(y, a, b)
    diff, se = _slow_delong(y, a, b)
    assert result["diff"] == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b))
    assert result["diff"] == pytest.approx(diff)
    assert result["se"] == pytest.approx(se)
    assert result["z"] == pytest.approx(diff / se)


def test_delong_and_paired_bootstrap_agree():
    y, a, b = _two_models(1)
    delong = stats.delong_test(y, a, b)
    boot = stats.paired_bootstrap_differences(y, {"a": a, "b": b}, "b", ["auroc"], n_boot=2000, seed=0)["a"]["auroc"]
    assert boot["diff"] == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b))
    assert boot["diff"] == pytest.approx(delong["diff"])
    boot_se = (boot["high"] - boot["low"]) / (2 * 1.96)
    assert boot_se == pytest.approx(delong["se"], rel=0.15)
    assert boot["low"] < boot["diff"] < boot["high"]
    assert delong["p_value"] < 0.05 and boot["p_value"] < 0.05


def test_auroc_comparisons_of_identical_models():
    y, a, _ = _two_models(2)
    boot = stats.paired_bootstrap_differences(y, {"a": a, "b": a}, "b", ["auroc"], n_boot=200)["a"]["auroc"]
    assert (boot["diff"], boot["low"], boot["high"], boot["p_value"]) == (0.0, 0.0, 0.0, 1.0)
    delong = stats.delong_test(y, a, a)
    assert (delong["diff"], delong["se"], delong["p_value"]) == (0.0, 0.0, 1.0)


def test_paired_bootstrap_with_groups_is_deterministic():
    y, a, b = _two_models(3, n=400)
    groups = np.repeat(np.arange(40).astype(str), 10)
    first = stats.paired_bootstrap_differences(y, {"a": a, "b": b}, "b", ["auroc"], groups=groups, n_boot=300, seed=5)
    assert first == stats.paired_bootstrap_differences(
        y, {"a": a, "b": b}, "b", ["auroc"], groups=groups, n_boot=300, seed=5
    )
    assert 0 <= first["a"]["auroc"]["p_value"] <= 1


@pytest.mark.filterwarnings("ignore")
def test_auroc_comparisons_single_class():
    assert math.isnan(stats.delong_test([1, 1, 1], [0.1, 0.5, 0.9], [0.2, 0.3, 0.4])["p_value"])
    result = stats.paired_bootstrap_differences([0, 0], {"a": [0.1, 0.5], "b": [0.2, 0.3]}, "b", ["auroc"], n_boot=10)
    assert math.isnan(result["a"]["auroc"]["diff"])


# ---------------------------------------------------------------------------
# multiple comparisons


def test_holm_hand_example():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> 0.06 (monotone)
    np.testing.assert_allclose(stats.holm_adjust(p), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm_adjust([0.5, 0.6]), [1.0, 1.0])


def test_holm_leaves_nan_out_of_the_family():
    # two tests, not three: 0.01*2 = 0.02, 0.02*1 = 0.02
    np.testing.assert_allclose(stats.holm_adjust([0.01, np.nan, 0.02]), [0.02, np.nan, 0.02])
    assert np.isnan(stats.holm_adjust([np.nan, np.nan])).all()


# ---------------------------------------------------------------------------
# bootstrap p-value


def test_bootstrap_p_value_hand_examples():
    # one of four differences at or below 0: 2 * (1 + 1) / (4 + 1)
    assert stats.bootstrap_p_value([-1, 1, 2, 3]) == pytest.approx(0.8)
    assert stats.bootstrap_p_value([3, 2, 1, -1]) == pytest.approx(0.8)  # order does not matter
    assert stats.bootstrap_p_value([-3, -2, -1, 1]) == pytest.approx(0.8)  # nor the sign
    # none below 0: 2 * (1 + 0) / (99 + 1), the smallest p-value 99 replicates can give
    assert stats.bootstrap_p_value(np.full(99, 0.5)) == pytest.approx(0.02)
    # NaN replicates (metric undefined) are not counted: 2 * 1 / 4
    assert stats.bootstrap_p_value([np.nan, 1, 2, 3]) == pytest.approx(0.5)
    # zeros count on both sides; capped at 1
    assert stats.bootstrap_p_value([0, 0, 1]) == 1.0
    assert math.isnan(stats.bootstrap_p_value([np.nan, np.nan]))


# ---------------------------------------------------------------------------
# thresholds and seeds


def test_choose_threshold_separable_lands_between_classes():
    rng = np.random.default_rng(0)
    negatives, positives = rng.uniform(0.1, 0.4, 50), rng.uniform(0.6, 0.9, 50)
    y = np.r_[np.zeros(50, int), np.ones(50, int)]
    threshold = metrics.choose_threshold(y, np.r_[negatives, positives])
    assert negatives.max() < threshold <= positives.min()
    assert metrics.classification_metrics(y, np.r_[negatives, positives], threshold)["accuracy"] == 1.0


def test_choose_threshold_maximises_youden():
    y, p = _simulated_scores(np.random.default_rng(1), 300)
    threshold = metrics.choose_threshold(y, p)

    def youden(t):
        pred = p >= t
        return pred[y == 1].mean() + (~pred[y == 0]).mean() - 1

    assert youden(threshold) >= max(youden(t) for t in np.r_[np.linspace(0, 1, 101), p]) - 1e-12
    with pytest.raises(ValueError):
        metrics.choose_threshold([1, 1], [0.2, 0.4])
    with pytest.raises(ValueError):
        metrics.choose_threshold(y, p, method="f1")


def test_seed_mean_sd_hand_examples():
    assert metrics.seed_mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)  # sd: sqrt((1 + 0 + 1) / 2)
    mean, sd = metrics.seed_mean_sd([0.7])
    assert mean == 0.7 and math.isnan(sd)
    mean, sd = metrics.seed_mean_sd([0.7, np.nan, 0.9])  # an undefined seed leaves the mean undefined
    assert math.isnan(mean) and math.isnan(sd)
    mean, sd = metrics.seed_mean_sd([[1.0, 2.0], [3.0, 6.0]])  # seeds along axis 0
    np.testing.assert_allclose(mean, [2.0, 4.0])
    np.testing.assert_allclose(sd, [math.sqrt(2), math.sqrt(8)])
    with pytest.raises(ValueError):
        metrics.seed_mean_sd([])
