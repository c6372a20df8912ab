"""Domain folders: listing, fingerprinting and the checks that run before any work.

Standard library only (and synthcxr.splits, which is too): the Snakefile imports this module while
building the DAG, which must work on a login node that has snakemake and nothing else.
"""

import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from synthcxr.splits import min_images_per_class

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm")
SYSTEM_FILES = {"thumbs.db", "desktop.ini"}


class DomainError(ValueError):
    """A domain's folder cannot be used; the message names the domain and the path at fault."""


@dataclass
class DomainListing:
    """Image files of one domain folder, per class, and what was ignored."""

    folder: Path
    images: dict = field(default_factory=dict)  # class name -> sorted relative paths (POSIX)
    ignored_hidden: list = field(default_factory=list)
    ignored_other: list = field(default_factory=list)
    # Folders other than the class folders, and images, at the domain's top level: not used.
    outside_classes: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)  # relative path -> (size, mtime_ns)


def is_hidden_or_system(name):
    return name.startswith(".") or name.lower() in SYSTEM_FILES


def unreadable(domain, path, error):
    """The DomainError for a path the listing cannot read (broken link, link loop, no permission)."""
    link = " (a symbolic link whose target is missing or loops)" if os.path.islink(path) else ""
    return DomainError(f"domain '{domain}': cannot read {path}{link}: {error.strerror or error}; fix or remove it")


def shown(path):
    """``path`` as text that can always be printed: bytes that are not UTF-8 as backslash escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def check_name_is_utf8(domain, path, name):
    """Refuse a file name that is not valid UTF-8 (legal on Linux): manifests, reports and logs are
    UTF-8 text, so the path could not be written there, nor compared across machines."""
    if name.isascii():
        return
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise DomainError(
            f"domain '{domain}': the name of {shown(path)} is not valid UTF-8 (shown with backslash "
            "escapes); rename it, e.g. with `convmv -f latin1 -t utf8 --notest`"
        ) from None


def _walk_class_folder(domain, class_dir, class_name, listing):
    """Yield image paths below ``class_dir``, recursing into subfolders (they are part of the class).

    Paths are relative to the domain folder, POSIX-style, built as strings: a dry run lists every
    image of every domain, and pathlib per file would cost about as much as the rest of the DAG.
    Linked subfolders are followed, except a link back to a folder above it (it would never end).
    """
    stack = [(os.fspath(class_dir), class_name, frozenset())]
    while stack:
        current, rel_current, above = stack.pop()
        try:
            stat = os.stat(current)
            here = above | {(stat.st_dev, stat.st_ino)}
            if len(here) == len(above):
                raise DomainError(
                    f"domain '{domain}': {current} is a symbolic link to a folder that contains it; remove the link"
                )
            with os.scandir(current) as entries:
                for entry in entries:
                    check_name_is_utf8(domain, entry.path, entry.name)
                    rel = f"{rel_current}/{entry.name}"
                    if is_hidden_or_system(entry.name):
                        listing.ignored_hidden.append(rel)
                    elif entry.is_dir():
                        stack.append((entry.path, rel, here))
                    elif entry.name.lower().endswith(IMAGE_EXTENSIONS):
                        stat = entry.stat()
                        listing.stats[rel] = (stat.st_size, stat.st_mtime_ns)
                        yield rel
                    else:
                        listing.ignored_other.append(rel)
        except OSError as error:
            raise unreadable(domain, error.filename or current, error) from None


# How a domain's images are split into train and test (config `split:`): 80/20 here, given by
# train/ and test/ subfolders, or all test (an external test set).
SPLIT_MODES = ("random", "folders", "test")
# Subfolders of a `split: folders` domain and the split their images go to (val/ is optional).
GIVEN_SPLIT_FOLDERS = {"train": "train", "val": "train", "test": "test"}


def _top_entries(domain, folder):
    """(name, is_dir) of the visible entries of ``folder``."""
    try:
        with os.scandir(folder) as entries:
            return [(e.name, e.is_dir()) for e in entries if not is_hidden_or_system(e.name)]
    except OSError as error:
        raise unreadable(domain, error.filename or folder, error) from None


def _outside(entries, expected, prefix=""):
    """Folders other than ``expected`` and loose images among ``entries``: counted, not used.

    Names are shown (names that are not UTF-8 with backslash escapes): they go into the log and the intake
    report, never back to the file system.
    """
    return [
        shown(f"{prefix}{name}/" if is_dir else f"{prefix}{name}")
        for name, is_dir in entries
        if (is_dir and name not in expected) or (not is_dir and name.lower().endswith(IMAGE_EXTENSIONS))
    ]


def _list_class_folders(domain, folder, class_names, listing, prefix=""):
    """Add the images of ``folder``'s class folders to ``listing`` (paths start with ``prefix``)."""
    entries = _top_entries(domain, folder)
    found = sorted(name for name, is_dir in entries if is_dir)
    listing.outside_classes += _outside(entries, class_names, prefix)
    for class_name in class_names:
        class_dir = folder / class_name
        if not class_dir.is_dir():
            hint = [name for name in found if name.lower() == class_name.lower()]
            detail = f" (found '{hint[0]}': class folder names are case-sensitive)" if hint else ""
            if not prefix and {"train", "test"} <= {name.lower() for name in found}:
                detail = (
                    " (it holds train/ and test/ subfolders: a data set with its own split; "
                    f"set domains.{domain}.split: folders)"
                )
            raise DomainError(
                f"domain '{domain}': class folder {class_dir} is missing{detail}; "
                f"expected {list(class_names)}, found {found}"
            )
        paths = sorted(_walk_class_folder(domain, class_dir, f"{prefix}{class_name}", listing))
        if not paths:
            raise DomainError(
                f"domain '{domain}': class folder {class_dir} has no images "
                f"(accepted extensions: {' '.join(IMAGE_EXTENSIONS)})"
            )
        listing.images.setdefault(class_name, []).extend(paths)


