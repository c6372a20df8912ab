"""Simulated predictions, cells and study tables shared by the unit tests of stats, analysis, findings, summary
and figures (on the test path through pyproject.toml's pythonpath)."""

import numpy as np
import pandas as pd

from synthcxr import analysis, catalog, metrics

# Bootstrap settings besides n_boot (the workflow takes them from the config: statistics).
BOOT = {"alpha": 0.05, "seed": 0, "min_groups_per_class": 5}
# Columns of a comparison-table row after its (test, train) keys, as the simulated tables give them.
COMPARED_VALUES = [
    "metric",
    "train_value",
    "reference_value",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_holm",
    "significant",
]


def _seeds(rng, y, n_seeds, separation=1.0, noise=0.5):
    """Probabilities of ``n_seeds`` models that share the signal and differ by seed noise."""
    base = separation * (2 * y - 1) + rng.normal(0, 1, y.size)
    return np.round(1 / (1 + np.exp(-(base + rng.normal(0, noise, (n_seeds, y.size))))), 6)


def _prediction_table(y, prob, groups=None):
    n = len(y)
    return pd.DataFrame(
        {
            "image": [f"img{i:03d}.png" for i in range(n)],
            "group": groups if groups is not None else [f"g{i:03d}" for i in range(n)],
            "true_label": y,
            "prob_pneumonia": prob,
            "pred_label": (np.asarray(prob) >= 0.5).astype(int),
        }
    )


def _cells(rng, separations, tests=("Original", "GANs"), n=120, n_seeds=3):
    """{(train, test): cell} with each training domain's separation (higher: better model)."""
    cells = {}
    for test in tests:
        y = rng.integers(0, 2, n)
        groups = np.array([f"{test}-p{i // 2}" for i in range(n)])  # two images per patient
        for train, separation in separations.items():
            probs = _seeds(rng, y, n_seeds, separation=separation, noise=0.3)
            tables = {seed: _prediction_table(y, probs[seed - 1], groups) for seed in range(1, n_seeds + 1)}
            cells[(train, test)] = analysis.cell_from_tables(tables, f"{train} on {test}")
    return cells


def _summary_from_cells(cells, intervals):
    rows = []
    for (train, test), cell in cells.items():
        row = {"train": train, "test": test, "n_seeds": len(cell["seeds"]), "n_test": len(cell["y"])}
        per_seed = [metrics.classification_metrics(cell["y"], prob) for prob in cell["probs"]]
        for name in list(catalog.INTERVAL_METRICS) + ["majority_baseline_accuracy"]:
            row[name] = np.mean([values[name] for values in per_seed])
            row[f"{name}_std"] = 0.01
        rows.append(row)
    return pd.DataFrame(rows).merge(intervals, on=["train", "test"])


def simulated_study():
    """(summary, comparisons) of four training domains (Original the reference) on two test splits: the
    ``study`` fixture of test_findings.py and test_summary.py."""
    rng = np.random.default_rng(7)
    trains = ["Original", "GANs", "VAEs", "Mixed"]
    cells = _cells(rng, {"Original": 1.5, "GANs": 1.4, "VAEs": 0.1, "Mixed": 1.6})
    comparisons = analysis.comparison_table(cells, "Original", trains, ["Original", "GANs"], n_boot=1000, **BOOT)
    summary = _summary_from_cells(cells, analysis.interval_table(cells, n_boot=300, **BOOT))
    return summary, comparisons


def _unadjusted_versus_holm():
    """GANs: balanced accuracy significant at the bootstrap's floor; AUROC's unadjusted interval excludes zero
    but its Holm-adjusted p-value is not significant; F1 neither."""
    floor = 2 / 1001
    return pd.DataFrame(
        [
            # metric, train value, reference value, diff, low, high, p, p_holm, significant
            ("balanced_accuracy", 0.712, 0.832, -0.120, -0.180, -0.050, floor, 3 * floor, True),
            ("auroc", 0.880, 0.910, -0.030, -0.055, -0.004, 0.020, 0.040 * 2, False),
            ("f1", 0.800, 0.810, -0.010, -0.040, 0.020, 0.400, 0.800, False),
        ],
        columns=COMPARED_VALUES,
    ).assign(
        test="Original",
        train="GANs",
        reference="Original",
        n_test=100,
        n_groups=50,
        note="",
        seedwise_test="",
        seedwise_p_max=float("nan"),
    )


def _simulated_scores(rng, n, separation=1.0):
    """Labels and probabilities from a logistic model with the given separation."""
    y = rng.integers(0, 2, n)
    logits = separation * (2 * y - 1) + rng.normal(0, 1, n)
    return y, 1 / (1 + np.exp(-logits))
