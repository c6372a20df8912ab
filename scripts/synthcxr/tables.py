"""Domains given by a table (config `manifest:`): reading, checking and listing a label CSV.

A manifest domain names its images in a CSV (NIH ChestX-ray14's Data_Entry_2017.csv, CheXpert's
train.csv, RSNA's stage_2_train_labels.csv, a COVID collection's metadata.csv) instead of class
folders. :func:`list_manifest` turns the table into the same listing as a folder domain (class ->
relative paths under ``images:``), plus the patient id and the given split of each path.

Standard library only (like synthcxr.folders): the Snakefile checks and fingerprints every manifest
while building the DAG, which must work on a login node that has snakemake and nothing else.
"""

import csv
import hashlib
import json
import os
import posixpath
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from synthcxr.folders import (
    IMAGE_EXTENSIONS,
    DomainError,
    DomainListing,
    check_name_is_utf8,
    is_hidden_or_system,
    unreadable,
)
from synthcxr.folders import fingerprint as files_fingerprint
from synthcxr.splits import min_images_per_class

# The splits a manifest domain can take: 80/20 here, an external test set, or the table's split column.
MANIFEST_SPLIT_MODES = ("random", "test", "manifest")
# The config keys of a manifest domain that decide what its table says (its fingerprint covers them).
TABLE_KEYS = ("manifest", "images", "columns", "labels", "label_separator", "path_format")
# Values of a `split: manifest` domain's split column, and the split each goes to.
MANIFEST_SPLITS = ("train", "test")
# Examples of images in `images:` that no row names, kept in the intake report (all are counted).
UNLISTED_EXAMPLES = 100
# Files or rows listed at most in one error message (all are counted).
LISTED_IN_ERROR = 20


@dataclass
class ManifestListing(DomainListing):
    """A :class:`~synthcxr.folders.DomainListing` read from a table; ``folder`` is the `images:` folder."""

    manifest: Path = None
    manifest_sha256: str = ""
    rows: int = 0
    patients: dict = field(default_factory=dict)  # relative path -> patient id ('' when the cell is blank)
    given_split: dict = field(default_factory=dict)  # relative path -> 'train' or 'test' (split: manifest)
    values_without_class: Counter = field(default_factory=Counter)  # label value -> rows no class claims
    rows_in_several_classes: list = field(default_factory=list)  # 'line N: path (classes)'
    duplicate_rows: int = 0  # further rows naming a path with the same class
    label_conflicts: list = field(default_factory=list)  # 'path: line N CLASS, line M CLASS'
    missing: list = field(default_factory=list)  # relative paths of rows whose file does not exist
    unlisted: list = field(default_factory=list)  # images under `images:` that no row names


def key(domain, name):
    return f"domains.{domain}.{name}"


def canonical(value):
    """A cell value as the table means it: numbers by value ('1.0', '1' and 1 are one value), text exactly
    (surrounding blanks left out)."""
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return text


def same_value(a, b):
    return canonical(a) == canonical(b)


def label_rules(domain, settings, class_names):
    """Check ``labels:`` against the classes and ``columns``: {class: [rule, ...]}.

    A rule is ('label', value): the label column's value is ``value`` (or, with ``label_separator``,
    one of its findings); or ('columns', {column: [values]}): every named column holds one of its values
    (CheXpert's one column per finding: 1.0, 0.0, -1.0 uncertain, '' blank).
    """
    labels, columns = settings.get("labels") or {}, settings.get("columns") or {}
    unknown = [name for name in labels if name not in class_names]
    if unknown:
        raise DomainError(
            f"{key(domain, 'labels')}: {unknown} are not classes; the keys are the classes {list(class_names)}"
        )
    unmapped = [name for name in class_names if not labels.get(name)]
    if unmapped:
        raise DomainError(
            f"{key(domain, 'labels')}: no label values for class(es) {unmapped}; give each class of "
            f"{list(class_names)} the values that mean it"
        )
    rules = {}
    for name in class_names:
        rules[name] = []
        for entry in labels[name]:
            if isinstance(entry, dict):
                wanted = {
                    column: frozenset(map(canonical, values if isinstance(values, list) else [values]))
                    for column, values in entry.items()
                }
                rules[name].append(("columns", wanted))
            else:
                if "label" not in columns:
                    raise DomainError(
                        f"{key(domain, 'labels')}.{name}: '{entry}' is a value of the label column; set "
                        f"{key(domain, 'columns')}.label (or write {{column: value}} for one column per finding)"
                    )
                rules[name].append(("label", canonical(entry)))
    return rules


