"""The package as a whole: what each module exports is its own, and each public name has one definition."""

import ast
import importlib
import inspect
from collections import defaultdict

import pytest
from workflow_helpers import REPO

PACKAGE = REPO / "scripts" / "synthcxr"
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__")
# Each module with a DEFAULT_SETTINGS resolves its own settings: one name, one meaning, by design.
SAME_NAME_BY_DESIGN = {"resolve_settings"}


def public_definitions(module_name):
    """Names of the public functions and classes written in one module's source (imports excluded)."""
    tree = ast.parse((PACKAGE / f"{module_name}.py").read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    }


@pytest.mark.parametrize("module_name", MODULES)
def test_every_name_in_all_is_defined_in_its_module(module_name):
    module = importlib.import_module(f"synthcxr.{module_name}")
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), f"synthcxr.{module_name}.__all__ lists {name!r}, which it does not define"
        value = getattr(module, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert value.__module__ == module.__name__, f"{name!r} comes from {value.__module__}"


def test_each_public_function_and_class_is_defined_in_one_module():
    modules_of = defaultdict(list)
    for module_name in MODULES:
        for name in public_definitions(module_name):
            modules_of[name].append(module_name)
    repeated = {name: found for name, found in modules_of.items() if len(found) > 1}
    assert set(repeated) <= SAME_NAME_BY_DESIGN, repeated
