"""Class-conditional image generators (VAE and DCGAN-style GAN) for synthetic chest X-ray domains.

Both models work on 1-channel square images whose side is divisible by 16 (four stride-2 stages,
128 -> 8). They are trained on one prepared domain's TRAIN split (uint8 (N, H, W) + 0/1 labels) and
then sample a chosen number of images per class, written as 8-bit grayscale PNGs in ImageFolder
layout ``<out_dir>/<CLASS_NAME>/<class_lower>_<index:05d>.png``.

- VAE (:class:`ConditionalVAE`): conv encoder (image + one-hot label maps) -> (mu, log variance);
  decoder (z concatenated with the one-hot label) -> pixel logits. Loss per image: binary cross-entropy
  of the pixels (summed over pixels, intensities in [0, 1] as targets) + ``beta`` * KL(q(z|x,y) || N(0, I)).
  No batch-norm, so a sample does not depend on the batch it is decoded in.
- GAN (:class:`ConditionalGAN`): DCGAN generator (z + one-hot label -> linear -> 4 transposed convs
  with batch-norm and ReLU -> tanh) and discriminator (image + one-hot label maps -> 4 strided convs
  with LeakyReLU(0.2), batch-norm after the first -> linear logit). Non-saturating BCE-with-logits
  losses, Adam(lr, betas (0.5, 0.999)) for both networks, N(0, 0.02) weight initialisation.
  Sampling uses the generator in eval mode (batch-norm running statistics).

Training mirrors :func:`synthcxr.train.train_model`: a checkpoint (models, optimizers, epoch,
history, progress grids) is written atomically after every epoch and resumed when its fingerprint
matches; every random draw during training comes from a generator seeded with (seed, epoch), so a
resumed run ends with the same weights as an uninterrupted one (on CPU; CUDA kernels may differ in
the last bits). One loop (:func:`train_generator`) trains both kinds; what differs, the update of one
batch, is the kind's step (:class:`_VAEStep`, :class:`_GANStep`).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn
from torch.nn import functional as F

from synthcxr.model import to_input
from synthcxr.progress import Progress
from synthcxr.train import epoch_order, load_checkpoint, save_atomically, seed_everything

__all__ = [
    "KINDS",
    "DEFAULT_SETTINGS",
    "resolve_settings",
    "ConditionalVAE",
    "ConditionalGAN",
    "build_model",
    "train_vae",
    "train_gan",
    "train_generator",
    "describe_training",
    "sample",
    "write_samples",
    "write_sample_grid",
    "write_progress_grid",
    "save_generator",
    "load_generator",
    "milestone_epochs",
]

KINDS = ("vae", "gan")
N_CLASSES = 2
CLASS_NAMES = ("NORMAL", "PNEUMONIA")  # label order
STAGES = 4  # stride-2 stages: image_size must be divisible by 2**STAGES

# Defaults tuned on the demo phantoms (~120 training images per class, 128 px) to give recognisable
# samples within a few minutes on 2 CPU cores. Config values override them key by key.
# beta 4 (not 1) for the VAE: with beta 1 the few-image posterior leaves "holes" in N(0, I), and prior
# samples come out mottled; with 4 they are smooth, blurry chests. ``beta`` is unused by the GAN.
DEFAULT_SETTINGS = {
    "vae": {"latent_dim": 32, "base_channels": 16, "epochs": 40, "batch_size": 16, "lr": 1e-3, "beta": 4.0, "seed": 0},
    "gan": {"latent_dim": 64, "base_channels": 16, "epochs": 40, "batch_size": 8, "lr": 2e-4, "beta": 1.0, "seed": 0},
}
PROGRESS_PER_CLASS = 8  # images per class in each progress grid


def resolve_settings(kind, settings=None):
    """Defaults of ``kind`` overridden by ``settings``; unknown keys are an error (typos in config)."""
    if kind not in KINDS:
        raise ValueError(f"generator kind must be one of {KINDS}, got {kind!r}")
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS[kind]))
    if unknown:
        raise ValueError(f"unknown {kind} settings {unknown}; known: {sorted(DEFAULT_SETTINGS[kind])}")
    resolved = {**DEFAULT_SETTINGS[kind], **settings}
    for key in ("latent_dim", "base_channels", "epochs", "batch_size", "seed"):
        resolved[key] = int(resolved[key])
    for key in ("lr", "beta"):
        resolved[key] = float(resolved[key])
    if resolved["epochs"] < 1 or resolved["batch_size"] < 1 or resolved["latent_dim"] < 1:
        raise ValueError(f"epochs, batch_size and latent_dim must be positive, got {resolved}")
    return resolved


def _check_image_size(image_size):
    if image_size % 2**STAGES or image_size < 2**STAGES:
        raise ValueError(f"image_size must be a positive multiple of {2**STAGES}, got {image_size}")
    return image_size // 2**STAGES


def _one_hot(labels, n_classes=N_CLASSES):
    return F.one_hot(labels.long(), n_classes).float()


def _label_maps(labels, size, n_classes=N_CLASSES):
    """One-hot labels as constant (N, n_classes, size, size) maps, concatenated to image channels."""
    return _one_hot(labels, n_classes)[:, :, None, None].expand(-1, -1, size, size)


def _widths(base_channels):
    return [base_channels * 2**i for i in range(STAGES)]  # e.g. 16, 32, 64, 128


def _dcgan_init(module):
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class ConditionalVAE(nn.Module):
    """Label-conditioned convolutional VAE; ``decode`` returns pixel logits."""

    def __init__(self, image_size=128, latent_dim=32, base_channels=16, n_classes=N_CLASSES):
        super().__init__()
        self.image_size, self.latent_dim, self.n_classes = image_size, latent_dim, n_classes
        self.base = _check_image_size(image_size)
        widths = _widths(base_channels)
        layers, in_channels = [], 1 + n_classes
        for width in widths:
            layers += [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            in_channels = width
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        flat = widths[-1] * self.base * self.base
        self.to_stats = nn.Linear(flat, 2 * latent_dim)
        self.from_latent = nn.Linear(latent_dim + n_classes, flat)
        layers = []
        for width, out in zip(widths[::-1], widths[::-1][1:] + [1]):
            layers.append(nn.ConvTranspose2d(width, out, 4, stride=2, padding=1))
            if out != 1:
                layers.append(nn.ReLU())
        self.decoder = nn.Sequential(*layers)
        self.top_width = widths[-1]

    def encode(self, x, labels):
        h = self.encoder(torch.cat([x, _label_maps(labels, x.shape[-1], self.n_classes)], 1))
        mu, logvar = self.to_stats(h).chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)

    def decode(self, z, labels):
        h = self.from_latent(torch.cat([z, _one_hot(labels, self.n_classes)], 1))
        h = F.relu(h).view(-1, self.top_width, self.base, self.base)
        return self.decoder(h)

    def generate(self, z, labels):
        """Images in [0, 1] (N, 1, H, W) decoded from latent codes ``z``."""
        return torch.sigmoid(self.decode(z, labels))


class _Generator(nn.Module):
    def __init__(self, image_size, latent_dim, base_channels, n_classes):
        super().__init__()
        self.base = _check_image_size(image_size)
        widths = _widths(base_channels)
        self.top_width = widths[-1]
        self.project = nn.Sequential(
            nn.Linear(latent_dim + n_classes, widths[-1] * self.base * self.base, bias=False),
        )
        self.project_norm = nn.BatchNorm2d(widths[-1])
        layers = []
        for width, out in zip(widths[::-1], widths[::-1][1:]):
            layers += [
                nn.ConvTranspose2d(width, out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(),
            ]
        layers += [nn.ConvTranspose2d(widths[0], 1, 4, stride=2, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.n_classes = n_classes

    def forward(self, z, labels):
        h = self.project(torch.cat([z, _one_hot(labels, self.n_classes)], 1))
        h = F.relu(self.project_norm(h.view(-1, self.top_width, self.base, self.base)))
        return self.net(h)  # in [-1, 1]


class _Discriminator(nn.Module):
    def __init__(self, image_size, base_channels, n_classes):
        super().__init__()
        base = _check_image_size(image_size)
        widths = _widths(base_channels)
        layers, in_channels = [], 1 + n_classes
        for i, width in enumerate(widths):
            layers.append(nn.Conv2d(in_channels, width, 4, stride=2, padding=1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2))
            in_channels = width
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(widths[-1] * base * base, 1))
        self.n_classes = n_classes

    def forward(self, x, labels):
        x = torch.cat([x, _label_maps(labels, x.shape[-1], self.n_classes)], 1)
        return self.net(x).squeeze(1)  # logits


class ConditionalGAN(nn.Module):
    """Container of a DCGAN ``generator`` and ``discriminator``, both conditioned on the label."""

    def __init__(self, image_size=128, latent_dim=64, base_channels=16, n_classes=N_CLASSES):
        super().__init__()
        self.image_size, self.latent_dim, self.n_classes = image_size, latent_dim, n_classes
        self.generator = _Generator(image_size, latent_dim, base_channels, n_classes)
        self.discriminator = _Discriminator(image_size, base_channels, n_classes)
        self.apply(_dcgan_init)

    def generate(self, z, labels):
        """Images in [0, 1] (N, 1, H, W) from latent codes ``z``."""
        return (self.generator(z, labels) + 1.0) / 2.0


def build_model(kind, settings, image_size):
    settings = resolve_settings(kind, settings)
    cls = ConditionalVAE if kind == "vae" else ConditionalGAN
    return cls(image_size=image_size, latent_dim=settings["latent_dim"], base_channels=settings["base_channels"])


# ---------------------------------------------------------------------------
# Training


def milestone_epochs(epochs):
    """Epochs after which a progress grid is drawn: 1, the quarters, and the last."""
    return sorted({1, *(max(1, round(epochs * q)) for q in (0.25, 0.5, 0.75)), epochs})


def _epoch_generator(seed, epoch):
    """The only source of randomness of one epoch (noise, reparameterisation)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch + 7_919)


