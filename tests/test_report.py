"""End-to-end: statistics, findings, LaTeX table, figures and the Snakemake report on a small demo with 2 seeds.

Test splits hold 5 images (5 patient groups) per class: the fewest for which the workflow computes
intervals and tests (fewer give no interval, by design).
"""

import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from oracles import holm
from workflow_helpers import REPO, snakemake, tiny_config, write_config

from synthcxr.summary import compared_metrics_text

pytestmark = pytest.mark.workflow

DEMO = {
    "Original": {"demo": {"per_class": 25, "shift": "none"}},
    "GANs": {"demo": {"per_class": 25, "shift": "gan"}},
    "VAEs": {"demo": {"per_class": 25, "shift": "vae"}},
}
TRAIN = ["Original", "GANs", "VAEs", "Mixed"]
TEST = ["Original", "GANs", "VAEs"]
FIGURES = [
    "heatmap_accuracy",
    "heatmap_balanced_accuracy",
    "heatmap_f1",
    "heatmap_auroc",
    "confusion_matrices",
    "roc_curves",
    "reliability",
    "training_curves",
    "sample_images",
]
INTERVAL_METRICS = ["accuracy", "balanced_accuracy", "sensitivity", "specificity", "precision", "f1", "auroc", "auprc", "mcc"]
REPORTED = ["summary.csv", "comparisons.csv", "summary.md", "summary.tex", "findings.md", "findings.html",
            "summary.html", "comparisons.html"]


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("report_run")
    config = tiny_config(DEMO, seeds=(1, 2))
    config["volume"] = {"domains": ["GANs"], "percents": [50, 100]}
    config = write_config(workdir / "config.yaml", config)
    snakemake(workdir, "--configfile", config, "--cores", 2)
    for report in ("results/report.html", "results/report.zip"):
        snakemake(workdir, "--configfile", config, "--report", report)
    return workdir / "results"


def summary_smk_settings():
    """The statistics settings of workflow/rules/summary.smk: its Python preamble, before the first rule."""
    text = (REPO / "workflow" / "rules" / "summary.smk").read_text()
    namespace = {"STUDY_REFERENCE": "Original"}
    exec(text[: text.index("\nrule ")], namespace)
    return namespace


def test_workflow_description_and_readme_state_the_settings_of_summary_smk():
    """The report's workflow description can read only the config, not summary.smk: check it by hand here."""
    settings = summary_smk_settings()
    alpha, min_groups = settings["ALPHA"], settings["MIN_GROUPS_PER_CLASS"]
    intervals, comparisons = settings["INTERVAL_BOOTSTRAP"], settings["COMPARISON_BOOTSTRAP"]
    assert intervals["alpha"] == comparisons["alpha"] == alpha
    assert intervals["min_groups_per_class"] == comparisons["min_groups_per_class"] == min_groups
    workflow = (REPO / "workflow" / "report" / "workflow.rst").read_text()
    readme = (REPO / "README.md").read_text().split("## Statistics")[1].split("\n## ")[0]
    coverage = f"{100 * (1 - alpha):g}%"
    for text in (workflow, readme):
        assert f"{coverage} percentile bootstrap" in text and f"{coverage} interval" in text
        assert f"fewer than {min_groups} patient groups" in text
    assert f"({intervals['n_boot']} resamples)" in workflow and f"{intervals['n_boot']:,} resamples" in readme
    assert f"{comparisons['n_boot']} bootstrap" in workflow and f"{comparisons['n_boot']:,} bootstrap" in readme
    assert f"error rate at {alpha}" in workflow and f"p-value is below {alpha}" in workflow


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
    assert provenance["statistics"]["intervals"]["n_boot"] == 2000


def test_comparisons_are_paired_against_original_and_holm_corrected(report_run):
    comparisons = pd.read_csv(report_run / "comparisons.csv")
    assert len(comparisons) == 3 * 3 * 4  # 3 training domains x 3 test splits x 4 metrics
    assert set(comparisons["reference"]) == {"Original"} and "Original" not in set(comparisons["train"])
    assert comparisons["p_value"].notna().all()
    np.testing.assert_allclose(comparisons["p_holm"], holm(comparisons["p_value"]))
    assert (comparisons["significant"] == (comparisons["p_holm"] < 0.05)).all()
    summary = pd.read_csv(report_run / "summary.csv").set_index(["train", "test"])
    for row in comparisons.itertuples():
        expected = summary.loc[(row.train, row.test), row.metric] - summary.loc[(row.reference, row.test), row.metric]
        assert row.difference == pytest.approx(expected, abs=1e-9)  # the difference of the table's means


def test_findings_are_generated_from_the_numbers(report_run):
    text = (report_run / "findings.md").read_text()
    comparisons = pd.read_csv(report_run / "comparisons.csv")
    labels = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "f1": "F1", "auroc": "AUROC"}
    for row in comparisons.itertuples():
        clause = f"{labels[row.metric]} by {row.difference:+.3f} (95% CI {row.ci_low:+.3f} to {row.ci_high:+.3f}"
        assert clause in text, clause
    for heading in ("Training on synthetic instead of real images", "Does Mixed beat Original?",
                    "Where synthetic training falls short", "Against the majority-class baseline"):
        assert f"## {heading}" in text
    assert "Research use only" in text and "not X-rays" in text
    assert "the 36 p-values" in text


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
    metrics = json.loads((report_run / "metrics" / "GANs" / "Original" / "seed1.json").read_text())
    tuned = metrics["at_validation_threshold"]
    assert metrics["threshold"] == 0.5 and 0 <= tuned["threshold"] <= 1
    assert "validation slice of the GANs train split" in tuned["chosen_on"]
    # The slice is held out of training, and no validation image is a test image.
    history = json.loads((report_run / "models" / "GANs" / "seed1" / "history.json").read_text())
    validation = pd.read_csv(report_run / "models" / "GANs" / "seed1" / "validation.csv")
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
