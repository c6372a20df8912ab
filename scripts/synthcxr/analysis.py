"""Statistics across the study's cells: bootstrap intervals per cell and paired comparisons between cells.

A *cell* is one training domain tested on one test split, with one model per seed. Its predictions
files (one per seed) list the same test images in the same order, and so do the cells of every
training domain on the same test split; both facts are checked, since the pairing rests on them.

Decisions (stated in summary.md, findings.md and the report):

- Seeds are combined by averaging the metric over seeds (the number in the summary table). With at
  least 3 seeds the interval of that mean is domain-level (:func:`synthcxr.stats.seed_averaged_intervals`):
  the variance of the seed mean over resamples of the test split's patient groups (``group`` column),
  seed models held fixed, plus the seeds' s^2 / k with a t of k - 1 degrees of freedom, so that it is
  about the training domain's expected metric over seeds. With fewer seeds it is model-level (the test
  images only) and says nothing about other seeds.
- A comparison is one training domain against the reference domain on the same test images: the
  difference of the seed-averaged metrics, its interval and a two-sided p-value
  (:func:`synthcxr.stats.paired_bootstrap_differences`) from the same two parts (the test patient groups
  resampled with the same draw for both domains: paired on images; both domains' seed variances, with
  Welch-Satterthwaite degrees of freedom). Only such domain-level comparisons (3 or more seeds per domain)
  can be marked significant: with fewer seeds a difference is between these models only, and the image
  bootstrap alone would call "significant" differences that another draw of seeds need not show.
  McNemar's test (accuracy) and DeLong's test (AUROC) between the two models of each seed are reported beside it
  (:func:`seedwise_test`): they compare single models, not training domains, and assume independent
  images (not true within a patient).
- Holm's step-down correction within two families, controlling the family-wise error rate of each: the
  primary endpoint's comparisons (one metric on one test split, one per training domain;
  :mod:`synthcxr.endpoints`) and all the others (the secondary family).
- No interval and no test where the test split has fewer than ``min_groups_per_class`` patient groups
  of a class: a bootstrap of a handful of groups gives degenerate intervals (an AUROC interval of
  [1, 1] from two images) and spurious p-values.

The bootstrap settings (``n_boot``, ``alpha``, ``seed``, ``min_groups_per_class``) have no defaults
here: the config's ``statistics`` section sets them, once (defaults in workflow/schemas/config.schema.yaml).
"""

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from synthcxr.catalog import COMPARED_METRICS, INTERVAL_METRICS, THRESHOLD_METRICS, VOLUME_METRICS
from synthcxr.endpoints import family
from synthcxr.metrics import classification_metrics, seed_mean_sd
from synthcxr.predictions import read_predictions
from synthcxr.stats import (
    delong_test,
    holm_adjust,
    mcnemar_test,
    paired_bootstrap_differences,
    seed_averaged_intervals,
    seed_level,
)

COMPARISON_METHOD = (
    "difference of seed means; test-group bootstrap (paired, seed models fixed) plus both domains' seed "
    "variances, t-calibrated (Welch-Satterthwaite df) from 3 seeds per domain, model-level below"
)


def cell_from_tables(tables, name="cell"):
    """One cell from its per-seed prediction tables: {seeds, image, group, y, probs (n_seeds, n)}.

    ``tables``: {seed: DataFrame with columns image, group, true_label, prob_pneumonia}.
    """
    if not tables:
        raise ValueError(f"{name}: no predictions")
    seeds = sorted(tables)
    first = tables[seeds[0]]
    for seed in seeds[1:]:
        table = tables[seed]
        same = len(table) == len(first) and (table["image"].to_numpy() == first["image"].to_numpy()).all()
        if not same or not (table["true_label"].to_numpy() == first["true_label"].to_numpy()).all():
            raise ValueError(f"{name}: seed {seed} lists other test images or labels than seed {seeds[0]}")
    return {
        "seeds": seeds,
        "image": first["image"].to_numpy(),
        "group": first["group"].to_numpy(),
        "y": first["true_label"].to_numpy(dtype=int),
        "probs": np.stack([tables[seed]["prob_pneumonia"].to_numpy(dtype=float) for seed in seeds]),
    }


def load_cells(paths, keys):
    """All cells from predictions files: {(train, test): cell}, seeds in increasing order.

    ``keys``: the (train, test, seed) of each path, as the rule that lists the files gives them.
    """
    if len(paths) != len(keys):
        raise ValueError(f"{len(paths)} predictions files but {len(keys)} (train, test, seed) keys")
    tables = defaultdict(dict)
    for path, (train, test, seed) in zip(paths, keys):
        tables[(train, test)][int(seed)] = read_predictions(path)
    return {key: cell_from_tables(seed_tables, f"{key[0]} on {key[1]}") for key, seed_tables in tables.items()}


