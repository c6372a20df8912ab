"""Fidelity, diversity and memorisation of a synthetic domain against its real reference domain.

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
Memorisation
    - For each synthetic image the pixel L2 distance to its nearest real TRAIN and nearest real TEST
      image and their ratio; the share of synthetic images whose nearest-train distance is at or below
      the ``memorization_percentile`` (5th) percentile of the real test-to-train nearest-neighbour
      distances ("closer to a training image than typical real pairs"); exact pixel copies; and a figure
      of the closest synthetic/train pairs (:func:`closest_pairs_figure`). Neighbours are searched over all
      real images regardless of class; per-class numbers restrict the synthetic images to one class.
    - The threshold share is confounded by blur (a smooth, average-looking VAE sample is close in L2 to
      many real images without copying any of them), so a calibrated statistic is added: the share of
      synthetic images whose nearest real image (train and test pooled) is a TRAIN image,
      ``nearest_is_train_share``. The split is random, so without copying the share is about
      n_train / (n_train + n_test) (``nearest_is_train_expected``, 0.8 for a 20 % test split); copies
      push it to 1; a one-sided binomial p-value tests "more than expected".
"""

import hashlib
import json
import math
import os
import tempfile
import warnings

import numpy as np
import torch
from scipy import linalg
from scipy.stats import binomtest
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from torch.nn import functional as F

from synthcxr.data import load_split
from synthcxr.jobs import file_sha256, package_versions
from synthcxr.manifest import read_manifest
from synthcxr.model import StudyCNN, to_input
from synthcxr.stats import bootstrap_interval
from synthcxr.train import describe_device, predict_proba, train_model

__all__ = [
    "DEFAULT_SETTINGS",
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
    "nearest_neighbours",
    "memorization",
    "memorization_summary",
    "closest_pairs",
    "evaluate_fidelity",
    "load_sets",
    "evaluate_files",
    "headline",
]

DEFAULT_SETTINGS = {
    "widths": [32, 64, 128],  # StudyCNN widths of the two-sample classifier
    "two_sample_epochs": 5,
    "two_sample_batch_size": 16,
    "two_sample_lr": 1e-3,
    "two_sample_per_class": True,  # also run the test within each class (two more trainings)
    "seed": 0,
    "n_boot": 1000,
    "reference_split": "train",  # real images compared with the synthetic ones: train | test | all
    "pca_components": 32,
    "kid_subsets": 100,
    "kid_subset_size": 100,
    "diversity_max_images": 200,
    "msssim_pairs": 200,
    "memorization_percentile": 5.0,
    "closest_pairs": 8,
    # Larger synthetic sets are measured on a random subset of this many images (every measure): the
    # two-sample classifier, features and nearest neighbours grow with the set, their precision hardly.
    "max_synthetic_images": 5000,
}

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003, finest scale first


def resolve_settings(settings=None):
    """Defaults overridden by ``settings``; unknown keys are an error (typos in config)."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS))
    if unknown:
        raise ValueError(f"unknown fidelity settings {unknown}; known: {sorted(DEFAULT_SETTINGS)}")
    resolved = {**DEFAULT_SETTINGS, **settings}
    if resolved["reference_split"] not in ("train", "test", "all"):
        raise ValueError(f"reference_split must be train, test or all, got {resolved['reference_split']!r}")
    resolved["widths"] = [int(w) for w in resolved["widths"]]
    return resolved


def _clean(value):
    """JSON-ready: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


# ---------------------------------------------------------------------------
# Classifier two-sample test


