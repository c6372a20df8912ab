"""synthcxr.summary_text (the readable, LaTeX and comparison tables and the leakage lines of the report) and
synthcxr.summary's test roles and provenance."""

import re

import pandas as pd
import pytest
from simulated import _unadjusted_versus_holm, simulated_study

from synthcxr import analysis
from synthcxr.summary import mark_test_roles, provenance
from synthcxr.summary_text import (
    comparisons_readable,
    latex_table,
    leakage_lines,
    readable_table,
    readable_test_names,
)


@pytest.fixture(scope="module")
def study():
    return simulated_study()


def test_leakage_lines_name_the_cells_with_copies():
    summary = pd.DataFrame({"train": ["GANs", "VAEs"], "test": ["Original", "Original"], "train_test_overlap": [3, 0]})
    lines = leakage_lines(summary)
    assert len(lines) == 1 and "Original test split: 3 image(s)" in lines[0] and "GANs" in lines[0]
    assert "No test image" in leakage_lines(summary.assign(train_test_overlap=0))[0]


def test_comparison_table_text_marks_floor_p_values_and_unadjusted_intervals():
    readable = comparisons_readable(_unadjusted_versus_holm(), 0.05, 1000).set_index("metric")
    assert list(readable["p (unadjusted)"]) == ["< 0.002", "0.0200", "0.4000"]
    assert list(readable["p (Holm)"]) == ["≤ 0.0060", "0.0800", "0.8000"]
    assert list(readable["significant (Holm)"]) == ["*", "no (after Holm), although the unadjusted CI excludes 0", ""]
    assert "difference (unadjusted 95% CI)" in readable.columns
    assert readable.loc["AUROC", "difference (unadjusted 95% CI)"] == "-0.030 (-0.055 to -0.004)"
    # model-level rows (fewer than 3 seeds) never read as tests of training domains; each row names its family
    model = comparisons_readable(_unadjusted_versus_holm().assign(level="model", significant=False), 0.05, 1000)
    assert set(model["significant (Holm)"]) == {"no mark: model-level (fewer than 3 seeds)"}
    assert set(readable["family (Holm)"]) == {"secondary"}


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


def test_leakage_lines_report_patients_and_identical_domains():
    summary = pd.DataFrame(
        {"train": ["A"], "test": ["B"], "train_test_overlap": [0], "train_test_patient_overlap": [2]}
    )
    overlap = {"domains": ["A", "B"], "shared_images": 10, "share": 1.0, "identical": True}
    lines = leakage_lines(summary, [overlap])
    assert "2 image(s) are of patients whose images A was trained on" in lines[0]
    assert "Domains A and B share 10 image(s)" in lines[1] and "same images under two names" in lines[1]


def test_external_and_generator_seen_test_splits_are_marked_in_tables():
    summary = pd.DataFrame({"train": ["Original", "GANs", "GANs"], "test": ["Ext", "Original", "Ext"]})
    marked = mark_test_roles(summary, external=["Ext"], generator_saw_test={"GANs": ["Original"]})
    assert list(marked["external_test"]) == [True, False, True]
    assert readable_test_names(marked) == ["Ext (external)", "Original (generator saw these)", "Ext (external)"]


def test_provenance_names_each_cells_metrics_file_and_the_interval_settings():
    metrics = [{"provenance": {"seed": 1}}, {"provenance": {"seed": 2}}]
    trainings = {"results/models/GANs/seed1/run_info.json": {"device": "cpu"}}
    bootstrap = {"n_boot": 300, "alpha": 0.05, "seed": 0, "min_groups_per_class": 5}
    found = provenance(["m1.json", "m2.json"], metrics, trainings, bootstrap)
    assert list(found) == ["finished", "environment", "code_version", "packages", "statistics", "trainings", "cells"]
    assert found["cells"] == [
        {"metrics": "m1.json", "provenance": {"seed": 1}},
        {"metrics": "m2.json", "provenance": {"seed": 2}},
    ]
    assert found["statistics"]["intervals"] == dict(bootstrap, resampling=analysis.INTERVAL_RESAMPLING)
    assert found["trainings"] == trainings and "numpy" in found["packages"]
