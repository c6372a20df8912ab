"""Small generated image folders for tests."""

from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path, seed, size=32, mode="L"):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)
    return path


def make_domain(root, per_class=10, classes=("NORMAL", "PNEUMONIA"), seed=0, size=32):
    """A folder in ImageFolder layout with distinct random images."""
    root = Path(root)
    for label, name in enumerate(classes):
        for index in range(per_class):
            write_image(root / name / f"{name.lower()}_{index:03d}.png", (seed, label, index), size)
    return root
