"""Tests of synthcxr.fidelity_measures, synthcxr.memorisation and synthcxr.fidelity_files on tiny images
(seconds); the evaluate_fidelity rule runs in test_generated.py."""

import numpy as np
import pytest
import torch
from helpers import fidelity_settings, phantoms

from synthcxr import fidelity_files, memorisation
from synthcxr import fidelity_measures as measures
from synthcxr.manifest import MANIFEST_COLUMNS, write_manifest

TINY = fidelity_settings(
    widths=[4, 8, 8],
    two_sample_epochs=4,
    two_sample_batch_size=8,
    seed=1,
    n_boot=100,
    kid_subsets=10,
    kid_subset_size=20,
    msssim_pairs=20,
    diversity_max_images=30,
    pca_components=8,
)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


# ---------------------------------------------------------------------------
# MS-SSIM and diversity


def test_ms_ssim_of_an_image_with_itself_is_one():
    images, _ = phantoms(2, size=128)
    assert measures.msssim_scales(128) == 4 and measures.msssim_scales(32) == 2
    np.testing.assert_allclose(measures.ms_ssim(images, images), 1.0, atol=1e-12)
    assert measures.ms_ssim(images[0], images[0]) == pytest.approx(1.0, abs=1e-12)
    flat = np.full((128, 128), 77, np.uint8)
    assert measures.ms_ssim(flat, flat) == pytest.approx(1.0, abs=1e-12)


def test_ms_ssim_orders_similarity():
    images, _ = phantoms(2, size=128)
    rng = np.random.default_rng(0)
    noisy = np.clip(images[0] + rng.normal(0, 10, images[0].shape), 0, 255).astype(np.uint8)
    noise = rng.integers(0, 256, images[0].shape, dtype=np.uint8)
    close, other, far = (
        measures.ms_ssim(images[0], noisy),
        measures.ms_ssim(images[0], images[1]),
        measures.ms_ssim(images[0], noise),
    )
    assert 1.0 > close > far >= 0.0 and other > far
    assert measures.ms_ssim(images[1], images[0]) == pytest.approx(other, abs=1e-12)  # symmetric


def test_diversity_of_copies_and_varied_images():
    images, _ = phantoms(6)
    copies = np.repeat(images[:1], 10, axis=0)
    assert measures.mean_pairwise_l2(copies) == pytest.approx(0.0, abs=1e-9)
    assert measures.mean_ms_ssim(copies, n_pairs=10) == pytest.approx(1.0, abs=1e-9)
    assert measures.mean_pairwise_l2(images) > 0.5
    assert measures.mean_ms_ssim(images, n_pairs=30) < 0.999
    assert measures.mean_pairwise_l2(images[:1]) is None and measures.mean_ms_ssim(images[:1]) is None


# ---------------------------------------------------------------------------
# Frechet distance and KID


def test_frechet_and_kid_separate_distributions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 8))
    y = rng.normal(size=(400, 8))
    shifted = rng.normal(size=(400, 8)) + 1.0
    assert measures.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    same, different = measures.frechet_distance(x, y), measures.frechet_distance(x, shifted)
    assert same < 0.3 and different > 7.0  # |shift|^2 = 8
    kid_same, std_same, m = measures.kernel_inception_distance(x, y, n_subsets=20, subset_size=100)
    kid_diff, _, _ = measures.kernel_inception_distance(x, shifted, n_subsets=20, subset_size=100)
    assert m == 100 and abs(kid_same) < 0.05 and std_same > 0 and kid_diff > 10 * max(abs(kid_same), 0.01)
    # Whole identical sets: every subset is the same, and the unbiased estimate is slightly negative
    # (the cross term keeps the k(x, x) diagonal that the within terms leave out).
    kid_self, std_self, _ = measures.kernel_inception_distance(x[:50], x[:50], n_subsets=5, subset_size=100)
    assert std_self < 1e-12 and -1.0 < kid_self < 0.0


def test_feature_space_and_frechet_on_images():
    images, _ = phantoms(20)
    half_a, half_b = images[::2], images[1::2]
    space = measures.FeatureSpace(measures.pixel_features(half_a), n_components=8)
    a, b = space.transform(measures.pixel_features(half_a)), space.transform(measures.pixel_features(half_b))
    inverted = space.transform(measures.pixel_features(255 - half_b))
    assert a.shape == (20, 8) and np.mean(np.var(a, axis=0, ddof=1)) == pytest.approx(1.0)
    assert measures.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert measures.frechet_distance(a, b) < measures.frechet_distance(a, inverted) / 5


def test_the_settings_are_given_whole_with_the_config_schemas_defaults():
    # One home for each default: the schema. Every setting is a key of its fidelity section or one the rule
    # takes from training and statistics (tests/helpers.py, as workflow/rules/fidelity.smk).
    assert set(fidelity_settings()) == set(measures.SETTINGS)
    assert measures.resolve_settings(TINY) == TINY
    with pytest.raises(ValueError, match=r"\['kid_subsets'\] not given"):
        measures.resolve_settings({k: v for k, v in TINY.items() if k != "kid_subsets"})
    with pytest.raises(ValueError, match=r"unknown fidelity settings \['kid_subset'\]"):
        measures.resolve_settings({**TINY, "kid_subset": 3})


