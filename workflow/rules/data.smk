rule make_demo_domain:
    output:
        directory("results/demo/{domain}"),
    log:
        "results/logs/make_demo_domain/{domain}.log",
    # Light work: runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        per_class=lambda w: DOMAINS[w.domain]["demo"]["per_class"],
        shift=lambda w: DOMAINS[w.domain]["demo"]["shift"],
        seed=lambda w: DOMAINS[w.domain]["demo"].get("seed", config["demo_seed"]),
        classes=CLASSES,
        image_size=config["image_size"],
        code=code(),
    script:
        "../../scripts/make_demo_domain.py"


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


rule check_leakage:
    input:
        # The training domain's train splits and one test split: nothing that this pair's training or
        # evaluation does not read already, so when this check reruns, it reruns nothing else.
        manifests=lambda w: prepared("manifest", leakage_pair_domains(w.train, w.test)),
    output:
        "results/leakage/{train}/{test}.json",
    log:
        "results/logs/check_leakage/{train}/{test}.log",
    # With `leakage: error`, copies must stop the run before the training or evaluation they concern.
    priority: 10
    # Light work (reads the manifests): runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        sources=lambda w: train_sources(w.train),
        domains=lambda w: leakage_pair_domains(w.train, w.test),
        # Only the spaces this pair's result depends on: a change to another domain's reruns nothing here.
        id_spaces=lambda w: check_id_spaces(w.train, w.test),
        code=code(),
    script:
        "../../scripts/check_leakage.py"


# The pairs no training reads, in one job (common.smk: leakage_checks_across): the same report per pair
# as check_leakage writes, which still checks each training's own pairs.
rule check_leakage_across:
    input:
        manifests=prepared("manifest", ALL_DOMAINS),
    output:
        [
            f"results/leakage/{train}/{test}.json"
            for train, test in leakage_checks_across()
        ],
    log:
        "results/logs/check_leakage_across.log",
    priority: 10
    # Light work (reads the manifests): runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        domains=ALL_DOMAINS,
        pairs=[
            {
                "train": train,
                "test": test,
                "sources": train_sources(train),
                "domains": leakage_pair_domains(train, test),
                "id_spaces": check_id_spaces(train, test),
            }
            for train, test in leakage_checks_across()
        ],
        code=code(),
    script:
        "../../scripts/check_leakage_across.py"


# A pair no training reads is checked with the others (above), not alone.
ruleorder: check_leakage_across > check_leakage


# With `leakage: error`, trainings not run before wait for this gate (common.smk, after_every_leakage_check):
# it runs once every (training domain, test domain) check has passed. A checkpoint, so that waiting on it
# leaves no input file in the trainings (a later check reruns no training).
checkpoint leakage_gate:
    input:
        study_leakage_checks(),
    output:
        "results/leakage/all_checks_passed.txt",
    log:
        "results/logs/leakage_gate.log",
    priority: 10
    localrule: True
    conda:
        "../../envs/data.yaml"
    shell:
        "printf '%s\\n' {input} > {output} 2> {log}"
