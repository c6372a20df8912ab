"""A small packed study: how much of each packed GPU submission's time is spent outside the loops.

The SLURM profile packs every training of one training domain (all seeds) and their evaluations into one
submission that runs them one after another on one GPU (profiles/slurm/config.yaml, groups). This runs a
small study of that shape through the local executor: the data preparation on every core, then the
trainings and evaluations one job at a time (--cores 1, as inside a packed submission). For each training
domain it adds up its jobs' wall seconds (the rules' benchmark files) and the seconds in its loops: the
training loop (`phase_seconds.training_loop` in run_info.json) and the scoring of each test split (the
"scored N images of T in S s" lines of the evaluation logs). The rest (process start, imports, torch and
CUDA set-up, data load, writing outputs) is the fixed part that packing does not remove. Each group job
on a cluster adds its own Snakemake start and env activation on top.
A measurement: it always exits 0. tools/benchmark/gpu_check.sh runs it on a GPU (--device cuda).
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

from tools.benchmark.common import Table, benchmark_main, fmt, job_seconds, run_in_workdir, run_snakemake, write_config

SCORED = re.compile(r"scored (\d+) images of \S+ in ([\d.]+) s")
SHIFTS = ["none", "gan", "vae", "gan", "vae"]  # the demo renderer's looks: one real domain, then synthetic ones


def study_domains(n_domains, per_class):
    """``n_domains`` demo domains: Original (real) and Synthetic1, Synthetic2, ... (other looks of the phantoms)."""
    names = ["Original"] + [f"Synthetic{i}" for i in range(1, n_domains)]
    return {
        name: {"demo": {"per_class": per_class, "shift": SHIFTS[i % len(SHIFTS)]}, "kind": "synthetic" if i else "real"}
        for i, name in enumerate(names)
    }


def scored_seconds(log_path):
    """Seconds an evaluation job spent scoring test splits (its log's "scored ..." lines)."""
    return sum(float(seconds) for _, seconds in SCORED.findall(Path(log_path).read_text()))


def submission_shares(run_dir, train_domains):
    """{training domain: {jobs, job_s, loop_s, outside}} for the trainings and evaluations a packed submission
    of that domain would run: jobs, their wall seconds, the seconds in the training and scoring loops, and the
    share of the jobs' time outside the loops."""
    run_dir = Path(run_dir)
    benchmarks = run_dir / "results" / "benchmarks"
    shares = {}
    for train in train_domains:
        job_s = loop_s = 0.0
        jobs = 0
        model = f"study_cnn/{train}"  # the default config's one classifier (results/<kind>/<classifier>/<train>)
        for tsv in sorted((benchmarks / "train_model" / model).glob("seed*.tsv")):
            job_s += job_seconds(run_dir, f"train_model/{model}/{tsv.name}")
            run_info = json.loads((run_dir / "results" / "models" / model / tsv.stem / "run_info.json").read_text())
            loop_s += run_info["phase_seconds"]["training_loop"]
            jobs += 1
        for tsv in sorted((benchmarks / "evaluate_model" / model).glob("seed*.tsv")):
            job_s += job_seconds(run_dir, f"evaluate_model/{model}/{tsv.name}")
            loop_s += scored_seconds(run_dir / "results" / "logs" / "evaluate_model" / model / f"{tsv.stem}.log")
            jobs += 1
        shares[train] = {"jobs": jobs, "job_s": job_s, "loop_s": loop_s, "outside": 1 - loop_s / job_s}
    return shares


def measure(args, work, print_progress):
    domains = study_domains(args.domains, args.per_class)
    seeds = range(1, args.seeds + 1)
    config = write_config(Path(work) / "packed.yaml", domains, seeds, epochs=args.epochs, device=args.device)
    run_dir = Path(work) / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    print_progress("packed study: demo domains, preparation and leakage checks (setup, every core) ...")
    run_snakemake(run_dir, config, "--cores", os.cpu_count() or 1, "--until", "check_leakage", "check_leakage_across")
    print_progress(f"packed study: {len(domains)} domains + Mixed, {args.seeds} seeds, device {args.device} ...")
    wall_s, _ = run_snakemake(run_dir, config, "--cores", 1)
    run_info = json.loads((run_dir / "results/models/study_cnn/Original/seed1/run_info.json").read_text())
    return {
        "wall_s": wall_s,
        "device": run_info["device"],
        "shares": submission_shares(run_dir, [*domains, "Mixed"]),
    }


def render(args, m):
    table = Table()
    device = m["device"].get("gpu_name") or m["device"]["device"]
    table.section(
        f"Packed submissions: {args.domains} domains + Mixed, {args.seeds} seeds, {args.per_class} images per class, "
        f"{args.epochs} epoch(s), device {device}; the study took {fmt(m['wall_s'])} s"
    )
    for train, share in m["shares"].items():
        table.add(
            f"{train}: outside the training and evaluation loops",
            f"{fmt(100 * share['outside'])}%",
            f"{share['jobs']} jobs, {fmt(share['job_s'], 1)} s, of which {fmt(share['loop_s'], 1)} s in the loops",
        )
    return table.render()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=2, help="demo domains (one real), default 2 (+ Mixed)")
    parser.add_argument("--per-class", type=int, default=200, help="images per class and domain, default 200")
    parser.add_argument("--seeds", type=int, default=5, help="seeds (the study's), default 5")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs, default 5")
    parser.add_argument("--device", default="auto", help="config device: auto, cuda or cpu; default auto")
    parser.add_argument("--workdir", help="keep the run here instead of a temporary folder")
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    return parser.parse_args(argv)


def run(args, print_progress=print):
    """Run the packed study; return (table text, measurements dict)."""
    return run_in_workdir(args, measure, render, "synthcxr-bench-packed-", print_progress)


def main(argv=None):
    return benchmark_main(argv, parse_args, run)


if __name__ == "__main__":
    sys.exit(main())
