"""A domain as large as published synthetic sets, through the real workflow (`make bench-scale`).

A generated domain of ``--images`` (default 50,000) 512x512 grayscale JPEGs (NON-MEDICAL phantoms with
film grain; writing them is setup, not a figure) beside a 500-image domain, run through the real
`snakemake` in a temporary folder. It prints, each with its goal and PASS/FAIL:

- preparation (rule prepare_domain) images/s against the floor: Pillow's decode + resize of the same
  files with the rule's threads; goal >= 0.8x the floor;
- the peak memory of the preparation job against the size of its cache (N x 128 x 128 bytes);
  goal <= 1.5x;
- `snakemake -n` with that domain against the same workflow with a 500-image domain; goal <= 1.3x;
- the leakage checks' time (rules check_leakage, check_leakage_across); goal under a minute;
- rule evaluate_fidelity's time and peak memory with the large domain as the synthetic set (it
  measures a random subset of `fidelity.max_synthetic_images` and says so); goal under 15 minutes and
  8 GB;

and then the job-time split of rule train_model (tools/benchmark/jobtime.py). Peak memory is the
largest peak RSS of the processes a snakemake command ran (the job's, or snakemake's own where that is
larger; both are printed). A measurement, not a test: it always exits 0. Use `--images 2000` while
developing.
"""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from synthcxr.images import to_grayscale_uint8
from tools.benchmark import jobtime
from tools.benchmark.common import (
    Table,
    benchmark_main,
    fmt,
    goal,
    job_seconds,
    linked_subset,
    load_average,
    make_jpeg_domain,
    rule_threads,
    run_in_workdir,
    run_snakemake,
    write_config,
)

GOALS = {
    "prepare_vs_floor": 0.8,
    "peak_vs_cache": 1.5,
    "dry_run_ratio": 1.3,
    "leakage_s": 60.0,
    "fidelity_s": 15 * 60.0,
    "fidelity_gib": 8.0,
}
IMAGE_SIZE = 128  # the study's (config image_size)


# ----------------------------------------------------------------------------------------------------
# The floor: Pillow's decode + resize of the same files, with the same threads
# ----------------------------------------------------------------------------------------------------


def decode_and_resize(path, size=IMAGE_SIZE):
    """What preparing one image must do at least: read, decode, grayscale, resize (as load_image)."""
    with Image.open(path) as image:
        image.load()
        gray = to_grayscale_uint8(image)
        return np.asarray(gray.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0))


def pillow_floor(folder, threads):
    """Images/s of decode_and_resize over every JPEG under ``folder`` with ``threads`` threads."""
    paths = sorted(Path(folder).rglob("*.jpg"))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for _ in pool.map(decode_and_resize, paths):
            pass
    return len(paths) / (time.perf_counter() - started)


# ----------------------------------------------------------------------------------------------------
# The study around the large domain
# ----------------------------------------------------------------------------------------------------


def study_config(path, large, small, args):
    """Large (the synthetic set, measured against Small) and Small (real); 1 seed, no Mixed."""
    domains = {
        "Large": {"path": str(large), "kind": "synthetic", "reference": "Small"},
        "Small": {"path": str(small), "kind": "real"},
    }
    fidelity = {"two_sample_epochs": args.fidelity_epochs}
    return write_config(path, domains, [1], epochs=1, mixed=False, fidelity=fidelity, device=args.device)


def make_inputs(args, work, print_progress):
    """The JPEG folders: Large (``--images``), Small (``--small-images``, other phantoms), Large500."""
    print_progress(f"writing {args.images} + {args.small_images} JPEGs of {args.side} px (setup) ...")
    started = time.perf_counter()
    common = {"min_side": args.side, "max_side": args.side, "threads": args.threads, "phantoms": args.phantoms}
    large, large_bytes = make_jpeg_domain(work / "Large", args.images, seed=0, **common)
    small, _ = make_jpeg_domain(work / "Small", args.small_images, seed=1, **common)
    # The dry-run comparison: the same workflow with a domain of as many images as Small.
    large500 = linked_subset(large, work / "Large500", args.small_images)
    return {"large": large, "small": small, "large500": large500, "bytes": large_bytes,
            "setup_s": time.perf_counter() - started}  # fmt: skip


def dry_run_seconds(run_dir, config, repeats):
    """Best of ``repeats`` dry runs, and the peak RSS of snakemake's process (KiB)."""
    seconds, _, peak, _ = run_snakemake(run_dir, config, "--dry-run", measure_peak=True)
    for _ in range(repeats - 1):
        seconds = min(seconds, run_snakemake(run_dir, config, "--dry-run")[0])
    return seconds, peak


def measure_dry_runs(args, work, inputs, m, print_progress):
    print_progress("snakemake -n with the large domain and with a 500-image one ...")
    for key, large in (("dry_large", inputs["large"]), ("dry_small", inputs["large500"])):
        run_dir = work / key
        run_dir.mkdir()
        config = study_config(work / f"{key}.yaml", large, inputs["small"], args)
        m[f"{key}_s"], m[f"{key}_peak_kib"] = dry_run_seconds(run_dir, config, args.dry_repeats)


