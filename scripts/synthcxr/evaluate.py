"""Evaluating one trained model on one test split: per-image predictions and the cell's metrics."""

from synthcxr.catalog import THRESHOLD_METRICS
from synthcxr.metrics import choose_threshold, classification_metrics


def cell_metrics(test_rows, probabilities, class_names, threshold=0.5):
    """Metrics of one train x test cell, PNEUMONIA (label 1) as the positive class."""
    labels = [row["label"] for row in test_rows]
    metrics = classification_metrics(labels, probabilities, threshold=threshold)
    metrics["confusion_matrix"] = {
        "rows": [f"true {name}" for name in class_names],
        "columns": [f"predicted {name}" for name in class_names],
        "counts": metrics["confusion_matrix"],
    }
    return metrics


def validation_threshold(validation):
    """The decision threshold chosen on a training's validation predictions, or None.

    ``validation``: the predictions table the training wrote for its validation slice (a part of the
    training domain's train split it did not learn from). None when the slice is empty or holds one
    class only.
    """
    labels = validation["true_label"].to_numpy(dtype=int)
    if len(set(labels)) < 2:
        return None
    return choose_threshold(labels, validation["prob_pneumonia"].to_numpy(dtype=float))


def metrics_at_validation_threshold(test_rows, probabilities, threshold):
    """Threshold metrics of one cell at ``threshold`` chosen on validation data (never on a test split).

    With ``threshold`` None every metric is None.
    """
    if threshold is None:
        return {"threshold": None, **{name: None for name in THRESHOLD_METRICS}}
    labels = [row["label"] for row in test_rows]
    computed = classification_metrics(labels, probabilities, threshold=threshold)
    return {"threshold": threshold, **{name: computed[name] for name in THRESHOLD_METRICS}}
