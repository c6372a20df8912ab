"""Loading the prepared cache of a domain: one split, or a model's training data (predictions: synthcxr.predictions)."""

import numpy as np

from synthcxr.manifest import read_manifest
from synthcxr.splits import subset_of_train, validation_slice


def load_split(images_path, manifest_path, split):
    """Images (N, H, W) uint8 and manifest rows of one domain's ``split`` ('train' or 'test')."""
    rows = read_manifest(manifest_path)
    keep = np.array([row["split"] == split for row in rows], dtype=bool)
    images = np.load(images_path)
    if len(images) != len(rows):
        raise ValueError(f"{images_path} has {len(images)} images but {manifest_path} lists {len(rows)}")
    return images[keep], [row for row, k in zip(rows, keep) if k]


def load_training_data(images_paths, manifest_paths, validation_fraction, percent, split_seed):
    """What a training learns from, and what it holds out, from one domain or several (Mixed).

    From each domain's train split, a validation slice (``validation_fraction`` of each class, whole
    groups) is held out to choose a decision threshold; of the rest, ``percent`` % (nested stratified
    parts, for the volume curve) is learned from. Mixed's slices are its members' slices.
    Returns ``(images, rows), (validation_images, validation_rows)``.
    """
    fit, held = [], []
    for images_path, manifest_path in zip(images_paths, manifest_paths):
        images, rows = load_split(images_path, manifest_path, "train")
        labels, groups = [r["label"] for r in rows], [r["group"] for r in rows]
        held_out = np.array(validation_slice(labels, groups, validation_fraction, split_seed), dtype=bool)
        kept = ~held_out
        kept[kept] = subset_of_train(
            [x for x, k in zip(labels, kept) if k], [g for g, k in zip(groups, kept) if k], percent, split_seed
        )
        fit.append((images[kept], [r for r, k in zip(rows, kept) if k]))
        held.append((images[held_out], [r for r, h in zip(rows, held_out) if h]))
    return tuple(
        (np.concatenate([part[0] for part in parts]), [row for part in parts for row in part[1]])
        for parts in (fit, held)
    )
