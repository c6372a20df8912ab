"""Tests of synthcxr.generators on tiny 32 px images (seconds); the train_generator rule runs in test_generated.py."""

import re

import numpy as np
import pytest
import torch
from PIL import Image

from synthcxr import generators as gen
from synthcxr.phantoms import image_rng, render_phantom

SIZE = 32
TINY = {"latent_dim": 8, "base_channels": 4, "epochs": 1, "batch_size": 4, "lr": 1e-3, "seed": 3}
CLASSES = ("NORMAL", "PNEUMONIA")


def tiny_images(per_class=6, size=SIZE, seed=0):
    """The demo's phantom radiographs, deterministic per seed."""
    images = [
        render_phantom(image_rng(seed, "none", label, i), label, size) for label in (0, 1) for i in range(per_class)
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

    grid = gen.write_sample_grid(out, out_labels, tmp_path / "grid.png", per_class=3)
    assert grid.ndim == 2 and (tmp_path / "grid.png").is_file()


class Interrupted(Exception):
    pass


def is_epoch_line(message):
    """An end-of-epoch line: time stamp, epoch k/n, losses, time elapsed and left."""
    return re.match(r"^\S+ \S+ UTC epoch \d+/\d+: .*\(elapsed \d+:\d\d, about \d+:\d\d left\)$", message) is not None


def interrupt_after_first_epoch(message):
    if is_epoch_line(message) and " epoch 1/" in message:
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
    assert any("resuming" in m for m in messages) and sum(map(is_epoch_line, messages)) == 1
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
    assert not any("resuming" in m for m in messages) and sum(map(is_epoch_line, messages)) == 2


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


def test_an_unreadable_checkpoint_is_set_aside_and_the_generator_starts_over(tmp_path):
    images, labels = tiny_images(per_class=4)
    ck = tmp_path / "ck.pt"
    ck.write_bytes(b"PK\x03\x04 truncated zip")
    messages = []
    gen.train_vae(images, labels, TINY, torch.device("cpu"), str(ck), "fp", log=messages.append)
    assert messages[0].startswith(f"checkpoint {ck} is unreadable (") and "set aside as" in messages[0]
    assert (tmp_path / "ck.pt.corrupt").read_bytes() == b"PK\x03\x04 truncated zip"
    assert not any("resuming" in m for m in messages) and any(map(is_epoch_line, messages))
