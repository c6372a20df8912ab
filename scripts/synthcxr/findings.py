"""Plain-language findings generated from the summary and comparison tables, never written by hand.

:func:`findings` returns sections ``[(title, [paragraph, ...]), ...]``; :func:`to_markdown` and
:func:`to_html` render them. Every number in a sentence is read from the tables.
"""

import html

import pandas as pd

from synthcxr.analysis import excludes_zero
from synthcxr.catalog import COMPARED_METRICS, LABELS
from synthcxr.stats import MIN_DOMAIN_SEEDS, seed_level
from synthcxr.text import html_page, inline_html, listing
from synthcxr.wording import interval_label, p_floor_text, p_value_text

DISCLAIMER = (
    "Research use only. These are results of research on synthetic training data with a small CNN. They are "
    "not evidence that any model is fit for clinical use, and nothing here may be used to diagnose, treat or "
    "triage anyone."
)
DEMO_NOTE = (
    "The images of this run are the bundled demo phantoms, drawn by a program: they are not X-rays, and these "
    "findings describe the demo only."
)


def signed(value):
    return "n/a" if pd.isna(value) else f"{value:+.3f}"


def plain(value):
    return "n/a" if pd.isna(value) else f"{value:.3f}"


def interval(row, alpha):
    """A comparison's interval: per comparison, so 'unadjusted' (the Holm correction applies to the p-values)."""
    if pd.isna(row.ci_low) or pd.isna(row.ci_high):
        return "no interval"
    return f"unadjusted {interval_label(alpha)} CI {signed(row.ci_low)} to {signed(row.ci_high)}"


def seed_caveat(n_seeds):
    """What the seed count allows the intervals and comparisons to say ('' from 3 seeds on)."""
    if seed_level(n_seeds) == "domain":
        return ""
    return (
        f"With {n_seeds} seed(s) per training domain (fewer than {MIN_DOMAIN_SEEDS}), seed-to-seed variation "
        "cannot be estimated usefully: every interval and comparison is model-level (test images only), about "
        "these particular models and not about training domains, and no difference is marked significant. Use "
        f"at least {MIN_DOMAIN_SEEDS} seeds (config/study.yaml has 5) for conclusions about training domains."
    )


def model_level(rows):
    """Whether comparison ``rows`` are model-level (fewer than 3 seeds; tables without the column: domain)."""
    return any(getattr(row, "level", "domain") == "model" for row in rows)


def pair_rows(comparisons, train, test):
    rows = comparisons[(comparisons["train"] == train) & (comparisons["test"] == test)]
    return {row.metric: row for row in rows.itertuples()}


def change_clause(row, alpha):
    """'balanced accuracy by -0.120 (unadjusted 95% CI -0.180 to -0.050; 0.712 vs 0.832)'."""
    return (
        f"{LABELS[row.metric]} by {signed(row.difference)} ({interval(row, alpha)}; "
        f"{plain(row.train_value)} vs {plain(row.reference_value)})"
    )


def holm_p(row, n_boot):
    """'Holm-adjusted p = 0.0040' ('≤' where the raw p-value is at the bootstrap's floor)."""
    return p_value_text(row.p_holm, n_boot, "Holm-adjusted p", raw_p_value=row.p_value)


def significance_clause(rows, n_boot):
    """Which of a pair's differences survive Holm correction, with their adjusted p-values, and which do not
    although their unadjusted interval excludes zero (so that neither is mistaken for the other).

    ``n_boot``: replicates of the comparisons' bootstrap (p-values at its floor read 'p < x').
    """
    rows = list(rows)
    if rows and all(pd.isna(row.p_value) for row in rows):
        note = next((row.note for row in rows if isinstance(row.note, str) and row.note), "")
        return "not tested" + (f" ({note})" if note else "")
    if model_level(rows):
        return (
            f"a model-level comparison of these models only (fewer than {MIN_DOMAIN_SEEDS} seeds): "
            "no difference between the training domains is tested"
        )
    significant = [row for row in rows if bool(row.significant)]
    unadjusted_only = [row for row in rows if not bool(row.significant) and excludes_zero(row)]
    higher_or_lower = (
        f"{'higher' if row.difference > 0 else 'lower'} {LABELS[row.metric]} ({holm_p(row, n_boot)})"
        for row in significant
    )
    if not significant:
        clause = "none of these differences is significant after Holm correction"
        joint = ", although the unadjusted interval excludes zero for "
    else:
        clause = "significant after Holm correction: " + listing(higher_or_lower)
        joint = "; not significant after Holm correction, although the unadjusted interval excludes zero: "
    if not unadjusted_only:
        return clause
    p_values = (
        f"{LABELS[row.metric]} ({p_value_text(row.p_value, n_boot, 'unadjusted p')}, {holm_p(row, n_boot)})"
        for row in unadjusted_only
    )
    return clause + joint + listing(p_values)


