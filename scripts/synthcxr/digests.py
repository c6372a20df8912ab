"""Code digests of the rules: the package modules an entry script runs, and the hashes of their sources.

Standard library only: the Snakefile computes these while building the DAG. Each rule's `code` param holds
them, so a real edit to the script or to any module it runs (directly or through another module) reruns the
rule, and a touch or a fresh checkout reruns nothing (the content decides, not a modification time).

A param, not input files: the rerun trigger does not depend on where the run directory lies relative to the
checkout. Snakemake's own rerun trigger "code" would rerun a `script:` rule whenever the script's modification
time is newer than the outputs (a touch, a git checkout, a fresh clone with the results copied over: hours of
GPU time for nothing); profiles/default/config.yaml switches it off.
"""

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def imported_package_modules(path):
    """The synthcxr modules the Python file ``path`` imports itself (``from synthcxr import x``,
    ``from synthcxr.x import f``), not through another module."""
    found = set()
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            package, _, name = (node.module or "").partition(".")
            if package == "synthcxr":
                found |= {name} if name else {alias.name for alias in node.names}
    return {name for name in found if (PACKAGE / f"{name}.py").exists()}


@functools.cache
def module_closure(module):
    """``module`` and every synthcxr module it imports, directly or through another."""
    closure, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current not in closure:
            closure.add(current)
            todo.extend(imported_package_modules(PACKAGE / f"{current}.py"))
    return frozenset(closure)


@functools.cache
def file_digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def code_digests(script):
    """``{module: digest}`` of every package module the entry script ``script`` runs, in sorted order, then
    ``{script file name: digest}``."""
    used = set().union(*map(module_closure, imported_package_modules(script)))
    digests = {module: file_digest(PACKAGE / f"{module}.py") for module in sorted(used)}
    digests[Path(script).name] = file_digest(script)
    return digests


def fill_code_params(rules, scripts):
    """Fill in the `code` param (a dict, empty until now) of each of ``rules`` (Snakemake's) that runs a script
    and declares one, with the code digests of its entry script in the folder ``scripts``. (A rule reused with
    `use` shares its original's dict, hence the same script and digests.)"""
    for rule in rules:
        if rule.script and "code" in rule.params.keys():
            rule.params.code.update(code_digests(Path(scripts) / Path(rule.script).name))
