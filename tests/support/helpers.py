"""Small generated image folders and images for tests."""

from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from workflow_helpers import REPO

from synthcxr.phantoms import image_rng, render_phantom


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


def phantoms(per_class, seed=0, size=32):
    """The demo's phantom radiographs: class-dependent anatomy, deterministic per seed."""
    images = [
        render_phantom(image_rng(seed, "none", label, i), label, size) for label in (0, 1) for i in range(per_class)
    ]
    return np.stack(images), np.repeat([0, 1], per_class)


def fidelity_settings(**overrides):
    """Every fidelity setting as rule evaluate_fidelity gives them with the config schema's defaults (its fidelity
    section; the two-sample classifier takes training's widths, batch_size and lr, its interval statistics.alpha),
    then ``overrides``."""
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    properties = schema["properties"]
    settings = {key: spec["default"] for key, spec in properties["fidelity"]["properties"].items()}
    training = {key: properties["training"]["properties"][key]["default"] for key in ("widths", "batch_size", "lr")}
    settings |= {"widths": training["widths"], "two_sample_batch_size": training["batch_size"]}
    settings |= {"two_sample_lr": training["lr"], "alpha": properties["statistics"]["properties"]["alpha"]["default"]}
    return settings | overrides
