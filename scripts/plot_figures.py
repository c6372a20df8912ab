"""Entry point of rule plot_figures: heat-maps and the confusion-matrix grid."""

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from synthcxr.figures import confusion_grid, heatmap, save
from synthcxr.jobs import logged, read_json

with logged(snakemake.log[0]):
    p = snakemake.params
    out_dir = Path(snakemake.output[0]).parent
    summary = pd.read_csv(snakemake.input.summary)
    for metric in ("accuracy", "f1"):
        save(heatmap(summary, metric, p.train_domains, p.test_domains, p.style), out_dir / f"heatmap_{metric}", p.style["dpi"])
    pooled, seeds = defaultdict(lambda: np.zeros((2, 2), dtype=int)), set()
    for path in snakemake.input.metrics:
        metrics = read_json(path)
        provenance = metrics["provenance"]
        pooled[(provenance["train_domain"], provenance["test_domain"])] += np.asarray(metrics["confusion_matrix"]["counts"])
        seeds.add(provenance["seed"])
    grid = confusion_grid(pooled, p.train_domains, p.test_domains, p.classes, len(seeds))
    save(grid, out_dir / "confusion_matrices", p.style["dpi"])
