# Each domain read once, checked and split (train/val/test written down in results/splits/).


rule prepare_domain:
    input:
        made_by_workflow=made_by_workflow,
    output:
        images="results/prepared/{domain}/images.npy",
        manifest="results/splits/{domain}.csv",
        intake="results/intake/{domain}.json",
    log:
        "results/logs/prepare_domain/{domain}.log",
    benchmark:
        "results/benchmarks/prepare_domain/{domain}.tsv"
    # Bad data should stop the run before training starts: every preparation that can run goes before
    # the leakage checks (10) and the trainings (0), whatever the order of the targets.
    priority: 20
    conda:
        "../../envs/data.yaml"
    threads: 2
    params:
        folder=lambda w: domain_folder(w.domain),
        fingerprint=lambda w: FOLDER_FINGERPRINTS[w.domain],
        classes=CLASSES,
        image_size=config["image_size"],
        test_fraction=config["test_fraction"],
        split_seed=config["split_seed"],
        group_pattern=lambda w: DOMAINS[w.domain].get("group_pattern"),
        split=lambda w: domain_split(w.domain),
        # No on_bad_image: the script reads it from the config. As a param it would re-prepare every
        # domain when it changes, though only a domain with bad images comes out otherwise, and such a
        # domain reruns anyway (its fingerprint changed when they came; with error, the dry run
        # refuses them: synthcxr.dag_checks.check_new_images).
        code=code(),
    script:
        "../../scripts/prepare_domain.py"
