"""Gathering the per-cell metric files into the study's summary tables (their readable forms: synthcxr.summary_text)."""

import datetime

import numpy as np
import pandas as pd

from synthcxr.analysis import INTERVAL_RESAMPLING, interval_table, validation_thresholds
from synthcxr.catalog import METRICS as POINT_METRICS
from synthcxr.catalog import THRESHOLD_METRICS
from synthcxr.jobs import code_version, package_versions, repository_root, run_environment
from synthcxr.metrics import seed_mean_sd

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
