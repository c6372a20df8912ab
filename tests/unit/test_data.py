"""synthcxr.data: one split of a prepared domain's cache, and what a training learns from and holds out."""

import numpy as np
import pytest

from synthcxr.data import load_split, load_training_data
from synthcxr.manifest import write_manifest


def cached_domain(folder, name, groups_per_class=10, images_per_group=2, test_groups=2):
    """A prepared domain as prepare_domain leaves it: images.npy (each image filled with its row number) and
    a manifest; the last ``test_groups`` groups of each class are its test split."""
    rows = []
    for label, class_name in enumerate(("NORMAL", "PNEUMONIA")):
        for group in range(groups_per_class):
            for image in range(images_per_group):
                rows.append(
                    {
                        "path": f"{class_name}/{group}_{image}.png",
                        "class": class_name,
                        "label": label,
                        "split": "test" if group >= groups_per_class - test_groups else "train",
                        "sha256": f"{name}{len(rows)}",
                        "pixel_hash": f"{name}{len(rows)}",
                        "group": f"id:{name}{class_name}{group}",
                        "split_reason": "random (seed 1)",
                    }
                )
    images = np.stack([np.full((4, 4), index, dtype=np.uint8) for index in range(len(rows))])
    images_path, manifest_path = folder / f"{name}.npy", folder / f"{name}.csv"
    np.save(images_path, images)
    write_manifest(rows, manifest_path)
    return images_path, manifest_path


def test_load_split_returns_the_images_and_rows_of_one_split_in_manifest_order(tmp_path):
    images_path, manifest_path = cached_domain(tmp_path, "A")
    images, rows = load_split(images_path, manifest_path, "test")
    assert images.dtype == np.uint8 and images.shape == (8, 4, 4) and len(rows) == 8
    assert all(row["split"] == "test" for row in rows)
    # each image is its manifest row: the row numbers of the test images, in order
    assert [int(image[0, 0]) for image in images] == [16, 17, 18, 19, 36, 37, 38, 39]
    assert [row["label"] for row in rows] == [0, 0, 0, 0, 1, 1, 1, 1]
    train_images, train_rows = load_split(images_path, manifest_path, "train")
    assert len(train_images) == len(train_rows) == 32


def test_load_split_refuses_a_cache_that_does_not_match_its_manifest(tmp_path):
    images_path, manifest_path = cached_domain(tmp_path, "A")
    np.save(images_path, np.zeros((3, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"has 3 images but .*A\.csv lists 40"):
        load_split(images_path, manifest_path, "test")


def test_training_data_hold_out_whole_groups_of_the_train_split_and_never_test_images(tmp_path):
    paths = cached_domain(tmp_path, "A")
    (images, rows), (held_images, held_rows) = load_training_data([paths[0]], [paths[1]], 0.25, 100, split_seed=1)
    assert len(images) == len(rows) and len(held_images) == len(held_rows)
    assert len(rows) + len(held_rows) == 32 and held_rows  # the whole train split, nothing of the test split
    assert all(row["split"] == "train" for row in rows + held_rows)
    assert {row["group"] for row in rows}.isdisjoint(row["group"] for row in held_rows)
    assert {row["label"] for row in held_rows} == {0, 1}  # stratified
    for image, row in zip(images, rows):  # each image stays beside its row (sha256 here: domain and row number)
        assert int(image[0, 0]) == int(row["sha256"][1:])
    # no validation slice: everything of the train split is learned from
    (images, rows), (held_images, held_rows) = load_training_data([paths[0]], [paths[1]], 0, 100, split_seed=1)
    assert len(rows) == 32 and held_rows == [] and held_images.shape == (0, 4, 4)


def test_training_data_of_a_part_are_nested_and_of_several_domains_are_concatenated(tmp_path):
    a, b = cached_domain(tmp_path, "A"), cached_domain(tmp_path, "B")
    parts = {
        percent: {row["path"] for row in load_training_data([a[0]], [a[1]], 0.25, percent, split_seed=1)[0][1]}
        for percent in (50, 100)
    }
    assert parts[50] < parts[100]
    (images, rows), (_, held_rows) = load_training_data([a[0], b[0]], [a[1], b[1]], 0.25, 100, split_seed=1)
    assert {row["sha256"][0] for row in rows} == {"A", "B"} and {row["sha256"][0] for row in held_rows} == {"A", "B"}
    assert len(images) == len(rows) == 2 * len(parts[100])
    assert all(int(image[0, 0]) == int(row["sha256"][1:]) for image, row in zip(images, rows))
