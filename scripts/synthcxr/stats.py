"""Uncertainty of the metrics of NORMAL (0) vs PNEUMONIA (1) classifiers: bootstrap intervals, paired
comparisons and tests of significance (point metrics: synthcxr.metrics).

The conventions of synthcxr.metrics hold here too (``y_true``, ``y_prob``, ``threshold``; pure functions
returning plain Python floats). In addition, ``groups`` (optional) are patient-group ids; the bootstrap
then resamples whole groups (cluster bootstrap) instead of single images.
"""

import functools

import numpy as np
from scipy import optimize, stats

from synthcxr.catalog import METRICS
from synthcxr.metrics import (
    NEEDS_CLASSES,
    _calibration_bins,
    _check_binary,
    _check_metric_names,
)

__all__ = [
    "bootstrap_interval",
    "bootstrap_intervals",
    "MIN_DOMAIN_SEEDS",
    "seed_level",
    "welch_satterthwaite_df",
    "seed_level_half_width",
    "seed_level_p_value",
    "seed_averaged_intervals",
    "paired_bootstrap_differences",
    "bootstrap_p_value",
    "bootstrap_p_floor",
    "mcnemar_test",
    "delong_test",
    "holm_adjust",
]

# ---------------------------------------------------------------------------
# Bootstrap
#
# A resample is stored as a row of weights: how many times each image is drawn.
# Every metric is then a weighted metric, so all resamples (and all metrics) are
# computed at once with array operations instead of a Python loop.


def _bootstrap_weights(n_samples, groups, n_boot, rng):
    """(n_boot, n_samples) counts of each image in each resample."""
    if groups is None:
        return rng.multinomial(n_samples, np.full(n_samples, 1.0 / n_samples), size=n_boot)
    groups = np.asarray(groups)
    if groups.shape != (n_samples,):
        raise ValueError(f"groups must have shape ({n_samples},), got {groups.shape}")
    _, group_index = np.unique(groups, return_inverse=True)
    n_groups = group_index.max() + 1
    group_counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=n_boot)
    return group_counts[:, group_index]  # every image gets the count of its group


def _divide(numerator, denominator):
    """numerator / denominator, 0 where the denominator is 0 (zero_division=0)."""
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _resampled_roc_points(y_true, y_prob, weights):
    """(tp, fp): weighted positives and negatives scored >= each distinct score, per row of weights.

    Both of shape (n_boot, n_distinct_scores), scores descending; ties as in sklearn (one point per
    distinct score).
    """
    order = np.argsort(-y_prob, kind="stable")  # descending scores
    scores = y_prob[order]
    is_pos = y_true[order] == 1
    last_of_tie = np.r_[scores[1:] != scores[:-1], True]
    w = weights[:, order]
    return np.cumsum(w * is_pos, axis=1)[:, last_of_tie], np.cumsum(w * ~is_pos, axis=1)[:, last_of_tie]


def _auroc(tp, fp):
    """Trapezoidal area under each row's (fp, tp) curve, as sklearn.metrics.auc (NaN/inf for one class)."""
    d_tp, d_fp = np.diff(tp, axis=1, prepend=0), np.diff(fp, axis=1, prepend=0)
    return np.sum(d_fp * (tp - d_tp / 2), axis=1) / (tp[:, -1] * fp[:, -1])


def _auprc(tp, fp):
    """AP = sum_k (R_k - R_{k-1}) P_k of each row, as sklearn.metrics.average_precision_score."""
    return np.sum(np.diff(tp, axis=1, prepend=0) * _divide(tp, tp + fp), axis=1) / tp[:, -1]


def _resampled_ece(y_true, y_prob, w):
    """n * ECE per row of weights: sum over bins of |sum(y) - sum(p)|, i.e. n_b * |mean(y)_b - mean(p)_b|."""
    in_bin = np.eye(10)[_calibration_bins(y_prob, 10)]  # (n_samples, 10) one-hot
    return np.abs(w @ ((y_true - y_prob)[:, None] * in_bin)).sum(axis=1)


