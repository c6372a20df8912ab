"""The rule evaluate_fidelity's files: the prepared caches of a synthetic domain and its real reference domain
in, the fidelity metrics (synthcxr.fidelity) and the closest synthetic/train pairs out."""

import json

import numpy as np

from synthcxr.data import load_split
from synthcxr.fidelity import evaluate_fidelity
from synthcxr.fidelity_measures import load_feature_model, resolve_settings
from synthcxr.jobs import file_sha256, package_versions
from synthcxr.manifest import read_manifest
from synthcxr.memorisation import closest_pairs
from synthcxr.train import describe_device

__all__ = [
    "load_sets",
    "evaluate_files",
    "headline",
]

# ---------------------------------------------------------------------------
# The rule evaluate_fidelity: prepared caches in, metrics and closest pairs out


def _labels(rows):
    return np.array([row["label"] for row in rows], dtype=np.int64)


def load_sets(synthetic_images, synthetic_manifest, real_images, real_manifest):
    """(synthetic, synthetic_labels, real_train, train_labels, real_test, test_labels), the images and labels
    :func:`evaluate_fidelity` compares: every image of the synthetic domain's cache (both splits), and the
    train split (the generator's training images) and test split (held out) of the reference domain's cache.
    """
    synthetic = np.load(synthetic_images)
    synthetic_rows = read_manifest(synthetic_manifest)
    if len(synthetic) != len(synthetic_rows):
        raise ValueError(
            f"{synthetic_images} has {len(synthetic)} images but {synthetic_manifest} lists {len(synthetic_rows)}"
        )
    real_train, train_rows = load_split(real_images, real_manifest, "train")
    real_test, test_rows = load_split(real_images, real_manifest, "test")
    return synthetic, _labels(synthetic_rows), real_train, _labels(train_rows), real_test, _labels(test_rows)


def evaluate_files(inputs, settings, class_names, device, log=print):
    """:func:`evaluate_fidelity` of prepared caches. Returns (metrics with ``provenance``, closest pairs).

    ``inputs``: paths as attributes, named as the rule's input: synthetic_images, synthetic_manifest (the
    synthetic domain's cache), real_images, real_manifest (the reference domain's cache), feature_model
    (state_dict .pt of the reference domain's StudyCNN). The pairs are :func:`closest_pairs` (``closest_pairs``
    of the settings).
    """
    settings = resolve_settings(settings)
    sets = load_sets(inputs.synthetic_images, inputs.synthetic_manifest, inputs.real_images, inputs.real_manifest)
    synthetic, synthetic_labels, real_train, _, real_test, _ = sets
    log(f"synthetic: {len(synthetic)} images; real: {len(real_train)} train, {len(real_test)} test")
    feature_model = load_feature_model(inputs.feature_model, synthetic.shape[-1], device)
    metrics, details = evaluate_fidelity(*sets, feature_model, settings, class_names, device, log=log)
    pairs = closest_pairs(synthetic, synthetic_labels, real_train, details, k=int(settings["closest_pairs"]))
    metrics["provenance"] = {
        "synthetic_manifest_sha256": file_sha256(inputs.synthetic_manifest),
        "real_manifest_sha256": file_sha256(inputs.real_manifest),
        "feature_model_sha256": file_sha256(inputs.feature_model),
        "device": describe_device(device)["device"],
        "packages": package_versions(),
    }
    return metrics, pairs


def headline(metrics):
    """The overall two-sample AUROC and share of synthetic images below the memorisation threshold, as JSON."""
    overall = metrics["groups"]["overall"]
    return json.dumps(
        {
            "two_sample_auroc": (overall.get("two_sample") or {}).get("auroc"),
            "share_below_threshold": overall["memorization"]["share_below_threshold"],
        }
    )
