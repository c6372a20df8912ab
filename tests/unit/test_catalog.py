"""synthcxr.catalog: one list of the metrics that every table, figure and sentence draws from."""

import numpy as np

from synthcxr import catalog
from synthcxr.metrics import NEEDS_CLASSES, classification_metrics


def test_the_metrics_are_those_classification_metrics_computes():
    rng = np.random.default_rng(0)
    computed = classification_metrics(np.arange(40) % 2, rng.random(40))
    assert set(catalog.METRICS) <= set(computed)
    assert set(NEEDS_CLASSES) <= set(catalog.METRICS)


def test_every_subset_is_drawn_from_the_metrics_in_their_order():
    for subset in (
        catalog.THRESHOLD_METRICS,
        catalog.INTERVAL_METRICS,
        catalog.COMPARED_METRICS,
        catalog.VOLUME_METRICS,
    ):
        assert list(subset) == [name for name in catalog.METRICS if name in subset], subset
    assert set(catalog.INTERVAL_METRICS) == set(catalog.METRICS) - {"brier", "ece"}


def test_every_metric_has_one_distinct_label():
    assert set(catalog.METRICS) <= set(catalog.LABELS)
    assert len(set(catalog.LABELS.values())) == len(catalog.LABELS)


def test_the_figures_of_plot_figures_hold_one_heatmap_per_compared_metric():
    heatmaps = [name for name in catalog.PLOT_FIGURES if name.startswith("heatmap_")]
    assert heatmaps == [catalog.heatmap_name(metric) for metric in catalog.COMPARED_METRICS]
    assert len(set(catalog.PLOT_FIGURES)) == len(catalog.PLOT_FIGURES) and "confusion_matrices" in catalog.PLOT_FIGURES
