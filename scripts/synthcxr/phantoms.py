"""Deterministic chest-radiograph-like phantoms for the offline demo.

NON-MEDICAL DEMO DATA. These images are drawn from a handful of ellipses,
bands and noise fields. They only look roughly like a frontal chest X-ray,
they carry no clinical meaning, and they must never be used to train or
judge a real diagnostic model. They exist so that the workflow can run end
to end without downloading a real dataset.

Label 0 (NORMAL) has clear lung fields; label 1 (PNEUMONIA) adds patchy
opacities of random strength inside the lungs. `apply_shift` mimics the
typical artefacts of GAN ("gan") and VAE ("vae") generated images, so that
a demo "synthetic" domain differs from the demo "real" domain.

The layout follows the usual PA display convention: the patient's left,
and so the heart shadow, is on the viewer's right.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

SHIFTS: tuple[str, ...] = ("none", "gan", "vae")
CLASS_NAMES: tuple[str, str] = ("NORMAL", "PNEUMONIA")


# --------------------------------------------------------------------------
# Small numpy image helpers
# --------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # tanh form cannot overflow


def _box_blur_axis(image: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Moving average of width 2*radius+1 along one axis, edges replicated."""
    width = 2 * radius + 1
    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius + 1, radius)  # one extra leading row for the cumsum difference
    padded = np.pad(image, pad, mode="edge")
    csum = np.cumsum(padded, axis=axis)
    upper = np.take(csum, np.arange(width, csum.shape[axis]), axis=axis)
    lower = np.take(csum, np.arange(0, csum.shape[axis] - width), axis=axis)
    return (upper - lower) / width


def box_blur(image: np.ndarray, radius: int = 1, passes: int = 1) -> np.ndarray:
    """Separable box blur; three passes approximate a Gaussian."""
    out = np.asarray(image, dtype=np.float64)
    if radius <= 0:
        return out.copy()
    for _ in range(passes):
        out = _box_blur_axis(_box_blur_axis(out, radius, 0), radius, 1)
    return out


