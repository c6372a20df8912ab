"""Fidelity and diversity measures of a synthetic image set against a real one: the classifier two-sample
test, the feature spaces, the Frechet distance and KID, mean pairwise L2 and MS-SSIM (synthcxr.fidelity puts
them together for one synthetic domain; synthcxr.memorisation holds the nearest-neighbour measures).

Everything works on uint8 images (N, H, W) with 0/1 labels, per class and overall. No pretrained
network is downloaded: the learned feature space is the study CNN trained on the reference domain.

Fidelity
    - Classifier two-sample test (:func:`two_sample_test`): a StudyCNN learns real (0) vs synthetic (1)
      on a random half of each set and is scored by AUROC on the held-out halves, with a percentile
      bootstrap interval (:func:`synthcxr.stats.bootstrap_interval`). 0.5 = indistinguishable, 1 = trivially
      separable.
    - Frechet distance (:func:`frechet_distance`) and KID (:func:`kernel_inception_distance`, unbiased
      MMD^2 with the polynomial kernel ``(x.y / d + 1) ** 3``, mean and std over random subsets) in two
      feature spaces, both reduced by a PCA fitted on the REAL reference images only
      (:class:`FeatureSpace`): ``cnn`` = flattened penultimate (last conv block) features of the
      reference domain's StudyCNN, ``pixel`` = raw pixels in [0, 1]. The PCA scores are divided by one
      scalar (the root mean variance of the real scores) so that both spaces have unit mean variance per
      component; distances therefore compare within a space, not across spaces. The PCA is needed
      because the flattened CNN features have 32768 dimensions at 128 px, far more than there are
      images, where a covariance square root is neither computable nor meaningful. 32 components by
      default, so that even per-class sets of ~100 images estimate the covariance reasonably.
      Both estimates are biased upwards for small sets (the Frechet distance strongly so), so the same
      numbers for real train vs real test images are reported as ``real_baseline``.
Diversity
    - Mean pairwise L2 distance between images (pixels in [0, 1], on at most ``diversity_max_images``
      images) and mean MS-SSIM (:func:`ms_ssim`) of ``msssim_pairs`` random pairs of distinct images,
      for the synthetic set and, as a reference, for the real reference set. Lower MS-SSIM = more diverse.
"""

import math
import os
import tempfile
import warnings

import numpy as np
import torch
from scipy import linalg
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from synthcxr.model import StudyCNN, to_input
from synthcxr.stats import bootstrap_interval
from synthcxr.train import predict_proba, train_model

__all__ = [
    "SETTINGS",
    "resolve_settings",
    "two_sample_test",
    "load_feature_model",
    "cnn_features",
    "pixel_features",
    "FeatureSpace",
    "frechet_distance",
    "kernel_inception_distance",
    "pairwise_l2",
    "mean_pairwise_l2",
    "ms_ssim",
    "msssim_scales",
    "mean_ms_ssim",
]

# The settings every measure reads, all of them given: their defaults are the config schema's (its fidelity
# section, filled in by Snakemake's validation), and rule evaluate_fidelity adds the two-sample classifier's
# training settings (the study CNN's widths, batch size and learning rate) and statistics.alpha.
SETTINGS = (
    "widths",  # StudyCNN widths of the two-sample classifier
    "two_sample_epochs",
    "two_sample_batch_size",
    "two_sample_lr",
    "two_sample_per_class",  # also run the test within each class (two more trainings)
    "seed",
    "n_boot",
    "alpha",  # 1 - coverage of the two-sample AUROC's interval: the study's statistics.alpha
    "reference_split",  # real images compared with the synthetic ones: train | test | all
    "pca_components",
    "kid_subsets",
    "kid_subset_size",
    "diversity_max_images",
    "msssim_pairs",
    "memorization_percentile",
    "closest_pairs",
    # Larger synthetic sets are measured on a random subset of this many images (every measure): the
    # two-sample classifier, features and nearest neighbours grow with the set, their precision hardly.
    "max_synthetic_images",
)

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003, finest scale first


