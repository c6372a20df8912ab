"""Running the real snakemake command on tiny data, and reading its plans."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def snakemake(workdir, *args, check=True, timeout=900):
    """Run snakemake on the repository's Snakefile in ``workdir``; return the completed process."""
    command = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *map(str, args)]
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


def with_kinds(domains, real=("Original",)):
    """The domains, each saying what it is: ``real`` ones (and a demo without shift) are real, the others
    synthetic; a domain that says its kind, and a generated one, is left as it is."""
    said = {}
    for name, settings in domains.items():
        settings = dict(settings)
        if "generated" not in settings and "kind" not in settings:
            is_real = name in real or settings.get("demo", {}).get("shift") == "none"
            settings["kind"] = "real" if is_real else "synthetic"
        said[name] = settings
    return said


def tiny_config(domains, seeds=(1,), epochs=1):
    """A small study of ``domains`` (kinds added by :func:`with_kinds`), Mixed of all of them."""
    return {
        "domains": with_kinds(domains),
        "mixed": {"name": "Mixed", "members": list(domains)},
        "training": {"epochs": epochs},
        "seeds": list(seeds),
        "device": "cpu",
    }
