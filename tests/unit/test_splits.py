from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcxr.splits import (
    assign_splits,
    group_keys,
    merge_duplicate_groups,
    min_images_per_class,
    n_test_images,
    subset_of_train,
    validation_slice,
)


def content_groups(n):
    return [f"content:{i:04d}" for i in range(n)]


def test_split_is_stratified_80_20_within_rounding_and_disjoint():
    labels = [0] * 103 + [1] * 297
    splits = assign_splits(labels, content_groups(400), 0.2, seed=1)
    per_class = Counter(zip(labels, splits))
    assert per_class[(0, "test")] == 21
    assert per_class[(1, "test")] == 59
    assert set(splits) == {"train", "test"} and len(splits) == 400


def test_split_is_stable_and_depends_on_the_seed():
    labels = [0, 1] * 50
    assert assign_splits(labels, content_groups(100), 0.2, 5) == assign_splits(labels, content_groups(100), 0.2, 5)
    assert assign_splits(labels, content_groups(100), 0.2, 5) != assign_splits(labels, content_groups(100), 0.2, 6)


def test_adding_one_image_moves_at_most_one_existing_image():
    labels = [0, 1] * 50
    before = assign_splits(labels, content_groups(100), 0.2, 3)
    after = assign_splits(labels + [1], content_groups(101), 0.2, 3)
    assert sum(a != b for a, b in zip(before, after[:100])) <= 1


def test_groups_never_straddle_the_split():
    groups = [f"id:{i // 3}" for i in range(90)]  # three images per patient
    labels = [(i // 3) % 2 for i in range(90)]
    splits = assign_splits(labels, groups, 0.2, 11)
    sides = {}
    for group, split in zip(groups, splits):
        sides.setdefault(group, set()).add(split)
    assert all(len(s) == 1 for s in sides.values())
    assert 15 <= splits.count("test") <= 21


def test_group_keys_use_pattern_and_fall_back_to_content():
    keys = group_keys(["NORMAL/person12_a.png", "NORMAL/IM-0001.png"], ["h1", "h2"], r"person(\d+)_")
    assert keys == ["id:12", "content:h2"]


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=5, max_value=40), min_size=2, max_size=2),
    fraction=st.floats(min_value=0.1, max_value=0.5),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_property_splits_are_disjoint_stratified_and_stable(counts, fraction, seed):
    labels = [label for label, count in enumerate(counts) for _ in range(count)]
    groups = content_groups(len(labels))
    splits = assign_splits(labels, groups, fraction, seed)
    assert splits == assign_splits(labels, groups, fraction, seed)
    for label, count in enumerate(counts):
        test = sum(1 for lab, s in zip(labels, splits) if lab == label and s == "test")
        assert test == n_test_images(count, fraction)
        assert abs(test - fraction * count) <= 0.5 + 1e-9
        assert 0 < test < count


@pytest.mark.parametrize("fraction", [0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.95])
def test_the_folder_minimum_is_the_smallest_class_the_split_divides_as_asked(fraction):
    needed = min_images_per_class(fraction)
    for n in range(needed, needed + 200):
        test = n_test_images(n, fraction)
        assert 1 <= test <= n - 1 and abs(test - fraction * n) <= 0.5 + 1e-9
    if needed > 2:
        assert abs(n_test_images(needed - 1, fraction) - fraction * (needed - 1)) > 0.5


def test_duplicates_join_the_group_of_their_copy():
    groups = ["id:1", "id:2", "id:3", "content:x"]
    contents = ["a", "b", "a", "b"]  # id:1 and id:3 share an image, id:2 and the loose image too
    assert merge_duplicate_groups(groups, contents) == ["id:1", "content:x", "id:1", "content:x"]


def test_validation_slice_is_stratified_by_group_and_apart_from_the_test_order():
    labels = [i % 2 for i in range(200)]
    groups = [f"p{i // 4}:{i % 2}" for i in range(200)]  # two images of one class per patient
    held = validation_slice(labels, groups, 0.1, seed=7)
    for label in (0, 1):
        assert sum(h for h, y in zip(held, labels) if y == label) == pytest.approx(10, abs=2)
    by_group = {}
    for h, g in zip(held, groups):
        by_group.setdefault(g, set()).add(h)
    assert all(len(sides) == 1 for sides in by_group.values())
    assert held == validation_slice(labels, groups, 0.1, seed=7)
    assert held != [s == "test" for s in assign_splits(labels, groups, 0.1, 7)]
    assert validation_slice(labels, groups, 0, seed=7) == [False] * 200


def test_parts_of_a_train_split_are_nested_stratified_and_whole_groups():
    labels = [i % 2 for i in range(400)]
    groups = [f"p{i // 2}" if i % 2 == 0 else f"q{i // 2}" for i in range(400)]
    kept = {pct: subset_of_train(labels, groups, pct, seed=3) for pct in (25, 50, 100)}
    assert all(kept[100])
    for pct in (25, 50):
        for label in (0, 1):
            assert sum(k for k, y in zip(kept[pct], labels) if y == label) == 200 * pct // 100
    assert all(b for a, b in zip(kept[25], kept[50]) if a)  # 25% inside 50%
