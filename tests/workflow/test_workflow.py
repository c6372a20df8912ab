"""End-to-end: the real snakemake command on the tiny demo (a few phantoms per class, one epoch)."""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from helpers import make_domain
from workflow_helpers import REPO, TINY_STUDY_DOMAINS, planned_jobs, snakemake, tiny_config, write_config

pytestmark = pytest.mark.workflow

TINY_DEMO = TINY_STUDY_DOMAINS
TRAIN = ["Original", "GANs", "VAEs", "Mixed"]
TEST = ["Original", "GANs", "VAEs"]


@pytest.fixture
def demo_run(tiny_study):
    """The session's shared tiny study (tests/conftest.py): (workdir, config); tests copy it before changing it."""
    return tiny_study


def test_default_config_dry_run_lists_4_trainings_and_one_evaluation_of_each_per_seed(tmp_path):
    jobs = planned_jobs(tmp_path, "--configfile", REPO / "config" / "config.yaml")
    seeds = (1, 2, 3)  # config/config.yaml
    assert sum(rule == "train_model" for rule, _ in jobs) == 4 * len(seeds)
    # One evaluation job per model scores it on all 3 test splits (12 cells per seed).
    each_model = {f"classifier=study_cnn,seed={s},train={t}" for t in TRAIN for s in seeds}
    assert {w for rule, w in jobs if rule == "evaluate_model"} == each_model
    assert {w for rule, w in jobs if rule == "train_model"} == each_model