def classes_of(row, rules, label_column=None, separator=None):
    """The classes whose rules claim ``row`` (a dict of cell values), in class order."""
    cell = (row.get(label_column) or "") if label_column else ""
    # The whole value, and with a separator each of its findings.
    values = {canonical(cell), *(canonical(part) for part in cell.split(separator))} if separator else {canonical(cell)}
    claimed = []
    for name, class_rules in rules.items():
        for kind, wanted in class_rules:
            if kind == "label":
                hit = wanted in values
            else:
                hit = all(canonical(row.get(c) or "") in allowed for c, allowed in wanted.items())
            if hit:
                claimed.append(name)
                break
    return claimed


def read_table(domain, manifest):
    """The header and rows of a CSV: (header, [(line number, row dict), ...], sha256 of its bytes).

    Refuses a missing file, one that is not CSV text (binary, not UTF-8, ragged rows) and an empty one.
    """
    manifest = Path(manifest)
    where = "" if manifest.is_absolute() else f" (relative to the working directory: {manifest.absolute()})"
    try:
        data = manifest.read_bytes()
    except FileNotFoundError:
        raise DomainError(
            f"domain '{domain}': manifest {manifest} does not exist{where} (set {key(domain, 'manifest')})"
        ) from None
    except OSError as error:
        raise unreadable(domain, manifest, error) from None
    not_csv = f"domain '{domain}': manifest {manifest} ({key(domain, 'manifest')}) is not a CSV table"
    if b"\0" in data[:65536]:
        raise DomainError(f"{not_csv}: it holds binary data (a spreadsheet or an archive? export it as CSV)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DomainError(
            f"{not_csv}: line {line} (byte {error.start}) is not UTF-8 text; save it as UTF-8 CSV"
        ) from None
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise DomainError(f"{not_csv}: it is empty (the first line must name the columns)")
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise DomainError(
                    f"{not_csv}: line {reader.line_num} has {len(cells)} field(s), the header {len(header)}"
                )
            rows.append((reader.line_num, dict(zip(header, cells))))
    except csv.Error as error:
        raise DomainError(f"{not_csv}: line {reader.line_num}: {error}") from None
    return header, rows, hashlib.sha256(data).hexdigest()


def check_columns(domain, manifest, header, settings, rules):
    """Every column that ``columns:`` and ``labels:`` name is in the header."""
    named = {f"columns.{role}": column for role, column in (settings.get("columns") or {}).items()}
    for name, class_rules in rules.items():
        for kind, wanted in class_rules:
            if kind == "columns":
                named.update({f"labels.{name}": column for column in wanted})
    for setting, column in named.items():
        if column not in header:
            raise DomainError(
                f"domain '{domain}': {key(domain, setting)} names column '{column}', which manifest {manifest} "
                f"does not have; its columns: {header}"
            )


def relative_path(domain, manifest, line, value, path_format):
    """The image path a row names, relative to `images:` (POSIX), refusing one that leaves it."""
    raw = path_format.replace("{}", value.strip())
    rel = posixpath.normpath(raw.replace("\\", "/"))
    if not value.strip() or rel.startswith("/") or rel == ".." or rel.startswith("../"):
        raise DomainError(
            f"domain '{domain}': line {line} of manifest {manifest} names '{raw}', which is not a path inside "
            f"{key(domain, 'images')}; paths are relative to that folder"
        )
    return rel


