"""Entry point of rule report_tables: summary.md, summary.tex, findings.md and their HTML forms for the report."""

import pandas as pd

from synthcxr import findings, jobs, methods, report_text

with jobs.logged(snakemake.log[0]):
    p = snakemake.params
    out = snakemake.output
    summary = pd.read_csv(snakemake.input.summary)
    comparisons = pd.read_csv(snakemake.input.comparisons)
    fidelity = pd.read_csv(snakemake.input.fidelity[0]) if snakemake.input.fidelity else None
    texts = report_text.tables(
        summary,
        comparisons,
        [jobs.read_json(path) for path in snakemake.input.intake],
        [jobs.read_json(path) for path in snakemake.input.leakage],
        fidelity,
        seeds=p.seeds,
        reference=p.reference,
        alpha=p.alpha,
        n_boot_intervals=p.n_boot_intervals,
        n_boot_comparisons=p.n_boot_comparisons,
        min_groups_per_class=p.min_groups_per_class,
    )
    sections = findings.findings(summary, comparisons, report_text.findings_context(p))
    texts["findings"], texts["findings_html"] = findings.to_markdown(sections), findings.to_html(sections)
    texts["methods"] = methods.render_methods(p.methods_settings)
    for name, text in texts.items():
        jobs.write_text(path=getattr(out, name), text=text)
    print(report_text.main_table(summary, comparisons).to_string())
