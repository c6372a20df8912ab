"""Gathering the per-cell metric files into the study's summary tables, and their readable forms."""

import datetime

import numpy as np
import pandas as pd

# The main table: every metric with a bootstrap interval, under its readable label.
from synthcxr.analysis import (
    INTERVAL_RESAMPLING,
    cell_interval_text,
    excludes_zero,
    interval_label,
    interval_table,
    p_value_text,
    validation_thresholds,
)
from synthcxr.catalog import COMPARED_METRICS, INTERVAL_METRICS, LABELS, THRESHOLD_METRICS
from synthcxr.catalog import METRICS as POINT_METRICS
from synthcxr.jobs import code_version, package_versions, repository_root, run_environment
from synthcxr.metrics import seed_mean_sd
from synthcxr.stats import MIN_DOMAIN_SEEDS, seed_level
from synthcxr.text import listing

# Headline metrics, in table order; PNEUMONIA is the positive class.
METRICS = [*POINT_METRICS, "majority_baseline_accuracy"]
# At the decision threshold chosen on the training domain's validation slice (not 0.5).
TUNED_METRICS = ["threshold", *THRESHOLD_METRICS]
METRICS += [f"tuned_{name}" for name in TUNED_METRICS]
COUNTS = ["tn", "fp", "fn", "tp"]


def metrics_row(metrics):
    """One tidy row (train, test, seed, metrics, confusion counts) from a cell's metric JSON."""
    provenance = metrics["provenance"]
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]["counts"]
    row = {"train": provenance["train_domain"], "test": provenance["test_domain"], "seed": provenance["seed"]}
    row.update({name: metrics[name] for name in METRICS if not name.startswith("tuned_")})
    tuned = metrics["at_validation_threshold"]
    row.update({f"tuned_{name}": np.nan if tuned[name] is None else tuned[name] for name in TUNED_METRICS})
    row.update({"tn": tn, "fp": fp, "fn": fn, "tp": tp, "n_test": tn + fp + fn + tp})
    row["train_test_overlap"] = metrics["train_test_overlap"]["images"]
    row["train_test_patient_overlap"] = metrics["train_test_overlap"].get("patient_images", 0)
    return row


def by_seed_table(metric_dicts, train_order, test_order):
    table = pd.DataFrame([metrics_row(m) for m in metric_dicts])
    table["train"] = pd.Categorical(table["train"], categories=train_order, ordered=True)
    table["test"] = pd.Categorical(table["test"], categories=test_order, ordered=True)
    table = table.sort_values(["train", "test", "seed"]).reset_index(drop=True)
    table["train"], table["test"] = table["train"].astype(str), table["test"].astype(str)
    return table


def summary_table(by_seed, intervals=None):
    """One row per train x test cell: mean over seeds of each metric, its std, and pooled counts.

    Mean and std as :func:`synthcxr.metrics.seed_mean_sd` (NaN when a seed's value is NaN).
    ``intervals`` (optional, from :func:`synthcxr.analysis.interval_table`): ``{metric}_ci_low`` and
    ``{metric}_ci_high`` per cell, placed after each metric's mean and std.
    """
    grouped = by_seed.groupby(["train", "test"], sort=False)
    rows = {}
    for key, frame in grouped:
        mean, std = seed_mean_sd(frame[METRICS].to_numpy(dtype=float))
        rows[key] = {**dict(zip(METRICS, mean)), **{f"{name}_std": v for name, v in zip(METRICS, std)}}
    columns = []
    for name in METRICS:
        columns += [name, f"{name}_std"]
    summary = pd.DataFrame.from_dict(rows, orient="index")[columns]
    summary.index = pd.MultiIndex.from_tuples(summary.index, names=["train", "test"])
    if intervals is not None:
        intervals = intervals.set_index(["train", "test"])
        for name in reversed(METRICS):
            bounds = [f"{name}_ci_low", f"{name}_ci_high"]
            if bounds[0] in intervals:
                position = summary.columns.get_loc(f"{name}_std") + 1
                for offset, bound in enumerate(bounds):
                    summary.insert(position + offset, bound, intervals[bound].reindex(summary.index))
    counts = grouped[COUNTS].sum().add_suffix("_pooled")
    overlap = grouped[["train_test_overlap", "train_test_patient_overlap"]].max()
    summary = summary.join(counts).join(overlap)
    summary.insert(0, "n_seeds", grouped.size())
    summary.insert(1, "n_test", grouped["n_test"].first())
    if intervals is not None and "n_groups" in intervals:
        summary.insert(2, "n_groups", intervals["n_groups"].reindex(summary.index))
    return summary.reset_index()


def mark_test_roles(summary, external=(), generator_saw_test=None):
    """Add ``external_test`` (the test domain is an external test set, never trained on) and
    ``generator_saw_test`` (a generator behind the training domain learned from these test images)."""
    seen = generator_saw_test or {}
    summary = summary.copy()
    summary["external_test"] = summary["test"].isin(list(external))
    summary["generator_saw_test"] = [
        test in seen.get(train, []) for train, test in zip(summary["train"], summary["test"])
    ]
    return summary


def study_tables(metric_dicts, cells, *, train_domains, test_domains, external, generator_saw_test, bootstrap):
    """The by-seed table and the summary table (means, sd, bootstrap intervals, test roles) of rule summarize.

    ``metric_dicts``: each evaluation's metrics JSON; ``cells``: from
    :func:`synthcxr.analysis.load_cells`; ``bootstrap``: the settings of
    :func:`synthcxr.analysis.interval_table`. Returns ``(by_seed, summary)``.
    """
    by_seed = by_seed_table(metric_dicts, train_domains, test_domains)
    intervals = interval_table(cells, thresholds=validation_thresholds(metric_dicts, cells), **bootstrap)
    return by_seed, mark_test_roles(summary_table(by_seed, intervals), external, generator_saw_test)


def provenance(metric_paths, metric_dicts, trainings, bootstrap):
    """The run's provenance (results/provenance.json): when and where it finished, the code and packages,
    the interval settings, each training's run_info (``trainings``: {path: run_info}) and each cell's own."""
    return {
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "environment": run_environment(),
        "code_version": code_version(repository_root()),
        "packages": package_versions(),
        "statistics": {"intervals": dict(bootstrap, resampling=INTERVAL_RESAMPLING)},
        "trainings": trainings,
        "cells": [{"metrics": path, "provenance": m["provenance"]} for path, m in zip(metric_paths, metric_dicts)],
    }


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
    (:func:`synthcxr.analysis.p_value_text`).
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