def image_files(domain, folder):
    """Image files below ``folder`` (relative POSIX paths), hidden and system files left out."""
    found, seen = [], set()
    for current, dirs, files in os.walk(folder, followlinks=True, onerror=lambda error: None):
        stat = os.stat(current)
        if (stat.st_dev, stat.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        dirs[:] = [d for d in dirs if not is_hidden_or_system(d)]
        rel_dir = os.path.relpath(current, folder)
        for name in files:
            if not is_hidden_or_system(name) and name.lower().endswith(IMAGE_EXTENSIONS):
                check_name_is_utf8(domain, os.path.join(current, name), name)
                found.append(name if rel_dir == "." else f"{Path(rel_dir).as_posix()}/{name}")
    return found


def check_settings(domain, settings, split):
    """Cross-key checks of a manifest domain that need no file: `split: manifest` and its column."""
    columns = settings.get("columns") or {}
    if split == "manifest" and "split" not in columns:
        raise DomainError(
            f"{key(domain, 'split')}: manifest takes train/test from a column; set {key(domain, 'columns')}.split"
        )
    if "split" in columns and split != "manifest":
        raise DomainError(
            f"{key(domain, 'columns')}.split is used only with split: manifest; set {key(domain, 'split')}: "
            f"manifest or remove columns.split"
        )
    if "patient" in columns and settings.get("group_pattern"):
        raise DomainError(f"domain '{domain}': columns.patient and group_pattern both name the patient; keep one")


def list_manifest(domain, settings, class_names, split="random", on_bad_image="error"):
    """Read and check a manifest domain: a :class:`ManifestListing`; raise DomainError on bad input.

    Parameters
    ----------
    domain : str
        The domain's name (for messages).
    settings : dict
        The domain's config: manifest, images, columns {path, label, patient, split}, labels
        {class: [value or {column: value(s)}]}, and optionally label_separator, path_format.
    class_names : sequence of str
        The classes; a path's label is its class's index.
    split : str
        'random', 'test' or 'manifest' (train/test from ``columns.split``).
    on_bad_image : str
        'error': a row whose file is missing, or paths whose rows disagree on the class, stop here;
        'skip': they are left out and counted.
    """
    check_settings(domain, settings, split)
    rules = label_rules(domain, settings, class_names)
    manifest, folder = Path(settings["manifest"]), Path(settings["images"])
    if not folder.is_dir():
        where = "" if folder.is_absolute() else f" (relative to the working directory: {folder.absolute()})"
        raise DomainError(
            f"domain '{domain}': images folder {folder} does not exist{where} (set {key(domain, 'images')})"
        )
    header, rows, digest = read_table(domain, manifest)
    check_columns(domain, manifest, header, settings, rules)
    columns = settings["columns"]
    path_format = settings.get("path_format", "{}")
    listing = ManifestListing(folder=folder, manifest=manifest, manifest_sha256=digest, rows=len(rows))
    outcome, first_line, conflicting = {}, {}, set()  # relative path -> class or None; its first line
    for line, row in rows:
        rel = relative_path(domain, manifest, line, row[columns["path"]], path_format)
        claimed = classes_of(row, rules, columns.get("label"), settings.get("label_separator"))
        name = claimed[0] if len(claimed) == 1 else None
        if len(claimed) > 1:
            listing.rows_in_several_classes.append(f"line {line}: {rel} ({', '.join(claimed)})")
        elif not claimed:
            listing.values_without_class[label_value(row, columns, rules)] += 1
        side = row[columns["split"]].strip() if "split" in columns else None
        if side is not None and side not in MANIFEST_SPLITS:
            raise DomainError(
                f"domain '{domain}': line {line} of manifest {manifest}: {key(domain, 'columns')}.split column "
                f"'{columns['split']}' holds '{side}'; allowed: {list(MANIFEST_SPLITS)}"
            )
        if rel in outcome:
            if outcome[rel] != name:
                conflicting.add(rel)
                listing.label_conflicts.append(
                    f"{rel}: line {first_line[rel]} {outcome[rel] or 'no class'}, line {line} {name or 'no class'}"
                )
            elif side is not None and listing.given_split.get(rel) not in (None, side):
                raise DomainError(
                    f"domain '{domain}': lines {first_line[rel]} and {line} of manifest {manifest} put {rel} in "
                    f"different splits ({key(domain, 'columns')}.split)"
                )
            else:
                listing.duplicate_rows += 1
            continue
        outcome[rel], first_line[rel] = name, line
        if name is not None:
            if "patient" in columns:
                listing.patients[rel] = row[columns["patient"]].strip()
            if side is not None:
                listing.given_split[rel] = side
    if conflicting and on_bad_image == "error":
        raise DomainError(
            f"domain '{domain}': {len(conflicting)} path(s) of manifest {manifest} have rows that disagree on the "
            f"class, a label conflict (set on_bad_image: skip to exclude them):\n  "
            + "\n  ".join(listing.label_conflicts[:LISTED_IN_ERROR])
        )
    for name in class_names:
        listing.images[name] = []
    base = os.fspath(folder)
    for rel, name in outcome.items():
        if name is None or rel in conflicting:
            continue
        try:
            # Strings, not pathlib: a table of 100,000 rows is listed at every DAG build.
            stat = os.stat(os.path.join(base, rel))
        except FileNotFoundError:
            listing.missing.append(rel)
            continue
        except OSError as error:
            raise unreadable(domain, folder / rel, error) from None
        listing.stats[rel] = (stat.st_size, stat.st_mtime_ns)
        listing.images[name].append(rel)
    if listing.missing and on_bad_image == "error":
        shown = "\n  ".join(listing.missing[:LISTED_IN_ERROR])
        more = (
            f"\n  ... and {len(listing.missing) - LISTED_IN_ERROR} more"
            if len(listing.missing) > LISTED_IN_ERROR
            else ""
        )
        raise DomainError(
            f"domain '{domain}': {len(listing.missing)} file(s) named in manifest {manifest} are missing from "
            f"{folder} (set on_bad_image: skip to leave those rows out):\n  {shown}{more}"
        )
    named = set(outcome)
    listing.unlisted = sorted(rel for rel in image_files(domain, folder) if rel not in named)
    for name in class_names:
        listing.images[name].sort()
    listing.missing.sort()
    return listing


def label_value(row, columns, rules):
    """What a row says about its label, as counted for rows no class claims."""
    if "label" in columns:
        return row[columns["label"]].strip()
    named = sorted(
        {c for class_rules in rules.values() for kind, wanted in class_rules if kind == "columns" for c in wanted}
    )
    return ", ".join(f"{c}={row[c].strip()}" for c in named)


def check_manifest_class_sizes(domain, listing, test_fraction, split):
    """Every class has images; a random split needs the 80/20 minimum per class, a `split: manifest`
    domain train and test images of each class."""
    needed = min_images_per_class(test_fraction) if split == "random" else 1
    for name, paths in listing.images.items():
        sides = {listing.given_split[path] for path in paths} if split == "manifest" else set(MANIFEST_SPLITS)
        for side in MANIFEST_SPLITS:
            if paths and side not in sides:
                raise DomainError(
                    f"domain '{domain}': manifest {listing.manifest} gives class {name} no existing {side} "
                    f"image ({key(domain, 'columns')}.split); each class needs train and test images"
                )
        if len(paths) < needed:
            why = f" (a {1 - test_fraction:.0%}/{test_fraction:.0%} split needs at least {needed})" * (needed > 1)
            raise DomainError(
                f"domain '{domain}': manifest {listing.manifest} gives class {name} {len(paths)} existing "
                f"image(s){why}; check {key(domain, 'labels')}.{name} and {key(domain, 'images')}"
            )


def patient_groups(paths, groups, patients):
    """Group keys with a manifest's patient ids: `id:<value>` (the form group_pattern gives) where the
    patient cell is not blank, else the group already given (content)."""
    return [f"id:{patients[p]}" if patients.get(p) else g for p, g in zip(paths, groups)]


def table_fingerprint(listing, settings):
    """Changes when the domain's table settings, the manifest's bytes, or any named image (path, size,
    modification time) change: editing one row re-prepares this domain only."""
    described = json.dumps({k: settings.get(k) for k in TABLE_KEYS}, sort_keys=True, default=str)
    return hashlib.sha256(f"{described}\0{listing.manifest_sha256}\0{files_fingerprint(listing)}".encode()).hexdigest()


def checked_table(domain, settings, class_names, split, test_fraction, on_bad_image):
    """The checks a manifest domain gets before any job starts: (listing, a note for the log or None)."""
    listing = list_manifest(domain, settings, class_names, split, on_bad_image)
    check_manifest_class_sizes(domain, listing, test_fraction, split)
    return listing, manifest_note(domain, listing)


def manifest_note(domain, listing):
    """A line for the log about rows and images not used (not an error), or None."""
    unused = {
        "row(s) whose label no class claims": sum(listing.values_without_class.values()),
        "row(s) claimed by several classes": len(listing.rows_in_several_classes),
        "row(s) with a label conflict": len(listing.label_conflicts),
        "row(s) whose file is missing": len(listing.missing),
        f"image(s) in {listing.folder} that no row names": len(listing.unlisted),
    }
    said = [f"{count} {what}" for what, count in unused.items() if count]
    if not said:
        return None
    return f"domain '{domain}': manifest {listing.manifest}: not used: {'; '.join(said)} (see the intake report)"


def intake_entries(listing):
    """Intake report entries of a manifest domain: what the table said and what was not used."""
    return {
        "manifest": str(listing.manifest),
        "manifest_sha256": listing.manifest_sha256,
        "manifest_rows": listing.rows,
        "rows_without_class": sum(listing.values_without_class.values()),
        "label_values_without_class": dict(listing.values_without_class.most_common()),
        "rows_in_several_classes": len(listing.rows_in_several_classes),
        "rows_in_several_classes_lines": listing.rows_in_several_classes,
        "duplicate_rows": listing.duplicate_rows,
        "manifest_label_conflicts": len(listing.label_conflicts),
        "manifest_label_conflict_rows": listing.label_conflicts,
        "missing_files": len(listing.missing),
        "missing_file_paths": listing.missing,
        "images_not_in_manifest": len(listing.unlisted),
        "images_not_in_manifest_examples": listing.unlisted[:UNLISTED_EXAMPLES],
        "patients_from_column": len(set(filter(None, listing.patients.values()))),
    }
