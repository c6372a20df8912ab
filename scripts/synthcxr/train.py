"""Training the study CNN: plain loop, prepared data kept on the device, a checkpoint per epoch.

Determinism: the model is initialised from the run seed and each epoch's data order comes from
(seed, epoch), so a run resumed from a checkpoint ends with the same weights as an uninterrupted one.
"""

import ctypes
import io
import os
import random
import sys
import time

import numpy as np
import torch
from torch import nn

from synthcxr.jobs import write_bytes
from synthcxr.model import StudyCNN, to_input


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_order(n_images, seed, epoch):
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n_images, generator=generator)


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
    59,000 page faults per batch of 16, a fifth of a step on CPU (scripts/benchmark.py). Raising both
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
        log(f"checkpoint {path} is unreadable ({type(error).__name__}: {error}); set aside as {set_aside}, starting over")
        return None
    return checkpoint if checkpoint.get("fingerprint") == fingerprint else None


def train_model(images, labels, settings, device, checkpoint_path, fingerprint, log=print):
    """Train a StudyCNN on uint8 ``images`` (N, H, W) with integer ``labels``.

    ``settings``: epochs, batch_size, lr, widths, seed, optional mixed_precision. Returns (model,
    history), where history holds the mean training loss and accuracy of each epoch. A checkpoint (model, optimizer, epoch, history)
    is written after each epoch; a matching checkpoint found at start is resumed.
    """
    device = torch.device(device)
    if device.type == "cpu":
        keep_freed_memory()
    seed_everything(settings["seed"])
    model = StudyCNN(widths=tuple(settings["widths"]), image_size=images.shape[-1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    loss_fn = nn.CrossEntropyLoss()
    history, start_epoch = [], 0
    checkpoint = load_checkpoint(checkpoint_path, fingerprint, log)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history, start_epoch = checkpoint["history"], checkpoint["epoch"]
        log(f"resuming from checkpoint {checkpoint_path} after epoch {start_epoch}")

    x_all = torch.as_tensor(images).to(device)  # uint8 on the device: 16 KB per image
    # Optional bf16 autocast on a GPU (no loss scaling needed); off by default so results match the
    # fp32 definition of the study. On the CPU it is never used.
    mixed_precision = bool(settings.get("mixed_precision", False)) and device.type == "cuda"
    y_all = torch.as_tensor(labels, dtype=torch.long).to(device)
    batch_size = settings["batch_size"]
    for epoch in range(start_epoch, settings["epochs"]):
        started = time.perf_counter()
        model.train()
        order = epoch_order(len(y_all), settings["seed"], epoch).to(device)
        total_loss = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for start in range(0, len(order), batch_size):
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
        record = {
            "epoch": epoch + 1,
            "loss": total_loss.item() / len(y_all),
            "accuracy": correct.item() / len(y_all),
        }
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
        seconds = time.perf_counter() - started
        log(
            f"epoch {epoch + 1}/{settings['epochs']}: loss {record['loss']:.4f} "
            f"accuracy {record['accuracy']:.4f} ({len(y_all) / seconds:.0f} images/s)"
        )
    return model, history


@torch.inference_mode()
def predict_proba(model, images, device, batch_size=512):
    """Probability of class 1 for uint8 ``images`` (N, H, W), in large no-grad batches."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = to_input(torch.as_tensor(images[start : start + batch_size]).to(device))
        out.append(torch.softmax(model(x), dim=1)[:, 1].float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)
