"""synthcxr.methods: the report's Methods page, rendered from the run's settings."""

import jinja2
import pytest
import yaml
from workflow_helpers import REPO

from synthcxr.methods import render_methods
from synthcxr.summary_text import compared_metrics_text


def statistics_defaults():
    """The defaults of the config's statistics section, from the schema (what a config without the section gets)."""
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    return {key: spec["default"] for key, spec in schema["properties"]["statistics"]["properties"].items()}


def methods_settings(seeds=(1, 2)):
    """The Methods page's variables as rule report_tables passes them, with the default statistics settings."""
    settings = statistics_defaults()
    return {
        "domains": ["Original", "GANs"],
        "test_fraction": 0.2,
        "mixed_name": "Mixed",
        "mixed_members": ["Original", "GANs"],
        "seeds": list(seeds),
        "training": {"lr": 0.001, "batch_size": 16, "epochs": 5, "validation_fraction": 0.1},
        "reference": "Original",
        "n_boot_intervals": settings["interval_resamples"],
        "n_boot_comparisons": settings["comparison_resamples"],
        "alpha": settings["alpha"],
        "min_groups_per_class": settings["min_groups_per_class"],
        "primary": {"metric": "auroc", "test": "Original"},
    }


def test_methods_page_and_docs_state_the_default_statistics_settings():
    """The Methods page renders the statistics settings; docs/statistics.md states the defaults by hand."""
    settings = statistics_defaults()
    alpha, min_groups = settings["alpha"], settings["min_groups_per_class"]
    n_intervals, n_comparisons = settings["interval_resamples"], settings["comparison_resamples"]
    methods = " ".join(render_methods(methods_settings()).split())
    domain_level = " ".join(render_methods(methods_settings(seeds=[1, 2, 3])).split())
    docs = " ".join((REPO / "docs" / "statistics.md").read_text().split())
    coverage = f"{100 * (1 - alpha):g}%"
    for text in (methods, docs):
        assert f"{coverage} percentile bootstrap" in text and f"{coverage} interval" in text
        assert f"fewer than {min_groups} patient groups" in text
    assert f"over {n_intervals} resamples" in methods and f"{n_intervals:,} resamples" in docs
    assert f"over {n_intervals} resamples" in domain_level and "domain-level" in domain_level
    assert f"{n_comparisons} bootstrap" in methods and f"{n_comparisons:,} bootstrap" in docs
    assert f"error rate at {alpha}" in methods and f"p-value is below {alpha}" in methods
    assert compared_metrics_text() in methods


def test_methods_page_says_how_far_to_trust_few_seeds():
    one, two = (" ".join(render_methods(methods_settings(seeds=seeds)).split()) for seeds in ([1], [1, 2]))
    assert "between single models" in one
    assert "only 2 seeds per domain these comparisons are between these models" in two
    for few in (one, two):
        assert "model-level" in few and "no difference is marked" in few and "domain-level" not in few
    many = " ".join(render_methods(methods_settings(seeds=[1, 2, 3])).split())
    assert "between single models" not in many and "model-level" not in many
    assert "domain-level" in many and "Welch-Satterthwaite" in many and "with a new seed" in many
    # claims the numbers cannot carry are gone (issue 23)
    assert "should reproduce" not in many and "covers the luck of the seeds" not in many


def test_methods_page_states_the_primary_endpoint_and_its_own_holm_family():
    methods = " ".join(render_methods(methods_settings()).split())
    assert "AUROC on the Original test split" in methods and "tested apart from everything else" in methods
    assert "Holm's step-down correction within two families" in methods


def test_methods_page_states_the_scope_of_the_intervals():
    methods = " ".join(render_methods(methods_settings()).split())
    assert "conditional on this one split of each real domain" in methods and "one run of each generator" in methods


def test_methods_page_escapes_domain_names_and_needs_every_setting():
    settings = methods_settings()
    settings["domains"] = ["Original", "<b>GANs</b>"]
    assert "&lt;b&gt;GANs&lt;/b&gt;" in render_methods(settings)
    del settings["n_boot_intervals"]
    with pytest.raises(jinja2.UndefinedError):
        render_methods(settings)


def test_methods_page_states_each_classifiers_architecture_parameters_weights_and_settings():
    cnn = {"architecture": "study_cnn", "parameters": 158210, "weights": "random init", "weights_file": None}
    cnn["settings"] = {"lr": 0.001, "batch_size": 16, "epochs": 5}
    resnet = cnn | {"architecture": "resnet18", "parameters": 11171266, "weights": "ab" * 32, "weights_file": "/w.pth"}
    resnet["settings"] = {"lr": 0.0001, "batch_size": 32, "epochs": 10}
    one = " ".join(render_methods(methods_settings() | {"classifiers": {"study_cnn": cnn}}).split())
    assert "<strong>Model</strong>: the same small CNN" in one
    assert "<strong>Classifier</strong>: <em>study_cnn</em>: study_cnn, 158,210 parameters, random init" in one
    both = " ".join(render_methods(methods_settings() | {"classifiers": {"study_cnn": cnn, "r18": resnet}}).split())
    assert "<strong>Model</strong>" not in both and "compared with the reference domain trained with the same" in both
    assert f"<em>r18</em>: resnet18, 11,171,266 parameters, initial weights from /w.pth (sha256 {'ab' * 32})" in both
    assert "Adam, learning rate 0.0001, batch 32, 10 epochs" in both