def changes_and_significance(rows, metrics, context):
    """(:func:`change_clause` of each of ``metrics`` in ``rows``, :func:`significance_clause` of them): how
    training on one domain instead of another changed the metrics, and which changes are significant."""
    compared = [rows[m] for m in metrics if m in rows]
    return [change_clause(row, context["alpha"]) for row in compared], significance_clause(
        compared, context["n_boot_comparisons"]
    )


def verdict(rows):
    """'beats', 'falls short of', 'is better on some ...', 'does not differ significantly from' or 'was not
    tested against'."""
    rows = list(rows)
    if rows and all(pd.isna(row.p_value) for row in rows):
        return "could not be tested against"
    if model_level(rows):
        return f"was compared only model by model (fewer than {MIN_DOMAIN_SEEDS} seeds, no test) with"
    higher = [row for row in rows if bool(row.significant) and row.difference > 0]
    lower = [row for row in rows if bool(row.significant) and row.difference < 0]
    if higher and lower:
        return "is better on some metrics and worse on others than"
    if higher:
        return "beats"
    if lower:
        return "falls short of"
    return "does not differ significantly from"


def saw_note(context, train, test):
    """' (its generator saw these test images)' where a generator behind ``train`` learned from ``test``'s
    test split."""
    seen = (context.get("generator_saw_test") or {}).get(train, [])
    return " (a generator behind it saw these test images: this cell overstates generalisation)" if test in seen else ""


def overlap_note(context, *domains, sentence=False):
    """' (caution, leakage between domains: A and B share n images ...)' for the pairs of ``domains`` that the
    leakage check found sharing images (``context['domain_overlaps']``; report mode: reported, not stopped);
    a sentence of its own with ``sentence``; '' where no pair does."""
    notes = []
    for entry in context.get("domain_overlaps") or []:
        first, second = entry["domains"]
        if first in domains and second in domains and first != second:
            notes.append(
                f"{first} and {second} share {entry['shared_images']} image(s) with equal pixels "
                f"({entry['share']:.0%} of the smaller"
                + ("; largely the same images under two names" if entry.get("identical") else "")
                + ")"
            )
    if not notes:
        return ""
    text = f"aution, leakage between domains: {listing(notes)}: this is not a comparison of independent data"
    return f" C{text}." if sentence else f" (c{text})"


def unseen_tests(context, train):
    """The test splits whose test images no generator behind ``train`` saw, in the order of the study."""
    seen = (context.get("generator_saw_test") or {}).get(train, [])
    return [test for test in context["test_domains"] if test not in seen]


def instead_paragraphs(comparisons, context, trains, metrics, what=""):
    """'On the T test split (...), training on X instead of the reference changed ...' per test and training domain."""
    ref, paragraphs = context["reference"], []
    for test in context["test_domains"]:
        for train in trains:
            rows = pair_rows(comparisons, train, test)
            if not rows:
                continue
            first = next(iter(rows.values()))
            changes, significance = changes_and_significance(rows, metrics, context)
            paragraphs.append(
                f"On the {test} test split ({first.n_test} images, {first.n_groups} patient groups), training on "
                f"{what}{train} instead of {ref} changed {listing(changes)}; "
                f"{significance}{saw_note(context, train, test)}{overlap_note(context, train, ref, test)}."
            )
    return paragraphs


