"""Entry point of rule summarize_fidelity: the fidelity table and figure."""

import numpy as np

from synthcxr import fidelity_summary, figures, jobs

with jobs.logged(snakemake.log[0]):
    p = snakemake.params
    metrics = {domain: jobs.read_json(path) for domain, path in zip(p.domains, snakemake.input.metrics)}
    table = fidelity_summary.fidelity_rows(metrics, p.references)
    jobs.write_csv(table, snakemake.output.csv)
    jobs.write_text(fidelity_summary.markdown_page(table, p.alpha), snakemake.output.markdown)
    jobs.write_text(fidelity_summary.html(table, p.alpha), snakemake.output.html)
    figures.save(
        fidelity_summary.fidelity_figure(table, p.alpha), snakemake.output.figure_png[: -len(".png")], dpi=p.dpi
    )
    for domain, pairs_path, figure_path in zip(p.domains, snakemake.input.pairs, snakemake.output.pairs):
        with np.load(pairs_path, allow_pickle=False) as pairs:
            title = f"{domain} against its training images"
            figure = fidelity_summary.closest_pairs_figure(dict(pairs), p.classes, title=title)
        figures.save(figure, figure_path[: -len(".png")], dpi=p.dpi)
    print(table.to_string())
