"""A finished job ends its process without Python's shutdown (synthcxr.shutdown; issue 27, a lighter job)."""

import subprocess
import sys

from workflow_helpers import REPO


def test_end_job_exits_0_with_what_was_printed_and_runs_no_exit_handler():
    child = (
        "import atexit, sys; atexit.register(lambda: print('exit handler ran')); "
        "from synthcxr.shutdown import end_job; print('written', end=''); print('to stderr', file=sys.stderr, end=''); "
        "end_job(); print('not reached')"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, cwd=REPO / "scripts")
    assert (done.returncode, done.stdout, done.stderr) == (0, "written", "to stderr")


def test_the_evaluation_script_ends_its_process_last_and_outside_its_log():
    lines = (REPO / "scripts" / "evaluate_model.py").read_text().rstrip().splitlines()
    assert lines[-1].startswith("end_job()")  # at the top level: a failed job never reaches it