def external_sections(summary, comparisons, context, metrics):
    """The lead finding when a real external test set exists: every training domain on images that no
    training and no generator saw, against the reference."""
    ref, paragraphs = context["reference"], []
    for test in context.get("external") or []:
        cells = summary[summary["test"] == test]
        if cells.empty:
            continue
        scores = [
            f"{row.train} {plain(row.balanced_accuracy)} balanced accuracy, {plain(row.auroc)} AUROC"
            for row in cells.itertuples()
        ]
        verdicts = [
            f"{train} {verdict(rows[m] for m in metrics if m in rows)} {ref}{external_difference(rows, context)}"
            f"{overlap_note(context, train, ref, test)}"
            for train in cells["train"]
            if (rows := pair_rows(comparisons, train, test))
        ]
        paragraphs.append(
            f"{external_heading(context)} ({test}, {int(cells['n_test'].iloc[0])} images): "
            f"{listing(scores)}. " + (f"Against the {ref}-trained models: {listing(verdicts)}." if verdicts else "")
        )
    return [(external_heading(context), paragraphs)] if paragraphs else []


def external_difference(rows, context):
    """' (AUROC -0.050, 95% CI -0.080 to -0.020)': the primary metric's difference behind a verdict."""
    metric = primary_of(context)["metric"]
    if metric not in rows:
        return ""
    row = rows[metric]
    return f" ({LABELS[metric]} {signed(row.difference)}, {short_interval(row.ci_low, row.ci_high, context['alpha'])})"


def external_heading(context):
    """'On real images that no training and no generator saw', naming the synthetic domains whose generator's
    training data is unknown (their generator may have seen them)."""
    unknown = context.get("generator_unknown") or []
    if not unknown:
        return "On real images that no training and no generator saw"
    return (
        "On real images that no training saw and no generator is known to have seen (the generator data of "
        f"{listing(unknown)} is unknown)"
    )


def generator_sections(context):
    """What each synthetic training domain's generator saw, where the config says or does not say it."""
    paragraphs = [
        f"A generator behind {train} learned from the test images of {listing(tests)}: its results on "
        + ("that test split" if len(tests) == 1 else "those test splits")
        + " overstate generalisation; an external test set is the honest yardstick."
        for train, tests in (context.get("generator_saw_test") or {}).items()
    ]
    paragraphs += [
        f"The images the generator of {train} was trained on are unknown (no generator_trained_on in the config): "
        "if they include a test split used here, its results on that split overstate generalisation."
        for train in context.get("generator_unknown") or []
    ]
    return [("What the generators saw", paragraphs)] if paragraphs else []


def interval_sentence(context):
    """What a cell's interval is about: the training domain (3 or more seeds) or these models."""
    n_seeds, alpha = len(context["seeds"]), context["alpha"]
    if seed_level(n_seeds) == "domain":
        return (
            f"A cell's {interval_label(alpha)} interval is about the training domain: it estimates the metric "
            "expected of a model trained on that domain with a new seed, on this test split's kind of images. "
            f"It adds the variance of the seed mean over {context['n_boot_intervals']} resamples of the test "
            "split's patient groups (seed models fixed) to the seeds' variance, with a t of k - 1 degrees of "
            "freedom for the k seeds."
        )
    return (
        f"A cell's {interval_label(alpha)} interval is model-level: the percentile interval over "
        f"{context['n_boot_intervals']} resamples of the test split's patient groups with the {n_seeds} seed "
        "model(s) fixed, about these models only."
    )


def comparison_sentence(ref, n_seeds, n_boot):
    """How a training domain is compared with the reference, at the level the seeds allow."""
    if seed_level(n_seeds) == "domain":
        return (
            f"Each training domain is compared with the {ref}-trained models on the same test images: the "
            f"difference of seed means, its interval and p-value from {n_boot} resamples of the test patient "
            "groups (the same for both domains) plus both domains' seed variances (t, Welch-Satterthwaite "
            "degrees of freedom), so that a significant difference is one between training domains; "
        )
    return (
        f"Each training domain is compared with the {ref}-trained models on the same test images over "
        f"{n_boot} resamples of the test patient groups, at the model level only; "
    )