def test_a_dry_run_needs_no_torch_nor_the_other_analysis_libraries(tmp_path):
    """A login node with only Snakemake installed plans the study: the Snakefile and rules import none of these."""
    heavy = ("torch", "torchvision", "sklearn", "scipy", "matplotlib")
    # A None entry in sys.modules makes every import of that package (and its submodules) fail.
    program = (
        f"import sys\nfor name in {heavy!r}:\n    sys.modules[name] = None\nfrom snakemake.cli import main\nmain()"
    )
    command = [sys.executable, "-c", program, "--snakefile", REPO / "Snakefile", "--directory", tmp_path]
    result = subprocess.run(
        [*map(str, command), "--configfile", str(REPO / "config" / "config.yaml"), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "train_model" in result.stdout and "evaluate_model" in result.stdout


def test_the_5_seed_study_config_passes_a_dry_run(tmp_path):
    for index, name in enumerate(TEST):  # config/study.yaml reads data/{Original,GANs,VAEs}
        make_domain(tmp_path / "data" / name, per_class=10, seed=index)
    jobs = planned_jobs(tmp_path, "--configfile", REPO / "config" / "study.yaml")
    count = {rule: sum(r == rule for r, _ in jobs) for rule in {r for r, _ in jobs}}
    # the study CNN and ResNet-18; each evaluation on the 3 test splits
    assert count["train_model"] == 2 * 4 * 5 and count["evaluate_model"] == 2 * 4 * 5
    assert {w.split(",")[0] for r, w in jobs if r == "train_model"} == {"classifier=study_cnn", "classifier=resnet18"}
    # volume curve of GANs and VAEs at 25% and 50% (100% is the main training), with the first classifier
    assert count["train_model_on_part"] == 2 * 2 * 5 and count["evaluate_model_on_part"] == 2 * 2 * 5


def test_every_output_exists_and_agrees(demo_run):
    workdir, _ = demo_run
    results = workdir / "results"
    summary = pd.read_csv(results / "summary.csv")
    assert len(summary) == 12
    assert list(summary.columns[:2]) == ["train", "test"]
    assert sorted(zip(summary.train, summary.test)) == sorted((tr, te) for tr in TRAIN for te in TEST)
    for name in ("heatmap_accuracy", "heatmap_f1", "confusion_matrices"):
        for ext in ("png", "pdf"):
            assert (results / "figures" / f"{name}.{ext}").stat().st_size > 1000
    assert "| Mixed" in (results / "summary.md").read_text()
    for test in TEST:
        manifest = pd.read_csv(results / "splits" / f"{test}.csv")
        n_test = int((manifest.split == "test").sum())
        for train in TRAIN:
            metrics = json.loads((results / "metrics" / "study_cnn" / train / test / "seed1.json").read_text())
            counts = metrics["confusion_matrix"]["counts"]
            assert sum(map(sum, counts)) == n_test  # the confusion matrix covers the test split
            predictions = pd.read_csv(results / "predictions" / "study_cnn" / train / test / "seed1.csv")
            assert len(predictions) == n_test
            assert list(predictions.columns) == ["image", "group", "true_label", "prob_pneumonia", "pred_label"]
            assert ((predictions.prob_pneumonia >= 0.5).astype(int) == predictions.pred_label).all()
            assert metrics["accuracy"] == pytest.approx((predictions.true_label == predictions.pred_label).mean())
            row = summary[(summary.train == train) & (summary.test == test)].iloc[0]
            assert row.accuracy == pytest.approx(metrics["accuracy"])
            assert metrics["provenance"]["device"] == "cpu"
            assert {"torch", "scikit-learn"} <= set(metrics["provenance"]["packages"])
    # Mixed trains on the union of the members' train splits, less the members' validation slices.
    models = results / "models" / "study_cnn"
    histories = {t: json.loads((models / t / "seed1" / "history.json").read_text()) for t in TRAIN}
    train_sizes = [int((pd.read_csv(results / "splits" / f"{d}.csv").split == "train").sum()) for d in TEST]
    mixed = histories["Mixed"]
    assert mixed["train_images"] + mixed["validation_images"] == sum(train_sizes)
    assert mixed["validation_images"] == sum(histories[d]["validation_images"] for d in TEST) > 0
    for domain, size in zip(TEST, train_sizes):
        assert histories[domain]["train_images"] + histories[domain]["validation_images"] == size
    # A model and its metrics record the same configuration hash.
    for train in TRAIN:
        metrics = json.loads((results / "metrics" / "study_cnn" / train / TEST[0] / "seed1.json").read_text())
        assert metrics["provenance"]["config_sha256"] == histories[train]["config_sha256"]


def test_a_second_run_has_nothing_to_do(demo_run):
    workdir, config = demo_run
    assert planned_jobs(workdir, "--configfile", config) == set()
    result = snakemake(workdir, "--configfile", config, "--cores", 2)
    assert "Nothing to be done" in result.stdout + result.stderr


def test_a_demo_setting_of_one_domain_reruns_only_that_domain_and_its_dependents(demo_run, tmp_path):
    workdir, _ = demo_run
    copy = tmp_path / "run"
    shutil.copytree(workdir, copy, symlinks=True)  # mtimes and Snakemake's metadata included
    # The copy lies one folder deeper relative to the checkout: a moved run directory reruns nothing.
    assert planned_jobs(copy, "--configfile", copy / "config.yaml") == set()
    config = yaml.safe_load((copy / "config.yaml").read_text())
    config["domains"]["GANs"]["demo"]["per_class"] += 2
    write_config(copy / "config.yaml", config)
    jobs = planned_jobs(copy, "--configfile", copy / "config.yaml")
    rules = {rule for rule, _ in jobs}
    assert {w for r, w in jobs if r in ("make_demo_domain", "prepare_domain")} == {"domain=GANs"}
    model = "classifier=study_cnn,seed=1,train="
    assert {w for r, w in jobs if r == "train_model"} == {f"{model}GANs", f"{model}Mixed"}
    # GANs' test split changed: every model is evaluated again, once (one job scores all test splits).
    assert {w for r, w in jobs if r == "evaluate_model"} == {f"{model}{tr}" for tr in TRAIN}
    # The leakage checks of the retrained models' own pairs (they rerun no other model) and the one job of the
    # other pairs, which reads every manifest and reruns only evaluations.
    assert {w for r, w in jobs if r == "check_leakage"} == {
        f"test={te},train={tr}" for tr in ("GANs", "Mixed") for te in TEST if tr == "Mixed" or te == "GANs"
    }
    assert ("check_leakage_across", "") in jobs
    assert rules == {"make_demo_domain", "prepare_domain", "check_leakage", "train_model", "evaluate_model"} | {
        "check_leakage_across",
        "summarize",
        "compare_domains",
        "report_tables",
        "plot_figures",
    }


def test_missing_domain_folder_fails_before_any_job_naming_domain_and_folder(demo_run, tmp_path):
    workdir, _ = demo_run
    before = {p: p.stat().st_mtime_ns for p in (workdir / "results").rglob("*") if p.is_file()}
    domains = dict(TINY_DEMO, GANs={"path": "data/GANs-typo"})
    config = write_config(tmp_path / "bad.yaml", tiny_config(domains))
    result = snakemake(workdir, "--configfile", config, "--cores", 2, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "domain 'GANs': folder data/GANs-typo does not exist" in output
    assert "rule prepare_domain" not in output  # nothing was scheduled
    after = {p: p.stat().st_mtime_ns for p in (workdir / "results").rglob("*") if p.is_file()}
    assert after == before  # nothing already computed was touched


@pytest.mark.slow
def test_unreadable_image_stops_before_training_naming_the_file(tmp_path):
    for name in TEST:
        make_domain(tmp_path / "data" / name, per_class=6, seed=len(name))
    (tmp_path / "data" / "VAEs" / "PNEUMONIA" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    domains = {name: {"path": f"data/{name}"} for name in TEST}
    config = write_config(tmp_path / "config.yaml", tiny_config(domains))
    result = snakemake(tmp_path, "--configfile", config, "--cores", 2, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "domain 'VAEs': 1 unreadable image(s)" in output and "broken.png" in output
    assert not list((tmp_path / "results").glob("models/*/*/seed1/model.pt"))


def test_invalid_config_names_the_key(tmp_path):
    config = tiny_config(TINY_DEMO)
    config["test_fraction"] = 1.5
    result = snakemake(tmp_path, "--configfile", write_config(tmp_path / "c.yaml", config), "-n", check=False)
    assert result.returncode != 0
    assert "test_fraction" in result.stdout + result.stderr


@pytest.mark.parametrize("key, value", [("alpha", 0.7), ("interval_resamples", 0), ("typo_resamples", 100)])
def test_invalid_statistics_setting_names_the_key(tmp_path, key, value):
    config = tiny_config(TINY_DEMO)
    config["statistics"] = {key: value}
    result = snakemake(tmp_path, "--configfile", write_config(tmp_path / "c.yaml", config), "-n", check=False)
    assert result.returncode != 0
    assert key in result.stdout + result.stderr


def test_mixed_training_images_are_in_no_test_split(demo_run):
    workdir, _ = demo_run
    splits = {d: pd.read_csv(workdir / "results" / "splits" / f"{d}.csv") for d in TEST}
    mixed_train = set().union(*(set(s.pixel_hash[s.split == "train"]) for s in splits.values()))
    all_test = set().union(*(set(s.pixel_hash[s.split == "test"]) for s in splits.values()))
    history = json.loads((workdir / "results/models/study_cnn/Mixed/seed1/history.json").read_text())
    assert history["sources"] == TEST
    assert mixed_train.isdisjoint(all_test)
    for test in TEST:
        metrics = json.loads((workdir / "results/metrics/study_cnn/Mixed" / test / "seed1.json").read_text())
        assert metrics["train_test_overlap"]["images"] == 0


@pytest.mark.slow
def test_synthetic_copies_of_real_test_images_are_leakage(tmp_path):
    import shutil

    for index, name in enumerate(TEST):
        make_domain(tmp_path / "data" / name, per_class=6, seed=index)
    # A "synthetic" set that contains copies of every real image, test images included.
    for path in (tmp_path / "data" / "Original").rglob("*.png"):
        shutil.copy(path, tmp_path / "data" / "GANs" / path.parent.name / f"copy_{path.name}")
    config = tiny_config({name: {"path": f"data/{name}"} for name in TEST})
    config["leakage"] = "error"
    config_path = write_config(tmp_path / "config.yaml", config)
    # The GANs model itself is sound (its own test split has no copies); its test on Original is not.
    # Mixed trains on the GANs and Original train splits together: copies of its own test images.
    targets = ["results/metrics/study_cnn/GANs/Original/seed1.json", "results/models/study_cnn/Mixed/seed1/model.pt"]
    result = snakemake(tmp_path, *targets, "--configfile", config_path, "--cores", 2, "--keep-going", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "test image(s) of domain 'Original' are exact copies of training images of 'GANs', e.g. [" in output
    assert "test image(s) of domain 'Original' are exact copies of training images of 'Mixed', e.g. [" in output
    assert "leakage: report to continue" in output
    # stopped before training
    assert not (tmp_path / "results" / "logs" / "train_model" / "study_cnn" / "Mixed").exists()
    assert not (tmp_path / "results" / "logs" / "evaluate_model").exists()  # and before the evaluation
    config["leakage"] = "report"
    target = "results/metrics/study_cnn/GANs/Original/seed1.json"
    snakemake(tmp_path, target, "--configfile", write_config(tmp_path / "config.yaml", config), "--cores", 2)
    metrics = json.loads((tmp_path / target).read_text())
    checked = json.loads((tmp_path / "results" / "leakage" / "GANs" / "Original.json").read_text())
    assert metrics["train_test_overlap"]["images"] == len(checked["test_images"]["Original"]) > 0
    assert metrics["train_test_overlap"]["test_images"] == checked["test_images"]["Original"]


@pytest.mark.parametrize(
    "key, change",
    [
        ("seeds", lambda c: c.update(seeds=[2**40])),
        ("split_seed", lambda c: c.update(split_seed=2**31)),
        ("demo", lambda c: c["domains"]["GANs"]["demo"].update(seed=2**63)),
    ],
)
def test_a_seed_beyond_32_bits_is_refused_at_dry_run(tmp_path, key, change):
    # Was: accepted, then the training crashed with "Overflow when unpacking long long".
    config = tiny_config(TINY_DEMO)
    change(config)
    result = snakemake(tmp_path, "--configfile", write_config(tmp_path / "c.yaml", config), "-n", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "is greater than the maximum of 2147483647" in output and key in output


def test_a_folder_beside_the_class_folders_is_noted_at_dry_run(tmp_path):
    for index, name in enumerate(TEST):
        make_domain(tmp_path / "data" / name, per_class=6, seed=index)
    make_domain(tmp_path / "data" / "GANs" / "COVID", per_class=2, classes=("x",))
    config = tiny_config({name: {"path": f"data/{name}"} for name in TEST})
    result = snakemake(tmp_path, "--configfile", write_config(tmp_path / "c.yaml", config), "-n")
    assert "Note: domain 'GANs': 1 folder(s) or image(s) in data/GANs are outside the class folders" in result.stderr