def groups_per_class(cell):
    """Smallest number of distinct patient groups among the images of one class (0 if a class is absent)."""
    return min(len(set(cell["group"][cell["y"] == label])) for label in (0, 1))


def too_few_groups_note(min_groups_per_class):
    return f"fewer than {min_groups_per_class} patient groups of a class in the test split: no interval or test"


# What a cell's interval is made of (provenance.json; tables, findings and captions use cell_interval_text).
INTERVAL_RESAMPLING = (
    "3 or more seeds: domain-level, the variance of the seed mean over resamples of the test split's patient "
    "groups (seed models fixed) plus the seeds' s^2/k, t-calibrated; fewer seeds: model-level, the percentile "
    "interval of the same resamples (test images only)"
)


def cell_intervals(cell, metrics=INTERVAL_METRICS, *, n_boot, alpha, seed, min_groups_per_class, threshold=0.5):
    """{metric: (low, high)}: the interval of each seed-averaged metric of one cell.

    ``threshold``: 0.5, or one per seed (each model's validation threshold). NaN bounds where the test split
    has fewer than ``min_groups_per_class`` groups of a class, or a seed's threshold is unknown (NaN).
    """
    if groups_per_class(cell) < min_groups_per_class or np.isnan(np.asarray(threshold, dtype=float)).any():
        return {name: (float("nan"), float("nan")) for name in metrics}
    return seed_averaged_intervals(
        cell["y"],
        cell["probs"],
        metrics,
        groups=cell["group"],
        n_boot=n_boot,
        alpha=alpha,
        seed=seed,
        threshold=threshold,
    )


def interval_table(cells, metrics=INTERVAL_METRICS, thresholds=None, **bootstrap):
    """One row per cell: ``{metric}_ci_low`` and ``{metric}_ci_high`` (see :func:`cell_intervals`).

    ``thresholds`` (optional): {(train, test): each seed's validation threshold, in the cell's seed order};
    adds ``tuned_{metric}_ci_low``/``_ci_high`` for the threshold metrics at those thresholds.
    """
    rows = []
    for (train, test), cell in cells.items():
        row = {"train": train, "test": test, "n_groups": len(set(cell["group"]))}
        for name, (low, high) in cell_intervals(cell, metrics, **bootstrap).items():
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = low, high
        if thresholds is not None:
            tuned = [name for name in THRESHOLD_METRICS if name in metrics]
            at_threshold = cell_intervals(cell, tuned, threshold=thresholds[(train, test)], **bootstrap)
            for name, (low, high) in at_threshold.items():
                row[f"tuned_{name}_ci_low"], row[f"tuned_{name}_ci_high"] = low, high
        rows.append(row)
    return pd.DataFrame(rows)


def validation_thresholds(metric_dicts, cells):
    """{(train, test): each seed's threshold chosen on validation data, in the cell's seed order (NaN where a
    metrics JSON has none)} from the evaluations' metrics JSON."""
    chosen = {}
    for metrics in metric_dicts:
        provenance = metrics["provenance"]
        threshold = metrics["at_validation_threshold"]["threshold"]
        key = (provenance["train_domain"], provenance["test_domain"])
        chosen[(key, int(provenance["seed"]))] = float("nan") if threshold is None else float(threshold)
    return {key: [chosen.get((key, seed), float("nan")) for seed in cell["seeds"]] for key, cell in cells.items()}


def seed_metrics(cell, metrics):
    """{metric: (mean, sd) over the cell's seeds} (:func:`synthcxr.metrics.seed_mean_sd`, as the summary table)."""
    per_seed = [classification_metrics(cell["y"], prob) for prob in cell["probs"]]
    return {name: seed_mean_sd([values[name] for values in per_seed]) for name in metrics}


# Columns of the comparison table before those added to it as a whole (Holm, method, seedwise tests).
COMPARISON_COLUMNS = [
    "test",
    "train",
    "reference",
    "metric",
    "n_test",
    "n_groups",
    "n_seeds",
    "level",
    "train_value",
    "reference_value",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "note",
]


def paired_trains(cells, reference, train_domains, test):
    """The training domains compared with ``reference`` on ``test``, checked to be tested on its images."""
    base = cells[(reference, test)]
    trains = [train for train in train_domains if train != reference]
    for train in trains:
        cell = cells[(train, test)]
        if not (np.array_equal(cell["image"], base["image"]) and np.array_equal(cell["y"], base["y"])):
            raise ValueError(f"{train} and {reference} were tested on different {test} images: no pairing")
    return trains