def holm_families_text(comparisons, context, metrics):
    """How the p-values are Holm-corrected: the primary endpoint apart from the rest, or all together."""
    tested = comparisons[comparisons["p_value"].notna()]
    compared = f"{listing(LABELS[m] for m in metrics)} for every pair"
    if "family" not in tested or not (tested["family"] == "primary").any():
        return f"the {len(tested)} p-values ({compared}) are Holm-corrected together and "
    primary = primary_of(context)
    n_primary = int((tested["family"] == "primary").sum())
    return (
        f"the primary endpoint, {LABELS[primary['metric']]} on the {primary['test']} test split, is tested apart: "
        f"its {n_primary} p-values (one per training domain) form one Holm family, the other "
        f"{len(tested) - n_primary} ({compared}) the secondary family; "
    )


def methods_paragraph(trains, comparisons, context, metrics):
    """How the numbers were made: the cells, their intervals, the comparisons and their correction."""
    ref, alpha, n_boot = context["reference"], context["alpha"], context["n_boot_comparisons"]
    n_tests = int(comparisons["p_value"].notna().sum())
    return (
        f"{len(trains)} training domains ({listing(trains)}) were each tested on the held-out test splits "
        f"of {len(context['test_domains'])} domains ({listing(context['test_domains'])}), with "
        f"{len(context['seeds'])} seed(s) per training domain (seeds {listing(map(str, context['seeds']))}). "
        f"Every number is a mean over seeds. "
        + interval_sentence(context)
        + " "
        + comparison_sentence(ref, len(context["seeds"]), context["n_boot_comparisons"])
        + (
            holm_families_text(comparisons, context, metrics)
            + f"a difference is called significant when its adjusted p-value is below {alpha}; "
            "the intervals of the differences are unadjusted, so one can exclude zero for a difference that "
            "is not significant after the correction, and the sentences below say which is which. "
            f"A p-value written 'p < {p_floor_text(n_boot)}' is at the "
            "resolution floor of the bootstrap. "
            if n_tests and seed_level(len(context["seeds"])) == "domain"
            else f"their {n_tests} model-level p-values are in comparisons.csv, Holm-corrected, but mark nothing. "
            if n_tests
            else "no comparison could be tested. "
        )
        + "Test splits with "
        f"fewer than {context['min_groups_per_class']} patient groups of a class get no interval "
        "and no test (the bootstrap would be degenerate). " + seed_caveat(len(context["seeds"]))
    )


def opening_sections(trains, comparisons, context, metrics):
    """Where the findings come from, the research-use notice, and how the numbers were made."""
    provenance = (
        "Generated by the workflow from results/summary.csv and results/comparisons.csv; every number "
        "below is computed from the predictions, none is written by hand."
    )
    notice = DISCLAIMER + (" " + DEMO_NOTE if context.get("demo") else "")
    return [
        (None, [provenance, notice]),
        *details_section(),
        ("How the numbers were made", [methods_paragraph(trains, comparisons, context, metrics)]),
    ]


def instead_sections(comparisons, context, metrics):
    """Each synthetic training domain, and each other real one, in place of the reference."""
    sections = [
        (
            "Training on synthetic instead of real images",
            instead_paragraphs(comparisons, context, context["synthetic"], metrics) or ["No synthetic domain."],
        )
    ]
    if context.get("real_trains"):
        sections.append(
            (
                f"Training on another real domain instead of {context['reference']}",
                instead_paragraphs(comparisons, context, context["real_trains"], metrics, "real images of "),
            )
        )
    return sections


