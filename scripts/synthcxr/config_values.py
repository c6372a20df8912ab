"""Types of config values given on the command line, read from the config schema (pure Python).

Snakemake reads a list or table given with ``--config`` as text (YAML's BaseLoader): ``--config
'seeds=[3]'`` arrives as ``["3"]``. Where the schema asks for an integer, a number or a boolean, a
string that reads as one becomes one; everything else is left as it is for the schema check, so a
config that was valid already never changes.
"""

BOOLEANS = {"true": True, "false": False}


def typed(value, schema):
    """``value`` with its strings converted where ``schema`` (a JSON schema dict) asks for a number or boolean."""
    if "$defs" in schema:  # the whole schema: its definitions in place once, for the parts below
        schema = with_definitions_inlined(schema)
    if isinstance(value, str):
        return typed_scalar(value, schema.get("type"))
    if isinstance(value, list):
        return [typed(item, schema.get("items", {})) for item in value]
    if isinstance(value, dict):
        return {key: typed(item, property_schema(schema, key)) for key, item in value.items()}
    return value


def property_schema(schema, key):
    """The schema of property ``key`` of an object schema: named, or the one of every other property."""
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    others = schema.get("additionalProperties")
    return others if isinstance(others, dict) else {}


def typed_scalar(text, kind):
    parsers = {"integer": (int,), "number": (int, float), "boolean": (BOOLEANS.__getitem__,)}.get(kind, ())
    for parse in parsers:
        try:
            return parse(text.strip().lower() if kind == "boolean" else text)
        except (ValueError, KeyError):
            continue
    return text


def with_definitions_inlined(schema, definitions=None):
    """``schema`` with each ``{"$ref": "#/$defs/name", ...}`` replaced by that definition and the keys beside
    the reference (a key beside it wins, e.g. a default)."""
    definitions = schema.get("$defs", {}) if definitions is None else definitions
    if isinstance(schema, list):
        return [with_definitions_inlined(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    reference = schema.get("$ref", "")
    if reference.startswith("#/$defs/"):
        schema = {**definitions[reference.removeprefix("#/$defs/")], **schema}
    return {key: with_definitions_inlined(item, definitions) for key, item in schema.items() if key != "$ref"}