def _randn(shape, generator, device):
    return torch.randn(shape, generator=generator).to(device)


def _progress_inputs(latent_dim, seed):
    """Fixed latent codes and labels of the progress grids: PROGRESS_PER_CLASS per class."""
    labels = torch.arange(N_CLASSES).repeat_interleave(PROGRESS_PER_CLASS)
    z = torch.randn((len(labels), latent_dim), generator=torch.Generator().manual_seed(seed + 104_729))
    return z, labels


@torch.no_grad()
def _progress_grid(model, z, labels, device):
    was_training = model.training
    model.eval()
    images = model.generate(z.to(device), labels.to(device))
    model.train(was_training)
    return _to_uint8(images).cpu()


def _to_uint8(images):
    """Float images in [0, 1] (N, 1, H, W) -> uint8 (N, H, W)."""
    return images.squeeze(1).clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)


def _write_progress(progress, progress_dir, class_names):
    if progress_dir is None:
        return
    for epoch, grid in progress.items():
        labels = np.repeat(np.arange(N_CLASSES), PROGRESS_PER_CLASS)
        path = Path(progress_dir) / f"epoch_{int(epoch):04d}.png"
        write_progress_grid(grid.numpy(), labels, path, class_names, title=f"epoch {int(epoch)}")


def _checked_data(images, labels):
    """``images`` as uint8 (N, H, W) with H == W and ``labels`` as 0/1, both arrays; else ValueError."""
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be uint8 (N, H, W) with H == W, got {images.dtype} {images.shape}")
    labels = np.asarray(labels)
    if len(labels) != len(images) or len(images) == 0:
        raise ValueError(f"need as many labels as images (and at least one), got {len(labels)} and {len(images)}")
    if not np.isin(labels, np.arange(N_CLASSES)).all():
        raise ValueError("labels must be 0 (NORMAL) or 1 (PNEUMONIA)")
    return images, labels


