"""synthcxr.analysis: cells, intervals, paired comparisons with Holm, p-value texts, seedwise tests and the volume
table, from simulated prediction tables (no snakemake)."""

import numpy as np
import pytest
from oracles import holm
from simulated import BOOT, _cells, _prediction_table, _seeds
from sklearn.metrics import roc_auc_score

from synthcxr import analysis, catalog, stats, wording


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


def test_metrics_at_each_models_validation_threshold_get_intervals():
    rng = np.random.default_rng(1)
    cells = _cells(rng, {"Original": 1.0}, tests=("Original",), n=120)
    key = ("Original", "Original")
    metric_dicts = [
        {
            "provenance": {"train_domain": "Original", "test_domain": "Original", "seed": seed},
            "at_validation_threshold": {"threshold": threshold},
        }
        for seed, threshold in ((3, 0.7), (1, 0.3), (2, None))
    ]
    thresholds = analysis.validation_thresholds(metric_dicts, cells)
    np.testing.assert_equal(thresholds[key], [0.3, np.nan, 0.7])  # in seed order; unknown is NaN
    known = {key: [0.3, 0.5, 0.7]}
    table = analysis.interval_table(cells, n_boot=200, thresholds=known, **BOOT)
    tuned = analysis.cell_intervals(
        cells[key], catalog.THRESHOLD_METRICS, n_boot=200, threshold=[0.3, 0.5, 0.7], **BOOT
    )
    for name in catalog.THRESHOLD_METRICS:
        assert (table.loc[0, f"tuned_{name}_ci_low"], table.loc[0, f"tuned_{name}_ci_high"]) == tuned[name]
    assert (
        tuned["sensitivity"] != analysis.cell_intervals(cells[key], ["sensitivity"], n_boot=200, **BOOT)["sensitivity"]
    )
    # at 0.5 for every seed the tuned intervals are the plain ones
    same = analysis.interval_table(cells, n_boot=200, thresholds={key: [0.5] * 3}, **BOOT)
    assert same.loc[0, "tuned_f1_ci_low"] == same.loc[0, "f1_ci_low"]
    unknown = analysis.interval_table(cells, n_boot=200, thresholds=thresholds, **BOOT)
    assert np.isnan(unknown.loc[0, "tuned_accuracy_ci_low"])


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


def test_two_seeds_give_model_level_intervals_and_comparisons_without_marks():
    """A near-random VAEs model loses clearly, but with 2 seeds per domain the comparison is model-level: it has
    an interval and a p-value about these models, and no domain-level mark; the cell interval is labelled so."""
    rng = np.random.default_rng(2)
    trains = ["Original", "VAEs"]
    cells = _cells(rng, {"Original": 1.5, "VAEs": 0.1}, tests=("Original",), n_seeds=2)
    table = analysis.comparison_table(cells, "Original", trains, ["Original"], n_boot=500, **BOOT)
    assert (table["level"] == "model").all() and not table["significant"].any()
    auroc = table[table.metric == "auroc"].iloc[0]
    assert auroc.ci_high < 0 and auroc.p_holm < 0.05  # clear for these models, yet no mark
    assert analysis.significance_marks(table) == {}
    assert "95% model-level interval" in wording.cell_interval_text(0.05, 2)
    assert "95% domain-level interval" in wording.cell_interval_text(0.05, 3)
    three = analysis.comparison_table(
        _cells(rng, {"Original": 1.5, "VAEs": 0.1}, tests=("Original",)),
        "Original",
        trains,
        ["Original"],
        n_boot=500,
        **BOOT,
    )
    assert (three["level"] == "domain").all() and three["significant"].any()


def test_the_primary_endpoint_is_its_own_holm_family():
    """AUROC on GANs (one comparison per training domain) is corrected among its 3 p-values only; the other 21
    rows form the secondary family."""
    rng = np.random.default_rng(2)
    trains = ["Original", "GANs", "VAEs", "Mixed"]
    cells = _cells(rng, {"Original": 1.5, "GANs": 1.4, "VAEs": 0.1, "Mixed": 1.6})
    primary = {"metric": "auroc", "test": "GANs"}
    table = analysis.comparison_table(
        cells, "Original", trains, ["Original", "GANs"], n_boot=300, primary=primary, **BOOT
    )
    first = table[table.family == "primary"]
    assert len(first) == 3 and set(first.metric) == {"auroc"} and set(first.test) == {"GANs"}
    second = table[table.family == "secondary"]
    assert len(second) == 21
    np.testing.assert_allclose(first["p_holm"], holm(first["p_value"]))
    np.testing.assert_allclose(second["p_holm"], holm(second["p_value"]))
    assert list(table.columns[:5]) == ["test", "train", "reference", "metric", "family"]
    single = analysis.comparison_table(cells, "Original", trains, ["Original", "GANs"], n_boot=300, **BOOT)
    assert set(single.family) == {"secondary"}
    np.testing.assert_allclose(single["p_holm"], holm(single["p_value"]))


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


def test_p_values_at_the_bootstrap_floor_read_as_bounds():
    floor = 2 / 5001  # the smallest p-value of 5000 replicates
    assert stats.bootstrap_p_floor(5000) == floor
    assert wording.p_value_text(floor, 5000) == "< 0.0004"
    assert wording.p_value_text(floor, 5000, "p") == "p < 0.0004"
    assert wording.p_value_text(2 / 1001, 1000, "p") == "p < 0.002"
    assert wording.p_value_text(3 / 5001, 5000, "p") == "p = 0.0006"  # above the floor: the number
    assert wording.p_value_text(0.0144, 5000, "Holm-adjusted p", raw_p_value=floor) == "Holm-adjusted p ≤ 0.0144"
    assert wording.p_value_text(0.0144, 5000, "Holm-adjusted p", raw_p_value=0.001) == "Holm-adjusted p = 0.0144"
    assert wording.p_value_text(float("nan"), 5000) == "n/a"
    # the bootstrap really returns the floor when every replicate lies on one side of zero
    assert stats.bootstrap_p_value(np.full(5000, 0.3)) == pytest.approx(floor)


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


def test_load_volume_points_groups_seeds_per_point_with_their_training_sizes(tmp_path):
    y = np.random.default_rng(8).integers(0, 2, 10)
    cells = []
    for percent, seed in ((50, 1), (50, 2), (100, 1)):
        predictions, history = tmp_path / f"p{percent}s{seed}.csv", tmp_path / f"h{percent}s{seed}.json"
        _prediction_table(y, np.full(10, seed / 10)).to_csv(predictions, index=False)
        history.write_text(f'{{"train_images": {percent + seed}}}')
        cells.append(
            {
                "train": "GANs",
                "percent": percent,
                "test": "Original",
                "seed": seed,
                "predictions": predictions,
                "history": history,
            }
        )
    points = analysis.load_volume_points(cells)
    assert list(points) == [("GANs", 50, "Original"), ("GANs", 100, "Original")]
    assert points[("GANs", 50, "Original")]["train_images"] == [51, 52]
    tables = points[("GANs", 50, "Original")]["tables"]
    assert sorted(tables) == [1, 2] and tables[2]["prob_pneumonia"].tolist() == [0.2] * 10


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
