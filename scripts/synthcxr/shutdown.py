"""The end of a job's process (standard library only)."""

import os
import sys


def end_job():
    """End a finished job's process at once, without Python's shutdown.

    With torch and scikit-learn loaded, the shutdown tears down over a thousand modules: 1-4 s per job on the
    2-core development machine under load (docs/performance.md), more than an evaluation's own work, and there
    is nothing left to do: the job's outputs and its log are written and closed. Exit handlers do not run.
    Call it as the script's last line, after ``jobs.logged()``: a job that fails never gets here, and exits
    the usual way with its error.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
