"""synthcxr.digests: each rule's code digests are derived from what its entry script imports."""

import hashlib

import pytest
from rule_files import RULES, imported_modules

from synthcxr.digests import PACKAGE, code_digests, imported_package_modules


def sha16(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@pytest.mark.parametrize("rule, script, env", RULES, ids=[r[0] for r in RULES])
def test_a_rules_digests_cover_every_package_module_its_script_runs_and_the_script(rule, script, env):
    # The oracle follows every import recursively (tests/workflow/test_envs.py), not only synthcxr's own ones.
    runs = {module.split(".", 1)[1] for module in imported_modules(script) if module.startswith("synthcxr.")}
    digests = code_digests(script)
    assert list(digests) == [*sorted(runs), script.name]
    expected = {module: sha16(PACKAGE / f"{module}.py") for module in sorted(runs)}
    assert digests == expected | {script.name: sha16(script)}


def test_an_edit_changes_the_digest_and_a_touch_does_not(tmp_path):
    script = tmp_path / "entry.py"
    script.write_text("from synthcxr import jobs\nfrom synthcxr.leakage import pair_report\n")
    before = code_digests(script)
    assert set(before) == {"jobs", "leakage", "entry.py"}
    script.touch()
    assert code_digests(script) == before
    edited = tmp_path / "edited.py"  # digests are cached by path: an edited copy stands for the edit
    edited.write_text(script.read_text() + "# a change\n")
    assert code_digests(edited)["edited.py"] != before["entry.py"]


def test_names_imported_from_the_package_that_are_not_modules_are_left_out(tmp_path):
    script = tmp_path / "entry.py"
    script.write_text("import synthcxr\nfrom synthcxr import __doc__, jobs\nfrom os import path\n")
    assert imported_package_modules(script) == {"jobs"}


def rules_whose_digests_cover(module):
    return {rule for rule, script, _ in RULES if module in code_digests(script)}


def test_an_edit_of_words_changes_only_the_digests_of_the_rules_that_write_words():
    # report_tables writes results/findings.md (workflow/rules/report.smk): a findings sentence reruns it alone.
    assert rules_whose_digests_cover("findings") == {"report_tables"}
    assert rules_whose_digests_cover("summary_text") == {"report_tables"}  # the tables in words and LaTeX
    words = {"report_tables", "plot_figures", "plot_volume_curve", "summarize_fidelity"}  # tables, findings, titles
    assert rules_whose_digests_cover("wording") == words
    numbers = {"summarize", "compare_domains"}  # the bootstraps
    for module in ("findings", "summary_text", "wording", "report_text", "methods", "text"):
        assert not rules_whose_digests_cover(module) & numbers, module
