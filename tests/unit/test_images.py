import numpy as np
import pytest
from PIL import Image

from synthcxr.images import BadImageError, load_image


def gradient(width=300, height=200):
    return np.tile(np.linspace(0, 1, width), (height, 1))


@pytest.mark.parametrize(
    "mode, suffix",
    [("L", ".png"), ("RGB", ".jpg"), ("RGBA", ".png"), ("P", ".png"), ("1", ".bmp"), ("L", ".tif"), ("CMYK", ".jpg")],
)
def test_any_mode_and_size_becomes_128_square_uint8(tmp_path, mode, suffix):
    path = tmp_path / f"image{suffix}"
    Image.fromarray((gradient() * 255).astype(np.uint8)).convert(mode).save(path)
    pixels, pixel_hash, info = load_image(path, 128)
    assert pixels.shape == (128, 128) and pixels.dtype == np.uint8
    assert info["width"] == 300 and info["height"] == 200
    assert len(pixel_hash) == 64
    if mode != "1":  # a left-to-right ramp stays a ramp
        assert pixels[:, -8:].mean() > pixels[:, :8].mean() + 150


def test_16bit_is_scaled_by_its_real_range_not_clipped(tmp_path):
    # A 12-bit radiograph stored in 16 bits: values 0..4095.
    values = (gradient() * 4095).astype(np.uint16)
    path = tmp_path / "twelve_bit.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    pixels, _, _ = load_image(path, 128)
    assert pixels.min() <= 2 and pixels.max() >= 253
    assert 100 < pixels.mean() < 155  # not saturated to white as clipping at 255 would give


def test_cmyk_jpeg_converts_to_plausible_gray(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("RGB", (64, 64), (200, 200, 200)).convert("CMYK").save(path)
    pixels, _, info = load_image(path, 128)
    assert info["mode"] == "CMYK"
    assert abs(int(pixels.mean()) - 200) < 10


def test_very_large_image_is_reduced(tmp_path):
    path = tmp_path / "large.png"
    Image.new("L", (10_000, 10_000), 77).save(path)
    pixels, _, info = load_image(path, 128)
    assert info["width"] == 10_000 and pixels.shape == (128, 128) and np.all(pixels == 77)


def test_identical_pixels_give_identical_hash_whatever_the_format(tmp_path):
    array = (gradient(64, 64) * 255).astype(np.uint8)
    Image.fromarray(array).save(tmp_path / "a.png")
    Image.fromarray(array).save(tmp_path / "b.bmp")
    assert load_image(tmp_path / "a.png", 32)[1] == load_image(tmp_path / "b.bmp", 32)[1]


def test_zero_byte_corrupt_and_truncated_files_raise_bad_image_error(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    Image.fromarray((gradient() * 255).astype(np.uint8)).save(tmp_path / "full.jpg", quality=95)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 2])
    for name in ("empty.png", "corrupt.png", "truncated.jpg"):
        with pytest.raises(BadImageError, match=name):
            load_image(tmp_path / name, 128)


def test_the_exif_orientation_is_applied(tmp_path):
    # Stored sideways: the left half white. Orientation 6 says "rotate 90 degrees clockwise to show":
    # upright, the white half is on top. Was: cached as stored (top and bottom both half white).
    stored = np.zeros((40, 60), np.uint8)
    stored[:, :30] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "sideways.jpg", exif=exif)
    pixels, _, info = load_image(tmp_path / "sideways.jpg", 32)
    assert pixels[:14].mean() > 240 and pixels[18:].mean() < 15
    assert (info["width"], info["height"]) == (40, 60)


# The EXIF standard's orientations: the transposition that shows the stored pixels upright (the table
# synthcxr.images held before it left this to Pillow's ImageOps.exif_transpose).
UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@pytest.mark.parametrize("orientation", sorted(UPRIGHT))
@pytest.mark.parametrize("mode", ["L", "RGB", "I;16"])  # decoded as stored, converted, scaled by its range
def test_every_exif_orientation_gives_the_pixels_of_its_transposition(tmp_path, orientation, mode):
    stored = np.random.default_rng(orientation).integers(0, 256, (20, 30)).astype(np.uint8)
    stored[0, :2] = 0, 255  # the full range: scaling a 16-bit image gives these pixels back
    image = Image.fromarray(stored).convert("RGB") if mode == "RGB" else Image.fromarray(stored)
    if mode == "I;16":
        image = Image.fromarray(stored.astype(np.uint16) * 16)  # 12-bit data in 16 bits, scaled back to 0..255
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(tmp_path / "film.png", exif=exif)
    pixels, _, info = load_image(tmp_path / "film.png", 16)
    upright = (
        Image.fromarray(stored)
        if UPRIGHT[orientation] is None
        else Image.fromarray(stored).transpose(UPRIGHT[orientation])
    )
    expected = np.asarray(upright.resize((16, 16), Image.Resampling.BILINEAR, reducing_gap=3.0))
    np.testing.assert_array_equal(pixels, expected)
    assert (info["width"], info["height"]) == upright.size


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("compression", [None, "zlib"])
def test_16bit_colour_tiffs_are_scaled_by_their_real_range(tmp_path, channels, compression):
    # 12-bit data in a 16-bit RGB(A) TIFF. Was: Pillow kept the high byte (0..15): almost black.
    tifffile = pytest.importorskip("tifffile", reason="tifffile (requirements.txt) writes the test files")
    ramp = (gradient() * 4095).astype(np.uint16)
    planes = [ramp, ramp, ramp] + ([np.full_like(ramp, 65535)] if channels == 4 else [])
    path = tmp_path / "twelve_bit.tif"
    tifffile.imwrite(path, np.stack(planes, axis=-1), photometric="rgb", compression=compression)
    pixels, _, info = load_image(path, 128)
    assert info["mode"] == ("RGB;16" if channels == 3 else "RGBA;16")
    assert pixels.max() >= 250 and pixels.min() <= 5
    assert pixels[:, -8:].mean() > pixels[:, :8].mean() + 200
