"""What keeps large domains within bounds: preparation memory, fidelity subsampling, the job-time split.

The scale benchmark (tools/benchmark/scale.py, `make bench-scale`) times these at 50,000 images; these
tests check the behaviour at tiny sizes, without timings.
"""

import tracemalloc

import numpy as np
import torch
from helpers import fidelity_settings, make_domain, phantoms

from synthcxr import fidelity, memorisation
from synthcxr.model import StudyCNN
from synthcxr.prepare import prepare_domain


def test_preparing_a_domain_holds_its_cache_once_not_twice(tmp_path):
    folder = make_domain(tmp_path / "d", per_class=200, size=16)
    tracemalloc.start()  # numpy reports its buffers to tracemalloc
    try:
        images, rows, _ = prepare_domain("Big", folder, ["NORMAL", "PNEUMONIA"], 128, 0.2, 1, threads=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert images.shape == (400, 128, 128) and len(rows) == 400
    # A list of arrays stacked at the end, or decoding every image ahead of the reader, peaks at twice
    # the cache. (Beside it: 1 MiB read buffers per thread while hashing files, a fixed cost.)
    assert peak < 1.4 * images.nbytes


def test_a_bad_image_skipped_leaves_no_empty_row_in_the_cache(tmp_path):
    folder = make_domain(tmp_path / "d", per_class=10, size=16)
    (folder / "NORMAL" / "normal_000.png").write_bytes(b"not an image")
    images, rows, report = prepare_domain("D", folder, ["NORMAL", "PNEUMONIA"], 16, 0.2, 1, on_bad_image="skip")
    assert len(images) == len(rows) == 19 and report["bad_images"] == 1
    assert images.flags["C_CONTIGUOUS"]


TINY = fidelity_settings(
    widths=[4, 8, 8],
    two_sample_epochs=1,
    two_sample_batch_size=8,
    two_sample_per_class=False,
    n_boot=10,
    kid_subsets=5,
    kid_subset_size=8,
    msssim_pairs=8,
    diversity_max_images=10,
    pca_components=4,
)


def fidelity_of(synthetic, labels, max_images):
    torch.set_num_threads(1)
    real_train, train_labels = phantoms(10, seed=1)
    real_test, test_labels = phantoms(4, seed=2)
    torch.manual_seed(0)
    feature_model = StudyCNN(widths=(4, 8, 8), image_size=32).eval()
    settings = {**TINY, "max_synthetic_images": max_images}
    args = (synthetic, labels, real_train, train_labels, real_test, test_labels, feature_model, settings)
    metrics, details = fidelity.evaluate_fidelity(*args, log=lambda *_: None)
    return metrics, details, real_train


def test_a_large_synthetic_set_is_measured_on_a_subset_and_says_so():
    synthetic, labels = phantoms(15, seed=3)
    metrics, details, real_train = fidelity_of(synthetic, labels, max_images=12)
    assert metrics["subsample"] == {
        "synthetic_images": 30,
        "synthetic_used": 12,
        "max_synthetic_images": 12,
        "subsampled": True,
    }
    assert metrics["counts"]["synthetic"] == {"NORMAL": 15, "PNEUMONIA": 15}
    assert sum(metrics["counts"]["synthetic_used"].values()) == 12
    assert metrics["groups"]["overall"]["memorization"]["n_synthetic"] == 12
    assert len(details["d_train"]) == 12 and len(set(details["synthetic_index"])) == 12
    # The closest pairs name images of the full set, and show them.
    pairs = memorisation.closest_pairs(synthetic, labels, real_train, details, k=3)
    for col in range(3):
        index = pairs["synthetic_index"][col]
        assert index in details["synthetic_index"]
        np.testing.assert_array_equal(pairs["synthetic"][col], synthetic[index])
        assert pairs["synthetic_label"][col] == labels[index]


def test_a_set_within_the_limit_is_measured_whole():
    synthetic, labels = phantoms(5, seed=3)
    metrics, details, _ = fidelity_of(synthetic, labels, max_images=10)
    assert metrics["subsample"]["subsampled"] is False and metrics["subsample"]["synthetic_used"] == 10
    np.testing.assert_array_equal(details["synthetic_index"], np.arange(10))
    assert metrics["counts"]["synthetic_used"] == metrics["counts"]["synthetic"]


def test_the_subset_is_seeded_and_sorted():
    first, second = fidelity.synthetic_subset(100, 10, seed=0), fidelity.synthetic_subset(100, 10, seed=0)
    np.testing.assert_array_equal(first, second)
    assert np.all(np.diff(first) > 0) and not np.array_equal(first, fidelity.synthetic_subset(100, 10, seed=1))
    np.testing.assert_array_equal(fidelity.synthetic_subset(5, 10, seed=0), np.arange(5))


def test_the_pixel_hash_is_unchanged_by_hashing_in_place(tmp_path):
    """Manifests stay byte-identical: the hash is still sha256 of the shape text and the pixel bytes."""
    import hashlib

    from PIL import Image

    from synthcxr.images import load_image

    pixels = np.random.default_rng(0).integers(0, 256, (40, 30), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    _, pixel_hash, _ = load_image(tmp_path / "a.png", 16)
    assert pixel_hash == hashlib.sha256(f"{pixels.shape}".encode() + pixels.tobytes()).hexdigest()