def measure_preparation(run_dir, config, m, print_progress):
    print_progress("rule prepare_domain on the large domain ...")
    _, _, m["prepare_peak_kib"], m["prepare_cpu_s"] = run_snakemake(
        run_dir, config, "--cores", m["prepare_threads"], "results/prepared/Large/images.npy", measure_peak=True
    )
    m["prepare_s"] = job_seconds(run_dir, "prepare_domain/Large.tsv")


# The checks (training domain, test domain) that read the large domain's manifest.
LEAKAGE_PAIRS = [("Large", "Large"), ("Large", "Small"), ("Small", "Large")]


def measure_leakage(run_dir, config, m, print_progress):
    """The check's job time: a forced run of it minus a dry run of the same forced run (start-up, DAG)."""
    print_progress("leakage checks (every check with the large domain: its train split, its test split) ...")
    checks = [f"results/leakage/{train}/{test}.json" for train, test in LEAKAGE_PAIRS]
    run_snakemake(run_dir, config, "--cores", 2, *checks)
    forced = (*checks, "--forcerun", *checks)  # targets first: --forcerun takes every name after it
    m["leakage_run_s"] = run_snakemake(run_dir, config, "--cores", 1, *forced)[0]
    m["leakage_dry_s"] = run_snakemake(run_dir, config, "--dry-run", *forced)[0]
    m["leakage_s"] = max(0.0, m["leakage_run_s"] - m["leakage_dry_s"])


def measure_fidelity(run_dir, config, m, print_progress):
    print_progress("rule evaluate_fidelity (feature model: Small trained 1 epoch first) ...")
    run_snakemake(run_dir, config, "--cores", 2, "results/models/study_cnn/Small/seed1/model.pt")
    _, _, m["fidelity_peak_kib"], m["fidelity_cpu_s"] = run_snakemake(
        run_dir, config, "--cores", 1, "results/fidelity/Large.json", measure_peak=True
    )
    m["fidelity_s"] = job_seconds(run_dir, "evaluate_fidelity/Large.tsv")
    metrics = json.loads((Path(run_dir) / "results" / "fidelity" / "Large.json").read_text())
    m["fidelity_subsample"] = metrics["subsample"]


def measure(args, work, print_progress):
    m = {"images": args.images, "load_start": load_average(), "prepare_threads": rule_threads("prepare_domain", 2)}
    inputs = make_inputs(args, work, print_progress)
    m["setup_s"], m["jpeg_bytes"] = inputs["setup_s"], inputs["bytes"]
    print_progress(f"the floor: Pillow decode + resize of {args.images} files, {m['prepare_threads']} threads ...")
    m["floor_images_per_s"] = pillow_floor(inputs["large"], m["prepare_threads"])
    measure_dry_runs(args, work, inputs, m, print_progress)
    run_dir = work / "study"
    run_dir.mkdir()
    config = study_config(work / "study.yaml", inputs["large"], inputs["small"], args)
    measure_preparation(run_dir, config, m, print_progress)
    measure_leakage(run_dir, config, m, print_progress)
    if not args.skip_fidelity:
        measure_fidelity(run_dir, config, m, print_progress)
    if not args.skip_jobs:
        m["jobs"] = jobtime.measure(jobtime_args(args), work / "jobs", print_progress)
    m["load_end"] = load_average()
    return m


