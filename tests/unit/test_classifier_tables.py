"""synthcxr.classifier_tables: the tables of several classifiers in one, comparisons each with the reference trained
by the same classifier (Holm over the whole table), whether the classifiers agree, rows labelled per classifier.
Milliseconds; the real run of two classifiers is tests/workflow/test_classifier_study.py."""

import numpy as np
import pandas as pd
import pytest

from synthcxr import classifier_tables
from synthcxr.analysis import comparison_table
from synthcxr.stats import holm_adjust

TRAINS = ["Original", "GANs"]
BOOTSTRAP = {"n_boot": 50, "alpha": 0.05, "seed": 7, "min_groups_per_class": 2}


def cells(seed, n=40, seeds=(1,)):
    """{(train, test): cell} of random predictions for Original and GANs tested on Original."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    base = {"seeds": list(seeds), "image": np.arange(n).astype(str), "group": np.arange(n).astype(str), "y": y}
    return {
        (train, "Original"): base | {"probs": np.clip(y * shift + rng.random((len(seeds), n)) * 0.8, 0, 1)}
        for train, shift in (("Original", 0.3), ("GANs", 0.1))
    }


def test_with_one_classifier_the_tables_are_as_they_always_were():
    table = pd.DataFrame({"train": ["Original"], "test": ["Original"], "accuracy": [0.5]})
    assert classifier_tables.with_classifier_column({"study_cnn": table}) is table
    one = {"study_cnn": cells(1)}
    expected = comparison_table(one["study_cnn"], "Original", TRAINS, ["Original"], **BOOTSTRAP)
    pd.testing.assert_frame_equal(
        classifier_tables.comparisons_by_classifier(one, "Original", TRAINS, ["Original"], **BOOTSTRAP), expected
    )
    assert classifier_tables.agreement_sections(expected, "auroc", 0.05) == []
    assert classifier_tables.labelled_rows(expected) is expected
    assert classifier_tables.labelled_trains(TRAINS, ["study_cnn"]) == TRAINS


def test_several_classifiers_are_compared_each_with_its_own_reference_and_holm_runs_over_the_whole_table():
    both = {"study_cnn": cells(1), "resnet18": cells(2)}
    table = classifier_tables.comparisons_by_classifier(both, "Original", TRAINS, ["Original"], **BOOTSTRAP)
    assert list(table.columns[:3]) == ["classifier", "test", "train"]
    assert list(table["classifier"].unique()) == ["study_cnn", "resnet18"]
    for name, classifier_cells in both.items():
        alone = comparison_table(classifier_cells, "Original", TRAINS, ["Original"], **BOOTSTRAP)
        mine = table[table["classifier"] == name].reset_index(drop=True)
        # The same differences and raw p-values as a study of this classifier alone ...
        pd.testing.assert_series_equal(mine["difference"], alone["difference"])
        pd.testing.assert_series_equal(mine["p_value"], alone["p_value"])
    # ... and one Holm correction over both classifiers' rows (one family here: no primary endpoint).
    assert table["p_value"].notna().sum() == 8
    np.testing.assert_allclose(table["p_holm"], holm_adjust(table["p_value"].to_numpy(dtype=float)))


def test_the_agreement_section_names_the_cells_where_the_classifiers_disagree():
    def row(classifier, train, test, difference, significant):
        return {"classifier": classifier, "train": train, "test": test, "metric": "auroc"} | {
            "difference": difference,
            "significant": significant,
        }

    comparisons = pd.DataFrame(
        [
            row("study_cnn", "GANs", "Original", -0.10, True),
            row("resnet18", "GANs", "Original", -0.05, True),  # same direction, both significant: agree
            row("study_cnn", "GANs", "GANs", 0.02, False),
            row("resnet18", "GANs", "GANs", -0.03, False),  # opposite directions: disagree
            row("study_cnn", "VAEs", "Original", -0.08, True),
            row("resnet18", "VAEs", "Original", -0.01, False),  # significant for one only: disagree
        ]
    )
    [(heading, paragraphs)] = classifier_tables.agreement_sections(comparisons, "auroc", 0.05)
    intro, verdict, table = paragraphs
    assert heading == "Do the classifiers agree?"
    assert "study_cnn, resnet18" in intro and "first classifier, study_cnn" in intro
    assert "disagree in AUROC on 2 of 3 cells: GANs on GANs; VAEs on Original" in verdict
    assert list(table["agree"]) == ["yes", "no", "no"]
    assert list(table["study_cnn"]) == ["lower -0.100*", "higher +0.020", "lower -0.080*"]
    agreeing = comparisons[comparisons["train"] == "GANs"].assign(difference=-0.1, significant=True)
    [(_, [_, verdict, _])] = classifier_tables.agreement_sections(agreeing, "auroc", 0.05)
    assert verdict == "The classifiers agree on every training domain and test split in AUROC."


def test_input_files_split_by_classifier_and_rows_are_labelled():
    assert classifier_tables.by_classifier(["a1", "a2", "b1", "b2"], ["a", "b"]) == {
        "a": ["a1", "a2"],
        "b": ["b1", "b2"],
    }
    with pytest.raises(ValueError, match="3 files do not divide into the parts of 2 classifier"):
        classifier_tables.by_classifier(["a1", "a2", "b1"], ["a", "b"])
    table = pd.DataFrame({"classifier": ["r18"], "train": ["GANs"], "reference": ["Original"], "x": [1]})
    assert classifier_tables.labelled_rows(table).to_dict("records") == [
        {"train": "GANs [r18]", "reference": "Original [r18]", "x": 1}
    ]
    assert classifier_tables.labelled_trains(["Original", "GANs"], ["a", "b"]) == [
        "Original [a]",
        "GANs [a]",
        "Original [b]",
        "GANs [b]",
    ]


def test_figures_label_cells_and_trainings_by_classifier_only_where_there_are_several():
    one = {"study_cnn": {("GANs", "Original"): "cell"}}
    assert classifier_tables.labelled_cells(one) == {("GANs", "Original"): "cell"}
    both = one | {"resnet18": {("GANs", "Original"): "other"}}
    assert classifier_tables.labelled_cells(both) == {
        ("GANs [study_cnn]", "Original"): "cell",
        ("GANs [resnet18]", "Original"): "other",
    }
    histories = [{"train_domain": "GANs"}, {"train_domain": "GANs"}]
    assert classifier_tables.label_trainings(histories, ["study_cnn"]) == [{"train_domain": "GANs"}] * 2
    assert classifier_tables.label_trainings(histories, ["study_cnn", "resnet18"]) == [
        {"train_domain": "GANs [study_cnn]"},
        {"train_domain": "GANs [resnet18]"},
    ]
    metrics = [{"provenance": {"train_domain": "Original"}}, {"provenance": {"train_domain": "Original"}}]
    classifier_tables.label_trainings(metrics, ["a", "b"], holder=lambda cell: cell["provenance"])
    assert [cell["provenance"]["train_domain"] for cell in metrics] == ["Original [a]", "Original [b]"]
