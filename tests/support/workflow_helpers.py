"""Running the real snakemake command on tiny data, and reading its plans."""

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
# What a clone of the workflow holds that a run reads (the code, its config and profiles): a test that edits
# the code or the profiles works on a copy of these.
WORKFLOW_FILES = ["Snakefile", "workflow", "scripts", "config", "envs", "profiles"]
# The shared tiny study (tests/conftest.py, fixture tiny_study): three demo domains + Mixed, 1 seed, 1 epoch.
# 25 images per class give test splits of 5 patient groups per class, the fewest for which the workflow computes
# intervals and tests, so that test_report.py can extend a copy of it with a second seed.
TINY_STUDY_DOMAINS = {
    "Original": {"demo": {"per_class": 25, "shift": "none"}},
    "GANs": {"demo": {"per_class": 25, "shift": "gan"}},
    "VAEs": {"demo": {"per_class": 25, "shift": "vae"}},
}
# Generators small enough for a test: 2 epochs of a narrow GAN or VAE.
TINY_GENERATOR = {"epochs": 2, "base_channels": 4, "latent_dim": 8, "batch_size": 8}
# The shared generated study (tests/conftest.py, fixture generated_study): GANs and VAEs generated inside the
# workflow from Original's train split, then their fidelity.
GENERATED_STUDY_DOMAINS = {
    "Original": {"demo": {"per_class": 10, "shift": "none"}},
    "GANs": {"generated": {"model": "gan", "source": "Original", "per_class": 8, "settings": TINY_GENERATOR}},
    "VAEs": {"generated": {"model": "vae", "source": "Original", "per_class": 6, "settings": TINY_GENERATOR}},
}
# Set by tests/conftest.py before each test: only tests marked slow may run snakemake for real.
real_runs_allowed = True


# Options with which snakemake does not run the workflow (it plans, reads or marks what exists): allowed in
# the fast tier, and not followed by the nothing-to-do check.
NOT_A_RUN = {
    "-n",
    "--dry-run",
    "--dryrun",
    "--report",
    "--lint",
    "--summary",
    "-S",
    "--detailed-summary",
    "-D",
    "--list-rules",
    "-l",
    "--dag",
    "--rulegraph",
    "--filegraph",
    "--touch",
    "-t",
    "--unlock",
    "--cleanup-metadata",
    "--list-changes",
    "--lc",
    "--delete-all-output",
    "--delete-temp-output",
    "--list-code-changes",
    "--list-params-changes",
    "--list-input-changes",
    "--version",
    "-h",
    "--help",
}


def snakemake(workdir, *args, check=True, timeout=900, snakefile=REPO / "Snakefile"):
    """Run snakemake on ``snakefile`` (the repository's) in ``workdir``; return the completed process.

    After every run that exits 0, a dry run with the same arguments must have nothing to do: a run
    that says "done" must not leave stale results behind (issue #14, item 1).
    """
    args = [str(arg) for arg in args]
    if not real_runs_allowed and NOT_A_RUN.isdisjoint(args):
        raise AssertionError("this test runs snakemake for real: mark it @pytest.mark.slow (see tests/conftest.py)")
    command = [SNAKEMAKE, "--snakefile", str(snakefile), "--directory", str(workdir), *args]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    if result.returncode == 0 and NOT_A_RUN.isdisjoint(args):
        assert_nothing_to_do(command, workdir, timeout)
    return result


# Options that make snakemake rerun jobs on purpose; the nothing-to-do check leaves them (and their rule names) out.
FORCING = {"--forcerun", "-R", "--forceall", "-F", "--force", "-f"}


def without_forcing(command):
    kept, skipping = [], False
    for arg in command:
        if arg in FORCING:
            skipping = True
        elif skipping and not arg.startswith("-"):
            continue
        else:
            skipping = False
            kept.append(arg)
    return kept


def assert_nothing_to_do(command, workdir, timeout):
    again = subprocess.run(
        [*without_forcing(command), "--dry-run"], cwd=workdir, capture_output=True, text=True, timeout=timeout
    )
    output = again.stdout + again.stderr
    assert again.returncode == 0 and "Nothing to be done" in output, (
        f"after a successful run, `snakemake --dry-run` still has work (stale results):\n{output[-6000:]}"
    )


# What makes Python or make behave otherwise than in a user's shell: a PYTHONPATH that finds the package,
# an activated venv, and the MAKEFLAGS/MAKELEVEL a parent `make test` passes down.
NOT_IN_A_PLAIN_ENVIRONMENT = ("PYTHON", "VIRTUAL_ENV", "MAKE", "MFLAGS")


def make_target(target, *variables, timeout=600):
    """Run ``make target VAR=value ...`` as a user runs it: from the repository root, in a plain environment.

    pytest's ``pythonpath`` (scripts/, tests/) never reaches the child, so an entry point that finds the
    package only under pytest fails here. Skips where make is missing, or where make would first install
    the venv (one not made by make, or requirements newer than it): a test must not install 6 GB.
    Returns the completed process; fails with its output where it exits non-zero.
    """
    if shutil.which("make") is None:
        pytest.skip("needs make (apt-get install make)")
    plan = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60)
    if "pip install" in plan.stdout:
        pytest.skip(f"`make {target}` would install .venv first (not made by make, or requirements newer)")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(NOT_IN_A_PLAIN_ENVIRONMENT)}
    command = ["make", target, *variables]
    result = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return result


def planned_jobs(workdir, *args):
    """The jobs a dry run would execute, as {(rule, 'k=v,...')}, without the 'all' target."""
    output = snakemake(workdir, "--dry-run", *args).stdout
    jobs, rule = set(), None
    for line in output.splitlines():
        match = re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line.strip())
        if match:
            if rule and rule != "all":
                jobs.add((rule, ""))
            rule = match.group(1)
            continue
        match = re.match(r"^wildcards: (.*)$", line.strip())
        if match and rule:
            if rule != "all":
                wildcards = ",".join(sorted(part.strip() for part in match.group(1).split(",")))
                jobs.add((rule, wildcards))
            rule = None
        elif line.startswith("Job stats") and rule:
            if rule != "all":
                jobs.add((rule, ""))
            rule = None
    return jobs


def write_config(path, config):
    Path(path).write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def with_kinds(domains, real=("Original",)):
    """The domains, each saying what it is: ``real`` ones (and a demo without shift) are real, the others
    synthetic; a domain that says its kind, and a generated one, is left as it is."""
    said = {}
    # A deep copy: a test that edits its config's nested settings must not change the shared domain tables.
    for name, settings in copy.deepcopy(domains).items():
        if "generated" not in settings and "kind" not in settings:
            is_real = name in real or settings.get("demo", {}).get("shift") == "none"
            settings["kind"] = "real" if is_real else "synthetic"
        said[name] = settings
    return said


def tiny_config(domains, seeds=(1,), epochs=1):
    """A small study of ``domains`` (kinds added by :func:`with_kinds`), Mixed of all of them."""
    return {
        "domains": with_kinds(domains),
        "mixed": {"name": "Mixed", "members": list(domains)},
        "training": {"epochs": epochs},
        "seeds": list(seeds),
        "device": "cpu",
    }
