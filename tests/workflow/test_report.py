"""End-to-end: statistics, findings, LaTeX table, figures and the Snakemake report on a small demo with 2 seeds.

Test splits hold 5 images (5 patient groups) per class: the fewest for which the workflow computes
intervals and tests (fewer give no interval, by design).
"""

import json
import re
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest
from oracles import holm
from workflow_helpers import REPO, TINY_STUDY_DOMAINS, snakemake, tiny_config, write_config

from synthcxr import findings as findings_module
from synthcxr.summary_text import compared_metrics_text

pytestmark = pytest.mark.workflow

DEMO = TINY_STUDY_DOMAINS  # 25 images per class
TRAIN = ["Original", "GANs", "VAEs", "Mixed"]
TEST = ["Original", "GANs", "VAEs"]
FIGURES = [
    "heatmap_accuracy",
    "heatmap_balanced_accuracy",
    "heatmap_f1",
    "heatmap_auroc",
    "confusion_matrices",
    "confusion_matrices_by_seed",
    "roc_curves",
    "reliability",
    "training_curves",
    "sample_images",
]
INTERVAL_METRICS = [
    "accuracy",
    "balanced_accuracy",
    "sensitivity",
    "specificity",
    "precision",
    "f1",
    "auroc",
    "auprc",
    "mcc",
]
STATISTICS = {"alpha": 0.1, "interval_resamples": 1000, "comparison_resamples": 2000}
REPORTED = [
    "summary.csv",
    "comparisons.csv",
    "summary.md",
    "summary.tex",
    "findings.md",
    "findings.html",
    "summary.html",
    "comparisons.html",
    "methods.html",
]


@pytest.fixture(scope="module")
def report_run(tiny_study, tmp_path_factory):
    """A copy of the session's tiny study with a second seed and a volume curve added, and its report."""
    workdir = tmp_path_factory.mktemp("report_run") / "run"
    shutil.copytree(tiny_study[0], workdir, symlinks=True)  # mtimes and Snakemake's metadata: seed 1 is done
    config = tiny_config(DEMO, seeds=(1, 2))
    config["volume"] = {"domains": ["GANs"], "percents": [50, 100]}
    # Not the defaults: every coverage text and every bootstrap must follow the config.
    config["statistics"] = STATISTICS
    config = write_config(workdir / "config.yaml", config)
    snakemake(workdir, "--configfile", config, "--cores", 2)
    for report in ("results/report.html", "results/report.zip"):
        snakemake(workdir, "--configfile", config, "--report", report)
    return workdir / "results"


def test_report_front_page_is_short_and_the_methods_have_their_own_entry():
    """The front page only says what this is, the disclaimer and where to start (it must fit one screen)."""
    front = (REPO / "workflow" / "report" / "workflow.rst").read_text()
    assert len(front) < 2000 and "Research use only" in front and "Where to start" in front
    assert "Holm" not in front and "bootstrap" not in front
    rules = (REPO / "workflow" / "rules" / "report.smk").read_text()
    assert '"results/methods.html"' in rules and 'category=REPORT_CATEGORIES["Methods"]' in rules


def test_captions_name_the_only_metrics_that_can_carry_a_mark():
    for name in ("summary_table", "summary_md", "summary_tex", "comparisons_csv"):
        caption = " ".join((REPO / "workflow" / "report" / f"{name}.rst").read_text().split())
        assert compared_metrics_text() in caption, name


def test_report_zip_and_html_hold_every_figure_and_table(report_run):
    names = zipfile.ZipFile(report_run / "report.zip").namelist()
    files = {name.rsplit("/", 1)[-1] for name in names}
    for figure in FIGURES + ["volume_curve"]:
        assert f"{figure}.png" in files, figure
    for table in REPORTED:
        assert table in files, table
    page = (report_run / "report.html").read_text()
    for name in [f"{figure}.png" for figure in FIGURES] + REPORTED:
        assert name in page, name
    # captions and the workflow description are rendered into the report
    for phrase in ("vertical average", "Holm", "Research use only", "patient groups", "Okabe-Ito"):
        assert phrase in page, phrase


def test_methods_page_states_this_runs_design(report_run):
    methods = " ".join((report_run / "methods.html").read_text().split())
    assert "Domains</strong>: Original, GANs, VAEs;" in methods and "each seed (1, 2)" in methods
    assert "<em>Mixed</em> trains on the union of the training splits of Original, GANs, VAEs" in methods
    assert "only 2 seeds per domain these comparisons are between these models" in methods
    assert "model-level" in methods and "Research use only" in methods


