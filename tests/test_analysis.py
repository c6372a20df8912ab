"""Statistics across cells: seed-averaged intervals, paired comparisons, Holm, findings and tables (no snakemake)."""

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from oracles import holm
from scipy import stats as scipy_stats
from sklearn.metrics import roc_auc_score

from synthcxr import analysis, catalog, findings, metrics, stats
from synthcxr.figures import (
    FPR_GRID,
    confusion_grid,
    confusion_grid_by_seed,
    heatmap,
    mean_roc,
    row_shares,
    volume_curve,
)
from synthcxr.summary import comparisons_readable, latex_table, readable_table

# Bootstrap settings besides n_boot (the workflow takes them from the config: statistics).
BOOT = {"alpha": 0.05, "seed": 0, "min_groups_per_class": 5}


def _scores(rng, n, separation=1.0):
    y = rng.integers(0, 2, n)
    logits = separation * (2 * y - 1) + rng.normal(0, 1, n)
    return y, np.round(1 / (1 + np.exp(-logits)), 6)


def _seeds(rng, y, n_seeds, separation=1.0, noise=0.5):
    """Probabilities of ``n_seeds`` models that share the signal and differ by seed noise."""
    base = separation * (2 * y - 1) + rng.normal(0, 1, y.size)
    return np.round(1 / (1 + np.exp(-(base + rng.normal(0, noise, (n_seeds, y.size))))), 6)


# ---------------------------------------------------------------------------
# stats.seed_averaged_intervals


def test_identical_seeds_give_the_single_seed_interval():
    rng = np.random.default_rng(0)
    y, p = _scores(rng, 300)
    groups = np.repeat(np.arange(100), 3)
    single = stats.bootstrap_intervals(y, p, groups=groups, n_boot=500, seed=7)
    for n_seeds in (1, 3):
        averaged = stats.seed_averaged_intervals(y, np.tile(p, (n_seeds, 1)), groups=groups, n_boot=500, seed=7)
        assert set(averaged) == set(catalog.METRICS)
        for name in catalog.METRICS:
            np.testing.assert_allclose(averaged[name], single[name], atol=1e-12, err_msg=name)
    # a 1-D array is one seed
    assert stats.seed_averaged_intervals(y, p, ["auroc"], n_boot=200, seed=1)["auroc"] == pytest.approx(
        stats.bootstrap_interval(y, p, "auroc", n_boot=200, seed=1)
    )


def test_seed_averaged_interval_brackets_the_seed_averaged_metric_and_is_deterministic():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    probs = _seeds(rng, y, 4)
    a = stats.seed_averaged_intervals(y, probs, n_boot=400, seed=3)
    assert a == stats.seed_averaged_intervals(y, probs, n_boot=400, seed=3)
    assert a != stats.seed_averaged_intervals(y, probs, n_boot=400, seed=4)
    for name in ("accuracy", "balanced_accuracy", "f1", "auroc", "mcc"):
        mean = np.mean([metrics.classification_metrics(y, p)[name] for p in probs])
        low, high = a[name]
        assert type(low) is float and low < mean < high, name


def test_seed_averaged_interval_covers_the_true_accuracy():
    """Seeds err independently with P = 0.2 on each image: the interval covers 0.8 at least 95% of the time.

    Conservative here: the seeds' disagreement is image-level noise, which the seed level counts again.
    """
    rng = np.random.default_rng(0)
    true_accuracy, n, n_seeds, n_sets = 0.8, 150, 3, 150
    covered = 0
    for index in range(n_sets):
        y = rng.integers(0, 2, n)
        correct = rng.uniform(0, 1, (n_seeds, n)) < true_accuracy
        probs = np.where(correct == (y == 1), 0.7, 0.3)
        low, high = stats.seed_averaged_intervals(y, probs, ["accuracy"], n_boot=300, seed=index)["accuracy"]
        covered += low <= true_accuracy <= high
    assert covered / n_sets >= 0.95


def _seed_offset_study(rng, offsets, n_pairs=100):
    """A test split of ``n_pairs`` two-image patient groups and one model per seed offset: each image has the
    logit -1 + z (NORMAL) or 1 + z (PNEUMONIA), z ~ N(0, 1) shared by the seeds, and seed s adds its offset
    u_s to every logit (a shifted operating point, as GAN-trained models show between seeds). Seed s then
    has specificity P(z < 1 - u_s) = Phi(1 - u_s)."""
    y = np.repeat(rng.integers(0, 2, n_pairs), 2)
    logits = (2 * y - 1) + rng.normal(0, 1, y.size) + np.asarray(offsets, dtype=float)[:, None]
    return y, np.round(1 / (1 + np.exp(-logits)), 6), np.repeat(np.arange(n_pairs), 2)


def _groups_only_interval(y, probs, groups, metric, n_boot, seed):
    """The former cell interval: test groups resampled, the same draw for every seed, seeds held fixed."""
    weights = stats._bootstrap_weights(y.size, groups, n_boot, np.random.default_rng(seed))
    per_seed = stats._per_seed_resamples(y, probs, weights, 0.5, [metric])[metric]
    return stats._percentile_interval(per_seed.mean(axis=0), 0.05)


