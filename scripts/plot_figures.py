"""Entry point of rule plot_figures: heat-maps, confusion matrices, ROC and reliability curves, training
curves, samples.

Only reads finished tables and predictions; the bootstrap statistics are computed upstream (rules
summarize and compare_domains), so a styling change reruns this rule alone and quickly.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from synthcxr import analysis, classifier_tables, figures, jobs
from synthcxr.catalog import COMPARED_METRICS, PLOT_FIGURES, heatmap_name

SAMPLES_PER_CLASS = 4

with jobs.logged(snakemake.log[0]):
    p = snakemake.params
    out_dir = Path(snakemake.output[0]).parent
    stems = {name: out_dir / name for name in PLOT_FIGURES}  # the rule's outputs, less .png and .pdf
    dpi = p.style["dpi"]
    # Several classifiers: one row per (classifier, training domain), labelled classifier_tables.row_label.
    summary = classifier_tables.labelled_rows(pd.read_csv(snakemake.input.summary))
    marks = analysis.significance_marks(classifier_tables.labelled_rows(pd.read_csv(snakemake.input.comparisons)))
    trains = classifier_tables.labelled_trains(p.train_domains, p.classifiers)
    several = len(p.classifiers) > 1
    reference = f"the same classifier's {p.reference}" if several else p.reference

    for metric in COMPARED_METRICS:
        figure = figures.heatmap(
            summary, metric, trains, p.test_domains, p.style, marks, reference, p.test_labels, alpha=p.alpha
        )
        figures.save(figure, stems[heatmap_name(metric)], dpi)

    metrics = [jobs.read_json(path) for path in snakemake.input.metrics]
    classifier_tables.label_trainings(metrics, p.classifiers, holder=lambda cell: cell["provenance"])
    pooled, by_seed, seeds = figures.confusion_counts(metrics)
    grid = figures.confusion_grid(pooled, trains, p.test_domains, p.classes, len(seeds))
    figures.save(grid, stems["confusion_matrices"], dpi)
    grid = figures.confusion_grid_by_seed(by_seed, trains, p.test_domains, p.classes, seeds)
    figures.save(grid, stems["confusion_matrices_by_seed"], dpi)

    by_classifier = classifier_tables.cells_by_classifier(snakemake.input.predictions, p.cells, p.classifiers)
    cells = classifier_tables.labelled_cells(by_classifier)
    figures.save(figures.roc_curves(cells, summary, trains, p.test_domains), stems["roc_curves"], dpi)
    figures.save(figures.reliability_grid(cells, summary, trains, p.test_domains), stems["reliability"], dpi)

    histories = [jobs.read_json(path) for path in snakemake.input.histories]
    classifier_tables.label_trainings(histories, p.classifiers)
    curves = figures.training_curves(figures.histories_by_domain(histories), trains)
    figures.save(curves, stems["training_curves"], dpi)

    samples = {
        domain: figures.class_samples(
            np.load(images_path, mmap_mode="r"),
            pd.read_csv(manifest_path, keep_default_na=False),
            len(p.classes),
            per_class=SAMPLES_PER_CLASS,
        )
        for domain, images_path, manifest_path in zip(
            p.sample_domains, snakemake.input.images, snakemake.input.manifests
        )
    }
    figures.save(figures.sample_grid(samples, p.classes, SAMPLES_PER_CLASS), stems["sample_images"], dpi)