def high_frequency_energy(image: np.ndarray) -> float:
    """Mean squared difference to a 3x3 box blur (intensities scaled to [0, 1])."""
    img = np.asarray(image, dtype=np.float64) / 255.0
    return float(np.mean((img - box_blur(img, 1)) ** 2))


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Zero-mean, unit-ish variance noise with features about size/cells wide.

    Coarse Gaussian values on a (cells+1)^2 lattice are interpolated with a
    smoothstep weight, which hides the lattice creases plain bilinear shows.
    """
    lattice = rng.standard_normal((cells + 1, cells + 1))
    pos = np.linspace(0.0, cells, size)
    i0 = np.minimum(pos.astype(int), cells - 1)
    frac = pos - i0
    w = frac * frac * (3.0 - 2.0 * frac)
    rows = lattice[i0] * (1.0 - w)[:, None] + lattice[i0 + 1] * w[:, None]
    return rows[:, i0] * (1.0 - w) + rows[:, i0 + 1] * w


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# Anatomy. All shapes live in a normalised "body frame" (u right, v down,
# roughly [-1, 1]) so that one random affine moves and scales everything.
# Each function returns a soft mask / density in [0, 1].
# --------------------------------------------------------------------------


class _Frame(NamedTuple):
    """Body-frame coordinates of every pixel plus the affine that made them."""

    u: np.ndarray
    v: np.ndarray
    cx: float
    cy: float
    scale: float
    angle: float
    size: int


def _body_frame(rng: np.random.Generator, size: int) -> _Frame:
    """Pixel grid mapped into the body frame by a small random affine."""
    coords = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    x = coords[None, :]
    y = coords[:, None]
    cx, cy = rng.uniform(-0.06, 0.06), rng.uniform(-0.05, 0.07)
    scale = rng.uniform(0.9, 1.08)
    angle = rng.uniform(-0.06, 0.06)  # radians: patients are never perfectly straight
    cos, sin = np.cos(angle), np.sin(angle)
    u = ((x - cx) * cos + (y - cy) * sin) / scale
    v = (-(x - cx) * sin + (y - cy) * cos) / scale
    return _Frame(u, v, cx, cy, scale, angle, size)


def _to_pixels(frame: _Frame, u, v) -> tuple[np.ndarray, np.ndarray]:
    """Body-frame points -> (column, row) pixel coordinates (floats)."""
    cos, sin = np.cos(frame.angle), np.sin(frame.angle)
    x = frame.cx + frame.scale * (np.asarray(u) * cos - np.asarray(v) * sin)
    y = frame.cy + frame.scale * (np.asarray(u) * sin + np.asarray(v) * cos)
    half = frame.size / 2.0
    return (x + 1.0) * half - 0.5, (y + 1.0) * half - 0.5


def _torso(u: np.ndarray, v: np.ndarray, width: float) -> np.ndarray:
    # A superellipse gives the squarish shoulders-to-flank outline; it is
    # centred low so the torso runs off the bottom edge like a real film.
    # Exponent 3, written out: np.power with a float exponent is slow.
    a = np.abs(u / width)
    b = np.abs((v - 0.3) / 1.12)
    f = np.cbrt(a * a * a + b * b * b)
    body = _sigmoid((1.0 - f) / 0.025)
    neck = _sigmoid((0.2 - np.abs(u)) / 0.03) * _sigmoid((-0.6 - v) / 0.05)
    return np.maximum(body, neck)


def _lungs(u: np.ndarray, v: np.ndarray, geom: dict) -> np.ndarray:
    """Both lung fields: rounded apex, widening downwards, domed diaphragm below.

    Built as the intersection of four soft half-planes in the lateral
    coordinate w = |u|; the lungs share one geometry, so this mirrors them.
    """
    w = np.abs(u)
    top, base = geom["lung_top"], geom["lung_base"]
    t = np.clip((v - top) / (base - top), 0.0, 1.0)
    medial = geom["lung_medial"]
    lateral = medial + geom["lung_w"] * (0.25 + 0.75 * t**0.4)
    # Dome: the diaphragm is highest mid-lung and drops into sharp
    # costophrenic angles laterally.
    mid = medial + 0.45 * geom["lung_w"]
    dome = base - geom["dome"] * (1.0 - ((w - mid) / (0.6 * geom["lung_w"])) ** 2)
    edge = 0.02
    return (
        _sigmoid((w - medial) / edge)
        * _sigmoid((lateral - w) / edge)
        * _sigmoid((v - top) / (2 * edge))
        * _sigmoid((dome - v) / edge)
    )


def _heart(u: np.ndarray, v: np.ndarray, geom: dict) -> np.ndarray:
    du = u - geom["heart_x"]
    dv = v - geom["heart_y"]
    # Tilt the ellipse so the apex points down and out, as on a PA film.
    a = 0.45
    ru = du * np.cos(a) + dv * np.sin(a)
    rv = -du * np.sin(a) + dv * np.cos(a)
    r = (ru / geom["heart_w"]) ** 2 + (rv / geom["heart_h"]) ** 2
    return _sigmoid((1.0 - r) / 0.08)


def _mediastinum(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    # A central soft-tissue column; hidden lung edges need no sharp border.
    return _sigmoid((0.11 - np.abs(u)) / 0.03)


def _spine(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    # Vertebral bodies show as a faint periodic ripple along the column.
    column = _sigmoid((0.05 - np.abs(u)) / 0.01)
    return column * (0.7 + 0.3 * np.cos(2.0 * np.pi * v / 0.105))


def _trachea(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    # The air column of the trachea, ending at the carina above the hila.
    return _sigmoid((0.03 - np.abs(u)) / 0.01) * _sigmoid((-0.3 - v) / 0.03)


def _ribs(u: np.ndarray, v: np.ndarray, geom: dict) -> np.ndarray:
    """Posterior ribs and clavicles: arcs leaving the spine, sweeping down laterally."""
    d = np.abs(u)
    lateral = _sigmoid((d - 0.06) / 0.015) * _sigmoid((0.84 - d) / 0.03)
    # All ribs at once: the phase counts rib spacings below the top rib along
    # the common arc shape, so one exp replaces a loop over ribs.
    phase = (v - (-0.25 * d + 0.75 * d**2) - geom["rib_top"]) / geom["rib_step"]
    k = np.rint(phase)
    offset = (phase - k) * geom["rib_step"]
    # Lower ribs are a little thicker; the profile is a soft band.
    thickness = geom["rib_w"] * (1.0 + 0.05 * np.clip(k, 0, geom["n_ribs"]))
    ribs = np.exp(-((offset / thickness) ** 2)) * ((k >= 0) & (k < geom["n_ribs"]))
    clavicle_centre = geom["lung_top"] + 0.04 - 0.15 * d + 0.2 * d**2
    clavicle = np.exp(-(((v - clavicle_centre) / 0.028) ** 2))
    clavicle *= _sigmoid((0.6 - d) / 0.03)
    return (ribs + clavicle) * lateral


def _vessels(rng: np.random.Generator, frame: _Frame, geom: dict) -> np.ndarray:
    """Lung markings: tapering rays fanning out from each hilum.

    Rays are splatted as points and blurred once, which costs far less than
    evaluating a distance field per ray over the whole image.
    """
    size = frame.size
    hilum_v = geom["lung_top"] + 0.45 * (geom["lung_base"] - geom["lung_top"])
    steps = np.linspace(0.0, 1.0, size // 2)
    us, vs, weights = [], [], []
    for side in (-1.0, 1.0):
        angles = rng.uniform(-1.1, 1.3, size=9)
        lengths = rng.uniform(0.25, 0.5, size=9)
        # Rays start at jittered points so the hilum is a cluster, not a knot.
        start_u = side * (geom["lung_medial"] + rng.uniform(0.02, 0.09, size=9))
        start_v = hilum_v + rng.normal(0.0, 0.04, size=9)
        along = lengths[:, None] * steps[None, :]
        us.append(start_u[:, None] + side * np.cos(angles)[:, None] * along)
        vs.append(start_v[:, None] + np.sin(angles)[:, None] * along)
        # Weight by the spacing of samples, in pixels, so a ray's brightness
        # does not depend on its length; vessels thin out towards the periphery.
        spacing = lengths[:, None] * frame.scale * size / 2.0 / len(steps)
        weights.append(spacing * (1.0 - steps[None, :]))
    cols, rows = _to_pixels(frame, np.concatenate(us), np.concatenate(vs))
    cols = np.clip(np.rint(cols).astype(int), 0, size - 1).ravel()
    rows = np.clip(np.rint(rows).astype(int), 0, size - 1).ravel()
    splat = np.zeros((size, size))
    np.add.at(splat, (rows, cols), np.concatenate(weights).ravel())
    return np.minimum(box_blur(splat, 1), 0.5)


def _sample_in_lung(rng: np.random.Generator, side: float, geom: dict) -> tuple[float, float]:
    """A point well inside one lung, biased towards the lower zones."""
    top, base = geom["lung_top"], geom["lung_base"]
    t = float(np.clip(rng.normal(0.6, 0.22), 0.2, 0.85))
    lateral_extent = geom["lung_w"] * (0.25 + 0.75 * t**0.4)
    w = geom["lung_medial"] + rng.uniform(0.2, 0.8) * lateral_extent
    return side * w, top + t * (base - top)


def _opacities(rng: np.random.Generator, frame: _Frame, geom: dict) -> np.ndarray:
    """Patchy consolidation: clusters of Gaussian puffs modulated by cloud noise.

    An isotropic Gaussian stays isotropic under rotation and uniform scaling,
    so each puff is evaluated separably in pixel space (two 1-D profiles).
    """
    size = frame.size
    pixels = np.arange(size)
    px_per_unit = frame.scale * size / 2.0
    density = np.zeros((size, size))
    for _ in range(int(rng.integers(3, 7))):
        side = float(rng.choice([-1.0, 1.0]))
        pu, pv = _sample_in_lung(rng, side, geom)
        weight = rng.uniform(0.5, 1.0)
        for _ in range(int(rng.integers(3, 8))):
            sigma = rng.uniform(0.07, 0.15) * px_per_unit
            qu = pu + rng.normal(0.0, 0.07)
            qv = pv + rng.normal(0.0, 0.08)
            col, row = _to_pixels(frame, qu, qv)
            profile_rows = np.exp(-((pixels - row) ** 2) / (2 * sigma**2))
            profile_cols = np.exp(-((pixels - col) ** 2) / (2 * sigma**2))
            density += weight * np.outer(profile_rows, profile_cols)
    # Cloud texture breaks the puffs into the mottled look of airspace disease.
    cloud = np.clip(0.6 + 0.4 * _smooth_noise(rng, size, 14), 0.0, 1.0)
    return np.minimum(density, 1.2) * cloud


def _random_geometry(rng: np.random.Generator) -> dict:
    return {
        "torso_w": rng.uniform(0.86, 0.95),
        "lung_top": rng.uniform(-0.82, -0.72),
        "lung_base": rng.uniform(0.55, 0.66),
        "lung_medial": rng.uniform(0.09, 0.12),
        "lung_w": rng.uniform(0.62, 0.7),
        "dome": rng.uniform(0.1, 0.18),
        "heart_x": rng.uniform(0.1, 0.17),
        "heart_y": rng.uniform(0.3, 0.4),
        "heart_w": rng.uniform(0.3, 0.36),
        "heart_h": rng.uniform(0.2, 0.25),
        "n_ribs": 9,
        "rib_top": rng.uniform(-0.7, -0.64),
        "rib_step": rng.uniform(0.13, 0.145),
        "rib_w": rng.uniform(0.022, 0.03),
    }


def render_phantom(rng: np.random.Generator, label: int, size: int = 128) -> np.ndarray:
    """Render one phantom as a (size, size) uint8 image; label 1 adds opacities."""
    if label not in (0, 1):
        raise ValueError(f"label must be 0 (NORMAL) or 1 (PNEUMONIA), got {label!r}")
    if size < 16:
        raise ValueError(f"size must be at least 16, got {size}")
    # Draw every random number in a fixed order so the geometry of a given
    # seed is the same for both labels up to the opacity step.
    frame = _body_frame(rng, size)
    u, v = frame.u, frame.v
    geom = _random_geometry(rng)

    torso = _torso(u, v, geom["torso_w"])
    heart = _heart(u, v, geom)
    # Heart and mediastinum hide the air behind them.
    lungs = _lungs(u, v, geom)
    lungs *= (1.0 - heart) * (1.0 - _mediastinum(u, v))
    ribs = _ribs(u, v, geom)
    vessels = _vessels(rng, frame, geom)
    texture = _smooth_noise(rng, size, 10)

    # Attenuation model: brighter = more attenuating, as on a radiograph.
    att = 0.04 + 0.6 * torso
    att -= rng.uniform(0.38, 0.46) * lungs
    att += 0.03 * heart * torso + 0.08 * _spine(u, v) * torso
    att -= 0.1 * _trachea(u, v) * torso
    # Ribs stand out against air, much less against the soft tissue below.
    att += rng.uniform(0.07, 0.11) * ribs * torso * (0.35 + 0.65 * lungs)
    att += 0.3 * vessels * lungs
    att += 0.025 * texture * torso

    if label == 1:
        # Strength varies widely so some cases are subtle: the task must be
        # learnable but not trivially separable.
        strength = rng.uniform(0.15, 0.45)
        att += strength * _opacities(rng, frame, geom) * lungs

    # Per-image exposure: contrast, brightness and a gamma (film response).
    contrast = rng.uniform(0.9, 1.1)
    brightness = rng.uniform(-0.04, 0.04)
    gamma = rng.uniform(0.85, 1.2)
    img = np.clip((att - 0.35) * contrast + 0.35 + brightness, 0.0, 1.0) ** gamma
    img += rng.normal(0.0, rng.uniform(0.008, 0.02), img.shape)  # quantum noise
    return _to_uint8(img)


# --------------------------------------------------------------------------
# Domain shifts
# --------------------------------------------------------------------------


def _gan_artefacts(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rows, cols = np.indices(img.shape)
    # Transposed convolutions with stride 2 leave a period-2/4 checkerboard.
    period = int(rng.choice([2, 4]))
    half = period // 2
    checker = ((rows // half + cols // half) % 2) * 2.0 - 1.0
    img = img + rng.uniform(0.012, 0.025) * checker
    # Over-sharpened high-frequency texture (unsharp mask on added noise).
    img = img + rng.normal(0.0, 0.015, img.shape)
    img = img + rng.uniform(0.5, 0.9) * (img - box_blur(img, 1))
    mean = img.mean()
    return (img - mean) * rng.uniform(1.05, 1.15) + mean


def _vae_artefacts(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Repeated box blur ~ Gaussian: VAEs reconstruct a smooth posterior mean.
    img = box_blur(img, int(rng.integers(1, 3)), passes=3)
    mean = img.mean()
    # Regression to the mean: washed-out contrast, slightly lifted level.
    return (img - mean) * rng.uniform(0.7, 0.85) + mean + rng.uniform(0.0, 0.03)


def apply_shift(image: np.ndarray, shift: str, rng: np.random.Generator) -> np.ndarray:
    """Apply a synthetic-domain artefact ("none", "gan" or "vae") to a uint8 image."""
    if shift not in SHIFTS:
        raise ValueError(f"shift must be one of {SHIFTS}, got {shift!r}")
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError("image must be a 2-D uint8 array")
    if shift == "none":
        return image.copy()
    img = image.astype(np.float64) / 255.0
    img = _gan_artefacts(img, rng) if shift == "gan" else _vae_artefacts(img, rng)
    return _to_uint8(img)


# --------------------------------------------------------------------------
# Dataset writer
# --------------------------------------------------------------------------


def image_rng(seed: int, shift: str, label: int, index: int) -> np.random.Generator:
    """Per-image generator: independent of how many images a domain holds.

    The shift is part of the key so that a "gan" and a "none" domain built
    with the same seed do not share their underlying anatomy.
    """
    return np.random.default_rng([seed, SHIFTS.index(shift), label, index])


def write_demo_domain(
    out_dir: str | Path,
    per_class: int,
    shift: str,
    seed: int,
    class_names: Sequence[str] = CLASS_NAMES,
    size: int = 128,
) -> int:
    """Write per_class PNGs per class as out_dir/<class>/<class_lower>_<i:04d>.png.

    Returns the number of images written. Output is byte-identical for the
    same arguments, and image i does not depend on per_class.
    """
    if shift not in SHIFTS:
        raise ValueError(f"shift must be one of {SHIFTS}, got {shift!r}")
    if len(class_names) != 2:
        raise ValueError("class_names must name exactly two classes (NORMAL, PNEUMONIA)")
    if per_class < 0 or seed < 0:
        raise ValueError("per_class and seed must be non-negative")
    out = Path(out_dir)
    written = 0
    for label, name in enumerate(class_names):
        class_dir = out / name
        class_dir.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            rng = image_rng(seed, shift, label, index)
            image = apply_shift(render_phantom(rng, label, size), shift, rng)
            # Plain PNG: Pillow writes no time or text chunks unless asked,
            # so the bytes depend only on the pixels.
            Image.fromarray(image).save(class_dir / f"{name.lower()}_{index:04d}.png", format="PNG")
            written += 1
    return written