def _halves(n, rng):
    order = rng.permutation(n)
    return order[: n // 2], order[n // 2 :]


def two_sample_test(real, synthetic, settings=None, device="cpu", log=print):
    """Real-vs-synthetic classifier two-sample test.

    A StudyCNN (``widths``, ``two_sample_epochs``, ``two_sample_batch_size``, ``two_sample_lr``,
    ``seed`` of ``settings``) is trained with :func:`synthcxr.train.train_model` on a random half of
    each set (real = 0, synthetic = 1; a temporary checkpoint is used and removed) and scored on the
    other halves. Returns a dict: ``auroc``, ``auroc_ci`` [low, high] (percentile bootstrap over the
    held-out images, ``n_boot`` resamples, 95 %), ``accuracy`` at 0.5, ``train_accuracy`` of the last
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
    low, high = bootstrap_interval(y_eval, prob, "auroc", n_boot=int(s["n_boot"]), seed=int(s["seed"]))
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


# ---------------------------------------------------------------------------
# Memorisation


def nearest_neighbours(query, reference):
    """(distance, index) of each query row's nearest reference row (Euclidean)."""
    d = pairwise_l2(query, reference)
    index = d.argmin(1)
    return d[np.arange(len(query)), index], index


def _image_keys(images):
    return [hashlib.sha256(image.tobytes()).digest() for image in np.asarray(images)]


def memorization(synthetic, real_train, real_test, percentile=5.0):
    """Nearest-real-image distances of synthetic images (pixels in [0, 1], L2).

    Returns (summary, details). ``details`` holds per synthetic image ``d_train``, ``train_index``,
    ``d_test``, ``ratio`` (d_train / d_test), ``copy`` (pixel-identical to a training image),
    ``nearer_train`` (1 when the nearest real image, train and test pooled, is a train image; 0.5 on a
    tie), ``expected_nearer_train`` = n_train / (n_train + n_test) and the ``threshold``: the
    ``percentile`` of the real test images' nearest-train distances. ``summary`` is
    :func:`memorization_summary` over all synthetic images.

    ``share_below_threshold`` follows the usual definition but is confounded by blur: a smooth,
    average-looking image is close in L2 to many real images without copying any. ``nearer_train`` is
    not: the train/test split is random, so for a generator that has not learned its training images
    in particular the nearest real image is a train image with probability n_train / (n_train + n_test)
    (exchangeability); copies push the share to 1. A one-sided binomial p-value tests "more often than
    expected".
    """
    synthetic, real_train, real_test = (np.asarray(v) for v in (synthetic, real_train, real_test))
    if len(real_train) == 0 or len(real_test) == 0:
        raise ValueError("memorisation needs real train and real test images")
    train_px, synthetic_px = pixel_features(real_train), pixel_features(synthetic)
    to_train = pairwise_l2(synthetic_px, train_px)
    to_test = pairwise_l2(synthetic_px, pixel_features(real_test))
    train_index = to_train.argmin(1)
    d_train = to_train[np.arange(len(synthetic)), train_index]
    d_test = to_test.min(1)
    reference, _ = nearest_neighbours(pixel_features(real_test), train_px)
    nearer_train = np.where(d_train < d_test, 1.0, np.where(d_train > d_test, 0.0, 0.5))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d_test > 0, d_train / np.where(d_test > 0, d_test, 1.0), np.nan)
    train_keys = set(_image_keys(real_train))
    copy = np.array([key in train_keys for key in _image_keys(synthetic)], dtype=bool)
    details = {
        "d_train": d_train,
        "train_index": train_index,
        "d_test": d_test,
        "ratio": ratio,
        "copy": copy,
        "nearer_train": nearer_train,
        "expected_nearer_train": len(real_train) / (len(real_train) + len(real_test)),
        "threshold": float(np.percentile(reference, percentile)),
        "real_test_to_train": reference,
        "percentile": percentile,
    }
    return memorization_summary(details), details


