"""Figures people read: heat-map colour scale and margins, confusion matrices, ROC, training curves with the
validation slice."""

import warnings

import numpy as np
import pandas as pd
import pytest
from simulated import _seeds
from sklearn.metrics import roc_auc_score

from synthcxr import catalog
from synthcxr.figures import (
    FPR_GRID,
    class_samples,
    colour_range,
    confusion_counts,
    confusion_grid,
    confusion_grid_by_seed,
    heatmap,
    histories_by_domain,
    mean_roc,
    row_shares,
    training_curves,
    volume_curve,
)

STYLE = {"colormap": "viridis"}
NAN = float("nan")


def test_the_colour_range_spans_the_values_rounded_outward():
    assert colour_range(np.array([[0.79, 0.95]])) == (0.75, 0.95)
    # intervals count; the scale stays within 0-1; NaN (undefined metric) is left out
    assert colour_range(np.array([0.8, NAN]), np.array([0.62, NAN]), np.array([1.0, NAN])) == (0.6, 1.0)
    assert colour_range(np.array([0.5, 0.5])) == (0.5, 0.55)  # at least one step wide
    assert colour_range(np.array([1.0])) == (0.95, 1.0)
    assert colour_range(np.array([NAN])) == (0.0, 1.0)


def summary_table(values):
    """A summary with an interval of ± 0.02 around each value, cells (train, test)."""
    rows = [
        {"train": train, "test": test, "accuracy": v, "accuracy_ci_low": v - 0.02, "accuracy_ci_high": v + 0.02}
        for (train, test), v in values.items()
    ]
    return pd.DataFrame(rows)


def test_the_heatmap_separates_close_values_says_so_and_leaves_no_empty_margin():
    values = {("A", "A"): 0.95, ("A", "B"): 0.79, ("B", "A"): 0.81, ("B", "B"): 0.93}
    fig = heatmap(summary_table(values), "accuracy", ["A", "B"], ["A", "B"], STYLE, alpha=0.05)
    ax, colourbar = fig.axes
    image = ax.images[0]
    assert (image.norm.vmin, image.norm.vmax) == (0.75, 1.0)  # 0.77 to 0.97 rounded outward
    assert image.norm(0.95) - image.norm(0.79) > 0.6  # far apart in colour (0.16 on a 0-1 scale)
    assert "fitted to the values shown, not 0-1" in colourbar.get_ylabel()
    fig.canvas.draw()
    width = fig.bbox.width
    used = ax.get_tightbbox(fig.canvas.get_renderer())
    assert used.x0 < 0.05 * width  # the tick labels start at the left edge


def history(losses, validation=True):
    """One seed's history: loss and accuracy per epoch (and the validation slice's)."""
    records = []
    for epoch, loss in enumerate(losses, start=1):
        record = {"epoch": epoch, "loss": loss, "accuracy": 1 - loss}
        if validation:
            record |= {"validation_loss": loss + 0.1, "validation_accuracy": 0.9 - loss}
        records.append(record)
    return records


def test_training_curves_show_the_validation_slice_per_epoch():
    histories = {"A": [history([0.6, 0.4, 0.3]), history([0.8, 0.4, 0.1])]}
    fig = training_curves(histories, ["A"])
    axes = np.array(fig.axes).reshape(2, 2)
    expected = {(0, 0): [0.7, 0.4, 0.2], (0, 1): [0.3, 0.6, 0.8], (1, 0): [0.8, 0.5, 0.3], (1, 1): [0.2, 0.5, 0.7]}
    for (row, column), mean in expected.items():
        (line,) = axes[row, column].get_lines()
        assert line.get_ydata() == pytest.approx(mean)
    assert "validation" in axes[1, 0].get_ylabel() and "training" in axes[0, 0].get_ylabel()
    assert [ax.get_xlabel() for ax in axes[1]] == ["epoch", "epoch"]


def test_training_curves_without_a_validation_slice_say_so():
    fig = training_curves({"A": [history([0.6, 0.4], validation=False)]}, ["A"])
    axes = np.array(fig.axes).reshape(2, 2)
    assert not axes[1, 0].get_lines() and "no validation slice" in axes[1, 0].texts[0].get_text()
    assert len(axes[0, 0].get_lines()) == 1


def test_confusion_cells_are_shaded_by_their_share_of_the_true_class():
    # imbalanced: 100 NORMAL (90 right), 900 PNEUMONIA (600 right)
    counts = np.array([[90, 10], [300, 600]])
    expected = np.array([[0.9, 0.1], [1 / 3, 2 / 3]])
    np.testing.assert_allclose(row_shares(counts), expected)
    np.testing.assert_allclose(row_shares([[0, 0], [2, 6]]), [[0, 0], [0.25, 0.75]])  # an empty row stays 0
    figure = confusion_grid({("GANs", "Original"): counts}, ["GANs"], ["Original"], ["NORMAL", "PNEUMONIA"], 1)
    ax = figure.axes[0]
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), expected)
    # the 90% cell is dark, so its text is white
    texts = {text.get_text(): text.get_color() for text in ax.texts}
    assert texts["90\n90%"] == "white" and texts["10\n10%"] == "black"


