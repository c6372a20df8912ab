"""Where each result sits in the Snakemake report: its categories and the figures of rule plot_figures.

Standard library only: the rule files read it while the DAG is built.
"""

from synthcxr.catalog import COMPARED_METRICS, PLOT_FIGURES, heatmap_name

# The report's menu sorts its categories by name: numbered, they appear in reading order.
REPORT_CATEGORIES = {
    name: f"{index}. {name}"
    for index, name in enumerate(["Findings", "Tables", "Figures", "Fidelity", "Methods"], start=1)
}

# Each figure's subcategory in the report's Figures category; the figures of rule plot_figures are named by
# synthcxr.catalog (one heat-map per compared metric, then these).
SUBCATEGORIES = {
    "confusion_matrices": "Errors and calibration",
    "confusion_matrices_by_seed": "Errors and calibration",
    "roc_curves": "Errors and calibration",
    "reliability": "Errors and calibration",
    "training_curves": "Training",
    "sample_images": "Data",
    "volume_curve": "Training",  # rule plot_volume_curve's
}
FIGURES = list(PLOT_FIGURES)
HEATMAPS = {heatmap_name(metric) for metric in COMPARED_METRICS}
# Every figure's subcategory, the volume curve's too.
FIGURE_SUBCATEGORIES = {name: "Heat maps" for name in FIGURES if name in HEATMAPS} | SUBCATEGORIES