class _VAEStep:
    """One VAE update per batch: loss = reconstruction (BCE summed over pixels) + beta * KL, mean per image."""

    totals = ("loss", "reconstruction", "kl")  # history keys of the per-image means

    def __init__(self, model, settings):
        self.model, self.beta = model, settings["beta"]
        self.optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
        self.optimizers = {"model": self.optimizer}

    def __call__(self, x, y, rng):
        """Update on uint8 images ``x`` with labels ``y``; returns the batch's sums of :attr:`totals`."""
        x = to_input(x)
        mu, logvar = self.model.encode(x, y)
        z = mu + torch.exp(0.5 * logvar) * _randn(mu.shape, rng, x.device)
        logits = self.model.decode(z, y)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        loss = (recon + self.beta * kl).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return torch.stack([loss.detach() * len(y), recon.detach().sum(), kl.detach().sum()]).double()


class _GANStep:
    """One discriminator then one generator update per batch (DCGAN, non-saturating BCE losses)."""

    totals = ("loss_d", "loss_g", "d_real", "d_fake")  # history keys of the per-image means

    def __init__(self, model, settings):
        self.G, self.D, self.latent_dim = model.generator, model.discriminator, settings["latent_dim"]
        betas = (0.5, 0.999)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=settings["lr"], betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=settings["lr"], betas=betas)
        self.optimizers = {"generator": self.opt_g, "discriminator": self.opt_d}
        self.bce = nn.BCEWithLogitsLoss()

    def __call__(self, x, y, rng):
        """Update on uint8 images ``x`` with labels ``y``; returns the batch's sums of :attr:`totals`."""
        real, device = to_input(x) * 2.0 - 1.0, x.device
        ones, zeros = torch.ones(len(y), device=device), torch.zeros(len(y), device=device)
        fake = self.G(_randn((len(y), self.latent_dim), rng, device), y)
        # Discriminator step: real -> 1, generated -> 0 (generated images detached).
        d_real, d_fake = self.D(real, y), self.D(fake.detach(), y)
        loss_d = self.bce(d_real, ones) + self.bce(d_fake, zeros)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # Generator step, non-saturating: make the updated discriminator call the images real.
        loss_g = self.bce(self.D(fake, y), ones)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        return torch.stack(
            [
                loss_d.detach() * len(y),
                loss_g.detach() * len(y),
                torch.sigmoid(d_real.detach()).sum(),
                torch.sigmoid(d_fake.detach()).sum(),
            ]
        ).double()