def memorization_summary(details, mask=None):
    """Summary of :func:`memorization` details, optionally for the synthetic images in ``mask``."""
    keep = np.ones(len(details["d_train"]), bool) if mask is None else np.asarray(mask, bool)
    d_train, d_test, ratio = details["d_train"][keep], details["d_test"][keep], details["ratio"][keep]
    below = d_train <= details["threshold"]
    finite = ratio[np.isfinite(ratio)]
    reference = details["real_test_to_train"]
    nearer = details["nearer_train"][keep]

    def stats(values):
        if len(values) == 0:
            return None
        return {"min": float(values.min()), "median": float(np.median(values)), "mean": float(values.mean())}

    return {
        "n_synthetic": int(keep.sum()),
        "threshold_percentile": details["percentile"],
        "threshold": details["threshold"],
        "share_below_threshold": float(below.mean()) if len(below) else None,
        "n_below_threshold": int(below.sum()),
        "n_exact_copies": int(details["copy"][keep].sum()),
        "nearest_train_distance": stats(d_train),
        "nearest_test_distance": stats(d_test),
        "ratio_train_to_test": {
            "median": float(np.median(finite)) if len(finite) else None,
            "mean": float(finite.mean()) if len(finite) else None,
            "share_below_1": float(np.mean(finite < 1.0)) if len(finite) else None,
        },
        "real_test_to_train_distance": stats(reference),
        "nearest_is_train_share": float(nearer.mean()) if len(nearer) else None,
        "nearest_is_train_expected": details["expected_nearer_train"],
        "nearest_is_train_p_value": (
            float(
                binomtest(
                    int(np.floor(nearer.sum())), len(nearer), details["expected_nearer_train"], alternative="greater"
                ).pvalue
            )
            if len(nearer)
            else None
        ),
    }


def closest_pairs(synthetic, synthetic_labels, real_train, details, k=8):
    """The ``k`` synthetic images closest to a real training image, with that image, as plain arrays.

    Saved with :func:`numpy.savez` by the fidelity rule and drawn by the summary rule (which has
    matplotlib): ``synthetic`` and ``train`` (k, H, W) uint8, their indices, the synthetic labels, the
    pixel L2 distance, whether it is an exact copy, and the memorization threshold and its percentile.
    """
    order = np.argsort(details["d_train"], kind="stable")[:k]
    train_index = np.asarray(details["train_index"])[order]
    # details describe the measured subset (see synthetic_subset); index the full set through it.
    used = np.asarray(details.get("synthetic_index", np.arange(len(details["d_train"]))))
    synthetic_index = used[order]
    return {
        "synthetic": np.asarray(synthetic)[synthetic_index],
        "train": np.asarray(real_train)[train_index],
        "synthetic_index": synthetic_index,
        "train_index": train_index,
        "synthetic_label": np.asarray(synthetic_labels)[synthetic_index],
        "distance": np.asarray(details["d_train"])[order],
        "copy": np.asarray(details["copy"], dtype=bool)[order],
        "threshold": np.float64(details["threshold"]),
        "percentile": np.float64(details["percentile"]),
    }


# ---------------------------------------------------------------------------
# Everything for one synthetic domain


def _reference(settings, real_train, train_labels, real_test, test_labels):
    split = settings["reference_split"]
    if split == "train":
        return real_train, train_labels
    if split == "test":
        return real_test, test_labels
    return np.concatenate([real_train, real_test]), np.concatenate([train_labels, test_labels])


def _distances(spaces, a_feats, b_feats, seed, settings):
    out = {}
    for name in spaces:
        a, b = a_feats[name], b_feats[name]
        if len(a) < 2 or len(b) < 2:
            out[name] = None
            continue
        kid_mean, kid_std, m = kernel_inception_distance(
            a, b, int(settings["kid_subsets"]), int(settings["kid_subset_size"]), seed
        )
        out[name] = {"frechet": frechet_distance(a, b), "kid": kid_mean, "kid_std": kid_std, "kid_subset_size": m}
    return out


def synthetic_subset(n_images, max_images, seed):
    """Sorted indices of the synthetic images measured: all of them, or ``max_images`` drawn at random."""
    if n_images <= max_images:
        return np.arange(n_images)
    return np.sort(np.random.default_rng([seed, 5]).choice(n_images, max_images, replace=False))


