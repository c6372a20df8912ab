"""Figures people read: heat-map colour scale and margins, training curves with the validation slice."""

import numpy as np
import pandas as pd
import pytest

from synthcxr.figures import colour_range, heatmap, training_curves

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
