"""Point metrics of NORMAL (0) vs PNEUMONIA (1) classifiers: one model's predictions on one test split.

Kept apart from synthcxr.stats (bootstrap and significance tests): the evaluations import only this,
so an edit to a test of significance does not rerun them.

Conventions used throughout:

- ``y_true`` holds 0/1 labels, 1 (PNEUMONIA) is the positive class.
- ``y_prob`` is the predicted probability of PNEUMONIA.
- A hard prediction is PNEUMONIA when ``y_prob >= threshold`` (the same rule as
  :func:`sklearn.metrics.roc_curve`, so thresholds from :func:`choose_threshold`
  can be used directly).

All functions are pure; every float returned is a plain Python float (so the
results can go straight into ``json.dump``).
"""

import numpy as np
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from synthcxr.catalog import METRICS

__all__ = [
    "METRICS",
    "NEEDS_CLASSES",
    "classification_metrics",
    "reliability_curve",
    "choose_threshold",
    "seed_mean_sd",
]


def _check_binary(y_true, y_prob):
    """Validate and return (y_true as int array, y_prob as float array)."""
    y_true = np.asarray(y_true)
    y_prob = np.asarray(y_prob, dtype=float)
    if y_true.ndim != 1 or y_prob.shape != y_true.shape:
        raise ValueError(f"y_true and y_prob must be 1-D of equal length, got shapes {y_true.shape} and {y_prob.shape}")
    if y_true.size == 0:
        raise ValueError("y_true is empty")
    if not np.isin(y_true, [0, 1]).all():
        raise ValueError("y_true must contain only 0 (NORMAL) and 1 (PNEUMONIA)")
    if not np.all((y_prob >= 0) & (y_prob <= 1)):
        raise ValueError("y_prob must be probabilities in [0, 1] (no NaN)")
    return y_true.astype(int), y_prob


def _check_metric_names(metrics):
    unknown = [name for name in metrics if name not in METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}, expected names from {METRICS}")


# ---------------------------------------------------------------------------
# Point estimates


# Metrics about a class are undefined (NaN) when that class is absent from y_true, on the test set
# and in a bootstrap resample alike, so that resamples lacking a class are left out of every interval.
# 0/0 caused by the predictions (no predicted PNEUMONIA: precision; a constant predictor: MCC) is 0,
# as sklearn's zero_division=0: the model, not the test set, is degenerate there.
NEEDS_CLASSES = {
    "sensitivity": (1,),
    "precision": (1,),
    "f1": (1,),
    "auprc": (1,),
    "specificity": (0,),
    "balanced_accuracy": (0, 1),
    "auroc": (0, 1),
    "mcc": (0, 1),
}


def classification_metrics(y_true, y_prob, threshold=0.5):
    """Threshold and ranking metrics of one classifier on one test set.

    Metrics about a class absent from ``y_true`` are NaN (see :data:`NEEDS_CLASSES`): sensitivity,
    precision, F1 and AUPRC without PNEUMONIA images, specificity without NORMAL ones, balanced
    accuracy, AUROC and MCC without either. Otherwise precision, F1 and MCC are 0 where only the
    predictions make them 0/0 (sklearn's ``zero_division=0``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, 0 = NORMAL, 1 = PNEUMONIA.
    y_prob : array-like of shape (n_samples,)
        Predicted probability of PNEUMONIA.
    threshold : float, default=0.5
        Predict PNEUMONIA when ``y_prob >= threshold``.

    Returns
    -------
    metrics : dict
        Floats ``accuracy, balanced_accuracy, sensitivity`` (recall of 1),
        ``specificity`` (recall of 0), ``precision, f1, auroc, auprc``
        (average precision), ``mcc, brier, ece`` (expected calibration error:
        10 equal-width bins on [0, 1], ``sum_b n_b/n * |mean(y)_b - mean(p)_b|``),
        ``majority_baseline_accuracy`` (always predicting the majority class of
        ``y_true``) and ``threshold``; ``confusion_matrix`` ``[[tn, fp], [fn, tp]]``
        (rows true, columns predicted) with ``confusion_matrix_labels`` ``[0, 1]``;
        ints ``n`` and ``n_per_class`` ``{"0": n_normal, "1": n_pneumonia}``.
    """
    y_true, y_prob = _check_binary(y_true, y_prob)
    y_pred = (y_prob >= threshold).astype(int)
    (tn, fp), (fn, tp) = skm.confusion_matrix(y_true, y_pred, labels=[0, 1])
    n_neg, n_pos = int(tn + fp), int(fn + tp)
    mean_predicted, fraction_positive, counts = reliability_curve(y_true, y_prob, n_bins=10)

    scores = {
        "accuracy": lambda: skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y_true, y_pred),
        "sensitivity": lambda: skm.recall_score(y_true, y_pred, labels=[0, 1], pos_label=1, zero_division=0),
        "specificity": lambda: skm.recall_score(y_true, y_pred, labels=[0, 1], pos_label=0, zero_division=0),
        "precision": lambda: skm.precision_score(y_true, y_pred, labels=[0, 1], zero_division=0),
        "f1": lambda: skm.f1_score(y_true, y_pred, labels=[0, 1], zero_division=0),
        "auroc": lambda: skm.roc_auc_score(y_true, y_prob),
        "auprc": lambda: skm.average_precision_score(y_true, y_prob),
        "mcc": lambda: skm.matthews_corrcoef(y_true, y_pred),
        "brier": lambda: skm.brier_score_loss(y_true, y_prob, pos_label=1),
        "ece": lambda: np.sum(counts * np.abs(fraction_positive - mean_predicted)) / counts.sum(),
        "majority_baseline_accuracy": lambda: max(n_neg, n_pos) / (n_neg + n_pos),
        "threshold": lambda: threshold,
    }
    present = {0: n_neg > 0, 1: n_pos > 0}
    result = {
        name: float(score()) if all(present[c] for c in NEEDS_CLASSES.get(name, ())) else float("nan")
        for name, score in scores.items()
    }
    result["confusion_matrix"] = [[int(tn), int(fp)], [int(fn), int(tp)]]
    result["confusion_matrix_labels"] = [0, 1]
    result["n"] = n_neg + n_pos
    result["n_per_class"] = {"0": n_neg, "1": n_pos}
    return result


