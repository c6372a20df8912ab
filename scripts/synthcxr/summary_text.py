"""The summary tables in words for the report: the main table, the threshold table and the comparisons as
strings, the LaTeX table, the intake table and the leakage sentences (rule report_tables).

Apart from synthcxr.summary (the numbers, which summarize computes), so that an edit to a label, a sentence or
the LaTeX reruns rule report_tables only, never the bootstrap of summarize.
"""

import numpy as np
import pandas as pd

from synthcxr.analysis import excludes_zero
from synthcxr.catalog import COMPARED_METRICS, INTERVAL_METRICS, LABELS
from synthcxr.stats import MIN_DOMAIN_SEEDS, seed_level
from synthcxr.text import listing
from synthcxr.wording import cell_interval_text, interval_label, p_value_text


def readable_test_names(summary):
    """Test domain names as tables show them: '(external)' on external test sets, and '(generator saw
    these)' where the training domain's generator learned from these very test images."""
    labels = []
    for _, row in summary.iterrows():
        label = row["test"] + (" (external)" if row.get("external_test", False) else "")
        labels.append(label + (" (generator saw these)" if row.get("generator_saw_test", False) else ""))
    return labels


def cell_text(row, name, marked=False, spread=True, digits=3, interval=True):
    """'mean ± sd (low–high)' of one metric of one summary row; '*' when ``marked``."""
    mean = row[name]
    if pd.isna(mean):
        return "n/a"
    text = f"{mean:.{digits}f}"
    std = row.get(f"{name}_std", np.nan)
    if spread and not pd.isna(std):
        text += f" ± {std:.{digits}f}"
    low, high = row.get(f"{name}_ci_low", np.nan), row.get(f"{name}_ci_high", np.nan)
    if interval and not (pd.isna(low) or pd.isna(high)):
        text += f" ({low:.{digits}f}–{high:.{digits}f})"
    return text + ("*" if marked else "")


def compared_metrics_text():
    """'accuracy, balanced accuracy, F1 and AUROC': the only metrics tested, so the only ones with a '*'."""
    return listing(LABELS[name] for name in COMPARED_METRICS)


def readable_table(summary, marks=None, metrics=INTERVAL_METRICS):
    """The main table as strings: one column per metric, 'mean ± sd (interval)', '*' if significant.

    ``marks``: {(train, test, metric): True} from :func:`synthcxr.analysis.significance_marks`.
    """
    marks = marks or {}
    columns = ["train", "test", "n_seeds", "n_test"] + (["n_groups"] if "n_groups" in summary else [])
    readable = summary[columns].copy()
    readable["test"] = readable_test_names(summary)
    readable["majority baseline"] = [f"{v:.3f}" for v in summary["majority_baseline_accuracy"]]
    for name in metrics:
        readable[LABELS[name]] = [
            cell_text(row, name, marks.get((row["train"], row["test"], name), False)) for _, row in summary.iterrows()
        ]
    return readable


def threshold_table(summary):
    """Threshold metrics at 0.5 beside those at the threshold chosen on validation data, as strings: mean over
    seeds with its interval (each model at its own threshold)."""
    readable = summary[["train", "test"]].copy()
    readable["test"] = readable_test_names(summary)
    readable["validation threshold"] = [cell_text(row, "tuned_threshold") for _, row in summary.iterrows()]
    for name in ["balanced_accuracy", "sensitivity", "specificity", "f1"]:
        for prefix, label in (("", "at 0.5"), ("tuned_", "at validation threshold")):
            readable[f"{LABELS[name]} {label}"] = [
                cell_text(row, prefix + name, spread=False) for _, row in summary.iterrows()
            ]
    return readable


def significance_text(row):
    """'*' when significant after Holm; else says when the unadjusted interval excludes zero anyway; a
    model-level row (fewer than 3 seeds) is never a test of the training domains."""
    if row.significant:
        return "*"
    if getattr(row, "level", "domain") == "model":
        return "no mark: model-level (fewer than 3 seeds)"
    return "no (after Holm), although the unadjusted CI excludes 0" if excludes_zero(row) else ""


def comparisons_readable(comparisons, alpha, n_boot):
    """The comparison table as strings, one row per test, training domain and metric.

    ``n_boot``: replicates of the comparisons' bootstrap; a p-value at its floor reads '< x'
    (:func:`synthcxr.wording.p_value_text`).
    """
    rows = []
    for row in comparisons.itertuples():
        rows.append(
            {
                "test": row.test,
                "train": row.train,
                "vs": row.reference,
                "metric": LABELS.get(row.metric, row.metric),
                "family (Holm)": getattr(row, "family", "secondary"),
                "train value": f"{row.train_value:.3f}",
                "reference value": f"{row.reference_value:.3f}",
                f"difference (unadjusted {interval_label(alpha)} CI)": "n/a"
                if pd.isna(row.difference)
                else f"{row.difference:+.3f} ({row.ci_low:+.3f} to {row.ci_high:+.3f})",
                "p (unadjusted)": p_value_text(row.p_value, n_boot),
                "p (Holm)": p_value_text(row.p_holm, n_boot, raw_p_value=row.p_value),
                "significant (Holm)": significance_text(row),
                "McNemar / DeLong of each seed's two models, max p": ""
                if not row.seedwise_test
                else f"{row.seedwise_test}: " + ("n/a" if pd.isna(row.seedwise_p_max) else f"{row.seedwise_p_max:.4f}"),
            }
        )
    return pd.DataFrame(rows)