def untested_difference(train_value, reference_value):
    """A comparison without a test: the difference of the seed means, no interval and no p-value."""
    nan = float("nan")
    return {"diff": train_value - reference_value, "low": nan, "high": nan, "p_value": nan}


def domain_comparison_rows(cell, base, reference_values, metrics, differences, note):
    """One row per metric: a training domain's ``cell`` against the reference cell ``base`` (same test split).

    ``reference_values``: :func:`seed_metrics` of ``base``. ``differences``: the domain's {metric: {diff,
    low, high, p_value}} from :func:`synthcxr.stats.paired_bootstrap_differences`, None where the split is
    not tested (:func:`untested_difference`).
    """
    train_values = seed_metrics(cell, metrics)
    rows = []
    for metric in metrics:
        train_value, reference_value = train_values[metric][0], reference_values[metric][0]
        result = untested_difference(train_value, reference_value) if differences is None else differences[metric]
        level = seed_level(len(cell["seeds"]), len(base["seeds"]))
        seedwise_name, seedwise_p = seedwise_test(cell, base, metric)
        rows.append(
            {
                "metric": metric,
                "n_test": len(cell["y"]),
                "n_groups": len(set(cell["group"])),
                "n_seeds": len(cell["seeds"]),
                "level": level,
                "train_value": train_value,
                "reference_value": reference_value,
                "difference": result["diff"],
                "ci_low": result["low"],
                "ci_high": result["high"],
                "p_value": result["p_value"],
                "note": note,
                "seedwise_test": seedwise_name,
                "seedwise_p_max": seedwise_p,
            }
        )
    return rows


def holm_corrected_table(rows, alpha, primary=None):
    """The comparison table of ``rows``: Holm within each family (the primary endpoint's comparisons, the
    others; :func:`synthcxr.endpoints.family`), the method, the seedwise tests, the note last."""
    table = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    table.insert(
        table.columns.get_loc("metric") + 1, "family", [family(r.test, r.metric, primary) for r in table.itertuples()]
    )
    table["p_holm"] = np.nan
    for members in table.groupby("family").groups.values():
        table.loc[members, "p_holm"] = holm_adjust(table.loc[members, "p_value"].to_numpy(dtype=float))
    # Fewer than MIN_DOMAIN_SEEDS seeds: a comparison of these models, never a domain-level mark.
    table["significant"] = (table["p_holm"] < alpha) & (table["level"] == "domain")
    table["method"] = COMPARISON_METHOD
    table["seedwise_test"] = [row["seedwise_test"] for row in rows]
    table["seedwise_p_max"] = [row["seedwise_p_max"] for row in rows]
    extra = ["p_holm", "significant", "method", "seedwise_test", "seedwise_p_max"]
    columns = COMPARISON_COLUMNS[:-1]
    columns = [*columns[: columns.index("metric") + 1], "family", *columns[columns.index("metric") + 1 :]]
    return table[columns + extra + ["note"]]


def comparison_table(
    cells, reference, train_domains, test_domains, metrics=COMPARED_METRICS, *, primary=None, **bootstrap
):
    """Each training domain against ``reference`` on each test split, Holm-corrected within each family.

    ``bootstrap``: n_boot, alpha, seed and min_groups_per_class of :func:`comparison_rows`.
    ``primary`` ({metric, test}, :func:`synthcxr.endpoints.primary_endpoint`): its comparisons (one per
    training domain) form the primary Holm family, every other row the secondary one; None: one family.

    Columns: test, train, reference, metric, family ('primary' or 'secondary'), n_test, n_groups, n_seeds,
    level ('domain' with at least :data:`synthcxr.stats.MIN_DOMAIN_SEEDS` seeds per domain, else 'model'),
    train_value, reference_value
    (seed-averaged metrics), difference (train minus reference), ci_low, ci_high, p_value, p_holm,
    significant (p_holm < alpha at the domain level; never at the model level), method, seedwise_test
    and seedwise_p_max (:func:`seedwise_test`, not part of the Holm family), note.
    Interval and p-value are NaN (and left out of the Holm family) where
    the test split has fewer than ``min_groups_per_class`` groups of a class.
    """
    rows = comparison_rows(cells, reference, train_domains, test_domains, metrics, **bootstrap)
    return holm_corrected_table(rows, bootstrap["alpha"], primary)


