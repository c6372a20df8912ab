"""Prepare a domain once: decode every image, split the domain, and cache the pixels.

Outputs (read by training and evaluation, so no image is decoded per epoch):
- images.npy: uint8 array (N, size, size), row i is manifest row i;
- the split manifest CSV: path, class, label, split, sha256 (file bytes), pixel_hash, group;
- the intake report JSON: what was seen, used, ignored, bad, duplicated, and how it split.
"""

import csv
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from synthcxr.folders import DomainError, bad_images_error, check_class_sizes, list_domain
from synthcxr.images import BadImageError, load_image
from synthcxr.jobs import atomic_open, file_sha256
from synthcxr.progress import Progress
from synthcxr.splits import assign_splits, group_keys, merge_duplicate_groups

MANIFEST_COLUMNS = ["path", "class", "label", "split", "sha256", "pixel_hash", "group"]


def _decode(folder, rel, size):
    try:
        pixels, pixel_hash, info = load_image(folder / rel, size)
    except BadImageError as error:
        return rel, None, str(error)
    return rel, (pixels, pixel_hash, info, file_sha256(folder / rel)), None


def decode_domain(folder, relpaths, size, threads, ahead_per_thread=4):
    """Decode images in parallel (Pillow releases the GIL), in order.

    At most ``ahead_per_thread`` images per thread are decoded ahead of the reader: pool.map would
    decode them all ahead and, for a large domain, hold a second copy of the cache in its results.
    """
    threads = max(1, threads)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending = deque()
        for rel in relpaths:
            pending.append(pool.submit(_decode, folder, rel, size))
            if len(pending) >= ahead_per_thread * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def label_conflicts(rows):
    """Images whose decoded pixels appear under more than one class: [[(path, class), ...], ...], each
    group sorted by path. Such an image cannot have a label; with ``skip``, every copy is excluded."""
    by_hash = {}
    for row in rows:
        by_hash.setdefault(row["pixel_hash"], []).append((row["path"], row["class"]))
    return sorted(sorted(group) for group in by_hash.values() if len({name for _, name in group}) > 1)


def without_label_conflicts(domain, folder, images, rows, on_bad_image):
    """Stop on label conflicts (``error``) or drop every copy (``skip``): (images, rows, conflicts)."""
    conflicts = label_conflicts(rows)
    if conflicts and on_bad_image == "error":
        listed = "\n  ".join(" = ".join(f"{path} ({name})" for path, name in group) for group in conflicts)
        raise DomainError(
            f"domain '{domain}': {len(conflicts)} image(s) in {folder} are in more than one class folder "
            f"(the same pixels with different labels; set on_bad_image: skip to exclude every copy):\n  {listed}"
        )
    conflicting = {path for group in conflicts for path, _ in group}
    kept = [index for index, row in enumerate(rows) if row["path"] not in conflicting]
    return [images[i] for i in kept], [rows[i] for i in kept], conflicts


def straddling_groups(groups, splits):
    sides = {}
    for group, split in zip(groups, splits):
        sides.setdefault(group, set()).add(split)
    return sum(len(s) > 1 for s in sides.values())


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
    log=lambda message: None,
    log_interval=30.0,
):
    """Decode, split and cache one domain. Returns (images, manifest rows, intake report).

    ``log`` gets a progress line every ``log_interval`` seconds of decoding (big domains take minutes).
    """
    folder = Path(folder)
    listing = list_domain(domain, folder, class_names)
    check_class_sizes(domain, listing, test_fraction)
    items = [(rel, name, label) for label, name in enumerate(class_names) for rel in listing.images[name]]

    # Written in place: a list of arrays and np.stack would hold the cache twice at the end.
    images, rows, bad = np.empty((len(items), image_size, image_size), np.uint8), [], []
    sizes, modes = Counter(), Counter()
    labels_of = {rel: (name, label) for rel, name, label in items}
    progress = Progress(len(items), log=log, interval=log_interval)
    decoded_images = decode_domain(folder, [rel for rel, _, _ in items], image_size, threads)
    for count, (rel, decoded, error) in enumerate(decoded_images, start=1):
        if progress.due():
            progress.report(f"{domain}: {count}/{len(items)} images decoded", done=count)
        if error:
            bad.append(error)
            continue
        pixels, pixel_hash, info, sha256 = decoded
        name, label = labels_of[rel]
        images[len(rows)] = pixels
        rows.append({"path": rel, "class": name, "label": label, "sha256": sha256, "pixel_hash": pixel_hash})
        sizes[f"{info['width']}x{info['height']}"] += 1
        modes[info["mode"]] += 1
    if bad and on_bad_image == "error":
        raise bad_images_error(domain, folder, bad)
    images, rows, conflicts = without_label_conflicts(domain, folder, images, rows, on_bad_image)

    labels = [row["label"] for row in rows]
    paths, pixel_hashes = [r["path"] for r in rows], [r["pixel_hash"] for r in rows]
    content_groups = group_keys(paths, pixel_hashes)
    groups = merge_duplicate_groups(group_keys(paths, pixel_hashes, group_pattern), pixel_hashes)
    splits = assign_splits(labels, groups, test_fraction, split_seed)
    for row, group, split in zip(rows, groups, splits):
        row["group"], row["split"] = group, split

    counts = {
        split: {name: sum(1 for r in rows if r["split"] == split and r["class"] == name) for name in class_names}
        for split in ("train", "test")
    }
    for split, per_class in counts.items():
        for name, count in per_class.items():
            if count == 0:
                raise DomainError(
                    f"domain '{domain}': class {name} has no {split} images after the group-aware split "
                    f"of {folder}; check group_pattern or add images"
                )
    duplicate_images = len(rows) - len(set(r["pixel_hash"] for r in rows))
    report = {
        "domain": domain,
        "folder": str(folder),
        "folder_absolute": str(folder.absolute()),
        "files_seen": len(items) + len(listing.ignored_hidden) + len(listing.ignored_other),
        "images_used": len(rows),
        "ignored_hidden_or_system": len(listing.ignored_hidden),
        "ignored_not_image": len(listing.ignored_other),
        "ignored_files": listing.ignored_hidden + listing.ignored_other,
        "outside_class_folders": listing.outside_classes,
        "bad_images": len(bad),
        "bad_files": bad,
        "duplicate_images": duplicate_images,
        "label_conflicts": len(conflicts),
        "label_conflict_files": [[path for path, _ in group] for group in conflicts],
        "group_pattern": group_pattern,
        "groups": len(set(groups)),
        "groups_matched_by_pattern": len({g for g in groups if g.startswith("id:")}),
        "groups_straddling_without_grouping": straddling_groups(
            groups, assign_splits(labels, content_groups, test_fraction, split_seed)
        ),
        "class_counts": counts,
        "image_sizes": dict(sorted(sizes.items())),
        "image_modes": dict(sorted(modes.items())),
    }
    return images[: len(rows)], rows, report


def write_manifest(rows, path):
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: row[k] for k in MANIFEST_COLUMNS} for row in rows)


def read_manifest(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["label"] = int(row["label"])
    return rows