def mixed_sections(comparisons, context, metrics, trains):
    """Whether the mixed training domain beats the reference, on each test split ([] without one)."""
    ref, mixed = context["reference"], context.get("mixed")
    if not (mixed and mixed in trains):
        return []
    paragraphs, wins, unseen = [], [], unseen_tests(context, mixed)
    for test in context["test_domains"]:
        rows = pair_rows(comparisons, mixed, test)
        if not rows:
            continue
        word = verdict(rows[m] for m in metrics if m in rows)
        if word == "beats" and test in unseen:
            wins.append(test)
        changes, significance = changes_and_significance(rows, metrics, context)
        paragraphs.append(
            f"On the {test} test split, {mixed} {word} {ref}: training on {mixed} instead of {ref} changed "
            f"{listing(changes)}; {significance}{saw_note(context, mixed, test)}"
            f"{overlap_note(context, mixed, ref, test)}."
        )
    seen = [test for test in context["test_domains"] if test not in unseen]
    paragraphs.insert(
        0,
        f"{mixed} beats {ref} on {len(wins)} of {len(unseen)} test splits"
        + (" that no generator behind it saw" if seen else "")
        + (f" ({listing(wins)})." if wins else ".")
        + (
            f" The {listing(seen)} test split{'s are' if len(seen) > 1 else ' is'} not counted: a generator behind "
            f"{mixed} saw {'their' if len(seen) > 1 else 'its'} test images."
            if seen
            else ""
        )
        + " Beating means at least one significantly higher metric and none significantly lower.",
    )
    return [(f"Does {mixed} beat {ref}?", paragraphs)]


def shortfall_paragraph(train, comparisons, context, metrics):
    """Where ``train`` falls significantly short of the reference, and its largest shortfall."""
    ref, alpha = context["reference"], context["alpha"]
    rows = comparisons[(comparisons["train"] == train) & comparisons["metric"].isin(metrics)]
    lower = rows[rows["significant"].astype(bool) & (rows["difference"] < 0)]
    if rows["p_value"].isna().all():
        text = f"{train}: not tested against {ref} (too few patient groups in every test split)."
    elif lower.empty:
        text = f"{train}: no metric is significantly lower than with {ref} training on any test split."
    else:
        parts = [
            f"{LABELS[row.metric]} on {row.test} ({signed(row.difference)}, {interval(row, alpha)}, "
            f"{holm_p(row, context['n_boot_comparisons'])}){saw_note(context, train, row.test)}"
            for row in lower.itertuples()
        ]
        text = f"{train}-trained models fall significantly short of {ref}-trained ones in {listing(parts)}."
    defined = rows.dropna(subset=["difference"])
    if not defined.empty and defined["difference"].min() < 0:
        worst = next(defined.loc[[defined["difference"].idxmin()]].itertuples())
        text += (
            f" The largest shortfall of {train} is in {LABELS[worst.metric]} on the {worst.test} test split: "
            f"{signed(worst.difference)} ({interval(worst, alpha)}){saw_note(context, train, worst.test)}."
        )
    elif not defined.empty:
        text += f" No compared metric of {train} is below that of {ref} on any test split."
    return text + overlap_note(context, train, ref, sentence=True)


def shortfall_sections(comparisons, context, metrics):
    paragraphs = [shortfall_paragraph(train, comparisons, context, metrics) for train in context["synthetic"]]
    return [("Where synthetic training falls short", paragraphs or ["No synthetic domain."])]


def baseline_paragraph(row, alpha):
    """The sentence for a summary row not clearly above the majority-class baseline ('' for one that is)."""
    low, high = getattr(row, "accuracy_ci_low", float("nan")), getattr(row, "accuracy_ci_high", float("nan"))
    base = row.majority_baseline_accuracy
    if pd.isna(low):
        if row.accuracy <= base:
            return (
                f"The {row.train}-trained model on the {row.test} test split (accuracy {plain(row.accuracy)}, "
                f"no interval) is no better than always predicting the majority class (accuracy {plain(base)})."
            )
    elif low <= base:
        return (
            f"The {row.train}-trained model on the {row.test} test split (accuracy {plain(row.accuracy)}, "
            f"{interval_label(alpha)} CI {plain(low)} to {plain(high)}) is not clearly better than always "
            "predicting the majority "
            f"class (accuracy {plain(base)})."
        )
    return ""


def baseline_sections(summary, alpha):
    paragraphs = [text for row in summary.itertuples() if (text := baseline_paragraph(row, alpha))]
    if not paragraphs:
        paragraphs = [
            "Every cell beats always predicting the majority class: each accuracy interval (or, for a cell without "
            "an interval, its mean accuracy) lies above that baseline."
        ]
    return [("Against the majority-class baseline", paragraphs)]


