"""Tests of synthcxr.metrics: point metrics against hand-computed confusion matrices, calibration, the
validation threshold, seed means."""

import json
import math

import numpy as np
import pytest
from simulated import _simulated_scores
from sklearn.calibration import calibration_curve

from synthcxr import catalog, metrics

# y_true = [0, 0, 1, 1, 1], predictions at 0.5 = [0, 1, 1, 1, 0]
# -> tn = 1, fp = 1, fn = 1, tp = 2
HAND_Y = np.array([0, 0, 1, 1, 1])
HAND_P = np.array([0.1, 0.8, 0.9, 0.7, 0.2])


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
