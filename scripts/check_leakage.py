"""Entry point of rule check_leakage: for one training domain and one test domain, the test images that
are pixel copies of, or of patients in, the training domain's train images, and domains sharing images."""

from synthcxr.jobs import logged, write_json
from synthcxr.leakage import pair_report
from synthcxr.manifest import read_manifest

with logged(snakemake.log[0]):
    p = snakemake.params
    train, test = snakemake.wildcards.train, snakemake.wildcards.test
    rows = {domain: read_manifest(path) for domain, path in zip(p.domains, snakemake.input.manifests)}
    report, message = pair_report(train, test, rows, p.sources, p.id_spaces)
    # From the config, not a param: the setting decides whether the run stops, not what any job
    # computes; as a param, switching it would rerun every check and so every training.
    if message and snakemake.config["leakage"] == "error":
        raise ValueError(message)
    write_json(report, snakemake.output[0])
    for entry in report["shared_ids_other_space"]:
        print(
            f"information: {entry['count']} patient id(s) occur in both {entry['domains']}, which the config does "
            "not put in one patient_id_space (same id, not the same patient by the config)"
        )
    for entry in report["domain_overlaps"]:
        print(f"domains {entry['domains']} share {entry['shared_images']} images ({entry['share']:.0%} of the smaller)")
    print(message or f"no test image of {test} is a copy of, or of a patient in, a training image of {train}")
