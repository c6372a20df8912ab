"""The test tiers of tests/conftest.py, in a pytest session of their own (pytester)."""

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

pytest_plugins = ["pytester"]

STUDY_USERS = """
import pytest
from workflow_helpers import snakemake


@pytest.fixture
def finished_run(tmp_path):  # the name of a study fixture; this one runs nothing
    return tmp_path


def test_reads_a_study(finished_run):
    pass


def test_runs_snakemake_for_real_unmarked(tmp_path):
    snakemake(tmp_path, "--cores", 1)


def test_unit():
    pass
"""


@pytest.fixture
def session_with_our_conftest(pytester):
    pytester.makeini(f"[pytest]\npythonpath = {TESTS / 'support'}\nmarkers =\n    slow: slow\n    slurm: slurm\n")
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    pytester.makepyfile(test_tiers=STUDY_USERS)
    return pytester


def selected(pytester, *args):
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", *args)
    return {line.split("::")[1] for line in result.outlines if line.startswith("test_tiers.py::")}


def test_a_test_using_a_study_fixture_is_slow_and_left_out_of_the_fast_tier(session_with_our_conftest):
    fast = selected(session_with_our_conftest, "-m", "not slow")
    assert fast == {"test_runs_snakemake_for_real_unmarked", "test_unit"}  # not test_reads_a_study


def test_an_unmarked_test_that_runs_snakemake_for_real_fails_naming_the_mark(session_with_our_conftest):
    result = session_with_our_conftest.runpytest("-k", "for_real", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, deselected=2)
    result.stdout.fnmatch_lines(["*this test runs snakemake for real: mark it @pytest.mark.slow*"])
