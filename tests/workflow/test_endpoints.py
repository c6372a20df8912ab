"""synthcxr.endpoints: the primary endpoint's defaults and checks (milliseconds), and its refusal at dry run."""

import pytest
from workflow_helpers import TINY_STUDY_DOMAINS, snakemake, tiny_config, write_config

from synthcxr.endpoints import family, primary_endpoint

TESTS = ["Original", "GANs", "Ext"]


def test_the_default_is_auroc_on_the_external_real_test_set_else_on_the_reference_split():
    assert primary_endpoint({}, test_domains=TESTS, external=["Ext"], reference="Original") == {
        "metric": "auroc",
        "test": "Ext",
    }
    assert primary_endpoint({"test": None}, test_domains=TESTS, external=[], reference="Original") == {
        "metric": "auroc",
        "test": "Original",
    }
    chosen = {"metric": "balanced_accuracy", "test": "GANs"}
    assert primary_endpoint(chosen, test_domains=TESTS, external=["Ext"], reference="Original") == chosen


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"metric": "sensitivity"}, "statistics.primary.metric: 'sensitivity' is not compared"),
        ({"test": "Mixed"}, "statistics.primary.test: 'Mixed' is not a test split of this study"),
    ],
)
def test_a_primary_endpoint_that_is_never_compared_is_refused_naming_the_key(setting, message):
    with pytest.raises(ValueError, match=message):
        primary_endpoint(setting, test_domains=TESTS, external=[], reference="Original")


def test_family_of_a_comparison():
    primary = {"metric": "auroc", "test": "Ext"}
    assert family("Ext", "auroc", primary) == "primary"
    assert family("Ext", "f1", primary) == family("GANs", "auroc", primary) == family("Ext", "auroc", None)
    assert family("Ext", "f1", primary) == "secondary"


def test_a_primary_test_split_outside_the_study_is_refused_at_dry_run(tmp_path):
    config = tiny_config(TINY_STUDY_DOMAINS)
    config["statistics"] = {"primary": {"test": "Elsewhere"}}
    result = snakemake(tmp_path, "--configfile", write_config(tmp_path / "c.yaml", config), "-n", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "statistics.primary.test: 'Elsewhere' is not a test split of this study" in output