def _size_matched_frechet(synthetic, train, n, seed, repeats=10):
    """Mean and std of the Frechet distance of ``repeats`` random ``n``-image synthetic subsets to ``train``.

    The Frechet distance is biased upwards the more so the fewer images there are; with n = the number
    of real test images it is comparable with the real baseline (real test vs real train).
    """
    n = min(n, len(synthetic))
    if n < 2 or len(train) < 2:
        return None, None
    rng = np.random.default_rng([seed, 4])
    values = [frechet_distance(synthetic[rng.choice(len(synthetic), n, replace=False)], train) for _ in range(repeats)]
    return float(np.mean(values)), float(np.std(values))


def _measured_synthetic(images, labels, settings, log):
    """Indices of the synthetic images measured (:func:`synthetic_subset`); ``images`` and ``labels``
    (dicts by set name) keep only those."""
    seed, synthetic = int(settings["seed"]), images["synthetic"]
    used = synthetic_subset(len(synthetic), int(settings["max_synthetic_images"]), seed)
    if len(used) < len(synthetic):
        log(f"synthetic: {len(used)} of {len(synthetic)} images measured (max_synthetic_images, seed {seed})")
        images["synthetic"], labels["synthetic"] = np.asarray(synthetic)[used], labels["synthetic"][used]
    return used


def _feature_spaces(feature_model, images, labels, settings, device):
    """(spaces, features): per space (cnn, pixel) its description and the PCA scores of each set
    (synthetic, train, test, reference), the PCA fitted on the real reference."""
    spaces, features = {}, {}
    for name, extract in (("cnn", lambda x: cnn_features(feature_model, x, device)), ("pixel", pixel_features)):
        raw = {key: extract(images[key]) for key in ("synthetic", "train", "test")}
        raw["reference"] = _reference(settings, raw["train"], labels["train"], raw["test"], labels["test"])[0]
        space = FeatureSpace(raw["reference"], int(settings["pca_components"]), int(settings["seed"]))
        spaces[name] = {
            "dimensions": int(raw["reference"].shape[1]),
            "pca_components": space.n_components,
            "explained_variance_ratio": space.explained_variance_ratio,
        }
        features[name] = {key: space.transform(values) for key, values in raw.items()}
        del raw
    return spaces, features


def _group_masks(labels, label):
    """{set name: which of its images are in the group}: every image for ``label`` None, else class ``label``."""
    return {key: np.ones(len(values), bool) if label is None else values == label for key, values in labels.items()}


def _group_two_sample(group, images, masks, settings, device, log):
    """The two-sample test of one group's synthetic and reference images (None with fewer than 2 of either)."""
    syn_mask, ref_mask = masks["synthetic"], masks["reference"]
    if syn_mask.sum() < 2 or ref_mask.sum() < 2:
        return None
    log(f"[{group}] two-sample test")
    return two_sample_test(images["reference"][ref_mask], images["synthetic"][syn_mask], settings, device, log=log)


def _group_distances(features, masks, settings):
    """(distances, real_baseline) of one group: synthetic vs reference, and real test vs real train with the
    Frechet distance of size-matched synthetic subsets (:func:`_size_matched_frechet`)."""
    seed = int(settings["seed"])

    def pick(key):
        return {space: features[space][key][masks[key]] for space in features}

    synthetic, train = pick("synthetic"), pick("train")
    distances = _distances(features, synthetic, pick("reference"), seed, settings)
    baseline = _distances(features, pick("test"), train, seed, settings)
    for space in features:
        if baseline[space] is not None:
            mean, std = _size_matched_frechet(synthetic[space], train[space], int(masks["test"].sum()), seed)
            baseline[space]["synthetic_frechet_same_size"] = mean
            baseline[space]["synthetic_frechet_same_size_std"] = std
    return distances, baseline


def _group_diversity(images, masks, settings):
    """Mean pairwise L2 and mean MS-SSIM of one group's synthetic and reference (``real``) images."""
    seed = int(settings["seed"])
    return {
        who: {
            "mean_l2": mean_pairwise_l2(images[key][masks[key]], int(settings["diversity_max_images"]), seed),
            "ms_ssim": mean_ms_ssim(images[key][masks[key]], int(settings["msssim_pairs"]), seed),
        }
        for who, key in (("synthetic", "synthetic"), ("real", "reference"))
    }


