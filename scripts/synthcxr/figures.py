"""Figures of the cross-domain results (matplotlib, no display needed)."""

from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from synthcxr.jobs import atomic_open  # noqa: E402
from synthcxr.metrics import reliability_curve  # noqa: E402
from synthcxr.wording import interval_label, interval_level_text  # noqa: E402

FPR_GRID = np.linspace(0.0, 1.0, 201)


# Okabe & Ito (2008) colour-blind-safe palette for lines; linestyles also differ, for grey-scale print.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
LINESTYLES = ["-", "--", "-.", ":"]


def line_style(index):
    return {"color": OKABE_ITO[index % len(OKABE_ITO)], "linestyle": LINESTYLES[index % len(LINESTYLES)]}


def colour_range(*grids, step=0.05):
    """The colour scale of a heat-map: from the lowest to the highest finite number in ``grids`` (the
    means and their intervals), rounded outward to ``step`` within 0-1, at least ``step`` wide.

    A fixed 0-1 scale makes 0.79 and 0.95 look alike; a scale that covers the intervals too does not
    make differences within the uncertainty look large.
    """
    finite = np.concatenate([np.ravel(grid)[np.isfinite(np.ravel(grid))] for grid in grids])
    if finite.size == 0:
        return 0.0, 1.0
    # The small tolerance keeps 0.95 at 0.95 (0.95 / 0.05 is 18.999... in floating point).
    low = max(0.0, np.floor(finite.min() / step + 1e-9) * step)
    high = min(1.0, np.ceil(finite.max() / step - 1e-9) * step)
    if high - low < step:
        low = max(0.0, min(low, 1.0 - step))
        high = low + step
    return round(float(low), 2), round(float(high), 2)


def seed_count(table):
    """The fewest seeds of a summary-like table's cells (column n_seeds; None without it)."""
    return int(table["n_seeds"].min()) if "n_seeds" in table else None


def heatmap(
    summary, metric, train_domains, test_domains, style, marks=None, reference=None, test_labels=None, *, alpha
):
    """Train x test heat-map of ``metric`` (mean over seeds) with its ``1 - alpha`` interval in each cell.

    ``test_labels``: column labels (e.g. external test sets marked), default the test domain names.
    Falls back to ± sd over seeds when the summary has no interval columns. ``marks``:
    {(train, test, metric): True} for cells that differ significantly from the ``reference`` row.
    """
    marks = marks or {}
    cells = summary.set_index(["train", "test"])

    def grid(column):
        if column not in cells:
            return np.full((len(train_domains), len(test_domains)), np.nan)
        return np.array([[cells.loc[(tr, te), column] for te in test_domains] for tr in train_domains], dtype=float)

    values, spread = grid(metric), grid(f"{metric}_std")
    low, high = grid(f"{metric}_ci_low"), grid(f"{metric}_ci_high")
    has_interval = not np.isnan(low).all()
    fig, ax = plt.subplots(figsize=(1.9 * len(test_domains) + 2.4, 1.05 * len(train_domains) + 1.8))
    vmin, vmax = colour_range(values, low, high)
    # aspect auto: the grid fills the axes, so no empty margin is left beside it.
    image = ax.imshow(values, cmap=style["colormap"], vmin=vmin, vmax=vmax, aspect="auto")
    for i, train in enumerate(train_domains):
        for j, test in enumerate(test_domains):
            if np.isnan(values[i, j]):
                text = "n/a"
            else:
                text = f"{values[i, j]:.2f}" + ("*" if marks.get((train, test, metric)) else "")
                if has_interval and not np.isnan(low[i, j]):
                    text += f"\n[{low[i, j]:.2f}, {high[i, j]:.2f}]"
                elif not np.isnan(spread[i, j]):
                    text += f"\n± {spread[i, j]:.2f}"
            # Dark text on the light end of the colormap, light text on the dark end.
            colour = "black" if np.isnan(values[i, j]) or image.norm(values[i, j]) > 0.6 else "white"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=9)
    ax.set_xticks(range(len(test_domains)), test_labels or test_domains)
    ax.set_yticks(range(len(train_domains)), train_domains)
    ax.set_xlabel("test domain (held-out test split)")
    ax.set_ylabel("training domain")
    label = metric.replace("_", " ")
    if metric in ("f1", "auroc"):
        label = {"f1": "F1", "auroc": "AUROC"}[metric]
    detail = (
        f"mean over seeds [{interval_label(alpha)} interval]\n({interval_level_text(seed_count(summary))})"
        if has_interval
        else "mean ± sd over seeds"
    )
    title = f"{label}: {detail}"
    if reference and marks:
        title += f"\n* differs from {reference}-trained model (Holm-adjusted)"
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label=f"{label}\n(colour scale fitted to the values shown, not 0-1)")
    fig.tight_layout()
    return fig


