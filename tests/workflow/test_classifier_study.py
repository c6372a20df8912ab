"""Classifiers as a dimension of the study (config `classifiers:`, issue 26): per-classifier tables, comparisons
with the reference trained by the same classifier (Holm over the whole table), whether the classifiers agree,
weights files checked at dry run, provenance, reruns and the SLURM groups.

One tiny real run (64 px, 1 epoch, 1 seed, two demo domains, two classifiers: the study CNN and ResNet-18 from a
local weights file); everything else is a dry run. The tables of several classifiers:
tests/unit/test_classifier_tables.py.
"""

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from helpers import make_domain
from slurm_profile import derive_test_profile
from workflow_helpers import planned_jobs, snakemake, write_config

from synthcxr import classifiers
from synthcxr.stats import holm_adjust

DOMAINS = {
    "Original": {"demo": {"per_class": 25, "shift": "none"}, "kind": "real"},
    "GANs": {"demo": {"per_class": 25, "shift": "gan"}, "kind": "synthetic"},
}
TRAINS = list(DOMAINS)
SUMMARY = {("summarize", ""), ("compare_domains", ""), ("report_tables", ""), ("plot_figures", "")}
BOOTSTRAP = {"n_boot": 50, "alpha": 0.05, "seed": 7, "min_groups_per_class": 2}


def study_config(classifiers, domains=DOMAINS, seeds=(1,)):
    """A tiny study of ``classifiers``: 64 px (the smallest size the torchvision classifiers are tested at),
    1 epoch, no Mixed, few bootstrap replicates."""
    return {
        "image_size": 64,
        "domains": domains,
        "mixed": {"name": "Mixed", "members": []},
        "training": {"epochs": 1},
        "seeds": list(seeds),
        "device": "cpu",
        "statistics": {"interval_resamples": 50, "comparison_resamples": 50},
        "classifiers": classifiers,
    }


