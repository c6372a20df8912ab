# Readable tables, generated findings and the Snakemake report (snakemake --report results/report.html).


report: "../report/workflow.rst"


rule report_tables:
    input:
        summary="results/summary.csv",
        comparisons="results/comparisons.csv",
        intake=expand("results/intake/{domain}.json", domain=ALL_DOMAINS),
        leakage=expand("results/leakage/{train}.json", train=TRAIN_DOMAINS),
        fidelity=["results/fidelity/summary.csv"] if FIDELITY_DOMAINS else [],
    output:
        markdown=report(
            "results/summary.md",
            caption="../report/summary_md.rst",
            category="Tables",
            labels={"table": "summary.md"},
        ),
        latex=report(
            "results/summary.tex",
            caption="../report/summary_tex.rst",
            category="Tables",
            labels={"table": "summary.tex (LaTeX)"},
        ),
        findings=report(
            "results/findings.md",
            caption="../report/findings.rst",
            category="Findings",
            labels={"document": "findings.md"},
        ),
        findings_html=report(
            "results/tables/findings.html",
            caption="../report/findings.rst",
            category="Findings",
            labels={"document": "findings"},
        ),
        summary_html=report(
            "results/tables/summary.html",
            caption="../report/summary_table.rst",
            category="Tables",
            labels={"table": "main table"},
        ),
        comparisons_html=report(
            "results/tables/comparisons.html",
            caption="../report/comparisons_table.rst",
            category="Tables",
            labels={"table": "paired comparisons"},
        ),
    log:
        "results/logs/report_tables.log",
    # Light work: runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        reference=REFERENCE,
        synthetic=[d for d in TRAIN_DOMAINS if d in SYNTHETIC],
        real_trains=[d for d in TRAIN_DOMAINS if d in REAL_TRAINING and d != REFERENCE],
        external=unseen_external_test_domains(),
        generator_saw_test=generator_saw_test(),
        generator_unknown=[
            d for d in TRAIN_DOMAINS if d in SYNTHETIC and not generator_trained_on(d)
        ],
        mixed=MIXED if MIXED in TRAIN_DOMAINS else None,
        test_domains=TEST_DOMAINS,
        seeds=SEEDS,
        n_boot_intervals=INTERVAL_BOOTSTRAP["n_boot"],
        n_boot_comparisons=COMPARISON_BOOTSTRAP["n_boot"],
        alpha=ALPHA,
        min_groups_per_class=MIN_GROUPS_PER_CLASS,
        demo=any(folder_origin(d) == "demo" for d in ALL_DOMAINS),
        code=code("analysis", "fidelity_summary", "findings", "jobs", "summary"),
    script:
        "../../scripts/report_tables.py"
