"""Evaluation of one cell at 0.5 and at the threshold chosen on the training's validation slice."""

import numpy as np
import pytest

from synthcxr.catalog import THRESHOLD_METRICS
from synthcxr.evaluate import (
    at_validation_threshold,
    cell_metrics,
    cell_provenance,
    leaked_test_images,
    metrics_at_validation_threshold,
    metrics_json,
    validation_threshold,
)
from synthcxr.predictions import prediction_rows, read_predictions, write_predictions


def _validation(tmp_path, labels, probs):
    """A training's validation predictions, written and read back as the rules do."""
    rows = [{"path": f"img{i}.png", "group": f"g{i}", "label": y} for i, y in enumerate(labels)]
    write_predictions(prediction_rows(rows, probs), tmp_path / "validation.csv")
    return read_predictions(tmp_path / "validation.csv")


def test_threshold_is_chosen_on_validation_predictions_and_applied_to_the_test_split(tmp_path):
    # A model whose scores are all low: 0.5 calls everything NORMAL, the validation threshold separates.
    threshold = validation_threshold(_validation(tmp_path, [0, 0, 1, 1], [0.05, 0.10, 0.30, 0.35]))
    assert threshold == pytest.approx(0.30)
    test_rows = [{"label": y} for y in (0, 0, 0, 1, 1)]
    test_probs = np.array([0.02, 0.2, 0.31, 0.32, 0.4])
    tuned = metrics_at_validation_threshold(test_rows, test_probs, threshold)
    # predicted PNEUMONIA at >= 0.30: images 3, 4, 5 -> tp 2, fp 1, tn 2, fn 0
    assert tuned["threshold"] == threshold
    assert tuned["sensitivity"] == 1.0 and tuned["specificity"] == pytest.approx(2 / 3)
    assert tuned["accuracy"] == pytest.approx(4 / 5) and tuned["precision"] == pytest.approx(2 / 3)
    assert set(tuned) == {"threshold", *THRESHOLD_METRICS}


def test_no_threshold_without_both_classes_in_the_validation_slice(tmp_path):
    assert validation_threshold(_validation(tmp_path, [1, 1], [0.2, 0.9])) is None
    assert validation_threshold(_validation(tmp_path, [], [])) is None
    tuned = metrics_at_validation_threshold([{"label": 0}], np.array([0.1]), None)
    assert tuned["threshold"] is None and all(tuned[name] is None for name in THRESHOLD_METRICS)


def test_a_cells_leaked_test_images_are_those_check_leakage_found_for_its_test_domain():
    leakage = {"test_images": {"B": ["x.png", "y.png"]}, "test_images_of_training_patients": {"B": ["z.png"]}}
    assert leaked_test_images(leakage, "B") == {
        "images": 2,
        "test_images": ["x.png", "y.png"],
        "patient_images": 1,
        "patient_test_images": ["z.png"],
    }
    # a report written before patients were compared
    assert leaked_test_images({"test_images": {"B": []}}, "B")["patient_images"] == 0


def test_the_threshold_metrics_say_where_the_threshold_was_chosen(tmp_path):
    validation = _validation(tmp_path, [0, 0, 1, 1], [0.05, 0.10, 0.30, 0.35])
    rows = [{"label": y} for y in (0, 0, 1, 1)]
    found = at_validation_threshold(rows, np.array([0.1, 0.2, 0.3, 0.4]), validation, "GANs", 4)
    assert found["threshold"] == validation_threshold(validation)
    assert (
        found["chosen_on"] == "validation slice of the GANs train split (4 images, not used for training); Youden's J"
    )


def test_the_metrics_json_of_a_cell_holds_its_metrics_threshold_metrics_leakage_and_provenance(tmp_path):
    validation = _validation(tmp_path, [0, 0, 1, 1], [0.05, 0.10, 0.30, 0.35])
    rows, probs = [{"label": y} for y in (0, 1, 0, 1)], np.array([0.2, 0.7, 0.6, 0.9])
    (tmp_path / "manifest.csv").write_text("path,label\n")
    training = {"validation_images": 4, "manifest_sha256": "0" * 64}
    leakage = {"test_images": {"Original": ["a.png"]}}
    provenance = {"settings": {"epochs": 1}, "classes": ["NORMAL", "PNEUMONIA"], "split_seed": 3}
    provenance |= {"training": training, "test_manifest": tmp_path / "manifest.csv", "device": "cpu"}
    found = metrics_json(rows, probs, "GANs", "Original", "2", validation=validation, leakage=leakage, **provenance)
    assert found == {
        **cell_metrics(rows, probs, provenance["classes"]),
        "at_validation_threshold": at_validation_threshold(rows, probs, validation, "GANs", 4),
        "train_test_overlap": leaked_test_images(leakage, "Original"),
        "provenance": cell_provenance("GANs", "Original", "2", **provenance),
    }
    assert found["train_test_overlap"]["images"] == 1 and found["provenance"]["seed"] == 2