def _group_entry(group, with_two_sample, images, masks, features, settings, device, log):
    """One group's counts, two-sample test (where ``with_two_sample``), distances and diversity."""
    entry = {"n_synthetic": int(masks["synthetic"].sum()), "n_reference": int(masks["reference"].sum())}
    if with_two_sample:
        entry["two_sample"] = _group_two_sample(group, images, masks, settings, device, log)
    entry["distances"], entry["real_baseline"] = _group_distances(features, masks, settings)
    entry["diversity"] = _group_diversity(images, masks, settings)
    return entry


def _class_counts(labels, class_names):
    return {name: int((labels == i).sum()) for i, name in enumerate(class_names)}


def _counts(all_synthetic_labels, labels, class_names, settings):
    """Images per class of each set: the synthetic ones all and measured, the real train and test splits."""
    return {
        "synthetic": _class_counts(all_synthetic_labels, class_names),
        "synthetic_used": _class_counts(labels["synthetic"], class_names),
        "real_train": _class_counts(labels["train"], class_names),
        "real_test": _class_counts(labels["test"], class_names),
        "reference_split": settings["reference_split"],
    }


def _subsample_entry(n_synthetic, used, settings):
    """Whether the synthetic set was measured on a subset (:func:`synthetic_subset`), and how large."""
    return {
        "synthetic_images": n_synthetic,
        "synthetic_used": len(used),
        "max_synthetic_images": int(settings["max_synthetic_images"]),
        "subsampled": len(used) < n_synthetic,
    }


def evaluate_fidelity(
    synthetic,
    synthetic_labels,
    real_train,
    train_labels,
    real_test,
    test_labels,
    feature_model,
    settings=None,
    class_names=("NORMAL", "PNEUMONIA"),
    device="cpu",
    log=print,
):
    """All fidelity, diversity and memorisation metrics of one synthetic domain.

    Returns (metrics, details): ``metrics`` is JSON-ready with ``settings``, ``counts``, ``feature_spaces``
    and ``groups`` -> {"overall", <class name>...} -> {``two_sample``, ``distances`` (synthetic vs the
    real reference; cnn/pixel -> frechet, kid, kid_std, kid_subset_size), ``real_baseline`` (the same for
    real test vs real train, plus ``synthetic_frechet_same_size``: synthetic subsets as large as the real
    test set vs real train, the Frechet number to compare with the baseline), ``diversity``
    (synthetic/real -> mean_l2, ms_ssim), ``memorization``}; ``details`` are the per-image memorisation
    arrays (see :func:`memorization`) for :func:`closest_pairs_figure`, with ``synthetic_index``.

    A synthetic set larger than ``max_synthetic_images`` is measured on a random subset of that size
    (:func:`synthetic_subset`); ``counts`` then gives ``synthetic`` (all) and ``synthetic_used``, and
    ``subsample`` says so.
    """
    s = resolve_settings(settings)
    images = {"synthetic": synthetic, "train": real_train, "test": real_test}
    labels = {
        key: np.asarray(values, int)
        for key, values in (("synthetic", synthetic_labels), ("train", train_labels), ("test", test_labels))
    }
    all_synthetic_labels = labels["synthetic"]
    used = _measured_synthetic(images, labels, s, log)
    images["reference"], labels["reference"] = _reference(s, real_train, labels["train"], real_test, labels["test"])
    log("features: cnn (feature model) and pixel, PCA fitted on the real reference")
    spaces, features = _feature_spaces(feature_model, images, labels, s, device)
    memorized, details = memorization(images["synthetic"], real_train, real_test, float(s["memorization_percentile"]))
    details["synthetic_index"] = used
    groups = {}
    for group, label in [("overall", None)] + [(name, i) for i, name in enumerate(class_names)]:
        masks = _group_masks(labels, label)
        with_two_sample = label is None or s["two_sample_per_class"]
        entry = _group_entry(group, with_two_sample, images, masks, features, s, device, log)
        entry["memorization"] = memorized if label is None else memorization_summary(details, masks["synthetic"])
        groups[group] = entry
        d = entry["distances"]
        log(f"[{group}] " + " ".join(f"{n}: FD {d[n]['frechet']:.3g} KID {d[n]['kid']:.3g}" for n in d if d[n]))
    metrics = {
        "settings": s,
        "counts": _counts(all_synthetic_labels, labels, class_names, s),
        "feature_spaces": spaces,
        "msssim": {"window": 7, "sigma": 1.5, "scales": msssim_scales(images["synthetic"].shape[-1])},
        "groups": groups,
        "subsample": _subsample_entry(len(all_synthetic_labels), used, s),
    }
    return _clean(metrics), details


