"""Training the study CNN: plain loop, prepared data kept on the device, a checkpoint per epoch.

Determinism: the model is initialised from the run seed and each epoch's data order comes from
(seed, epoch), so a run resumed from a checkpoint ends with the same weights as an uninterrupted one.
"""

import ctypes
import io
import json
import os
import random
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from synthcxr.jobs import config_sha256, file_sha256, package_versions, run_fingerprint, write_bytes
from synthcxr.model import StudyCNN, to_input
from synthcxr.progress import Progress


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_order(n_images, seed, epoch):
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n_images, generator=generator)


def start_torch_job(threads, requested="auto", log=print):
    """The set-up every job that runs a model shares; returns the device.

    Deterministic algorithms (with the cuBLAS workspace setting they need, read when CUDA starts), the
    rule's threads, and the device, logged so a user can check a job got its GPU.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.set_num_threads(threads)
    # Not torch.use_deterministic_algorithms: since pytorch#165950 it imports torch._inductor to set the
    # compiler's flag too (2 s of every job's start here). No job compiles, so set ATen's flag alone: the
    # call that function makes after the import (test_train checks the public getter and the import).
    torch._C._set_deterministic_algorithms(True)
    device = pick_device(requested)
    log(f"device: {json.dumps(describe_device(device))}")
    return device


def pick_device(requested="auto"):
    """'auto' -> CUDA when the job has a GPU, else CPU; 'cuda' without a GPU is an error."""
    if requested == "cuda" and not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>")
        raise RuntimeError(f"device: cuda was requested but no GPU is available (CUDA_VISIBLE_DEVICES={visible})")
    if requested == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def describe_device(device):
    """The device, and what the scheduler allocated: logged so a user can check a job got its GPU."""
    described = {
        "device": device.type,
        "threads": torch.get_num_threads(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "slurm_job_gpus": os.environ.get("SLURM_JOB_GPUS") or os.environ.get("SLURM_STEP_GPUS"),
    }
    if device.type == "cuda":
        described["gpu_name"] = torch.cuda.get_device_name(device)
    return described


def keep_freed_memory(threshold=1 << 30):
    """Let glibc reuse freed activations instead of handing them back to the kernel (CPU speed).

    A training step allocates and frees a few hundred MB of activations and gradients. By default
    glibc serves blocks over 32 MB with fresh mmap()s and returns freed memory at the top of the heap
    to the kernel, so every step page-faults the same memory in again and the kernel zeroes it: about
    59,000 page faults per batch of 16, a fifth of a step on CPU (tools/benchmark/throughput.py). Raising both
    thresholds keeps that memory in the process. It changes where tensors live, never what is
    computed: the weights are bit-identical. Returns False (and does nothing) where malloc is not glibc's.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the running process's malloc
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return mallopt(m_mmap_threshold, threshold) == 1 and mallopt(m_trim_threshold, threshold) == 1


