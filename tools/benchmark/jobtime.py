"""What a train_model job spends outside training: the real rule, split into its phases.

For each domain size (default 200, the demo's, and 5,000, the study's) a domain of that many
generated JPEGs is prepared and one train_model job runs through the real `snakemake` (1 seed,
`--epochs` epochs, the rule's threads). The job's wall time comes from the rule's benchmark file; the
phases from the `phase_seconds` that scripts/train_model.py writes into run_info.json: imports (numpy,
torch, synthcxr), torch setup, data load, input hashes, the training loop, writing outputs.
The rest of the job's time is process start, Snakemake's script preamble and exit. Goal: everything
outside the loop under 10% of the job for 5,000 images on the CPU. A measurement: it always exits 0.
Run alone with `python -m tools.benchmark.jobtime`; `make bench-scale` runs it after the scale figures.
"""

import argparse
import json
import sys
from pathlib import Path

from tools.benchmark.common import (
    Table,
    benchmark_main,
    fmt,
    goal,
    job_seconds,
    linked_subset,
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


def domain_name(size):
    return f"Images{size}"


def split_job(job_s, phases):
    """Seconds of each of PHASES: the script's own phases, and what the job spent before and after them."""
    split = {name: phases[name] for name, _ in PHASES if name in phases}
    split["start"] = max(0.0, job_s - sum(split.values()))
    return split


def train_one(run_dir, config, size):
    """Run one train_model job; return (job seconds, phase seconds, device)."""
    target = f"results/models/{domain_name(size)}/seed1/model.pt"
    run_snakemake(run_dir, config, "--cores", 1, target)
    run_info = json.loads((Path(run_dir) / target).with_name("run_info.json").read_text())
    job_s = job_seconds(run_dir, f"train_model/{domain_name(size)}/seed1.tsv")
    return job_s, run_info["phase_seconds"], run_info["device"]["device"]


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
    out = {}
    for n in sizes:
        print_progress(f"job-time split: train_model on {n} images, {args.epochs} epoch(s) ...")
        job_s, phases, device = train_one(run_dir, config, n)
        out[n] = {"job_s": job_s, "phases": split_job(job_s, phases), "device": device}
    return out


def render(args, measured):
    table = Table()
    for size, entry in measured.items():
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
    if not any(entry["device"] != "cpu" for entry in measured.values()):
        table.add("GPU", "none", "no GPU was used (config device and machine): CPU figures only")
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
