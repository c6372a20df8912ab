"""Per-image predictions of a model on a test split (or a validation slice): writing and reading them.

Apart from synthcxr.data (loading prepared images): the statistics rules read predictions only, so an
edit to how training data is loaded does not rerun them.
"""

import csv

from synthcxr.jobs import atomic_open

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
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PREDICTION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_predictions(path):
    # Imported here: a training job writes predictions only, and pandas is a tenth of its fixed start.
    import pandas as pd

    return pd.read_csv(path, dtype={"image": str, "group": str}, keep_default_na=False)
