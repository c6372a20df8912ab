"""Session-wide test machinery: the test tiers (slow, slurm), the SLURM test cluster and the shared tiny study.

The tests are in two folders: tests/unit (the package's functions, milliseconds to seconds) and tests/workflow (the
real snakemake, make, SLURM and the report); their shared helpers are in tests/support. scripts/ and tests/support
are on sys.path through pyproject.toml's [tool.pytest.ini_options] pythonpath.
`make test` and `make test-fast` run the tests in pytest-xdist workers (one per core, a test module per worker at a
time); what the session shares (the tiny study, the SLURM cluster) is made once, by whichever worker needs it first,
in a folder all workers of the session see.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import workflow_helpers
from filelock import FileLock
from workflow_helpers import (
    GENERATED_STUDY_DOMAINS,
    REPO,
    TINY_STUDY_DOMAINS,
    snakemake,
    tiny_config,
    write_config,
)

CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
OFFLINE_SCONTROL = REPO / "tests" / "slurm" / "offline"  # a scontrol that answers at once: no SLURM here
SKIP_EXIT = 77  # cluster.sh: SLURM cannot be started here (not root, no apt)
cluster_state = pytest.StashKey[dict]()
owns_shared_folder = pytest.StashKey[bool]()
# The folder shared by the session's processes (the pytest-xdist controller and its workers, which inherit it).
SHARED_FOLDER = "SYNTHCXR_TEST_SHARED"
# Fixtures that run a real study with snakemake: a test that uses one, directly or through another fixture, is slow.
STUDY_FIXTURES = frozenset(
    {
        "tiny_study",
        "demo_run",
        "report_run",
        "finished_run",
        "generated_study",
        "slurm_and_local_runs",
        "kermany_run",
        "report_page",
    }
)


def pytest_itemcollected(item):
    """Mark slow every test that uses a study fixture or the SLURM cluster (`make test-fast` leaves them out).

    Called as each test is collected, so before `-m` selects a tier.
    """
    if STUDY_FIXTURES.intersection(item.fixturenames) or item.get_closest_marker("slurm"):
        item.add_marker(pytest.mark.slow)


# tryfirst: before the test's fixtures are set up, since a module-scoped study fixture runs snakemake then.
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test not marked slow that runs snakemake for real fails at once, naming the missing mark."""
    workflow_helpers.real_runs_allowed = item.get_closest_marker("slow") is not None


def pytest_configure(config):
    """The first pytest process of a session (the xdist controller, or the only process) makes the shared folder."""
    config.stash[owns_shared_folder] = SHARED_FOLDER not in os.environ
    if config.stash[owns_shared_folder]:
        os.environ[SHARED_FOLDER] = tempfile.mkdtemp(prefix="synthcxr-tests-")


def shared_folder():
    return Path(os.environ[SHARED_FOLDER])


def longest_modules_first(items):
    """The items, whole modules at a time: modules with SLURM tests first, then those with other slow tests.

    With `--dist loadscope --no-loadscope-reorder` xdist hands out modules in this order, so the longest
    start first instead of last (each module stays in one piece, so its module-scoped fixtures run once).
    """

    def weight(item):
        return 0 if item.get_closest_marker("slurm") else 1 if item.get_closest_marker("slow") else 2

    modules = {}
    for item in items:
        modules.setdefault(item.module.__name__ if item.module else item.nodeid, []).append(item)
    ordered = sorted(modules.values(), key=lambda module_items: min(map(weight, module_items)))
    return [item for module_items in ordered for item in module_items]


