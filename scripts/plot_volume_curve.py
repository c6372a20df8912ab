"""Entry point of rule plot_volume_curve: the volume table and figure."""

from pathlib import Path

from synthcxr.analysis import load_volume_points, volume_table
from synthcxr.catalog import LABELS, VOLUME_METRICS
from synthcxr.figures import save, volume_curve
from synthcxr.jobs import logged, write_csv

with logged(snakemake.log[0]):
    p = snakemake.params
    table = volume_table(load_volume_points(p.cells), VOLUME_METRICS, **p.bootstrap)
    write_csv(table, snakemake.output.csv)
    stem = Path(snakemake.output.figure_png).with_suffix("")
    save(volume_curve(table, VOLUME_METRICS, LABELS, alpha=p.bootstrap["alpha"]), stem, p.style["dpi"])
    print(table.to_string())
