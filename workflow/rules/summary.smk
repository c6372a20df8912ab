# Statistics across cells. Settings are fixed here (not in the config), once: the scripts take them
# as params, and workflow/report/workflow.rst and README.md state them (tests/test_report.py checks).
# Below 5 patient groups of a class in a test split, a bootstrap is degenerate: no interval, no test.
MIN_GROUPS_PER_CLASS = 5
# Level of the tests and 1 - coverage of every interval.
ALPHA = 0.05
# Intervals: percentile bootstrap over patient groups of the test split, same resamples for every seed.
INTERVAL_BOOTSTRAP = {
    "n_boot": 2000,
    "alpha": ALPHA,
    "seed": 0,
    "min_groups_per_class": MIN_GROUPS_PER_CLASS,
}
# Comparisons: bootstrap over test patient groups and seeds; 5000 replicates keep the smallest
# p-value (2/5001) small enough to survive Holm correction over dozens of comparisons.
COMPARISON_BOOTSTRAP = {
    "n_boot": 5000,
    "alpha": ALPHA,
    "seed": 0,
    "min_groups_per_class": MIN_GROUPS_PER_CLASS,
}
# Every training domain is compared with the real domain named by `reference:` (common.smk).
REFERENCE = STUDY_REFERENCE


rule summarize:
    input:
        metrics=metric_files(),
        predictions=metric_files("results/predictions/{train}/{test}/seed{seed}.csv"),
        run_info=expand(
            "results/models/{train}/seed{seed}/run_info.json",
            train=TRAIN_DOMAINS,
            seed=SEEDS,
        ),
    output:
        csv=report(
            "results/summary.csv",
            caption="../report/summary_csv.rst",
            category="Tables",
            labels={"table": "summary.csv (all numbers)"},
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
        bootstrap=INTERVAL_BOOTSTRAP,
        code=code("analysis", "jobs", "summary"),
    script:
        "../../scripts/summarize.py"


rule compare_domains:
    input:
        predictions=metric_files("results/predictions/{train}/{test}/seed{seed}.csv"),
    output:
        csv=report(
            "results/comparisons.csv",
            caption="../report/comparisons_csv.rst",
            category="Tables",
            labels={"table": "comparisons.csv (all numbers)"},
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
        bootstrap=COMPARISON_BOOTSTRAP,
        code=code("analysis", "jobs"),
    script:
        "../../scripts/compare_domains.py"


rule plot_figures:
    input:
        summary="results/summary.csv",
        comparisons="results/comparisons.csv",
        metrics=metric_files(),
        predictions=metric_files("results/predictions/{train}/{test}/seed{seed}.csv"),
        histories=expand(
            "results/models/{train}/seed{seed}/history.json",
            train=TRAIN_DOMAINS,
            seed=SEEDS,
        ),
        images=prepared("images", ALL_DOMAINS),
        manifests=prepared("manifest", ALL_DOMAINS),
    output:
        [
            report(
                f"results/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category="Figures",
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
        sample_domains=ALL_DOMAINS,
        test_labels=[test_label(d) for d in TEST_DOMAINS],
        code=code("analysis", "figures", "jobs"),
    script:
        "../../scripts/plot_figures.py"
