"""This checkout used as a Snakemake module by another workflow (as the catalog's snakedeploy sets it up),
and the default config with --config overrides on top."""

import re
import shutil
import subprocess

import pytest
import yaml
from helpers import make_domain
from slurm_profile import derive_test_profile
from workflow_helpers import REPO, WORKFLOW_FILES, planned_jobs, snakemake, tiny_config, write_config

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


def importing_folder(folder, snakefile, clone=REPO):
    """A workflow in ``folder`` that uses ``snakefile`` of ``clone`` as a module, with its own config."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Snakefile").write_text(IMPORTING_SNAKEFILE.format(snakefile=clone / snakefile))
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


def with_the_workflow_profile(folder, clone=REPO):
    """What docs/module.md has an importing workflow add: the clone's workflow profile as its own."""
    (folder / "profiles" / "default").mkdir(parents=True)
    shutil.copy(clone / "profiles" / "default" / "config.yaml", folder / "profiles" / "default" / "config.yaml")
    return folder


def copy_of_the_clone(folder):
    """The workflow's files copied to ``folder``: a clone whose scripts a test may touch."""
    for name in WORKFLOW_FILES:
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy2)(REPO / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def importing_workflow(tmp_path_factory):
    """An importing workflow as docs/module.md sets it up, on a copy of the clone (see copy_of_the_clone)."""
    clone = copy_of_the_clone(tmp_path_factory.mktemp("clone"))
    # workflow/Snakefile: where the catalog and snakedeploy look for the workflow.
    folder = importing_folder(tmp_path_factory.mktemp("importing"), "workflow/Snakefile", clone=clone)
    return with_the_workflow_profile(folder, clone), clone


@pytest.mark.parametrize("snakefile", ["Snakefile", "workflow/Snakefile"])
def test_the_module_plans_the_importing_workflows_config(tmp_path, snakefile):
    result = run_in(importing_folder(tmp_path, snakefile), "--dry-run")
    assert "synthcxr_train_model" in result.stdout and "synthcxr_plot_figures" in result.stdout
    trainings = {
        line.strip() for line in result.stdout.splitlines() if line.strip().startswith("wildcards: classifier")
    }
    assert "wildcards: classifier=study_cnn, train=Alpha, seed=1" in trainings
    assert "wildcards: classifier=study_cnn, train=Beta, seed=1" in trainings
    assert not any("Original" in line for line in trainings)  # not the default config's domains


@pytest.mark.slow  # a real run of the importing workflow
def test_the_module_runs_to_the_summary_and_then_has_nothing_to_do(importing_workflow):
    folder, clone = importing_workflow
    run_in(folder, "--cores", 2)
    summary = folder / "results" / "summary.csv"
    assert summary.exists() and "Alpha" in summary.read_text() and "Beta" in summary.read_text()
    assert (folder / "results" / "figures" / "heatmap_accuracy.png").exists()
    again = run_in(folder, "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-3000:]
    # A touch of the entry scripts (a git checkout, a fresh clone) changes no code: nothing to do, as in a plain
    # run, with the workflow profile that docs/module.md has the importing workflow copy.
    for script in (clone / "scripts").glob("*.py"):
        script.touch()
    touched = run_in(folder, "--dry-run")
    assert "Nothing to be done" in touched.stdout + touched.stderr, touched.stdout[-3000:]
    # Without it, Snakemake's "code" trigger compares the scripts' times with the outputs: every job would rerun.
    unprofiled = run_in(folder, "--dry-run", "--workflow-profile", "none")
    assert "rule synthcxr_train_model:" in unprofiled.stdout, unprofiled.stdout[-3000:]


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
    assert (
        "classifier=study_cnn,seed=1,train=Original" in default and "classifier=study_cnn,seed=2,train=Mixed" in default
    )
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
    assert jobs == {f"classifier=study_cnn,seed=4,train={t}" for t in ("Alpha", "Beta", "Both")}


MODULE_PREFIX = "synthcxr_"  # docs/module.md: use rule * from synthcxr as synthcxr_*
# The profile settings that name rules; Snakemake matches them to a rule's full name, prefix included.
SETTINGS_BY_RULE = ("set-threads", "set-resources", "groups")


def read_profile(name):
    return yaml.safe_load((REPO / "profiles" / name / "config.yaml").read_text())


def test_the_module_slurm_profile_is_the_slurm_profile_with_the_prefix():
    expected = read_profile("slurm")
    for key in SETTINGS_BY_RULE:
        expected[key] = {MODULE_PREFIX + rule: value for rule, value in expected[key].items()}
    assert read_profile("slurm-module") == expected


def submitted_jobs(dry_run):
    """A dry run's jobs as sorted (group job or '', rule without the module prefix, wildcards, [resource]), but
    the target rule (the checkout's `all`, workflow/Snakefile's `default`: local, nothing to submit)."""
    jobs, group, job = [], "", None
    for line in dry_run.splitlines():
        if match := re.search(r"Group job (\S+) ", line):
            group = match.group(1)
        elif match := re.match(r"( *)(?:local)?rule (\w+):$", line):
            group = group if match.group(1) else ""  # a group's jobs are indented under it
            job = {"group": group, "rule": match.group(2).removeprefix(MODULE_PREFIX), "wildcards": ""}
            jobs.append(job)
        elif job and (match := re.match(r" +(wildcards|resources): (.*)$", line)):
            job[match.group(1)] = match.group(2)
    jobs = [job for job in jobs if job["rule"] not in ("all", "default")]
    # Resources as a set: their order follows where each was set (rule, profile), not what is requested.
    return sorted((j["group"], j["rule"], j["wildcards"], sorted(j.get("resources", "").split(", "))) for j in jobs)


def test_a_dry_run_through_the_module_slurm_profile_submits_what_a_plain_run_does(tmp_path):
    """The same study planned by a plain run through profiles/slurm and by an importing workflow (set up as
    docs/module.md says) through profiles/slurm-module: the same group jobs, resources and `gpu` requests."""
    domains = ["Original", "GANs"]
    config = tiny_config({d: {"path": f"data/{d}"} for d in domains}, seeds=(1, 2))  # 2 seeds: packed groups
    plain, module = tmp_path / "plain", importing_folder(tmp_path / "module", "workflow/Snakefile")
    for folder in (plain, module):
        for index, name in enumerate(domains):
            make_domain(folder / "data" / name, per_class=6, seed=index)
    write_config(plain / "study.yaml", config)
    write_config(module / "config" / "config.yaml", config)
    with_the_workflow_profile(module)
    slurm, slurm_module = (derive_test_profile(tmp_path / name, name) for name in ("slurm", "slurm-module"))

    expected = submitted_jobs(
        snakemake(plain, "--profile", slurm, "--configfile", plain / "study.yaml", "--dry-run").stdout
    )
    # Not vacuous: the plain run packs each training domain's trainings and evaluations into one GPU job.
    trainings = [job for job in expected if job[1] == "train_model"]
    assert {job[0] for job in trainings} == {f"model_study_cnn_{train}" for train in domains + ["Mixed"]}
    assert len(trainings) == 6 and all("gpu=1" in job[3] for job in trainings)
    assert submitted_jobs(run_in(module, "--profile", slurm_module, "--dry-run").stdout) == expected
    # The plain profile names rules without the prefix: through it the module's trainings get no group, no GPU.
    unprefixed = submitted_jobs(run_in(module, "--profile", slurm, "--dry-run").stdout)
    assert not any(group or any(r.startswith("gpu") for r in resources) for group, _, _, resources in unprefixed)
