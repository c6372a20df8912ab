"""Plumbing shared by the entry points that Snakemake's ``script:`` directive runs."""

import contextlib
import datetime
import errno
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "torchvision", "numpy", "pandas", "scikit-learn", "scipy", "matplotlib", "pillow")


@contextlib.contextmanager
def logged(log_path):
    """Send prints and tracebacks to the rule's log; repeat a failure's message on the console.

    The SLURM plugin deletes the logs of successful jobs, so the rule's own log is the record.
    """
    console = sys.__stderr__
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w", buffering=1)
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    except Exception as error:
        try:
            traceback.print_exception(error, file=log)
            log.flush()
        except OSError as log_error:  # a full disk: the console gets the traceback instead
            traceback.print_exception(error, file=console)
            print(f"(the log {log_path} could not be written: {log_error.strerror})", file=console)
        print(f"\nERROR: {str(error) or type(error).__name__}\n(log: {log_path})", file=console)
        raise
    finally:
        with contextlib.suppress(OSError):
            log.close()


# What a full disk or an exhausted quota raises.
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class DiskFullError(OSError):
    """A result could not be written because the disk (or the user's quota) is full."""


@contextlib.contextmanager
def atomic_open(path, mode="w", **kwargs):
    """Open a hidden temporary file beside ``path`` for writing; once the block ends without an
    error, it replaces ``path`` in one step (os.replace).

    So a killed or failed write never leaves a partial ``path`` that a rerun could take as complete:
    the temporary file is removed on any error. A full disk (ENOSPC, EDQUOT) becomes one
    DiskFullError naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, mode, **kwargs) as handle:
            yield handle
        os.replace(partial, path)
    except BaseException as error:
        full = disk_full_errno(error, partial.parent)
        with contextlib.suppress(OSError):
            partial.unlink()
        if full:
            raise DiskFullError(
                full,
                f"cannot write {path}: the disk is full ({errno.errorcode[full]}); "
                "free some space (or move results/ to a larger disk) and run again",
            ) from error
        raise


def disk_full_errno(error, folder):
    """ENOSPC or EDQUOT when ``error`` comes from a full disk, else None.

    C-level writers (NumPy's tofile) report a short write as an OSError without errno: then the
    free space of ``folder``'s filesystem decides (checked before the partial file is removed).
    """
    if not isinstance(error, OSError):
        return None
    if error.errno in DISK_FULL:
        return error.errno
    if error.errno is None:
        with contextlib.suppress(OSError):
            if os.statvfs(folder).f_bavail == 0:
                return errno.ENOSPC
    return None


def write_bytes(data, path):
    """Write ``data`` (bytes) to ``path`` atomically (see atomic_open)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def write_text(text, path):
    """Write ``text`` to ``path`` atomically (see atomic_open)."""
    with atomic_open(path) as handle:
        handle.write(text)


def write_csv(table, path):
    """Write a pandas table to ``path`` as CSV without its index, atomically (see atomic_open)."""
    with atomic_open(path, newline="") as handle:
        table.to_csv(handle, index=False)


def package_versions(names=PACKAGES):
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    versions["python"] = platform.python_version()
    return versions


def code_version(repo_dir):
    """Git commit and dirty flag of ``repo_dir``, or None where git or the repository is absent."""
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", "-C", str(repo_dir), *args], capture_output=True, text=True, check=True
        ).stdout.strip()
        return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}
    except (OSError, subprocess.CalledProcessError):
        return None


def repository_root():
    return Path(__file__).resolve().parents[2]


def write_json(data, path):
    with atomic_open(path) as handle:
        handle.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def run_environment():
    """Facts that vary between runs: kept out of the byte-reproducible result files."""
    return {"host": platform.node(), "pid": os.getpid(), "slurm_job_id": os.environ.get("SLURM_JOB_ID")}


def seconds_since_process_start():
    """Seconds since this process started, from Linux's /proc; None where that cannot be read."""
    try:
        with open("/proc/self/stat") as stat:
            start_ticks = int(stat.read().rpartition(")")[2].split()[19])  # field 22, starttime
        with open("/proc/uptime") as uptime:
            return float(uptime.read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class JobClock:
    """When a job started and how long each of its phases took: its run_info.json (tools/benchmark/jobtime.py).

    Each phase lasts from the end of the one before, the first from ``script_started`` (a
    ``time.perf_counter()`` the entry script takes before its imports, so that they count).
    ``before_script``: the seconds from the process's start to ``script_started`` (Python's start and
    Snakemake's script preamble; to 10 ms), or None off Linux.
    """

    def __init__(self, script_started):
        self.wall_started = time.time()
        self.started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        self.phase_seconds, self.last_end = {}, script_started
        age = seconds_since_process_start()
        self.before_script = None if age is None else round(max(0.0, age - (time.perf_counter() - script_started)), 2)

    def phase_done(self, name):
        """End the phase ``name`` now."""
        now = time.perf_counter()
        self.phase_seconds[name] = round(now - self.last_end, 3)
        self.last_end = now

    def timing_line(self):
        """The log line of the job's fixed start and phases (tools/benchmark/jobtime.py reads it)."""
        return "job timing (seconds): " + json.dumps({"before_script": self.before_script, **self.phase_seconds})

    def wall_seconds(self):
        return time.time() - self.wall_started

    def run_info(self, device):
        """The job's times, host and code version, with ``device`` (a description of it): facts that vary
        between runs, kept apart from the reproducible result files."""
        return {
            "started": self.started_at,
            "wall_seconds": round(self.wall_seconds(), 1),
            "phase_seconds": self.phase_seconds,
            "seconds_before_script": self.before_script,
            "environment": run_environment(),
            "device": device,
            "code_version": code_version(repository_root()),
        }


def config_sha256(settings, classes, split_seed):
    """The configuration hash a model and its metrics both record: training settings, classes, split seed."""
    return sha256_of([settings, classes, split_seed])


def file_sha256(path):
    """Hash of a file's bytes, read in blocks (prepared caches can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# The key of run_info.json under which train_model records the sha256 of the model file it wrote.
MODEL_SHA256 = "model_sha256"


def damaged_file(path, record, key):
    """Why the file ``path`` is no longer the one whose sha256 the JSON file ``record`` holds under ``key``,
    or None: also None when either file is missing or the record holds no such checksum (nothing known)."""
    try:
        recorded = json.loads(Path(record).read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    if not recorded or not os.path.exists(path):
        return None
    found = file_sha256(path)
    if found == recorded:
        return None
    return f"{os.path.getsize(path)} bytes of sha256 {found[:12]}..., not the {recorded[:12]}... recorded in {record}"


def sha256_of(data):
    """Hash of JSON-serialisable settings, independent of key order."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def run_fingerprint(settings, paths):
    """What a training checkpoint must match to be resumed: the settings (with the digests of the code
    modules, the rule's ``code`` param) and the bytes of every data file the run reads (prepared
    images, manifests), so no checkpoint survives a change of data or code."""
    return sha256_of([settings, {os.fspath(path): file_sha256(path) for path in paths}])
