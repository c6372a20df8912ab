# Copies and shared patients between each training domain's sources and each test split, checked
# before the trainings and evaluations they concern.


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
