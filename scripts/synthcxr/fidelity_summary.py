"""The fidelity table and figure: one row per synthetic domain and class group."""

from html import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from synthcxr.text import html_page  # noqa: E402
from synthcxr.wording import interval_label  # noqa: E402


def measured(values, *keys):
    """``values[keys[0]][keys[1]]...``, or NaN where a measure was not computed (None: too few images in a group)."""
    for key in keys:
        if values is None:
            return np.nan
        values = values.get(key)
    return np.nan if values is None else values


def fidelity_rows(metrics_by_domain, references):
    rows = []
    for (domain, metrics), reference in zip(metrics_by_domain.items(), references):
        for group, values in metrics["groups"].items():
            interval = measured(values, "two_sample", "auroc_ci")
            low, high = (np.nan, np.nan) if np.isscalar(interval) else interval
            rows.append(
                {
                    "domain": domain,
                    "reference": reference,
                    "group": group,
                    "n_synthetic": values["n_synthetic"],
                    "two_sample_auroc": measured(values, "two_sample", "auroc"),
                    "two_sample_auroc_ci_low": low,
                    "two_sample_auroc_ci_high": high,
                    "kid_cnn": measured(values, "distances", "cnn", "kid"),
                    "kid_cnn_std": measured(values, "distances", "cnn", "kid_std"),
                    "kid_cnn_real_baseline": measured(values, "real_baseline", "cnn", "kid"),
                    "frechet_cnn_same_size": measured(values, "real_baseline", "cnn", "synthetic_frechet_same_size"),
                    "frechet_cnn_real_baseline": measured(values, "real_baseline", "cnn", "frechet"),
                    "kid_pixel": measured(values, "distances", "pixel", "kid"),
                    "frechet_pixel": measured(values, "distances", "pixel", "frechet"),
                    "ms_ssim_synthetic": measured(values, "diversity", "synthetic", "ms_ssim"),
                    "ms_ssim_real": measured(values, "diversity", "real", "ms_ssim"),
                    "memorized_share": measured(values, "memorization", "share_below_threshold"),
                    "nearest_is_train_share": measured(values, "memorization", "nearest_is_train_share"),
                    "nearest_is_train_expected": measured(values, "memorization", "nearest_is_train_expected"),
                    "exact_copies": measured(values, "memorization", "n_exact_copies"),
                }
            )
    return pd.DataFrame(rows)


# Stated above the table wherever it is shown (Markdown and HTML).
TITLE = "Fidelity, diversity and memorization of the synthetic domains"
INTRO = (
    "Computed only with what this workflow trains itself (no pretrained Inception weights), so these "
    "distances are not comparable with published FID/KID values. Research use only."
)


def number(value, digits):
    """``value`` with ``digits`` decimals; "n/a" for a measure not computed (too few images in its group)."""
    return "n/a" if pd.isna(value) else f"{value:.{digits}f}"


def readable(table, alpha):
    """The fidelity table as strings, one column per measure with its baseline beside it; ``alpha``: 1 - coverage
    of the two-sample AUROC's interval (statistics.alpha, as evaluate_fidelity computed it)."""
    shown = table[["domain", "reference", "group", "n_synthetic"]].copy()
    shown[f"two-sample AUROC [{interval_label(alpha)} CI]"] = [
        f"{number(a, 2)} [{number(lo, 2)}, {number(hi, 2)}]"
        for a, lo, hi in zip(table.two_sample_auroc, table.two_sample_auroc_ci_low, table.two_sample_auroc_ci_high)
    ]
    shown["KID (CNN) vs real baseline"] = [
        f"{number(k, 3)} ± {number(s, 3)} vs {number(b, 3)}"
        for k, s, b in zip(table.kid_cnn, table.kid_cnn_std, table.kid_cnn_real_baseline)
    ]
    shown["FD (CNN, same size) vs real baseline"] = [
        f"{number(f, 2)} vs {number(b, 2)}"
        for f, b in zip(table.frechet_cnn_same_size, table.frechet_cnn_real_baseline)
    ]
    shown["MS-SSIM synthetic / real"] = [
        f"{number(a, 2)} / {number(b, 2)}" for a, b in zip(table.ms_ssim_synthetic, table.ms_ssim_real)
    ]
    shown["nearest real is train (expected)"] = [
        f"{number(a, 2)} ({number(b, 2)})"
        for a, b in zip(table.nearest_is_train_share, table.nearest_is_train_expected)
    ]
    shown["exact copies"] = table.exact_copies
    return shown


