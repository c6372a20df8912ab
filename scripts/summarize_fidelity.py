"""Entry point of rule summarize_fidelity: the fidelity table and figure."""

import numpy as np

from synthcxr.fidelity_summary import (
    INTRO,
    TITLE,
    closest_pairs_figure,
    fidelity_figure,
    fidelity_rows,
    html,
    markdown,
)
from synthcxr.figures import save
from synthcxr.jobs import atomic_open, logged, read_json, write_csv

with logged(snakemake.log[0]):
    p = snakemake.params
    metrics = {domain: read_json(path) for domain, path in zip(p.domains, snakemake.input.metrics)}
    table = fidelity_rows(metrics, p.references)
    write_csv(table, snakemake.output.csv)
    with atomic_open(snakemake.output.markdown) as out:
        out.write(f"# {TITLE}\n\n{INTRO}\n\n{markdown(table)}\n")
    with atomic_open(snakemake.output.html) as out:
        out.write(html(table))
    save(fidelity_figure(table), snakemake.output.figure_png[: -len(".png")], dpi=p.dpi)
    for domain, pairs_path, figure_path in zip(p.domains, snakemake.input.pairs, snakemake.output.pairs):
        with np.load(pairs_path, allow_pickle=False) as pairs:
            figure = closest_pairs_figure(dict(pairs), p.classes, title=f"{domain} against its training images")
        save(figure, figure_path[: -len(".png")], dpi=p.dpi)
    print(table.to_string())
