"""Gathering the per-cell metric files into the study's summary tables."""

import pandas as pd

# Headline metrics, in table order; PNEUMONIA is the positive class.
METRICS = [
    "accuracy",
    "balanced_accuracy",
    "precision",
    "sensitivity",
    "specificity",
    "f1",
    "auroc",
    "majority_baseline_accuracy",
]
COUNTS = ["tn", "fp", "fn", "tp"]


def metrics_row(metrics):
    """One tidy row (train, test, seed, metrics, confusion counts) from a cell's metric JSON."""
    provenance = metrics["provenance"]
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]["counts"]
    row = {"train": provenance["train_domain"], "test": provenance["test_domain"], "seed": provenance["seed"]}
    row.update({name: metrics[name] for name in METRICS})
    row.update({"tn": tn, "fp": fp, "fn": fn, "tp": tp, "n_test": tn + fp + fn + tp})
    row["train_test_overlap"] = metrics["train_test_overlap"]["images"]
    return row


def by_seed_table(metric_dicts, train_order, test_order):
    table = pd.DataFrame([metrics_row(m) for m in metric_dicts])
    table["train"] = pd.Categorical(table["train"], categories=train_order, ordered=True)
    table["test"] = pd.Categorical(table["test"], categories=test_order, ordered=True)
    table = table.sort_values(["train", "test", "seed"]).reset_index(drop=True)
    table["train"], table["test"] = table["train"].astype(str), table["test"].astype(str)
    return table


def summary_table(by_seed):
    """One row per train x test cell: mean over seeds of each metric, its std, and pooled counts."""
    grouped = by_seed.groupby(["train", "test"], sort=False)
    summary = grouped[METRICS].mean()
    std = grouped[METRICS].std(ddof=1).add_suffix("_std")
    counts = grouped[COUNTS].sum().add_suffix("_pooled")
    overlap = grouped[["train_test_overlap"]].max()
    summary = summary.join(std).join(counts).join(overlap)
    summary.insert(0, "n_seeds", grouped.size())
    summary.insert(1, "n_test", grouped["n_test"].first())
    return summary.reset_index()


def markdown_table(summary):
    """The summary as a readable Markdown table: mean ± std over seeds, 3 decimals."""
    readable = summary[["train", "test", "n_seeds", "n_test"]].copy()
    for name in METRICS:
        mean, std = summary[name], summary[f"{name}_std"]
        readable[name] = [
            f"{m:.3f}" if pd.isna(s) else f"{m:.3f} ± {s:.3f}" for m, s in zip(mean, std)
        ]
    return readable.to_markdown(index=False)


def intake_table(intake_reports):
    rows = []
    for report in intake_reports:
        counts = report["class_counts"]
        rows.append(
            {
                "domain": report["domain"],
                "images_used": report["images_used"],
                "train": sum(counts["train"].values()),
                "test": sum(counts["test"].values()),
                "ignored": report["ignored_hidden_or_system"] + report["ignored_not_image"],
                "bad": report["bad_images"],
                "duplicates": report["duplicate_images"],
                "groups": report["groups"],
            }
        )
    return pd.DataFrame(rows)


def leakage_lines(summary):
    """Sentences for the cells whose test split holds exact copies of training images."""
    leaked = summary[summary["train_test_overlap"] > 0]
    if leaked.empty:
        return ["No test image is an exact copy of a training image of the model tested on it."]
    return [
        f"- {row.test} test split: {row.train_test_overlap} image(s) are exact copies of {row.train} "
        "training images; that cell overstates generalisation."
        for row in leaked.itertuples()
    ]