_STEPS = {"vae": _VAEStep, "gan": _GANStep}


@dataclass
class _Bookkeeping:
    """What a run keeps and writes besides the weights: history, progress grids, checkpoint, log lines."""

    model: nn.Module
    optimizers: dict
    settings: dict
    checkpoint_path: str
    fingerprint: str
    log: Callable = print
    progress_dir: str | Path | None = None
    class_names: tuple = CLASS_NAMES
    history: list = field(default_factory=list)
    progress: dict = field(default_factory=dict)  # epoch (str) -> uint8 grid
    timer: Progress = field(init=False)  # set by start(), as are:
    device: torch.device = field(init=False)
    z_fixed: torch.Tensor = field(init=False)  # latent codes and labels of the progress grids
    y_fixed: torch.Tensor = field(init=False)

    def start(self, checkpoint, device):
        """Resume ``checkpoint`` when given and start the clock; returns the first epoch to train (from 0)."""
        start_epoch = 0
        if checkpoint is not None:
            self.model.load_state_dict(checkpoint["model"])
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(checkpoint["optimizers"][name])
            self.history, self.progress = checkpoint["history"], checkpoint.get("progress", {})
            _write_progress(self.progress, self.progress_dir, self.class_names)  # epochs before the interruption
            self.log(f"resuming from checkpoint {self.checkpoint_path} after epoch {checkpoint['epoch']}")
            start_epoch = checkpoint["epoch"]
        self.z_fixed, self.y_fixed = _progress_inputs(self.settings["latent_dim"], self.settings["seed"])
        self.device, self.timer = device, Progress(self.settings["epochs"], done=start_epoch, log=self.log)
        return start_epoch

    def batch_done(self, epoch, start, n_images):
        """A progress line within a long epoch, every ``timer.interval`` seconds."""
        if self.timer.due():
            batch_size = self.settings["batch_size"]
            index, n_batches = start // batch_size + 1, -(-n_images // batch_size)
            message = f"epoch {epoch + 1}/{self.settings['epochs']}: batch {index}/{n_batches}"
            self.timer.report(message, done=epoch + index / n_batches)

    def epoch_done(self, record, started, n_images):
        """Keep ``record``, draw a milestone's grid, write the checkpoint and the epoch's log line."""
        self.history.append(record)
        epoch = record["epoch"]
        if epoch in milestone_epochs(self.settings["epochs"]):
            self.progress[str(epoch)] = _progress_grid(self.model, self.z_fixed, self.y_fixed, self.device)
            _write_progress({str(epoch): self.progress[str(epoch)]}, self.progress_dir, self.class_names)
        checkpoint = {
            "fingerprint": self.fingerprint,
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizers": {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()},
            "history": self.history,
            "progress": self.progress,
        }
        save_atomically(checkpoint, self.checkpoint_path)
        seconds = time.perf_counter() - started
        losses = " ".join(f"{k} {v:.4f}" for k, v in record.items() if k != "epoch")
        message = f"epoch {epoch}/{self.settings['epochs']}: {losses} ({n_images / seconds:.0f} images/s)"
        self.timer.report(message, done=epoch)


