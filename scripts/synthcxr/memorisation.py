"""Memorisation of a synthetic image set: nearest real images, copies, and the closest synthetic/train pairs.

Memorisation
    - For each synthetic image the pixel L2 distance to its nearest real TRAIN and nearest real TEST
      image and their ratio; the share of synthetic images whose nearest-train distance is at or below
      the ``memorization_percentile`` (5th) percentile of the real test-to-train nearest-neighbour
      distances ("closer to a training image than typical real pairs"); exact pixel copies; and a figure
      of the closest synthetic/train pairs (:func:`closest_pairs_figure`). Neighbours are searched over all
      real images regardless of class; per-class numbers restrict the synthetic images to one class.
    - The threshold share is confounded by blur (a smooth, average-looking VAE sample is close in L2 to
      many real images without copying any of them), so a calibrated statistic is added: the share of
      synthetic images whose nearest real image (train and test pooled) is a TRAIN image,
      ``nearest_is_train_share``. The split is random, so without copying the share is about
      n_train / (n_train + n_test) (``nearest_is_train_expected``, 0.8 for a 20 % test split); copies
      push it to 1; a one-sided binomial p-value tests "more than expected".
"""

import hashlib

import numpy as np
from scipy.stats import binomtest

from synthcxr.fidelity_measures import pairwise_l2, pixel_features

__all__ = [
    "nearest_neighbours",
    "memorization",
    "memorization_summary",
    "closest_pairs",
]

# ---------------------------------------------------------------------------
# Memorisation


def nearest_neighbours(query, reference):
    """(distance, index) of each query row's nearest reference row (Euclidean)."""
    d = pairwise_l2(query, reference)
    index = d.argmin(1)
    return d[np.arange(len(query)), index], index


def _image_keys(images):
    return [hashlib.sha256(image.tobytes()).digest() for image in np.asarray(images)]


def memorization(synthetic, real_train, real_test, percentile=5.0):
    """Nearest-real-image distances of synthetic images (pixels in [0, 1], L2).

    Returns (summary, details). ``details`` holds per synthetic image ``d_train``, ``train_index``,
    ``d_test``, ``ratio`` (d_train / d_test), ``copy`` (pixel-identical to a training image),
    ``nearer_train`` (1 when the nearest real image, train and test pooled, is a train image; 0.5 on a
    tie), ``expected_nearer_train`` = n_train / (n_train + n_test) and the ``threshold``: the
    ``percentile`` of the real test images' nearest-train distances. ``summary`` is
    :func:`memorization_summary` over all synthetic images.

    ``share_below_threshold`` follows the usual definition but is confounded by blur: a smooth,
    average-looking image is close in L2 to many real images without copying any. ``nearer_train`` is
    not: the train/test split is random, so for a generator that has not learned its training images
    in particular the nearest real image is a train image with probability n_train / (n_train + n_test)
    (exchangeability); copies push the share to 1. A one-sided binomial p-value tests "more often than
    expected".
    """
    synthetic, real_train, real_test = (np.asarray(v) for v in (synthetic, real_train, real_test))
    if len(real_train) == 0 or len(real_test) == 0:
        raise ValueError("memorisation needs real train and real test images")
    train_px, synthetic_px = pixel_features(real_train), pixel_features(synthetic)
    to_train = pairwise_l2(synthetic_px, train_px)
    to_test = pairwise_l2(synthetic_px, pixel_features(real_test))
    train_index = to_train.argmin(1)
    d_train = to_train[np.arange(len(synthetic)), train_index]
    d_test = to_test.min(1)
    reference, _ = nearest_neighbours(pixel_features(real_test), train_px)
    nearer_train = np.where(d_train < d_test, 1.0, np.where(d_train > d_test, 0.0, 0.5))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d_test > 0, d_train / np.where(d_test > 0, d_test, 1.0), np.nan)
    train_keys = set(_image_keys(real_train))
    copy = np.array([key in train_keys for key in _image_keys(synthetic)], dtype=bool)
    details = {
        "d_train": d_train,
        "train_index": train_index,
        "d_test": d_test,
        "ratio": ratio,
        "copy": copy,
        "nearer_train": nearer_train,
        "expected_nearer_train": len(real_train) / (len(real_train) + len(real_test)),
        "threshold": float(np.percentile(reference, percentile)),
        "real_test_to_train": reference,
        "percentile": percentile,
    }
    return memorization_summary(details), details


def memorization_summary(details, mask=None):
    """Summary of :func:`memorization` details, optionally for the synthetic images in ``mask``."""
    keep = np.ones(len(details["d_train"]), bool) if mask is None else np.asarray(mask, bool)
    d_train, d_test, ratio = details["d_train"][keep], details["d_test"][keep], details["ratio"][keep]
    below = d_train <= details["threshold"]
    finite = ratio[np.isfinite(ratio)]
    reference = details["real_test_to_train"]
    nearer = details["nearer_train"][keep]

    def stats(values):
        if len(values) == 0:
            return None
        return {"min": float(values.min()), "median": float(np.median(values)), "mean": float(values.mean())}

    return {
        "n_synthetic": int(keep.sum()),
        "threshold_percentile": details["percentile"],
        "threshold": details["threshold"],
        "share_below_threshold": float(below.mean()) if len(below) else None,
        "n_below_threshold": int(below.sum()),
        "n_exact_copies": int(details["copy"][keep].sum()),
        "nearest_train_distance": stats(d_train),
        "nearest_test_distance": stats(d_test),
        "ratio_train_to_test": {
            "median": float(np.median(finite)) if len(finite) else None,
            "mean": float(finite.mean()) if len(finite) else None,
            "share_below_1": float(np.mean(finite < 1.0)) if len(finite) else None,
        },
        "real_test_to_train_distance": stats(reference),
        "nearest_is_train_share": float(nearer.mean()) if len(nearer) else None,
        "nearest_is_train_expected": details["expected_nearer_train"],
        "nearest_is_train_p_value": (
            float(
                binomtest(
                    int(np.floor(nearer.sum())), len(nearer), details["expected_nearer_train"], alternative="greater"
                ).pvalue
            )
            if len(nearer)
            else None
        ),
    }


def closest_pairs(synthetic, synthetic_labels, real_train, details, k=8):
    """The ``k`` synthetic images closest to a real training image, with that image, as plain arrays.

    Saved with :func:`numpy.savez` by the fidelity rule and drawn by the summary rule (which has
    matplotlib): ``synthetic`` and ``train`` (k, H, W) uint8, their indices, the synthetic labels, the
    pixel L2 distance, whether it is an exact copy, and the memorization threshold and its percentile.
    """
    order = np.argsort(details["d_train"], kind="stable")[:k]
    train_index = np.asarray(details["train_index"])[order]
    # details describe the measured subset (see synthetic_subset); index the full set through it.
    used = np.asarray(details.get("synthetic_index", np.arange(len(details["d_train"]))))
    synthetic_index = used[order]
    return {
        "synthetic": np.asarray(synthetic)[synthetic_index],
        "train": np.asarray(real_train)[train_index],
        "synthetic_index": synthetic_index,
        "train_index": train_index,
        "synthetic_label": np.asarray(synthetic_labels)[synthetic_index],
        "distance": np.asarray(details["d_train"])[order],
        "copy": np.asarray(details["copy"], dtype=bool)[order],
        "threshold": np.float64(details["threshold"]),
        "percentile": np.float64(details["percentile"]),
    }
