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