# ---------------------------------------------------------------------------
# The headline: at most five sentences and one compact table, before the details


def primary_of(context):
    """The primary endpoint {metric, test} of ``context`` (default: AUROC on the first external test set no
    generator saw, else the reference's test split, as synthcxr.endpoints.primary_endpoint)."""
    external = context.get("external") or []
    return context.get("primary") or {"metric": "auroc", "test": external[0] if external else context["reference"]}


def summary_value(summary, train, test, metric):
    """(mean, low, high) of one cell's metric in the summary table (NaN where absent)."""
    rows = summary[(summary["train"] == train) & (summary["test"] == test)]
    if rows.empty or metric not in rows:
        nan = float("nan")
        return nan, nan, nan
    row = rows.iloc[0]
    return tuple(float(row.get(column, float("nan"))) for column in (metric, f"{metric}_ci_low", f"{metric}_ci_high"))


def short_interval(low, high, alpha):
    """'95% CI -0.080 to -0.020' (no 'unadjusted': the headline's intervals are each one comparison's)."""
    if pd.isna(low) or pd.isna(high):
        return "no interval"
    return f"{interval_label(alpha)} CI {signed(low)} to {signed(high)}"


def primary_answer(row, ref):
    """One training domain's answer on the primary endpoint, from its single comparison row."""
    if pd.isna(row.p_value):
        return f"could not be tested against {ref}"
    if model_level([row]):
        return f"differs from {ref} by {signed(row.difference)} for these models (model-level, not tested)"
    if bool(row.significant):
        return f"{'beats' if row.difference > 0 else 'falls short of'} {ref}"
    return f"shows no significant difference from {ref} (not evidence that they are equal)"


def main_caveat(context, answered):
    """The one caveat the headline states: few seeds, then a generator that saw (or may have seen) the primary
    test split, then the scope of every interval."""
    primary, n_seeds = primary_of(context), len(context["seeds"])
    if seed_level(n_seeds) == "model":
        return (
            f"Caveat: with {n_seeds} seed(s) per training domain every result is model-level, about these "
            f"particular models; no difference between training domains was tested (use {MIN_DOMAIN_SEEDS} or more)."
        )
    seen = [train for train in answered if primary["test"] in (context.get("generator_saw_test") or {}).get(train, [])]
    if seen:
        return (
            f"Caveat: a generator behind {listing(seen)} saw the {primary['test']} test images, so "
            f"{'that result overstates' if len(seen) == 1 else 'those results overstate'} generalisation."
        )
    unknown = [train for train in answered if train in (context.get("generator_unknown") or [])]
    if unknown:
        return (
            f"Caveat: the images the generator of {listing(unknown)} learned from are unknown; if they include "
            f"the {primary['test']} test images, {'its' if len(unknown) == 1 else 'their'} result overstates "
            "generalisation."
        )
    return "Caveat: every interval is conditional on one train/test split and one run of each generator."


def headline_paragraph(summary, comparisons, context):
    """At most five sentences: the question, the primary result with its interval, one answer per training
    domain, the main caveat."""
    ref, alpha, primary = context["reference"], context["alpha"], primary_of(context)
    metric, test = primary["metric"], primary["test"]
    synthetic = list(context.get("synthetic") or [])
    question = (
        f"Question: do models trained on synthetic chest X-rays ({listing(synthetic)}) tell NORMAL from PNEUMONIA "
        f"as well as models trained on real ones ({ref})?"
        if synthetic
        else f"Question: how do models trained on other domains compare with models trained on {ref}?"
    )
    rows = comparisons[(comparisons["test"] == test) & (comparisons["metric"] == metric)]
    mean, low, high = summary_value(summary, ref, test, metric)
    where = f"the {test} test split" + (
        " (external, real, never trained on)" if test in (context.get("external") or []) else ""
    )
    differences = [
        f"{row.train} {signed(row.difference)} ({short_interval(row.ci_low, row.ci_high, alpha)})"
        for row in rows.itertuples()
    ]
    result = (
        f"Primary endpoint, {LABELS[metric]} on {where}: {ref}-trained models {plain(mean)}"
        + (f" ({interval_label(alpha)} CI {plain(low)} to {plain(high)})" if not pd.isna(low) else "")
        + (f"; difference from them: {'; '.join(differences)}." if differences else ".")
    )
    sentences = [question, result]
    if not rows.empty and model_level(rows.itertuples()):
        sentences.append(f"On it, {listing(rows['train'])} were compared with {ref} model by model only, not tested.")
    elif not rows.empty:
        answers = [
            f"{row.train} {primary_answer(row, ref)}{overlap_note(context, row.train, ref, test)}"
            for row in rows.itertuples()
        ]
        sentences.append(f"On it, {'; '.join(answers)}.")
    sentences.append(main_caveat(context, list(rows["train"])))
    return " ".join(sentences)


