"""Decoding any accepted image file into the study's 8-bit grayscale square."""

import hashlib

import numpy as np
from PIL import Image

# Radiographs are large; allow up to ~20k x 20k before Pillow calls it a decompression bomb.
Image.MAX_IMAGE_PIXELS = 400_000_000


class BadImageError(ValueError):
    """An image file that cannot be decoded (corrupt, truncated, empty)."""


def to_grayscale_uint8(image):
    """Convert any Pillow mode to 8-bit grayscale ('L').

    High bit-depth images (16-bit, 32-bit int, float) are scaled by their actual value range rather
    than clipped, so a 12-bit radiograph stored in 16 bits does not come out almost black or white.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        return Image.fromarray(np.round((values - low) * scale).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Composite on black: transparent areas of an X-ray are background.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    if image.mode == "L":
        return image
    # RGB, CMYK, YCbCr, P, 1: Pillow's ITU-R 601-2 luma conversion.
    return image.convert("RGB").convert("L") if image.mode == "CMYK" else image.convert("L")


def load_image(path, size):
    """Decode ``path`` to a (size, size) uint8 array; also return the hash of the decoded pixels.

    Raises BadImageError for zero-byte, corrupt or truncated files.
    """
    try:
        with Image.open(path) as image:
            image.load()
            info = {"mode": image.mode, "width": image.width, "height": image.height}
            gray = to_grayscale_uint8(image)
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