def _resampled_metrics(y_true, y_prob, weights, threshold, metrics=METRICS):
    """``metrics`` (names from METRICS) for each row of weights: dict name -> ndarray (n_boot,).

    Only the metrics asked for are computed (the ranking ones cost most). NaN where the resample
    lacks a class the metric needs (:data:`NEEDS_CLASSES`).
    """
    w = weights.astype(float)
    pos = y_true == 1
    pred = y_prob >= threshold
    tp, fn = w @ (pos & pred), w @ (pos & ~pred)
    fp, tn = w @ (~pos & pred), w @ (~pos & ~pred)
    total = tp + fn + fp + tn
    roc_points = functools.cache(lambda: _resampled_roc_points(y_true, y_prob, w))
    scores = {
        "accuracy": lambda: (tp + tn) / total,
        "balanced_accuracy": lambda: (tp / (tp + fn) + tn / (tn + fp)) / 2,
        "sensitivity": lambda: tp / (tp + fn),
        "specificity": lambda: tn / (tn + fp),
        "precision": lambda: _divide(tp, tp + fp),
        "f1": lambda: _divide(2 * tp, 2 * tp + fp + fn),
        "auroc": lambda: _auroc(*roc_points()),
        "auprc": lambda: _auprc(*roc_points()),
        "mcc": lambda: _divide(tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))),
        "brier": lambda: w @ (y_prob - y_true) ** 2 / total,
        "ece": lambda: _resampled_ece(y_true, y_prob, w) / total,
    }
    present = {0: tn + fp > 0, 1: tp + fn > 0}
    resampled = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in metrics:
            needed = [present[c] for c in NEEDS_CLASSES.get(name, ())]
            values = scores[name]()
            resampled[name] = np.where(np.logical_and.reduce(needed), values, np.nan) if needed else values
    return resampled


# Range of each metric of METRICS: MCC lies in [-1, 1], every other one in [0, 1].
METRIC_RANGES = {name: (-1.0, 1.0) if name == "mcc" else (0.0, 1.0) for name in METRICS}


