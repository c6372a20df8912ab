"""What the benchmarks share: paths, generated inputs, running snakemake, peak memory, the printed table.

No torch here: the scale benchmark's own process stays small, so the peak memory it reads from the
processes it starts is theirs, not an inherited one.
"""

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from synthcxr.phantoms import render_phantom
from tools.benchmark import REPO

CLASSES = ["NORMAL", "PNEUMONIA"]


# ----------------------------------------------------------------------------------------------------
# The printed table
# ----------------------------------------------------------------------------------------------------


class Table:
    """Sections of (what, value, note) rows, rendered as aligned text."""

    def __init__(self):
        self.rows = []

    def section(self, title):
        self.rows.append((title, None, None))

    def add(self, what, value, note=""):
        self.rows.append((what, value, note))

    def render(self):
        width = max([len(r[0]) for r in self.rows if r[1] is not None] + [10]) + 2
        lines = []
        for what, value, note in self.rows:
            if value is None:
                lines.append(f"\n== {what} " + "=" * max(0, 96 - len(what)))
            else:
                lines.append(f"  {what:<{width}}{value:>16}  {note}".rstrip())
        return "\n".join(lines)


def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def verdict(ok):
    return "PASS" if ok else "FAIL"


def goal(table, what, value, ok, target, note=""):
    """One row of a goal: the value, the target and PASS/FAIL."""
    table.add(what, value, f"goal {target}: {verdict(ok)}" + (f"; {note}" if note else ""))


# ----------------------------------------------------------------------------------------------------
# The machine and the workflow's settings
# ----------------------------------------------------------------------------------------------------


def load_average():
    return os.getloadavg()[0]


def rule_threads(rule, default):
    """The `threads:` of a rule in workflow/rules/*.smk, so a benchmark follows the workflow."""
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        match = re.search(rf"^rule {rule}:\n(.*?)(?=^rule |\Z)", smk.read_text(), re.S | re.M)
        if match:
            threads = re.search(r"^\s+threads:\s*(\d+)\s*$", match.group(1), re.M)
            return int(threads.group(1)) if threads else default
    return default


def peak_rss_kib():
    """This process's peak RSS (VmHWM). getrusage's ru_maxrss survives exec on Linux: only a fallback."""
    try:
        with open("/proc/self/status") as status:
            return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ----------------------------------------------------------------------------------------------------
# Inputs: grayscale JPEGs in ImageFolder layout
# ----------------------------------------------------------------------------------------------------


def _jpeg_jobs(n_images, min_side, max_side, pad, rng):
    jobs = []
    for i in range(n_images):
        width = int(rng.integers(min_side, max_side + 1))
        height = int(np.clip(round(width * rng.uniform(0.8, 1.25)), min_side, max_side))
        jobs.append((i, i % 2, width, height, int(rng.integers(0, pad)), int(rng.integers(0, pad))))
    return jobs


