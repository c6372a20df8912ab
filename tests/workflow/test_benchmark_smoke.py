"""The developer benchmarks (tools/benchmark/) run end to end at tiny sizes and print every section.

`make bench` and `make bench-scale` run as a user runs them (tests/workflow_helpers.make_target: from the
repository root, in a plain environment), so a benchmark that finds the package only under pytest fails here.
No timing is checked: timed figures are printed by the benchmarks, never asserted here.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from workflow_helpers import REPO, make_target

sys.path.insert(0, str(REPO))  # the repository: tools.benchmark

from tools.benchmark import common, jobtime, throughput  # noqa: E402


def bench_args(*args):
    """make's ARGS=...: the benchmark's options as one word for make (tmp_path has no spaces)."""
    return "ARGS=" + " ".join(map(str, args))


@pytest.mark.slow  # trains and times on real tensors, ten snakemake dry runs: ~20 s
def test_make_bench_runs_on_8_tiny_images_and_prints_every_section(tmp_path):
    result = make_target(
        "bench",
        bench_args(
            "--images", 8, "--epochs", 1, "--min-side", 64, "--max-side", 96, "--threads", 1, "--draft-images", 4,
            "--min-seconds", 0.01, "--skip-compile", "--skip-parallel", "--arch-size", 32, "--arch-batches", 1,
            "--dry-domains", 2, "--dry-images", 10, "--dry-seeds", 1, "--skip-noop", "--skip-jobs",
            "--workdir", tmp_path / "work", "--json", tmp_path / "bench.json",
        ),
    )  # fmt: skip
    text = result.stdout
    measured = json.loads((tmp_path / "bench.json").read_text())
    for heading in ("Preparing the domain", "Training throughput", "Compute efficiency", "Evaluation", "Decoding"):
        assert heading in text
    assert "a/c (workflow / ceiling)" in text and "a/b (workflow / reference)" in text
    assert all(measured[k] > 0 for k in ("a", "b", "c", "eval", "mm_gflops"))
    assert measured["options"]["inner loop of train_model (no checkpoint)"]["bit_identical_to_a"] is True
    assert 0 <= measured["decode"]["mad"] < 255
    # Each classifier architecture's training throughput, with its parameter count.
    assert "Training throughput per architecture (cpu" in text
    architectures = measured["architectures"]["cpu"]
    assert list(architectures) == ["study_cnn", "resnet18", "densenet121"]
    assert all(a["images_per_s"] > 0 and a["parameters"] > 0 for a in architectures.values())
    # The workflow overhead: the dry run split into start-up, loading and the DAG.
    assert "workflow_error" not in measured and "Workflow overhead (snakemake)" in text
    overhead = measured["workflow"]
    # 2 preparations, 3 trainings (2 domains + Mixed), 3 x 2 evaluations, at least one summary job.
    assert overhead["dry_jobs"] > 2 + 3 + 6
    assert 0 < overhead["empty_dry_run_s"] and 0 < overhead["list_rules_s"] and 0 < overhead["dry_run_s"]
    assert isinstance(overhead["slurm_controller_missing"], bool)


def test_flops_are_counted_by_hand():
    macs = dict(throughput.model_macs((32, 64, 128), 128))
    assert sum(macs.values()) == 128 * 128 * 32 * 9 + 64 * 64 * 64 * 32 * 9 + 32 * 32 * 128 * 64 * 9 + 32768 * 2
    assert throughput.training_flops_per_image() == 6 * sum(macs.values())


def test_placeholder_domains_are_class_folders_of_links(tmp_path):
    names = common.placeholder_domains(tmp_path, 2, 5)
    assert names == ["Domain1", "Domain2"]
    counts = [len(list((tmp_path / "Domain1" / c).iterdir())) for c in common.CLASSES]
    assert counts == [3, 2]
    assert np.asarray(Image.open(tmp_path / "Domain1" / "NORMAL" / "img_00000.png")).shape == (8, 8)


def test_reused_phantoms_still_give_distinct_files_half_per_class(tmp_path):
    root, total = common.make_jpeg_domain(tmp_path / "d", 24, 64, 64, threads=2, phantoms=4)
    files = sorted(root.rglob("*.jpg"))
    assert [len(list((root / c).iterdir())) for c in common.CLASSES] == [12, 12]
    pixels = {np.asarray(Image.open(f)).tobytes() for f in files}
    assert len(pixels) == 24 and total == sum(f.stat().st_size for f in files)
    linked = common.linked_subset(root, tmp_path / "five", 5)
    assert [len(list((linked / c).iterdir())) for c in common.CLASSES] == [3, 2]


def test_job_split_puts_the_unaccounted_time_into_process_start():
    phases = {
        "imports": 1.0,
        "torch_setup": 0.5,
        "data_load": 0.25,
        "input_hashes": 0.25,
        "training_loop": 6,
        "outputs": 1,
    }
    split = jobtime.split_job(10.0, phases)
    assert split["start"] == pytest.approx(1.0)
    assert set(split) == {name for name, _ in jobtime.PHASES}


def test_fixed_start_puts_what_precedes_the_script_beyond_python_into_the_preamble():
    phases = {"imports": 2.0, "torch_setup": 0.25, "evaluation": 0.5}
    start = jobtime.fixed_start(0.05, 0.55, phases)
    assert start == pytest.approx({"python_start": 0.05, "preamble": 0.5, "imports": 2.0, "torch_setup": 0.25})
    assert set(start) == {name for name, _ in jobtime.START_PHASES}
    assert jobtime.fixed_start(0.05, None, phases)["preamble"] is None  # no /proc: unknown, not zero


def test_import_split_counts_each_module_for_the_package_the_jobs_code_imported_it_for():
    # python -X importtime: a module after those it imported, two spaces deeper per level; times in microseconds.
    importtime = """import time: self [us] | cumulative | imported package
