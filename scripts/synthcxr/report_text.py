"""The report's tables as text: summary.md, summary.tex and the HTML pages of the main table and the comparisons.

Apart from synthcxr.summary (the numbers, which summarize computes), so that an edit to a sentence
of the report reruns rule report_tables only.
"""

import html

from synthcxr.analysis import significance_marks
from synthcxr.fidelity_summary import TITLE as FIDELITY_TITLE
from synthcxr.fidelity_summary import markdown as fidelity_markdown
from synthcxr.findings import DISCLAIMER, seed_caveat
from synthcxr.stats import MIN_DOMAIN_SEEDS, seed_level
from synthcxr.summary_text import (
    compared_metrics_text,
    comparisons_readable,
    intake_table,
    latex_table,
    leakage_lines,
    readable_table,
    threshold_table,
)
from synthcxr.text import html_page, inline_html
from synthcxr.wording import cell_interval_text, interval_label

THRESHOLD_INTRO = (
    "Threshold metrics at the fixed threshold 0.5 beside those at a threshold chosen for each model on a "
    "validation slice of its training domain's train split (held out of training; Youden's J), never on a test "
    "split. A model trained on synthetic images is often miscalibrated on real ones, so 0.5 can be far from its "
    "best threshold; threshold-free AUROC and AUPRC are in the main table. Mean over seeds and (in brackets) its "
    "interval, made as in the main table with each model at its own threshold; the validation threshold itself: "
    "mean ± sd over seeds."
)
# What the report's text states: these params of rule report_tables, as they are (seeds sorted).
REPORT_PARAMS = (
    "reference",
    "synthetic",
    "real_trains",
    "external",
    "generator_saw_test",
    "generator_unknown",
    "mixed",
    "test_domains",
    "seeds",
    "n_boot_intervals",
    "n_boot_comparisons",
    "alpha",
    "min_groups_per_class",
    "demo",
    "primary",
    "domain_kinds",
)


def marks_text(reference, alpha, n_seeds, n_tests, n_boot_comparisons):
    """What a '*' of the tables is, or why there is none (fewer than 3 seeds: no domain-level test)."""
    if seed_level(n_seeds) == "model":
        return (
            f"No `*` marks: with {n_seeds} seed(s) per training domain (fewer than {MIN_DOMAIN_SEEDS}) the "
            "seed-to-seed variation cannot be estimated, so no difference between training domains is tested "
            "(the paired comparisons compare these models only). "
        )
    return (
        f"`*`: differs from the {reference}-trained models on the same test images (difference of seed means; "
        f"test patient groups resampled, {n_boot_comparisons} resamples, plus both domains' seed variances, "
        f"t-calibrated; Holm correction across all {n_tests} comparisons; adjusted p < {alpha}). Only "
        f"{compared_metrics_text()} were tested: the other columns carry no `*` whatever their differences. "
    )


def main_intro(seeds, n_tests, *, reference, alpha, n_boot_intervals, n_boot_comparisons, min_groups_per_class):
    """The paragraph above the main table: what a cell, its interval and its '*' are."""
    caveat = seed_caveat(len(seeds))
    return (
        f"Each row: a CNN trained on `train`, tested on the held-out test split of `test`. Each metric: mean ± "
        f"standard deviation over seeds {', '.join(map(str, seeds))}, then (in brackets) the "
        f"{cell_interval_text(alpha, len(seeds))} of the seed-averaged metric ({n_boot_intervals} resamples of "
        "the test split). PNEUMONIA is the positive class; `majority baseline` is the accuracy of always "
        "predicting the test split's majority class. "
        + marks_text(reference, alpha, len(seeds), n_tests, n_boot_comparisons)
        + f"Test splits with fewer than {min_groups_per_class} patient groups of a class get "
        "no interval and no test. `(external)`: an external test set, never trained on; `(generator saw these)`: "
        "a generator behind the training domain learned from these test images, so that cell overstates "
        "generalisation. " + (caveat + " " if caveat else "") + "Research use only, not for diagnosis."
    )


