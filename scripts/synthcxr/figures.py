"""Figures of the cross-domain results (matplotlib, no display needed)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def heatmap(summary, metric, train_domains, test_domains, style):
    """Train x test heat-map of ``metric`` (mean over seeds) with the value, and std, in each cell."""
    cells = summary.set_index(["train", "test"])
    values = np.array([[cells.loc[(tr, te), metric] for te in test_domains] for tr in train_domains])
    spread = np.array([[cells.loc[(tr, te), f"{metric}_std"] for te in test_domains] for tr in train_domains])
    fig, ax = plt.subplots(figsize=(1.6 * len(test_domains) + 2.2, 1.0 * len(train_domains) + 1.6))
    image = ax.imshow(values, cmap=style["colormap"], vmin=0, vmax=1)
    for i in range(len(train_domains)):
        for j in range(len(test_domains)):
            text = f"{values[i, j]:.2f}" + ("" if np.isnan(spread[i, j]) else f"\n± {spread[i, j]:.2f}")
            # Dark text on the light end of the colormap, light text on the dark end.
            colour = "black" if image.norm(values[i, j]) > 0.6 else "white"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=10)
    ax.set_xticks(range(len(test_domains)), test_domains)
    ax.set_yticks(range(len(train_domains)), train_domains)
    ax.set_xlabel("test domain (held-out test split)")
    ax.set_ylabel("training domain")
    label = metric.replace("_", " ")
    ax.set_title(f"{label} (mean ± sd over seeds)")
    fig.colorbar(image, ax=ax, label=label)
    fig.tight_layout()
    return fig


def confusion_grid(matrices, train_domains, test_domains, class_names, n_seeds):
    """Grid of confusion matrices (rows: training domain, columns: test domain), pooled over seeds."""
    fig, axes = plt.subplots(
        len(train_domains),
        len(test_domains),
        figsize=(2.4 * len(test_domains) + 1, 2.2 * len(train_domains) + 0.8),
        squeeze=False,
    )
    for i, train in enumerate(train_domains):
        for j, test in enumerate(test_domains):
            ax = axes[i, j]
            counts = np.asarray(matrices[(train, test)])
            ax.imshow(counts / max(counts.sum(axis=1, keepdims=True).max(), 1), cmap="Blues", vmin=0, vmax=1)
            for (r, c), value in np.ndenumerate(counts):
                share = value / max(counts[r].sum(), 1)
                ax.text(c, r, f"{value}\n{share:.0%}", ha="center", va="center", color="black" if share < 0.6 else "white")
            ax.set_xticks([0, 1], class_names, fontsize=8)
            ax.set_yticks([0, 1], class_names, fontsize=8, rotation=90, va="center")
            if i == len(train_domains) - 1:
                ax.set_xlabel(f"predicted\n(test: {test})")
            if j == 0:
                ax.set_ylabel(f"train: {train}\ntrue")
    fig.suptitle(f"Confusion matrices, counts pooled over {n_seeds} seed(s); % of each true class")
    fig.tight_layout()
    return fig


def save(fig, stem, dpi):
    for ext in ("png", "pdf"):
        # Fixed metadata keeps the files identical between runs.
        metadata = {"Software": None} if ext == "png" else {"CreationDate": None, "Producer": None}
        fig.savefig(f"{stem}.{ext}", dpi=dpi, metadata=metadata)
    plt.close(fig)
