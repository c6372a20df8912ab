"""What a train_model job spends outside training: the real rule, split into its phases.

For each domain size (default 200, the demo's, and 5,000, the study's) a domain of that many
generated JPEGs is prepared and one train_model job runs through the real `snakemake` (1 seed,
`--epochs` epochs, the rule's threads). The job's wall time comes from the rule's benchmark file; the
phases from the `phase_seconds` that scripts/train_model.py writes into run_info.json: imports (numpy,
torch, synthcxr), torch setup, data load, input hashes, the training loop, writing outputs.
The rest of the job's time is process start, Snakemake's script preamble and exit. Goal: everything
outside the loop under 10% of the job for 5,000 images on the CPU.

Then one evaluate_model job (the first size's model, scored on every test split), and the fixed start of
each kind of job: Python's start (a bare `python -c pass`, measured apart), Snakemake's script preamble
(the rest of the time from the process's start to the script's first line, which the script reads from
/proc), the script's imports and torch's setup. Goal: an evaluation job's fixed start under 3 s on this
machine unloaded. A measurement: it always exits 0. Run alone with `python -m tools.benchmark.jobtime`;
`make bench-scale` runs it after the scale figures, `make bench` with one small size.
"""

import argparse
import ast
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from tools.benchmark import SCRIPTS
from tools.benchmark.common import (
    Table,
    benchmark_main,
    best_of,
    fmt,
    goal,
    job_seconds,
    linked_subset,
    load_average,
    make_jpeg_domain,
    run_in_workdir,
    run_snakemake,
    write_config,
)

GOAL_OUTSIDE = 0.10  # share of the job outside the training loop, at 5,000 images on the CPU
GOAL_SIZE = 5000
PHASES = [
    ("start", "process start, Snakemake preamble, exit"),
    ("imports", "imports (numpy, torch, synthcxr)"),
    # torch.use_deterministic_algorithms imports torch._inductor (seconds); torch.optim would anyway.
    ("torch_setup", "torch setup (threads, deterministic mode, device)"),
    ("data_load", "data load (cache, manifest, validation slice)"),
    ("input_hashes", "input hashes and run fingerprint"),
    ("training_loop", "training loop (train_model)"),
    ("outputs", "writing outputs (validation predictions, model, history)"),
]


GOAL_EVALUATION_START = 3.0  # seconds: an evaluation job's fixed start, on this machine unloaded
# The fixed start of a job: what it pays before its own work begins.
START_PHASES = [
    ("python_start", "Python's start (a bare `python -c pass`)"),
    ("preamble", "Snakemake's script preamble (the rest before the script)"),
    ("imports", "the script's imports (numpy, torch, synthcxr, ...)"),
    ("torch_setup", "torch setup (threads, deterministic mode, device)"),
]
TIMING_LINE = "job timing (seconds): "  # synthcxr.jobs.JobClock.timing_line


def domain_name(size):
    return f"Images{size}"


def split_job(job_s, phases):
    """Seconds of each of PHASES: the script's own phases, and what the job spent before and after them."""
    split = {name: phases[name] for name, _ in PHASES if name in phases}
    split["start"] = max(0.0, job_s - sum(split.values()))
    return split


def fixed_start(python_start_s, before_script_s, phases):
    """Seconds of each of START_PHASES: what a job spends before its own work begins.

    ``before_script_s``: from the process's start to the script's first line (None where unknown: then
    the preamble is None too). ``phases``: the script's own phase seconds (imports, torch_setup, ...).
    """
    preamble = None if before_script_s is None else max(0.0, before_script_s - python_start_s)
    return {
        "python_start": python_start_s,
        "preamble": preamble,
        "imports": phases["imports"],
        "torch_setup": phases["torch_setup"],
    }


# Who pays the imports of a job: each module's own time goes to the package the job's code imported it for
# (scipy and pandas, which scikit-learn imports, count as sklearn's); the package's own modules are synthcxr.
IMPORT_GROUPS = [
    ("torch", "torch"),
    ("sklearn", "scikit-learn (with the scipy and pandas it imports)"),
    ("numpy", "numpy"),
    ("synthcxr", "synthcxr's own modules"),
    ("other", "the rest (standard library, ...)"),
]
IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \| ( *)(\S+)")


def entry_imports(script):
    """The import statements at the top level of an entry script, as Python source."""
    tree = ast.parse(Path(script).read_text())
    return "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))