def test_two_level_interval_covers_every_seed_when_seeds_disagree_strongly():
    """Three seeds at extreme operating points (specificity near 0, in between and near 1): every seed's
    specificity lies inside the cell interval, while an interval over test groups alone misses them all."""
    y, probs, groups = _seed_offset_study(np.random.default_rng(11), [3.0, 0.0, -3.0])
    per_seed = [metrics.classification_metrics(y, prob)["specificity"] for prob in probs]
    assert min(per_seed) < 0.2 and max(per_seed) > 0.95  # seeds disagree strongly
    low, high = stats.seed_averaged_intervals(y, probs, ["specificity"], groups=groups, n_boot=2000)["specificity"]
    assert all(low <= value <= high for value in per_seed), (low, high, per_seed)
    assert high == 1.0  # the scaled seed deviations reach past 1; a specificity cannot
    old_low, old_high = _groups_only_interval(y, probs, groups, "specificity", 2000, 0)
    assert not any(old_low <= value <= old_high for value in per_seed), (old_low, old_high, per_seed)


def test_two_level_interval_covers_the_domain_mean_when_seeds_disagree_strongly():
    """Simulated studies of 5 seeds each: the interval covers the training domain's expected specificity
    (over seeds) in most studies; test groups alone, holding the seeds fixed, cover it far less often."""
    rng = np.random.default_rng(12)
    offset_sd = 2.0  # seeds' offsets u ~ N(0, offset_sd^2): expected specificity E Phi(1 - u) as below
    truth = scipy_stats.norm.cdf(1 / math.sqrt(1 + offset_sd**2))
    n_studies, covered, covered_groups_only = 120, 0, 0
    for index in range(n_studies):
        y, probs, groups = _seed_offset_study(rng, rng.normal(0, offset_sd, 5))
        low, high = stats.seed_averaged_intervals(y, probs, ["specificity"], groups=groups, n_boot=400, seed=index)[
            "specificity"
        ]
        covered += low <= truth <= high
        old_low, old_high = _groups_only_interval(y, probs, groups, "specificity", 400, index)
        covered_groups_only += old_low <= truth <= old_high
    # percentile intervals from 5 seeds run a little short of 95% (a t with 4 df is wider than a normal)
    assert covered / n_studies >= 0.85
    assert covered_groups_only / n_studies <= 0.6


def test_one_seed_interval_is_the_group_bootstrap():
    y, probs, groups = _seed_offset_study(np.random.default_rng(13), [0.5])
    two_level = stats.seed_averaged_intervals(y, probs, groups=groups, n_boot=300, seed=5)
    assert two_level == stats.bootstrap_intervals(y, probs[0], groups=groups, n_boot=300, seed=5)


def test_seed_averaging_narrows_the_interval_when_seeds_disagree():
    rng = np.random.default_rng(2)
    n, n_seeds = 300, 5
    y = rng.integers(0, 2, n)
    correct = rng.uniform(0, 1, (n_seeds, n)) < 0.75  # seeds err on different images
    probs = np.where(correct == (y == 1), 0.8, 0.2)
    single = stats.bootstrap_interval(y, probs[0], "accuracy", n_boot=1000, seed=0)
    averaged = stats.seed_averaged_intervals(y, probs, ["accuracy"], n_boot=1000, seed=0)["accuracy"]
    assert averaged[1] - averaged[0] < 0.8 * (single[1] - single[0])


def test_chunked_resamples_equal_one_pass():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    probs = _seeds(rng, y, 2)
    weights = stats._bootstrap_weights(80, None, 2500, np.random.default_rng(0))
    chunked = stats._per_seed_resamples(y, probs, weights, 0.5, catalog.METRICS, chunk=1000)
    whole = stats._per_seed_resamples(y, probs, weights, 0.5, catalog.METRICS, chunk=10**6)
    for name in catalog.METRICS:
        np.testing.assert_allclose(chunked[name], whole[name], atol=1e-12, equal_nan=True, err_msg=name)


def test_seed_averaged_intervals_reject_bad_input():
    with pytest.raises(ValueError):
        stats.seed_averaged_intervals([0, 1, 1], [[0.1, 0.2]])
    with pytest.raises(ValueError):
        stats.seed_averaged_intervals([0, 1], [[0.1, 0.9]], metrics=["nope"])
    with pytest.raises(ValueError):
        stats.seed_averaged_intervals([0, 1], np.zeros((1, 1, 2)))


# ---------------------------------------------------------------------------
# stats.paired_bootstrap_differences


def _pair(y, a, b, metrics=catalog.METRICS, **bootstrap):
    """Domain a minus domain b."""
    return stats.paired_bootstrap_differences(y, {"a": a, "b": b}, "b", metrics, **bootstrap)["a"]


def test_paired_differences_with_one_seed_each_equal_an_explicit_resampling_loop():
    """One model per domain: no seeds to resample, so each replicate is sklearn's AUROC difference on the
    drawn groups, the interval their 2.5 and 97.5 percentiles and p twice the smaller tail (+1 / n+1)."""
    rng = np.random.default_rng(4)
    y, a = _scores(rng, 120, 1.2)
    b = np.round(np.clip(a + rng.normal(0, 0.2, a.size), 0, 1), 6)
    groups = np.repeat(np.arange(40), 3)
    result = _pair(y, a, b, ["auroc"], groups=groups, n_boot=300, seed=2)["auroc"]
    draws = np.random.default_rng(2).multinomial(40, np.full(40, 1 / 40), size=300)  # group counts, as drawn
    diffs = []
    for counts in draws:
        images = np.repeat(np.arange(y.size), counts[groups])
        diffs.append(roc_auc_score(y[images], a[images]) - roc_auc_score(y[images], b[images]))
    diffs = np.array(diffs)
    assert result["diff"] == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b))
    np.testing.assert_allclose([result["low"], result["high"]], np.quantile(diffs, [0.025, 0.975]), atol=1e-12)
    tail = min((diffs <= 0).sum(), (diffs >= 0).sum())
    assert result["p_value"] == pytest.approx(min(1, 2 * (1 + tail) / 301))


