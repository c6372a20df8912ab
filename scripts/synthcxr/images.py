"""Decoding any accepted image file into the study's 8-bit grayscale square."""

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# Radiographs are large: Pillow warns of a decompression bomb above this many pixels (20,000 x 20,000)
# and refuses twice as many (800 Mpx); the refusal is a BadImageError naming the file.
Image.MAX_IMAGE_PIXELS = 400_000_000

HIGH_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
# ITU-R 601-2 luma, as Pillow's own RGB -> L conversion.
LUMA = np.array([0.299, 0.587, 0.114])


class BadImageError(ValueError):
    """An image file that cannot be decoded (corrupt, truncated, empty)."""


def scaled_to_uint8(values):
    """Scale an array by its actual value range to 0..255: a 12-bit radiograph stored in 16 bits
    does not come out almost black or white."""
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    scale = 255.0 / (high - low) if high > low else 0.0
    return Image.fromarray(np.round((values - low) * scale).astype(np.uint8), mode="L")


def to_grayscale_uint8(image):
    """Convert any Pillow mode to 8-bit grayscale ('L').

    High bit-depth images (16-bit, 32-bit int, float) are scaled by their actual value range rather
    than clipped. (16-bit colour TIFFs never reach here: see ``sixteen_bit_colour_tiff``.)
    """
    if image.mode in HIGH_DEPTH_MODES:
        return scaled_to_uint8(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Composite on black: transparent areas of an X-ray are background.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    if image.mode == "L":
        return image
    # RGB, CMYK, YCbCr, P, 1: Pillow's ITU-R 601-2 luma conversion.
    return image.convert("RGB").convert("L") if image.mode == "CMYK" else image.convert("L")


def is_sixteen_bit_colour_tiff(image):
    """Pillow decodes 16-bit RGB/RGBA TIFFs to 8 bits by keeping the high byte only: 12-bit data
    (0..4095) would come out as 0..15, almost black, with no way to scale it back."""
    bits = image.tag_v2.get(258, ()) if image.format == "TIFF" else ()
    return image.mode in ("RGB", "RGBA") and max(bits, default=8) > 8


def sixteen_bit_colour_tiff(path):
    """Grayscale of a 16-bit colour TIFF read at full depth (tifffile), scaled by its value range;
    an alpha channel composites on black, as for 8-bit images."""
    import tifffile  # only these files need it

    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        values = page.asarray().astype(np.float64)
        if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE:
            values = np.moveaxis(values, 0, -1)
    maximum = float(np.iinfo(np.uint16).max)
    luma = values[..., :3] @ LUMA
    if values.shape[-1] == 4:
        luma = luma * values[..., 3] / maximum
    return scaled_to_uint8(luma)


def is_dicom(path):
    """Whether ``path`` names a DICOM file (by its extension, as every accepted format)."""
    return Path(path).suffix.lower() == ".dcm"


def dicom_voi(values, ds):
    """The file's first VOI transform applied to modality values: (values, (low, high)), where low and
    high are the transform's output range (low shows black before MONOCHROME1's inversion), or
    (values, None) without one. A VOI LUT Sequence wins over Window Center/Width, as in pydicom."""
    from pydicom.pixels import apply_voi, apply_windowing

    lut = (ds.get("VOILUTSequence") or [None])[0]
    if lut is not None and lut.get("LUTDescriptor") is not None and lut.get("LUTData") is not None:
        entries, first_mapped, _ = lut.LUTDescriptor
        table = apply_voi(np.arange(first_mapped, first_mapped + (entries or 2**16)), ds)
        # A LUT is indexed by whole numbers (a rescale makes floats of them).
        return apply_voi(np.rint(values).astype(np.int64), ds), (float(table.min()), float(table.max()))
    # An empty tag (exports often keep optional ones) reads as None: no window.
    if ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None:
        # Whatever the VOI LUT Function (LINEAR, LINEAR_EXACT, SIGMOID), the extremes map to the ends of its range.
        low, high = apply_windowing(np.array([-np.inf, np.inf]), ds)
        return apply_windowing(values, ds), (float(low), float(high))
    return values, None


def dicom_grayscale(stored, ds):
    """MONOCHROME1/2 stored values as a viewer shows them, as a 'L' image.

    The modality transform (Rescale Slope/Intercept or a Modality LUT), then the VOI transform (the file's
    first window or VOI LUT), whose output range spans black to white. Without a VOI, data of at most 8
    bits spans its full stored range (as an 8-bit PNG: unchanged), deeper data its actual value range (as
    a 16-bit PNG). MONOCHROME1 (low values white) is inverted.
    """
    from pydicom.pixels import apply_modality_lut

    values, voi_range = dicom_voi(apply_modality_lut(stored, ds), ds)
    if voi_range is not None:
        low, high = voi_range
    elif ds.BitsStored <= 8 and ds.PixelRepresentation == 0:
        stored_range = apply_modality_lut(np.arange(2**ds.BitsStored), ds)
        low, high = float(stored_range.min()), float(stored_range.max())
    else:
        low, high = float(values.min()), float(values.max())
    shown = (np.asarray(values, np.float64) - low) / (high - low) if high > low else np.zeros(values.shape)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        shown = 1.0 - shown
    return Image.fromarray(np.clip(np.round(shown * 255.0), 0, 255).astype(np.uint8), mode="L")


def dicom_colour_grayscale(pixels, ds):
    """RGB, YBR (pydicom returns them as RGB) or PALETTE COLOR pixels as grayscale, as for other formats."""
    from pydicom.pixels import apply_color_lut

    if ds.PhotometricInterpretation == "PALETTE COLOR":
        pixels = apply_color_lut(pixels, ds)
    if pixels.dtype == np.uint8:
        return Image.fromarray(pixels, mode="RGB").convert("L")
    return scaled_to_uint8(pixels @ LUMA)


def dicom_refusal(ds):
    """Why the pixels of dataset ``ds`` are not decoded here, or None: a transfer syntax without an
    installed decoder (the packages that would decode it are named), several frames."""
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
    except NotImplementedError:
        return "pydicom has no decoder for this transfer syntax"
    if not decoder.is_available:
        return f"no decoder for it is installed (any one of: {'; '.join(decoder.missing_dependencies)})"
    frames = int(ds.get("NumberOfFrames") or 1)
    if frames != 1:
        return f"{frames} frames (only single-frame images are accepted)"
    return None


def dicom_pixels(ds):
    """The grayscale image of a readable, decodable dataset ``ds``: (grayscale 'L' image, info)."""
    photometric = ds.PhotometricInterpretation
    info = {"mode": f"DICOM {photometric} {ds.BitsStored}-bit", "width": ds.Columns, "height": ds.Rows}
    if photometric in ("MONOCHROME1", "MONOCHROME2"):
        return dicom_grayscale(ds.pixel_array, ds), info
    if photometric in ("RGB", "PALETTE COLOR") or photometric.startswith("YBR"):
        return dicom_colour_grayscale(ds.pixel_array, ds), info
    raise ValueError(f"photometric interpretation {photometric} is not accepted")


def decoded_dicom(path):
    """Decode a DICOM file (pydicom) as a viewer shows it: (grayscale 'L' image, info).

    Raises ValueError (BadImageError in ``load_image``) for a file that is not DICOM or is truncated, a
    transfer syntax whose decoder is not installed (named with the packages that would decode it), more
    than one frame, or pixels pydicom cannot decode; the message names the transfer syntax.
    """
    import pydicom  # only .dcm files need it
    from pydicom.errors import InvalidDicomError

    # pydicom reports a malformed file with many exception types (a missing tag: AttributeError, short
    # pixel data: ValueError or EOFError, a failed decoder: RuntimeError): each one makes a bad image.
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError as error:
        raise ValueError("not a DICOM file (no 'DICM' prefix after the 128-byte preamble)") from error
    except Exception as error:
        raise ValueError(f"unreadable DICOM file: {type(error).__name__}: {error}") from error
    uid = ds.file_meta.get("TransferSyntaxUID")
    if uid is None:
        raise ValueError("DICOM file meta information without a transfer syntax (a truncated or incomplete file)")
    syntax = f"DICOM transfer syntax {uid.name} ({uid})"
    refusal = dicom_refusal(ds)
    if refusal:
        raise ValueError(f"{syntax}: {refusal}")
    try:
        return dicom_pixels(ds)
    except Exception as error:
        raise ValueError(f"{syntax}: {type(error).__name__}: {error}") from error


def decoded_grayscale(path):
    """Decode ``path`` with its EXIF orientation applied: (grayscale 'L' image, info)."""
    with Image.open(path) as image:
        image.load()
        info = {"mode": image.mode, "width": image.width, "height": image.height}
        if is_sixteen_bit_colour_tiff(image):
            info["mode"] = f"{image.mode};16"
            gray = sixteen_bit_colour_tiff(path)
        else:
            gray = to_grayscale_uint8(image)
        # A camera or phone photo of a film stores its rotation as an EXIF tag, not in the pixels.
        orientation = image.getexif().get(ImageOps.ExifTags.Base.Orientation, 1)
    # The grayscale image (new unless the file was grayscale) carries the tag over for Pillow to apply.
    gray.getexif()[ImageOps.ExifTags.Base.Orientation] = orientation
    ImageOps.exif_transpose(gray, in_place=True)
    info["width"], info["height"] = gray.size
    return gray, info


def load_image(path, size):
    """Decode ``path`` to a (size, size) uint8 array; also return the hash of the decoded pixels.

    Raises BadImageError for zero-byte, corrupt or truncated files, for images Pillow refuses as
    decompression bombs, and for DICOM files ``decoded_dicom`` refuses.
    """
    try:
        # DICOM has no EXIF orientation, and a viewer does not rotate its pixels by any other tag.
        gray, info = decoded_dicom(path) if is_dicom(path) else decoded_grayscale(path)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise BadImageError(f"{path}: {error}") from error
    pixels = np.asarray(gray)
    # Hashed in place (the buffer), not through copies: this hash is a fifth of preparing a large JPEG.
    digest = hashlib.sha256(f"{pixels.shape}".encode())
    digest.update(np.ascontiguousarray(pixels))
    pixel_hash = digest.hexdigest()
    # reducing_gap: shrink huge images by integer factors first, then resample with antialiasing.
    resized = gray.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.uint8), pixel_hash, info


def unreadable_images(folder, relpaths, size):
    """'path: reason' for each of ``relpaths`` (below ``folder``) that cannot be decoded.

    DICOM files are not checked where pydicom is missing (a login node with only snakemake and Pillow):
    prepare_domain still refuses a bad one.
    """
    try:
        import pydicom  # noqa: F401
    except ImportError:
        relpaths = [rel for rel in relpaths if not is_dicom(rel)]
    bad = []
    for rel in relpaths:
        try:
            load_image(Path(folder) / rel, size)
        except BadImageError as error:
            bad.append(str(error))
    return bad
