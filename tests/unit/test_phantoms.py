"""Tests of the non-medical demo phantom renderer."""

import hashlib

import numpy as np
import pytest
from PIL import Image

from synthcxr.phantoms import (
    SHIFTS,
    apply_shift,
    box_blur,
    high_frequency_energy,
    image_rng,
    render_phantom,
    write_demo_domain,
)


def rng(*key):
    return np.random.default_rng(list(key))


def lung_boxes_mean(image):
    """Mean intensity of two fixed boxes that lie inside both lungs for every phantom."""
    n = image.shape[0]
    rows = slice(int(0.35 * n), int(0.65 * n))
    left = image[rows, int(0.2 * n) : int(0.38 * n)]
    right = image[rows, int(0.62 * n) : int(0.8 * n)]
    return (left.mean() + right.mean()) / 2.0


@pytest.mark.parametrize("label", [0, 1])
@pytest.mark.parametrize("size", [64, 128])
def test_render_dtype_and_shape(label, size):
    image = render_phantom(rng(0, label), label, size)
    assert image.dtype == np.uint8
    assert image.shape == (size, size)
    assert image.min() < 40 and image.max() > 150  # dark background, bright bone/heart


def test_render_is_deterministic_per_seed():
    a = render_phantom(rng(1, 2, 3), 1)
    b = render_phantom(rng(1, 2, 3), 1)
    c = render_phantom(rng(1, 2, 4), 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_images_vary_between_seeds():
    images = np.stack([render_phantom(rng(5, i), 0) for i in range(10)]).astype(float)
    # Position, scale and exposure differ, so the per-pixel spread is far above noise.
    assert images.std(axis=0).mean() > 8.0


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError):
        render_phantom(rng(0), 2)
    with pytest.raises(ValueError):
        apply_shift(np.zeros((8, 8), np.uint8), "diffusion", rng(0))
    with pytest.raises(ValueError):
        apply_shift(np.zeros((8, 8), np.float32), "gan", rng(0))


def test_background_is_dark_and_lungs_darker_than_mediastinum():
    image = render_phantom(rng(3), 0).astype(float)
    n = image.shape[0]
    corner = image[:8, :8].mean()
    lungs = lung_boxes_mean(image)
    mediastinum = image[int(0.3 * n) : int(0.5 * n), n // 2 - 3 : n // 2 + 3].mean()
    assert corner < lungs < mediastinum


def test_pneumonia_lungs_are_brighter_on_average():
    normal = [lung_boxes_mean(render_phantom(rng(11, 0, i), 0)) for i in range(50)]
    pneumonia = [lung_boxes_mean(render_phantom(rng(11, 1, i), 1)) for i in range(50)]
    difference = np.mean(pneumonia) - np.mean(normal)
    assert difference > 3.0
    # ...but not trivially: the classes overlap in this crude feature.
    assert min(pneumonia) < max(normal)


def test_box_blur_preserves_constant_and_mean():
    flat = np.full((16, 16), 0.3)
    np.testing.assert_allclose(box_blur(flat, 2, passes=3), flat)
    noise = np.random.default_rng(0).random((32, 32))
    blurred = box_blur(noise, 1)
    assert blurred.shape == noise.shape
    assert blurred.std() < noise.std()


def test_shift_none_is_identity():
    image = render_phantom(rng(4), 1)
    shifted = apply_shift(image, "none", rng(9))
    np.testing.assert_array_equal(image, shifted)
    assert shifted is not image


@pytest.mark.parametrize("shift", ["gan", "vae"])
def test_shifts_are_deterministic_uint8(shift):
    image = render_phantom(rng(4), 0)
    a = apply_shift(image, shift, rng(9))
    b = apply_shift(image, shift, rng(9))
    assert a.dtype == np.uint8 and a.shape == image.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, image)


def test_vae_removes_and_gan_adds_high_frequencies():
    for i in range(10):
        image = render_phantom(rng(6, i), i % 2)
        base = high_frequency_energy(image)
        assert high_frequency_energy(apply_shift(image, "vae", rng(i))) < 0.5 * base
        assert high_frequency_energy(apply_shift(image, "gan", rng(i))) > 1.5 * base


def test_vae_reduces_contrast():
    image = render_phantom(rng(8), 0)
    assert apply_shift(image, "vae", rng(1)).std() < image.std()


def test_gan_adds_periodic_grid():
    # Transposed-convolution artefacts show up at the Nyquist / half-Nyquist
    # frequencies of the 2-D spectrum.
    def grid_power(img):
        spectrum = np.abs(np.fft.fft2(img.astype(float) - img.mean()))
        n = img.shape[0]
        return spectrum[n // 2, n // 2] + spectrum[n // 4, n // 4] + spectrum[n // 4, 3 * n // 4]

    image = render_phantom(rng(2), 0)
    assert grid_power(apply_shift(image, "gan", rng(3))) > 5 * grid_power(image)


def file_digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.png")}


def test_write_demo_domain_layout_and_counts(tmp_path):
    out = tmp_path / "domain"
    count = write_demo_domain(out, per_class=3, shift="gan", seed=7)
    assert count == 6
    assert sorted(file_digests(out)) == [
        "NORMAL/normal_0000.png",
        "NORMAL/normal_0001.png",
        "NORMAL/normal_0002.png",
        "PNEUMONIA/pneumonia_0000.png",
        "PNEUMONIA/pneumonia_0001.png",
        "PNEUMONIA/pneumonia_0002.png",
    ]
    with Image.open(out / "NORMAL" / "normal_0000.png") as im:
        assert im.mode == "L" and im.size == (128, 128)
        pixels = np.asarray(im)
    expected_rng = image_rng(7, "gan", 0, 0)
    expected = apply_shift(render_phantom(expected_rng, 0), "gan", expected_rng)
    np.testing.assert_array_equal(pixels, expected)


def test_write_demo_domain_custom_classes_and_size(tmp_path):
    count = write_demo_domain(tmp_path, per_class=1, shift="vae", seed=1, class_names=("Healthy", "Sick"), size=64)
    assert count == 2
    with Image.open(tmp_path / "Sick" / "sick_0000.png") as im:
        assert im.size == (64, 64)
    assert (tmp_path / "Healthy" / "healthy_0000.png").is_file()


def test_write_demo_domain_is_byte_identical_and_prefix_stable(tmp_path):
    write_demo_domain(tmp_path / "a", per_class=2, shift="none", seed=3)
    write_demo_domain(tmp_path / "b", per_class=2, shift="none", seed=3)
    write_demo_domain(tmp_path / "c", per_class=4, shift="none", seed=3)
    a, b, c = (file_digests(tmp_path / name) for name in "abc")
    assert a == b
    assert {k: c[k] for k in a} == a
    assert len(c) == 8


def test_domains_differ_by_seed_and_shift(tmp_path):
    write_demo_domain(tmp_path / "s3", per_class=1, shift="none", seed=3)
    write_demo_domain(tmp_path / "s4", per_class=1, shift="none", seed=4)
    assert file_digests(tmp_path / "s3") != file_digests(tmp_path / "s4")
    # Same seed, different shift: the anatomy itself must differ, not only
    # the artefacts, so domains built from one demo seed share no images.
    a = render_phantom(image_rng(3, "none", 0, 0), 0)
    b = render_phantom(image_rng(3, "gan", 0, 0), 0)
    assert not np.array_equal(a, b)


def test_all_shifts_known():
    assert SHIFTS == ("none", "gan", "vae")