# Our own escaping rather than pandas': Styler escapes cells and headers (format(escape="latex")) but not the
# caption, which names the reference domain and the interval's "95%"; one function serves all three.
LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"}
LATEX_SPECIAL.update({"~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"})


def latex_escape(text):
    return "".join(LATEX_SPECIAL.get(c, c) for c in str(text))


def latex_table(summary, marks, reference, alpha, metrics=INTERVAL_METRICS):
    """The main table as LaTeX (booktabs): mean over seeds with its interval below it.

    Uses :meth:`pandas.io.formats.style.Styler.to_latex` (needs jinja2).
    """
    marks = marks or {}
    table = pd.DataFrame(
        {
            "Train": [latex_escape(v) for v in summary["train"]],
            "Test": [latex_escape(v) for v in readable_test_names(summary)],
            "Majority": [f"{v:.3f}" for v in summary["majority_baseline_accuracy"]],
        }
    )
    for name in metrics:
        cells = []
        for _, row in summary.iterrows():
            mean, low, high = row[name], row.get(f"{name}_ci_low", np.nan), row.get(f"{name}_ci_high", np.nan)
            star = "*" if marks.get((row["train"], row["test"], name)) else ""
            if pd.isna(mean):
                cells.append("n/a")
            elif pd.isna(low) or pd.isna(high):
                cells.append(f"{mean:.3f}{star}")
            else:
                cells.append(
                    r"\begin{tabular}[t]{@{}c@{}}"
                    + f"{mean:.3f}{star}"
                    + r"\\ \scriptsize ["
                    + f"{low:.3f}, {high:.3f}"
                    + r"]\end{tabular}"
                )
        table[latex_escape(LABELS[name])] = cells
    seeds = sorted(set(summary["n_seeds"]))
    caption = (
        f"Each CNN trained on one domain (Train) and tested on a held-out test split (Test): mean over "
        f"{'/'.join(map(str, seeds))} seed(s) with the {latex_escape(cell_interval_text(alpha, min(seeds)))}. "
        "Majority: accuracy of always predicting the majority class. "
        + (
            f"* differs from the {latex_escape(reference)}-trained models on the same test images (test patient "
            f"groups and both domains' seeds, Holm-adjusted $p < {alpha}$); only {compared_metrics_text()} were "
            "tested, the other columns carry no *. "
            if seed_level(min(seeds)) == "domain"
            else f"No * marks: with fewer than {MIN_DOMAIN_SEEDS} seeds no difference between training domains "
            "is tested. "
        )
        + "PNEUMONIA is the positive class. "
        "Research use only, not for diagnosis."
    )
    latex = table.style.hide(axis="index").to_latex(
        hrules=True,
        caption=caption,
        label="tab:synthcxr-summary",
        position_float="centering",
        column_format="ll" + "r" * (len(table.columns) - 2),
    )
    return "% Generated by the synthcxr workflow (rule report_tables); needs \\usepackage{booktabs}.\n" + latex


INTAKE_COLUMNS = ["domain", "split", "images_used", "train", "test", "ignored", "bad", "duplicates", "groups"]


def intake_table(intake_reports):
    """One row per domain from the intake reports of prepare_domain (the columns also when there is none)."""
    rows = []
    for report in intake_reports:
        counts = report["class_counts"]
        rows.append(
            {
                "domain": report["domain"],
                "split": report.get("split", "random"),
                "images_used": report["images_used"],
                "train": sum(counts["train"].values()),
                "test": sum(counts["test"].values()),
                "ignored": report["ignored_hidden_or_system"] + report["ignored_not_image"],
                "bad": report["bad_images"],
                "duplicates": report["duplicate_images"],
                "groups": report["groups"],
            }
        )
    return pd.DataFrame(rows, columns=INTAKE_COLUMNS)


def leakage_lines(summary, domain_overlaps=()):
    """Sentences for the cells whose test split holds exact copies of, or patients of, training images,
    and for domains that share images (``domain_overlaps``: entries of synthcxr.leakage.domain_overlaps)."""
    patients = summary.get("train_test_patient_overlap", pd.Series(0, index=summary.index))
    leaked = summary[(summary["train_test_overlap"] > 0) | (patients > 0)]
    lines = []
    for row, n_patients in zip(leaked.itertuples(), patients[leaked.index]):
        if row.train_test_overlap > 0:
            lines.append(
                f"- {row.test} test split: {row.train_test_overlap} image(s) are exact copies of {row.train} "
                "training images; that cell overstates generalisation."
            )
        if n_patients > 0:
            lines.append(
                f"- {row.test} test split: {n_patients} image(s) are of patients whose images {row.train} "
                "was trained on; that cell overstates generalisation."
            )
    if not lines:
        lines = ["No test image is an exact copy of a training image of the model tested on it."]
    for entry in domain_overlaps:
        first, second = entry["domains"]
        lines.append(
            f"- Domains {first} and {second} share {entry['shared_images']} image(s) with equal pixels "
            f"({entry['share']:.0%} of the smaller, whatever the split)"
            + ("; they are largely the same images under two names." if entry["identical"] else ".")
        )
    return lines
