"""Entry point of rule compare_domains: each training domain vs the reference domain, paired, Holm-corrected."""

from synthcxr.analysis import comparison_table, load_cells
from synthcxr.jobs import logged, write_csv

with logged(snakemake.log[0]):
    p = snakemake.params
    cells = load_cells(snakemake.input.predictions, snakemake.params.cells)
    comparisons = comparison_table(
        cells,
        p.reference,
        p.train_domains,
        p.test_domains,
        primary=p.primary,
        **p.bootstrap,
    )
    write_csv(comparisons, snakemake.output.csv)
    print(comparisons.to_string())
