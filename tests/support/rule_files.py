"""The workflow's rule files as text: each rule's script, conda env and code param, and what a script imports.

Read by the static tests of the envs (test_envs.py) and of the code digests (test_code_digests.py, test_digests.py).
"""

import ast
import re

from workflow_helpers import REPO


def rule_blocks():
    """(rule file, text) of each `rule` and `use rule` block of the workflow."""
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"\n(?=(?:use )?rule \w+)", smk.read_text()):
            if re.match(r"(use )?rule \w+", block.strip()):
                yield smk, block.strip()


def rules_with_scripts():
    found = []
    for smk, block in rule_blocks():
        name = re.match(r"rule (\w+):", block)
        script = re.search(r'script:\s*\n\s*"([^"]+)"', block)
        if name and script:
            conda = re.search(r'conda:\s*\n\s*"([^"]+)"', block)
            found.append((name.group(1), smk.parent / script.group(1), conda and smk.parent / conda.group(1)))
    return found


def has_code_param(rule):
    """Whether a rule declares the `code=code()` param that add_code_digests fills in (common.smk)."""
    block = next(block for _, block in rule_blocks() if block.startswith(f"rule {rule}:"))
    return re.search(r"\bcode=code\(\)", block) is not None


def imported_modules(path, seen=None):
    """Every module ``path`` imports (dotted names), following synthcxr modules recursively."""
    seen = set() if seen is None else seen
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules = [node.module]
            if node.module == "synthcxr":  # from synthcxr import stats
                modules += [f"synthcxr.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            names.add(module)
            if module.startswith("synthcxr") and module not in seen:
                seen.add(module)
                module_path = REPO / "scripts" / (module.replace(".", "/") + ".py")
                if module == "synthcxr":
                    module_path = REPO / "scripts" / "synthcxr" / "__init__.py"
                names |= imported_modules(module_path, seen)
    return names


def top_level(modules):
    return {module.split(".")[0] for module in modules}


RULES = rules_with_scripts()
