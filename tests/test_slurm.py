"""The cluster path on a real single-node SLURM cluster (tests/slurm/cluster.sh), with the real profile.

Conda is the one thing turned off (channels are unreachable here); see tests/slurm/slurm_profile.py.
"""

import filecmp
import json
import re
import subprocess
import threading
import time

import pytest
import torch
from helpers import make_domain
from slurm_profile import derive_test_profile
from workflow_helpers import snakemake, tiny_config, write_config

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

DOMAINS = ["Original", "GANs", "VAEs"]
TRAIN = DOMAINS + ["Mixed"]


def make_study(workdir, per_class=6, epochs=1):
    for index, name in enumerate(DOMAINS):
        make_domain(workdir / "data" / name, per_class=per_class, seed=index)
    return write_config(
        workdir / "study.yaml", tiny_config({d: {"path": f"data/{d}"} for d in DOMAINS}, epochs=epochs)
    )


def device_line(log_path):
    match = re.search(r"^device: (.*)$", log_path.read_text(), re.MULTILINE)
    return json.loads(match.group(1))


def scontrol_job(job_id):
    return subprocess.run(["scontrol", "show", "-d", "job", str(job_id)], capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def slurm_and_local_runs(slurm_cluster, tmp_path_factory):
    local = tmp_path_factory.mktemp("local")
    cluster = tmp_path_factory.mktemp("cluster")
    config_local, config_cluster = make_study(local), make_study(cluster)
    # Same threads as the cluster jobs get (the profile's, capped by the 2-CPU node): CPU kernels
    # are only bit-reproducible for a fixed thread count.
    snakemake(local, "--configfile", config_local, "--cores", 2, "--set-threads", "train_model=2")
    profile = derive_test_profile(cluster / "profile")
    result = snakemake(cluster, "--profile", profile, "--configfile", config_cluster, timeout=1200)
    return local, cluster, result


def test_dry_run_with_the_profile_shows_one_group_job_per_training(slurm_cluster, tmp_path):
    config = make_study(tmp_path)
    profile = derive_test_profile(tmp_path / "profile")
    output = snakemake(tmp_path, "--profile", profile, "--configfile", config, "--dry-run").stdout
    assert output.count("Group job model") == 4


def test_each_training_ran_as_a_gpu_job_with_its_evaluations(slurm_and_local_runs):
    _, cluster, _ = slurm_and_local_runs
    logs = cluster / "results" / "logs"
    training_jobs = set()
    for train in TRAIN:
        device = device_line(logs / "train_model" / train / "seed1.log")
        job_id = device["slurm_job_id"]
        assert job_id and device["cuda_visible_devices"] not in (None, "")
        details = scontrol_job(job_id)
        assert re.search(r"gpu[:=]1", details), details  # the job itself asked SLURM for one GPU
        training_jobs.add(job_id)
        for test in DOMAINS:
            evaluation = device_line(logs / "evaluate_model" / train / test / "seed1.log")
            assert evaluation["slurm_job_id"] == job_id  # evaluated inside the training's allocation
    assert len(training_jobs) == 4  # one GPU submission per training


def test_cluster_results_equal_the_local_run(slurm_and_local_runs):
    local, cluster, _ = slurm_and_local_runs
    files = ["summary.csv"] + [f"metrics/{tr}/{te}/seed1.json" for tr in TRAIN for te in DOMAINS]
    files += [f"predictions/{tr}/{te}/seed1.csv" for tr in TRAIN for te in DOMAINS]
    match, mismatch, errors = filecmp.cmpfiles(local / "results", cluster / "results", files, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(files)


def cancel_after_first_checkpoint(checkpoint, log, stop):
    """Wait for the first epoch checkpoint, then scancel the running training job."""
    while not stop.is_set():
        if checkpoint.exists():
            job_id = device_line(log)["slurm_job_id"]
            subprocess.run(["scancel", job_id], check=True)
            return job_id
        time.sleep(0.2)


def test_a_cancelled_training_is_retried_and_resumes_to_the_same_model(slurm_cluster, tmp_path):
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    target = "results/models/Original/seed1/model.pt"
    configs = {}
    for workdir in (local, cluster):
        workdir.mkdir()
        configs[workdir] = make_study(workdir, per_class=40, epochs=6)
    snakemake(local, target, "--configfile", configs[local], "--cores", 2, "--set-threads", "train_model=2")

    checkpoint = cluster / "results" / "checkpoints" / "Original" / "seed1.pt"
    log = cluster / "results" / "logs" / "train_model" / "Original" / "seed1.log"
    stop, cancelled = threading.Event(), {}
    watcher = threading.Thread(
        target=lambda: cancelled.update(job=cancel_after_first_checkpoint(checkpoint, log, stop)), daemon=True
    )
    watcher.start()
    profile = derive_test_profile(cluster / "profile")
    try:
        snakemake(cluster, target, "--profile", profile, "--configfile", configs[cluster], timeout=1200)
    finally:
        stop.set()
        watcher.join(5)
    assert cancelled.get("job"), "the training finished before it could be cancelled"
    assert "CANCELLED" in scontrol_job(cancelled["job"])
    resumed = re.search(r"resuming from checkpoint .* after epoch (\d+)", log.read_text())
    assert resumed and 1 <= int(resumed.group(1)) < 6
    history = lambda d: json.loads((d / "results/models/Original/seed1/history.json").read_text())  # noqa: E731
    assert history(cluster)["history"] == history(local)["history"]
    ours = torch.load(cluster / target, weights_only=True)
    theirs = torch.load(local / target, weights_only=True)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