def comparison_intro(reference, alpha, n_boot_comparisons, n_seeds):
    """The paragraph above the comparison table: what each column is, and why McNemar/DeLong mark nothing."""
    if seed_level(n_seeds) == "domain":
        method = (
            f"its unadjusted {interval_label(alpha)} interval and a two-sided p-value, domain-level (column "
            "`level`): the variance over resamples of the test patient groups (the same for both domains, seed "
            "models fixed) plus both domains' seed variances, t-calibrated (Welch-Satterthwaite degrees of "
            "freedom), so they speak about the training domains; raw and Holm-adjusted p-values"
        )
    else:
        method = (
            f"its unadjusted {interval_label(alpha)} interval and p-value, model-level (column `level`): "
            f"resamples of the test patient groups with the {n_seeds} seed model(s) per domain fixed, so they "
            f"speak about these models only and mark nothing (fewer than {MIN_DOMAIN_SEEDS} seeds)"
        )
    return (
        f"Each training domain minus the {reference}-trained models on the same test images, for each metric: "
        f"difference of seed-averaged metrics with {method}. An unadjusted interval can exclude zero while the "
        "difference is not significant after Holm correction: the significance column says so. A model-level "
        "p-value shown as '< x' is at the resolution "
        f"floor of {n_boot_comparisons} resamples (2 / (resamples + 1)); its Holm-adjusted value is then an upper "
        "bound ('≤'). For accuracy and AUROC, McNemar's exact test and DeLong's test between the two models of each "
        "seed are given beside it (largest p over seeds): they compare single models, not training domains, and "
        "treat images as independent, so they do not decide the marks."
    )


def domain_overlap_entries(leakage_reports):
    """One entry per pair of domains sharing images, in order of the pair, from the check_leakage reports.

    Each training domain's check lists the overlaps of its sources, so a pair appears in several reports.
    """
    overlaps = {
        tuple(entry["domains"]): entry for report in leakage_reports for entry in report.get("domain_overlaps", [])
    }
    return [overlaps[pair] for pair in sorted(overlaps)]


def patient_comparison_lines(leakage_reports, examples=5):
    """Sentences of the leakage section on patients, from the check_leakage reports: which pairs of domains
    were compared by patient id (one ``patient_id_space``) and which by pixels only, and the ids found in
    two domains of different spaces (information: the same id, not the same patient by the config).

    Each pair is (training source, test domain); Mixed's check repeats its members' pairs, listed once.
    """
    by_patient, pixels_only, other_space = {}, {}, {}
    for report in leakage_reports:
        spaces = report.get("patient_id_spaces", {})
        for source, test in report.get("compared_by_patient", []):
            by_patient[(source, test)] = spaces.get(test)
        for source, test in report.get("compared_by_pixels_only", []):
            pixels_only[(source, test)] = None
        for entry in report.get("shared_ids_other_space", []):
            other_space[tuple(entry["domains"])] = entry
    lines = []
    if by_patient:
        pairs = "; ".join(f"{s} with {t} (space {space})" for (s, t), space in by_patient.items())
        lines.append(f"- Compared by patient id (training data with test split, one patient_id_space): {pairs}.")
    if pixels_only:
        pairs = "; ".join(f"{s} with {t}" for s, t in pixels_only)
        lines.append(f"- Compared by pixels only (no shared patient_id_space, or a synthetic domain): {pairs}.")
    for (source, test), entry in other_space.items():
        lines.append(
            f"- Same id, not the same patient by the config: {entry['count']} patient id(s) of {source}'s "
            f"training data also occur in {test}'s test split, e.g. {', '.join(entry['ids'][:examples])}; "
            "the two domains are in different patient id spaces, so this is not counted as leakage "
            "(give both the same patient_id_space if the ids name the same patients)."
        )
    return lines


def patient_id_spaces(leakage_reports):
    """Each domain's ``patient_id_space`` as the check_leakage reports recorded it (None: its ids are its own)."""
    spaces = {}
    for report in leakage_reports:
        for domain, space in report.get("patient_id_spaces", {}).items():
            spaces[domain] = spaces.get(domain) or space
    return spaces


def fidelity_section(fidelity_table, alpha):
    """The Markdown section of the fidelity table (``None``: no synthetic domain is measured, no section)."""
    if fidelity_table is None:
        return ""
    return (
        f"\n## {FIDELITY_TITLE}\n\n"
        "Details, the figure and the closest pairs: results/fidelity/. These distances use only what this "
        "workflow trains itself and are not comparable with published FID/KID values.\n\n"
        + fidelity_markdown(fidelity_table, alpha)
        + "\n"
    )


