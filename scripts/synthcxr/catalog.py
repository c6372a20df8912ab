"""The study's metrics: which exist, which each table, figure and test uses, and how they are named; the
figures of rule plot_figures.

One definition for the whole workflow (standard library only, so the rule files can read it too).
"""

# Scalar metrics of one model on one test split (synthcxr.metrics.classification_metrics).
METRICS = (
    "accuracy",
    "balanced_accuracy",
    "sensitivity",
    "specificity",
    "precision",
    "f1",
    "auroc",
    "auprc",
    "mcc",
    "brier",
    "ece",
)
# Metrics that depend on the decision threshold: reported again at the threshold chosen on validation data.
THRESHOLD_METRICS = ("accuracy", "balanced_accuracy", "sensitivity", "specificity", "precision", "f1", "mcc")
# Metrics with a bootstrap interval per cell (the headline table): all but the calibration scores.
INTERVAL_METRICS = tuple(name for name in METRICS if name not in ("brier", "ece"))
# Metrics compared between training domains (each one test in the Holm family); the heat-maps and the
# findings' sentences show the same ones.
COMPARED_METRICS = ("accuracy", "balanced_accuracy", "f1", "auroc")
# Metrics of the volume curve.
VOLUME_METRICS = ("balanced_accuracy", "f1", "auroc")
# How tables, figures and sentences name each metric.
LABELS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "precision": "precision",
    "f1": "F1",
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "mcc": "MCC",
    "brier": "Brier score",
    "ece": "calibration error",
    "majority_baseline_accuracy": "majority baseline",
}


def heatmap_name(metric):
    """The figure (results/figures/{name}.png) of the heat-map of ``metric``."""
    return f"heatmap_{metric}"


# The figures rule plot_figures draws (results/figures/{name}.png and .pdf): a heat-map per compared metric first.
PLOT_FIGURES = (
    *(heatmap_name(metric) for metric in COMPARED_METRICS),
    "confusion_matrices",
    "confusion_matrices_by_seed",
    "roc_curves",
    "reliability",
    "training_curves",
    "sample_images",
)