def jobtime_args(args):
    return jobtime.parse_args(
        ["--sizes", args.job_sizes, "--epochs", str(args.job_epochs), "--side", str(args.side),
         "--threads", str(args.threads), "--device", args.device]
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------------


def table_setup(table, args, m):
    table.section("Setup (not measured against a goal)")
    table.add(
        "large domain", f"{args.images:,} JPEGs", f"{args.side}x{args.side} px, {fmt(m['jpeg_bytes'] / 2**30, 2)} GiB"
    )
    table.add("writing them", f"{fmt(m['setup_s'])} s", f"{args.threads} threads; {args.phantoms} distinct phantoms")
    table.add("1-min load average", f"{m['load_start']:.2f} -> {m['load_end']:.2f}", "at start -> at end")


def table_preparation(table, args, m):
    rate = args.images / m["prepare_s"]
    ratio = rate / m["floor_images_per_s"]
    cache_kib = args.images * IMAGE_SIZE * IMAGE_SIZE / 1024
    peak_ratio = m["prepare_peak_kib"] / cache_kib
    table.section(f"Preparing {args.images:,} images (rule prepare_domain, {m['prepare_threads']} threads)")
    cpu = f"job {fmt(m['prepare_s'])} s (its benchmark file); CPU {fmt(m['prepare_cpu_s'])} s (the command's)"
    table.add("preparation", f"{fmt(rate)} img/s", cpu)
    table.add("floor: Pillow decode+resize", f"{fmt(m['floor_images_per_s'])} img/s", "same files and threads")
    goal(
        table,
        "preparation / floor",
        f"{ratio:.2f}",
        ratio >= GOALS["prepare_vs_floor"],
        f">= {GOALS['prepare_vs_floor']}",
    )
    table.add(
        "cache (images.npy)", f"{fmt(cache_kib / 1024)} MiB", f"{args.images:,} x {IMAGE_SIZE} x {IMAGE_SIZE} bytes"
    )
    table.add("peak memory", f"{fmt(m['prepare_peak_kib'] / 1024)} MiB", "largest process of the snakemake command")
    goal(
        table,
        "peak memory / cache",
        f"{peak_ratio:.2f}",
        peak_ratio <= GOALS["peak_vs_cache"],
        f"<= {GOALS['peak_vs_cache']}",
    )


def table_dry_run(table, args, m):
    ratio = m["dry_large_s"] / m["dry_small_s"]
    table.section("Listing and fingerprinting (snakemake -n, nothing prepared yet)")
    for key, images in (("dry_large", args.images), ("dry_small", args.small_images)):
        note = f"best of {args.dry_repeats}; snakemake's peak memory {fmt(m[f'{key}_peak_kib'] / 1024)} MiB"
        table.add(f"with {images:,} images", f"{fmt(m[f'{key}_s'], 2)} s", note)
    goal(table, "large / small", f"{ratio:.2f}", ratio <= GOALS["dry_run_ratio"], f"<= {GOALS['dry_run_ratio']}")


def table_leakage(table, m):
    table.section("Leakage checks (check_leakage, check_leakage_across: every pair with the large domain)")
    note = f"forced run {fmt(m['leakage_run_s'], 2)} s minus its dry run {fmt(m['leakage_dry_s'], 2)} s"
    goal(
        table, "check_leakage jobs", f"{fmt(m['leakage_s'], 2)} s", m["leakage_s"] < GOALS["leakage_s"], "< 60 s", note
    )


def table_fidelity(table, args, m):
    sub = m["fidelity_subsample"]
    measured = f"{sub['synthetic_used']:,} of {sub['synthetic_images']:,} synthetic images measured"
    table.section(f"Fidelity (rule evaluate_fidelity, 1 thread; two-sample test {args.fidelity_epochs} epochs)")
    table.add("subsample", "yes" if sub["subsampled"] else "no", f"{measured} (fidelity.max_synthetic_images)")
    minutes, gib = m["fidelity_s"] / 60, m["fidelity_peak_kib"] / 2**20
    cpu = f"CPU {fmt(m['fidelity_cpu_s'] / 60, 1)} min (the command's; about the job's time alone on a core)"
    goal(table, "time", f"{fmt(minutes, 1)} min", m["fidelity_s"] < GOALS["fidelity_s"], "< 15 min", cpu)
    goal(table, "peak memory", f"{fmt(gib, 2)} GiB", gib < GOALS["fidelity_gib"], "< 8 GiB")


def render(args, m):
    table = Table()
    table_setup(table, args, m)
    table_preparation(table, args, m)
    table_dry_run(table, args, m)
    table_leakage(table, m)
    if "fidelity_s" in m:
        table_fidelity(table, args, m)
    text = table.render()
    if "jobs" in m:
        text += "\n" + jobtime.render(jobtime_args(args), m["jobs"])
    return text


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=50_000, help="JPEGs in the large domain, default 50000")
    parser.add_argument("--small-images", type=int, default=500, help="images of the small domain, default 500")
    parser.add_argument("--side", type=int, default=512, help="JPEG side in px, default 512")
    parser.add_argument("--phantoms", type=int, default=256, help="distinct phantoms drawn (setup speed), default 256")
    parser.add_argument("--threads", type=int, default=2, help="threads writing the JPEGs (setup), default 2")
    parser.add_argument("--dry-repeats", type=int, default=3, help="dry runs of each kind (best counts), default 3")
    parser.add_argument(
        "--fidelity-epochs", type=int, default=3, help="two-sample test epochs (config.yaml's), default 3"
    )
    parser.add_argument("--job-sizes", default="200,5000", help="domain sizes of the job-time split, default 200,5000")
    parser.add_argument("--job-epochs", type=int, default=5, help="training epochs in the job-time split, default 5")
    parser.add_argument("--device", default="cpu", help="config device of the jobs: cpu, cuda or auto; default cpu")
    parser.add_argument("--skip-fidelity", action="store_true", help="skip rule evaluate_fidelity")
    parser.add_argument("--skip-jobs", action="store_true", help="skip the job-time split")
    parser.add_argument("--workdir", help="keep the generated files here instead of a temporary folder")
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    return parser.parse_args(argv)


def run(args, print_progress=print):
    """Measure everything; return (table text, measurements dict)."""
    return run_in_workdir(args, measure, render, "synthcxr-bench-scale-", print_progress)


def main(argv=None):
    return benchmark_main(argv, parse_args, run)


if __name__ == "__main__":
    sys.exit(main())
