"""synthcxr.prepare: decoding, splitting and caching a domain, and its intake report (every intake error)."""

import shutil

import numpy as np
import pytest
from helpers import make_domain, write_image
from kaggle_trees import CLASSES, PATIENT, demo_tree, link_tree, needs_sample, sample_patients

from synthcxr.folders import DomainError, list_domain, outside_classes_note
from synthcxr.prepare import prepare_domain


def prepare(folder, **kwargs):
    options = dict(image_size=32, test_fraction=0.2, split_seed=1)
    options.update(kwargs)
    return prepare_domain("GANs", folder, CLASSES, **options)


def test_prepare_caches_every_image_once_with_a_manifest_and_report(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=10)
    images, rows, report = prepare(folder)
    assert images.shape == (20, 32, 32) and images.dtype == np.uint8
    assert [r["path"] for r in rows] == sorted(r["path"] for r in rows)
    assert report["class_counts"] == {"train": {"NORMAL": 8, "PNEUMONIA": 8}, "test": {"NORMAL": 2, "PNEUMONIA": 2}}
    assert report["images_used"] == 20 and report["bad_images"] == 0


def test_missing_domain_folder_names_domain_and_folder(tmp_path):
    with pytest.raises(DomainError, match=r"domain 'GANs': folder .*nowhere does not exist"):
        prepare(tmp_path / "nowhere")


def test_misspelled_class_folder_lists_found_and_expected_names(tmp_path):
    folder = make_domain(tmp_path / "GANs", classes=("Normal", "PNEUMONIA"))
    with pytest.raises(DomainError) as error:
        prepare(folder)
    message = str(error.value)
    assert "domain 'GANs'" in message and "NORMAL is missing" in message
    assert "found 'Normal'" in message and "['NORMAL', 'PNEUMONIA']" in message


def test_empty_class_folder_is_an_error(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=6)
    shutil.rmtree(folder / "PNEUMONIA")
    (folder / "PNEUMONIA").mkdir()
    (folder / "PNEUMONIA" / "notes.txt").write_text("not an image")
    with pytest.raises(DomainError, match=r"domain 'GANs': class folder .*PNEUMONIA has no images"):
        prepare(folder)


def test_too_few_images_to_split_says_how_many_are_needed(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=2)
    with pytest.raises(DomainError, match=r"has 2 image\(s\); a 80%/20% split needs at least 3"):
        prepare(folder)


def test_hidden_system_and_non_image_files_are_ignored_and_counted(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=5)
    (folder / "NORMAL" / ".DS_Store").write_bytes(b"\0")
    (folder / "NORMAL" / "Thumbs.db").write_bytes(b"\0")
    (folder / "PNEUMONIA" / "readme.txt").write_text("x")
    _, rows, report = prepare(folder)
    assert len(rows) == 10
    assert report["ignored_hidden_or_system"] == 2 and report["ignored_not_image"] == 1


def test_nested_subfolders_belong_to_their_class(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=5)
    write_image(folder / "PNEUMONIA" / "batch2" / "extra.png", 99)
    _, rows, _ = prepare(folder)
    assert {"path": "PNEUMONIA/batch2/extra.png", "class": "PNEUMONIA"}.items() <= next(
        r for r in rows if r["path"].endswith("extra.png")
    ).items()


