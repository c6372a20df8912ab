"""Entry point of rule make_demo_domain: render one demo domain of non-medical phantoms."""

from synthcxr.jobs import logged
from synthcxr.phantoms import write_demo_domain

with logged(snakemake.log[0]):
    p = snakemake.params
    count = write_demo_domain(
        snakemake.output[0], per_class=p.per_class, shift=p.shift, seed=p.seed, class_names=p.classes, size=p.image_size
    )
    print(f"demo domain {snakemake.wildcards.domain}: wrote {count} phantom images (shift {p.shift})")