def _study(rng, n_seeds, shift, n_groups=80):
    """Two training domains tested on the same images (two per patient group). Each model's skill is drawn
    per seed (AUROC sd over models ~0.04); domain a's mean skill is higher by ``shift``. The images share a
    difficulty, so the domains' predictions are correlated, as on a real test split."""
    n = 2 * n_groups
    y = rng.integers(0, 2, n)
    difficulty = rng.normal(0, 1, n)

    def models(mean_skill):
        skill = mean_skill + rng.normal(0, 0.16, (n_seeds, 1))
        logits = skill * (2 * y - 1) + difficulty + rng.normal(0, 0.7, (n_seeds, n))
        return np.round(1 / (1 + np.exp(-logits)), 6)

    return y, np.repeat(np.arange(n_groups), 2), models(1.0 + shift), models(1.0)


def _rejections(n_seeds, shift, n_studies, metrics=("accuracy", "auroc")):
    rng = np.random.default_rng(11)
    rejected = 0
    for index in range(n_studies):
        y, groups, a, b = _study(rng, n_seeds, shift)
        result = _pair(y, a, b, metrics, groups=groups, n_boot=300, seed=index)
        rejected += sum(result[name]["p_value"] < 0.05 for name in metrics)
    return rejected / (n_studies * len(metrics))


def test_paired_differences_keep_the_false_positive_rate_near_alpha_when_seeds_vary():
    """Same distribution for both domains, 3 seeds each, 100 studies x 2 metrics: resampling only the test
    groups, with the seed models held fixed, rejected in about a third of them (seed-to-seed skill
    differences look like domain differences); resampling the seeds too brings it near 5%."""
    assert 0.01 <= _rejections(n_seeds=3, shift=0.0, n_studies=100) <= 0.10


def test_paired_differences_still_detect_a_real_difference():
    # mean skill 1.6 against 1.0: about +0.07 AUROC, beside an sd of 0.04 over models
    assert _rejections(n_seeds=3, shift=0.6, n_studies=30) >= 0.75


def test_paired_differences_are_differences_of_seed_means():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 250)
    good, poor = _seeds(rng, y, 3, separation=1.5), _seeds(rng, y, 2, separation=0.3)
    result = _pair(y, good, poor, n_boot=2000, seed=0)
    for name in catalog.METRICS:
        expected = np.mean([metrics.classification_metrics(y, p)[name] for p in good]) - np.mean(
            [metrics.classification_metrics(y, p)[name] for p in poor]
        )
        assert result[name]["diff"] == pytest.approx(expected, abs=1e-12), name
    for name in ("accuracy", "balanced_accuracy", "auroc"):
        r = result[name]
        assert r["diff"] > 0 and r["low"] > 0 and r["low"] < r["diff"] < r["high"] and r["p_value"] < 0.01, name
    # swapping the models negates the difference and keeps the p-value
    swapped = _pair(y, poor, good, ["auroc"], n_boot=2000, seed=0)["auroc"]
    assert swapped["diff"] == pytest.approx(-result["auroc"]["diff"])
    assert swapped["p_value"] == pytest.approx(result["auroc"]["p_value"])


def test_paired_differences_of_identical_models():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 100)
    probs = _seeds(rng, y, 3)
    # one model against itself: every replicate's difference is 0
    result = _pair(y, probs[0], probs[0].copy(), n_boot=300)
    for name in ("accuracy", "f1", "auroc"):
        assert (result[name]["diff"], result[name]["low"], result[name]["high"], result[name]["p_value"]) == (
            0.0,
            0.0,
            0.0,
            1.0,
        )
    # the same three seeds on both sides: no difference, but each side's seeds are resampled on their own,
    # so the interval has width and straddles 0, and the p-value says nothing
    result = _pair(y, probs, probs.copy(), n_boot=300)
    for name in ("accuracy", "f1", "auroc"):
        r = result[name]
        assert r["diff"] == 0.0 and r["low"] < 0 < r["high"] and r["p_value"] > 0.5, name


@pytest.mark.filterwarnings("ignore")
def test_paired_differences_single_class_auroc_is_nan():
    result = _pair([1, 1, 1], [0.2, 0.6, 0.9], [0.1, 0.7, 0.8], ["auroc", "accuracy"], n_boot=20)
    assert all(math.isnan(v) for v in result["auroc"].values())
    assert result["accuracy"]["diff"] == pytest.approx(0.0)


# ---------------------------------------------------------------------------
# analysis: cells, intervals and comparisons from prediction tables


def _prediction_table(y, prob, groups=None):
    n = len(y)
    return pd.DataFrame(
        {
            "image": [f"img{i:03d}.png" for i in range(n)],
            "group": groups if groups is not None else [f"g{i:03d}" for i in range(n)],
            "true_label": y,
            "prob_pneumonia": prob,
            "pred_label": (np.asarray(prob) >= 0.5).astype(int),
        }
    )