def bad_files(folder):
    (folder / "NORMAL" / "zero.png").write_bytes(b"")
    (folder / "PNEUMONIA" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\ngarbage")
    jpeg = write_image(folder / "PNEUMONIA" / "full.jpg", 5, size=64)
    (folder / "PNEUMONIA" / "truncated.jpg").write_bytes(jpeg.read_bytes()[:300])
    jpeg.unlink()


def test_bad_images_stop_the_run_naming_every_file(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=6)
    bad_files(folder)
    with pytest.raises(DomainError) as error:
        prepare(folder)
    message = str(error.value)
    assert "domain 'GANs': 3 unreadable image(s)" in message
    for name in ("zero.png", "corrupt.png", "truncated.jpg"):
        assert name in message


def test_bad_images_are_skipped_and_reported_when_asked(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=6)
    bad_files(folder)
    _, rows, report = prepare(folder, on_bad_image="skip")
    assert len(rows) == 12 and report["bad_images"] == 3
    assert any("truncated.jpg" in line for line in report["bad_files"])


def test_exact_duplicates_stay_on_one_side_and_are_counted(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=10)
    for index in range(4):  # four copies of one image, in other formats and names
        shutil.copy(folder / "NORMAL" / "normal_000.png", folder / "NORMAL" / f"copy_{index}.png")
    _, rows, report = prepare(folder)
    copies = [r for r in rows if r["pixel_hash"] == rows[0]["pixel_hash"]]
    assert len(copies) == 5 and len({r["split"] for r in copies}) == 1
    assert report["duplicate_images"] == 4


def test_patient_groups_stay_together_and_are_reported(tmp_path):
    for label, name in enumerate(CLASSES):
        for patient in range(8):
            for view in range(3):
                write_image(tmp_path / "D" / name / f"person{label}{patient}_view{view}.png", (label, patient, view))
    _, rows, report = prepare(tmp_path / "D", group_pattern=r"person(\d+)_")
    sides = {}
    for row in rows:
        sides.setdefault(row["group"], set()).add(row["split"])
    assert len(sides) == 16 and all(len(s) == 1 for s in sides.values())
    assert report["groups"] == 16 and report["groups_matched_by_pattern"] == 16
    assert report["groups_straddling_without_grouping"] > 0


def test_decoding_logs_progress_with_the_time_left(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=5)
    lines = []
    prepare(folder, log=lines.append, log_interval=0)
    assert len(lines) == 10 and " GANs: 1/10 images decoded (elapsed " in lines[0]
    assert " GANs: 10/10 images decoded (elapsed " in lines[-1] and lines[-1].endswith(", about 0:00 left)")
    quiet = []
    prepare(folder, log=quiet.append)  # every 30 s by default: nothing for a small domain
    assert quiet == []


def label_conflict(folder):
    """normal_000.png copied into PNEUMONIA/ (and once more into NORMAL/): one image, two labels."""
    shutil.copy(folder / "NORMAL" / "normal_000.png", folder / "PNEUMONIA" / "same_as_normal.png")
    shutil.copy(folder / "NORMAL" / "normal_000.png", folder / "NORMAL" / "copy.png")


def test_an_image_in_both_class_folders_stops_the_run_naming_the_files(tmp_path):
    # Was: counted as a duplicate only, and a pair landed in the test split with both labels.
    folder = make_domain(tmp_path / "GANs", per_class=6)
    label_conflict(folder)
    with pytest.raises(DomainError) as raised:
        prepare(folder)
    message = str(raised.value)
    assert message.startswith(f"domain 'GANs': 1 image(s) in {folder} are in more than one class folder")
    assert message.endswith(
        "\n  NORMAL/copy.png (NORMAL) = NORMAL/normal_000.png (NORMAL) = PNEUMONIA/same_as_normal.png (PNEUMONIA)"
    )


def test_label_conflicts_are_excluded_and_reported_with_skip(tmp_path):
    folder = make_domain(tmp_path / "GANs", per_class=6)
    label_conflict(folder)
    images, rows, report = prepare(folder, on_bad_image="skip")
    paths = {row["path"] for row in rows}
    assert not paths & {"NORMAL/copy.png", "NORMAL/normal_000.png", "PNEUMONIA/same_as_normal.png"}
    assert len(rows) == len(images) == 11 and report["images_used"] == 11
    assert report["label_conflicts"] == 1
    assert report["label_conflict_files"] == [
        ["NORMAL/copy.png", "NORMAL/normal_000.png", "PNEUMONIA/same_as_normal.png"]
    ]


def test_folders_and_images_outside_the_class_folders_are_counted_not_used(tmp_path):
    # Was: an extra class folder (COVID/) or images loose in the domain root were silently ignored.
    folder = make_domain(tmp_path / "GANs", per_class=6)
    write_image(folder / "COVID" / "covid_000.png", 5)
    write_image(folder / "loose.png", 6)
    (folder / "notes.txt").write_text("not an image: not counted here")
    _, rows, report = prepare(folder)
    assert report["outside_class_folders"] == ["COVID/", "loose.png"]
    assert report["images_used"] == len(rows) == 12
    note = outside_classes_note("GANs", list_domain("GANs", folder, CLASSES))
    assert note == (
        f"domain 'GANs': 2 folder(s) or image(s) in {folder} are outside the class folders "
        "['NORMAL', 'PNEUMONIA'] and not used: COVID/, loose.png"
    )
    assert outside_classes_note("GANs", list_domain("GANs", make_domain(tmp_path / "clean"), CLASSES)) is None


def test_a_relative_folder_is_shown_resolved_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DomainError) as raised:
        prepare("data/nowhere")
    assert f"folder data/nowhere does not exist (relative to the working directory: {tmp_path}/data/nowhere)" in str(
        raised.value
    )
    make_domain(tmp_path / "data" / "GANs", per_class=6)
    _, _, report = prepare("data/GANs")
    assert report["folder"] == "data/GANs" and report["folder_absolute"] == f"{tmp_path}/data/GANs"