def compact_table(summary, comparisons, context):
    """Training domain x test split on the primary metric: the reference's mean, every other domain's
    difference from it with its interval and mark ('‡': a generator behind it saw these test images)."""
    ref, metric = context["reference"], primary_of(context)["metric"]
    rows = comparisons[comparisons["metric"] == metric]
    seen = context.get("generator_saw_test") or {}
    tests = [test for test in context["test_domains"] if test in set(summary["test"])]
    table = []
    for train in dict.fromkeys(summary["train"]):
        line = {"training domain": train}
        for test in tests:
            if train == ref:
                mean, _, _ = summary_value(summary, ref, test, metric)
                line[test] = f"{plain(mean)} (reference)"
                continue
            row = rows[(rows["train"] == train) & (rows["test"] == test)]
            if row.empty:
                line[test] = ""
                continue
            row = next(row.itertuples())
            bounds = "" if pd.isna(row.ci_low) else f" [{signed(row.ci_low)}, {signed(row.ci_high)}]"
            line[test] = f"{signed(row.difference)}{bounds}{'*' if bool(row.significant) else ''}" + (
                " ‡" if test in seen.get(train, []) else ""
            )
        table.append(line)
    return pd.DataFrame(table, columns=["training domain", *tests])


def compact_table_intro(context):
    ref, alpha, primary = context["reference"], context["alpha"], primary_of(context)
    marks = (
        f"`*`: significant after Holm correction (the primary family in the {primary['test']} column, the "
        "secondary family elsewhere)"
        if seed_level(len(context["seeds"])) == "domain"
        else f"no `*`: model-level results (fewer than {MIN_DOMAIN_SEEDS} seeds)"
    )
    return (
        f"{LABELS[primary['metric']]} on each test split: the {ref}-trained models' mean, and each other training "
        f"domain's difference from it [{interval_label(alpha)} interval]; {marks}"
        + (
            "; ‡: a generator behind the training domain saw these test images"
            if context.get("generator_saw_test")
            else ""
        )
        + "."
    )


def headline_sections(summary, comparisons, context):
    """The headline paragraph and the compact table, before anything else."""
    return [
        (
            None,
            [
                headline_paragraph(summary, comparisons, context),
                compact_table_intro(context),
                compact_table(summary, comparisons, context),
            ],
        )
    ]


def primary_matrix(summary, comparisons, context):
    """The primary metric per training domain x test split: mean over seeds with its interval, '*' where the
    domain differs significantly from the reference (the report's front page)."""
    metric = primary_of(context)["metric"]
    marked = comparisons[(comparisons["metric"] == metric) & comparisons["significant"].astype(bool)]
    marks = set(zip(marked["train"], marked["test"]))
    tests = [test for test in context["test_domains"] if test in set(summary["test"])]
    table = []
    for train in dict.fromkeys(summary["train"]):
        line = {"training domain": train}
        for test in tests:
            mean, low, high = summary_value(summary, train, test, metric)
            bounds = "" if pd.isna(low) else f" [{low:.2f}, {high:.2f}]"  # two digits: one line per cell
            line[test] = (
                "n/a" if pd.isna(mean) else f"{mean:.2f}"
            ) + f"{bounds}{'*' if (train, test) in marks else ''}"
        table.append(line)
    return pd.DataFrame(table, columns=["training domain", *tests])


