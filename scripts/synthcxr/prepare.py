"""Prepare a domain once: decode every image, split the domain, and cache the pixels.

Outputs (read by training and evaluation, so no image is decoded per epoch):
- images.npy: uint8 array (N, size, size), row i is manifest row i;
- the split manifest CSV: path, class, label, split, sha256 (file bytes), pixel_hash, group, split_reason;
- the intake report JSON: what was seen, used, ignored, bad, duplicated, and how it split.
"""

from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from synthcxr.folders import (
    GIVEN_SPLIT_FOLDERS,
    SKIP_RERUNS,
    DomainError,
    bad_images_error,
    check_class_sizes,
    given_split_folder,
    list_domain,
)
from synthcxr.images import BadImageError, load_image
from synthcxr.jobs import file_sha256
from synthcxr.progress import Progress
from synthcxr.splits import assign_splits, group_keys, merge_duplicate_groups
from synthcxr.tables import check_manifest_class_sizes, intake_entries, list_manifest, patient_groups


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


def label_conflicts_error(domain, folder, conflicts):
    """The DomainError for :func:`label_conflicts` ``conflicts`` (non-empty) in ``folder``."""
    listed = "\n  ".join(" = ".join(f"{path} ({name})" for path, name in group) for group in conflicts)
    return DomainError(
        f"domain '{domain}': {len(conflicts)} image(s) in {folder} are in more than one class folder "
        f"(the same pixels with different labels; set on_bad_image: skip to exclude every copy{SKIP_RERUNS}):\n  "
        f"{listed}"
    )


def without_label_conflicts(domain, folder, images, rows, on_bad_image):
    """Stop on label conflicts (``error``) or drop every copy (``skip``): (images, rows, conflicts)."""
    conflicts = label_conflicts(rows)
    if conflicts and on_bad_image == "error":
        raise label_conflicts_error(domain, folder, conflicts)
    if not conflicts:
        return images, rows, conflicts
    conflicting = {path for group in conflicts for path, _ in group}
    kept = [index for index, row in enumerate(rows) if row["path"] not in conflicting]
    return images[kept], [rows[i] for i in kept], conflicts


def straddling_groups(groups, splits):
    sides = {}
    for group, split in zip(groups, splits):
        sides.setdefault(group, set()).add(split)
    return sum(len(s) > 1 for s in sides.values())


def decode_listing(domain, folder, listing, class_names, image_size, on_bad_image, threads, log, log_interval):
    """Decode every listed image: (pixels (N, size, size), manifest rows without split, bad files, sizes, modes).

    ``log`` gets a progress line every ``log_interval`` seconds (big domains take minutes).
    """
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
    return images[: len(rows)], rows, bad, sizes, modes


def given_splits(paths, split, split_seed, labels, groups, test_fraction, given=None):
    """Each image's split and why it is there (the manifest's split_reason); ``given``: path -> split of
    a `split: manifest` domain."""
    if split == "manifest":
        return [given[path] for path in paths], [f"manifest column: {given[path]}" for path in paths]
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
    """Images per split and class; a class without train images (except in an external test set) or without
    test images is an error."""
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


def files_report(listing, rows, bad, conflicts):
    """Intake report entries: what was seen, used, ignored, bad, duplicated or in conflict."""
    pixel_hashes = [row["pixel_hash"] for row in rows]
    return {
        "files_seen": sum(map(len, listing.images.values())) + len(listing.ignored_hidden) + len(listing.ignored_other),
        "images_used": len(rows),
        "ignored_hidden_or_system": len(listing.ignored_hidden),
        "ignored_not_image": len(listing.ignored_other),
        "ignored_files": listing.ignored_hidden + listing.ignored_other,
        "outside_class_folders": listing.outside_classes,
        "bad_images": len(bad),
        "bad_files": bad,
        "duplicate_images": len(rows) - len(set(pixel_hashes)),
        "label_conflicts": len(conflicts),
        "label_conflict_files": [[path for path, _ in group] for group in conflicts],
    }


def grouping_report(rows, split, group_pattern, test_fraction, split_seed):
    """Intake report entries: how the images group by patient and split (``rows`` carry group, split and
    split_reason). A random split also says which groups a split without grouping would have cut."""
    groups, splits = [row["group"] for row in rows], [row["split"] for row in rows]
    straddling = None
    if split == "random":
        content_groups = group_keys([row["path"] for row in rows], [row["pixel_hash"] for row in rows])
        labels = [row["label"] for row in rows]
        straddling = straddling_groups(groups, assign_splits(labels, content_groups, test_fraction, split_seed))
    return {
        "group_pattern": group_pattern,
        "groups": len(set(groups)),
        "groups_matched_by_pattern": len({g for g in groups if g.startswith("id:")}),
        "groups_straddling_without_grouping": straddling,
        "val_images_joined_train": sum(row["split_reason"] == "folder val/ (joins train)" for row in rows),
        "patient_groups_in_both_given_splits": (
            groups_on_both_sides(groups, splits) if split in ("folders", "manifest") else []
        ),
    }


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
    log=lambda message: None,
    log_interval=30.0,
    table=None,
):
    """Decode, split and cache one domain. Returns (images, manifest rows, intake report).

    ``split``: 'random' (stratified, group-aware, ``test_fraction``), 'folders' (given by the train/,
    val/ and test/ subfolders; val/ joins train), 'test' (every image is a test image) or 'manifest'
    (from the label table's split column). ``table``: the settings of a domain given by a label table
    (synthcxr.tables; ``folder`` is then its `images:` folder), None for class folders. ``log`` gets a
    progress line every ``log_interval`` seconds of decoding.
    """
    folder = Path(folder)
    if table:
        listing = list_manifest(domain, table, class_names, split, on_bad_image)
        check_manifest_class_sizes(domain, listing, test_fraction, split)
    else:
        listing = list_domain(domain, folder, class_names, split)
        check_class_sizes(domain, listing, test_fraction, split)
    images, rows, bad, sizes, modes = decode_listing(
        domain, folder, listing, class_names, image_size, on_bad_image, threads, log, log_interval
    )
    images, rows, conflicts = without_label_conflicts(domain, folder, images, rows, on_bad_image)
    labels = [row["label"] for row in rows]
    paths, pixel_hashes = [r["path"] for r in rows], [r["pixel_hash"] for r in rows]
    groups = group_keys(paths, pixel_hashes, group_pattern)
    if table:
        groups = patient_groups(paths, groups, listing.patients)
    groups = merge_duplicate_groups(groups, pixel_hashes)
    given = listing.given_split if table else None
    splits, reasons = given_splits(paths, split, split_seed, labels, groups, test_fraction, given)
    for row, group, side, reason in zip(rows, groups, splits, reasons):
        row["group"], row["split"], row["split_reason"] = group, side, reason
    counts = check_split_counts(domain, folder, rows, class_names, split)
    report = {
        "domain": domain,
        "folder": str(folder),
        "folder_absolute": str(folder.absolute()),
        "split": split,
        **files_report(listing, rows, bad, conflicts),
        **grouping_report(rows, split, group_pattern, test_fraction, split_seed),
        **(intake_entries(listing) if table else {}),
        "class_counts": counts,
        "image_sizes": dict(sorted(sizes.items())),
        "image_modes": dict(sorted(modes.items())),
    }
    return images, rows, report