def row_shares(counts):
    """Each confusion-matrix cell as a share of its true class (row); 0 in an empty row.

    Shading, printed % and text colour all use it, so a cell looks as large as the % it prints
    whatever the class balance.
    """
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def confusion_panel(ax, counts, class_names):
    """One confusion matrix: counts and % of the true class in each cell, shaded by that %."""
    counts = np.asarray(counts)
    shares = row_shares(counts)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (r, c), value in np.ndenumerate(counts):
        share = shares[r, c]
        ax.text(c, r, f"{value}\n{share:.0%}", ha="center", va="center", color="black" if share < 0.6 else "white")
    ax.set_xticks([0, 1], class_names, fontsize=8)
    ax.set_yticks([0, 1], class_names, fontsize=8, rotation=90, va="center")


def confusion_figure(matrices, rows, test_domains, class_names, title):
    """Grid of confusion matrices: one row per ``(row label, key)`` of ``rows``, one column per test domain;
    ``matrices[(key, test)]`` holds the counts of a panel."""
    # constrained layout keeps the title clear of the panels whatever the number of rows
    fig, axes = plt.subplots(
        len(rows),
        len(test_domains),
        figsize=(2.4 * len(test_domains) + 1, 2.2 * len(rows) + 0.8),
        squeeze=False,
        layout="constrained",
    )
    for i, (label, key) in enumerate(rows):
        for j, test in enumerate(test_domains):
            ax = axes[i, j]
            confusion_panel(ax, matrices[(key, test)], class_names)
            if i == len(rows) - 1:
                ax.set_xlabel(f"predicted\n(test: {test})")
            if j == 0:
                ax.set_ylabel(f"{label}\ntrue")
    fig.suptitle(title)
    return fig


def confusion_grid(matrices, train_domains, test_domains, class_names, n_seeds):
    """Grid of confusion matrices (rows: training domain, columns: test domain), pooled over seeds."""
    rows = [(f"train: {train}", train) for train in train_domains]
    title = f"Confusion matrices, counts pooled over the models of {n_seeds} seed(s); % of each true class"
    return confusion_figure(matrices, rows, test_domains, class_names, title)


def confusion_grid_by_seed(matrices, train_domains, test_domains, class_names, seeds):
    """Confusion matrix of each seed's model: one row per training domain and seed, one column per test domain.

    ``matrices``: {((train, seed), test): counts}. Pooled counts hide seeds at opposite operating points
    (one seed predicting nearly all PNEUMONIA, another nearly all NORMAL); here each model stands alone.
    """
    rows = [(f"train: {train}, seed {seed}", (train, seed)) for train in train_domains for seed in seeds]
    title = "Confusion matrices of each seed's model (not pooled); % of each true class"
    return confusion_figure(matrices, rows, test_domains, class_names, title)