def import_split(importtime_text):
    """Seconds of each of IMPORT_GROUPS in the output of ``python -X importtime``.

    Each module's own time is counted for the first package outside synthcxr on its chain of importers
    (sklearn for scipy.stats that sklearn imports, torch for what torch imports); a module that only synthcxr
    imports counts as itself. Modules of a package not in IMPORT_GROUPS count as "other".
    """
    roots, children = [], {}  # importtime prints a module after those it imported, one more space deep each
    for line in importtime_text.splitlines():
        match = IMPORTTIME_LINE.match(line)
        if not match:
            continue
        depth = len(match.group(2)) // 2
        node = (match.group(3), int(match.group(1)) / 1e6, children.pop(depth + 1, []))
        (children.setdefault(depth, []) if depth else roots).append(node)
    split = dict.fromkeys([name for name, _ in IMPORT_GROUPS], 0.0)

    def count(node, owner):
        name, seconds, imported = node
        package = name.split(".")[0]
        owner = owner or (None if package == "synthcxr" else package)
        group = owner or "synthcxr"
        split[group if group in split else "other"] += seconds
        for child in imported:
            count(child, owner)

    for root in roots:
        count(root, None)
    return split


def import_seconds(rule, python=sys.executable):
    """IMPORT_GROUPS seconds of the imports of the rule's entry script (scripts/<rule>.py), run alone in a fresh
    process under ``python -X importtime`` (which adds a little to each import)."""
    script = SCRIPTS / f"{rule}.py"
    done = subprocess.run(
        [python, "-X", "importtime", "-c", entry_imports(script)], cwd=SCRIPTS, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"the imports of {script.name} failed: {done.stderr.strip().splitlines()[-1:]}")
    return import_split(done.stderr)


def python_start_seconds(repeats=3):
    """Wall seconds of a bare `python -c pass` with this Python (the jobs' own), best of ``repeats``."""

    def once():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        return time.perf_counter() - started

    return best_of(repeats, once)


def timing_from_log(log):
    """The job timing an entry script printed into its log (synthcxr.jobs.JobClock.timing_line)."""
    lines = [line for line in Path(log).read_text().splitlines() if line.startswith(TIMING_LINE)]
    if not lines:
        raise RuntimeError(f"{log} has no line starting {TIMING_LINE!r}")
    return json.loads(lines[-1][len(TIMING_LINE) :])


def train_one(run_dir, config, size):
    """Run one train_model job; return (job seconds, phase seconds, seconds before the script, device)."""
    target = f"results/models/study_cnn/{domain_name(size)}/seed1/model.pt"  # the default classifier
    run_snakemake(run_dir, config, "--cores", 1, target)
    run_info = json.loads((Path(run_dir) / target).with_name("run_info.json").read_text())
    job_s = job_seconds(run_dir, f"train_model/study_cnn/{domain_name(size)}/seed1.tsv")
    return job_s, run_info["phase_seconds"], run_info.get("seconds_before_script"), run_info["device"]["device"]


def evaluate_one(run_dir, config, size):
    """Run the evaluate_model job of the model of ``size`` (one job scores it on every test split), alone (its
    leakage checks run first); return the timing it logged."""
    name = domain_name(size)
    run_snakemake(run_dir, config, "--cores", 1, f"results/metrics/study_cnn/{name}/{name}/seed1.json")
    return timing_from_log(Path(run_dir) / "results" / "logs" / "evaluate_model" / "study_cnn" / name / "seed1.log")


def measure(args, work, print_progress):
    """{size: {job_s, phases, device}} for each of ``args.sizes``."""
    work = Path(work)
    sizes = [int(s) for s in args.sizes.split(",")]
    print_progress(f"job-time split: writing {max(sizes)} JPEGs of {args.side} px (setup) ...")
    source, _ = make_jpeg_domain(
        work / "jpegs", max(sizes), args.side, args.side, seed=2, threads=args.threads, phantoms=256
    )
    # The first size plays the real reference domain; the others are synthetic (only their trainings are timed).
    domains = {
        domain_name(n): {
            "path": str(linked_subset(source, work / domain_name(n), n)),
            "kind": "synthetic" if i else "real",
        }
        for i, n in enumerate(sizes)
    }
    config = write_config(work / "jobs.yaml", domains, [1], epochs=args.epochs, mixed=False, device=args.device)
    run_dir = work / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    prepared = [f"results/prepared/{d}/images.npy" for d in domains]
    run_snakemake(run_dir, config, "--cores", 2, *prepared)
    out = {"load_start": load_average(), "python_start_s": python_start_seconds(), "trainings": {}}
    for n in sizes:
        print_progress(f"job-time split: train_model on {n} images, {args.epochs} epoch(s) ...")
        job_s, phases, before_script, device = train_one(run_dir, config, n)
        out["trainings"][n] = {
            "job_s": job_s,
            "phases": split_job(job_s, phases),
            "device": device,
            "fixed_start": fixed_start(out["python_start_s"], before_script, phases),
        }
    print_progress(f"job-time split: evaluate_model of the {sizes[0]}-image model on every test split ...")
    timing = evaluate_one(run_dir, config, sizes[0])
    out["evaluation"] = {
        "size": sizes[0],
        "phases": timing,
        "fixed_start": fixed_start(out["python_start_s"], timing["before_script"], timing),
    }
    out["imports"] = {rule: import_seconds(rule) for rule in ("evaluate_model", "train_model")}
    out["load_end"] = load_average()
    return out


