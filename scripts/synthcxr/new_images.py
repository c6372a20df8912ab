"""Images added to an already prepared domain, checked when Snakemake builds its DAG (before any job starts).

prepare_domain would refuse an unreadable image or a label conflict with ``on_bad_image: error``, and
Snakemake deletes a failed job's outputs: the domain's split, cache and intake report would be lost, and
removing the file again would re-prepare the domain and retrain its models. Finding them here keeps them.
Imported by the workflow only where Pillow and numpy are importable (a login node may lack them).
"""

import csv
from pathlib import Path

from synthcxr.folders import bad_images_error
from synthcxr.images import BadImageError, load_image
from synthcxr.prepare import label_conflicts, label_conflicts_error


def prepared_rows(manifest):
    """path, class and pixel_hash of each image of a split manifest; [] when it cannot be read."""
    try:
        with open(manifest, newline="") as handle:
            return [{key: row[key] for key in ("path", "class", "pixel_hash")} for row in csv.DictReader(handle)]
    except (OSError, KeyError, csv.Error):
        return []


def new_images_error(domain, listing, new, manifest, size):
    """The DomainError prepare_domain would raise (``on_bad_image: error``) because of the images ``new``, or None.

    ``listing``: the domain's folders.DomainListing; ``new``: relative paths of its images added or changed
    since ``manifest`` (the split manifest of the last preparation) was written. Each is decoded: unreadable
    ones are reported first, as prepare_domain does; then label conflicts, the same pixels in two class
    folders, among the new images and between a new one and an image of the manifest still in the folder.
    """
    class_of = {rel: name for name, rels in listing.images.items() for rel in rels}
    bad, rows = [], []
    for rel in new:
        try:
            _, pixel_hash, _ = load_image(Path(listing.folder) / rel, size)
        except BadImageError as error:
            bad.append(str(error))
            continue
        rows.append({"path": rel, "class": class_of[rel], "pixel_hash": pixel_hash})
    if bad:
        return bad_images_error(domain, listing.folder, bad)
    renewed = set(new)
    kept = [row for row in prepared_rows(manifest) if row["path"] in class_of and row["path"] not in renewed]
    conflicts = label_conflicts(kept + rows)
    return label_conflicts_error(domain, listing.folder, conflicts) if conflicts else None