def confusion_counts(metric_dicts):
    """The confusion matrices of :func:`confusion_grid` and :func:`confusion_grid_by_seed` from the evaluations'
    metrics JSON: ``({(train, test): counts pooled over seeds}, {((train, seed), test): counts}, seeds)``."""
    pooled, by_seed = defaultdict(lambda: np.zeros((2, 2), dtype=int)), {}
    for metrics in metric_dicts:
        train, test, seed = (metrics["provenance"][key] for key in ("train_domain", "test_domain", "seed"))
        counts = np.asarray(metrics["confusion_matrix"]["counts"])
        pooled[(train, test)] += counts
        by_seed[((train, seed), test)] = counts
    return pooled, by_seed, sorted({seed for (_, seed), _ in by_seed})


def mean_roc(y_true, probs, grid=FPR_GRID):
    """Vertical average over seeds of the ROC curves (Fawcett 2006): mean and sd of TPR on ``grid``.

    The area under the mean curve is (up to the grid) the mean of the per-seed AUROCs, the summary's
    number. None when ``y_true`` holds one class only.
    """
    y_true = np.asarray(y_true)
    if np.unique(y_true).size < 2:
        return None
    curves = []
    for prob in np.atleast_2d(probs):
        fpr, tpr, _ = roc_curve(y_true, prob)
        # tpr at each fpr on the grid: the upper end of a vertical step, as the curve is drawn
        curves.append(np.interp(grid, fpr, tpr, left=0.0, right=1.0))
    curves = np.array(curves)
    return curves.mean(axis=0), curves.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(grid.size)


def roc_curves(cells, summary, train_domains, test_domains):
    """One panel per test domain, one curve per training domain: seed-averaged ROC, band ± sd over seeds."""
    means = summary.set_index(["train", "test"])["auroc"]
    fig, axes = plt.subplots(1, len(test_domains), figsize=(3.6 * len(test_domains) + 0.6, 4.2), squeeze=False)
    for j, test in enumerate(test_domains):
        ax = axes[0, j]
        ax.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":", label="chance")
        for i, train in enumerate(train_domains):
            cell = cells.get((train, test))
            curve = cell and mean_roc(cell["y"], cell["probs"])
            if curve is None:
                continue
            mean, sd = curve
            style = line_style(i)
            auroc = means.get((train, test), np.nan)
            # the curve starts at (0, 0); at FPR 0 the vertical average holds the top of the first step
            ax.plot(
                np.r_[0.0, FPR_GRID], np.r_[0.0, mean], linewidth=1.6, label=f"{train} (AUROC {auroc:.2f})", **style
            )
            if sd.any():
                ax.fill_between(
                    FPR_GRID,
                    np.clip(mean - sd, 0, 1),
                    np.clip(mean + sd, 0, 1),
                    color=style["color"],
                    alpha=0.1,
                    linewidth=0,
                )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_aspect("equal")
        ax.set_title(f"test: {test}")
        ax.set_xlabel("false positive rate (1 - specificity)")
        if j == 0:
            ax.set_ylabel("true positive rate (sensitivity)")
        ax.legend(title="training domain", fontsize=7, title_fontsize=7, loc="lower right")
    n_seeds = max((len(cell["seeds"]) for cell in cells.values()), default=0)
    fig.suptitle(f"ROC curves, PNEUMONIA positive: mean over {n_seeds} seed(s) (vertical average), band ± sd")
    fig.tight_layout()
    return fig


# Panels of the training curves: (history key prefix, where it is measured) x (key, axis name).
CURVE_ROWS = (("", "training split"), ("validation_", "validation slice"))
CURVE_COLUMNS = (("loss", "cross-entropy loss"), ("accuracy", "accuracy"))


def training_curves(histories, train_domains):
    """Loss and accuracy per epoch on the training split (top) and on the validation slice held out of
    it (bottom), mean over seeds (band ± sd), per training domain.

    ``histories``: {train_domain: [per-seed list of {"epoch", "loss", "accuracy", and optionally
    "validation_loss", "validation_accuracy"}]}.
    """
    fig, axes = plt.subplots(2, 2, figsize=(9.5, 6.8), sharex=True, sharey="col")
    for row, (prefix, where) in enumerate(CURVE_ROWS):
        for column, (key, name) in enumerate(CURVE_COLUMNS):
            ax = axes[row, column]
            drawn = [
                plot_mean_curve(ax, histories.get(train, []), prefix + key, i, train)
                for i, train in enumerate(train_domains)
            ]
            if prefix and not any(drawn):
                note = f"no {where}\n(training.validation_fraction: 0)"
                ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes)
            ax.set_ylabel(f"{name}\n{where}")
            ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    axes[0, 1].set_ylim(0, 1.01)
    axes[0, 0].legend(title="training domain", fontsize=8, title_fontsize=8)
    fig.suptitle("Training curves: training split and validation slice, mean over seeds, band ± sd")
    fig.tight_layout()
    return fig


