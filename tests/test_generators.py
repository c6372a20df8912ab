"""Tests of synthcxr.generators and the train_generator entry point, on tiny 32 px images (seconds)."""

import csv
import hashlib
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from synthcxr import generators as gen

SIZE = 32
TINY = {"latent_dim": 8, "base_channels": 4, "epochs": 1, "batch_size": 4, "lr": 1e-3, "seed": 3}
CLASSES = ("NORMAL", "PNEUMONIA")
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def tiny_images(per_class=6, size=SIZE, seed=0):
    """Phantoms when the renderer is available, else smooth random blobs."""
    try:
        from synthcxr.phantoms import image_rng, render_phantom

        images = [
            render_phantom(image_rng(seed, "none", label, i), label, size) for label in (0, 1) for i in range(per_class)
        ]
    except ImportError:
        rng = np.random.default_rng(seed)
        images = [
            np.clip(rng.normal(100 + 60 * label, 30, (size, size)), 0, 255).astype(np.uint8)
            for label in (0, 1)
            for _ in range(per_class)
        ]
    return np.stack(images), np.repeat([0, 1], per_class)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def state_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kind", gen.KINDS)
def test_train_sample_and_write_layout(kind, tmp_path):
    images, labels = tiny_images()
    model, history = gen.train_generator(
        kind,
        images,
        labels,
        TINY,
        torch.device("cpu"),
        str(tmp_path / "ck.pt"),
        "fp",
        log=lambda *a: None,
        progress_dir=tmp_path / "progress",
    )
    assert len(history) == 1 and all(np.isfinite(v) for v in history[0].values())
    assert (tmp_path / "progress" / "epoch_0001.png").is_file()

    out, out_labels = gen.sample(kind, model, 3, seed=5, device="cpu")
    assert out.shape == (6, SIZE, SIZE) and out.dtype == np.uint8
    assert out_labels.tolist() == [0, 0, 0, 1, 1, 1]
    again, _ = gen.sample(kind, model, 3, seed=5, device="cpu")
    other, _ = gen.sample(kind, model, 3, seed=6, device="cpu")
    assert np.array_equal(out, again)
    if kind == "vae":  # an untrained GAN in eval mode (batch-norm running stats barely updated) is nearly constant
        assert not np.array_equal(out, other)

    counts = gen.write_samples(out, out_labels, CLASSES, tmp_path / "domain")
    assert counts == {"NORMAL": 3, "PNEUMONIA": 3}
    for name in CLASSES:
        files = sorted(p.name for p in (tmp_path / "domain" / name).iterdir())
        assert files == [f"{name.lower()}_{i:05d}.png" for i in range(3)]
    with Image.open(tmp_path / "domain" / "PNEUMONIA" / "pneumonia_00001.png") as png:
        assert png.mode == "L" and png.size == (SIZE, SIZE)
        assert np.array_equal(np.asarray(png), out[4])

    grid = gen.sample_grid(out, out_labels, tmp_path / "grid.png", per_class=3)
    assert grid.ndim == 2 and (tmp_path / "grid.png").is_file()


class Interrupted(Exception):
    pass


def interrupt_after_first_epoch(message):
    if message.startswith("epoch 1/"):
        raise Interrupted


@pytest.mark.parametrize("kind", gen.KINDS)
def test_resume_matches_uninterrupted_run(kind, tmp_path):
    images, labels = tiny_images(per_class=4)
    settings = {**TINY, "epochs": 2}
    cpu = torch.device("cpu")
    full, full_history = gen.train_generator(
        kind, images, labels, settings, cpu, str(tmp_path / "a.pt"), "fp", log=lambda *a: None
    )

    with pytest.raises(Interrupted):
        gen.train_generator(
            kind, images, labels, settings, cpu, str(tmp_path / "b.pt"), "fp", log=interrupt_after_first_epoch
        )
    messages = []
    resumed, resumed_history = gen.train_generator(
        kind,
        images,
        labels,
        settings,
        cpu,
        str(tmp_path / "b.pt"),
        "fp",
        log=messages.append,
        progress_dir=tmp_path / "progress",
    )
    assert any("resuming" in m for m in messages) and sum(m.startswith("epoch ") for m in messages) == 1
    assert state_equal(full.state_dict(), resumed.state_dict())
    assert full_history == resumed_history
    # grids of the epoch done before the interruption are rewritten from the checkpoint
    assert sorted(p.name for p in (tmp_path / "progress").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]