def test_a_given_split_is_kept_val_joins_train_and_each_image_says_why(tmp_path):
    root = demo_tree(tmp_path / "chest_xray", {"train": 4, "test": 2, "val": 1})
    _, rows, report = prepare_domain(
        "Kaggle", root, CLASSES, image_size=32, test_fraction=0.2, split_seed=1, split="folders"
    )
    reasons = {row["path"]: (row["split"], row["split_reason"]) for row in rows}
    assert reasons["train/NORMAL/normal_0000.png"] == ("train", "folder train/")
    assert reasons["val/PNEUMONIA/pneumonia_0000.png"] == ("train", "folder val/ (joins train)")
    assert reasons["test/NORMAL/normal_0001.png"] == ("test", "folder test/")
    assert report["split"] == "folders" and report["val_images_joined_train"] == 2
    assert report["class_counts"] == {"train": {"NORMAL": 5, "PNEUMONIA": 5}, "test": {"NORMAL": 2, "PNEUMONIA": 2}}


def test_an_external_test_set_is_all_test_and_needs_only_one_image_per_class(tmp_path):
    folder = make_domain(tmp_path / "External", per_class=1)
    _, rows, report = prepare_domain(
        "External", folder, CLASSES, image_size=32, test_fraction=0.2, split_seed=1, split="test"
    )
    assert [(row["split"], row["split_reason"]) for row in rows] == [("test", "external test set")] * 2
    assert report["class_counts"]["train"] == {"NORMAL": 0, "PNEUMONIA": 0}


def test_random_splits_say_their_seed(tmp_path):
    _, rows, _ = prepare_domain(
        "GANs", make_domain(tmp_path / "GANs", per_class=5), CLASSES, image_size=32, test_fraction=0.2, split_seed=9
    )
    assert {row["split_reason"] for row in rows} == {"random (seed 9)"}


@needs_sample
def test_patients_on_both_sides_of_a_given_split_are_reported(tmp_path):
    patients = sample_patients()
    link_tree(tmp_path / "chest_xray", {"train": 6, "test": 3}, patients)
    # A patient with two images, one on each side of the given split.
    first, second = next(paths for paths in list(patients["PNEUMONIA"].values())[40:] if len(paths) > 1)[:2]
    (tmp_path / "chest_xray" / "train" / "PNEUMONIA" / first.name).symlink_to(first)
    (tmp_path / "chest_xray" / "test" / "PNEUMONIA" / second.name).symlink_to(second)
    _, _, report = prepare_domain(
        "Kaggle",
        tmp_path / "chest_xray",
        CLASSES,
        image_size=32,
        test_fraction=0.2,
        split_seed=1,
        group_pattern=PATIENT.pattern,
        split="folders",
    )
    assert report["patient_groups_in_both_given_splits"] == [f"id:{PATIENT.search(first.name).group(1)}"]