def _cells(rng, separations, tests=("Original", "GANs"), n=120, n_seeds=2):
    """{(train, test): cell} with each training domain's separation (higher: better model)."""
    cells = {}
    for test in tests:
        y = rng.integers(0, 2, n)
        groups = np.array([f"{test}-p{i // 2}" for i in range(n)])  # two images per patient
        for train, separation in separations.items():
            probs = _seeds(rng, y, n_seeds, separation=separation, noise=0.3)
            tables = {seed: _prediction_table(y, probs[seed - 1], groups) for seed in range(1, n_seeds + 1)}
            cells[(train, test)] = analysis.cell_from_tables(tables, f"{train} on {test}")
    return cells


def test_load_cells_reads_files_and_orders_seeds(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 20)
    for seed in (2, 1):
        folder = tmp_path / "results" / "predictions" / "GANs" / "Original"
        folder.mkdir(parents=True, exist_ok=True)
        _prediction_table(y, np.full(20, seed / 10)).to_csv(folder / f"seed{seed}.csv", index=False)
    paths = sorted(str(p) for p in tmp_path.rglob("*.csv"))
    cells = analysis.load_cells(paths, [("GANs", "Original", 1), ("GANs", "Original", 2)])
    cell = cells[("GANs", "Original")]
    assert cell["seeds"] == [1, 2] and cell["probs"].shape == (2, 20)
    np.testing.assert_allclose(cell["probs"][:, 0], [0.1, 0.2])
    assert cell["group"].dtype == object and cell["y"].tolist() == y.tolist()
    with pytest.raises(ValueError, match="2 predictions files but 1"):
        analysis.load_cells(paths, [("GANs", "Original", 1)])


def test_cell_rejects_seeds_with_other_images():
    y = np.array([0, 1, 0, 1])
    other = _prediction_table(y, [0.1, 0.9, 0.2, 0.8])
    other.loc[0, "image"] = "elsewhere.png"
    with pytest.raises(ValueError, match="seed 2 lists other test images"):
        analysis.cell_from_tables({1: _prediction_table(y, [0.1, 0.9, 0.2, 0.8]), 2: other}, "GANs on Original")


def test_interval_table_needs_enough_groups_per_class():
    rng = np.random.default_rng(1)
    cells = _cells(rng, {"Original": 1.0}, tests=("Original",), n=120)
    table = analysis.interval_table(cells, n_boot=200, **BOOT)
    assert {"accuracy_ci_low", "auroc_ci_high", "mcc_ci_low"} <= set(table.columns)
    assert table.loc[0, "n_groups"] == 60 and table.loc[0, "accuracy_ci_low"] < table.loc[0, "accuracy_ci_high"]
    few = analysis.interval_table(cells, n_boot=200, **dict(BOOT, min_groups_per_class=1000))
    assert few.filter(like="_ci_").isna().all().all()


def test_comparison_table_pairs_against_reference_and_applies_holm():
    rng = np.random.default_rng(2)
    trains = ["Original", "GANs", "VAEs", "Mixed"]
    cells = _cells(rng, {"Original": 1.5, "GANs": 1.4, "VAEs": 0.1, "Mixed": 1.6})
    table = analysis.comparison_table(cells, "Original", trains, ["Original", "GANs"], n_boot=1000, **BOOT)
    assert len(table) == 3 * 2 * len(catalog.COMPARED_METRICS)
    assert "Original" not in set(table["train"]) and set(table["reference"]) == {"Original"}
    np.testing.assert_allclose(table["p_holm"], holm(table["p_value"]))
    assert (table["p_holm"] >= table["p_value"]).all()
    assert (table["significant"] == (table["p_holm"] < 0.05)).all()
    for row in table.itertuples():
        assert row.difference == pytest.approx(row.train_value - row.reference_value, abs=1e-12)
        assert row.ci_low <= row.difference <= row.ci_high
    vaes = table[(table.train == "VAEs") & (table.metric == "auroc")]
    assert (vaes["difference"] < -0.2).all() and vaes["significant"].all()  # a near-random model loses, clearly
    marks = analysis.significance_marks(table)
    assert marks[("VAEs", "Original", "auroc")] and marks[("VAEs", "GANs", "auroc")]


def test_comparison_table_refuses_unpaired_test_images():
    rng = np.random.default_rng(3)
    cells = _cells(rng, {"Original": 1.0, "GANs": 1.0}, tests=("Original",))
    cells[("GANs", "Original")]["image"] = cells[("GANs", "Original")]["image"][::-1].copy()
    with pytest.raises(ValueError, match="different Original images"):
        analysis.comparison_table(cells, "Original", ["Original", "GANs"], ["Original"], n_boot=50, **BOOT)


def test_comparison_table_without_enough_groups_reports_difference_but_no_test():
    rng = np.random.default_rng(4)
    cells = _cells(rng, {"Original": 1.0, "GANs": 0.5}, tests=("Original",), n=40)
    table = analysis.comparison_table(
        cells, "Original", ["Original", "GANs"], ["Original"], n_boot=50, **dict(BOOT, min_groups_per_class=100)
    )
    assert table["difference"].notna().all() and table["p_value"].isna().all() and table["p_holm"].isna().all()
    assert not table["significant"].any() and table["note"].str.contains("fewer than 100").all()


# ---------------------------------------------------------------------------
# findings and tables


def _summary_from_cells(cells, intervals):
    rows = []
    for (train, test), cell in cells.items():
        row = {"train": train, "test": test, "n_seeds": len(cell["seeds"]), "n_test": len(cell["y"])}
        per_seed = [metrics.classification_metrics(cell["y"], prob) for prob in cell["probs"]]
        for name in list(catalog.INTERVAL_METRICS) + ["majority_baseline_accuracy"]:
            row[name] = np.mean([values[name] for values in per_seed])
            row[f"{name}_std"] = 0.01
        rows.append(row)
    return pd.DataFrame(rows).merge(intervals, on=["train", "test"])


