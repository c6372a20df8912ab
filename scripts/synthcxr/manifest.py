"""The split manifest of a prepared domain: one row per image of its cache (standard library only).

Read by every rule that needs a domain's splits; kept apart from synthcxr.prepare (Pillow, folder
listing) so that those rules' code digests do not cover the image decoding.
"""

import csv

from synthcxr.jobs import atomic_open

# split_reason: why the image is in its split (random with the seed, the given folder, external test set).
MANIFEST_COLUMNS = ["path", "class", "label", "split", "sha256", "pixel_hash", "group", "split_reason"]


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
