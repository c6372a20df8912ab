"""Prepare a domain once: decode every image, split the domain, and cache the pixels.

Outputs (read by training and evaluation, so no image is decoded per epoch):
- images.npy: uint8 array (N, size, size), row i is manifest row i;
- the split manifest CSV: path, class, label, split, sha256 (file bytes), pixel_hash, group, split_reason;
- the intake report JSON: what was seen, used, ignored, bad, duplicated, and how it split.
"""

import csv
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from synthcxr.folders import GIVEN_SPLIT_FOLDERS, DomainError, check_class_sizes, given_split_folder, list_domain
from synthcxr.images import BadImageError, load_image
from synthcxr.jobs import file_sha256
from synthcxr.splits import assign_splits, group_keys, merge_duplicate_groups

# split_reason: why the image is in its split (random with the seed, the given folder, external test set).
MANIFEST_COLUMNS = ["path", "class", "label", "split", "sha256", "pixel_hash", "group", "split_reason"]


def _decode(folder, rel, size):
    try:
        pixels, pixel_hash, info = load_image(folder / rel, size)
    except BadImageError as error:
        return rel, None, str(error)
    return rel, (pixels, pixel_hash, info, file_sha256(folder / rel)), None


def decode_domain(folder, relpaths, size, threads):
    """Decode images in parallel (Pillow releases the GIL), one at a time per thread, in order."""
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        yield from pool.map(lambda rel: _decode(folder, rel, size), relpaths)


def straddling_groups(groups, splits):
    sides = {}
    for group, split in zip(groups, splits):
        sides.setdefault(group, set()).add(split)
    return sum(len(s) > 1 for s in sides.values())


def decode_listing(domain, folder, listing, class_names, image_size, on_bad_image, threads):
    """Decode every listed image: (pixel arrays, manifest rows without split, bad files, sizes, modes)."""
    items = [(rel, name, label) for label, name in enumerate(class_names) for rel in listing.images[name]]
    images, rows, bad = [], [], []
    sizes, modes = Counter(), Counter()
    labels_of = {rel: (name, label) for rel, name, label in items}
    for rel, decoded, error in decode_domain(folder, [rel for rel, _, _ in items], image_size, threads):
        if error:
            bad.append(error)
            continue
        pixels, pixel_hash, info, sha256 = decoded
        name, label = labels_of[rel]
        images.append(pixels)
        rows.append({"path": rel, "class": name, "label": label, "sha256": sha256, "pixel_hash": pixel_hash})
        sizes[f"{info['width']}x{info['height']}"] += 1
        modes[info["mode"]] += 1
    if bad and on_bad_image == "error":
        listed = "\n  ".join(bad)
        raise DomainError(
            f"domain '{domain}': {len(bad)} unreadable image(s) in {folder} "
            f"(set on_bad_image: skip to exclude them):\n  {listed}"
        )
    return images, rows, bad, sizes, modes


def given_splits(paths, split, split_seed, labels, groups, test_fraction):
    """Each image's split and why it is there (the manifest's split_reason)."""
    if split == "test":
        return ["test"] * len(paths), ["external test set"] * len(paths)
    if split == "folders":
        folders = [given_split_folder(path) for path in paths]
        reasons = {"train": "folder train/", "val": "folder val/ (joins train)", "test": "folder test/"}
        return [GIVEN_SPLIT_FOLDERS[f] for f in folders], [reasons[f] for f in folders]
    splits = assign_splits(labels, groups, test_fraction, split_seed)
    return splits, [f"random (seed {split_seed})"] * len(paths)


def groups_on_both_sides(groups, splits):
    """Patient groups (ids from group_pattern) with images in both splits: reported for a given split."""
    sides = {}
    for group, side in zip(groups, splits):
        sides.setdefault(group, set()).add(side)
    return sorted(group for group, seen in sides.items() if group.startswith("id:") and len(seen) > 1)


def check_split_counts(domain, folder, rows, class_names, split):
    """Images per split and class; a class without train (except for an external test set) or test images is an error."""
    counts = {
        side: {name: sum(1 for r in rows if r["split"] == side and r["class"] == name) for name in class_names}
        for side in ("train", "test")
    }
    for side, per_class in counts.items():
        for name, count in per_class.items():
            if count == 0 and not (side == "train" and split == "test"):
                raise DomainError(
                    f"domain '{domain}': class {name} has no {side} images after the group-aware split "
                    f"of {folder}; check group_pattern or add images"
                )
    return counts


def prepare_domain(
    domain,
    folder,
    class_names,
    image_size,
    test_fraction,
    split_seed,
    group_pattern=None,
    on_bad_image="error",
    threads=1,
    split="random",
):
    """Decode, split and cache one domain. Returns (images, manifest rows, intake report).

    ``split``: 'random' (stratified, group-aware, ``test_fraction``), 'folders' (given by the train/,
    val/ and test/ subfolders; val/ joins train) or 'test' (every image is a test image).
    """
    folder = Path(folder)
    listing = list_domain(domain, folder, class_names, split)
    check_class_sizes(domain, listing, test_fraction, split)
    images, rows, bad, sizes, modes = decode_listing(
        domain, folder, listing, class_names, image_size, on_bad_image, threads
    )
    labels = [row["label"] for row in rows]
    paths, pixel_hashes = [r["path"] for r in rows], [r["pixel_hash"] for r in rows]
    content_groups = group_keys(paths, pixel_hashes)
    groups = merge_duplicate_groups(group_keys(paths, pixel_hashes, group_pattern), pixel_hashes)
    splits, reasons = given_splits(paths, split, split_seed, labels, groups, test_fraction)
    for row, group, side, reason in zip(rows, groups, splits, reasons):
        row["group"], row["split"], row["split_reason"] = group, side, reason
    counts = check_split_counts(domain, folder, rows, class_names, split)
    report = {
        "domain": domain,
        "folder": str(folder),
        "split": split,
        "files_seen": sum(map(len, listing.images.values())) + len(listing.ignored_hidden) + len(listing.ignored_other),
        "images_used": len(rows),
        "ignored_hidden_or_system": len(listing.ignored_hidden),
        "ignored_not_image": len(listing.ignored_other),
        "ignored_files": listing.ignored_hidden + listing.ignored_other,
        "bad_images": len(bad),
        "bad_files": bad,
        "duplicate_images": len(rows) - len(set(pixel_hashes)),
        "group_pattern": group_pattern,
        "groups": len(set(groups)),
        "groups_matched_by_pattern": len({g for g in groups if g.startswith("id:")}),
        "groups_straddling_without_grouping": straddling_groups(
            groups, assign_splits(labels, content_groups, test_fraction, split_seed)
        ) if split == "random" else None,
        "val_images_joined_train": sum(r == "folder val/ (joins train)" for r in reasons),
        "patient_groups_in_both_given_splits": groups_on_both_sides(groups, splits) if split == "folders" else [],
        "class_counts": counts,
        "image_sizes": dict(sorted(sizes.items())),
        "image_modes": dict(sorted(modes.items())),
    }
    stacked = np.stack(images) if images else np.zeros((0, image_size, image_size), np.uint8)
    return stacked, rows, report


def write_manifest(rows, path):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: row[k] for k in MANIFEST_COLUMNS} for row in rows)


def read_manifest(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["label"] = int(row["label"])
    return rows
