"""scripts/benchmark.py runs end to end on a handful of tiny images (no timings are checked)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "benchmark.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("synthcxr_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # trains and times on real tensors: ~10 s
def test_benchmark_runs_on_8_tiny_images_and_prints_every_section(tmp_path):
    bench = load_benchmark()
    args = bench.parse_args(
        [
            "--images", "8", "--epochs", "1", "--min-side", "64", "--max-side", "96", "--threads", "1",
            "--draft-images", "4", "--min-seconds", "0.01", "--skip-workflow", "--skip-compile", "--skip-parallel",
            "--workdir", str(tmp_path / "work"), "--json", str(tmp_path / "bench.json"),
        ]
    )  # fmt: skip
    text, measured = bench.run(args, print_progress=lambda line: None)
    for heading in ("Preparing the domain", "Training throughput", "Compute efficiency", "Evaluation", "Decoding"):
        assert heading in text
    assert "a/c (workflow / ceiling)" in text and "a/b (workflow / reference)" in text
    assert all(measured[k] > 0 for k in ("a", "b", "c", "eval", "mm_gflops"))
    assert measured["options"]["inner loop of train_model (no checkpoint)"]["bit_identical_to_a"] is True
    assert 0 <= measured["decode"]["mad"] < 255


def test_flops_are_counted_by_hand():
    bench = load_benchmark()
    macs = dict(bench.model_macs((32, 64, 128), 128))
    assert sum(macs.values()) == 128 * 128 * 32 * 9 + 64 * 64 * 64 * 32 * 9 + 32 * 32 * 128 * 64 * 9 + 32768 * 2
    assert bench.training_flops_per_image() == 6 * sum(macs.values())


def test_placeholder_domains_are_class_folders_of_links(tmp_path):
    bench = load_benchmark()
    names = bench.placeholder_domains(tmp_path, 2, 5)
    assert names == ["Domain1", "Domain2"]
    counts = [len(list((tmp_path / "Domain1" / c).iterdir())) for c in bench.CLASSES]
    assert counts == [3, 2]
    assert np.asarray(bench.Image.open(tmp_path / "Domain1" / "NORMAL" / "img_00000.png")).shape == (8, 8)


@pytest.mark.slow  # ten snakemake starts: ~10 s
def test_workflow_overhead_splits_the_dry_run_into_start_up_loading_and_dag(tmp_path):
    bench = load_benchmark()
    measured = bench.workflow_overhead(tmp_path, n_domains=2, per_domain=10, n_seeds=1, skip_noop=True)
    # 2 preparations, 3 trainings (2 domains + Mixed), 3 x 2 evaluations, at least one summary job.
    assert measured["dry_jobs"] > 2 + 3 + 6
    assert 0 < measured["empty_dry_run_s"] and 0 < measured["list_rules_s"] and 0 < measured["dry_run_s"]
    assert isinstance(measured["slurm_controller_missing"], bool)
