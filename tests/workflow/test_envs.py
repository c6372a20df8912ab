"""Static checks of what each rule's script imports: every package is in the rule's conda env, and
every synthcxr module the script imports itself is listed in the rule's `code` param (code() adds the
modules those import).

Conda channels are unreachable on our machines, so the envs cannot be built here; these tests read the
rule files, follow each script's imports through the synthcxr package, and compare.
"""

import re
import sys

import pytest
import yaml
from rule_files import RULES, has_code_param, imported_modules, rule_blocks, top_level
from workflow_helpers import REPO

# Import name -> conda-forge package name, where they differ.
CONDA_NAME = {
    "torch": "pytorch",
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "matplotlib": "matplotlib-base",
}
LOCAL = {"synthcxr", "snakemake"}  # our package; snakemake injects itself into script jobs


def env_packages(env_file):
    spec = yaml.safe_load(env_file.read_text())
    return {re.split(r"[\s=<>!]", dep.strip())[0] for dep in spec["dependencies"] if isinstance(dep, str)}


def test_every_rule_with_a_script_has_a_conda_env():
    assert len(RULES) >= 6
    assert all(env is not None for _, _, env in RULES), [name for name, _, env in RULES if env is None]


@pytest.mark.parametrize("rule, script, env", RULES, ids=[r[0] for r in RULES])
def test_script_imports_are_in_the_rule_env(rule, script, env):
    third_party = {
        m for m in top_level(imported_modules(script)) if m not in sys.stdlib_module_names and m not in LOCAL
    }
    needed = {CONDA_NAME.get(m, m) for m in third_party}
    missing = needed - env_packages(env)
    assert not missing, f"rule {rule}: {script.name} imports {sorted(missing)}, not in {env.name}"


def test_the_optional_packages_pandas_needs_are_in_the_data_env_and_requirements():
    # Imported by pandas, not by our scripts, so the import scan above cannot see them:
    # DataFrame.to_markdown needs tabulate, Styler.to_latex (results/summary.tex) needs jinja2.
    optional = {"tabulate", "jinja2"}
    assert optional <= env_packages(REPO / "envs" / "data.yaml")
    requirements = {
        re.split(r"[\s=<>!~\[]", line.strip())[0].lower()
        for line in (REPO / "requirements.txt").read_text().splitlines()
    }
    assert optional <= requirements


def test_data_rules_do_not_use_the_torch_env():
    # Bumping a plotting library must never retrain a model.
    for rule, script, env in RULES:
        if "torch" not in top_level(imported_modules(script)):
            assert env.name != "torch.yaml", f"rule {rule} needs no torch but uses envs/torch.yaml"


@pytest.mark.parametrize("rule, script, env", RULES, ids=[r[0] for r in RULES])
def test_every_rule_with_a_script_carries_the_code_digests(rule, script, env):
    # Without the param, an edit to its script or to a module it runs would not rerun the rule: stale results.
    # Its content is derived from the script's imports (synthcxr.digests; tests/unit/test_digests.py).
    assert has_code_param(rule), f"rule {rule} has no code=code() param"


def test_rules_reused_with_use_rule_take_the_code_param_of_their_original():
    # `use rule ... with: params:` replaces all params: it must take the original's code list, not a copy
    # that would drift from it, nor none at all.
    reused = [block for _, block in rule_blocks() if block.startswith("use rule")]
    assert reused
    for block in reused:
        original = re.match(r"use rule (\w+) as", block).group(1)
        assert "code(" not in block, block.splitlines()[0]
        if re.search(r"^    params:", block, re.M):
            assert f"code=rules.{original}.params.code" in block, block.splitlines()[0]


ENVS = sorted((REPO / "envs").glob("*.yaml"))
# Packages an env holds although no script imports them: python itself, pandas' optional to_markdown
# backend, and the CUDA release of the PyTorch build.
NOT_IMPORTED = {"data.yaml": {"python", "tabulate"}, "torch.yaml": {"python", "cuda-version"}}


def env_dependencies(env_file):
    return [dep for dep in yaml.safe_load(env_file.read_text())["dependencies"] if isinstance(dep, str)]


@pytest.mark.parametrize("env", ENVS, ids=[env.name for env in ENVS])
def test_envs_pin_exact_versions_from_conda_forge_only(env):
    # As the Snakemake workflow catalog pins them: conda-forge, no default channels, one version each.
    assert yaml.safe_load(env.read_text())["channels"] == ["conda-forge", "nodefaults"]
    for dep in env_dependencies(env):
        assert re.fullmatch(r"[a-z0-9_.-]+ =\d+(\.\d+)+( \S+)?", dep.split("#")[0].strip()), f"{env.name}: {dep}"


@pytest.mark.parametrize("env", ENVS, ids=[env.name for env in ENVS])
def test_envs_hold_only_what_their_rules_import(env):
    needed = set()
    for _, script, rule_env in RULES:
        if rule_env.resolve() == env.resolve():
            third_party = top_level(imported_modules(script)) - set(sys.stdlib_module_names) - LOCAL
            needed |= {CONDA_NAME.get(m, m) for m in third_party}
    assert needed, f"no rule uses {env.name}"
    extra = env_packages(env) - needed - NOT_IMPORTED[env.name]
    assert not extra, f"{env.name} holds {sorted(extra)}, which no script of its rules imports"


def test_torch_env_pins_a_cuda_build_and_its_cuda_version():
    # The login node that builds envs has no GPU: without the build string conda solves a CPU-only PyTorch.
    deps = {dep.split()[0]: dep.split("#")[0].split() for dep in env_dependencies(REPO / "envs" / "torch.yaml")}
    _, version, build = deps["pytorch"]
    cuda = deps["cuda-version"][1].lstrip("=")
    assert build == f"cuda{cuda.replace('.', '')}*", (build, cuda)
    # The same torch as the local venv (requirements.txt), and the CUDA release the docs tell users to set.
    assert f"torch=={version.lstrip('=')}" in (REPO / "requirements.txt").read_text().split()
    for doc in ("README.md", "docs/slurm.md"):
        assert f"CONDA_OVERRIDE_CUDA={cuda}" in (REPO / doc).read_text(), doc
