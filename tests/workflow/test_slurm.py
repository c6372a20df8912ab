"""The cluster path on a real single-node SLURM cluster (tests/slurm/cluster.sh), with the real profile.

Conda is the one thing turned off (channels are unreachable here); see tests/support/slurm_profile.py.
"""

import concurrent.futures
import contextlib
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
from workflow_helpers import REPO, snakemake, tiny_config, write_config

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

DOMAINS = ["Original", "GANs", "VAEs"]
TRAIN = DOMAINS + ["Mixed"]
# The packed run: the study's 5 seeds (#17 asks for the submissions and GPUs of the study's shape; packing, and
# a group's GPU request that must not add up over parallel trainings, show only with more than one), a real
# domain, a synthetic one and Mixed (15 trainings, 15 evaluations); a third domain would add 10 jobs and
# nothing to test.
SEEDS = [1, 2, 3, 4, 5]
PACKED_DOMAINS = ["Original", "GANs"]
PACKED_TRAIN = PACKED_DOMAINS + ["Mixed"]
PER_TRAINING = ["--group-components", "model_{classifier}_{train}=1"]  # the documented switch back


def make_study(workdir, per_class=6, epochs=1, seeds=(1,), domains=DOMAINS):
    for index, name in enumerate(domains):
        make_domain(workdir / "data" / name, per_class=per_class, seed=index)
    config = tiny_config({d: {"path": f"data/{d}"} for d in domains}, seeds=seeds, epochs=epochs)
    return write_config(workdir / "study.yaml", config)


def device_line(log_path):
    match = re.search(r"^device: (.*)$", log_path.read_text(), re.MULTILINE)
    return json.loads(match.group(1))


def scontrol_job(job_id):
    return subprocess.run(["scontrol", "show", "-d", "job", str(job_id)], capture_output=True, text=True).stdout


def sbatch_calls(output):
    """Each sbatch command the SLURM plugin ran (its --verbose 'sbatch call:' lines), in order, as
    (what it submitted: 'rule_<name>' or 'group_<name>', the --gpus it asked for or 0)."""
    calls = []
    for call in re.findall(r"sbatch call: (.*)", output):
        options = re.split(r" --wrap=| /dev/stdin", call)[0]  # the options, not the job's own command
        submitted = re.search(r"slurm_logs/((?:rule|group)_[\w{}]+)/", options).group(1)
        gpus = re.findall(r"--gpus=(?:\w+:)?(\d+)", options)
        calls.append((submitted, int(gpus[0]) if gpus else 0))
    return calls


def slurm_jobs_of_domain(logs, train, seeds):
    """The SLURM job ids stated in the logs of one training domain's trainings and evaluations."""
    paths = [logs / "train_model" / "study_cnn" / train / f"seed{seed}.log" for seed in seeds]
    # each evaluation on every test split
    paths += [logs / "evaluate_model" / "study_cnn" / train / f"seed{seed}.log" for seed in seeds]
    return {device_line(path)["slurm_job_id"] for path in paths}


