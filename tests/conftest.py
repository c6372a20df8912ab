import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests" / "slurm"))

CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
SKIP_EXIT = 77  # cluster.sh: SLURM cannot be started here (not root, no apt)
cluster_state = pytest.StashKey[dict]()


# trylast: after pytest's own -m/-k deselection, so `pytest -m "not slurm"` starts no cluster.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Start the real single-node SLURM cluster once, before any test, if a SLURM test was collected.

    Started before the other tests too: with slurm installed but stopped, every snakemake call waits
    ~10 s for slurmctld (the plugin asks `scontrol show config` when it is imported).
    """
    slurm_items = [item for item in items if item.get_closest_marker("slurm")]
    if not slurm_items:
        return
    result = subprocess.run(["bash", str(CLUSTER), "start"], capture_output=True, text=True, timeout=600)
    config.stash[cluster_state] = {"returncode": result.returncode, "output": result.stdout + result.stderr}
    if result.returncode == SKIP_EXIT:
        reason = f"SLURM cannot be started here: {result.stderr.strip() or result.stdout.strip()}"
        for item in slurm_items:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionfinish(session):
    state = session.config.stash.get(cluster_state, None)
    if state and state["returncode"] == 0:
        subprocess.run(["bash", str(CLUSTER), "stop"], capture_output=True, timeout=300)


@pytest.fixture(scope="session")
def slurm_cluster(request):
    state = request.config.stash.get(cluster_state, None)
    if state is None or state["returncode"] != 0:
        pytest.fail(f"the SLURM test cluster did not start:\n{state and state['output']}")
    return state