def random_resnet18_file(path, seed):
    """A weights file in torchvision's format (3 input channels, 1000 classes), from a random init."""
    torch.manual_seed(seed)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    return path


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- Dry runs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["missing", "mismatched"])
def test_a_missing_or_mismatched_weights_file_is_refused_at_dry_run_naming_the_classifier_and_the_file(
    tmp_path, problem
):
    weights = tmp_path / "weights" / "resnet18.pth"
    if problem == "mismatched":
        weights.parent.mkdir()
        random_resnet18_file(weights, seed=1)  # a ResNet-18 file, given to a DenseNet-121
    architecture = "densenet121" if problem == "mismatched" else "resnet18"
    classifiers = {"study_cnn": {"architecture": "study_cnn"}, "pretrained": {"architecture": architecture}}
    classifiers["pretrained"]["weights"] = "weights/resnet18.pth"
    config = write_config(tmp_path / "study.yaml", study_config(classifiers))
    result = snakemake(tmp_path, "--dry-run", "--configfile", config, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "pretrained" in output and str(weights) in output
    expected = "does not exist" if problem == "missing" else "does not fit densenet121: missing keys"
    assert expected in output
    assert not (tmp_path / "results").exists()  # refused before any job


def test_a_dry_run_of_the_slurm_profile_submits_one_gpu_job_per_classifier_and_training_domain(tmp_path):
    for index, name in enumerate(TRAINS):
        make_domain(tmp_path / "data" / name, per_class=6, seed=index)
    domains = {name: {"path": f"data/{name}", "kind": settings["kind"]} for name, settings in DOMAINS.items()}
    config = study_config(
        {"study_cnn": {"architecture": "study_cnn"}, "resnet18": {"architecture": "resnet18"}}, domains, seeds=(1, 2)
    )
    config["mixed"]["members"] = TRAINS
    profile = derive_test_profile(tmp_path / "profile")
    dry_run = snakemake(
        tmp_path, "--profile", profile, "--configfile", write_config(tmp_path / "study.yaml", config), "--dry-run"
    ).stdout
    groups = re.findall(r"Group job (\S+) ", dry_run)
    expected = [f"model_{c}_{t}" for c in ("study_cnn", "resnet18") for t in [*TRAINS, "Mixed"]]
    assert sorted(groups) == sorted(expected)
    # Each group: both seeds' trainings and evaluations of its classifier and domain, on one GPU.
    for block in re.split(r"(?=Group job )", dry_run)[1:]:
        name = re.match(r"Group job model_(\w+?)_(Original|GANs|Mixed) ", block).groups()
        jobs = re.findall(r"rule (train_model|evaluate_model):\n(?:.*\n)*? +wildcards: (.*)", block)
        assert sorted(rule for rule, _ in jobs) == ["evaluate_model"] * 2 + ["train_model"] * 2, block
        assert all(f"classifier={name[0]}, train={name[1]}" in wildcards for _, wildcards in jobs)


# --- One real run --------------------------------------------------------------------------------------------

CLASSIFIERS = {
    "study_cnn": {"architecture": "study_cnn"},
    "resnet18": {"architecture": "resnet18", "weights": "weights/resnet18.pth"},
}


@pytest.fixture(scope="module")
def classifier_study(tmp_path_factory):
    """The tiny study of two classifiers, finished (then a dry run has nothing to do)."""
    workdir = tmp_path_factory.mktemp("classifiers")
    (workdir / "weights").mkdir()
    random_resnet18_file(workdir / "weights" / "resnet18.pth", seed=3)
    write_config(workdir / "study.yaml", study_config(CLASSIFIERS))
    snakemake(workdir, "--configfile", workdir / "study.yaml", "--cores", 2)
    return workdir


def plan_after(workdir, change):
    """The jobs of a dry run of ``workdir`` with its config changed by ``change`` (a copy of the config)."""
    config = study_config(json.loads(json.dumps(CLASSIFIERS)))
    change(config)
    return planned_jobs(workdir, "--configfile", write_config(workdir / "changed.yaml", config))


def jobs_of(classifier):
    return {
        (rule, f"classifier={classifier},seed=1,train={t}")
        for rule in ("train_model", "evaluate_model")
        for t in TRAINS
    }


@pytest.mark.slow
@pytest.mark.workflow
def test_every_classifier_has_its_rows_and_comparisons_and_the_findings_say_whether_they_agree(classifier_study):
    results = classifier_study / "results"
    summary = pd.read_csv(results / "summary.csv")
    assert list(summary.columns[:3]) == ["classifier", "train", "test"]
    assert list(dict.fromkeys(summary["classifier"])) == list(CLASSIFIERS)
    assert len(summary) == len(CLASSIFIERS) * len(TRAINS) * len(DOMAINS)
    comparisons = pd.read_csv(results / "comparisons.csv")
    for row in comparisons.itertuples():  # each against the reference trained with the same classifier
        reference = summary[(summary.classifier == row.classifier) & (summary.train == "Original")]
        assert row.reference_value == pytest.approx(float(reference[reference.test == row.test][row.metric].iloc[0]))
    tested = comparisons[comparisons["p_value"].notna()]
    assert len(tested) > len(comparisons) // 2  # 5 patient groups per class: tests run
    for _, family in tested.groupby("family"):  # Holm over every classifier's rows of a family
        np.testing.assert_allclose(family["p_holm"], holm_adjust(family["p_value"].to_numpy(dtype=float)))
    findings = (results / "findings.md").read_text()
    section = findings.split("## Do the classifiers agree?")[1]
    assert all(f"| {name}" in section or f" {name} " in section for name in CLASSIFIERS)
    assert "GANs" in section and ("The classifiers agree" in section or "The classifiers disagree" in section)
    assert "GANs [resnet18]" in (results / "summary.md").read_text()


@pytest.mark.slow
@pytest.mark.workflow
def test_a_weights_file_is_loaded_adapted_and_recorded(classifier_study):
    results = classifier_study / "results"
    weights = classifier_study / "weights" / "resnet18.pth"
    trained = torch.load(results / "models/resnet18/GANs/seed1/model.pt", weights_only=True)
    loaded = torch.load(weights, weights_only=True)
    scratch = classifiers.new_model({"seed": 1}, 64, {"architecture": "resnet18"}).state_dict()  # no weights
    # 3 Adam steps of lr 0.001 move a weight by a few thousandths: the training started from the file's
    # weights, the first convolution's RGB filters summed to one gray channel, not from the seed's init.
    first = loaded["conv1.weight"].sum(dim=1, keepdim=True)
    assert trained["conv1.weight"].shape == first.shape == (64, 1, 7, 7)
    for key, start in (("conv1.weight", first), ("layer1.0.conv1.weight", loaded["layer1.0.conv1.weight"])):
        assert (trained[key] - start).abs().max() < 0.01, key
        assert (trained[key] - scratch[key]).abs().max() > 0.05, key  # a run without the file ends elsewhere
    run_info = json.loads((results / "models/resnet18/GANs/seed1/run_info.json").read_text())["classifier"]
    assert run_info["weights"] == sha256(weights) and run_info["weights_file"] == str(weights)
    assert run_info["architecture"] == "resnet18" and run_info["parameters"] == 11_171_266
    provenance = json.loads((results / "provenance.json").read_text())["classifiers"]
    assert provenance["study_cnn"]["weights"] == "random init" and provenance["study_cnn"]["parameters"] < 200_000
    assert provenance["resnet18"]["settings"]["epochs"] == 1
    methods = " ".join((results / "methods.html").read_text().split())
    assert f"sha256 {sha256(weights)}" in methods and "parameters, random init" in methods


@pytest.mark.slow
@pytest.mark.workflow
def test_changing_one_classifiers_settings_or_weights_reruns_only_its_jobs_and_the_summaries(classifier_study):
    assert plan_after(classifier_study, lambda config: None) == set()
    faster = plan_after(classifier_study, lambda config: config["classifiers"]["resnet18"].update(lr=0.01))
    assert faster == jobs_of("resnet18") | SUMMARY
    random_resnet18_file(classifier_study / "weights" / "other.pth", seed=4)
    other = plan_after(
        classifier_study, lambda config: config["classifiers"]["resnet18"].update(weights="weights/other.pth")
    )
    assert other == jobs_of("resnet18") | SUMMARY
    study_cnn = plan_after(classifier_study, lambda config: config["classifiers"]["study_cnn"].update(epochs=2))
    assert study_cnn == jobs_of("study_cnn") | SUMMARY
    # Leaving a classifier out reruns the summaries alone.
    assert plan_after(classifier_study, lambda config: config["classifiers"].pop("resnet18")) == SUMMARY
