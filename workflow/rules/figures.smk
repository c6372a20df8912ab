# Figures drawn from the finished tables and predictions (no statistics computed here).


# Where each figure sits in the report: synthcxr.report_menu (FIGURES, FIGURE_SUBCATEGORIES).
rule plot_figures:
    input:
        summary="results/summary.csv",
        comparisons="results/comparisons.csv",
        metrics=metric_files(),
        predictions=metric_files(
            "results/predictions/{classifier}/{train}/{test}/seed{seed}.csv"
        ),
        histories=classifier_files(
            "results/models/{classifier}/{train}/seed{seed}/history.json"
        ),
        images=prepared("images", ALL_DOMAINS),
        manifests=prepared("manifest", ALL_DOMAINS),
    output:
        [
            report(
                f"results/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category=REPORT_CATEGORIES["Figures"],
                subcategory=FIGURE_SUBCATEGORIES[name],
                labels={"figure": name.replace("_", " ")},
            )
            for name in FIGURES
        ],
        expand("results/figures/{name}.pdf", name=FIGURES),
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
        reference=REFERENCE,
        alpha=STATISTICS["alpha"],
        sample_domains=ALL_DOMAINS,
        test_labels=[test_label(d) for d in TEST_DOMAINS],
        cells=metric_keys(),
        # The input files hold these cells classifier by classifier.
        classifiers=CLASSIFIER_NAMES,
        code=code(),
    script:
        "../../scripts/plot_figures.py"