def table_job_split(table, args, measured):
    for size, entry in measured["trainings"].items():
        job_s, split = entry["job_s"], entry["phases"]
        table.section(f"Job-time split: train_model, {size:,} images, {args.epochs} epoch(s), device {entry['device']}")
        for name, label in PHASES:
            table.add(label, f"{fmt(split[name], 2)} s", f"{fmt(100 * split[name] / job_s)}% of the job")
        table.add("the job (benchmark file)", f"{fmt(job_s, 2)} s")
        outside = 1 - split["training_loop"] / job_s
        if int(size) == GOAL_SIZE and entry["device"] == "cpu":
            goal(
                table,
                "outside the loop",
                f"{fmt(100 * outside)}%",
                outside < GOAL_OUTSIDE,
                "< 10% at 5,000 images on the CPU",
            )
        else:
            table.add("outside the loop", f"{fmt(100 * outside)}%", "(the goal is set for 5,000 images on the CPU)")
    if not any(entry["device"] != "cpu" for entry in measured["trainings"].values()):
        table.add("GPU", "none", "no GPU was used (config device and machine): CPU figures only")


def table_fixed_start(table, measured):
    """The fixed start of an evaluation job and of the smallest training job, with the evaluation's goal."""
    evaluation = measured["evaluation"]
    size = min(measured["trainings"], key=int)
    jobs = [
        (f"evaluate_model ({evaluation['size']:,} images)", evaluation["fixed_start"]),
        (f"train_model ({int(size):,} images)", measured["trainings"][size]["fixed_start"]),
    ]
    load = f"{measured['load_start']:.2f} -> {measured['load_end']:.2f}"
    table.section(f"Fixed start of a job: before its own work begins (1-min load average {load})")
    for job, start in jobs:
        for name, label in START_PHASES:
            value = "n/a (no /proc)" if start[name] is None else f"{fmt(start[name], 2)} s"
            table.add(f"{job}: {label}", value)
        total = sum(v for v in start.values() if v is not None)
        if job.startswith("evaluate_model"):
            ok = total < GOAL_EVALUATION_START
            goal(table, f"{job}: fixed start", f"{fmt(total, 2)} s", ok, f"< {GOAL_EVALUATION_START:g} s unloaded")
        else:
            table.add(f"{job}: fixed start", f"{fmt(total, 2)} s")
    start, rest = measured["trainings"][size]["fixed_start"], measured["trainings"][size]["phases"]["start"]
    if start["preamble"] is not None:  # the benchmark file's time not in the script nor before it
        after = max(0.0, rest - start["python_start"] - start["preamble"])
        table.add(f"{jobs[1][0]}: after the script", f"{fmt(after, 2)} s", "exit, Snakemake's bookkeeping")
    work = evaluation["phases"]["evaluation"]
    table.add("evaluate_model: its work", f"{fmt(work, 2)} s", "load the test split, predict, metrics, write")
    table_import_split(table, measured.get("imports", {}))


def table_import_split(table, imports):
    """Who pays a job's imports (IMPORT_GROUPS), from python -X importtime of its entry script's imports."""
    if not imports:
        return
    table.section("Imports of a job by package (python -X importtime of the entry script's imports, a fresh process)")
    for rule, split in imports.items():
        for name, label in IMPORT_GROUPS:
            table.add(f"{rule}: {label}", f"{fmt(split[name], 2)} s")
        table.add(f"{rule}: all imports", f"{fmt(sum(split.values()), 2)} s")


def render(args, measured):
    table = Table()
    table_job_split(table, args, measured)
    table_fixed_start(table, measured)
    return table.render()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,5000", help="domain sizes, comma-separated, default 200,5000")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs (config training.epochs), default 5")
    parser.add_argument("--side", type=int, default=512, help="JPEG side in px, default 512")
    parser.add_argument("--threads", type=int, default=2, help="threads writing the JPEGs (setup), default 2")
    parser.add_argument("--device", default="cpu", help="config device: cpu, cuda or auto; default cpu")
    parser.add_argument("--workdir", help="keep the generated files here instead of a temporary folder")
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    return parser.parse_args(argv)


def run(args, print_progress=print):
    """Measure the job-time split; return (table text, measurements dict)."""
    return run_in_workdir(args, measure, render, "synthcxr-bench-jobs-", print_progress)


def main(argv=None):
    return benchmark_main(argv, parse_args, run)


if __name__ == "__main__":
    sys.exit(main())
