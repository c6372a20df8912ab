"""Entry point of rule report_tables: summary.md, summary.tex, findings.md and their HTML forms for the report."""

import html

import pandas as pd

from synthcxr.analysis import cell_interval_text, interval_label, significance_marks
from synthcxr.fidelity_summary import markdown as fidelity_markdown
from synthcxr.findings import DISCLAIMER, findings, seed_caveat, to_html, to_markdown
from synthcxr.jobs import logged, read_json, write_text
from synthcxr.methods import render_methods
from synthcxr.summary import (
    compared_metrics_text,
    comparisons_readable,
    intake_table,
    latex_table,
    leakage_lines,
    readable_table,
    threshold_table,
)
from synthcxr.text import html_page

with logged(snakemake.log[0]):
    p = snakemake.params
    out = snakemake.output
    summary = pd.read_csv(snakemake.input.summary)
    comparisons = pd.read_csv(snakemake.input.comparisons)
    intake = intake_table([read_json(path) for path in snakemake.input.intake])
    marks = significance_marks(comparisons)
    seeds = sorted(p.seeds)
    n_tests = int(comparisons["p_value"].notna().sum())
    coverage, caveat = interval_label(p.alpha), seed_caveat(len(seeds))
    intro = (
        f"Each row: a CNN trained on `train`, tested on the held-out test split of `test`. Each metric: mean ± "
        f"standard deviation over seeds {seeds}, then (in brackets) the {cell_interval_text(p.alpha)} of the "
        f"seed-averaged metric ({p.n_boot_intervals} replicates, each resampling the cell's seeds and the patient "
        "groups of the test split, as the paired comparisons do). PNEUMONIA is the positive class; `majority "
        "baseline` is the accuracy of always "
        f"predicting the test split's majority class. `*`: differs from the {p.reference}-trained models on the "
        f"same test images (bootstrap of the difference of seed means over test patient groups and each domain's "
        f"seeds, {p.n_boot_comparisons} replicates; Holm correction across all {n_tests} comparisons; adjusted "
        f"p < {p.alpha}). Only {compared_metrics_text()} were tested: the other columns carry no `*` whatever "
        f"their differences. Test splits with fewer than {p.min_groups_per_class} patient groups of a class get "
        "no interval and no test. `(external)`: an external test set, never trained on; `(generator saw these)`: "
        "a generator behind the training domain learned from these test images, so that cell overstates "
        "generalisation. " + (caveat + " " if caveat else "") + "Research use only, not for diagnosis."
    )
    main = readable_table(summary, marks)
    comparison_text = (
        f"Each training domain minus the {p.reference}-trained models on the same test images, for each metric: "
        f"difference of seed-averaged metrics with its unadjusted {coverage} bootstrap interval (test patient groups, "
        "the same for both domains, and each domain's seeds resampled), raw and Holm-adjusted p-values (two-sided). "
        "An unadjusted interval can exclude zero while the difference is not significant after Holm correction: the "
        "significance column says so. A p-value shown as '< x' is at the resolution floor of "
        f"{p.n_boot_comparisons} replicates (2 / (replicates + 1)); its Holm-adjusted value is then an upper bound "
        "('≤'). For "
        "accuracy and AUROC, McNemar's exact test and DeLong's test between the two models of each seed are given "
        "beside it (largest p over seeds): they compare single models, not training domains, and treat images as "
        "independent, so they do not decide the marks."
    )
    readable_comparisons = comparisons_readable(comparisons, p.alpha, p.n_boot_comparisons)
    thresholds = threshold_table(summary)
    threshold_text = (
        "Threshold metrics at the fixed threshold 0.5 beside those at a threshold chosen for each model on a "
        "validation slice of its training domain's train split (held out of training; Youden's J), never on a test "
        "split. A model trained on synthetic images is often miscalibrated on real ones, so 0.5 can be far from its "
        "best threshold; threshold-free AUROC and AUPRC are in the main table. Mean ± sd over seeds."
    )
    # Each training domain's check lists the overlaps of its sources; one line per pair of domains.
    overlaps = {
        tuple(entry["domains"]): entry
        for path in snakemake.input.leakage
        for entry in read_json(path).get("domain_overlaps", [])
    }
    leakage = leakage_lines(summary, [overlaps[pair] for pair in sorted(overlaps)])
    fidelity = ""
    if snakemake.input.fidelity:
        fidelity = (
            "\n## Fidelity, diversity and memorization of the synthetic domains\n\n"
            "Details, the figure and the closest pairs: results/fidelity/. These distances use only what this "
            "workflow trains itself and are not comparable with published FID/KID values.\n\n"
            + fidelity_markdown(pd.read_csv(snakemake.input.fidelity[0]))
            + "\n"
        )
    write_text(
        path=out.markdown,
        text="# Cross-domain results\n\n" + intro + "\n\n" + main.to_markdown(index=False) + "\n\n"
        "## At the threshold chosen on validation data\n\n"
        + threshold_text
        + "\n\n"
        + thresholds.to_markdown(index=False)
        + "\n\n"
        "## Paired comparisons\n\n"
        + comparison_text
        + "\n\n"
        + readable_comparisons.to_markdown(index=False)
        + "\n\n## Data intake\n\n"
        + intake.to_markdown(index=False)
        + "\n"
        + "\n## Leakage between domains\n\n"
        + "\n".join(leakage)
        + "\n"
        + fidelity,
    )
    write_text(path=out.latex, text=latex_table(summary, marks, reference=p.reference, alpha=p.alpha))

    context = {
        "reference": p.reference,
        "synthetic": p.synthetic,
        "real_trains": p.real_trains,
        "external": p.external,
        "generator_saw_test": p.generator_saw_test,
        "generator_unknown": p.generator_unknown,
        "mixed": p.mixed,
        "test_domains": p.test_domains,
        "seeds": seeds,
        "n_boot_intervals": p.n_boot_intervals,
        "n_boot_comparisons": p.n_boot_comparisons,
        "alpha": p.alpha,
        "min_groups_per_class": p.min_groups_per_class,
        "demo": p.demo,
    }
    sections = findings(summary, comparisons, context)
    write_text(path=out.findings, text=to_markdown(sections))
    write_text(path=out.findings_html, text=to_html(sections))

    def table_html(frame):
        return frame.to_html(index=False, border=0, na_rep="n/a")

    write_text(
        path=out.summary_html,
        text=html_page(
            "Cross-domain results",
            f"<h1>Cross-domain results</h1><p>{html.escape(intro)}</p>\n{table_html(main)}\n"
            f"<h2>At the threshold chosen on validation data</h2><p>{html.escape(threshold_text)}</p>\n"
            f"{table_html(thresholds)}\n"
            f"<h2>Data intake</h2>\n{table_html(intake)}\n<h2>Leakage between domains</h2>\n"
            + "\n".join(f"<p>{html.escape(line)}</p>" for line in leakage)
            + f"\n<p>{html.escape(DISCLAIMER)}</p>",
        ),
    )
    write_text(
        path=out.comparisons_html,
        text=html_page(
            "Paired comparisons",
            f"<h1>Paired comparisons</h1><p>{html.escape(comparison_text)}</p>\n{table_html(readable_comparisons)}",
        ),
    )
    write_text(path=out.methods, text=render_methods(p.methods_settings))
    print(main.to_string())
