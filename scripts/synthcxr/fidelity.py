"""Fidelity, diversity and memorisation of a synthetic domain against its real reference domain.

Everything works on uint8 images (N, H, W) with 0/1 labels, per class and overall. No pretrained
network is downloaded: the learned feature space is the study CNN trained on the reference domain.

The measures are in synthcxr.fidelity_measures (two-sample test, feature spaces, distances, diversity) and
synthcxr.memorisation (nearest neighbours, copies); this module puts them together per group (overall and
each class) for one synthetic domain; synthcxr.fidelity_files reads the prepared caches for the rule.
"""

import math

import numpy as np

from synthcxr.fidelity_measures import (
    FeatureSpace,
    cnn_features,
    frechet_distance,
    kernel_inception_distance,
    mean_ms_ssim,
    mean_pairwise_l2,
    msssim_scales,
    pixel_features,
    resolve_settings,
    two_sample_test,
)
from synthcxr.memorisation import memorization, memorization_summary

__all__ = [
    "evaluate_fidelity",
]


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
    settings,
    class_names=("NORMAL", "PNEUMONIA"),
    device="cpu",
    log=print,
):
    """All fidelity, diversity and memorisation metrics of one synthetic domain (``settings``: each of
    :data:`synthcxr.fidelity_measures.SETTINGS`).

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
