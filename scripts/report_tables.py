"""Entry point of rule report_tables: summary.md, summary.tex, findings.md and their HTML forms for the report."""

import pandas as pd

from synthcxr import classifier_tables, findings, jobs, methods, report_text

with jobs.logged(snakemake.log[0]):
    p = snakemake.params
    # Several classifiers: tables of every classifier (rows labelled classifier_tables.row_label); the findings
    # and the front page are about the first, followed by whether the classifiers agree.
    all_summary = pd.read_csv(snakemake.input.summary)
    all_comparisons = pd.read_csv(snakemake.input.comparisons)
    summary = classifier_tables.first_classifier_rows(all_summary, p.classifiers)
    comparisons = classifier_tables.first_classifier_rows(all_comparisons, p.classifiers)
    intake = [jobs.read_json(path) for path in snakemake.input.intake]
    leakage = [jobs.read_json(path) for path in snakemake.input.leakage]
    fidelity = pd.read_csv(snakemake.input.fidelity[0]) if snakemake.input.fidelity else None
    settings = report_text.report_settings(p)
    settings["domain_overlaps"] = report_text.domain_overlap_entries(leakage)  # stated beside the findings
    table_settings = settings
    if len(p.classifiers) > 1:
        table_settings = settings | {"reference": f"{settings['reference']} (same classifier)"}
    texts = report_text.tables(
        classifier_tables.labelled_rows(all_summary),
        classifier_tables.labelled_rows(all_comparisons),
        intake,
        leakage,
        fidelity,
        table_settings,
    )
    sections = findings.findings(summary, comparisons, settings) + classifier_tables.agreement_sections(
        all_comparisons, findings.primary_of(settings)["metric"], settings["alpha"]
    )
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
    trained = jobs.read_json(snakemake.input.provenance)["classifiers"]
    classifiers = {name: trained[name] for name in p.classifiers}  # in the config's order
    stated_settings = {name: getattr(p, name) for name in stated} | {"classifiers": classifiers}
    texts["methods"] = methods.render_methods(p.methods_settings | stated_settings)
    for name, text in texts.items():
        jobs.write_text(path=getattr(snakemake.output, name), text=text)
    print(report_text.main_table(summary, comparisons).to_string())
