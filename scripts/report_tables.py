"""Entry point of rule report_tables: summary.md, summary.tex, findings.md and their HTML forms for the report."""

import pandas as pd

from synthcxr import findings, jobs, methods, report_text

with jobs.logged(snakemake.log[0]):
    p = snakemake.params
    summary = pd.read_csv(snakemake.input.summary)
    comparisons = pd.read_csv(snakemake.input.comparisons)
    intake = [jobs.read_json(path) for path in snakemake.input.intake]
    leakage = [jobs.read_json(path) for path in snakemake.input.leakage]
    fidelity = pd.read_csv(snakemake.input.fidelity[0]) if snakemake.input.fidelity else None
    settings = report_text.report_settings(p)
    settings["domain_overlaps"] = report_text.domain_overlap_entries(leakage)  # stated beside the findings
    texts = report_text.tables(summary, comparisons, intake, leakage, fidelity, settings)
    sections = findings.findings(summary, comparisons, settings)
    texts["findings"], texts["findings_html"] = findings.to_markdown(sections), findings.to_html(sections)
    texts["headline"] = findings.front_page(summary, comparisons, settings)
    # The Methods page states its own settings and, as the text above the tables does, these params.
    stated = (
        "seeds",
        "reference",
        "primary",
        "n_boot_intervals",
        "n_boot_comparisons",
        "alpha",
        "min_groups_per_class",
    )
    texts["methods"] = methods.render_methods(p.methods_settings | {name: getattr(p, name) for name in stated})
    for name, text in texts.items():
        jobs.write_text(path=getattr(snakemake.output, name), text=text)
    print(report_text.main_table(summary, comparisons).to_string())