# trylast: after pytest's own -m/-k deselection, so `pytest -m "not slurm"` starts no cluster.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Start the real single-node SLURM cluster once, before any test, if a SLURM test was collected.

    Started before the other tests too: with slurm installed but stopped, every snakemake call waits
    ~10 s for slurmctld (the plugin asks `scontrol show config` when it is imported). Each xdist worker
    collects every test; the first to get the lock starts the cluster, the others find it running.
    """
    items[:] = longest_modules_first(items)
    slurm_items = [item for item in items if item.get_closest_marker("slurm")]
    if not slurm_items:
        # No test here needs SLURM: a stopped controller must not cost every snakemake call ~9 s.
        os.environ["PATH"] = f"{OFFLINE_SCONTROL}{os.pathsep}{os.environ['PATH']}"
        return
    with FileLock(shared_folder() / "slurm.lock"):
        result = subprocess.run(["bash", str(CLUSTER), "start"], capture_output=True, text=True, timeout=600)
        if result.returncode == 0:
            (shared_folder() / "slurm.started").touch()
    config.stash[cluster_state] = {"returncode": result.returncode, "output": result.stdout + result.stderr}
    if result.returncode == SKIP_EXIT:
        reason = f"SLURM cannot be started here: {result.stderr.strip() or result.stdout.strip()}"
        for item in slurm_items:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionfinish(session):
    """The process that made the shared folder ends last: it stops the cluster (if started) and removes the folder."""
    if not session.config.stash.get(owns_shared_folder, False):
        return
    if (shared_folder() / "slurm.started").exists():
        subprocess.run(["bash", str(CLUSTER), "stop"], capture_output=True, timeout=300)
    shutil.rmtree(shared_folder(), ignore_errors=True)
    del os.environ[SHARED_FOLDER]


@pytest.fixture(scope="session")
def slurm_cluster(request):
    state = request.config.stash.get(cluster_state, None)
    if state is None or state["returncode"] != 0:
        pytest.fail(f"the SLURM test cluster did not start:\n{state and state['output']}")
    return state


def run_once_per_session(name, config, reports=()):
    """Run snakemake on ``config`` in <shared folder>/<name>, then write ``reports``; once per session.

    Returns the workdir, whose config is config.yaml. Under xdist the first worker to ask runs it; the others wait
    for it on the lock.
    """
    workdir = shared_folder() / name
    finished = shared_folder() / f"{name}.finished"
    with FileLock(shared_folder() / f"{name}.lock"):
        if not finished.exists():
            shutil.rmtree(workdir, ignore_errors=True)  # what a failed attempt of another worker left
            workdir.mkdir()
            config_path = write_config(workdir / "config.yaml", config)
            snakemake(workdir, "--configfile", config_path, "--cores", 2)
            for report in reports:
                snakemake(workdir, "--configfile", config_path, "--report", report)
            finished.touch()
    return workdir


@pytest.fixture(scope="session")
def tiny_study():
    """A finished tiny study (workflow_helpers.TINY_STUDY_DOMAINS, 1 seed, 1 epoch), run once per session.

    Returns (workdir, config path). Read-only for its users: a test that changes files or results works on a copy
    (``shutil.copytree(workdir, copy, symlinks=True)`` keeps mtimes and Snakemake's metadata, so the copy has
    nothing to do either).
    """
    workdir = run_once_per_session("tiny_study", tiny_config(TINY_STUDY_DOMAINS))
    return workdir, workdir / "config.yaml"


@pytest.fixture(scope="session")
def generated_study():
    """A finished tiny study with generated domains (workflow_helpers.GENERATED_STUDY_DOMAINS, 1 seed, 1 epoch):
    generators, fidelity, a volume curve on GANs, and its report as report.html and report.zip; run once per
    session. Returns its results folder. Read-only for its users (test_generated.py, test_report_browser.py).
    """
    config = tiny_config(GENERATED_STUDY_DOMAINS)
    config["fidelity"] = {"two_sample_epochs": 1, "n_boot": 50, "kid_subsets": 10, "msssim_pairs": 20}
    config["volume"] = {"domains": ["GANs"], "percents": [50, 100]}
    reports = ("results/report.html", "results/report.zip")
    return run_once_per_session("generated_study", config, reports) / "results"
