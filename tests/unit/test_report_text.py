"""synthcxr.report_text: the paragraphs and sections of the report's tables (summary.md and its HTML pages)."""

import types

import pandas as pd

from synthcxr import report_text
from synthcxr.catalog import INTERVAL_METRICS, THRESHOLD_METRICS


def test_each_pair_of_domains_sharing_images_is_listed_once_in_pair_order():
    entry = {"domains": ["B", "C"], "shared_images": 2, "share": 0.1, "identical": False}
    other = {"domains": ["A", "C"], "shared_images": 9, "share": 0.9, "identical": True}
    reports = [{"domain_overlaps": [entry, other]}, {"domain_overlaps": [entry]}, {}]
    assert report_text.domain_overlap_entries(reports) == [other, entry]


def test_the_intro_states_the_seeds_the_tests_and_what_few_seeds_allow():
    settings = dict(reference="Original", alpha=0.05, n_boot_intervals=300, n_boot_comparisons=1000)
    one = report_text.main_intro([1], 12, min_groups_per_class=5, **settings)
    two = report_text.main_intro([1, 2], 12, min_groups_per_class=5, **settings)
    three = report_text.main_intro([1, 2, 3], 12, min_groups_per_class=5, **settings)
    assert "over seeds 1, 2, 3," in three and "across all 12 comparisons" in three and "[1, 2" not in three
    assert "differs from the Original-trained models" in three and "fewer than 5 patient groups" in three
    assert "95% domain-level interval" in three and "model-level" not in three
    # fewer than 3 seeds: model-level intervals, labelled, and no '*' at all
    for few in (one, two):
        assert "95% model-level interval" in few and "No `*` marks" in few and "`*`: differs" not in few
    assert one.endswith("Research use only, not for diagnosis.")


def test_the_comparison_intro_states_the_level_and_the_resolution_floor_of_the_resamples():
    text = report_text.comparison_intro("Original", 0.05, 1000, 3)
    assert "minus the Original-trained models" in text and "floor of 1000 resamples" in text
    assert "unadjusted 95%" in text and "domain-level" in text and "Welch-Satterthwaite" in text
    two = report_text.comparison_intro("Original", 0.05, 1000, 2)
    assert "model-level" in two and "these models only and mark nothing" in two


def test_the_fidelity_section_only_with_a_fidelity_table():
    assert report_text.fidelity_section(None, 0.05) == ""


def test_report_settings_are_the_params_the_text_states_with_seeds_sorted():
    params = types.SimpleNamespace(**{name: name for name in report_text.REPORT_PARAMS}, other="not stated")
    params.seeds = [3, 1, 2]
    settings = report_text.report_settings(params)
    assert list(settings) == list(report_text.REPORT_PARAMS) and settings["seeds"] == [1, 2, 3]
    assert settings["reference"] == "reference" and "other" not in settings


def test_the_main_table_marks_the_significant_cells():
    summary = pd.DataFrame(
        {"train": ["GANs"], "test": ["Original"], "n_seeds": [2], "n_test": [40], "majority_baseline_accuracy": [0.5]}
        | {name: [0.8] for name in INTERVAL_METRICS}
    )
    comparisons = pd.DataFrame({"train": ["GANs"], "test": ["Original"], "metric": ["auroc"], "significant": [True]})
    table = report_text.main_table(summary, comparisons)
    assert table.loc[0, "AUROC"] == "0.800*" and table.loc[0, "accuracy"] == "0.800"


def test_the_leakage_section_says_which_pairs_were_compared_by_patient_and_lists_ids_of_other_spaces():
    reports = [
        {
            "patient_id_spaces": {"Original": None, "KermanyTest": None},
            "compared_by_patient": [],
            "compared_by_pixels_only": [["Original", "KermanyTest"]],
            "shared_ids_other_space": [
                {"domains": ["Original", "KermanyTest"], "ids": ["person1", "person2"], "count": 2}
            ],
        },
        {
            "patient_id_spaces": {"Original": None, "GANs": None, "Hospital2": "h", "Other": "h"},
            "compared_by_patient": [["Other", "Hospital2"]],
            "compared_by_pixels_only": [["Original", "KermanyTest"], ["GANs", "Hospital2"]],
            "shared_ids_other_space": [],
        },
        {},  # a report without these keys (an older check) adds nothing
    ]
    lines = report_text.patient_comparison_lines(reports)
    assert lines[0] == (
        "- Compared by patient id (training data with test split, one patient_id_space): "
        "Other with Hospital2 (space h)."
    )
    assert lines[1] == (
        "- Compared by pixels only (no shared patient_id_space, or a synthetic domain): Original with KermanyTest; "
        "GANs with Hospital2."
    )
    assert lines[2].startswith(
        "- Same id, not the same patient by the config: 2 patient id(s) of Original's training data also occur in "
        "KermanyTest's test split, e.g. person1, person2; the two domains are in different patient id spaces"
    )
    assert len(lines) == 3
    assert report_text.patient_comparison_lines([{}]) == []
    assert report_text.patient_id_spaces(reports) == {
        "Original": None,
        "KermanyTest": None,
        "GANs": None,
        "Hospital2": "h",
        "Other": "h",
    }


def test_html_pages_render_inline_code_and_list_seeds_plainly():
    """Issue 23: the HTML tables' paragraphs showed Markdown backticks literally and the seeds as '[1, 2]'."""
    from simulated import simulated_study

    summary, comparisons = simulated_study()
    tuned = {f"tuned_{name}{end}": 0.5 for name in ("threshold", *THRESHOLD_METRICS) for end in ("", "_std")}
    summary = summary.assign(train_test_overlap=0, train_test_patient_overlap=0, **tuned)
    settings = dict(
        reference="Original",
        alpha=0.05,
        n_boot_comparisons=1000,
        n_boot_intervals=300,
        min_groups_per_class=5,
        seeds=[1, 2, 3],
    )
    texts = report_text.tables(summary, comparisons, [], [], None, settings)
    for page in (texts["summary_html"], texts["comparisons_html"]):
        body = page.split("<body>")[1]
        assert "`" not in body and "[1, 2" not in body
    assert "<code>train</code>" in texts["summary_html"] and "<code>*</code>" in texts["summary_html"]
    assert "`train`" in texts["markdown"]  # the Markdown keeps its Markdown
