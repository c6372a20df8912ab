"""synthcxr.new_images: images added to a prepared domain, checked when the DAG is built (issue 24, item 2)."""

import shutil

from helpers import make_domain, write_image

from synthcxr.folders import list_domain
from synthcxr.manifest import write_manifest
from synthcxr.new_images import new_images_error
from synthcxr.prepare import prepare_domain

CLASSES = ["NORMAL", "PNEUMONIA"]


def prepared_domain(tmp_path):
    """A prepared domain: its folder and the split manifest the preparation wrote."""
    folder = make_domain(tmp_path / "GANs", per_class=6)
    _, rows, _ = prepare_domain("GANs", folder, CLASSES, 32, 0.2, 1)
    manifest = tmp_path / "GANs.csv"
    write_manifest(rows, manifest)
    return folder, manifest


def check(folder, manifest, new):
    return new_images_error("GANs", list_domain("GANs", folder, CLASSES), new, manifest, 32)


def test_a_new_copy_of_a_prepared_image_under_another_class_is_a_label_conflict(tmp_path):
    folder, manifest = prepared_domain(tmp_path)
    shutil.copy(folder / "NORMAL" / "normal_003.png", folder / "PNEUMONIA" / "copy.png")
    message = str(check(folder, manifest, ["PNEUMONIA/copy.png"]))
    assert message.startswith(f"domain 'GANs': 1 image(s) in {folder} are in more than one class folder")
    assert "set on_bad_image: skip to exclude every copy; that re-prepares only the domains whose images" in message
    assert message.endswith("\n  NORMAL/normal_003.png (NORMAL) = PNEUMONIA/copy.png (PNEUMONIA)")


def test_new_images_in_their_own_class_or_distinct_pass_and_unreadable_ones_are_named(tmp_path):
    folder, manifest = prepared_domain(tmp_path)
    shutil.copy(folder / "NORMAL" / "normal_003.png", folder / "NORMAL" / "duplicate.png")  # same class: no conflict
    write_image(folder / "PNEUMONIA" / "new.png", 999)
    assert check(folder, manifest, ["NORMAL/duplicate.png", "PNEUMONIA/new.png"]) is None
    (folder / "PNEUMONIA" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    message = str(check(folder, manifest, ["PNEUMONIA/broken.png", "PNEUMONIA/new.png"]))
    assert message.startswith(f"domain 'GANs': 1 unreadable image(s) in {folder} (set on_bad_image: skip")
    assert f"{folder / 'PNEUMONIA' / 'broken.png'}: " in message


def test_a_conflict_with_a_prepared_image_no_longer_in_the_folder_is_none(tmp_path):
    folder, manifest = prepared_domain(tmp_path)
    shutil.move(folder / "NORMAL" / "normal_003.png", folder / "PNEUMONIA" / "moved.png")  # relabelled, not copied
    assert check(folder, manifest, ["PNEUMONIA/moved.png"]) is None
    # A changed image is judged by its new content, not by its row in the manifest.
    shutil.copy(folder / "PNEUMONIA" / "pneumonia_000.png", folder / "NORMAL" / "normal_000.png")
    message = str(check(folder, manifest, ["NORMAL/normal_000.png", "PNEUMONIA/moved.png"]))
    assert message.endswith("\n  NORMAL/normal_000.png (NORMAL) = PNEUMONIA/pneumonia_000.png (PNEUMONIA)")
