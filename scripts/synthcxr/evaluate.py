"""Evaluating one trained model on one test split: per-image predictions and the cell's metrics."""

import csv

from synthcxr.stats import classification_metrics

PREDICTION_COLUMNS = ["image", "group", "true_label", "prob_pneumonia", "pred_label"]


def prediction_rows(test_rows, probabilities, threshold=0.5):
    return [
        {
            "image": row["path"],
            "group": row["group"],
            "true_label": row["label"],
            "prob_pneumonia": f"{float(p):.6f}",
            "pred_label": int(p >= threshold),
        }
        for row, p in zip(test_rows, probabilities)
    ]


def write_predictions(rows, path):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PREDICTION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


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


def train_test_overlap(train_rows, test_rows):
    """Test images whose decoded pixels equal a training image's: leakage between the splits."""
    train_hashes = {row["pixel_hash"] for row in train_rows}
    return sorted(row["path"] for row in test_rows if row["pixel_hash"] in train_hashes)
