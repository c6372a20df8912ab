# Domains the workflow makes itself: demo folders (config `demo:`) and synthetic domains generated from a
# real domain's train split (config `generated:`; a generator sees only its source domain's train split).


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


rule train_generator:
    input:
        images=lambda w: prepared("images", [fidelity_reference(w.domain)])[0],
        manifest=lambda w: prepared("manifest", [fidelity_reference(w.domain)])[0],
    output:
        model="results/generators/{domain}/generator.pt",
        samples=directory("results/generated/{domain}"),
        progress=directory("results/generators/{domain}/progress"),
    log:
        "results/logs/train_generator/{domain}.log",
    benchmark:
        "results/benchmarks/train_generator/{domain}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        kind=lambda w: DOMAINS[w.domain]["generated"]["model"],
        settings=lambda w: DOMAINS[w.domain]["generated"].get("settings", {}),
        per_class=lambda w: DOMAINS[w.domain]["generated"]["per_class"],
        classes=CLASSES,
        device=config["device"],
        # Outside the outputs on purpose: Snakemake deletes outputs of a failed job, not this.
        checkpoint="results/checkpoints/generators/{domain}.pt",
        code=code(),
    script:
        "../../scripts/train_generator.py"
