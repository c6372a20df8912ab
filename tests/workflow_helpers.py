"""Running the real snakemake command on tiny data, and reading its plans."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
# Options with which snakemake only plans or reads what exists: a second or two, allowed in the fast tier.
PLANNING_OPTIONS = {"--dry-run", "-n", "--lint", "--report", "--list-rules", "--summary"}
# The shared tiny study (tests/conftest.py, fixture tiny_study): three demo domains + Mixed, 1 seed, 1 epoch.
# 25 images per class give test splits of 5 patient groups per class, the fewest for which the workflow computes
# intervals and tests, so that test_report.py can extend a copy of it with a second seed.
TINY_STUDY_DOMAINS = {
    "Original": {"demo": {"per_class": 25, "shift": "none"}},
    "GANs": {"demo": {"per_class": 25, "shift": "gan"}},
    "VAEs": {"demo": {"per_class": 25, "shift": "vae"}},
}
# Set by tests/conftest.py before each test: only tests marked slow may run snakemake for real.
real_runs_allowed = True


def snakemake(workdir, *args, check=True, timeout=900):
    """Run snakemake on the repository's Snakefile in ``workdir``; return the completed process."""
    args = [str(arg) for arg in args]
    if not real_runs_allowed and not PLANNING_OPTIONS.intersection(args):
        raise AssertionError("this test runs snakemake for real: mark it @pytest.mark.slow (see tests/conftest.py)")
    command = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    return result


def planned_jobs(workdir, *args):
    """The jobs a dry run would execute, as {(rule, 'k=v,...')}, without the 'all' target."""
    output = snakemake(workdir, "--dry-run", *args).stdout
    jobs, rule = set(), None
    for line in output.splitlines():
        match = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if match:
            if rule and rule != "all":
                jobs.add((rule, ""))
            rule = match.group(1)
            continue
        match = re.match(r"^wildcards: (.*)$", line.strip())
        if match and rule:
            if rule != "all":
                wildcards = ",".join(sorted(part.strip() for part in match.group(1).split(",")))
                jobs.add((rule, wildcards))
            rule = None
        elif line.startswith("Job stats") and rule:
            if rule != "all":
                jobs.add((rule, ""))
            rule = None
    return jobs


def write_config(path, config):
    Path(path).write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def tiny_config(domains, seeds=(1,), epochs=1):
    return {
        "domains": domains,
        "mixed": {"name": "Mixed", "members": list(domains)},
        "training": {"epochs": epochs},
        "seeds": list(seeds),
        "device": "cpu",
    }