CONTEXT = {
    "reference": "Original",
    "synthetic": ["GANs", "VAEs"],
    "mixed": "Mixed",
    "test_domains": ["Original", "GANs"],
    "seeds": [1, 2],
    "n_boot_intervals": 300,
    "n_boot_comparisons": 1000,
    "alpha": 0.05,
    "min_groups_per_class": 5,
    "demo": False,
}


@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(7)
    trains = ["Original", "GANs", "VAEs", "Mixed"]
    cells = _cells(rng, {"Original": 1.5, "GANs": 1.4, "VAEs": 0.1, "Mixed": 1.6})
    comparisons = analysis.comparison_table(cells, "Original", trains, ["Original", "GANs"], n_boot=1000, **BOOT)
    summary = _summary_from_cells(cells, analysis.interval_table(cells, n_boot=300, **BOOT))
    return summary, comparisons


def _text(sections):
    return findings.to_markdown(sections)


def test_findings_sentences_carry_the_comparison_numbers(study):
    summary, comparisons = study
    text = _text(findings.findings(summary, comparisons, CONTEXT))
    for row in comparisons.itertuples():
        if row.train == "Mixed":
            continue
        clause = (
            f"{catalog.LABELS[row.metric]} by {row.difference:+.3f} (unadjusted 95% CI {row.ci_low:+.3f} to "
            f"{row.ci_high:+.3f}; "
            f"{row.train_value:.3f} vs {row.reference_value:.3f})"
        )
        assert clause in text, clause
    vaes = comparisons[(comparisons.train == "VAEs") & comparisons.significant & (comparisons.difference < 0)]
    assert not vaes.empty
    for row in vaes.itertuples():
        # a raw p-value at the floor of 1000 replicates (2/1001) makes the adjusted one an upper bound
        relation = "≤" if row.p_value <= 2 / 1001 * (1 + 1e-9) else "="
        assert f"Holm-adjusted p {relation} {row.p_holm:.4f}" in text
    assert "VAEs-trained models fall significantly short of Original-trained ones" in text
    assert f"the {len(comparisons)} p-values" in text and "Holm-corrected" in text
    assert findings.DISCLAIMER in text
    assert "not X-rays" not in text  # not a demo run


def test_findings_mixed_verdicts_hand_made():
    """One test split per verdict: the wording for each is written out here, not taken from findings."""
    nan = float("nan")
    rows = []
    for test, (ba_diff, ba_sig, au_diff, au_sig) in {
        "A": (0.05, True, 0.01, False),  # one significantly higher, none lower
        "B": (-0.05, True, 0.00, False),  # one significantly lower
        "C": (0.05, True, -0.03, True),  # one higher, one lower
        "D": (0.02, False, -0.01, False),  # nothing significant
    }.items():
        rows.append((test, "balanced_accuracy", ba_diff, 0.001 if ba_sig else 0.5, 0.004 if ba_sig else 1.0, ba_sig))
        rows.append((test, "auroc", au_diff, 0.001 if au_sig else 0.5, 0.004 if au_sig else 1.0, au_sig))
    rows += [("E", "balanced_accuracy", 0.01, nan, nan, False), ("E", "auroc", 0.01, nan, nan, False)]  # untested
    comparisons = pd.DataFrame(rows, columns=["test", "metric", "difference", "p_value", "p_holm", "significant"])
    comparisons = comparisons.assign(
        train="Mixed",
        reference="Original",
        train_value=0.8,
        reference_value=0.8,
        ci_low=-0.1,
        ci_high=0.1,
        n_test=100,
        n_groups=50,
        note="",
    )
    tests = ["A", "B", "C", "D", "E"]
    summary = pd.DataFrame(
        {
            "train": ["Original"] * 5 + ["Mixed"] * 5,
            "test": tests * 2,
            "accuracy": 0.9,
            "majority_baseline_accuracy": 0.6,
        }
    )
    context = dict(CONTEXT, synthetic=[], test_domains=tests)
    text = _text(findings.findings(summary, comparisons, context))
    assert "On the A test split, Mixed beats Original" in text
    assert "On the B test split, Mixed falls short of Original" in text
    assert "On the C test split, Mixed is better on some metrics and worse on others than Original" in text
    assert "On the D test split, Mixed does not differ significantly from Original" in text
    assert "On the E test split, Mixed could not be tested against Original" in text
    assert "Mixed beats Original on 1 of 5 test splits (A)." in text


def test_findings_say_what_few_seeds_allow():
    nothing = pd.DataFrame(columns=["test", "train", "metric", "p_value", "significant", "difference"])
    summary = pd.DataFrame(
        {"train": ["Original"], "test": ["Original"], "accuracy": 0.9, "majority_baseline_accuracy": 0.6}
    )

    def how(seeds):
        context = dict(CONTEXT, synthetic=[], mixed=None, test_domains=["Original"], seeds=seeds)
        return dict(findings.findings(summary, nothing, context))["How the numbers were made"][0]

    assert "not between training domains" in how([1])
    assert "only 2 seeds" in how([1, 2]) and "provisional" in how([1, 2])
    assert "provisional" not in how([1, 2, 3]) and "not between training domains" not in how([1, 2, 3, 4, 5])