def test_confusion_matrices_by_seed_show_each_model_beside_the_pooled_counts():
    """Two seeds at opposite operating points: pooled, they look like a coin flip; by seed, each stands alone."""
    everything_pneumonia, everything_normal = np.array([[0, 50], [0, 50]]), np.array([[50, 0], [50, 0]])
    by_seed = {(("GANs", 1), "Original"): everything_pneumonia, (("GANs", 2), "Original"): everything_normal}
    figure = confusion_grid_by_seed(by_seed, ["GANs"], ["Original"], ["NORMAL", "PNEUMONIA"], [1, 2])
    first, second = figure.axes
    np.testing.assert_allclose(np.asarray(first.images[0].get_array()), [[0, 1], [0, 1]])
    np.testing.assert_allclose(np.asarray(second.images[0].get_array()), [[1, 0], [1, 0]])
    assert "seed 1" in first.get_ylabel() and "seed 2" in second.get_ylabel()
    assert "not pooled" in figure._suptitle.get_text()
    pooled = confusion_grid(
        {("GANs", "Original"): everything_pneumonia + everything_normal},
        ["GANs"],
        ["Original"],
        ["NORMAL", "PNEUMONIA"],
        2,
    )
    np.testing.assert_allclose(np.asarray(pooled.axes[0].images[0].get_array()), [[0.5, 0.5], [0.5, 0.5]])
    assert "pooled over the models of 2 seed(s)" in pooled._suptitle.get_text()


def test_figure_titles_state_the_coverage_that_alpha_gives():
    summary = pd.DataFrame(
        {
            "train": ["GANs"],
            "test": ["Original"],
            "auroc": [0.8],
            "auroc_std": [0.1],
            "auroc_ci_low": [0.6],
            "auroc_ci_high": [0.9],
        }
    )
    style = {"colormap": "viridis"}
    title = heatmap(summary, "auroc", ["GANs"], ["Original"], style, alpha=0.1).axes[0].get_title()
    assert "[90% interval]" in title and "95%" not in title
    assert "[95% interval]" in heatmap(summary, "auroc", ["GANs"], ["Original"], style, alpha=0.05).axes[0].get_title()
    # the level of the interval follows the seeds (3 or more: domain-level)
    for n_seeds, level in ((3, "domain-level: test patient groups and seeds"), (2, "model-level: test patient")):
        figure = heatmap(summary.assign(n_seeds=n_seeds), "auroc", ["GANs"], ["Original"], style, alpha=0.1)
        assert level in figure.axes[0].get_title()
    table = summary.assign(percent=100, n_seeds=2)
    curve = volume_curve(table, ["auroc"], catalog.LABELS, alpha=0.1)
    assert "band: 90% interval (model-level: test patient groups only, 2 seed(s))" in curve._suptitle.get_text()


def test_mean_roc_area_is_the_mean_auroc():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 500)
    probs = _seeds(rng, y, 3)
    mean, sd = mean_roc(y, probs)
    area = np.sum(np.diff(FPR_GRID) * (mean[1:] + mean[:-1]) / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.mean([roc_auc_score(y, p) for p in probs])
    assert area == pytest.approx(expected, abs=0.01)
    assert mean[-1] == 1.0 and (np.diff(mean) >= -1e-12).all() and (sd >= 0).all()
    assert mean_roc([1, 1, 1], probs[:, :3]) is None


def test_confusion_counts_are_pooled_over_seeds_and_kept_for_each_model():
    def metrics(train, seed, counts):
        provenance = {"train_domain": train, "test_domain": "Original", "seed": seed}
        return {"provenance": provenance, "confusion_matrix": {"counts": counts}}

    pooled, by_seed, seeds = confusion_counts(
        [
            metrics("GANs", 2, [[1, 2], [3, 4]]),
            metrics("GANs", 1, [[5, 0], [0, 5]]),
            metrics("VAEs", 1, [[0, 1], [1, 0]]),
        ]
    )
    np.testing.assert_array_equal(pooled[("GANs", "Original")], [[6, 2], [3, 9]])
    np.testing.assert_array_equal(by_seed[(("GANs", 2), "Original")], [[1, 2], [3, 4]])
    assert seeds == [1, 2] and len(by_seed) == 3


def test_histories_are_grouped_by_training_domain_in_the_order_given():
    runs = [
        {"train_domain": "B", "history": [1]},
        {"train_domain": "A", "history": [2]},
        {"train_domain": "B", "history": [3]},
    ]
    assert dict(histories_by_domain(runs)) == {"B": [[1], [3]], "A": [[2]]}


def test_class_samples_take_images_of_each_class_spread_through_the_manifest():
    manifest = pd.DataFrame({"label": [0, 1] * 10, "split": ["train"] * 20})
    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1)
    samples = class_samples(images, manifest, 2, per_class=3)
    assert [int(v) for v in samples[0].ravel()] == [0, 8, 18] and [int(v) for v in samples[1].ravel()] == [1, 9, 19]
