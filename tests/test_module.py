"""This checkout used as a Snakemake module by another workflow (as the catalog's snakedeploy sets it up),
and the default config with --config overrides on top."""

import shutil
import subprocess

import pytest
from workflow_helpers import REPO, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.workflow

# Domain names that the default config does not have: the plan shows whose config is used.
MODULE_DOMAINS = {
    "Alpha": {"demo": {"per_class": 8, "shift": "none"}, "kind": "real"},
    "Beta": {"demo": {"per_class": 8, "shift": "gan"}, "kind": "synthetic"},
}

IMPORTING_SNAKEFILE = """\
configfile: "config/config.yaml"


module synthcxr:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from synthcxr as synthcxr_*
"""


def run_in(folder, *args, check=True):
    """snakemake in ``folder`` with that folder's own Snakefile."""
    return snakemake(folder, *args, check=check, snakefile=folder / "Snakefile")


def importing_folder(folder, snakefile):
    """A workflow in ``folder`` that uses this checkout's ``snakefile`` as a module, with its own config."""
    (folder / "Snakefile").write_text(IMPORTING_SNAKEFILE.format(snakefile=REPO / snakefile))
    (folder / "config").mkdir()
    config = {
        "domains": MODULE_DOMAINS,
        "mixed": {"name": "Mixed", "members": []},
        "training": {"epochs": 1},
        "seeds": [1],
        "device": "cpu",
    }
    write_config(folder / "config" / "config.yaml", config)
    return folder


@pytest.fixture(scope="module")
def importing_workflow(tmp_path_factory):
    # workflow/Snakefile: where the catalog and snakedeploy look for the workflow.
    return importing_folder(tmp_path_factory.mktemp("importing"), "workflow/Snakefile")


@pytest.mark.parametrize("snakefile", ["Snakefile", "workflow/Snakefile"])
def test_the_module_plans_the_importing_workflows_config(tmp_path, snakefile):
    result = run_in(importing_folder(tmp_path, snakefile), "--dry-run")
    assert "synthcxr_train_model" in result.stdout and "synthcxr_plot_figures" in result.stdout
    trainings = {line.strip() for line in result.stdout.splitlines() if line.strip().startswith("wildcards: train=")}
    assert "wildcards: train=Alpha, seed=1" in trainings and "wildcards: train=Beta, seed=1" in trainings
    assert not any("Original" in line for line in trainings)  # not the default config's domains


@pytest.mark.slow  # a real run of the importing workflow
def test_the_module_runs_to_the_summary_and_then_has_nothing_to_do(importing_workflow):
    run_in(importing_workflow, "--cores", 2)
    summary = importing_workflow / "results" / "summary.csv"
    assert summary.exists() and "Alpha" in summary.read_text() and "Beta" in summary.read_text()
    assert (importing_workflow / "results" / "figures" / "heatmap_accuracy.png").exists()
    again = run_in(importing_workflow, "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-3000:]


def test_a_module_source_that_is_not_a_local_checkout_is_one_clear_error(tmp_path):
    """gitfile() stands in for snakedeploy's github(): a source whose files are not on this disk.

    It reads the committed HEAD of this checkout, so it tests what is committed."""
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("this checkout is not a git repository")
    importing_folder(tmp_path, "workflow/Snakefile")
    source = f'gitfile(repo_path="{REPO}", path="workflow/Snakefile", ref="{head.stdout.strip()}")'
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(snakefile.read_text().replace(f'"{REPO / "workflow/Snakefile"}"', source))
    result = run_in(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert "synthcxr must be used from a local checkout" in result.stdout + result.stderr


@pytest.fixture
def default_config_folder(tmp_path):
    """A working folder with the default config where Snakemake looks for it (config/config.yaml)."""
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    return tmp_path


def trained(jobs):
    return {wildcards for rule, wildcards in jobs if rule == "train_model"}


def test_config_overrides_apply_on_top_of_the_default_config(default_config_folder):
    default = trained(planned_jobs(default_config_folder, "--config", "device=cpu"))
    assert "seed=1,train=Original" in default and "seed=2,train=Mixed" in default
    renamed = trained(
        planned_jobs(default_config_folder, "--config", "device=cpu", "mixed={name: Blend, members: [Original, GANs]}")
    )
    assert renamed == {w.replace("Mixed", "Blend") for w in default}
    # Snakemake reads a list given with --config as text (["3"]); the schema's types apply.
    reseeded = trained(planned_jobs(default_config_folder, "--config", "seeds=[3]"))
    assert reseeded == {w.replace("seed=1", "seed=3") for w in default if "seed=1" in w}


def test_a_bad_override_is_checked_like_the_config(default_config_folder):
    result = snakemake(default_config_folder, "--dry-run", "--config", "device=gpu", check=False)
    assert result.returncode != 0 and "device" in result.stdout + result.stderr


def test_config_overrides_apply_on_top_of_a_configfile_that_replaces_the_default(default_config_folder, tmp_path):
    own = {"domains": MODULE_DOMAINS, "mixed": {"name": "Mixed", "members": ["Alpha", "Beta"]}, "seeds": [4]}
    configfile = write_config(tmp_path / "own.yaml", own)
    jobs = trained(
        planned_jobs(
            default_config_folder, "--configfile", configfile, "--config", "mixed={name: Both, members: [Alpha]}"
        )
    )
    # The config file replaces the default as a whole: no Original, GANs or VAEs from config/config.yaml.
    assert jobs == {"seed=4,train=Alpha", "seed=4,train=Beta", "seed=4,train=Both"}