def test_fingerprint_mismatch_starts_afresh(tmp_path):
    images, labels = tiny_images(per_class=4)
    ck = str(tmp_path / "ck.pt")
    gen.train_vae(images, labels, TINY, torch.device("cpu"), ck, "one", log=lambda *a: None)
    messages = []
    gen.train_vae(images, labels, {**TINY, "epochs": 2}, torch.device("cpu"), ck, "two", log=messages.append)
    assert not any("resuming" in m for m in messages) and sum(m.startswith("epoch ") for m in messages) == 2


def test_save_and_load_generator(tmp_path):
    images, labels = tiny_images(per_class=4)
    model, _ = gen.train_gan(
        images, labels, TINY, torch.device("cpu"), str(tmp_path / "ck.pt"), "fp", log=lambda *a: None
    )
    gen.save_generator(model, "gan", TINY, tmp_path / "model.pt")
    kind, loaded = gen.load_generator(tmp_path / "model.pt")
    assert kind == "gan" and state_equal(model.state_dict(), loaded.state_dict())
    assert np.array_equal(gen.sample("gan", model, 2, 0, "cpu")[0], gen.sample("gan", loaded, 2, 0, "cpu")[0])


def test_settings_and_sizes_are_checked():
    with pytest.raises(ValueError, match="unknown"):
        gen.resolve_settings("vae", {"latent": 3})
    with pytest.raises(ValueError):
        gen.resolve_settings("diffusion", {})
    with pytest.raises(ValueError, match="multiple of 16"):
        gen.ConditionalVAE(image_size=40)
    assert gen.resolve_settings("gan", {"epochs": 3})["lr"] == 2e-4
    assert gen.milestone_epochs(1) == [1] and gen.milestone_epochs(40) == [1, 10, 20, 30, 40]


def write_cache(tmp_path, name, images, labels, splits):
    """A prepared cache (images.npy + split manifest) as prepare_domain writes it."""
    from synthcxr.prepare import write_manifest

    images_path, manifest_path = tmp_path / f"{name}.npy", tmp_path / f"{name}.csv"
    np.save(images_path, images)
    rows = [
        {
            "path": f"{CLASSES[l]}/{i}.png",
            "class": CLASSES[l],
            "label": int(l),
            "split": s,
            "sha256": hashlib.sha256(img.tobytes()).hexdigest(),
            "pixel_hash": hashlib.sha256(img.tobytes()).hexdigest(),
            "group": f"g{i}",
        }
        for i, (img, l, s) in enumerate(zip(images, labels, splits))
    ]
    write_manifest(rows, manifest_path)
    return str(images_path), str(manifest_path)


def test_entry_point(tmp_path):
    images, labels = tiny_images(per_class=5)
    splits = ["train", "train", "train", "train", "test"] * 2
    images_path, manifest_path = write_cache(tmp_path, "source", images, labels, splits)
    out = tmp_path / "out"
    snakemake = SimpleNamespace(
        input=SimpleNamespace(images=images_path, manifest=manifest_path),
        output=SimpleNamespace(
            model=str(out / "model.pt"), samples=str(out / "samples"), progress=str(out / "progress")
        ),
        params=SimpleNamespace(
            kind="gan",
            settings=TINY,
            per_class=4,
            classes=list(CLASSES),
            device="cpu",
            checkpoint=str(tmp_path / "ck" / "gan.pt"),
        ),
        threads=1,
        log=[str(tmp_path / "log.txt")],
    )
    try:
        runpy.run_path(str(SCRIPTS / "train_generator.py"), init_globals={"snakemake": snakemake})
    finally:
        torch.use_deterministic_algorithms(False)
    for name in CLASSES:
        assert len(list((out / "samples" / name).glob(f"{name.lower()}_*.png"))) == 4
    assert {"real.png", "epoch_0001.png", "final_samples.png"} <= {p.name for p in (out / "progress").iterdir()}
    kind, model = gen.load_generator(out / "model.pt")
    assert kind == "gan" and model.image_size == SIZE
    assert "training a gan on 8 train images" in (tmp_path / "log.txt").read_text()
    with open(manifest_path) as handle:
        assert len(list(csv.DictReader(handle))) == 10
