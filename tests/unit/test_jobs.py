"""synthcxr.jobs: writing results and logs. A full disk (issue #14, item 7): every result write names the
file and says the disk is full, and leaves no partial file that a rerun could take as complete. On a real
full filesystem: a tiny tmpfs."""

import subprocess

import numpy as np
import pytest
import torch

from synthcxr.jobs import DiskFullError, atomic_open, damaged_file, file_sha256, logged, write_json
from synthcxr.train import save_atomically


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB filesystem (tmpfs), unmounted afterwards; skipped where mounting is not allowed."""
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


BIG = {"values": list(range(100_000))}  # about 700 KB of JSON


def save_array(path):
    with atomic_open(path, "wb") as handle:
        np.save(handle, np.zeros(100_000))


@pytest.mark.parametrize(
    "write",
    [
        lambda path: write_json(BIG, path),
        lambda path: save_atomically({"weights": torch.zeros(100_000)}, path),
        save_array,
    ],
    ids=["json", "torch", "numpy"],
)
def test_a_full_disk_names_the_file_and_leaves_nothing_behind(full_disk, write):
    target = full_disk / "results" / "out.bin"
    with pytest.raises(DiskFullError) as raised:
        write(target)
    assert str(raised.value) == (
        f"[Errno 28] cannot write {target}: the disk is full (ENOSPC); "
        "free some space (or move results/ to a larger disk) and run again"
    )
    assert list(target.parent.iterdir()) == []  # no partial file, no .tmp


def test_a_write_that_fails_keeps_the_previous_complete_file(full_disk):
    target = full_disk / "out.json"
    write_json({"complete": True}, target)
    with pytest.raises(DiskFullError):
        write_json(BIG, target)
    assert target.read_text() == '{\n  "complete": true\n}\n'
    assert sorted(p.name for p in full_disk.iterdir()) == ["out.json"]


def test_the_error_handler_survives_a_log_on_a_full_disk(full_disk, capfd):
    # Was: three chained tracebacks from the handler itself (writing the traceback to the full log).
    log = full_disk / "job.log"
    log.touch()
    with pytest.raises(OSError), open(full_disk / "filler", "wb") as filler:
        filler.write(b"\0" * 128 * 1024)  # fills the disk to the last byte
    with pytest.raises(ValueError, match="domain 'GANs': the real problem") as raised:
        with logged(log):
            raise ValueError("domain 'GANs': the real problem")
    assert raised.value.__context__ is None  # the job's own error, not one from the handler
    console = capfd.readouterr().err
    assert f"(the log {log} could not be written: No space left on device)" in console
    assert "ERROR: domain 'GANs': the real problem" in console
    assert "Traceback" in console and "ValueError: domain 'GANs': the real problem" in console  # not in the log


def test_an_error_without_a_message_is_named_by_its_type(tmp_path, capfd):
    with pytest.raises(EOFError):
        with logged(tmp_path / "job.log"):
            raise EOFError()
    assert "ERROR: EOFError" in capfd.readouterr().err


def test_a_file_is_damaged_when_its_bytes_differ_from_the_checksum_recorded_for_it(tmp_path):
    model, record = tmp_path / "model.pt", tmp_path / "run_info.json"
    model.write_bytes(b"weights" * 100)
    assert damaged_file(model, record, "model_sha256") is None  # no record: nothing known
    write_json({"device": "cpu"}, record)
    assert damaged_file(model, record, "model_sha256") is None  # a record without the checksum (older runs)
    write_json({"model_sha256": file_sha256(model)}, record)
    assert damaged_file(model, record, "model_sha256") is None
    recorded = file_sha256(model)
    with open(model, "r+b") as handle:
        handle.truncate(100)
    why = damaged_file(model, record, "model_sha256")
    assert why == f"100 bytes of sha256 {file_sha256(model)[:12]}..., not the {recorded[:12]}... recorded in {record}"
    model.unlink()
    assert damaged_file(model, record, "model_sha256") is None  # missing: a missing target, not a damaged one