def save_atomically(obj, path):
    """torch.save to ``path`` with no partial file left behind, and a full disk named as such.

    Serialised in memory first: torch.save on a full disk fails with "[enforce fail at
    inline_container.cc] unexpected pos" instead of the OSError that names the cause.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(buffer.getbuffer(), path)


def load_checkpoint(path, fingerprint, log=print):
    """The checkpoint at ``path`` if it belongs to this exact training run, else None.

    An unreadable checkpoint (truncated, corrupt) is renamed to ``<path>.corrupt``, named in the log,
    and the training starts over: never trusted, never blocking the training.
    """
    if not os.path.exists(path):
        return None
    try:
        # weights_only: never unpickle arbitrary objects, even from our own checkpoint folder.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(checkpoint, dict):
            raise ValueError(f"a {type(checkpoint).__name__}, not a checkpoint")
    except Exception as error:  # torch.load raises EOFError, RuntimeError, UnpicklingError...
        set_aside = f"{path}.corrupt"
        os.replace(path, set_aside)
        log(
            f"checkpoint {path} is unreadable ({type(error).__name__}: {error}); "
            f"set aside as {set_aside}, starting over"
        )
        return None
    return checkpoint if checkpoint.get("fingerprint") == fingerprint else None


def train_model(images, labels, settings, device, checkpoint_path, fingerprint, log=print, validation=None, model=None):
    """Train ``model`` (default: a StudyCNN initialised from the seed) on uint8 ``images`` (N, H, W) with
    integer ``labels``.

    ``settings``: epochs, batch_size, lr, seed, widths (the study CNN's), optional mixed_precision. ``model``:
    another classifier, built and initialised by the caller (synthcxr.classifiers.new_model). ``validation``:
    optional (images, labels) scored after each epoch, without changing the training. Returns (model,
    history), where history holds per epoch the mean training loss and accuracy, and the validation
    loss and accuracy when ``validation`` has images. A checkpoint (model, optimizer, epoch, history)
    is written after each epoch; a matching checkpoint found at start is resumed. ``log`` gets a
    line per epoch, and one every 30 s within a long epoch, with the time elapsed and left.
    """
    device = torch.device(device)
    if device.type == "cpu":
        keep_freed_memory()
    if model is None:
        seed_everything(settings["seed"])
        model = StudyCNN(widths=tuple(settings["widths"]), image_size=images.shape[-1])
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    history, start_epoch = [], 0
    checkpoint = load_checkpoint(checkpoint_path, fingerprint, log)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history, start_epoch = checkpoint["history"], checkpoint["epoch"]
        log(f"resuming from checkpoint {checkpoint_path} after epoch {start_epoch}")

    x_all = torch.as_tensor(images).to(device)  # uint8 on the device: 16 KB per image
    y_all = torch.as_tensor(labels, dtype=torch.long).to(device)
    has_validation = validation is not None and len(validation[1]) > 0
    if has_validation:
        x_validation = torch.as_tensor(validation[0]).to(device)
        y_validation = torch.as_tensor(validation[1], dtype=torch.long).to(device)
    progress = Progress(settings["epochs"], done=start_epoch, log=log)
    for epoch in range(start_epoch, settings["epochs"]):
        started = time.perf_counter()
        record = {"epoch": epoch + 1, **train_epoch(model, optimizer, x_all, y_all, epoch, settings, progress)}
        if has_validation:
            record |= validation_scores(model, x_validation, y_validation)
        history.append(record)
        save_atomically(
            {
                "fingerprint": fingerprint,
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "history": history,
            },
            checkpoint_path,
        )
        speed = len(y_all) / (time.perf_counter() - started)
        progress.report(f"{epoch_summary(record, settings['epochs'])} ({speed:.0f} images/s)", done=epoch + 1)
    return model, history


def epoch_summary(record, epochs):
    line = f"epoch {record['epoch']}/{epochs}: loss {record['loss']:.4f} accuracy {record['accuracy']:.4f}"
    if "validation_loss" in record:
        line += f", validation loss {record['validation_loss']:.4f} accuracy {record['validation_accuracy']:.4f}"
    return line


def train_epoch(model, optimizer, x_all, y_all, epoch, settings, progress):
    """Epoch ``epoch`` (from 0): one pass over the images in the epoch's order; {"loss", "accuracy"},
    means over the pass.

    Optional bf16 autocast on a GPU (no loss scaling needed); off by default so results match the
    fp32 definition of the study. On the CPU it is never used.
    """
    device = x_all.device
    mixed_precision = bool(settings.get("mixed_precision", False)) and device.type == "cuda"
    batch_size = settings["batch_size"]
    order = epoch_order(len(y_all), settings["seed"], epoch).to(device)
    if has_batch_norm(model) and len(order) % batch_size == 1 and len(order) > 1:
        # BatchNorm cannot train on a batch of one image (one value per channel where the last feature map
        # is 1 x 1): that epoch's last image is left out, a different one each epoch (the order is shuffled).
        order = order[:-1]
    n_batches = -(-len(order) // batch_size)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    for index, start in enumerate(range(0, len(order), batch_size)):
        batch = order[start : start + batch_size]
        x, y = to_input(x_all[batch]), y_all[batch]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mixed_precision):
            logits = model(x)
            loss = loss_fn(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(batch)
        correct += (logits.argmax(1) == y).sum()
        if progress.due():
            message = f"epoch {epoch + 1}/{settings['epochs']}: batch {index + 1}/{n_batches}"
            progress.report(message, done=epoch + (index + 1) / n_batches)
    return {"loss": total_loss.item() / len(order), "accuracy": correct.item() / len(order)}


def has_batch_norm(model):
    """Whether ``model`` normalises with BatchNorm (the torchvision classifiers; not the study CNN)."""
    return any(isinstance(module, nn.modules.batchnorm._BatchNorm) for module in model.modules())


@torch.inference_mode()
def validation_scores(model, images, labels, batch_size=512):
    """Mean cross-entropy and accuracy on uint8 ``images``: eval mode and no gradients, so the
    weights, the optimizer and the random streams of training are untouched."""
    model.eval()
    total_loss, correct = torch.zeros((), device=images.device), torch.zeros((), device=images.device)
    for start in range(0, len(labels), batch_size):
        logits = model(to_input(images[start : start + batch_size])).float()
        y = labels[start : start + batch_size]
        total_loss += nn.functional.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    return {"validation_loss": total_loss.item() / len(labels), "validation_accuracy": correct.item() / len(labels)}


@torch.inference_mode()
def predict_proba(model, images, device, batch_size=512):
    """Probability of class 1 for uint8 ``images`` (N, H, W), in large no-grad batches."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = to_input(torch.as_tensor(images[start : start + batch_size]).to(device))
        out.append(torch.softmax(model(x), dim=1)[:, 1].float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


def load_trained_model(path, widths, image_size, device, model=None):
    """The StudyCNN saved at ``path`` (a state_dict; weights_only: never unpickle arbitrary objects), on ``device``;
    with ``model`` (another classifier, synthcxr.classifiers.build_architecture), the weights loaded into it."""
    model = StudyCNN(widths=tuple(widths), image_size=image_size) if model is None else model
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises RuntimeError, EOFError, UnpicklingError...
        raise ValueError(
            f"cannot read the trained model {path} ({type(error).__name__}: {error}); it is damaged: retrain it "
            f"with `snakemake --cores all --forcerun {path}`"
        ) from error
    model.load_state_dict(state)
    return model.to(device)


def rounded_probabilities(model, images, device, decimals=6):
    """:func:`predict_proba` as float64 rounded once to ``decimals``, so that metrics computed from them
    equal what anyone recomputes from a predictions file."""
    return np.round(predict_proba(model, images, device).astype(np.float64), decimals)


@dataclass
class TrainingJob:
    """One train_model job: the training domain, the domains it learns from and its settings (the rule's params)."""

    train_domain: str
    sources: list
    settings: dict
    classes: list
    percent: int
    split_seed: int

    def describe(self, rows, validation_rows):
        """A log line: what is learned from, and what is held out."""
        return (
            f"training {self.train_domain} (seed {self.settings['seed']}, {self.percent}% of the train split) on "
            f"{len(rows)} images from {self.sources}; {len(validation_rows)} held out to choose the threshold"
        )

    def fingerprint(self, paths, code):
        """What a checkpoint must match to be resumed: settings, ``code`` digests and the data ``paths``' bytes."""
        return run_fingerprint([self.settings, self.percent, self.split_seed, code], paths)

    def manifest_sha256(self, manifest_paths):
        """{source domain: sha256 of its manifest}; ``manifest_paths`` in the order of :attr:`sources`."""
        return {source: file_sha256(path) for source, path in zip(self.sources, manifest_paths)}

    def record(self, rows, validation_rows, manifest_sha256, history, device):
        """The model's history.json: what it learned from, its settings, per-epoch history and provenance."""
        labels = [row["label"] for row in rows]
        return {
            "train_domain": self.train_domain,
            "sources": self.sources,
            "settings": self.settings,
            "config_sha256": config_sha256(self.settings, self.classes, self.split_seed),
            "train_images": len(rows),
            "train_images_per_class": {str(k): labels.count(k) for k in sorted(set(labels))},
            "train_percent": self.percent,
            "validation_fraction": self.settings["validation_fraction"],
            "validation_images": len(validation_rows),
            "manifest_sha256": manifest_sha256,
            "history": history,
            "device": describe_device(device)["device"],
            "packages": package_versions(),
        }
