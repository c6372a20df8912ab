"""DICOM (.dcm) images: decoded with pydicom to the pixels a viewer shows, or refused as bad images.

Every file is written here with pydicom. The expected pixels come from hand-built stored values whose
displayed values are known exactly (the DICOM standard's formulas worked out by hand below), not from
the code under test.
"""

import io
import sys

import numpy as np
import pytest
from helpers import write_image
from kaggle_trees import CLASSES
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import get_decoder
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

from synthcxr.folders import DomainError, list_domain
from synthcxr.images import BadImageError, load_image, unreadable_images
from synthcxr.prepare import prepare_domain

DIGITAL_X_RAY = "1.2.840.10008.5.1.4.1.1.1.1"  # SOP class: Digital X-Ray Image Storage - For Presentation
# 256 distinct display values k = 0..255, one per pixel of a 16 x 16 image.
RAMP = np.arange(256).reshape(16, 16)


def dicom(stored, photometric="MONOCHROME2", bits_stored=None, **tags):
    """A Part 10 dataset holding ``stored`` (uint8 or uint16) uncompressed, with extra ``tags``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = DIGITAL_X_RAY, generate_uid()
    ds.set_pixel_data(stored, photometric, bits_stored or stored.dtype.itemsize * 8)
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    return ds


def save(ds, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def shown(path, size=16):
    """The decoded pixels and mode of a square image of ``size`` (at its own size it is not resampled)."""
    pixels, _, info = load_image(path, size)
    return pixels, info["mode"]


def twelve_bit_windowed(photometric):
    """12-bit stored values s, Rescale Slope 2 and Intercept -1000 (x = 2s - 1000), and a LINEAR window
    (center 1010.5, width 1021). The standard (PS3.3 C.11.2.1.2.1): x <= 1010.5 - 0.5 - 1020/2 = 500 is
    black, x > 1520 white, and between ((x - 1010) / 1020 + 0.5) * 255 = (x - 500) / 4. So s = 750 + 2k
    shows k."""
    stored = (750 + 2 * RAMP).astype(np.uint16)
    return dicom(
        stored, photometric, 12, RescaleSlope=2, RescaleIntercept=-1000, WindowCenter="1010.5", WindowWidth=1021
    )


@pytest.mark.parametrize("photometric, expected", [("MONOCHROME2", RAMP), ("MONOCHROME1", 255 - RAMP)])
def test_rescale_and_window_give_the_pixels_a_viewer_shows(tmp_path, photometric, expected):
    # MONOCHROME1: low values are white, so the display is inverted.
    pixels, mode = shown(save(twelve_bit_windowed(photometric), tmp_path / "windowed.dcm"))
    assert mode == f"DICOM {photometric} 12-bit"
    np.testing.assert_array_equal(pixels, expected)


def test_values_outside_the_window_are_black_below_and_white_above(tmp_path):
    ds = twelve_bit_windowed("MONOCHROME2")
    # x = 2s - 1000: s = 0 and 749 are at or below 500, s = 1261 and 4095 above 1520.
    ds.set_pixel_data(np.array([[0, 749], [1261, 4095]], np.uint16), "MONOCHROME2", 12)
    pixels, _ = shown(save(ds, tmp_path / "clipped.dcm"), 2)
    np.testing.assert_array_equal(pixels, [[0, 0], [255, 255]])


def test_data_inside_the_window_keeps_its_grays_not_stretched_to_black_and_white(tmp_path):
    ds = twelve_bit_windowed("MONOCHROME2")
    middle = 100 + np.arange(16).reshape(4, 4)  # shows k = 100..115 only
    ds.set_pixel_data((750 + 2 * middle).astype(np.uint16), "MONOCHROME2", 12)
    pixels, _ = shown(save(ds, tmp_path / "middle.dcm"), 4)
    np.testing.assert_array_equal(pixels, middle)


def test_an_8_bit_window_with_linear_exact(tmp_path):
    # LINEAR_EXACT (PS3.3 C.11.2.1.3.2), center 137.5, width 255: ((x - 137.5) / 255 + 0.5) * 255 = x - 10,
    # black at or below 10.
    stored = RAMP.astype(np.uint8)
    ds = dicom(stored, WindowCenter="137.5", WindowWidth=255, VOILUTFunction="LINEAR_EXACT")
    pixels, mode = shown(save(ds, tmp_path / "exact.dcm"))
    assert mode == "DICOM MONOCHROME2 8-bit"
    np.testing.assert_array_equal(pixels, np.clip(RAMP - 10, 0, 255))


def test_a_sigmoid_window_follows_the_standard_formula(tmp_path):
    # SIGMOID (PS3.3 C.11.2.1.3.1): y = 255 / (1 + exp(-4 (x - center) / width)), over the output range 0..255.
    ds = dicom(RAMP.astype(np.uint8), WindowCenter=128, WindowWidth=64, VOILUTFunction="SIGMOID")
    pixels, _ = shown(save(ds, tmp_path / "sigmoid.dcm"))
    np.testing.assert_array_equal(pixels, np.round(255 / (1 + np.exp(-4 * (RAMP - 128) / 64))))


def test_a_voi_lut_sequence_wins_over_the_window_and_spans_black_to_white(tmp_path):
    # Stored 0..3 through the LUT [0, 100, 300, 1020]: its range 0..1020 spans 0..255, so 0, 25, 75, 255.
    lut = Dataset()
    lut.add_new(0x00283002, "US", [4, 0, 16])  # LUT Descriptor: 4 entries, first maps 0, 16 bits
    lut.add_new(0x00283006, "US", [0, 100, 300, 1020])  # LUT Data
    stored = np.array([[0, 1], [2, 3]], np.uint16)
    ds = dicom(stored, bits_stored=12, VOILUTSequence=[lut], WindowCenter=2, WindowWidth=2)
    pixels, _ = shown(save(ds, tmp_path / "lut.dcm"), 2)
    np.testing.assert_array_equal(pixels, [[0, 25], [75, 255]])


@pytest.mark.parametrize("photometric, expected", [("MONOCHROME2", RAMP), ("MONOCHROME1", 255 - RAMP)])
def test_16_bit_without_a_window_spans_its_actual_value_range(tmp_path, photometric, expected):
    # As a 16-bit PNG: stored 100 + 16k spans 100..4180, and (s - 100) / 4080 * 255 = k.
    pixels, mode = shown(save(dicom((100 + 16 * RAMP).astype(np.uint16), photometric), tmp_path / "wide.dcm"))
    assert mode == f"DICOM {photometric} 16-bit"
    np.testing.assert_array_equal(pixels, expected)


@pytest.mark.parametrize("tags", [{}, {"RescaleSlope": 1, "RescaleIntercept": 0}], ids=["plain", "identity rescale"])
def test_8_bit_without_a_window_is_shown_as_stored_and_hashes_as_the_same_png(tmp_path, tags):
    stored = np.random.default_rng(3).integers(20, 200, (16, 16), dtype=np.uint8)
    path = save(dicom(stored, **tags), tmp_path / "plain.dcm")
    pixels, dicom_hash, _ = load_image(path, 16)
    np.testing.assert_array_equal(pixels, stored)  # not stretched to 0..255
    Image.fromarray(stored).save(tmp_path / "plain.png")
    assert dicom_hash == load_image(tmp_path / "plain.png", 16)[1]  # a duplicate across formats
    inverted, _ = shown(save(dicom(stored, "MONOCHROME1", **tags), tmp_path / "inverted.dcm"))
    np.testing.assert_array_equal(inverted, 255 - stored)


def test_empty_window_tags_are_no_window(tmp_path):
    stored = RAMP.astype(np.uint8)
    ds = dicom(stored)
    ds.add_new(0x00281050, "DS", "")  # Window Center, present but empty
    ds.add_new(0x00281051, "DS", "")  # Window Width
    pixels, _ = shown(save(ds, tmp_path / "empty_window.dcm"))
    np.testing.assert_array_equal(pixels, stored)


def test_colour_dicom_is_grayscale_as_the_same_colour_png(tmp_path):
    rgb = np.random.default_rng(4).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    pixels, dicom_hash, info = load_image(save(dicom(rgb, "RGB"), tmp_path / "colour.dcm"), 16)
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    assert info["mode"] == "DICOM RGB 8-bit" and dicom_hash == load_image(tmp_path / "colour.png", 16)[1]


def encapsulated(ds, syntax, frame):
    """``ds`` with one compressed ``frame`` (bytes) in ``syntax`` as its pixel data."""
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    return ds


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless], ids=["RLE", "JPEG 2000"])
def test_lossless_compressed_12_bit_data_is_decoded_without_extra_packages(tmp_path, syntax):
    # 12-bit stored 100 + 15k spans 100..3925: (s - 100) / 3825 * 255 = k.
    stored = (100 + 15 * RAMP).astype(np.uint16)
    ds = dicom(stored, bits_stored=12)
    if syntax == RLELossless:
        ds.compress(RLELossless)  # pydicom's own RLE encoder
    else:
        codestream = io.BytesIO()
        Image.fromarray(stored).save(codestream, format="JPEG2000", irreversible=False, no_jp2=True)
        encapsulated(ds, JPEG2000Lossless, codestream.getvalue())
    pixels, mode = shown(save(ds, tmp_path / "compressed.dcm"))
    assert mode == "DICOM MONOCHROME2 12-bit" and ds.file_meta.TransferSyntaxUID == syntax
    np.testing.assert_array_equal(pixels, RAMP)


def test_jpeg_baseline_is_decoded_through_pillow_as_rsna_ships_it(tmp_path):
    # RSNA Pneumonia's files: 8-bit MONOCHROME2 in JPEG Baseline. Expected: Pillow's own decoding of the JPEG.
    stored = (RAMP * 0.8 + 20).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, format="JPEG", quality=90)
    ds = encapsulated(dicom(stored, LossyImageCompression="01"), JPEGBaseline8Bit, buffer.getvalue())
    pixels, mode = shown(save(ds, tmp_path / "rsna.dcm"))
    assert mode == "DICOM MONOCHROME2 8-bit"
    np.testing.assert_array_equal(pixels, np.asarray(Image.open(buffer)))


def jpeg_ls_file(path):
    """A JPEG-LS Lossless file: pydicom decodes it only through pylibjpeg, gdcm or pyjpegls."""
    ds = encapsulated(dicom(RAMP.astype(np.uint8)), JPEGLSLossless, b"\xff\xd8\xff\xf7 not decoded here \xff\xd9")
    return save(ds, path)


def test_a_transfer_syntax_without_an_installed_decoder_is_a_bad_image_naming_it(tmp_path):
    path = jpeg_ls_file(tmp_path / "jpeg_ls.dcm")
    with pytest.raises(BadImageError, match=r"jpeg_ls\.dcm: DICOM transfer syntax JPEG-LS Lossless") as error:
        load_image(path, 16)
    if not get_decoder(JPEGLSLossless).is_available:
        assert "no decoder for it is installed" in str(error.value) and "pylibjpeg" in str(error.value)


def test_truncated_empty_and_non_dicom_files_are_bad_images_naming_the_file(tmp_path):
    data = save(twelve_bit_windowed("MONOCHROME2"), tmp_path / "full.dcm").read_bytes()
    files = {
        "pixels_cut.dcm": (data[: len(data) - 100], "Explicit VR Little Endian.*less than expected"),
        "header_cut.dcm": (data[:200], "without a transfer syntax"),
        "empty.dcm": (b"", "not a DICOM file"),
        "png_named_dcm.dcm": (write_image(tmp_path / "x.png", 1).read_bytes(), "not a DICOM file"),
    }
    for name, (content, reason) in files.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(BadImageError, match=f"{name}: .*{reason}"):
            load_image(tmp_path / name, 16)


def test_a_multi_frame_file_is_a_bad_image(tmp_path):
    ds = dicom(np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(BadImageError, match=r"frames\.dcm: .*2 frames"):
        load_image(save(ds, tmp_path / "frames.dcm"), 8)


def test_the_dry_run_check_skips_dicom_files_without_pydicom(tmp_path, monkeypatch):
    # A login node with snakemake and Pillow but no pydicom: prepare_domain checks the DICOM files later.
    jpeg_ls_file(tmp_path / "bad.dcm")
    (tmp_path / "bad.png").write_bytes(b"")
    assert len(unreadable_images(tmp_path, ["bad.dcm", "bad.png"], 16)) == 2
    monkeypatch.setitem(sys.modules, "pydicom", None)  # import pydicom raises ImportError
    assert [line.split(":")[0] for line in unreadable_images(tmp_path, ["bad.dcm", "bad.png"], 16)] == [
        str(tmp_path / "bad.png")
    ]


def dicom_domain(root):
    """Five DICOM images per class (MONOCHROME1 16-bit and MONOCHROME2 8-bit, one named .DCM), a PNG copy
    of one of them, and one JPEG-LS file: {relative path: the pixels a viewer shows}."""
    expected = {}
    for label, name in enumerate(CLASSES):
        for index in range(5):
            rng = np.random.default_rng((label, index))
            shows = rng.integers(0, 256, (16, 16)).astype(np.uint8)
            if index % 2:  # MONOCHROME1 12-bit data in 16 bits, spanning 0..4080: shows (4080 - s) / 16
                stored, photometric = (16 * (255 - shows.astype(np.uint16))), "MONOCHROME1"
                stored[0, 0], stored[0, 1], shows[0, 0], shows[0, 1] = 0, 4080, 255, 0
            else:
                stored, photometric = shows, "MONOCHROME2"
            rel = f"{name}/{name.lower()}_{index}.{'DCM' if index == 4 else 'dcm'}"
            save(dicom(stored, photometric), root / rel)
            expected[rel] = shows
    Image.fromarray(expected["NORMAL/normal_0.dcm"]).save(root / "NORMAL" / "copy_of_normal_0.png")
    expected["NORMAL/copy_of_normal_0.png"] = expected["NORMAL/normal_0.dcm"]
    jpeg_ls_file(root / "PNEUMONIA" / "jpeg_ls.dcm")
    return expected


def test_a_domain_of_dicom_files_is_listed_and_prepared_with_the_same_intake_rules(tmp_path):
    root = tmp_path / "RSNA"
    expected = dicom_domain(root)
    listing = list_domain("RSNA", root, CLASSES, "random")
    assert sorted(sum(listing.images.values(), [])) == sorted([*expected, "PNEUMONIA/jpeg_ls.dcm"])
    unreadable = r"(?s)domain 'RSNA': 1 unreadable image.*jpeg_ls\.dcm: DICOM transfer syntax JPEG-LS"
    with pytest.raises(DomainError, match=unreadable):
        prepare_domain("RSNA", root, CLASSES, image_size=16, test_fraction=0.2, split_seed=1)

    images, rows, report = prepare_domain(
        "RSNA", root, CLASSES, image_size=16, test_fraction=0.2, split_seed=1, on_bad_image="skip"
    )
    for row, pixels in zip(rows, images):
        np.testing.assert_array_equal(pixels, expected[row["path"]], err_msg=row["path"])
    assert sorted(row["path"] for row in rows) == sorted(expected)
    assert report["image_modes"] == {"DICOM MONOCHROME1 16-bit": 4, "DICOM MONOCHROME2 8-bit": 6, "L": 1}
    assert report["bad_images"] == 1 and "JPEG-LS Lossless" in report["bad_files"][0]
    assert report["duplicate_images"] == 1  # the PNG copy of a DICOM image
    copies = [row for row in rows if row["path"] in ("NORMAL/normal_0.dcm", "NORMAL/copy_of_normal_0.png")]
    assert copies[0]["group"] == copies[1]["group"] and copies[0]["split"] == copies[1]["split"]
