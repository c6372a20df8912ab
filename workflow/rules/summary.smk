rule summarize:
    input:
        metrics=metric_files(),
        intake=expand("results/intake/{domain}.json", domain=REAL_DOMAINS),
        run_info=expand(
            "results/models/{train}/seed{seed}/run_info.json",
            train=TRAIN_DOMAINS,
            seed=SEEDS,
        ),
        code=code("summary"),
    output:
        csv="results/summary.csv",
        by_seed="results/summary_by_seed.csv",
        markdown="results/summary.md",
        provenance="results/provenance.json",
    log:
        "results/logs/summarize.log",
    # Light work: runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        train_domains=TRAIN_DOMAINS,
        test_domains=TEST_DOMAINS,
    script:
        "../../scripts/summarize.py"


rule plot_figures:
    input:
        summary="results/summary.csv",
        metrics=metric_files(),
        code=code("figures"),
    output:
        expand("results/figures/{name}.{ext}", name=FIGURES, ext=["png", "pdf"]),
    log:
        "results/logs/plot_figures.log",
    # Light work: runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        style=config["figures"],
        train_domains=TRAIN_DOMAINS,
        test_domains=TEST_DOMAINS,
        classes=CLASSES,
    script:
        "../../scripts/plot_figures.py"
