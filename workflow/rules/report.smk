# Readable tables, generated findings and the Snakemake report (snakemake --report results/report.html).


report: "../report/workflow.rst"


rule report_tables:
    input:
        summary="results/summary.csv",
        comparisons="results/comparisons.csv",
        intake=expand("results/intake/{domain}.json", domain=REAL_DOMAINS),
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
        synthetic=[d for d in REAL_DOMAINS if d != REFERENCE],
        mixed=MIXED if MIXED in TRAIN_DOMAINS else None,
        test_domains=TEST_DOMAINS,
        seeds=SEEDS,
        n_boot_intervals=STATISTICS["interval_resamples"],
        n_boot_comparisons=STATISTICS["comparison_resamples"],
        alpha=STATISTICS["alpha"],
        min_groups_per_class=STATISTICS["min_groups_per_class"],
        demo=any(domain_kind(d) == "demo" for d in REAL_DOMAINS),
        code=code("analysis", "fidelity_summary", "findings", "jobs", "summary"),
    script:
        "../../scripts/report_tables.py"
