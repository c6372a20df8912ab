"""The job-layout benchmarks (issue 27): tools/benchmark/demo_jobs.py, packed.py and gpu_check.sh.

No timing is checked (the benchmarks print timed figures, never assert them); what is checked: the per-cell
layout they compare with is the workflow with only its evaluation jobs split, both layouts write the same
bytes, and the GPU check's path where there is no GPU.
"""

import json
import os
import subprocess
import sys

import pytest
from workflow_helpers import REPO, planned_jobs, tiny_config

sys.path.insert(0, str(REPO))  # the repository: tools.benchmark

from tools.benchmark import demo_jobs, packed  # noqa: E402


def test_the_per_cell_rewrite_makes_the_test_split_a_wildcard_of_each_evaluation_again():
    evaluate = demo_jobs.per_cell_rules((REPO / "workflow" / "rules" / "evaluate.smk").read_text())
    assert 'images=lambda w: prepared("images", [w.test])' in evaluate
    assert "leakage=lambda w: leakage_checks(w.train, [w.test])" in evaluate
    metrics = '"results/metrics/{{classifier}}/{{train}}/{test}/seed{{seed}}.json",\n            test=["{test}"]'
    assert metrics in evaluate
    assert '"results/logs/evaluate_model/{classifier}/{train}/{test}/seed{seed}.log"' in evaluate
    assert '"results/benchmarks/evaluate_model/{classifier}/{train}/{test}/seed{seed}.tsv"' in evaluate
    volume = demo_jobs.per_cell_rules((REPO / "workflow" / "rules" / "volume.smk").read_text())
    assert '"results/logs/evaluate_model_on_part/{classifier}/{train}/pct{percent}/{test}/seed{seed}.log"' in volume
    training = '"results/logs/train_model_on_part/{classifier}/{train}/pct{percent}/seed{seed}.log"'
    assert training in volume  # not an evaluation
    with pytest.raises(ValueError, match="cannot rewrite"):
        demo_jobs.per_cell_rules("rule evaluate_model:\n    params:\n        order=TEST_DOMAINS,\n")


def test_an_evaluation_jobs_fixed_seconds_come_from_its_models_per_cell_jobs():
    per_model = {"GANs/seed1.tsv": 5.0, "GANs/seed11.tsv": 9.0, "Mixed/seed1.tsv": 2.0}
    per_cell = {f"GANs/{test}/seed1.tsv": 4.0 for test in ("Original", "GANs", "VAEs")}
    per_cell |= {f"GANs/{test}/seed11.tsv": 7.0 for test in ("Original", "GANs", "VAEs")}
    per_cell["Mixed/Original/seed1.tsv"] = 3.0  # one test split: says nothing about the fixed part
    # 3 x (fixed + one split) - (fixed + three splits) = 2 x fixed: (12 - 5) / 2 and (21 - 9) / 2.
    assert demo_jobs.fixed_seconds(per_model, per_cell) == pytest.approx((3.5 + 6.0) / 2)
    assert demo_jobs.fixed_seconds({"Mixed/seed1.tsv": 2.0}, per_cell) is None


def test_the_gpu_check_without_a_gpu_says_so_and_exits_0():
    environment = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # every GPU hidden, as on a machine without one
    result = subprocess.run(
        ["bash", str(REPO / "tools" / "benchmark" / "gpu_check.sh")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("gpu_check: no GPU here (CUDA_VISIBLE_DEVICES is empty): nothing measured.")
    assert "make bench" not in result.stdout


@pytest.mark.slow  # two tiny studies from scratch, one per job layout: about a minute on 2 cores
@pytest.mark.workflow
def test_both_job_layouts_run_a_tiny_study_to_the_same_bytes(tmp_path):
    domains = {
        "Original": {"demo": {"per_class": 10, "shift": "none"}},
        "GANs": {"demo": {"per_class": 10, "shift": "gan"}},
    }
    config = tiny_config(domains)
    config["mixed"]["members"] = []
    config_path = tmp_path / "tiny.json"
    config_path.write_text(json.dumps(config))
    args = demo_jobs.parse_args(["--configfile", str(config_path), "--workdir", str(tmp_path / "work")])
    text, measured = demo_jobs.run(args, print_progress=lambda line: None)
    assert text.count(": PASS") + text.count(": FAIL") == 3
    assert "metrics and predictions files identical" in text and "evaluate_model: fixed seconds per job" in text
    # Two models on two test splits: 4 evaluation jobs in the per-cell layout, 2 in the workflow's.
    assert measured["per_cell"]["jobs"] - measured["per_model"]["jobs"] == 2
    assert len(measured["per_model"]["evaluations"]["evaluate_model"]) == 2
    assert len(measured["per_cell"]["evaluations"]["evaluate_model"]) == 4
    assert measured["compared_files"] == 2 * 2 * 2 and measured["differing_files"] == []
    assert measured["fixed_s"]["evaluate_model"] is not None
    run_dir = tmp_path / "work" / "per-model"
    assert planned_jobs(run_dir, "--configfile", config_path) == set()
    # The packed-submission split reads the same run: each domain's training and its one evaluation.
    shares = packed.submission_shares(run_dir, ["Original", "GANs"])
    for share in shares.values():
        assert share["jobs"] == 2 and 0 < share["loop_s"] < share["job_s"] and 0 < share["outside"] < 1