def list_domain(domain, folder, class_names, split="random"):
    """List a domain folder and check it; raise DomainError on any problem.

    ``split`` 'random' or 'test': ImageFolder layout (one folder per class). 'folders': train/ and
    test/ subfolders (and optionally val/, which joins train), each in ImageFolder layout; relative
    paths keep the subfolder (train/NORMAL/x.png). Class folders are matched by exact name. Images in
    nested subfolders of a class folder belong to that class. Hidden/system files and files without
    an image extension are ignored and counted.
    """
    folder = Path(folder)
    if not folder.is_dir():
        # A relative path is resolved against the working directory, not the config file's folder.
        where = "" if folder.is_absolute() else f" (relative to the working directory: {folder.absolute()})"
        raise DomainError(f"domain '{domain}': folder {folder} does not exist{where} (set domains.{domain}.path)")
    listing = DomainListing(folder=folder)
    if split == "folders":
        entries = _top_entries(domain, folder)
        found = sorted(name for name, is_dir in entries if is_dir)
        listing.outside_classes += _outside(entries, GIVEN_SPLIT_FOLDERS)
        missing = [name for name in ("train", "test") if name not in found]
        if missing:
            raise DomainError(
                f"domain '{domain}' (split: folders): {folder} has no {' or '.join(f'{m}/' for m in missing)} "
                f"subfolder; split: folders needs train/ and test/ (val/ optional), each with class folders "
                f"{list(class_names)}; found {found} (a plain class-folder layout needs split: random or test)"
            )
        for name in [n for n in GIVEN_SPLIT_FOLDERS if n in found]:
            _list_class_folders(domain, folder / name, class_names, listing, prefix=f"{name}/")
    else:
        _list_class_folders(domain, folder, class_names, listing)
    for class_name in class_names:
        listing.images[class_name].sort()
    listing.ignored_hidden.sort()
    listing.ignored_other.sort()
    listing.outside_classes.sort()
    return listing


def outside_classes_note(domain, listing):
    """A line for the log about folders and images beside the class folders (not an error), or None."""
    if not listing.outside_classes:
        return None
    shown_names = ", ".join(listing.outside_classes[:5]) + (", ..." if len(listing.outside_classes) > 5 else "")
    return (
        f"domain '{domain}': {len(listing.outside_classes)} folder(s) or image(s) in {listing.folder} are "
        f"outside the class folders {sorted(listing.images)} and not used: {shown_names}"
    )


# What following the advice "set on_bad_image: skip" costs: the setting is no rerun trigger (a domain
# prepared without a bad image comes out the same either way); the domain with the bad files changed.
SKIP_RERUNS = "; that re-prepares only the domains whose images changed, and reruns what depends on them"


def bad_images_error(domain, folder, bad):
    """The DomainError for unreadable images; ``bad``: one 'path: reason' line per image."""
    listed = "\n  ".join(bad)
    return DomainError(
        f"domain '{domain}': {len(bad)} unreadable image(s) in {folder} "
        f"(set on_bad_image: skip to exclude them{SKIP_RERUNS}):\n  {listed}"
    )


def changed_since(listing, manifest):
    """Images of ``listing`` that are new or modified since ``manifest`` (the split manifest that the
    last preparation wrote) was written: not in it, or modified later. [] when there is no manifest."""
    try:
        written = os.stat(manifest).st_mtime_ns
        with open(manifest, newline="") as handle:
            prepared = {row["path"] for row in csv.DictReader(handle)}
    except (OSError, KeyError, csv.Error):
        return []
    return sorted(rel for rel, (_, mtime_ns) in listing.stats.items() if rel not in prepared or mtime_ns > written)


def given_split_folder(rel):
    """'train', 'val' or 'test': the subfolder of a `split: folders` domain an image lies in."""
    return rel.split("/", 1)[0]


def check_class_sizes(domain, listing, test_fraction, split="random"):
    """Enough images per class for the split: the 80/20 minimum for 'random'; a given split or an
    external test set needs only one image per class and side (the listing guarantees it)."""
    if split != "random":
        return
    needed = min_images_per_class(test_fraction)
    for class_name, paths in listing.images.items():
        if len(paths) < needed:
            raise DomainError(
                f"domain '{domain}': class folder {listing.folder / class_name} has {len(paths)} "
                f"image(s); a {1 - test_fraction:.0%}/{test_fraction:.0%} split needs at least {needed}"
            )


def fingerprint(listing):
    """Hash of the image list with sizes and modification times: changes when any image changes."""
    digest = hashlib.sha256()
    for rel in sorted(listing.stats):
        size, mtime_ns = listing.stats[rel]
        digest.update(f"{rel}\0{size}\0{mtime_ns}\n".encode())
    return digest.hexdigest()