def _percentile_interval(values, alpha):
    """(low, high) percentile interval of the non-NaN values."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def bootstrap_intervals(y_true, y_prob, metrics=METRICS, groups=None, n_boot=1000, alpha=0.05, seed=0, threshold=0.5):
    """Percentile bootstrap intervals of several metrics from the same resamples.

    Resamples images with replacement, or whole groups when ``groups`` is given
    (cluster bootstrap). Resamples in which a metric is undefined (a class it
    needs is absent, see :data:`NEEDS_CLASSES`) are left out for that metric.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True 0/1 labels.
    y_prob : array-like of shape (n_samples,)
        Predicted probability of class 1.
    metrics : sequence of str, default=METRICS
        Names from :data:`METRICS`.
    groups : array-like of shape (n_samples,), default=None
        Patient-group id of each image.
    n_boot : int, default=1000
        Number of bootstrap resamples.
    alpha : float, default=0.05
        Interval covers ``1 - alpha``.
    seed : int, default=0
        Seed of :func:`numpy.random.default_rng`; same seed, same intervals.
    threshold : float, default=0.5
        Predict class 1 when ``y_prob >= threshold``.

    Returns
    -------
    intervals : dict
        Metric name -> ``(low, high)`` floats.
    """
    y_true, y_prob = _check_binary(y_true, y_prob)
    _check_metric_names(metrics)
    weights = _bootstrap_weights(y_true.size, groups, n_boot, np.random.default_rng(seed))
    resampled = _resampled_metrics(y_true, y_prob, weights, threshold, metrics)
    return {name: _percentile_interval(resampled[name], alpha) for name in metrics}


def bootstrap_interval(y_true, y_prob, metric, groups=None, n_boot=1000, alpha=0.05, seed=0, threshold=0.5):
    """Percentile bootstrap interval of one metric.

    See :func:`bootstrap_intervals` (same resamples for the same seed).

    Parameters
    ----------
    y_true, y_prob, groups, n_boot, alpha, seed, threshold
        As in :func:`bootstrap_intervals`.
    metric : str
        Name from :data:`METRICS`.

    Returns
    -------
    low, high : float
        Interval bounds.
    """
    intervals = bootstrap_intervals(
        y_true,
        y_prob,
        [metric],
        groups=groups,
        n_boot=n_boot,
        alpha=alpha,
        seed=seed,
        threshold=threshold,
    )
    return intervals[metric]


# ---------------------------------------------------------------------------
# Several seeds of one training domain: the seed-averaged metric and its interval
#
# A cell of the study has one model per training seed, all tested on the same
# images. Its headline number is the mean over seeds of each metric. With at
# least MIN_DOMAIN_SEEDS seeds its interval is about the training domain (the
# metric expected of a model trained on it with a new seed, on new test images of
# the split's population): a t-calibrated interval of two parts, the variance of
# the seed mean over patient-group resamples of the test split with the seed
# models held fixed, and the seeds' variance s^2 / k with Welch-Satterthwaite
# degrees of freedom (k - 1 for one domain). A percentile bootstrap of k seed values has
# normal tails where a t with k - 1 degrees of freedom is needed, so it
# under-covers with the few seeds of a study. With fewer seeds the seed part
# cannot be estimated usefully and the interval is model-level: the percentile
# interval over the test images of these models' mean, which says nothing about
# other seeds. Paired differences follow the same scheme (both domains' seeds).

# Fewest seeds per training domain for a domain-level interval or test; below it, model-level only.
MIN_DOMAIN_SEEDS = 3


def seed_level(*n_seeds):
    """'domain' when each of the domains has at least :data:`MIN_DOMAIN_SEEDS` seeds, else 'model'."""
    return "domain" if min(n_seeds) >= MIN_DOMAIN_SEEDS else "model"


def _check_seed_probs(y_true, y_probs):
    """Validate and return (y_true as int array, y_probs as float (n_seeds, n_samples))."""
    y_probs = np.asarray(y_probs, dtype=float)
    if y_probs.ndim == 1:
        y_probs = y_probs[None, :]
    if y_probs.ndim != 2 or y_probs.shape[0] == 0:
        raise ValueError(f"y_probs must be (n_samples,) or (n_seeds, n_samples), got shape {y_probs.shape}")
    checked = [_check_binary(y_true, row) for row in y_probs]
    return checked[0][0], np.stack([prob for _, prob in checked])


def _per_seed_resamples(y_true, y_probs, weights, threshold, metrics, chunk=1000):
    """``metrics`` for each seed (row of ``y_probs``) and each row of weights: name -> (n_seeds, n_boot).

    ``threshold``: one for all seeds, or one per seed (each model's own, chosen on validation data).

    Resamples are processed ``chunk`` rows at a time to bound memory on large test sets. A metric is
    NaN in the same resamples for every seed (those lacking a class it needs).
    """
    resampled = {name: np.empty((y_probs.shape[0], weights.shape[0])) for name in metrics}
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), (y_probs.shape[0],))  # one per seed's model
    for start in range(0, weights.shape[0], chunk):
        rows = slice(start, start + chunk)
        for index, prob in enumerate(y_probs):
            for name, values in _resampled_metrics(y_true, prob, weights[rows], thresholds[index], metrics).items():
                resampled[name][index, rows] = values
    return resampled


def _seed_values(y_true, y_probs, threshold, metrics):
    """Each seed's metrics on all test images: name -> (n_seeds,)."""
    everything = np.ones((1, y_true.size), dtype=int)
    return {
        name: values[:, 0]
        for name, values in _per_seed_resamples(y_true, y_probs, everything, threshold, metrics).items()
    }


def _seed_term(values):
    """(s^2 / k, k - 1): the seed part of the variance of a mean of k seed values, and its degrees of freedom."""
    return np.var(values, ddof=1) / values.size, values.size - 1


def welch_satterthwaite_df(seed_terms):
    """Welch-Satterthwaite degrees of freedom of a sum of seed parts ``[(s^2 / k, k - 1), ...]`` (one per
    training domain): ``(sum s^2 / k)^2 / sum (s^2 / k)^2 / (k - 1)``; inf when every part is 0."""
    total = sum(term for term, _ in seed_terms)
    denominator = sum(term**2 / df for term, df in seed_terms)
    return float(total**2 / denominator) if denominator > 0 else float("inf")


def seed_level_half_width(image_variance, image_df, seed_terms, alpha):
    """Half-width of the ``1 - alpha`` interval of a seed-averaged estimate (a mean or a difference of means).

    Each part of the standard error gets its own t quantile and the two are added in quadrature:
    ``sqrt((t_seed * se_seed)^2 + (t_images * se_images)^2)``, ``se_seed^2 = sum s^2 / k`` with
    :func:`welch_satterthwaite_df` degrees of freedom (both domains' seeds for a difference) and
    ``se_images^2 = image_variance`` with ``image_df``. One Welch-Satterthwaite t over both parts is
    anti-conservative with 3 seeds (coverage 0.92 in tests/unit/test_stats.py's simulation): its estimated
    degrees of freedom grow exactly when the seed variance happens to come out small.

    Parameters
    ----------
    image_variance : float
        Variance of the estimate over resamples of the test split with the seed models held fixed.
    image_df : float
        Degrees of freedom of ``image_variance`` (patient groups - 1).
    seed_terms : sequence of (float, int)
        Per training domain, (s^2 / k, k - 1) of its k seed values.
    alpha : float
        Interval covers ``1 - alpha``.

    Returns
    -------
    half_width : float
    """
    seed_variance = sum(term for term, _ in seed_terms)
    t_seed = stats.t.ppf(1 - alpha / 2, welch_satterthwaite_df(seed_terms))
    t_images = stats.t.ppf(1 - alpha / 2, image_df)
    return float(np.sqrt(t_seed**2 * seed_variance + t_images**2 * image_variance))


def seed_level_p_value(diff, image_variance, image_df, seed_terms):
    """Two-sided p-value of "no difference" matching :func:`seed_level_half_width`: the ``alpha`` at which the
    interval's half-width equals ``|diff|`` (1 for a zero difference; NaN where the variance is undefined)."""
    if np.isnan(image_variance) or any(np.isnan(term) for term, _ in seed_terms):
        return float("nan")
    if diff == 0:
        return 1.0

    def excess(alpha):
        return seed_level_half_width(image_variance, image_df, seed_terms, alpha) - abs(diff)

    smallest = 1e-15
    if excess(smallest) <= 0:  # no variance, or a difference beyond any quantile that matters
        return smallest
    return float(optimize.brentq(excess, smallest, 1.0, xtol=1e-12))


def _image_variance(replicates):
    """Variance of the defined replicates (NaN where fewer than 2 are defined)."""
    defined = replicates[~np.isnan(replicates)]
    return float(np.var(defined, ddof=1)) if defined.size > 1 else float("nan")


def _image_df(groups, n_samples):
    """Degrees of freedom of the test-image part: patient groups (images without groups) - 1."""
    return max((n_samples if groups is None else len(np.unique(np.asarray(groups)))) - 1, 1)


def seed_averaged_intervals(
    y_true, y_probs, metrics=METRICS, groups=None, n_boot=1000, alpha=0.05, seed=0, threshold=0.5
):
    """Intervals of metrics averaged over several seeds' models tested on the same images.

    With at least :data:`MIN_DOMAIN_SEEDS` seeds (domain level): ``mean ±`` :func:`seed_level_half_width`,
    an interval of the training domain's expected metric over seeds, from the variance of the seed mean
    over ``n_boot`` resamples of the images (whole groups when ``groups`` is given) with the seed models
    held fixed and from the seeds' s^2 / k. With fewer seeds (model level): the percentile interval of the
    seed mean over the same resamples, about these models only; with one seed it equals
    :func:`bootstrap_intervals` with the same ``seed``. Bounds beyond the metric's range
    (:data:`METRIC_RANGES`) are clipped to it.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True 0/1 labels.
    y_probs : array-like of shape (n_seeds, n_samples) or (n_samples,)
        Predicted probability of class 1 from each seed's model.
    metrics : sequence of str, default=METRICS
        Names from :data:`METRICS`.
    groups : array-like of shape (n_samples,), default=None
        Patient-group id of each image (cluster bootstrap).
    n_boot : int, default=1000
        Number of bootstrap resamples of the test images.
    alpha : float, default=0.05
        Interval covers ``1 - alpha``.
    seed : int, default=0
        Seed of :func:`numpy.random.default_rng` (the resampling, not a model seed).
    threshold : float or array-like of shape (n_seeds,), default=0.5
        Predict class 1 when ``y_prob >= threshold``; one threshold per seed's model (e.g. each chosen on
        validation data) or one for all.

    Returns
    -------
    intervals : dict
        Metric name -> ``(low, high)`` floats (NaN when undefined).
    """
    y_true, y_probs = _check_seed_probs(y_true, y_probs)
    _check_metric_names(metrics)
    weights = _bootstrap_weights(y_true.size, groups, n_boot, np.random.default_rng(seed))
    resampled = _per_seed_resamples(y_true, y_probs, weights, threshold, metrics)
    domain_level = seed_level(y_probs.shape[0]) == "domain"
    values = _seed_values(y_true, y_probs, threshold, metrics) if domain_level else {}
    image_df = _image_df(groups, y_true.size)
    intervals = {}
    for name in metrics:
        replicates = resampled[name].mean(axis=0)  # seed models held fixed
        if not domain_level:
            intervals[name] = _percentile_interval(replicates, alpha)
            continue
        mean = values[name].mean()
        half = seed_level_half_width(_image_variance(replicates), image_df, [_seed_term(values[name])], alpha)
        intervals[name] = (mean - half, mean + half)
    # A symmetric interval, like the percentile one, can reach past a bound of the metric (an AUROC above 1).
    return {name: tuple(float(np.clip(bound, *METRIC_RANGES[name])) for bound in intervals[name]) for name in metrics}


# ---------------------------------------------------------------------------
# Two training domains, several seeds each, on the same test images
#
# A claim about training domains must survive both the finite test set and the
# luck of the seeds: the test-image part of the difference's variance comes from
# resamples of the test groups shared by both domains (paired on images), the
# seed part from each domain's seed values, with Welch-Satterthwaite degrees of
# freedom. With fewer than MIN_DOMAIN_SEEDS seeds in either domain the comparison
# is model-level (the bootstrap over test images of these models' difference).


def bootstrap_p_value(differences):
    """Two-sided bootstrap p-value of "no difference" from bootstrap differences ``d*``.

    ``2 * (1 + min(#{d* <= 0}, #{d* >= 0})) / (n + 1)``, capped at 1, over the n non-NaN
    differences (NaN when there are none): twice the smaller tail beyond 0, with the +1 that keeps
    a p-value from being 0 with finitely many resamples.
    """
    differences = np.asarray(differences, dtype=float)
    differences = differences[~np.isnan(differences)]
    if differences.size == 0:
        return float("nan")
    tail = min(np.sum(differences <= 0), np.sum(differences >= 0))
    return float(min(1.0, 2 * (1 + tail) / (differences.size + 1)))


def bootstrap_p_floor(n_boot):
    """The smallest p-value :func:`bootstrap_p_value` can return from ``n_boot`` replicates: 2 / (n_boot + 1).

    A p-value at this floor says only that the true p-value is about this small or smaller.
    """
    return 2 / (n_boot + 1)


def paired_bootstrap_differences(
    y_true, probs, reference, metrics=METRICS, groups=None, n_boot=1000, alpha=0.05, seed=0, threshold=0.5
):
    """Each training domain's seed-averaged metrics minus the reference domain's, on the same images.

    Domain level (both domains with at least :data:`MIN_DOMAIN_SEEDS` seeds): the interval ``diff ±``
    :func:`seed_level_half_width` and the p-value :func:`seed_level_p_value`, from the variance of the
    difference over ``n_boot`` resamples of the images (of groups when given; the same resample for both
    domains, seed models held fixed) and both domains' s^2 / k: they speak about the training domains.
    Model level (fewer seeds): the percentile interval and :func:`bootstrap_p_value` of the same
    resamples: they speak about these models only. The reference's resamples are computed once.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True 0/1 labels.
    probs : dict
        Domain name -> predicted probabilities of class 1 of its seeds' models, array-like of shape
        (n_seeds, n_samples) or (n_samples,); the numbers of seeds may differ between domains.
    reference : str
        The key of ``probs`` every other domain is compared with.
    metrics, groups, n_boot, alpha, seed, threshold
        As in :func:`seed_averaged_intervals`.

    Returns
    -------
    differences : dict
        Domain name (all but ``reference``) -> metric name -> dict with ``diff`` (seed-averaged metric
        of the domain minus that of the reference on all images), interval ``low, high``, ``p_value``
        and ``level`` ('domain' or 'model', :func:`seed_level`); NaN numbers where undefined.
    """
    if reference not in probs:
        raise ValueError(f"reference {reference!r} is not among the domains {list(probs)}")
    y_true, _ = _check_seed_probs(y_true, probs[reference])
    checked = {name: _check_seed_probs(y_true, domain_probs)[1] for name, domain_probs in probs.items()}
    _check_metric_names(metrics)
    weights = _bootstrap_weights(y_true.size, groups, n_boot, np.random.default_rng(seed))
    image_df = _image_df(groups, y_true.size)
    values, boot = {}, {}
    for name, domain_probs in checked.items():
        values[name] = _seed_values(y_true, domain_probs, threshold, metrics)
        resampled = _per_seed_resamples(y_true, domain_probs, weights, threshold, metrics)
        boot[name] = {metric: resampled[metric].mean(axis=0) for metric in metrics}
    return {
        name: {
            metric: _difference_summary(
                values[name][metric],
                values[reference][metric],
                boot[name][metric] - boot[reference][metric],
                image_df,
                alpha,
            )
            for metric in metrics
        }
        for name in checked
        if name != reference
    }


def _difference_summary(values, reference_values, replicates, image_df, alpha):
    """{diff, low, high, p_value, level} of one domain's seed ``values`` against the reference's, with the
    bootstrap ``replicates`` of the difference of seed means (seed models fixed); NaN numbers where the
    difference, or every replicate, is undefined."""
    level = seed_level(values.size, reference_values.size)
    diff = values.mean() - reference_values.mean()
    if np.isnan(diff) or np.isnan(replicates).all():
        nan = float("nan")
        return {"diff": nan, "low": nan, "high": nan, "p_value": nan, "level": level}
    if level == "model":
        low, high = _percentile_interval(replicates, alpha)
        return {"diff": float(diff), "low": low, "high": high, "p_value": bootstrap_p_value(replicates), "level": level}
    seed_terms = [_seed_term(values), _seed_term(reference_values)]
    image_variance = _image_variance(replicates)
    half = seed_level_half_width(image_variance, image_df, seed_terms, alpha)
    return {
        "diff": float(diff),
        "low": float(diff - half),
        "high": float(diff + half),
        "p_value": seed_level_p_value(diff, image_variance, image_df, seed_terms),
        "level": level,
    }


# ---------------------------------------------------------------------------
# Paired comparisons of two classifiers on the same test images


def mcnemar_test(y_true, pred_a, pred_b):
    """Exact McNemar test of two classifiers' hard predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True 0/1 labels.
    pred_a, pred_b : array-like of shape (n_samples,)
        0/1 predictions of the two classifiers on the same images.

    Returns
    -------
    result : dict
        ``b`` (A right, B wrong), ``c`` (A wrong, B right), ``statistic``
        (``min(b, c)``), ``p_value`` (two-sided exact binomial test of ``b`` out
        of ``b + c`` with p = 0.5, :func:`scipy.stats.binomtest`; 1 when
        ``b + c == 0``) and ``method``.
    """
    y_true, pred_a, pred_b = np.asarray(y_true), np.asarray(pred_a), np.asarray(pred_b)
    if not (y_true.ndim == 1 and pred_a.shape == y_true.shape == pred_b.shape):
        raise ValueError("y_true, pred_a and pred_b must be 1-D of equal length")
    correct_a, correct_b = pred_a == y_true, pred_b == y_true
    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    p_value = stats.binomtest(b, b + c, 0.5).pvalue if b + c > 0 else 1.0
    return {
        "b": b,
        "c": c,
        "statistic": float(min(b, c)),
        "p_value": float(p_value),
        "method": "exact binomial McNemar (two-sided)",
    }


def delong_test(y_true, prob_a, prob_b):
    """DeLong test of two correlated AUROCs (fast midrank algorithm).

    Implements Sun & Xu (2014), "Fast implementation of DeLong's algorithm for
    comparing the areas under correlated receiver operating characteristic
    curves", IEEE Signal Processing Letters 21(11).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True 0/1 labels; needs at least 2 of each class.
    prob_a, prob_b : array-like of shape (n_samples,)
        Predicted probability of class 1 from the two classifiers.

    Returns
    -------
    result : dict
        ``diff`` = AUROC(a) - AUROC(b), its standard error ``se``, ``z`` and
        two-sided normal ``p_value`` (z = 0, p = 1 when se = diff = 0). All NaN
        with fewer than 2 samples of a class.
    """
    y_true, prob_a = _check_binary(y_true, prob_a)
    _, prob_b = _check_binary(y_true, prob_b)
    m, n = int(np.sum(y_true == 1)), int(np.sum(y_true == 0))
    nan = float("nan")
    if m < 2 or n < 2:
        return {"diff": nan, "se": nan, "z": nan, "p_value": nan}
    scores = np.stack([prob_a, prob_b])  # (2 classifiers, n_samples)
    x, y = scores[:, y_true == 1], scores[:, y_true == 0]
    tx = stats.rankdata(x, axis=1)  # midranks within positives
    ty = stats.rankdata(y, axis=1)  # midranks within negatives
    tz = stats.rankdata(np.hstack([x, y]), axis=1)  # midranks in the pooled sample
    auc = tz[:, :m].sum(axis=1) / (m * n) - (m + 1) / (2 * n)
    v10 = (tz[:, :m] - tx) / n  # per positive: share of negatives scored lower
    v01 = 1 - (tz[:, m:] - ty) / m  # per negative: share of positives scored higher
    cov = np.cov(v10) / m + np.cov(v01) / n
    diff = auc[0] - auc[1]
    se = np.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0))
    if se > 0:
        z = diff / se
        p_value = 2 * stats.norm.sf(abs(z))
    elif diff == 0:
        z, p_value = 0.0, 1.0
    else:
        z, p_value = nan, nan
    return {"diff": float(diff), "se": float(se), "z": float(z), "p_value": float(p_value)}


# ---------------------------------------------------------------------------
# Multiple comparisons


def holm_adjust(p_values):
    """Holm-Bonferroni adjusted p-values (family-wise error rate).

    Parameters
    ----------
    p_values : array-like of shape (n_tests,)
        Raw p-values; NaN stays NaN and does not count as a test.

    Returns
    -------
    adjusted : ndarray of shape (n_tests,)
        ``max_{j <= i} min(1, (m - j + 1) p_(j))`` for the i-th smallest of the m
        non-NaN p-values, in the input order.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    order = valid[np.argsort(p[valid])]
    adjusted[order] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1.0)
    return adjusted