@contextlib.contextmanager
def local_twin_beside(workdir, *args):
    """Run snakemake locally in ``workdir`` on one core while the with-block runs the cluster side; wait for both.

    The cluster side mostly waits for SLURM (status checks; one job at a time inside a group job), so the twin
    fills the idle core. Same threads as the cluster jobs get (the test profile's one per job): CPU kernels are
    only bit-reproducible for a fixed thread count.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        twin = pool.submit(snakemake, workdir, *args, "--cores", 1, "--set-threads", "train_model=1")
        yield
        twin.result()


@pytest.fixture(scope="module")
def slurm_and_local_runs(slurm_cluster, tmp_path_factory):
    """The study's shape on tiny data, locally and with the real profile; the cluster run's dry run after it."""
    local = tmp_path_factory.mktemp("local")
    cluster = tmp_path_factory.mktemp("cluster")
    config_local, config_cluster = (make_study(d, seeds=SEEDS, domains=PACKED_DOMAINS) for d in (local, cluster))
    profile = derive_test_profile(cluster / "profile")
    with local_twin_beside(local, "--configfile", config_local):
        # --verbose: the plugin logs each sbatch command it runs.
        result = snakemake(cluster, "--profile", profile, "--configfile", config_cluster, "--verbose", timeout=1800)
    after = snakemake(cluster, "--profile", profile, "--configfile", config_cluster, "--dry-run")
    return local, cluster, result, after


def test_the_study_config_makes_one_gpu_submission_per_training_domain(slurm_cluster, tmp_path):
    """config/study.yaml as it is (5 seeds, two classifiers, a volume curve on GANs and VAEs with the first):
    8 group jobs (one per classifier and training domain), 60 without packing."""
    for index, name in enumerate(DOMAINS):
        make_domain(tmp_path / "data" / name, per_class=6, seed=index)
    study = REPO / "config" / "study.yaml"
    profile = derive_test_profile(tmp_path / "profile")
    packed = snakemake(tmp_path, "--profile", profile, "--configfile", study, "--dry-run").stdout
    expected = [f"model_{classifier}_{train}" for classifier in ("study_cnn", "resnet18") for train in TRAIN]
    assert sorted(re.findall(r"Group job (\S+) ", packed)) == sorted(expected)
    per_training = snakemake(tmp_path, "--profile", profile, "--configfile", study, "--dry-run", *PER_TRAINING)
    assert len(re.findall(r"Group job model_", per_training.stdout)) == 60


def test_each_training_domain_is_one_submission_asking_for_one_gpu(slurm_and_local_runs):
    _, cluster, result, after = slurm_and_local_runs
    calls = sbatch_calls(result.stdout + result.stderr)
    # All seeds of a training domain with their evaluations: one GPU submission; data preparation: CPU.
    packed = [(f"group_model_study_cnn_{train}_evaluate_model_train_model", 1) for train in PACKED_TRAIN]
    assert sorted(calls) == sorted(packed + [("rule_prepare_domain", 0)] * len(PACKED_DOMAINS))
    logs = cluster / "results" / "logs"
    jobs = [slurm_jobs_of_domain(logs, train, SEEDS) for train in PACKED_TRAIN]
    assert all(len(domain_jobs) == 1 and None not in domain_jobs for domain_jobs in jobs), jobs
    assert len(set().union(*jobs)) == len(PACKED_TRAIN)
    for train in PACKED_TRAIN:
        for seed in SEEDS:
            # SLURM gave the job exactly one of the node's two GPUs.
            log = logs / "train_model" / "study_cnn" / train / f"seed{seed}.log"
            visible = device_line(log)["cuda_visible_devices"]
            assert re.fullmatch(r"\d+", visible or ""), visible
    assert "Nothing to be done" in after.stdout + after.stderr


def test_cluster_results_equal_the_local_run(slurm_and_local_runs):
    local, cluster, _, _ = slurm_and_local_runs
    cells = [f"study_cnn/{tr}/{te}/seed{seed}" for tr in PACKED_TRAIN for te in PACKED_DOMAINS for seed in SEEDS]
    files = ["summary.csv", "summary_by_seed.csv"] + [f"metrics/{cell}.json" for cell in cells]
    files += [f"predictions/{cell}.csv" for cell in cells]
    match, mismatch, errors = filecmp.cmpfiles(local / "results", cluster / "results", files, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(files)


def test_the_switch_back_submits_each_training_on_its_own(slurm_and_local_runs, tmp_path):
    local, _, _, _ = slurm_and_local_runs
    seeds = SEEDS[:2]
    config = make_study(tmp_path, seeds=SEEDS, domains=PACKED_DOMAINS)
    targets = [f"results/metrics/study_cnn/Original/Original/seed{seed}.json" for seed in seeds]
    profile = derive_test_profile(tmp_path / "profile")
    result = snakemake(tmp_path, *targets, "--profile", profile, "--configfile", config, "--verbose", *PER_TRAINING)
    gpu_calls = [call for call in sbatch_calls(result.stdout + result.stderr) if call[1]]
    assert gpu_calls == [("group_model_study_cnn_Original_evaluate_model_train_model", 1)] * len(seeds)
    jobs = [slurm_jobs_of_domain(tmp_path / "results" / "logs", "Original", [seed]) for seed in seeds]
    assert all(len(seed_jobs) == 1 for seed_jobs in jobs) and len(set().union(*jobs)) == len(seeds), jobs
    for target in targets:  # the same numbers as the packed run's local twin
        assert filecmp.cmp(local / target, tmp_path / target, shallow=False)


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
    target = "results/models/study_cnn/Original/seed1/model.pt"
    configs = {}
    for workdir in (local, cluster):
        workdir.mkdir()
        configs[workdir] = make_study(workdir, per_class=40, epochs=6)
    checkpoint = cluster / "results" / "checkpoints" / "study_cnn" / "Original" / "seed1.pt"
    log = cluster / "results" / "logs" / "train_model" / "study_cnn" / "Original" / "seed1.log"
    stop, cancelled = threading.Event(), {}
    watcher = threading.Thread(
        target=lambda: cancelled.update(job=cancel_after_first_checkpoint(checkpoint, log, stop)), daemon=True
    )
    watcher.start()
    profile = derive_test_profile(cluster / "profile")
    with local_twin_beside(local, target, "--configfile", configs[local]):  # the uninterrupted training
        try:
            snakemake(cluster, target, "--profile", profile, "--configfile", configs[cluster], timeout=1200)
        finally:
            stop.set()
            watcher.join(5)
    assert cancelled.get("job"), "the training finished before it could be cancelled"
    assert "CANCELLED" in scontrol_job(cancelled["job"])
    resumed = re.search(r"resuming from checkpoint .* after epoch (\d+)", log.read_text())
    assert resumed and 1 <= int(resumed.group(1)) < 6
    history = lambda d: json.loads((d / "results/models/study_cnn/Original/seed1/history.json").read_text())  # noqa: E731
    assert history(cluster)["history"] == history(local)["history"]
    ours = torch.load(cluster / target, weights_only=True)
    theirs = torch.load(local / target, weights_only=True)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