def table_html(frame):
    return frame.to_html(index=False, border=0, na_rep="n/a")


def tables(summary, comparisons, intake_reports, leakage_reports, fidelity_table, settings):
    """summary.md, summary.tex and the HTML pages of the main table and the comparisons, as text.

    ``summary`` / ``comparisons``: the tables of rules summarize and compare_domains; ``intake_reports`` /
    ``leakage_reports``: the JSON of each prepare_domain / check_leakage job; ``fidelity_table``: the table of
    rule summarize_fidelity, or None; ``settings``: from :func:`report_settings`. Returns {output name of rule
    report_tables: text}.
    """
    reference, alpha, n_boot = settings["reference"], settings["alpha"], settings["n_boot_comparisons"]
    marks = significance_marks(comparisons)
    intro = main_intro(
        settings["seeds"],
        int(comparisons["p_value"].notna().sum()),
        reference=reference,
        alpha=alpha,
        n_boot_intervals=settings["n_boot_intervals"],
        n_boot_comparisons=n_boot,
        min_groups_per_class=settings["min_groups_per_class"],
    )
    main, thresholds = readable_table(summary, marks), threshold_table(summary)
    comparison_text = comparison_intro(reference, alpha, n_boot, len(settings["seeds"]))
    readable_comparisons = comparisons_readable(comparisons, alpha, n_boot)
    intake = intake_table(intake_reports)
    # A setting of the comparison, not of the intake (the intake reports do not carry it: changing it must
    # not prepare a domain again and retrain its models); the leakage checks recorded it.
    spaces = patient_id_spaces(leakage_reports)
    # "own": its ids are compared with no other domain's; "-": no other real domain to compare it with.
    intake["patient_id_space"] = [spaces.get(d) or ("own" if d in spaces else "-") for d in intake["domain"]]
    leakage = leakage_lines(summary, domain_overlap_entries(leakage_reports)) + patient_comparison_lines(
        leakage_reports
    )
    markdown = (
        f"# Cross-domain results\n\n{intro}\n\n{main.to_markdown(index=False)}\n\n"
        f"## At the threshold chosen on validation data\n\n{THRESHOLD_INTRO}\n\n{thresholds.to_markdown(index=False)}"
        f"\n\n## Paired comparisons\n\n{comparison_text}\n\n{readable_comparisons.to_markdown(index=False)}\n\n"
        f"## Data intake\n\n{intake.to_markdown(index=False)}\n\n## Leakage between domains\n\n"
        + "\n".join(leakage)
        + "\n"
        + fidelity_section(fidelity_table, alpha)
    )
    summary_body = (
        f"<h1>Cross-domain results</h1><p>{inline_html(intro)}</p>\n{table_html(main)}\n"
        f"<h2>At the threshold chosen on validation data</h2><p>{inline_html(THRESHOLD_INTRO)}</p>\n"
        f"{table_html(thresholds)}\n"
        f"<h2>Data intake</h2>\n{table_html(intake)}\n<h2>Leakage between domains</h2>\n"
        + "\n".join(f"<p>{html.escape(line)}</p>" for line in leakage)
        + f"\n<p>{html.escape(DISCLAIMER)}</p>"
    )
    comparisons_body = (
        f"<h1>Paired comparisons</h1><p>{inline_html(comparison_text)}</p>\n{table_html(readable_comparisons)}"
    )
    return {
        "markdown": markdown,
        "latex": latex_table(summary, marks, reference=reference, alpha=alpha),
        "summary_html": html_page("Cross-domain results", summary_body),
        "comparisons_html": html_page("Paired comparisons", comparisons_body),
    }


def main_table(summary, comparisons):
    """The main table as strings, '*' where significant (what report_tables prints to its log)."""
    return readable_table(summary, significance_marks(comparisons))


def report_settings(params):
    """The settings the report's text states (:func:`tables`, and synthcxr.findings.findings' context), from
    report_tables' params (any object with them as attributes); seeds sorted."""
    settings = {name: getattr(params, name) for name in REPORT_PARAMS}
    settings["seeds"] = sorted(settings["seeds"])
    return settings
