"""The README's make targets run as a user runs them: `make <target>` from the repository root, in a plain
environment (no PYTHONPATH; pytest's `pythonpath` does not reach the child). `make bench` and `make bench-scale`
run at tiny sizes in tests/workflow/test_benchmark_smoke.py through the same helper; `make test` and `make demo` are
left out (CI runs them, and `make test` would run this file again).
"""

from workflow_helpers import make_target


def test_make_dry_run_plans_the_demo_study():
    result = make_target("dry-run", timeout=300)
    output = result.stdout + result.stderr
    assert "This was a dry-run" in output or "Nothing to be done" in output


def test_make_lint_is_clean():
    """ruff, snakemake --lint and snakefmt --check over the checkout, as `make lint` runs them."""
    result = make_target("lint", timeout=300)
    assert "All checks passed!" in result.stdout