def markdown(table, alpha):
    return readable(table, alpha).to_markdown(index=False)


def markdown_page(table, alpha):
    """The fidelity table as a Markdown document: its title, what the distances are, the table."""
    return f"# {TITLE}\n\n{INTRO}\n\n{markdown(table, alpha)}\n"


def html(table, alpha):
    """The fidelity table as a standalone HTML page (the report shows it like the other tables)."""
    return html_page(
        TITLE,
        f"<h1>{escape(TITLE)}</h1><p>{escape(INTRO)}</p>\n{readable(table, alpha).to_html(index=False, border=0)}",
    )


def fidelity_figure(table, alpha):
    """Two-sample AUROC with its interval (0.5 = indistinguishable) and KID per synthetic domain."""
    overall = table[table.group == "overall"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2 + 0.2 * len(overall)))
    y = np.arange(len(overall))
    errors = [
        overall.two_sample_auroc - overall.two_sample_auroc_ci_low,
        overall.two_sample_auroc_ci_high - overall.two_sample_auroc,
    ]
    left.errorbar(overall.two_sample_auroc, y, xerr=errors, fmt="o", color="#0072B2", capsize=4)
    left.axvline(0.5, color="grey", linestyle="--", label="indistinguishable")
    left.set_xlim(0.4, 1.02)
    labels = [f"{d} vs {r}" for d, r in zip(overall.domain, overall.reference)]
    left.set_yticks(y, labels)
    left.set_xlabel(f"real-vs-synthetic classifier AUROC ({interval_label(alpha)} CI)")
    left.legend(loc="lower left", fontsize=8)
    right.barh(y, overall.kid_cnn, xerr=overall.kid_cnn_std, color="#E69F00", label="synthetic vs real train")
    right.scatter(overall.kid_cnn_real_baseline, y, color="black", marker="|", s=200, label="real test vs real train")
    right.set_yticks(y, labels)
    right.set_xlabel("KID in the study CNN's feature space")
    right.legend(loc="lower right", fontsize=8)
    fig.suptitle("Fidelity of synthetic domains (lower KID and AUROC near 0.5 = closer to real)")
    fig.tight_layout()
    return fig


def closest_pairs_figure(pairs, class_names=("NORMAL", "PNEUMONIA"), title=None):
    """The closest synthetic images (top) above their nearest real training images (bottom).

    ``pairs``: the arrays of :func:`synthcxr.memorisation.closest_pairs`.
    """
    k = max(len(pairs["distance"]), 1)
    fig, axes = plt.subplots(2, k, figsize=(1.9 * k, 4.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    threshold = float(pairs["threshold"])
    for col in range(len(pairs["distance"])):
        distance = pairs["distance"][col]
        flag = " copy" if pairs["copy"][col] else (" <thr" if distance <= threshold else "")
        axes[0, col].imshow(pairs["synthetic"][col], cmap="gray", vmin=0, vmax=255)
        axes[0, col].set_title(
            f"synth {pairs['synthetic_index'][col]} ({class_names[pairs['synthetic_label'][col]]})\n"
            f"d={distance:.2f}{flag}",
            fontsize=7,
        )
        axes[1, col].imshow(pairs["train"][col], cmap="gray", vmin=0, vmax=255)
        axes[1, col].set_title(f"train {pairs['train_index'][col]}", fontsize=7)
    fig.suptitle(
        (title + "\n" if title else "")
        + f"closest synthetic (top) / real training (bottom) pairs; pixel L2, threshold {threshold:.2f} "
        f"(p{float(pairs['percentile']):g} of real test-to-train)",
        fontsize=8,
    )
    fig.tight_layout()
    return fig
