"""Entry point of rule check_leakage: test images of one test domain that are exact copies of one
training domain's train images."""

from synthcxr.evaluate import leakage_error, train_test_overlap
from synthcxr.jobs import logged, write_json
from synthcxr.prepare import read_manifest

with logged(snakemake.log[0]):
    p = snakemake.params
    train, test = snakemake.wildcards.train, snakemake.wildcards.test
    rows = {domain: read_manifest(path) for domain, path in zip(p.domains, snakemake.input.manifests)}
    train_rows = [row for source in p.sources for row in rows[source] if row["split"] == "train"]
    leaked = {test: train_test_overlap(train_rows, [row for row in rows[test] if row["split"] == "test"])}
    message = leakage_error(train, leaked)
    # From the config, not a param: the setting decides whether the run stops, not what any job
    # computes; as a param, switching it would rerun every check and so every training.
    if message and snakemake.config["leakage"] == "error":
        raise ValueError(message)
    write_json({"train_domain": train, "test_domain": test, "sources": p.sources, "test_images": leaked}, snakemake.output[0])
    print(message or f"no test image of {test} is a copy of a training image of {train}")