def test_findings_hand_made_table():
    comparisons = pd.DataFrame(
        [
            # test, train, metric, train value, reference value, diff, low, high, p, p_holm, significant
            ("Original", "GANs", "balanced_accuracy", 0.712, 0.832, -0.120, -0.180, -0.050, 0.003, 0.004, True),
            ("Original", "GANs", "auroc", 0.900, 0.910, -0.010, -0.040, 0.020, 0.400, 0.800, False),
            ("Original", "Mixed", "balanced_accuracy", 0.870, 0.832, 0.038, 0.010, 0.070, 0.010, 0.030, True),
            ("Original", "Mixed", "auroc", 0.950, 0.910, 0.040, 0.000, 0.080, 0.040, 0.080, False),
        ],
        columns=[
            "test",
            "train",
            "metric",
            "train_value",
            "reference_value",
            "difference",
            "ci_low",
            "ci_high",
            "p_value",
            "p_holm",
            "significant",
        ],
    ).assign(reference="Original", n_test=100, n_groups=50, note="")
    summary = pd.DataFrame(
        {
            "train": ["Original", "GANs", "Mixed"],
            "test": ["Original"] * 3,
            "accuracy": [0.85, 0.74, 0.88],
            "accuracy_ci_low": [0.80, 0.70, 0.84],
            "accuracy_ci_high": [0.90, 0.80, 0.92],
            "majority_baseline_accuracy": [0.73] * 3,
        }
    )
    context = dict(CONTEXT, synthetic=["GANs"], test_domains=["Original"], demo=True)
    text = _text(findings.findings(summary, comparisons, context))
    assert (
        "On the Original test split (100 images, 50 patient groups), training on GANs instead of Original changed "
        "balanced accuracy by -0.120 (unadjusted 95% CI -0.180 to -0.050; 0.712 vs 0.832) and AUROC by -0.010 "
        "(unadjusted 95% CI -0.040 to +0.020; 0.900 vs 0.910)"
    ) in text
    assert "significant after Holm correction: lower balanced accuracy (Holm-adjusted p = 0.0040)" in text
    assert "Mixed beats Original on 1 of 1 test splits (Original)." in text
    assert "The largest shortfall of GANs is in balanced accuracy on the Original test split: -0.120" in text
    assert (
        "GANs-trained model on the Original test split (accuracy 0.740, 95% CI 0.700 to 0.800) is not clearly" in text
    )
    assert "Original-trained model on the Original test split" not in text.split("majority-class baseline")[-1]
    assert findings.DEMO_NOTE in text
    page = findings.to_html(findings.findings(summary, comparisons, context))
    assert page.startswith("<!DOCTYPE html>") and "<h2>Does Mixed beat Original?</h2>" in page


def test_p_values_at_the_bootstrap_floor_read_as_bounds():
    floor = 2 / 5001  # the smallest p-value of 5000 replicates
    assert stats.bootstrap_p_floor(5000) == floor
    assert analysis.p_value_text(floor, 5000) == "< 0.0004"
    assert analysis.p_value_text(floor, 5000, "p") == "p < 0.0004"
    assert analysis.p_value_text(2 / 1001, 1000, "p") == "p < 0.002"
    assert analysis.p_value_text(3 / 5001, 5000, "p") == "p = 0.0006"  # above the floor: the number
    assert analysis.p_value_text(0.0144, 5000, "Holm-adjusted p", raw_p_value=floor) == "Holm-adjusted p ≤ 0.0144"
    assert analysis.p_value_text(0.0144, 5000, "Holm-adjusted p", raw_p_value=0.001) == "Holm-adjusted p = 0.0144"
    assert analysis.p_value_text(float("nan"), 5000) == "n/a"
    # the bootstrap really returns the floor when every replicate lies on one side of zero
    assert stats.bootstrap_p_value(np.full(5000, 0.3)) == pytest.approx(floor)


def _unadjusted_versus_holm():
    """GANs: balanced accuracy significant at the bootstrap's floor; AUROC's unadjusted interval excludes zero
    but its Holm-adjusted p-value is not significant; F1 neither."""
    floor = 2 / 1001
    return pd.DataFrame(
        [
            # metric, train value, reference value, diff, low, high, p, p_holm, significant
            ("balanced_accuracy", 0.712, 0.832, -0.120, -0.180, -0.050, floor, 3 * floor, True),
            ("auroc", 0.880, 0.910, -0.030, -0.055, -0.004, 0.020, 0.040 * 2, False),
            ("f1", 0.800, 0.810, -0.010, -0.040, 0.020, 0.400, 0.800, False),
        ],
        columns=[
            "metric",
            "train_value",
            "reference_value",
            "difference",
            "ci_low",
            "ci_high",
            "p_value",
            "p_holm",
            "significant",
        ],
    ).assign(
        test="Original",
        train="GANs",
        reference="Original",
        n_test=100,
        n_groups=50,
        note="",
        seedwise_test="",
        seedwise_p_max=float("nan"),
    )


