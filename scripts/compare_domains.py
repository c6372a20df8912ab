"""Entry point of rule compare_domains: each training domain vs the reference domain (trained with the same
classifier), paired, Holm-corrected over the whole table."""

from synthcxr.classifier_tables import cells_by_classifier, comparisons_by_classifier
from synthcxr.jobs import logged, write_csv

with logged(snakemake.log[0]):
    p = snakemake.params
    cells = cells_by_classifier(snakemake.input.predictions, p.cells, p.classifiers)
    comparisons = comparisons_by_classifier(
        cells,
        p.reference,
        p.train_domains,
        p.test_domains,
        primary=p.primary,
        **p.bootstrap,
    )
    write_csv(comparisons, snakemake.output.csv)
    print(comparisons.to_string())
