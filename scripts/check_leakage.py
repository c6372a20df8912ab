"""Entry point of rule check_leakage: test images that are exact copies of one training domain's train images."""

from synthcxr.evaluate import leakage_error, train_test_overlap
from synthcxr.jobs import logged, write_json
from synthcxr.prepare import read_manifest

with logged(snakemake.log[0]):
    p = snakemake.params
    rows = {domain: read_manifest(path) for domain, path in zip(p.test_domains, snakemake.input.manifests)}
    train_rows = [row for source in p.sources for row in rows[source] if row["split"] == "train"]
    leaked = {
        test: train_test_overlap(train_rows, [row for row in rows[test] if row["split"] == "test"])
        for test in p.test_domains
    }
    message = leakage_error(snakemake.wildcards.train, leaked)
    if message and p.leakage == "error":
        raise ValueError(message)
    write_json({"train_domain": snakemake.wildcards.train, "sources": p.sources, "test_images": leaked}, snakemake.output[0])
    print(message or f"no test image is a copy of a training image of {snakemake.wildcards.train}")