def test_findings_tell_an_unadjusted_interval_from_a_holm_significant_difference():
    comparisons = _unadjusted_versus_holm()
    summary = pd.DataFrame(
        {"train": ["Original", "GANs"], "test": ["Original"] * 2, "accuracy": 0.9, "majority_baseline_accuracy": 0.6}
    )
    context = dict(CONTEXT, synthetic=["GANs"], mixed=None, test_domains=["Original"])
    text = _text(findings.findings(summary, comparisons, context))
    assert (
        "significant after Holm correction: lower balanced accuracy (Holm-adjusted p ≤ 0.0060); not significant "
        "after Holm correction, although the unadjusted interval excludes zero: AUROC (unadjusted p = 0.0200, "
        "Holm-adjusted p = 0.0800)."
    ) in text
    assert "AUROC by -0.030 (unadjusted 95% CI -0.055 to -0.004; 0.880 vs 0.910)" in text
    assert "F1 (" not in text.split("significant after Holm")[-1]  # F1's interval holds zero: no such remark
    assert "A p-value written 'p < 0.002' is at the resolution floor" in text
    # with no significant difference the sentence still says which is which
    alone = comparisons[comparisons.metric != "balanced_accuracy"]
    text = _text(findings.findings(summary, alone, context))
    assert (
        "none of these differences is significant after Holm correction, although the unadjusted interval excludes "
        "zero for AUROC (unadjusted p = 0.0200, Holm-adjusted p = 0.0800)."
    ) in text


def test_comparison_table_text_marks_floor_p_values_and_unadjusted_intervals():
    readable = comparisons_readable(_unadjusted_versus_holm(), 0.05, 1000).set_index("metric")
    assert list(readable["p (unadjusted)"]) == ["< 0.002", "0.0200", "0.4000"]
    assert list(readable["p (Holm)"]) == ["≤ 0.0060", "0.0800", "0.8000"]
    assert list(readable["significant (Holm)"]) == ["*", "no (after Holm), although the unadjusted CI excludes 0", ""]
    assert "difference (unadjusted 95% CI)" in readable.columns
    assert readable.loc["AUROC", "difference (unadjusted 95% CI)"] == "-0.030 (-0.055 to -0.004)"


def test_main_tables_mark_significant_cells(study):
    summary, comparisons = study
    marks = analysis.significance_marks(comparisons)
    assert marks
    markdown = readable_table(summary, marks).to_markdown(index=False)
    (train, test, metric), _ = next(iter(marks.items()))
    row = summary[(summary.train == train) & (summary.test == test)].iloc[0]
    assert f"{row[metric]:.3f} ± 0.010 ({row[f'{metric}_ci_low']:.3f}–{row[f'{metric}_ci_high']:.3f})*" in markdown
    latex = latex_table(summary.assign(train=summary.train.replace("GANs", "GAN_s")), marks, "Original", 0.05)
    assert "\\toprule" in latex and "\\bottomrule" in latex and "\\caption{" in latex
    assert "GAN\\_s" in latex and "Holm-adjusted" in latex and "95\\%" in latex
    # the caption says which metrics can carry a mark at all
    assert "only accuracy, balanced accuracy, F1 and AUROC were tested" in latex
    assert re.search(r"\d\.\d{3}\*?\\\\ \\scriptsize \[\d\.\d{3}, \d\.\d{3}\]", latex)


# ---------------------------------------------------------------------------
# figure helpers


def test_confusion_cells_are_shaded_by_their_share_of_the_true_class():
    # imbalanced: 100 NORMAL (90 right), 900 PNEUMONIA (600 right)
    counts = np.array([[90, 10], [300, 600]])
    expected = np.array([[0.9, 0.1], [1 / 3, 2 / 3]])
    np.testing.assert_allclose(row_shares(counts), expected)
    np.testing.assert_allclose(row_shares([[0, 0], [2, 6]]), [[0, 0], [0.25, 0.75]])  # an empty row stays 0
    figure = confusion_grid({("GANs", "Original"): counts}, ["GANs"], ["Original"], ["NORMAL", "PNEUMONIA"], 1)
    ax = figure.axes[0]
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), expected)
    # the 90% cell is dark, so its text is white
    texts = {text.get_text(): text.get_color() for text in ax.texts}
    assert texts["90\n90%"] == "white" and texts["10\n10%"] == "black"


def test_confusion_matrices_by_seed_show_each_model_beside_the_pooled_counts():
    """Two seeds at opposite operating points: pooled, they look like a coin flip; by seed, each stands alone."""
    everything_pneumonia, everything_normal = np.array([[0, 50], [0, 50]]), np.array([[50, 0], [50, 0]])
    by_seed = {(("GANs", 1), "Original"): everything_pneumonia, (("GANs", 2), "Original"): everything_normal}
    figure = confusion_grid_by_seed(by_seed, ["GANs"], ["Original"], ["NORMAL", "PNEUMONIA"], [1, 2])
    first, second = figure.axes
    np.testing.assert_allclose(np.asarray(first.images[0].get_array()), [[0, 1], [0, 1]])
    np.testing.assert_allclose(np.asarray(second.images[0].get_array()), [[1, 0], [1, 0]])
    assert "seed 1" in first.get_ylabel() and "seed 2" in second.get_ylabel()
    assert "not pooled" in figure._suptitle.get_text()
    pooled = confusion_grid(
        {("GANs", "Original"): everything_pneumonia + everything_normal},
        ["GANs"],
        ["Original"],
        ["NORMAL", "PNEUMONIA"],
        2,
    )
    np.testing.assert_allclose(np.asarray(pooled.axes[0].images[0].get_array()), [[0.5, 0.5], [0.5, 0.5]])
    assert "pooled over the models of 2 seed(s)" in pooled._suptitle.get_text()