import time:       100 |        100 | json
import time:       200 |        200 |     numpy
import time:      3000 |       3000 |       scipy.stats
import time:      1000 |       1000 |       pandas
import time:       500 |       4500 |     sklearn
import time:        10 |       4710 |   synthcxr.metrics
import time:        20 |       4730 | synthcxr.evaluate
import time:        40 |         40 |     typing
import time:      2000 |       2040 |   torch
import time:        30 |       2070 | synthcxr.train
"""
    split = jobtime.import_split(importtime)
    assert split == pytest.approx(
        {"torch": 0.00204, "sklearn": 0.0045, "numpy": 0.0002, "synthcxr": 0.00006, "other": 0.0001}
    )
    assert list(split) == [name for name, _ in jobtime.IMPORT_GROUPS]


def test_an_entry_scripts_imports_are_its_top_level_import_statements():
    imports = jobtime.entry_imports(jobtime.SCRIPTS / "evaluate_model.py")
    assert "from synthcxr.data import load_split" in imports and "snakemake" not in imports


def test_a_job_clock_measures_the_seconds_before_the_script_and_logs_them_for_the_benchmark(tmp_path):
    """The seconds from the process's start to the script's first line, read back from the log line."""
    child = (
        "import time; time.sleep(0.5); started = time.perf_counter(); "
        "from synthcxr.jobs import JobClock; clock = JobClock(started); clock.phase_done('imports'); "
        "print(clock.timing_line())"
    )
    scripts = REPO / "scripts"
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True, cwd=scripts)
    (tmp_path / "job.log").write_text("device: cpu\n" + result.stdout)
    timing = jobtime.timing_from_log(tmp_path / "job.log")
    assert set(timing) == {"before_script", "imports"}
    assert 0.5 <= timing["before_script"] < 30  # the sleep, Python's start; /proc counts in 10 ms ticks


@pytest.mark.slow
@pytest.mark.workflow
def test_make_bench_scale_runs_the_real_workflow_and_prints_every_figure_with_its_goal(tmp_path):
    result = make_target(
        "bench-scale",
        bench_args(
            "--images", 60, "--small-images", 40, "--side", 64, "--phantoms", 8, "--dry-repeats", 1,
            "--fidelity-epochs", 1, "--job-sizes", 40, "--job-epochs", 1,
            "--workdir", tmp_path / "work", "--json", tmp_path / "scale.json",
        ),
    )  # fmt: skip
    text = result.stdout
    measured = json.loads((tmp_path / "scale.json").read_text())
    for row in ("preparation / floor", "peak memory / cache", "large / small", "check_leakage job"):
        assert row in text
    # The 6 scale goals and the evaluation's fixed start; the job split has its goal at 5,000 images only.
    assert text.count(": PASS") + text.count(": FAIL") == 7
    # One size (the split of each size is the same code): its training, then its model's evaluation.
    assert "Job-time split: train_model, 40 images" in text
    assert measured["jobs"]["trainings"]["40"]["phases"]["training_loop"] > 0  # JSON keys are text
    assert "outside the loop" in text and "GPU" in text
    # The fixed start of the 40-image model's evaluation and training: every part measured, none missing.
    assert "Fixed start of a job" in text and "evaluate_model (40 images): fixed start" in text
    evaluation = measured["jobs"]["evaluation"]
    assert set(evaluation["phases"]) == {"before_script", "imports", "torch_setup", "evaluation"}
    for start in (evaluation["fixed_start"], measured["jobs"]["trainings"]["40"]["fixed_start"]):
        assert set(start) == {name for name, _ in jobtime.START_PHASES}
        assert start["python_start"] > 0 and start["imports"] > 0 and start["preamble"] >= 0  # Linux: /proc
        assert start["torch_setup"] >= 0
    assert measured["fidelity_subsample"]["synthetic_images"] == 60
    models = tmp_path / "work" / "jobs" / "run" / "results" / "models" / "study_cnn"
    run_info = json.loads((models / "Images40" / "seed1" / "run_info.json").read_text())
    assert set(run_info["phase_seconds"]) == {name for name, _ in jobtime.PHASES} - {"start"}
