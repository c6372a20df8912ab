# Statistics across cells; their settings are the config's statistics section (synthcxr.study: Study.bootstrap_settings).
# Every training domain is compared with the real domain named by `reference:` (common.smk: REFERENCE).


rule summarize:
    input:
        metrics=metric_files(),
        predictions=metric_files(
            "results/predictions/{classifier}/{train}/{test}/seed{seed}.csv"
        ),
        run_info=classifier_files(
            "results/models/{classifier}/{train}/seed{seed}/run_info.json"
        ),
    output:
        csv=report(
            "results/summary.csv",
            caption="../report/summary_csv.rst",
            category=REPORT_CATEGORIES["Tables"],
            subcategory="Main table",
            labels={"format": "CSV (all numbers)"},
        ),
        by_seed="results/summary_by_seed.csv",
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
        external=EXTERNAL_TEST_DOMAINS,
        generator_saw_test=generator_saw_test(),
        bootstrap=bootstrap_settings("interval_resamples"),
        cells=metric_keys(),
        # The input files hold these cells classifier by classifier.
        classifiers=CLASSIFIER_NAMES,
        code=code(),
    script:
        "../../scripts/summarize.py"


rule compare_domains:
    input:
        predictions=metric_files(
            "results/predictions/{classifier}/{train}/{test}/seed{seed}.csv"
        ),
    output:
        csv=report(
            "results/comparisons.csv",
            caption="../report/comparisons_csv.rst",
            category=REPORT_CATEGORIES["Tables"],
            subcategory="Paired comparisons",
            labels={"format": "CSV (all numbers)"},
        ),
    log:
        "results/logs/compare_domains.log",
    # Light work: runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        reference=REFERENCE,
        train_domains=TRAIN_DOMAINS,
        test_domains=TEST_DOMAINS,
        bootstrap=bootstrap_settings("comparison_resamples"),
        primary=PRIMARY,
        cells=metric_keys(),
        # The input files hold these cells classifier by classifier.
        classifiers=CLASSIFIER_NAMES,
        code=code(),
    script:
        "../../scripts/compare_domains.py"


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
