"""Evaluating one trained model on one test split: per-image predictions and the cell's metrics."""

from synthcxr.catalog import THRESHOLD_METRICS
from synthcxr.jobs import config_sha256, file_sha256, package_versions
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


def at_validation_threshold(test_rows, probabilities, validation, train, validation_images):
    """:func:`metrics_at_validation_threshold` at the threshold chosen on ``validation`` (the predictions
    table of the training's validation slice, ``validation_images`` images of ``train``'s train split),
    saying where it was chosen."""
    found = metrics_at_validation_threshold(test_rows, probabilities, validation_threshold(validation))
    found["chosen_on"] = (
        f"validation slice of the {train} train split ({validation_images} images, not used for training); Youden's J"
    )
    return found


def leaked_test_images(leakage, test):
    """The cell's test images that rule check_leakage found to be pixel copies of, or of patients in, the
    training images (``leakage``: its report for this training and test domain)."""
    leaked = leakage["test_images"][test]
    same_patients = leakage.get("test_images_of_training_patients", {}).get(test, [])
    return {
        "images": len(leaked),
        "test_images": leaked,
        "patient_images": len(same_patients),
        "patient_test_images": same_patients,
    }


def cell_provenance(train, test, seed, *, settings, classes, split_seed, training, test_manifest, device):
    """Where a cell's metrics come from: domains, seed, settings, the manifests' digests and the device.

    ``training``: the training's history JSON (its manifest_sha256); ``test_manifest``: the path of the test
    domain's manifest; ``device``: its name, as :func:`synthcxr.train.describe_device` gives it.
    """
    return {
        "train_domain": train,
        "test_domain": test,
        "seed": int(seed),
        "split_seed": split_seed,
        "settings": settings,
        "config_sha256": config_sha256(settings, classes, split_seed),
        "train_manifest_sha256": training["manifest_sha256"],
        "test_manifest_sha256": file_sha256(test_manifest),
        "device": device,
        "packages": package_versions(),
    }


def metrics_json(
    test_rows,
    probabilities,
    train,
    test,
    seed,
    *,
    validation,
    training,
    leakage,
    settings,
    classes,
    split_seed,
    test_manifest,
    device,
):
    """The metrics JSON of one cell (results/metrics/{train}/{test}/seed{seed}.json): :func:`cell_metrics` at 0.5,
    ``at_validation_threshold`` (:func:`at_validation_threshold`), ``train_test_overlap``
    (:func:`leaked_test_images`) and ``provenance`` (:func:`cell_provenance`).

    ``validation``: the predictions table of the training's validation slice; ``training``: the training's
    history JSON; ``leakage``: rule check_leakage's report for this training and test domain; the others as
    :func:`cell_provenance` takes them.
    """
    metrics = cell_metrics(test_rows, probabilities, classes)
    metrics["at_validation_threshold"] = at_validation_threshold(
        test_rows, probabilities, validation, train, training["validation_images"]
    )
    metrics["train_test_overlap"] = leaked_test_images(leakage, test)
    metrics["provenance"] = cell_provenance(
        train,
        test,
        seed,
        settings=settings,
        classes=classes,
        split_seed=split_seed,
        training=training,
        test_manifest=test_manifest,
        device=device,
    )
    return metrics
