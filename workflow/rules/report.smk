# Readable tables, generated findings and the Snakemake report (snakemake --report results/report.html).


report: "../report/workflow.rst"


# The report's front page (workflow.rst) stays short; design and statistics are the Methods entry,
# rendered by synthcxr.methods from its template (a digest param: an edit reruns report_tables).
METHODS_TEMPLATE = SCRIPTS / "synthcxr" / "methods.html.jinja2"


rule report_tables:
    input:
        summary="results/summary.csv",
        comparisons="results/comparisons.csv",
        # The classifiers as trained: parameter counts and weights checksums for the Methods page.
        provenance="results/provenance.json",
        intake=expand("results/intake/{domain}.json", domain=ALL_DOMAINS),
        leakage=expand(
            "results/leakage/{train}/{test}.json",
            train=TRAIN_DOMAINS,
            test=TEST_DOMAINS,
        ),
        fidelity=["results/fidelity/summary.csv"] if FIDELITY_DOMAINS else [],
    output:
        markdown=report(
            "results/summary.md",
            caption="../report/summary_md.rst",
            category=REPORT_CATEGORIES["Tables"],
            subcategory="Main table",
            labels={"format": "Markdown"},
        ),
        latex=report(
            "results/summary.tex",
            caption="../report/summary_tex.rst",
            category=REPORT_CATEGORIES["Tables"],
            subcategory="Main table",
            labels={"format": "LaTeX"},
        ),
        findings=report(
            "results/findings.md",
            caption="../report/findings.rst",
            category=REPORT_CATEGORIES["Findings"],
            subcategory="Findings from the numbers",
            labels={"format": "Markdown"},
        ),
        findings_html=report(
            "results/tables/findings.html",
            caption="../report/findings.rst",
            category=REPORT_CATEGORIES["Findings"],
            subcategory="Findings from the numbers",
            labels={"format": "HTML"},
        ),
        summary_html=report(
            "results/tables/summary.html",
            caption="../report/summary_table.rst",
            category=REPORT_CATEGORIES["Tables"],
            subcategory="Main table",
            labels={"format": "HTML"},
        ),
        comparisons_html=report(
            "results/tables/comparisons.html",
            caption="../report/comparisons_table.rst",
            category=REPORT_CATEGORIES["Tables"],
            subcategory="Paired comparisons",
            labels={"format": "HTML"},
        ),
        # The report's front page shows it (workflow.rst): the headline and the primary endpoint's matrix.
        headline=report(
            "results/tables/headline.html",
            caption="../report/headline.rst",
            category=REPORT_CATEGORIES["Findings"],
            subcategory="Findings from the numbers",
            labels={"format": "headline (front page)"},
        ),
        methods=report(
            "results/methods.html",
            caption="../report/methods.rst",
            category=REPORT_CATEGORIES["Methods"],
            subcategory="Design and statistics",
            labels={"document": "methods"},
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
        primary=PRIMARY,
        domain_kinds={
            d: image_kind(d)
            + (", external test set" if d in EXTERNAL_TEST_DOMAINS else "")
            for d in ALL_DOMAINS
        }
        | ({MIXED: "mixed"} if MIXED in TRAIN_DOMAINS else {}),
        seeds=SEEDS,
        classifiers=CLASSIFIER_NAMES,
        n_boot_intervals=STATISTICS["interval_resamples"],
        n_boot_comparisons=STATISTICS["comparison_resamples"],
        alpha=STATISTICS["alpha"],
        min_groups_per_class=STATISTICS["min_groups_per_class"],
        demo=any(folder_origin(d) == "demo" for d in ALL_DOMAINS),
        # The Methods page: its template's digest (an edit reruns this light rule) and the settings only it
        # states; the others (seeds, reference, statistics settings, primary endpoint) are the params above.
        methods_template=hashlib.sha256(METHODS_TEMPLATE.read_bytes()).hexdigest()[:16],
        methods_settings={
            "domains": ALL_DOMAINS,
            "test_fraction": config["test_fraction"],
            "mixed_name": MIXED,
            "mixed_members": MIXED_MEMBERS,
            "training": config["training"],
        },
        code=code(),
    script:
        "../../scripts/report_tables.py"