def histories_by_domain(training_histories):
    """The ``histories`` of :func:`training_curves` from the trainings' history JSON, in the order given."""
    histories = defaultdict(list)
    for history in training_histories:
        histories[history["train_domain"]].append(history["history"])
    return histories


def plot_mean_curve(ax, runs, key, index, train):
    """Mean over seeds of ``key`` per epoch (band ± sd with several seeds); False when no run has it."""
    runs = [run for run in runs if run and all(key in record for record in run)]
    if not runs:
        return False
    epochs = min(len(run) for run in runs)
    x = np.arange(1, epochs + 1)
    values = np.array([[record[key] for record in run[:epochs]] for run in runs], dtype=float)
    mean, style = values.mean(axis=0), line_style(index)
    ax.plot(x, mean, marker="o", markersize=3, linewidth=1.6, label=f"{train} ({len(runs)} seed(s))", **style)
    if len(runs) > 1:
        sd = values.std(axis=0, ddof=1)
        ax.fill_between(x, mean - sd, mean + sd, color=style["color"], alpha=0.15, linewidth=0)
    return True


def sample_indices(manifest, label, split=None, per_class=4):
    """Row numbers of ``per_class`` images of one class (and ``split``, if given), evenly spread through the
    manifest."""
    chosen = manifest["label"].to_numpy() == label
    if split is not None:
        chosen &= manifest["split"].to_numpy() == split
    rows = np.flatnonzero(chosen)
    if rows.size == 0:
        return rows
    picks = np.unique(np.linspace(0, rows.size - 1, min(per_class, rows.size)).round().astype(int))
    return rows[picks]


def class_samples(images, manifest, n_classes, per_class=4):
    """One domain's entry of :func:`sample_grid`'s ``samples``: {label: ``per_class`` images of that class}.

    ``images``: the domain's cached images (an array or a memory map); ``manifest``: its manifest table.
    """
    return {
        label: np.asarray(images[sample_indices(manifest, label, per_class=per_class)]) for label in range(n_classes)
    }


def sample_grid(samples, class_names, per_class=4):
    """Example images: one row per domain, ``per_class`` images of each class side by side.

    ``samples``: {domain: {label: uint8 array (k, H, W)}}.
    """
    domains = list(samples)
    columns = per_class * len(class_names)
    fig, axes = plt.subplots(
        len(domains), columns, figsize=(1.25 * columns + 0.8, 1.35 * len(domains) + 0.7), squeeze=False
    )
    for i, domain in enumerate(domains):
        for label, name in enumerate(class_names):
            images = samples[domain].get(label, np.zeros((0, 1, 1)))
            for k in range(per_class):
                ax = axes[i, label * per_class + k]
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if k < len(images):
                    ax.imshow(images[k], cmap="gray", vmin=0, vmax=255)
                if i == 0 and k == 0:
                    ax.set_title(name, loc="left", fontsize=9)
        axes[i, 0].set_ylabel(domain, fontsize=9)
    fig.suptitle("Example images of each domain and class, as the CNN sees them (grayscale, resized)")
    fig.tight_layout()
    return fig