def comparison_rows(
    cells,
    reference,
    train_domains,
    test_domains,
    metrics=COMPARED_METRICS,
    *,
    n_boot,
    alpha,
    seed,
    min_groups_per_class,
):
    """The rows of :func:`comparison_table` before Holm's correction (:func:`holm_corrected_table`)."""
    rows = []
    for test in test_domains:
        trains = paired_trains(cells, reference, train_domains, test)
        base = cells[(reference, test)]
        testable = groups_per_class(base) >= min_groups_per_class
        differences = {}
        if testable:
            probs = {name: cells[(name, test)]["probs"] for name in [reference, *trains]}
            differences = paired_bootstrap_differences(
                base["y"], probs, reference, metrics, groups=base["group"], n_boot=n_boot, alpha=alpha, seed=seed
            )
        note = "" if testable else too_few_groups_note(min_groups_per_class)
        reference_values = seed_metrics(base, metrics)
        for train in trains:
            cell_rows = domain_comparison_rows(
                cells[(train, test)], base, reference_values, metrics, differences.get(train), note
            )
            rows += [{"test": test, "train": train, "reference": reference, **row} for row in cell_rows]
    return rows


# Classic per-image tests beside the bootstrap, for readers who expect them (one model per seed).
SEEDWISE_TESTS = {"accuracy": "McNemar (exact)", "auroc": "DeLong"}


def seedwise_test(cell, base, metric):
    """(name, p) of McNemar's test (accuracy, predictions at 0.5) or DeLong's test (AUROC) between the
    models of the same seed, the largest p over seeds: below alpha only when every seed pair is.
    ``(name, NaN)`` where undefined, ``("", NaN)`` for metrics without such a test. Each test compares
    two single models on these images, not the training domains."""
    name = SEEDWISE_TESTS.get(metric, "")
    if not name:
        return name, float("nan")
    if list(cell["seeds"]) != list(base["seeds"]):
        raise ValueError(f"seeds {cell['seeds']} and {base['seeds']} differ: no seed-by-seed pairing")
    p_values = []
    for prob, base_prob in zip(cell["probs"], base["probs"]):
        if metric == "accuracy":
            p_values.append(mcnemar_test(cell["y"], prob >= 0.5, base_prob >= 0.5)["p_value"])
        else:
            p_values.append(delong_test(cell["y"], prob, base_prob)["p_value"])
    return name, float(np.max(p_values))


def excludes_zero(row):
    """Whether a comparison row's unadjusted interval lies wholly above or below zero (False without one)."""
    return bool(row.ci_low > 0 or row.ci_high < 0)


def significance_marks(comparisons):
    """{(train, test, metric): True} for the significant rows of a comparison table."""
    marked = comparisons[comparisons["significant"].astype(bool)]
    return {(row.train, row.test, row.metric): True for row in marked.itertuples()}


def load_volume_points(cells):
    """The volume curve's points from their files, in the order of ``cells``: the input of :func:`volume_table`.

    ``cells``: one dict per training and test split with train, percent, test, seed, predictions (path of the
    predictions file) and history (path of the training's history.json, which says how many images it used).
    """
    points = defaultdict(lambda: {"tables": {}, "train_images": []})
    for cell in cells:
        point = points[(cell["train"], cell["percent"], cell["test"])]
        point["tables"][cell["seed"]] = read_predictions(cell["predictions"])
        point["train_images"].append(json.loads(Path(cell["history"]).read_text())["train_images"])
    return dict(points)


def volume_table(points, metrics=VOLUME_METRICS, **bootstrap):
    """One row per (train, percent, test) point of the volume curve.

    ``points``: {(train, percent, test): {"tables": {seed: predictions DataFrame}, "train_images": [n per
    seed]}}. Columns: train, percent, test, n_seeds, train_images (mean over seeds), then per metric the
    mean over seeds, its sd and the bootstrap interval of the seed-averaged metric (as the main table).
    """
    rows = []
    for (train, percent, test), point in points.items():
        cell = cell_from_tables(point["tables"], f"{train} ({percent}%) on {test}")
        row = {
            "train": train,
            "percent": percent,
            "test": test,
            "n_seeds": len(cell["seeds"]),
            "train_images": float(np.mean(point["train_images"])),
        }
        intervals = cell_intervals(cell, metrics, **bootstrap)
        for name, (mean, sd) in seed_metrics(cell, metrics).items():
            row[name], row[f"{name}_std"] = mean, sd
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = intervals[name]
        rows.append(row)
    table = pd.DataFrame(rows)
    # Domains in the order given (the config's), each curve by increasing percent.
    first_seen = {name: list(dict.fromkeys(table[name])) for name in ("train", "test")}
    table["train_rank"] = table["train"].map(first_seen["train"].index)
    table["test_rank"] = table["test"].map(first_seen["test"].index)
    table = table.sort_values(["train_rank", "test_rank", "percent"], kind="stable")
    return table.drop(columns=["train_rank", "test_rank"]).reset_index(drop=True)