def test_captions_state_the_coverage_of_the_configured_alpha(report_run):
    """Captions are rendered with the config: alpha 0.1 gives 90% intervals, and each says what it resamples."""
    # captions keep their line breaks, as "\\n" inside the page's JSON
    page = re.sub(r"(\\n|\s)+", " ", (report_run / "report.html").read_text())
    assert "90% model-level interval (test patient groups resampled with the seed models fixed" in page
    assert "with fewer than 3 seeds no difference between training domains is tested" in page  # 2 seeds: no marks
    assert "unadjusted 90% interval" in page
    assert "pooled over the models of 2 seed(s)" in page
    markdown = " ".join((report_run / "summary.md").read_text().split())
    assert "90% model-level interval (test patient groups resampled, the 2 seed models fixed" in markdown
    assert "No `*` marks" in markdown
    assert "difference (unadjusted 90% CI)" in markdown and "95%" not in markdown
    assert "90\\% model-level interval" in (report_run / "summary.tex").read_text()


def test_per_seed_counts_stand_beside_the_pooled_ones(report_run):
    by_seed = pd.read_csv(report_run / "summary_by_seed.csv")
    summary = pd.read_csv(report_run / "summary.csv").set_index(["train", "test"])
    pooled = by_seed.groupby(["train", "test"])[["tn", "fp", "fn", "tp"]].sum()
    for count in ("tn", "fp", "fn", "tp"):
        assert (summary[f"{count}_pooled"] == pooled[count].reindex(summary.index)).all()
    assert len(by_seed) == 2 * len(summary)


def test_figures_exist_as_png_and_pdf(report_run):
    for figure in FIGURES:
        for ext in ("png", "pdf"):
            assert (report_run / "figures" / f"{figure}.{ext}").stat().st_size > 5000, (figure, ext)


def test_summary_has_mean_sd_and_bootstrap_interval_per_cell(report_run):
    summary = pd.read_csv(report_run / "summary.csv")
    assert len(summary) == 12 and (summary["n_seeds"] == 2).all() and (summary["n_groups"] == 10).all()
    for name in INTERVAL_METRICS:
        low, high = summary[f"{name}_ci_low"], summary[f"{name}_ci_high"]
        assert low.notna().all() and (low <= high + 1e-12).all(), name
        assert {name, f"{name}_std"} <= set(summary.columns)
    assert "majority_baseline_accuracy" in summary
    by_seed = pd.read_csv(report_run / "summary_by_seed.csv")
    means = by_seed.groupby(["train", "test"])["f1"].mean()
    for row in summary.itertuples():
        assert row.f1 == pytest.approx(means[(row.train, row.test)])
    provenance = json.loads((report_run / "provenance.json").read_text())
    intervals = provenance["statistics"]["intervals"]
    assert intervals["n_boot"] == 1000 and intervals["alpha"] == 0.1
    assert "seeds" in intervals["resampling"] and "patient groups" in intervals["resampling"]


def test_comparisons_are_paired_against_original_and_holm_corrected(report_run):
    comparisons = pd.read_csv(report_run / "comparisons.csv")
    assert len(comparisons) == 3 * 3 * 4  # 3 training domains x 3 test splits x 4 metrics
    assert set(comparisons["reference"]) == {"Original"} and "Original" not in set(comparisons["train"])
    assert comparisons["p_value"].notna().all()
    # the primary endpoint (default: AUROC on the reference's test split, no external set here) is its own family
    primary = comparisons[comparisons["family"] == "primary"]
    assert set(primary["metric"]) == {"auroc"} and set(primary["test"]) == {"Original"} and len(primary) == 3
    for _, members in comparisons.groupby("family"):
        np.testing.assert_allclose(members["p_holm"], holm(members["p_value"]))
    # 2 seeds: model-level comparisons, Holm-corrected p-values, but never a mark
    assert (comparisons["level"] == "model").all() and not comparisons["significant"].any()
    assert comparisons["p_value"].min() >= 2 / (STATISTICS["comparison_resamples"] + 1) - 1e-12
    summary = pd.read_csv(report_run / "summary.csv").set_index(["train", "test"])
    for row in comparisons.itertuples():
        expected = summary.loc[(row.train, row.test), row.metric] - summary.loc[(row.reference, row.test), row.metric]
        assert row.difference == pytest.approx(expected, abs=1e-9)  # the difference of the table's means