def reliability_grid(cells, summary, train_domains, test_domains, n_bins=10):
    """Reliability diagram of every cell (rows: training domain, columns: test split).

    Predictions of all seeds are pooled (each image once per seed); points are the observed share of
    PNEUMONIA against the mean predicted probability in each of ``n_bins`` equal-width bins, marker
    area proportional to the bin's count. The panel states the mean over seeds of ECE and Brier score.
    """
    rows = summary.set_index(["train", "test"])
    fig, axes = plt.subplots(
        len(train_domains),
        len(test_domains),
        figsize=(2.5 * len(test_domains) + 1, 2.4 * len(train_domains) + 0.8),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for i, train in enumerate(train_domains):
        for j, test in enumerate(test_domains):
            ax = axes[i, j]
            ax.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":")
            cell = cells.get((train, test))
            if cell is not None:
                y = np.tile(cell["y"], len(cell["probs"]))
                mean_predicted, fraction_positive, counts = reliability_curve(y, cell["probs"].ravel(), n_bins=n_bins)
                ax.plot(mean_predicted, fraction_positive, color=OKABE_ITO[0], linewidth=1.2)
                ax.scatter(
                    mean_predicted, fraction_positive, s=8 + 120 * counts / counts.sum(), color=OKABE_ITO[0], zorder=3
                )
            if (train, test) in rows.index and "ece" in rows:
                row = rows.loc[(train, test)]
                ax.text(0.04, 0.96, f"ECE {row['ece']:.2f}\nBrier {row['brier']:.2f}", va="top", fontsize=7)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
            if i == len(train_domains) - 1:
                ax.set_xlabel(f"predicted P(PNEUMONIA)\n(test: {test})", fontsize=8)
            if j == 0:
                ax.set_ylabel(f"train: {train}\nobserved share", fontsize=8)
    fig.suptitle("Calibration: observed share of PNEUMONIA vs predicted probability, seeds pooled; dotted: perfect")
    fig.tight_layout()
    return fig


def volume_curve(table, metrics, labels, *, alpha):
    """Test metrics against the share of the train split a model learned from: one panel per metric and
    test domain, one line per training domain (mean over seeds), band: the ``1 - alpha`` cell interval
    (domain-level from 3 seeds, model-level below: :func:`synthcxr.wording.interval_level_text`)."""
    tests = list(dict.fromkeys(table["test"]))
    trains = list(dict.fromkeys(table["train"]))
    fig, axes = plt.subplots(
        len(metrics), len(tests), figsize=(3.4 * len(tests), 2.9 * len(metrics)), squeeze=False, sharex=True
    )
    for i, metric in enumerate(metrics):
        for j, test in enumerate(tests):
            ax = axes[i, j]
            for k, train in enumerate(trains):
                rows = table[(table["train"] == train) & (table["test"] == test)].sort_values("percent")
                style = line_style(k)
                ax.plot(rows["percent"], rows[metric], marker="o", markersize=4, label=train, **style)
                low, high = rows[f"{metric}_ci_low"], rows[f"{metric}_ci_high"]
                if low.notna().all():
                    ax.fill_between(rows["percent"], low, high, color=style["color"], alpha=0.15, linewidth=0)
            ax.set_ylim(0, 1.02)
            ax.set_xticks(sorted(set(table["percent"])))
            if i == 0:
                ax.set_title(f"test: {test}", fontsize=9)
            if i == len(metrics) - 1:
                ax.set_xlabel("% of the train split used", fontsize=8)
            if j == 0:
                ax.set_ylabel(labels[metric], fontsize=9)
    axes[0, 0].legend(title="training domain", fontsize=7, title_fontsize=7)
    fig.suptitle(
        "Volume curve: test metrics against training data volume; mean over seeds, band: "
        f"{interval_label(alpha)} interval ({interval_level_text(seed_count(table))})"
    )
    fig.tight_layout()
    return fig


def save(fig, stem, dpi):
    for ext in ("png", "pdf"):
        # Fixed metadata keeps the files identical between runs.
        metadata = {"Software": None} if ext == "png" else {"CreationDate": None, "Producer": None}
        with atomic_open(f"{stem}.{ext}", "wb") as handle:
            fig.savefig(handle, format=ext, dpi=dpi, metadata=metadata)
    plt.close(fig)
