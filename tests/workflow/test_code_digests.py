"""What an edit to each package module reruns: the rules whose scripts import it, directly or through
another module (the `code` param of each rule carries those modules' digests; workflow/rules/common.smk).

The table is written out by hand so that a change in it is a reviewed decision: modules are cut by what
they depend on, so that, for example, an edit to a test of significance (stats) does not rerun the
evaluations, one to a findings sentence does not rerun the bootstrap of summarize, and one to how the
training data are loaded (data) does not rerun the statistics. Reruns are shown with real runs in
tests/workflow/test_reruns.py (e.g. an edit to model.py retrains every model).
"""

from collections import defaultdict

from rule_files import RULES, imported_modules
from workflow_helpers import REPO

# The rules whose scripts run the analysis: the statistics, tables, figures and report.
ANALYSIS_RULES = {
    "compare_domains",
    "plot_figures",
    "plot_volume_curve",
    "report_tables",
    "summarize",
}
# The rules that write words about the statistics: the report's tables and findings, the figures' titles.
WORDING_RULES = {"plot_figures", "plot_volume_curve", "report_tables", "summarize_fidelity"}
# The rules that compute or show metrics (synthcxr.catalog names them, synthcxr.metrics computes them).
METRIC_RULES = {
    "compare_domains",
    "evaluate_fidelity",
    "evaluate_model",
    "plot_figures",
    "plot_volume_curve",
    "report_tables",
    "summarize",
    "summarize_fidelity",
}
RERUN_BY_AN_EDIT_OF = {
    "catalog": METRIC_RULES,
    "analysis": ANALYSIS_RULES,
    # The classifiers: built by the trainings and evaluations alone (not the generators or the fidelity), and
    # their tables put together by the analysis rules that read every classifier's results.
    "classifier_config": {"evaluate_model", "train_model"},
    "classifier_tables": {"compare_domains", "plot_figures", "report_tables", "summarize"},
    "classifiers": {"evaluate_model", "train_model"},
    "config_values": set(),
    # the primary endpoint: read by analysis (its Holm families), so the same rules
    "endpoints": ANALYSIS_RULES,
    # Read when the DAG is built (the code params themselves), by no rule's script.
    "digests": set(),
    # Read when the DAG is built (folder and leakage-report checks), by no rule's script.
    "dag_checks": set(),
    "data": {"evaluate_fidelity", "evaluate_model", "train_generator", "train_model"},
    "evaluate": {"evaluate_model"},
    # fidelity by layer: the measures, memorisation, per-group coordination, the rule's files
    "fidelity": {"evaluate_fidelity"},
    "fidelity_files": {"evaluate_fidelity"},
    "fidelity_measures": {"evaluate_fidelity"},
    "fidelity_summary": {"report_tables", "summarize_fidelity"},
    "figures": {"plot_figures", "plot_volume_curve", "summarize_fidelity"},
    "findings": {"report_tables"},
    "folders": {"prepare_domain"},
    "generators": {"train_generator"},
    "images": {"prepare_domain"},
    "jobs": {
        "check_leakage",
        "check_leakage_across",
        "compare_domains",
        "evaluate_fidelity",
        "evaluate_model",
        "make_demo_domain",
        "plot_figures",
        "plot_volume_curve",
        "prepare_domain",
        "report_tables",
        "summarize",
        "summarize_fidelity",
        "train_generator",
        "train_model",
    },
    "leakage": {"check_leakage", "check_leakage_across"},
    # Read when the DAG is built (images added to a prepared domain), by no rule's script.
    "new_images": set(),
    "manifest": {
        "check_leakage",
        "check_leakage_across",
        "evaluate_fidelity",
        "evaluate_model",
        "prepare_domain",
        "train_generator",
        "train_model",
    },
    "methods": {"report_tables"},
    "memorisation": {"evaluate_fidelity"},
    "metrics": METRIC_RULES,
    "model": {"evaluate_fidelity", "evaluate_model", "train_generator", "train_model"},
    "phantoms": {"make_demo_domain"},
    "predictions": {
        "compare_domains",
        "evaluate_model",
        "plot_figures",
        "plot_volume_curve",
        "report_tables",
        "summarize",
        "train_model",
    },
    "prepare": {"prepare_domain"},
    # Read when the DAG is built (where each result sits in the report), by no rule's script.
    "report_menu": set(),
    # issue 27: the evaluation ends its process without Python's shutdown (seconds with torch loaded)
    "shutdown": {"evaluate_model"},
    "report_text": {"report_tables"},
    "progress": {"evaluate_fidelity", "evaluate_model", "prepare_domain", "train_generator", "train_model"},
    "splits": {"evaluate_fidelity", "evaluate_model", "prepare_domain", "train_generator", "train_model"},
    "stats": {
        "compare_domains",
        "evaluate_fidelity",
        "plot_figures",
        "plot_volume_curve",
        "report_tables",
        "summarize",
        "summarize_fidelity",
    },
    # Read when the DAG is built (the domains' roles and the checks across config keys), by no rule's script.
    "study": set(),
    "summary": {"summarize"},
    # the summary tables in words and LaTeX
    "summary_text": {"report_tables"},
    "tables": {"prepare_domain"},
    "text": {"report_tables", "summarize_fidelity"},
    # torchvision's architectures, imported only by a study that uses one
    "torchvision_models": {"evaluate_model", "train_model"},
    "train": {"evaluate_fidelity", "evaluate_model", "train_generator", "train_model"},
    # intervals and p-values in words
    "wording": WORDING_RULES,
}


def rules_rerun_by_each_module():
    reruns = defaultdict(set)
    for rule, script, _ in RULES:
        for module in imported_modules(script):
            if module.startswith("synthcxr."):
                reruns[module.split(".", 1)[1]].add(rule)
    modules = sorted(p.stem for p in (REPO / "scripts" / "synthcxr").glob("*.py") if p.stem != "__init__")
    return {module: reruns.get(module, set()) for module in modules}


def test_each_module_edit_reruns_exactly_the_rules_listed():
    assert rules_rerun_by_each_module() == RERUN_BY_AN_EDIT_OF


def test_the_cuts_that_keep_reruns_small():
    assert "evaluate_model" not in RERUN_BY_AN_EDIT_OF["stats"]  # significance tests
    assert RERUN_BY_AN_EDIT_OF["findings"] == {"report_tables"}  # sentences
    for words in ("wording", "summary_text", "text", "findings", "report_text", "methods"):  # no bootstrap reruns
        assert not RERUN_BY_AN_EDIT_OF[words] & {"summarize", "compare_domains"}, words
    assert not RERUN_BY_AN_EDIT_OF["data"] & {"summarize", "compare_domains", "plot_figures"}  # loading
    assert RERUN_BY_AN_EDIT_OF["prepare"] == {"prepare_domain"}  # decoding, not reading manifests