# ---------------------------------------------------------------------------
# The rule evaluate_fidelity: prepared caches in, metrics and closest pairs out


def _labels(rows):
    return np.array([row["label"] for row in rows], dtype=np.int64)


def load_sets(synthetic_images, synthetic_manifest, real_images, real_manifest):
    """(synthetic, synthetic_labels, real_train, train_labels, real_test, test_labels), the images and labels
    :func:`evaluate_fidelity` compares: every image of the synthetic domain's cache (both splits), and the
    train split (the generator's training images) and test split (held out) of the reference domain's cache.
    """
    synthetic = np.load(synthetic_images)
    synthetic_rows = read_manifest(synthetic_manifest)
    if len(synthetic) != len(synthetic_rows):
        raise ValueError(
            f"{synthetic_images} has {len(synthetic)} images but {synthetic_manifest} lists {len(synthetic_rows)}"
        )
    real_train, train_rows = load_split(real_images, real_manifest, "train")
    real_test, test_rows = load_split(real_images, real_manifest, "test")
    return synthetic, _labels(synthetic_rows), real_train, _labels(train_rows), real_test, _labels(test_rows)


def evaluate_files(inputs, settings, class_names, device, log=print):
    """:func:`evaluate_fidelity` of prepared caches. Returns (metrics with ``provenance``, closest pairs).

    ``inputs``: paths as attributes, named as the rule's input: synthetic_images, synthetic_manifest (the
    synthetic domain's cache), real_images, real_manifest (the reference domain's cache), feature_model
    (state_dict .pt of the reference domain's StudyCNN). The pairs are :func:`closest_pairs` (``closest_pairs``
    of the settings).
    """
    settings = resolve_settings(settings)
    sets = load_sets(inputs.synthetic_images, inputs.synthetic_manifest, inputs.real_images, inputs.real_manifest)
    synthetic, synthetic_labels, real_train, _, real_test, _ = sets
    log(f"synthetic: {len(synthetic)} images; real: {len(real_train)} train, {len(real_test)} test")
    feature_model = load_feature_model(inputs.feature_model, synthetic.shape[-1], device)
    metrics, details = evaluate_fidelity(*sets, feature_model, settings, class_names, device, log=log)
    pairs = closest_pairs(synthetic, synthetic_labels, real_train, details, k=int(settings["closest_pairs"]))
    metrics["provenance"] = {
        "synthetic_manifest_sha256": file_sha256(inputs.synthetic_manifest),
        "real_manifest_sha256": file_sha256(inputs.real_manifest),
        "feature_model_sha256": file_sha256(inputs.feature_model),
        "device": describe_device(device)["device"],
        "packages": package_versions(),
    }
    return metrics, pairs


def headline(metrics):
    """The overall two-sample AUROC and share of synthetic images below the memorisation threshold, as JSON."""
    overall = metrics["groups"]["overall"]
    return json.dumps(
        {
            "two_sample_auroc": (overall.get("two_sample") or {}).get("auroc"),
            "share_below_threshold": overall["memorization"]["share_below_threshold"],
        }
    )