def train_generator(
    kind,
    images,
    labels,
    settings,
    device,
    checkpoint_path,
    fingerprint,
    log=print,
    progress_dir=None,
    class_names=CLASS_NAMES,
):
    """Train a generator of ``kind`` ("vae" or "gan") on uint8 ``images`` (N, H, W) with 0/1 ``labels``.

    ``settings``: see :data:`DEFAULT_SETTINGS` (missing keys take the defaults). A checkpoint is written
    after each epoch and a matching one (same ``fingerprint``) is resumed. Progress grids (fixed latent
    codes, :data:`PROGRESS_PER_CLASS` per class) are drawn at :func:`milestone_epochs` and written as
    ``progress_dir/epoch_NNNN.png`` when ``progress_dir`` is given. Returns (model in eval mode,
    history); history holds per epoch the means per image of the step's ``totals`` (see
    :func:`train_vae`, :func:`train_gan`).
    """
    images, labels = _checked_data(images, labels)
    settings = resolve_settings(kind, settings)
    seed_everything(settings["seed"])  # the weights' initialisation
    model = build_model(kind, settings, images.shape[-1]).to(device)
    checkpoint = load_checkpoint(checkpoint_path, fingerprint, log)
    x_all = torch.as_tensor(images).to(device)
    y_all = torch.as_tensor(labels, dtype=torch.long).to(device)
    step = _STEPS[kind](model, settings)
    book = _Bookkeeping(model, step.optimizers, settings, checkpoint_path, fingerprint, log, progress_dir, class_names)
    start_epoch = book.start(checkpoint, device)
    n, batch_size = len(y_all), settings["batch_size"]
    for epoch in range(start_epoch, settings["epochs"]):
        started = time.perf_counter()
        model.train()
        rng = _epoch_generator(settings["seed"], epoch)
        order = epoch_order(n, settings["seed"], epoch).to(device)
        totals = torch.zeros(len(step.totals), dtype=torch.float64, device=device)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            totals += step(x_all[batch], y_all[batch], rng)
            book.batch_done(epoch, start, n)
        means = (totals / n).tolist()
        book.epoch_done({"epoch": epoch + 1, **dict(zip(step.totals, means))}, started, n)
    model.eval()
    return model, book.history


def describe_training(kind, labels, settings):
    """A log line: what a generator of ``kind`` learns from, and with which settings."""
    per_class = np.bincount(labels, minlength=N_CLASSES).tolist()
    return f"training a {kind} on {len(labels)} train images ({per_class} per class), settings {settings}"


def train_vae(images, labels, settings, device, checkpoint_path, fingerprint, **options):
    """:func:`train_generator` of a :class:`ConditionalVAE`; history holds per epoch the mean loss,
    reconstruction (BCE summed over pixels) and KL term per image."""
    return train_generator("vae", images, labels, settings, device, checkpoint_path, fingerprint, **options)


