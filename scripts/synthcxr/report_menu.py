"""Where each result sits in the Snakemake report: its categories and the figures of rule plot_figures.

Standard library only: the rule files read it while the DAG is built.
"""

from synthcxr.catalog import COMPARED_METRICS

# The report's menu sorts its categories by name: numbered, they appear in reading order.
REPORT_CATEGORIES = {
    name: f"{index}. {name}"
    for index, name in enumerate(["Findings", "Tables", "Figures", "Fidelity", "Methods"], start=1)
}

# The figures of rule plot_figures, in the order of its outputs, each with its subcategory in the report's
# Figures category: one heat-map per compared metric.
PLOT_FIGURES = {
    **{f"heatmap_{metric}": "Heat maps" for metric in COMPARED_METRICS},
    "confusion_matrices": "Errors and calibration",
    "confusion_matrices_by_seed": "Errors and calibration",
    "roc_curves": "Errors and calibration",
    "reliability": "Errors and calibration",
    "training_curves": "Training",
    "sample_images": "Data",
}
FIGURES = list(PLOT_FIGURES)
# Every figure's subcategory, the volume curve's (rule plot_volume_curve) too.
FIGURE_SUBCATEGORIES = PLOT_FIGURES | {"volume_curve": "Training"}
