"""Loading the prepared cache of a domain, or the union of several (Mixed)."""

import hashlib

import numpy as np

from synthcxr.prepare import read_manifest


def load_split(images_path, manifest_path, split):
    """Images (N, H, W) uint8 and manifest rows of one domain's ``split`` ('train' or 'test')."""
    rows = read_manifest(manifest_path)
    keep = np.array([row["split"] == split for row in rows], dtype=bool)
    images = np.load(images_path)
    if len(images) != len(rows):
        raise ValueError(f"{images_path} has {len(images)} images but {manifest_path} lists {len(rows)}")
    return images[keep], [row for row, k in zip(rows, keep) if k]


def load_union(images_paths, manifest_paths, split):
    """Concatenate ``split`` of several domains, in the given order (Mixed = union of train splits)."""
    parts = [load_split(i, m, split) for i, m in zip(images_paths, manifest_paths)]
    images = np.concatenate([p[0] for p in parts])
    rows = [row for p in parts for row in p[1]]
    return images, rows


def file_digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
