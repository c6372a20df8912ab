"""synthcxr.folders: listing a domain's folder (class folders, split folders, links, names) and its fingerprint."""

import os
import shutil

import pytest
from helpers import make_domain, write_image
from kaggle_trees import CLASSES, demo_tree

from synthcxr.folders import DomainError, fingerprint, list_domain, outside_classes_note


def test_fingerprint_changes_when_an_image_is_added_not_when_nothing_changes(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=5)
    before = fingerprint(list_domain("GANs", folder, CLASSES))
    assert fingerprint(list_domain("GANs", folder, CLASSES)) == before
    write_image(folder / "NORMAL" / "new.png", 1234)
    assert fingerprint(list_domain("GANs", folder, CLASSES)) != before


@pytest.mark.parametrize("link", ["broken", "loop", "folder_loop"])
def test_a_bad_symbolic_link_is_a_domain_error_naming_the_domain_and_path(tmp_path, link):
    folder = make_domain(tmp_path / "GANs", per_class=5)
    bad = folder / "PNEUMONIA" / "batch2" / "x.png"
    bad.parent.mkdir()
    if link == "broken":
        bad.symlink_to(tmp_path / "moved_away.png")
    elif link == "loop":
        bad.symlink_to(bad)
    else:
        bad = folder / "PNEUMONIA" / "batch2" / "up"
        bad.symlink_to(folder / "PNEUMONIA")
    with pytest.raises(DomainError, match=r"domain 'GANs': .*") as error:
        list_domain("GANs", folder, CLASSES)
    assert str(bad) in str(error.value)


def test_a_linked_subfolder_is_followed(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=5)
    elsewhere = make_domain(tmp_path / "elsewhere", per_class=2)
    (folder / "NORMAL" / "more").symlink_to(elsewhere / "NORMAL")
    listing = list_domain("GANs", folder, CLASSES)
    assert "NORMAL/more/normal_001.png" in listing.images["NORMAL"] and len(listing.images["NORMAL"]) == 7


def test_a_file_name_that_is_not_utf8_is_refused_naming_domain_and_path(tmp_path):
    # Was: UnicodeEncodeError in the fingerprint of the dry run, naming neither domain nor file.
    folder = make_domain(tmp_path / "GANs", per_class=6)
    latin1 = os.path.join(os.fsencode(folder / "NORMAL"), b"caf\xe9.png")
    shutil.copy(folder / "NORMAL" / "normal_000.png", latin1)
    with pytest.raises(DomainError) as raised:
        fingerprint(list_domain("GANs", folder, CLASSES))
    message = str(raised.value)
    assert message.startswith("domain 'GANs': the name of ")
    assert f"{folder}/NORMAL/caf\\xe9.png is not valid UTF-8" in message
    message.encode("utf-8")  # printable as it is


def test_a_folder_name_that_is_not_utf8_beside_the_class_folders_is_shown_with_backslash_escapes(tmp_path):
    # Was: shown as \udce9COVID/ (Python's surrogate escape) in the dry run's note and the intake report.
    folder = make_domain(tmp_path / "GANs", per_class=6)
    os.mkdir(os.path.join(os.fsencode(folder), b"\xe9COVID"))
    write_image(folder / "loose.png", 1)
    listing = list_domain("GANs", folder, CLASSES)
    assert listing.outside_classes == ["\\xe9COVID/", "loose.png"]
    note = outside_classes_note("GANs", listing)
    assert note.endswith("and not used: \\xe9COVID/, loose.png")
    note.encode("utf-8")  # printable as it is


def test_split_folders_lists_train_val_and_test_keeping_the_subfolder(tmp_path):
    root = demo_tree(tmp_path / "chest_xray", {"train": 4, "test": 2, "val": 1})
    listing = list_domain("Kaggle", root, CLASSES, split="folders")
    assert len(listing.images["NORMAL"]) == 7
    assert {path.split("/")[0] for path in listing.images["PNEUMONIA"]} == {"train", "test", "val"}
    assert "train/NORMAL/normal_0000.png" in listing.images["NORMAL"]


@pytest.mark.parametrize("missing", ["train", "test"])
def test_split_folders_without_train_or_test_says_what_it_needs(tmp_path, missing):
    root = demo_tree(tmp_path / "chest_xray", {"train": 3, "test": 2})
    (root / missing).rename(root / "other")
    with pytest.raises(DomainError) as error:
        list_domain("Kaggle", root, CLASSES, split="folders")
    message = str(error.value)
    assert "domain 'Kaggle' (split: folders)" in message and f"no {missing}/ subfolder" in message
    assert "needs train/ and test/" in message and "'other'" in message


def test_a_kaggle_tree_without_split_folders_hints_at_it(tmp_path):
    """Before: "class folder .../NORMAL is missing; found ['test', 'train']" and no hint."""
    root = demo_tree(tmp_path / "chest_xray", {"train": 3, "test": 2})
    with pytest.raises(DomainError, match=r"set domains\.Kaggle\.split: folders"):
        list_domain("Kaggle", root, CLASSES)
