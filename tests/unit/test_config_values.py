"""Values of --config (text from Snakemake's YAML BaseLoader) get the types the config schema asks for."""

import yaml
from workflow_helpers import REPO

from synthcxr.config_values import typed

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


def test_text_becomes_the_number_or_boolean_the_schema_asks_for():
    given = {
        "seeds": ["3", "4"],
        "training": {"epochs": "2", "lr": "1e-4", "mixed_precision": "True"},
        "domains": {"Original": {"demo": {"per_class": "10", "shift": "none"}}},
    }
    assert typed(given, SCHEMA) == {
        "seeds": [3, 4],
        "training": {"epochs": 2, "lr": 1e-4, "mixed_precision": True},
        "domains": {"Original": {"demo": {"per_class": 10, "shift": "none"}}},
    }


def test_names_and_values_that_do_not_read_as_the_type_are_left_for_the_schema_check():
    given = {"mixed": {"name": "1", "members": ["2"]}, "seeds": ["three"], "unknown": {"x": "1"}}
    assert typed(given, SCHEMA) == given


def test_a_config_file_already_typed_is_unchanged():
    default = yaml.safe_load((REPO / "config/config.yaml").read_text())
    assert typed(default, SCHEMA) == default