def run_line(summary, context):
    """One line on what was run: the domains with their kinds, the seeds, the test images per split."""
    kinds = context.get("domain_kinds") or {}
    domains = listing(f"{name} ({kind})" for name, kind in kinds.items())
    images = summary.drop_duplicates("test").set_index("test")["n_test"] if "n_test" in summary else {}
    per_split = listing(f"{test} {int(images[test])}" for test in context["test_domains"] if test in images)
    return (
        "Run: "
        + (f"domains {domains}; " if domains else "")
        + f"seeds {listing(map(str, context['seeds']))}; test images per split: {per_split}."
    )


def front_page(summary, comparisons, context):
    """The report's front page block (an HTML fragment): the headline, the primary endpoint's matrix and one
    line on what was run; findings.html has the rest."""
    primary, alpha = primary_of(context), context["alpha"]
    caption = (
        f"{LABELS[primary['metric']]}, mean over seeds [{interval_label(alpha)} interval], training domain x test "
        f"split; primary: the {primary['test']} column"
        + (
            "; `*`: differs significantly from the reference."
            if seed_level(len(context["seeds"])) == "domain"
            else "; model-level intervals, no `*`."
        )
    )
    parts = [
        html_paragraph(headline_paragraph(summary, comparisons, context)),
        html_paragraph(caption),
        html_paragraph(primary_matrix(summary, comparisons, context)),
        html_paragraph(run_line(summary, context)),
    ]
    return '<div class="headline">\n' + "\n".join(parts) + "\n</div>\n"


def details_section():
    return [("Details", ["Everything below is the detail behind the headline, section by section."])]


def findings(summary, comparisons, context):
    """Sections of findings.md.

    ``context``: reference (the real training domain), synthetic (training domains made of synthetic
    images), mixed (name or None), test_domains, seeds, n_boot_intervals, n_boot_comparisons, alpha (of
    the intervals and the tests), min_groups_per_class, demo (bool); optional: real_trains (other real
    training domains), external (real external test sets no generator saw), generator_saw_test
    ({training domain: test domains its generator saw}), generator_unknown (synthetic training domains
    whose generator's training data is unknown), domain_overlaps (pairs of domains sharing images, entries of
    synthcxr.leakage.domain_overlaps: stated beside every sentence comparing or testing on both).
    """
    metrics = [m for m in COMPARED_METRICS if m in set(comparisons["metric"])]
    trains = list(dict.fromkeys(summary["train"]))
    return (
        headline_sections(summary, comparisons, context)
        + opening_sections(trains, comparisons, context, metrics)
        + external_sections(summary, comparisons, context, metrics)
        + instead_sections(comparisons, context, metrics)
        + generator_sections(context)
        + mixed_sections(comparisons, context, metrics, trains)
        + shortfall_sections(comparisons, context, metrics)
        + baseline_sections(summary, context["alpha"])
    )


def to_markdown(sections, title="Findings"):
    """findings.md: each section's paragraphs, a table (DataFrame) as a Markdown table."""
    lines = [f"# {title}", ""]
    for heading, paragraphs in sections:
        if heading:
            lines += [f"## {heading}", ""]
        for paragraph in paragraphs:
            text = paragraph.to_markdown(index=False) if isinstance(paragraph, pd.DataFrame) else paragraph
            lines += [text, ""]
    return "\n".join(lines)


def html_paragraph(paragraph):
    """One paragraph as HTML: a table (DataFrame) as an HTML table, text escaped, `code` as <code>."""
    if isinstance(paragraph, pd.DataFrame):
        return paragraph.to_html(index=False, border=0, na_rep="")
    return f"<p>{inline_html(paragraph)}</p>"


def to_html(sections, title="Findings"):
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for heading, paragraphs in sections:
        if heading:
            parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts += [html_paragraph(paragraph) for paragraph in paragraphs]
    return html_page(title, "\n".join(parts))


def words_before_details(markdown):
    """Words of findings.md before its Details section (the headline, the table, the notices)."""
    return len(markdown.split("\n## Details")[0].split())