def reliability_curve(y_true, y_prob, n_bins=10):
    """Reliability diagram data from :func:`sklearn.calibration.calibration_curve`.

    Bins are equal-width on [0, 1]; empty bins are left out.

    Parameters
    ----------
    y_true, y_prob
        As in :func:`classification_metrics`.
    n_bins : int, default=10
        Number of equal-width bins.

    Returns
    -------
    mean_predicted : ndarray of shape (n_nonempty_bins,)
        Mean predicted probability in each bin.
    fraction_positive : ndarray of shape (n_nonempty_bins,)
        Fraction of class 1 in each bin.
    counts : ndarray of shape (n_nonempty_bins,)
        Number of samples in each bin.
    """
    y_true, y_prob = _check_binary(y_true, y_prob)
    fraction_positive, mean_predicted = calibration_curve(
        y_true, y_prob, pos_label=1, n_bins=n_bins, strategy="uniform"
    )
    counts = np.bincount(_calibration_bins(y_prob, n_bins), minlength=n_bins)
    return mean_predicted, fraction_positive, counts[counts > 0]


def _calibration_bins(y_prob, n_bins):
    """Bin index of each probability, exactly as calibration_curve bins them."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], y_prob)


def choose_threshold(y_true, y_prob, method="youden"):
    """Decision threshold chosen on validation data (never on test data).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True 0/1 labels of the validation slice; both classes required.
    y_prob : array-like of shape (n_samples,)
        Predicted probability of class 1.
    method : {"youden"}, default="youden"
        ``"youden"`` maximises Youden's J = sensitivity + specificity - 1 over
        the thresholds of :func:`sklearn.metrics.roc_curve` (first one on ties,
        i.e. the highest threshold).

    Returns
    -------
    threshold : float
        Predict class 1 when ``y_prob >= threshold``.
    """
    y_true, y_prob = _check_binary(y_true, y_prob)
    if method != "youden":
        raise ValueError(f"unknown method {method!r}, expected 'youden'")
    if np.unique(y_true).size != 2:
        raise ValueError("choose_threshold needs both classes in y_true")
    fpr, tpr, thresholds = skm.roc_curve(y_true, y_prob, drop_intermediate=False)
    finite = np.isfinite(thresholds)  # roc_curve starts with +inf (nothing positive)
    youden_j = (tpr - fpr)[finite]
    return float(thresholds[finite][np.argmax(youden_j)])


def seed_mean_sd(values):
    """Mean and sample standard deviation over seeds (axis 0), the one rule for every table.

    A value undefined for one seed leaves the mean undefined (NaN propagates): averaging the seeds
    where it happens to be defined would mix different sets of models in one row.

    Parameters
    ----------
    values : array-like of shape (n_seeds, ...)
        One value (or one array of values) per seed.

    Returns
    -------
    mean, sd : float or ndarray of shape values.shape[1:]
        Mean over seeds and standard deviation with ddof=1 (NaN with fewer than 2 seeds).
    """
    values = np.asarray(values, dtype=float)
    if values.shape[0] == 0:
        raise ValueError("seed_mean_sd needs at least one seed")
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.full(values.shape[1:], np.nan)
    if values.ndim == 1:
        return float(mean), float(sd)
    return mean, sd