def test_findings_are_generated_from_the_numbers(report_run):
    text = (report_run / "findings.md").read_text()
    comparisons = pd.read_csv(report_run / "comparisons.csv")
    labels = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "f1": "F1", "auroc": "AUROC"}
    for row in comparisons.itertuples():
        clause = (
            f"{labels[row.metric]} by {row.difference:+.3f} (unadjusted 90% CI {row.ci_low:+.3f} to {row.ci_high:+.3f}"
        )
        assert clause in text, clause
    for heading in (
        "Training on synthetic instead of real images",
        "Does Mixed beat Original?",
        "Where synthetic training falls short",
        "Against the majority-class baseline",
    ):
        assert f"## {heading}" in text
    assert "Research use only" in text and "not X-rays" in text
    assert "their 36 model-level p-values" in text
    # the headline (issue 23): the primary endpoint first, under 600 words before the details
    assert text.index("Primary endpoint, AUROC on the Original test split") < text.index("## Details")
    assert findings_module.words_before_details(text) < 600 and "Caveat: with 2 seed(s)" in text
    assert "over 1000 resamples of the test split's patient groups" in text and "95%" not in text


def test_main_tables_markdown_and_latex(report_run):
    markdown = (report_run / "summary.md").read_text()
    assert "| Mixed" in markdown and "## Paired comparisons" in markdown and "Holm" in markdown
    assert re.search(r"\d\.\d{3} ± \d\.\d{3} \(\d\.\d{3}–\d\.\d{3}\)", markdown)
    significant = pd.read_csv(report_run / "comparisons.csv").query("significant")
    assert markdown.count(")*") >= len(significant)
    latex = (report_run / "summary.tex").read_text()
    assert "\\begin{table}" in latex and "\\toprule" in latex and "\\end{tabular}" in latex
    assert latex.count("\\scriptsize [") == 12 * len(INTERVAL_METRICS)


def test_metrics_at_the_validation_threshold_stand_beside_those_at_0_5(report_run):
    summary = pd.read_csv(report_run / "summary.csv")
    for name in ("threshold", "accuracy", "balanced_accuracy", "sensitivity", "specificity", "f1"):
        assert summary[f"tuned_{name}"].notna().all(), name
    for name in ("accuracy", "balanced_accuracy", "sensitivity", "specificity", "f1"):  # with intervals too
        assert (summary[f"tuned_{name}_ci_low"] <= summary[f"tuned_{name}_ci_high"]).all(), name
    metrics = json.loads((report_run / "metrics" / "study_cnn" / "GANs" / "Original" / "seed1.json").read_text())
    tuned = metrics["at_validation_threshold"]
    assert metrics["threshold"] == 0.5 and 0 <= tuned["threshold"] <= 1
    assert "validation slice of the GANs train split" in tuned["chosen_on"]
    # The slice is held out of training, and no validation image is a test image.
    history = json.loads((report_run / "models" / "study_cnn" / "GANs" / "seed1" / "history.json").read_text())
    validation = pd.read_csv(report_run / "models" / "study_cnn" / "GANs" / "seed1" / "validation.csv")
    manifest = pd.read_csv(report_run / "splits" / "GANs.csv")
    train_images = set(manifest.query("split == 'train'")["path"])
    assert set(validation["image"]) <= train_images and len(validation) == history["validation_images"] > 0
    assert history["train_images"] + history["validation_images"] == len(train_images)
    assert "## At the threshold chosen on validation data" in (report_run / "summary.md").read_text()


def test_seedwise_mcnemar_and_delong_stand_beside_the_bootstrap(report_run):
    comparisons = pd.read_csv(report_run / "comparisons.csv", keep_default_na=False, na_values=[""])
    tests = comparisons.set_index("metric")["seedwise_test"].fillna("")
    assert set(tests[["accuracy"]]) == {"McNemar (exact)"} and set(tests[["auroc"]]) == {"DeLong"}
    assert comparisons.query("metric in ['accuracy', 'auroc']")["seedwise_p_max"].between(0, 1).all()
    assert "McNemar (exact):" in (report_run / "summary.md").read_text()


def test_volume_curve_trains_on_nested_parts_and_tests_on_every_split(report_run):
    volume = pd.read_csv(report_run / "volume" / "summary.csv")
    assert len(volume) == 2 * 3 and set(volume["percent"]) == {50, 100} and (volume["n_seeds"] == 2).all()
    images = volume.groupby("percent")["train_images"].first()
    assert images[50] == pytest.approx(images[100] / 2, abs=2)
    full = pd.read_csv(report_run / "summary.csv").set_index(["train", "test"])
    for row in volume.query("percent == 100").itertuples():  # 100% is the main training
        assert row.auroc == pytest.approx(full.loc[("GANs", row.test), "auroc"])
    for ext in ("png", "pdf"):
        assert (report_run / "figures" / f"volume_curve.{ext}").stat().st_size > 5000