def train_gan(images, labels, settings, device, checkpoint_path, fingerprint, **options):
    """:func:`train_generator` of a :class:`ConditionalGAN`. Per batch: one discriminator step (real
    images with their labels -> 1, generated images with the same labels -> 0), then one generator
    step. History holds per epoch the mean discriminator and generator losses and the discriminator's
    mean probability on real and generated images."""
    return train_generator("gan", images, labels, settings, device, checkpoint_path, fingerprint, **options)


# ---------------------------------------------------------------------------
# Sampling and writing


@torch.inference_mode()
def sample(model_kind, model, n_per_class, seed, device, batch_size=64):
    """Draw ``n_per_class`` images of each class from a trained generator.

    Latent codes come from ``torch.Generator().manual_seed(seed)`` on the CPU, so the result is
    deterministic for a seed (on CPU). Returns (images uint8 (2 * n_per_class, H, W), labels int64),
    all class-0 images first.
    """
    if model_kind not in KINDS:
        raise ValueError(f"model_kind must be one of {KINDS}, got {model_kind!r}")
    if n_per_class < 0:
        raise ValueError(f"n_per_class must be non-negative, got {n_per_class}")
    model = model.to(device).eval()
    labels = torch.arange(model.n_classes).repeat_interleave(n_per_class)
    z = torch.randn((len(labels), model.latent_dim), generator=torch.Generator().manual_seed(seed))
    out = [
        _to_uint8(model.generate(z[s : s + batch_size].to(device), labels[s : s + batch_size].to(device))).cpu()
        for s in range(0, len(labels), batch_size)
    ]
    size = model.image_size
    images = torch.cat(out).numpy() if out else np.zeros((0, size, size), np.uint8)
    return images, labels.numpy().astype(np.int64)


def write_samples(images, labels, class_names, out_dir):
    """Write uint8 ``images`` as ``out_dir/<CLASS>/<class_lower>_<index:05d>.png`` (index per class).

    Plain 8-bit grayscale PNGs with no metadata chunks, so the bytes depend only on the pixels.
    Returns the number of files written per class name.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W), got {images.dtype} {images.shape}")
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    counts = {}
    for label, name in enumerate(class_names):
        folder = Path(out_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        selected = images[labels == label]
        for index, image in enumerate(selected):
            Image.fromarray(image).save(folder / f"{name.lower()}_{index:05d}.png", format="PNG")
        counts[name] = len(selected)
    return counts


def write_sample_grid(images, labels, path, per_class=8, class_names=CLASS_NAMES, title=None, gap=2):
    """Save a PNG grid: one row per class (the first ``per_class`` images of it), class name on the left.

    Returns the grid as a uint8 array.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    size = images.shape[-1]
    margin, header = 90, 16 if title else 0
    rows = [images[labels == label][:per_class] for label in range(len(class_names))]
    width = margin + per_class * (size + gap)
    height = header + len(rows) * (size + gap)
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((4, 2), title, fill=0)
    for r, (name, row) in enumerate(zip(class_names, rows)):
        top = header + r * (size + gap)
        draw.text((4, top + size // 2 - 6), name, fill=0)
        for c, image in enumerate(row):
            canvas.paste(Image.fromarray(image), (margin + c * (size + gap), top))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, format="PNG")
    return np.asarray(canvas)


def write_progress_grid(images, labels, path, class_names=CLASS_NAMES, title=None):
    """A grid of the progress folder: the first :data:`PROGRESS_PER_CLASS` images of each class."""
    return write_sample_grid(images, labels, path, per_class=PROGRESS_PER_CLASS, class_names=class_names, title=title)


def save_generator(model, kind, settings, path):
    """Final weights with what is needed to rebuild the model; loadable with ``weights_only=True``."""
    save_atomically(
        {
            "kind": kind,
            "image_size": model.image_size,
            "settings": resolve_settings(kind, settings),
            "state_dict": model.state_dict(),
        },
        str(path),
    )


def load_generator(path, device="cpu"):
    """(kind, model in eval mode) from a file written by :func:`save_generator`."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(saved["kind"], saved["settings"], saved["image_size"])
    model.load_state_dict(saved["state_dict"])
    return saved["kind"], model.to(device).eval()
