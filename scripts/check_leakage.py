"""Entry point of rule check_leakage: for one training domain and one test domain, the test images that
are pixel copies of, or of patients in, the training domain's train images, and domains sharing images."""

from synthcxr.jobs import logged, write_json
from synthcxr.leakage import domain_overlaps, leakage_error, patient_overlap, train_test_overlap
from synthcxr.manifest import read_manifest

with logged(snakemake.log[0]):
    p = snakemake.params
    train, test = snakemake.wildcards.train, snakemake.wildcards.test
    rows = {domain: read_manifest(path) for domain, path in zip(p.domains, snakemake.input.manifests)}
    train_rows = {source: [row for row in rows[source] if row["split"] == "train"] for source in p.sources}
    test_rows = [row for row in rows[test] if row["split"] == "test"]
    leaked = {test: train_test_overlap([row for src in p.sources for row in train_rows[src]], test_rows)}
    # Patients of another real domain's training data (a domain's own split is group-aware, or given).
    real_sources = [src for src in p.sources if src != test and src in p.real_domains]
    patients = {
        test: patient_overlap([row for src in real_sources for row in train_rows[src]], test_rows)
        if test in p.real_domains
        else []
    }
    overlaps = domain_overlaps(rows)
    message = leakage_error(train, leaked, patients, [entry for entry in overlaps if entry["identical"]])
    # From the config, not a param: the setting decides whether the run stops, not what any job
    # computes; as a param, switching it would rerun every check and so every training.
    if message and snakemake.config["leakage"] == "error":
        raise ValueError(message)
    write_json(
        {
            "train_domain": train,
            "test_domain": test,
            "sources": p.sources,
            "test_images": leaked,
            "test_images_of_training_patients": patients,
            "domain_overlaps": overlaps,
        },
        snakemake.output[0],
    )
    for entry in overlaps:
        print(f"domains {entry['domains']} share {entry['shared_images']} images ({entry['share']:.0%} of the smaller)")
    print(message or f"no test image of {test} is a copy of, or of a patient in, a training image of {train}")