def resolve_settings(settings):
    """``settings`` checked: each of :data:`SETTINGS` given, no other key (a typo in the config)."""
    resolved = dict(settings)
    unknown, missing = sorted(set(resolved) - set(SETTINGS)), sorted(set(SETTINGS) - set(resolved))
    if unknown:
        raise ValueError(f"unknown fidelity settings {unknown}; known: {sorted(SETTINGS)}")
    if missing:
        raise ValueError(f"fidelity settings {missing} not given (the config schema's defaults fill them in)")
    if resolved["reference_split"] not in ("train", "test", "all"):
        raise ValueError(f"reference_split must be train, test or all, got {resolved['reference_split']!r}")
    resolved["widths"] = [int(w) for w in resolved["widths"]]
    return resolved


# ---------------------------------------------------------------------------
# Classifier two-sample test


def _halves(n, rng):
    order = rng.permutation(n)
    return order[: n // 2], order[n // 2 :]


def two_sample_test(real, synthetic, settings, device="cpu", log=print):
    """Real-vs-synthetic classifier two-sample test.

    A StudyCNN (``widths``, ``two_sample_epochs``, ``two_sample_batch_size``, ``two_sample_lr``,
    ``seed`` of ``settings``) is trained with :func:`synthcxr.train.train_model` on a random half of
    each set (real = 0, synthetic = 1; a temporary checkpoint is used and removed) and scored on the
    other halves. Returns a dict: ``auroc``, ``auroc_ci`` [low, high] (percentile bootstrap over the
    held-out images, ``n_boot`` resamples, coverage 1 - ``alpha``), ``accuracy`` at 0.5, ``train_accuracy`` of the last
    epoch, ``n_train`` and ``n_test`` per set. Needs at least 2 images in each set.
    """
    s = resolve_settings(settings)
    real, synthetic = np.asarray(real), np.asarray(synthetic)
    if len(real) < 2 or len(synthetic) < 2:
        raise ValueError(f"the two-sample test needs at least 2 images per set, got {len(real)} and {len(synthetic)}")
    if real.shape[1:] != synthetic.shape[1:]:
        raise ValueError(f"image sizes differ: {real.shape[1:]} vs {synthetic.shape[1:]}")
    rng = np.random.default_rng([s["seed"], 2])
    real_fit, real_eval = _halves(len(real), rng)
    synth_fit, synth_eval = _halves(len(synthetic), rng)
    x_fit = np.concatenate([real[real_fit], synthetic[synth_fit]])
    y_fit = np.r_[np.zeros(len(real_fit), int), np.ones(len(synth_fit), int)]
    train_settings = {
        "epochs": int(s["two_sample_epochs"]),
        "batch_size": int(s["two_sample_batch_size"]),
        "lr": float(s["two_sample_lr"]),
        "widths": s["widths"],
        "seed": int(s["seed"]),
    }
    with tempfile.TemporaryDirectory(prefix="two_sample_") as tmp:
        model, history = train_model(
            x_fit, y_fit, train_settings, device, os.path.join(tmp, "checkpoint.pt"), "two-sample", log=log
        )
    x_eval = np.concatenate([real[real_eval], synthetic[synth_eval]])
    y_eval = np.r_[np.zeros(len(real_eval), int), np.ones(len(synth_eval), int)]
    prob = predict_proba(model, x_eval, device).astype(np.float64)
    auroc = float(roc_auc_score(y_eval, prob))
    low, high = bootstrap_interval(
        y_eval, prob, "auroc", n_boot=int(s["n_boot"]), alpha=float(s["alpha"]), seed=int(s["seed"])
    )
    result = {
        "auroc": auroc,
        "auroc_ci": [low, high],
        "accuracy": float(np.mean((prob >= 0.5) == y_eval)),
        "train_accuracy": history[-1]["accuracy"] if history else None,
        "n_train": {"real": len(real_fit), "synthetic": len(synth_fit)},
        "n_test": {"real": len(real_eval), "synthetic": len(synth_eval)},
    }
    log(f"two-sample test: AUROC {auroc:.3f} [{low:.3f}, {high:.3f}] on {len(y_eval)} held-out images")
    return result


# ---------------------------------------------------------------------------
# Feature spaces


def load_feature_model(path, image_size, device="cpu"):
    """A StudyCNN from a state_dict file; the widths are read from the conv weights."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    conv_keys = sorted(
        (k for k in state if k.startswith("features.") and k.endswith(".weight") and state[k].ndim == 4),
        key=lambda k: int(k.split(".")[1]),
    )
    widths = tuple(int(state[k].shape[0]) for k in conv_keys)
    model = StudyCNN(widths=widths, image_size=image_size)
    model.load_state_dict(state)
    return model.to(device).eval()


@torch.inference_mode()
def cnn_features(model, images, device="cpu", batch_size=256):
    """Flattened output of ``model.features`` (the classifier's input) as float64 (N, D)."""
    model.eval()
    out = [
        torch.flatten(model.features(to_input(torch.as_tensor(images[s : s + batch_size]).to(device))), 1)
        .double()
        .cpu()
        for s in range(0, len(images), batch_size)
    ]
    return torch.cat(out).numpy() if out else np.zeros((0, 0))


def pixel_features(images):
    """Pixels in [0, 1] as float64 (N, H * W)."""
    images = np.asarray(images)
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


class FeatureSpace:
    """PCA fitted on real features; scores scaled to unit mean variance per component (one scalar)."""

    def __init__(self, real_features, n_components=32, seed=0):
        real_features = np.asarray(real_features, dtype=np.float64)
        k = int(min(n_components, len(real_features) - 1, real_features.shape[1]))
        if k < 1:
            raise ValueError(f"need at least 2 real images to fit the feature space, got {len(real_features)}")
        self.pca = PCA(n_components=k, svd_solver="full", random_state=seed).fit(real_features)
        variance = float(np.mean(self.pca.explained_variance_))
        self.scale = math.sqrt(variance) if variance > 0 else 1.0
        self.n_components = k
        self.explained_variance_ratio = float(np.sum(self.pca.explained_variance_ratio_))

    def transform(self, features):
        return self.pca.transform(np.asarray(features, dtype=np.float64)) / self.scale


def frechet_distance(x, y):
    """Frechet distance between Gaussians fitted to feature sets ``x`` (n, d) and ``y`` (m, d).

    ``|mu_x - mu_y|^2 + tr(S_x + S_y - 2 (S_x S_y)^(1/2))`` with :func:`scipy.linalg.sqrtm`. A singular
    product is retried with 1e-6 added to both diagonals; the imaginary part that ``sqrtm`` may leave
    from rounding is dropped. Needs at least 2 rows in each set.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"the Frechet distance needs at least 2 samples per set, got {len(x)} and {len(y)}")
    mu_x, mu_y = x.mean(0), y.mean(0)
    cov_x, cov_y = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
    with warnings.catch_warnings():
        # Covariances of fewer images than dimensions are singular: expected here, not worth a warning.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_x @ cov_y)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(cov_x)) * 1e-6
            covmean = linalg.sqrtm((cov_x + offset) @ (cov_y + offset))
    covmean = np.real(covmean)
    diff = mu_x - mu_y
    return float(diff @ diff + np.trace(cov_x) + np.trace(cov_y) - 2.0 * np.trace(covmean))


def _polynomial_kernel(a, b):
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def kernel_inception_distance(x, y, n_subsets=100, subset_size=100, seed=0):
    """KID: unbiased MMD^2 with kernel ``(a.b / d + 1) ** 3``, averaged over random subsets.

    Each of ``n_subsets`` draws takes ``m = min(subset_size, len(x), len(y))`` rows of each set without
    replacement. Returns (mean, std over subsets, m). Needs m >= 2. With m equal to both set sizes all
    subsets coincide and the std is 0.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    m = int(min(subset_size, len(x), len(y)))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_subsets):
        a = x[rng.choice(len(x), m, replace=False)]
        b = y[rng.choice(len(y), m, replace=False)]
        k_aa, k_bb, k_ab = _polynomial_kernel(a, a), _polynomial_kernel(b, b), _polynomial_kernel(a, b)
        within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
        values.append(within - 2.0 * k_ab.mean())
    values = np.asarray(values)
    return float(values.mean()), float(values.std()), m


# ---------------------------------------------------------------------------
# Distances, diversity and MS-SSIM


def pairwise_l2(a, b, chunk=1024):
    """Euclidean distances (len(a), len(b)) between rows, in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    b_sq = np.einsum("ij,ij->i", b, b)
    out = np.empty((len(a), len(b)))
    for s in range(0, len(a), chunk):
        part = a[s : s + chunk]
        d2 = np.einsum("ij,ij->i", part, part)[:, None] + b_sq[None, :] - 2.0 * part @ b.T
        out[s : s + chunk] = np.sqrt(np.maximum(d2, 0.0))
    return out


def mean_pairwise_l2(images, max_images=200, seed=0):
    """Mean L2 distance (pixels in [0, 1]) over all pairs of at most ``max_images`` random images."""
    images = np.asarray(images)
    if len(images) < 2:
        return None
    rng = np.random.default_rng(seed)
    if len(images) > max_images:
        images = images[np.sort(rng.choice(len(images), max_images, replace=False))]
    d = pairwise_l2(pixel_features(images), pixel_features(images))
    return float(d[np.triu_indices(len(images), 1)].mean())


def msssim_scales(image_size, window=7):
    """Scales used for ``image_size``: up to 5, while the coarsest side is at least twice the window."""
    scales = 1
    while scales < len(MS_SSIM_WEIGHTS) and image_size / 2**scales >= 2 * window:
        scales += 1
    return scales


def _gaussian_window(size, sigma):
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(coords**2) / (2.0 * sigma**2))
    return g / g.sum()


def _blur(x, g):
    """Separable Gaussian filter, 'valid' borders (no padding)."""
    return F.conv2d(F.conv2d(x, g.view(1, 1, 1, -1)), g.view(1, 1, -1, 1))


def ms_ssim(a, b, window=7, sigma=1.5, scales=None, data_range=1.0):
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003) of image pairs ``a[i]``, ``b[i]``.

    ``a``, ``b``: uint8 arrays (N, H, W) (scaled to [0, 1]) or float arrays/tensors in [0, data_range]
    of the same shape; a single (H, W) pair is accepted too. Gaussian window of ``window`` px and
    ``sigma``, 'valid' filtering, K1 = 0.01, K2 = 0.03. Scale j = 1..M halves the image by 2x2 average
    pooling; the contrast-structure term of scales 1..M-1 and the full SSIM of scale M are combined with
    the standard exponents (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) truncated to M scales and renormalised
    to sum to 1. ``scales`` defaults to :func:`msssim_scales` (4 at 128 px, the coarsest being 16 px).
    Negative terms are clamped to 0 before the powers (as in common implementations). Returns a float64
    numpy array (N,), or a float for a single pair. An image with itself scores exactly 1.
    """
    single = np.ndim(a) == 2
    a, b = (_as_unit_tensor(v, data_range) for v in (a, b))
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    size = min(a.shape[-2:])
    scales = scales or msssim_scales(size, window)
    if size / 2 ** (scales - 1) < window:
        raise ValueError(f"{scales} scales need images of at least {window * 2 ** (scales - 1)} px, got {size}")
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales], dtype=torch.float64)
    weights = weights / weights.sum()
    g = _gaussian_window(window, sigma)
    c1, c2 = 0.01**2, 0.03**2
    terms = []
    for level in range(scales):
        mu_a, mu_b = _blur(a, g), _blur(b, g)
        var_a = _blur(a * a, g) - mu_a**2
        var_b = _blur(b * b, g) - mu_b**2
        cov = _blur(a * b, g) - mu_a * mu_b
        cs_map = (2.0 * cov + c2) / (var_a + var_b + c2)
        if level < scales - 1:
            terms.append(cs_map.mean((1, 2, 3)))
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
        else:
            luminance = (2.0 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
            terms.append((luminance * cs_map).mean((1, 2, 3)))
    stacked = torch.stack(terms, 1).clamp(min=0.0)
    values = torch.prod(stacked**weights, 1).numpy()
    return float(values[0]) if single else values


def _as_unit_tensor(x, data_range):
    x = np.asarray(x) if not torch.is_tensor(x) else x
    if not torch.is_tensor(x):
        x = torch.as_tensor(x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64))
    else:
        x = x.double() / 255.0 if x.dtype == torch.uint8 else x.double()
    x = x / data_range if data_range != 1.0 else x
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[:, None]
    return x


def mean_ms_ssim(images, n_pairs=200, seed=0, batch_size=64, **kwargs):
    """Mean MS-SSIM over ``n_pairs`` random pairs of distinct images (None for fewer than 2 images)."""
    images = np.asarray(images)
    if len(images) < 2:
        return None
    rng = np.random.default_rng(seed)
    first = rng.integers(0, len(images), n_pairs)
    second = (first + rng.integers(1, len(images), n_pairs)) % len(images)  # never the same image
    values = [
        ms_ssim(images[first[s : s + batch_size]], images[second[s : s + batch_size]], **kwargs)
        for s in range(0, n_pairs, batch_size)
    ]
    return float(np.concatenate(values).mean())
