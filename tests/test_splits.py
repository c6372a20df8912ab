from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from synthcxr.splits import assign_splits, group_keys, merge_duplicate_groups, n_test_images


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


def test_duplicates_join_the_group_of_their_copy():
    groups = ["id:1", "id:2", "id:3", "content:x"]
    contents = ["a", "b", "a", "b"]  # id:1 and id:3 share an image, id:2 and the loose image too
    assert merge_duplicate_groups(groups, contents) == ["id:1", "content:x", "id:1", "content:x"]
