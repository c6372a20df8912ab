"""Entry point of rule check_leakage: pixel copies, shared patients and identical domains for one training domain."""

from synthcxr.jobs import logged, write_json
from synthcxr.leakage import domain_overlaps, leakage_error, patient_overlap, train_test_overlap
from synthcxr.prepare import read_manifest

with logged(snakemake.log[0]):
    p = snakemake.params
    train = snakemake.wildcards.train
    rows = {domain: read_manifest(path) for domain, path in zip(p.test_domains, snakemake.input.manifests)}
    train_rows = {source: [row for row in rows[source] if row["split"] == "train"] for source in p.sources}
    test_rows = {test: [row for row in rows[test] if row["split"] == "test"] for test in p.test_domains}
    leaked = {
        test: train_test_overlap([row for src in p.sources for row in train_rows[src]], test_rows[test])
        for test in p.test_domains
    }
    # Patients of another real domain's training data (a domain's own split is group-aware, or given).
    patients = {
        test: patient_overlap(
            [row for src in p.sources if src != test and src in p.real_domains for row in train_rows[src]],
            test_rows[test],
        )
        if test in p.real_domains
        else []
        for test in p.test_domains
    }
    overlaps = [entry for entry in domain_overlaps(rows) if set(entry["domains"]) & set(p.sources)]
    identical = [entry for entry in overlaps if entry["identical"]]
    message = leakage_error(train, leaked, patients, identical)
    if message and p.leakage == "error":
        raise ValueError(message)
    write_json(
        {
            "train_domain": train,
            "sources": p.sources,
            "test_images": leaked,
            "test_images_of_training_patients": patients,
            "domain_overlaps": overlaps,
        },
        snakemake.output[0],
    )
    for entry in overlaps:
        print(f"domains {entry['domains']} share {entry['shared_images']} images ({entry['share']:.0%} of the smaller)")
    print(message or f"no test image is a copy of, or of a patient in, a training image of {train}")