# ---------------------------------------------------------------------------
# Two-sample test


def test_two_sample_test_same_and_different_sets():
    images, _ = phantoms(100)
    order = np.random.default_rng(0).permutation(len(images))
    set_a, set_b = images[order[:100]], images[order[100:]]
    # 50 + 50 held-out images: the AUROC of indistinguishable sets has a standard error of about 0.06
    same = measures.two_sample_test(set_a, set_b, TINY, "cpu", log=lambda *a: None)
    assert 0.3 <= same["auroc"] <= 0.7
    low, high = same["auroc_ci"]
    assert low <= same["auroc"] <= high and low < 0.5 < high
    assert same["n_train"] == {"real": 50, "synthetic": 50} and same["n_test"] == {"real": 50, "synthetic": 50}
    different = measures.two_sample_test(set_a, 255 - set_b, TINY, "cpu", log=lambda *a: None)
    assert different["auroc"] > 0.9
    # statistics.alpha sets the coverage: an 80% interval from the same resamples lies inside the 95% one
    narrower = measures.two_sample_test(set_a, set_b, {**TINY, "alpha": 0.2}, "cpu", log=lambda *a: None)
    assert narrower["auroc"] == same["auroc"] and low < narrower["auroc_ci"][0] <= narrower["auroc_ci"][1] < high


# ---------------------------------------------------------------------------
# Memorisation


def test_memorization_flags_planted_copies_only():
    real, _ = phantoms(30, seed=0)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(real))
    train, test = real[order[:40]], real[order[40:]]
    fresh, _ = phantoms(20, seed=1)  # 40 new images from the same distribution
    planted = train[:5]
    synthetic = np.concatenate([planted, fresh])

    summary, details = memorisation.memorization(synthetic, train, test)
    assert summary["n_exact_copies"] == 5 and summary["n_synthetic"] == 45
    # fresh images fall below the 5th percentile of real test-to-train distances about 5 % of the time
    assert 5 / 45 <= summary["share_below_threshold"] <= (5 + 0.2 * 40) / 45
    assert np.allclose(details["d_train"][:5], 0.0, atol=1e-5) and (details["ratio"][:5] < 0.01).all()
    assert (details["train_index"][:5] == np.arange(5)).all()

    assert (details["nearer_train"][:5] == 1.0).all()  # a copy's nearest real image is its original

    clean, _ = memorisation.memorization(fresh, train, test)
    assert clean["n_exact_copies"] == 0 and clean["share_below_threshold"] <= 0.2
    # fresh images: the nearest real image is a train image about 40 / 60 of the time
    assert clean["nearest_is_train_expected"] == pytest.approx(40 / 60)
    assert 0.4 <= clean["nearest_is_train_share"] <= 0.9 and clean["nearest_is_train_p_value"] > 0.01
    copies, _ = memorisation.memorization(train[:30], train, test)
    assert copies["nearest_is_train_share"] == 1.0 and copies["nearest_is_train_p_value"] < 1e-4
    per_class = memorisation.memorization_summary(details, np.r_[np.ones(5, bool), np.zeros(40, bool)])
    assert per_class["share_below_threshold"] == 1.0


def test_load_sets_reads_all_synthetic_images_and_the_reference_splits(tmp_path):
    synthetic, synthetic_labels = phantoms(3, seed=4)
    real, real_labels = phantoms(5, seed=5)
    real_split = ["test" if i % 5 == 0 else "train" for i in range(len(real))]

    def write_cache(name, images, labels, splits):
        np.save(tmp_path / f"{name}.npy", images)
        rows = [
            dict.fromkeys(MANIFEST_COLUMNS, "") | {"path": f"{name}/{i}.png", "label": int(label), "split": split}
            for i, (label, split) in enumerate(zip(labels, splits))
        ]
        write_manifest(rows, tmp_path / f"{name}.csv")
        return tmp_path / f"{name}.npy", tmp_path / f"{name}.csv"

    synthetic_paths = write_cache("synthetic", synthetic, synthetic_labels, ["train", "test"] * 3)
    real_paths = write_cache("real", real, real_labels, real_split)
    sets = fidelity_files.load_sets(*synthetic_paths, *real_paths)
    is_test = np.array(real_split) == "test"
    expected = (synthetic, synthetic_labels, real[~is_test], real_labels[~is_test], real[is_test], real_labels[is_test])
    for loaded, wanted in zip(sets, expected, strict=True):
        np.testing.assert_array_equal(loaded, wanted)
    assert all(labels.dtype == np.int64 for labels in sets[1::2])
    np.save(synthetic_paths[0], synthetic[:-1])
    with pytest.raises(ValueError, match="has 5 images but .* lists 6"):
        fidelity_files.load_sets(*synthetic_paths, *real_paths)