def make_jpeg_domain(root, n_images, min_side, max_side, seed=0, threads=2, quality=90, phantoms=None):
    """Write ``n_images`` grayscale JPEGs (half per class) under root/{NORMAL,PNEUMONIA}; return (root, bytes).

    Each is a demo phantom (NON-MEDICAL) rendered at 256 px, upscaled (bicubic) to a random size with
    sides in [min_side, max_side], plus Gaussian grain (sd 3 grey levels). ``phantoms``: render only that
    many distinct phantoms and reuse them with a different grain window each (rendering is 3/4 of the
    cost of writing 50,000 files); None renders one per image.
    """
    root = Path(root)
    for name in CLASSES:
        (root / name).mkdir(parents=True, exist_ok=True)
    if phantoms is not None:
        phantoms = max(2, phantoms + phantoms % 2)
    rng = np.random.default_rng(seed)
    pad = 64 if phantoms is None else max(64, int(np.ceil(np.sqrt(n_images / max(phantoms, 1)))) + 1)
    grain = rng.normal(0.0, 3.0, (max_side + pad, max_side + pad)).astype(np.float32)
    jobs = _jpeg_jobs(n_images, min_side, max_side, pad, rng)

    rendered = {}

    def render(key, label):
        if key not in rendered:  # a race renders one twice, the same pixels: harmless
            rendered[key] = render_phantom(np.random.default_rng([seed, key]), label, size=256)
        return rendered[key] if phantoms is not None else rendered.pop(key)

    def write(job):
        i, label, width, height, dy, dx = job
        key = i
        if phantoms is not None:  # reuse phantom i % phantoms (same class: phantoms is even), new grain window
            key, (dy, dx) = i % phantoms, divmod(i // phantoms, pad)
        big = np.asarray(
            Image.fromarray(render(key, label)).resize((width, height), Image.Resampling.BICUBIC), np.float32
        )
        big += grain[dy : dy + height, dx : dx + width]
        path = root / CLASSES[label] / f"{CLASSES[label].lower()}_{i:05d}.jpg"
        Image.fromarray(np.clip(big + 0.5, 0, 255).astype(np.uint8), mode="L").save(path, quality=quality)
        return path.stat().st_size

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        sizes = list(pool.map(write, jobs))
    return root, sum(sizes)


def linked_subset(source, target, n_images):
    """A domain folder of symbolic links to the first ``n_images`` files of ``source`` (half per class)."""
    target = Path(target)
    for label, name in enumerate(CLASSES):
        (target / name).mkdir(parents=True, exist_ok=True)
        files = sorted((Path(source) / name).iterdir())[: n_images // 2 + (label < n_images % 2)]
        for path in files:
            (target / name / path.name).symlink_to(path.resolve())
    return target


def placeholder_domains(root, n_domains, per_domain):
    """Class-folder domains of ``per_domain`` hard links to one tiny PNG (a dry run never decodes them)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    source = root / "placeholder.png"
    Image.new("L", (8, 8), 128).save(source)
    names = [f"Domain{d + 1}" for d in range(n_domains)]
    for name in names:
        for label, cls in enumerate(CLASSES):
            folder = root / name / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_domain // 2 + (label < per_domain % 2)):
                try:
                    os.link(source, folder / f"img_{i:05d}.png")
                except OSError:
                    shutil.copyfile(source, folder / f"img_{i:05d}.png")
    return names


# ----------------------------------------------------------------------------------------------------
# Running the real snakemake
# ----------------------------------------------------------------------------------------------------


def snakemake_executable():
    beside = Path(sys.executable).parent / "snakemake"
    return str(beside) if beside.exists() else shutil.which("snakemake")


def write_config(path, domains, seeds, epochs=5, mixed=True, **extra):
    """A study config (JSON is YAML: no yaml dependency needed here)."""
    config = {
        "classes": CLASSES,
        "domains": domains,
        "mixed": {"name": "Mixed", "members": list(domains) if mixed else []},
        "training": {"epochs": epochs, "batch_size": 16, "lr": 0.001, "widths": [32, 64, 128]},
        "seeds": list(seeds),
        "device": "cpu",
        **extra,
    }
    Path(path).write_text(json.dumps(config, indent=1))
    return path


# Run a command; print the largest peak RSS (KiB) of the processes it waited for, its own included, and
# their CPU seconds: a fresh small process, so no parent's size is inherited (ru_maxrss survives exec).
PEAK_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "used = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(used.ru_maxrss, used.ru_utime + used.ru_stime, file=sys.stderr); sys.exit(code)"
)


def run_snakemake(workdir, configfile, *args, snakefile=None, timeout=7200, measure_peak=False):
    """Run snakemake in ``workdir``; return (seconds, output text).

    With ``measure_peak`` also the peak RSS (KiB) of its largest process and the CPU seconds of all of
    them (snakemake's own included).
    """
    command = [
        snakemake_executable(),
        "--snakefile",
        str(snakefile or REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        *map(str, args),
    ]
    wrapped = [sys.executable, "-c", PEAK_WRAPPER, *command] if measure_peak else command
    started = time.perf_counter()
    result = subprocess.run(wrapped, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    if not measure_peak:
        return seconds, result.stdout + result.stderr
    stderr, _, usage = result.stderr.rstrip().rpartition("\n")
    peak, cpu = usage.split()
    return seconds, result.stdout + stderr, int(peak), float(cpu)


def job_record(workdir, benchmark):
    """One job's row of its rule's `benchmark:` file (``benchmark`` under results/benchmarks/), as a dict."""
    lines = (Path(workdir) / "results" / "benchmarks" / benchmark).read_text().splitlines()
    return dict(zip(lines[0].split("\t"), lines[-1].split("\t")))


def job_seconds(workdir, benchmark):
    """Wall seconds of one job, from its rule's `benchmark:` file."""
    return float(job_record(workdir, benchmark)["s"])


def best_of(n, measure):
    """The shortest of ``n`` timings (start-up times on a shared machine vary by tenths of a second)."""
    return min(measure() for _ in range(n))


def slurm_controller_missing():
    """True where SLURM's client is installed but no controller answers.

    The SLURM executor plugin asks `scontrol show config` when Snakemake imports it, and scontrol
    retries for about 10 s before it gives up: every snakemake start-up then measures that wait.
    """
    if shutil.which("scontrol") is None:
        return False
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return True
    return ping.returncode != 0 or "UP" not in ping.stdout


def planned_job_count(output):
    match = re.search(r"^total\s+(\d+)", output, re.M)
    return int(match.group(1)) if match else None


def run_in_workdir(args, measure, render, prefix, print_progress=print):
    """``measure(args, work, print_progress)`` in ``args.workdir`` or a temporary folder removed after;
    returns (the table ``render(args, measurements)`` prints, the measurements)."""
    owner = None if args.workdir else tempfile.TemporaryDirectory(prefix=prefix)
    work = Path(args.workdir or owner.name)
    work.mkdir(parents=True, exist_ok=True)
    try:
        measured = measure(args, work, print_progress)
    finally:
        if owner is not None:
            owner.cleanup()
    return render(args, measured), measured


def benchmark_main(argv, parse_args, run):
    """The command line of a benchmark: progress on stderr, the table on stdout, optional JSON; exit 0."""
    args = parse_args(argv)
    started = time.perf_counter()
    text, measured = run(args, print_progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(text)
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s; a measurement, not a test: exit status 0)")
    if args.json:
        Path(args.json).write_text(json.dumps(measured, indent=1, default=str))
    return 0
