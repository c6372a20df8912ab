"""Entry point of rule plot_volume_curve: the volume table and figure."""

from collections import defaultdict
from pathlib import Path

from synthcxr.analysis import volume_table
from synthcxr.catalog import LABELS, VOLUME_METRICS
from synthcxr.figures import save, volume_curve
from synthcxr.jobs import logged, read_json, write_csv
from synthcxr.predictions import read_predictions

with logged(snakemake.log[0]):
    p = snakemake.params
    points = defaultdict(lambda: {"tables": {}, "train_images": []})
    for cell in p.cells:
        point = points[(cell["train"], cell["percent"], cell["test"])]
        point["tables"][cell["seed"]] = read_predictions(cell["predictions"])
        point["train_images"].append(read_json(cell["history"])["train_images"])
    table = volume_table(points, VOLUME_METRICS, **p.bootstrap)
    write_csv(table, snakemake.output.csv)
    stem = Path(snakemake.output.figure_png).with_suffix("")
    save(volume_curve(table, VOLUME_METRICS, LABELS, alpha=p.bootstrap["alpha"]), stem, p.style["dpi"])
    print(table.to_string())
