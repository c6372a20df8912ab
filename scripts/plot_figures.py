"""Entry point of rule plot_figures: heat-maps, confusion matrices, ROC and reliability curves, training
curves, samples.

Only reads finished tables and predictions; the bootstrap statistics are computed upstream (rules
summarize and compare_domains), so a styling change reruns this rule alone and quickly.
"""

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from synthcxr.analysis import load_cells, significance_marks
from synthcxr.catalog import COMPARED_METRICS
from synthcxr.figures import (
    confusion_grid,
    confusion_grid_by_seed,
    heatmap,
    reliability_grid,
    roc_curves,
    sample_grid,
    sample_indices,
    save,
    training_curves,
)
from synthcxr.jobs import logged, read_json

SAMPLES_PER_CLASS = 4

with logged(snakemake.log[0]):
    p = snakemake.params
    out_dir = Path(snakemake.output[0]).parent
    dpi = p.style["dpi"]
    summary = pd.read_csv(snakemake.input.summary)
    marks = significance_marks(pd.read_csv(snakemake.input.comparisons))
    for metric in COMPARED_METRICS:
        figure = heatmap(
            summary, metric, p.train_domains, p.test_domains, p.style, marks, p.reference, p.test_labels, alpha=p.alpha
        )
        save(figure, out_dir / f"heatmap_{metric}", dpi)

    pooled, by_seed = defaultdict(lambda: np.zeros((2, 2), dtype=int)), {}
    for path in snakemake.input.metrics:
        metrics = read_json(path)
        train, test, seed = (metrics["provenance"][key] for key in ("train_domain", "test_domain", "seed"))
        counts = np.asarray(metrics["confusion_matrix"]["counts"])
        pooled[(train, test)] += counts
        by_seed[((train, seed), test)] = counts
    seeds = sorted({seed for (_, seed), _ in by_seed})
    save(
        confusion_grid(pooled, p.train_domains, p.test_domains, p.classes, len(seeds)),
        out_dir / "confusion_matrices",
        dpi,
    )
    grid = confusion_grid_by_seed(by_seed, p.train_domains, p.test_domains, p.classes, seeds)
    save(grid, out_dir / "confusion_matrices_by_seed", dpi)

    cells = load_cells(snakemake.input.predictions, snakemake.params.cells)
    save(roc_curves(cells, summary, p.train_domains, p.test_domains), out_dir / "roc_curves", dpi)
    save(reliability_grid(cells, summary, p.train_domains, p.test_domains), out_dir / "reliability", dpi)

    histories = defaultdict(list)
    for path in snakemake.input.histories:
        history = read_json(path)
        histories[history["train_domain"]].append(history["history"])
    save(training_curves(histories, p.train_domains), out_dir / "training_curves", dpi)

    samples = {}
    for domain, images_path, manifest_path in zip(p.sample_domains, snakemake.input.images, snakemake.input.manifests):
        images = np.load(images_path, mmap_mode="r")
        manifest = pd.read_csv(manifest_path, keep_default_na=False)
        samples[domain] = {
            label: np.asarray(images[sample_indices(manifest, label, per_class=SAMPLES_PER_CLASS)])
            for label in range(len(p.classes))
        }
    save(sample_grid(samples, p.classes, SAMPLES_PER_CLASS), out_dir / "sample_images", dpi)