def test_figure_titles_state_the_coverage_that_alpha_gives():
    summary = pd.DataFrame(
        {
            "train": ["GANs"],
            "test": ["Original"],
            "auroc": [0.8],
            "auroc_std": [0.1],
            "auroc_ci_low": [0.6],
            "auroc_ci_high": [0.9],
        }
    )
    style = {"colormap": "viridis"}
    title = heatmap(summary, "auroc", ["GANs"], ["Original"], style, alpha=0.1).axes[0].get_title()
    assert "[90% interval]" in title and "seeds and test patient groups" in title and "95%" not in title
    assert "[95% interval]" in heatmap(summary, "auroc", ["GANs"], ["Original"], style, alpha=0.05).axes[0].get_title()
    table = summary.assign(percent=100)
    curve = volume_curve(table, ["auroc"], catalog.LABELS, alpha=0.1)
    assert "band: 90% interval (seeds and test patient groups resampled)" in curve._suptitle.get_text()


def test_mean_roc_area_is_the_mean_auroc():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 500)
    probs = _seeds(rng, y, 3)
    mean, sd = mean_roc(y, probs)
    area = np.sum(np.diff(FPR_GRID) * (mean[1:] + mean[:-1]) / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.mean([roc_auc_score(y, p) for p in probs])
    assert area == pytest.approx(expected, abs=0.01)
    assert mean[-1] == 1.0 and (np.diff(mean) >= -1e-12).all() and (sd >= 0).all()
    assert mean_roc([1, 1, 1], probs[:, :3]) is None


def test_seedwise_tests_are_mcnemar_for_accuracy_and_delong_for_auroc_with_the_largest_p():
    rng = np.random.default_rng(5)
    cells = _cells(rng, {"Original": 1.5, "VAEs": 0.1}, tests=("Original",), n=200, n_seeds=2)
    cell, base = cells[("VAEs", "Original")], cells[("Original", "Original")]
    name, p_max = analysis.seedwise_test(cell, base, "accuracy")
    expected = [
        stats.mcnemar_test(cell["y"], a >= 0.5, b >= 0.5)["p_value"] for a, b in zip(cell["probs"], base["probs"])
    ]
    assert name == "McNemar (exact)" and p_max == max(expected)
    name, p_max = analysis.seedwise_test(cell, base, "auroc")
    expected = [stats.delong_test(cell["y"], a, b)["p_value"] for a, b in zip(cell["probs"], base["probs"])]
    assert name == "DeLong" and p_max == max(expected) and p_max < 0.01  # a near-random model loses clearly
    assert analysis.seedwise_test(cell, base, "f1")[0] == ""
    table = analysis.comparison_table(cells, "Original", ["Original", "VAEs"], ["Original"], n_boot=200, **BOOT)
    by_metric = table.set_index("metric")
    assert by_metric.loc["auroc", "seedwise_test"] == "DeLong" and by_metric.loc["auroc", "seedwise_p_max"] == p_max
    assert by_metric.loc["f1", "seedwise_test"] == "" and np.isnan(by_metric.loc["f1", "seedwise_p_max"])


def test_seedwise_tests_refuse_cells_with_other_seeds():
    rng = np.random.default_rng(5)
    cells = _cells(rng, {"Original": 1.5, "VAEs": 0.1}, tests=("Original",), n=40, n_seeds=2)
    cell, base = cells[("VAEs", "Original")], dict(cells[("Original", "Original")], seeds=[1, 3])
    with pytest.raises(ValueError, match="seeds"):
        analysis.seedwise_test(cell, base, "auroc")


def test_volume_table_has_one_row_per_point_with_seed_means_and_intervals():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 120)
    groups = np.array([f"p{i // 2}" for i in range(120)])
    points = {}
    for percent, separation in ((25, 0.2), (50, 1.0), (100, 2.0)):
        probs = _seeds(rng, y, 2, separation=separation, noise=0.3)
        points[("GANs", percent, "Original")] = {
            "tables": {seed: _prediction_table(y, probs[seed - 1], groups) for seed in (1, 2)},
            "train_images": [percent, percent],
        }
    table = analysis.volume_table(points, n_boot=200, **BOOT)
    assert table["percent"].tolist() == [25, 50, 100] and (table["n_seeds"] == 2).all()
    assert table["train_images"].tolist() == [25.0, 50.0, 100.0]
    for row in table.itertuples():
        probs = points[(row.train, row.percent, row.test)]["tables"]
        aurocs = [roc_auc_score(y, t["prob_pneumonia"]) for t in probs.values()]
        assert row.auroc == pytest.approx(np.mean(aurocs)) and row.auroc_std == pytest.approx(np.std(aurocs, ddof=1))
        assert row.auroc_ci_low <= row.auroc <= row.auroc_ci_high
    assert table["auroc"].is_monotonic_increasing  # more separation, higher AUROC


def test_volume_table_keeps_the_given_domain_order_and_sorts_each_curve_by_percent():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 40)
    groups = np.array([f"p{i}" for i in range(40)])
    points = {}
    for train in ("Original", "VAEs", "GANs"):  # the config's order, not alphabetical
        for percent in (100, 25):
            probs = _seeds(rng, y, 1, separation=1.0, noise=0.3)
            points[(train, percent, "Original")] = {
                "tables": {1: _prediction_table(y, probs[0], groups)},
                "train_images": [percent],
            }
    table = analysis.volume_table(points, n_boot=50, **BOOT)
    assert list(zip(table["train"], table["percent"])) == [
        ("Original", 25),
        ("Original", 100),
        ("VAEs", 25),
        ("VAEs", 100),
        ("GANs", 25),
        ("GANs", 100),
    ]
    assert not {"train_rank", "test_rank"} & set(table.columns)
