"""Entry point of rule prepare_domain: decode, split and cache one domain."""

import numpy as np

from synthcxr.jobs import atomic_open, logged, write_json
from synthcxr.manifest import write_manifest
from synthcxr.prepare import prepare_domain

with logged(snakemake.log[0]):
    p = snakemake.params
    settings = snakemake.config["domains"][snakemake.wildcards.domain]
    images, rows, report = prepare_domain(
        snakemake.wildcards.domain,
        p.folder,
        p.classes,
        image_size=p.image_size,
        test_fraction=p.test_fraction,
        split_seed=p.split_seed,
        group_pattern=p.group_pattern,
        # From the config, not a param: switching it must not re-prepare domains without bad images.
        on_bad_image=snakemake.config["on_bad_image"],
        threads=snakemake.threads,
        log=print,
        split=p.split,
        # A domain given by a label table; its settings are in the fingerprint param (a change reruns this job).
        table=settings if "manifest" in settings else None,
    )
    with atomic_open(snakemake.output.images, "wb") as handle:
        np.save(handle, images)
    write_manifest(rows, snakemake.output.manifest)
    write_json(report, snakemake.output.intake)
    print(f"{report['images_used']} images used; split counts {report['class_counts']}")
    if report["outside_class_folders"]:
        print(f"not used, outside the class folders {p.classes}: {report['outside_class_folders']}")
