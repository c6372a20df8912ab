"""Stratified, group-aware train/test splits that stay put when images are added.

Within each class, groups (patients, or sets of identical images) are ordered by a hash of the split
seed and the group key; the first groups in that order go to the test split until the class's test
quota is reached. The order of existing groups does not depend on the others, so adding or removing
one image moves at most one group across the boundary and earlier results stay comparable.
"""

import hashlib
import math
import re
from collections import Counter, defaultdict


def group_order_key(seed, group):
    return hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()


def n_test_images(n_images, test_fraction):
    """Test images for a class: rounded half up, at least one on each side when there are two."""
    quota = math.floor(test_fraction * n_images + 0.5)
    return min(max(quota, 1), n_images - 1) if n_images >= 2 else quota


def min_images_per_class(test_fraction):
    """Smallest class size that ``n_test_images`` splits as asked: within rounding of the fraction.

    Below it, keeping one image on each side would force a test share far from ``test_fraction``.
    """
    n_images = 2
    while abs(n_test_images(n_images, test_fraction) - test_fraction * n_images) > 0.5 + 1e-9:
        n_images += 1
    return n_images


def group_keys(paths, content_keys, group_pattern=None):
    """One group key per image.

    With ``group_pattern`` (a regex with one capture group, searched in the relative path) images
    that share the captured id form a group; images it does not match, and all images without a
    pattern, are grouped by content so exact duplicates share a side of the split.
    """
    regex = re.compile(group_pattern) if group_pattern else None
    keys = []
    for path, content_key in zip(paths, content_keys):
        match = regex.search(path) if regex else None
        keys.append(f"id:{match.group(1)}" if match else f"content:{content_key}")
    return keys


def merge_duplicate_groups(groups, content_keys):
    """Join groups that share an image content, so exact duplicates never straddle the split.

    Each merged group takes the smallest of its keys, which keeps keys stable and readable.
    """
    parent = {group: group for group in groups}

    def root(group):
        while parent[group] != group:
            parent[group] = parent[parent[group]]
            group = parent[group]
        return group

    first_group_of = {}
    for group, content in zip(groups, content_keys):
        other = first_group_of.setdefault(content, group)
        a, b = root(group), root(other)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(group) for group in groups]


def assign_splits(labels, groups, test_fraction, seed):
    """Return 'train' or 'test' for each image.

    Parameters
    ----------
    labels : sequence of int
        Class label per image.
    groups : sequence of str
        Group key per image; a group never straddles the split.
    test_fraction : float
        Share of each class's images that go to the test split (rounded to whole images).
    seed : int
        Split seed.
    """
    group_images = defaultdict(list)
    for index, group in enumerate(groups):
        group_images[group].append(index)
    # A group counts towards the class most of its images have (ties: the lower label).
    group_class = {
        group: min(Counter(labels[i] for i in members).most_common(), key=lambda kv: (-kv[1], kv[0]))[0]
        for group, members in group_images.items()
    }
    splits = ["train"] * len(labels)
    for label in sorted(set(labels)):
        class_groups = sorted((g for g, c in group_class.items() if c == label), key=lambda g: group_order_key(seed, g))
        n_class = sum(len(group_images[g]) for g in class_groups)
        quota = n_test_images(n_class, test_fraction)
        taken = 0
        for group in class_groups:
            if taken >= quota:
                break
            for index in group_images[group]:
                splits[index] = "test"
            taken += len(group_images[group])
    return splits


def validation_slice(labels, groups, fraction, seed):
    """True for the images of a train split held out to choose a decision threshold.

    The same rule as the test split (stratified, whole groups, stable under additions), with its own
    seed so the slice does not follow the test split's order. ``fraction`` 0 holds out nothing.
    """
    if fraction == 0:
        return [False] * len(labels)
    return [side == "test" for side in assign_splits(labels, groups, fraction, f"validation:{seed}")]


def subset_of_train(labels, groups, percent, seed):
    """True for the images kept when training on ``percent`` % of a train split (the volume curve).

    Stratified and by whole groups; the kept sets are nested (25% inside 50% inside 100%), because
    every percentage drops groups from the front of one fixed order.
    """
    if percent >= 100:
        return [True] * len(labels)
    dropped = assign_splits(labels, groups, 1 - percent / 100, f"subset:{seed}")
    return [side == "train" for side in dropped]
