"""Plumbing shared by the entry points that Snakemake's ``script:`` directive runs."""

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import sys
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
    with open(log_path, "w", buffering=1) as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            yield
        except Exception as error:
            traceback.print_exc(file=log)
            print(f"\nERROR: {error}\n(log: {log_path})", file=console)
            raise


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
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def run_environment():
    """Facts that vary between runs: kept out of the byte-reproducible result files."""
    return {"host": platform.node(), "pid": os.getpid(), "slurm_job_id": os.environ.get("SLURM_JOB_ID")}


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


def sha256_of(data):
    """Hash of JSON-serialisable settings, independent of key order."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def run_fingerprint(settings, paths):
    """What a training checkpoint must match to be resumed: the settings (with the digests of the code
    modules, the rule's ``code`` param) and the bytes of every data file the run reads (prepared
    images, manifests), so no checkpoint survives a change of data or code."""
    return sha256_of([settings, {os.fspath(path): file_sha256(path) for path in paths}])
