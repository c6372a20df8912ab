"""Values of --config (text from Snakemake's YAML BaseLoader) get the types the config schema asks for."""

import yaml
from workflow_helpers import REPO

from synthcxr.config_values import typed, with_definitions_inlined

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


def test_text_becomes_the_number_or_boolean_the_schema_asks_for():
    given = {
        "seeds": ["3", "4"],
        "split_seed": "5",
        "training": {"epochs": "2", "lr": "1e-4", "mixed_precision": "True"},
        "domains": {"Original": {"demo": {"per_class": "10", "shift": "none", "seed": "6"}}},
        "fidelity": {"seed": "7"},
    }
    # Seeds are one definition of the schema ($defs), referenced where a seed is asked for.
    assert typed(given, SCHEMA) == {
        "seeds": [3, 4],
        "split_seed": 5,
        "training": {"epochs": 2, "lr": 1e-4, "mixed_precision": True},
        "domains": {"Original": {"demo": {"per_class": 10, "shift": "none", "seed": 6}}},
        "fidelity": {"seed": 7},
    }


def test_names_and_values_that_do_not_read_as_the_type_are_left_for_the_schema_check():
    given = {"mixed": {"name": "1", "members": ["2"]}, "seeds": ["three"], "unknown": {"x": "1"}}
    assert typed(given, SCHEMA) == given


def test_a_config_file_already_typed_is_unchanged():
    default = yaml.safe_load((REPO / "config/config.yaml").read_text())
    assert typed(default, SCHEMA) == default


def test_the_seed_range_is_stated_once_and_every_seed_refers_to_it():
    text = (REPO / "workflow/schemas/config.schema.yaml").read_text()
    assert SCHEMA["$defs"]["seed"]["maximum"] == 2**31 - 1 and text.count("maximum: 2147483647") == 1
    inlined = with_definitions_inlined(SCHEMA)
    properties = inlined["properties"]
    seeds = [
        properties["split_seed"],
        properties["demo_seed"],
        properties["seeds"]["items"],
        properties["fidelity"]["properties"]["seed"],
        properties["domains"]["additionalProperties"]["properties"]["demo"]["properties"]["seed"],
    ]
    assert all(seed["type"] == "integer" and seed["maximum"] == 2**31 - 1 for seed in seeds)
    assert (
        properties["split_seed"]["default"] == 20240601 and properties["fidelity"]["properties"]["seed"]["default"] == 0
    )
