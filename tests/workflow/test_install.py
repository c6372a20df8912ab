"""`make` checks the Python it installs with before installing anything, and says what to install.

A tiny fake "python3" stands in for an old or incomplete Python: no real Python 3.10 is needed.
"""

import shutil
import subprocess
import sys

import pytest
from workflow_helpers import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make (apt-get install make)")


def fake_python(folder, version, has_venv=True):
    """A "python3" that reports ``version`` and, without ``has_venv``, lacks venv and ensurepip."""
    script = folder / "python3"
    venv_answer = "exit 0" if has_venv else "exit 1"
    script.write_text(f'#!/bin/sh\ncase "$*" in\n  *ensurepip*) {venv_answer} ;;\n  *) echo {version} ;;\nesac\n')
    script.chmod(0o755)
    return script


def make(tmp_path, target, python):
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["make", "-C", str(REPO), target, f"PYTHON={python}", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, venv


@pytest.mark.parametrize("target", ["demo", "test"])
def test_python_3_10_stops_at_once_naming_the_version_needed(tmp_path, target):
    result, venv = make(tmp_path, target, fake_python(tmp_path, "3.10"))
    assert result.returncode != 0
    assert "synthcxr needs Python >= 3.11, but" in result.stderr and "is Python 3.10." in result.stderr
    assert "apt install python3.11 python3.11-venv" in result.stderr
    assert not venv.exists()  # nothing was installed


def test_python_without_venv_says_which_package_to_install(tmp_path):
    result, venv = make(tmp_path, "demo", fake_python(tmp_path, "3.12", has_venv=False))
    assert result.returncode != 0
    assert "cannot create a virtual environment" in result.stderr
    assert "apt install python3.12-venv" in result.stderr
    assert not venv.exists()


def test_missing_python_is_named(tmp_path):
    result, venv = make(tmp_path, "demo", tmp_path / "no-such-python")
    assert result.returncode != 0 and "was not found. synthcxr needs Python >= 3.11" in result.stderr
    assert not venv.exists()


def test_this_python_passes_the_check(tmp_path):
    result, _ = make(tmp_path, "check-python", sys.executable)
    assert result.returncode == 0, result.stderr


def test_make_installs_with_pip_progress_shown_and_states_the_size():
    recipe = (REPO / "Makefile").read_text()
    assert "pip install" in recipe and "--quiet" not in recipe
    assert "about 6 GB" in recipe
