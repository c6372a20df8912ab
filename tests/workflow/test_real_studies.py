"""Real studies (issue #13, data side): domain roles, given splits, external test sets, what a
generator saw, patients and identical images across domains (issue #14, item 3).

Trees in Kaggle's chest_xray layout are built in temporary folders, from the real Kermany sample
beside the project (symlinks; skipped with a reason where it is absent) or from the demo renderer.
"""

import filecmp
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import make_domain
from kaggle_trees import (
    PATIENT,
    SAMPLE,
    demo_tree,
    kaggle_tree_reusing_person_numbers,
    link_tree,
    needs_sample,
    sample_patients,
)
from workflow_helpers import REPO, planned_jobs, snakemake, tiny_config, with_kinds, write_config


def count_images(folder):
    return sum(1 for path in Path(folder).rglob("*") if path.suffix.lower() in (".png", ".jpeg", ".jpg"))


def dry_run_error(tmp_path, config):
    """The output of a dry run expected to fail at DAG time (nothing scheduled)."""
    result = snakemake(tmp_path, "--configfile", write_config(tmp_path / "config.yaml", config), "-n", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "rule prepare_domain" not in output  # refused before any job was planned
    return output


# ---------------------------------------------------------------- bad input: one error at dry-run time
# End-to-end cases: a config error of the first check and of the last cross-key check, and a folder error. Every
# config error's message is a unit test of synthcxr.study (test_study.py), in milliseconds.


def _study(tmp_path, **extra):
    for name in ("Original", "Hospital2", "GANs"):
        make_domain(tmp_path / "data" / name, per_class=6, seed=len(name))
    make_domain(tmp_path / "data" / "External", per_class=2, seed=99)
    domains = {
        "Original": {"path": "data/Original", "kind": "real"},
        "GANs": {"path": "data/GANs", "kind": "synthetic"},
        "External": {"path": "data/External", "kind": "real", "split": "test"},
    }
    config = tiny_config(domains)
    config["mixed"]["members"] = ["Original", "GANs"]
    config.update(extra)
    return config


def test_a_path_domain_without_kind_is_refused_listing_such_domains(tmp_path):
    config = _study(tmp_path)
    del config["domains"]["GANs"]["kind"], config["domains"]["Original"]["kind"]
    assert "domains ['Original', 'GANs']: say what each domain's images are with kind: real" in dry_run_error(
        tmp_path, config
    )


def test_split_folders_without_test_folder_is_refused_at_dry_run(tmp_path):
    config = _study(tmp_path)
    config["domains"]["Original"]["split"] = "folders"  # data/Original has class folders, no train/ test/
    output = dry_run_error(tmp_path, config)
    assert "domain 'Original' (split: folders)" in output and "no train/ or test/ subfolder" in output


def test_generator_trained_on_an_external_test_set_is_refused_naming_the_key(tmp_path):
    # Was: "domains.GANs: source/reference 'External' must be ...", naming no key the config has.
    config = _study(tmp_path)
    config["domains"]["GANs"]["generator_trained_on"] = {"domain": "External", "split": "train"}
    output = dry_run_error(tmp_path, config)
    assert "domains.GANs.generator_trained_on.domain: 'External' must be another domain that is not generated" in output
    assert "not an external test set (split: test): the fidelity of GANs is measured against it" in output


def test_the_dag_never_trains_an_external_test_set_and_tests_every_model_on_it(tmp_path):
    models = ("Original", "GANs", "Mixed")
    # Targets beside the study's own: the dry run fails unless each model's evaluation scores it on External.
    external = [f"results/metrics/study_cnn/{t}/External/seed1.json" for t in models]
    jobs = planned_jobs(tmp_path, "all", *external, "--configfile", write_config(tmp_path / "c.yaml", _study(tmp_path)))
    each_model = {f"classifier=study_cnn,seed=1,train={t}" for t in models}
    assert {w for rule, w in jobs if rule == "train_model"} == each_model
    assert {w for rule, w in jobs if rule == "evaluate_model"} == each_model
    assert ("check_leakage", "train=External") not in jobs


# ---------------------------------------------------------------- identical domains (issue #14, item 3)


@pytest.mark.slow
@pytest.mark.workflow
def test_two_domains_on_the_same_images_stop_the_run_with_leakage_error(tmp_path):
    """Before: identical splits, 0 copies counted, the run went on. Now: the run stops where the two meet.

    Checks are per (training domain, test domain) pair (so that a change to one domain reruns no unrelated
    training): the pairs of GANs and Original stop their evaluations on each other and Mixed's training."""
    make_domain(tmp_path / "data" / "Original", per_class=6, seed=1)
    make_domain(tmp_path / "data" / "VAEs", per_class=6, seed=2)
    domains = {
        "Original": {"path": "data/Original", "kind": "real"},
        "GANs": {"path": "data/Original", "kind": "synthetic"},  # mistyped: the real folder
        "VAEs": {"path": "data/VAEs", "kind": "synthetic"},
    }
    config = dict(tiny_config(domains), leakage="error")
    result = snakemake(tmp_path, "--configfile", write_config(tmp_path / "c.yaml", config), "--cores", 2, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "domains 'GANs' and 'Original' share 12 images (100% of the smaller" in output
    logs = tmp_path / "results" / "logs"
    assert not (logs / "train_model" / "study_cnn" / "Mixed").exists()
    assert not (logs / "evaluate_model" / "study_cnn" / "GANs").exists()
    config["leakage"] = "report"
    target = "results/leakage/VAEs/Original.json"
    snakemake(tmp_path, target, "--configfile", write_config(tmp_path / "c.yaml", config), "--cores", 2)
    checked = json.loads((tmp_path / target).read_text())
    assert checked["domain_overlaps"] == []  # VAEs shares nothing with Original
    target = "results/leakage/GANs/Original.json"
    snakemake(tmp_path, target, "--configfile", write_config(tmp_path / "c.yaml", config), "--cores", 2)
    checked = json.loads((tmp_path / target).read_text())
    assert checked["domain_overlaps"] == [
        {"domains": ["GANs", "Original"], "shared_images": 12, "share": 1.0, "identical": True}
    ]


# ---------------------------------------------------------------- patients across real domains


@needs_sample
@pytest.mark.slow
@pytest.mark.workflow
def test_a_planted_patient_in_another_domain_of_the_same_id_space_is_found_and_stops_with_leakage_error(tmp_path):
    patients = sample_patients()
    stop = link_tree(tmp_path / "Original", {"": 8}, patients)
    link_tree(tmp_path / "Hospital2", {"": 6}, patients, start=stop)
    # One patient's images, split between Original (trained on) and Hospital2 (tested on).
    paths = next(paths for paths in list(patients["PNEUMONIA"].values())[40:] if len(paths) > 1)
    for folder, path in ((tmp_path / "Original", paths[0]), (tmp_path / "Hospital2", paths[1])):
        (folder / "PNEUMONIA" / path.name).symlink_to(path)
    pattern = PATIENT.pattern
    # One patient_id_space: the config says the two hospitals' ids name the same patients.
    same = {"group_pattern": pattern, "patient_id_space": "hospitals"}
    domains = {
        "Original": {"path": "Original", "kind": "real", **same},
        "Hospital2": {"path": "Hospital2", "kind": "real", "split": "test", **same},
        "GANs": {"demo": {"per_class": 6, "shift": "gan"}},
    }
    config = dict(tiny_config(domains), leakage="error")
    config["mixed"]["members"] = ["Original", "GANs"]
    result = snakemake(
        tmp_path,
        "results/leakage/Original/Hospital2.json",
        "--configfile",
        write_config(tmp_path / "c.yaml", config),
        "--cores",
        2,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "1 test image(s) of domain 'Hospital2' are of patients in the training data of 'Original'" in output
    config["leakage"] = "report"
    snakemake(
        tmp_path,
        "results/leakage/Original/Hospital2.json",
        "results/leakage/GANs/Hospital2.json",
        "--configfile",
        write_config(tmp_path / "c.yaml", config),
        "--cores",
        2,
    )
    checked = json.loads((tmp_path / "results" / "leakage" / "Original" / "Hospital2.json").read_text())
    assert checked["test_images_of_training_patients"]["Hospital2"] == [f"PNEUMONIA/{paths[1].name}"]
    gans = json.loads((tmp_path / "results" / "leakage" / "GANs" / "Hospital2.json").read_text())
    assert gans["test_images_of_training_patients"]["Hospital2"] == []  # a synthetic domain has no patients


# ---------------------------------------------------------------- end to end on a Kaggle-layout tree


def kermany_config(data):
    """config/kermany.yaml pointed at ``data``, tiny: 1 epoch, 1 seed, demo synthetic domains instead of
    generated ones, plus a second real domain (Hospital2, split: folders)."""
    config = yaml.safe_load((REPO / "config" / "kermany.yaml").read_text())
    for name in ("Original", "KermanyTest"):
        config["domains"][name]["path"] = str(data / Path(config["domains"][name]["path"]).relative_to("data"))
    config["domains"]["GANs"] = {"demo": {"per_class": 10, "shift": "gan"}, "kind": "synthetic"}
    config["domains"]["VAEs"] = {
        "demo": {"per_class": 8, "shift": "vae"},
        "kind": "synthetic",
        "generator_trained_on": {"domain": "Original", "split": "all"},
    }
    config["domains"]["Hospital2"] = {"path": str(data / "hospital2"), "kind": "real", "split": "folders"}
    config.update(seeds=[1], device="cpu", training=dict(config["training"], epochs=1))
    config["mixed"]["members"] = []  # Mixed is covered elsewhere; one training and five evaluations fewer
    # The study CNN alone: a second classifier is covered by tests/workflow/test_classifier_study.py (4 trainings
    # fewer here).
    config["classifiers"] = {"study_cnn": {"architecture": "study_cnn"}}
    config["fidelity"] = {
        "two_sample_epochs": 1,
        "n_boot": 10,
        "kid_subsets": 5,
        "kid_subset_size": 4,
        "diversity_max_images": 8,
        "msssim_pairs": 5,
    }
    return config


@pytest.fixture(scope="module")
def kermany_run(tmp_path_factory):
    if not SAMPLE.is_dir():
        pytest.skip(f"real X-ray sample not found at {SAMPLE}")
    workdir = tmp_path_factory.mktemp("kermany_run")
    data = workdir / "data"
    # As Kaggle publishes it: test/PNEUMONIA reuses person numbers of train/ with the other infection type.
    kaggle_tree_reusing_person_numbers(data / "chest_xray", {"train": 20, "test": 10, "val": 2})
    demo_tree(data / "hospital2", {"train": 8, "test": 4, "val": 1})
    config_path = write_config(workdir / "config.yaml", kermany_config(data))
    snakemake(workdir, "--configfile", config_path, "--cores", 2)
    return workdir, config_path, data


@pytest.mark.workflow
@needs_sample
def test_kaggles_reused_person_numbers_are_information_and_the_kermany_recipe_runs_to_the_end(kermany_run):
    """Issue 22: the shipped settings (Original and KermanyTest as in config/kermany.yaml, leakage: error) ran all
    trainings and then stopped on Kaggle's reused person numbers. Now each folder is its own id space: the run
    finishes (and snakemake() checks that a dry run then has nothing to do), the ids are listed as information."""
    workdir, _, data = kermany_run
    checked = json.loads((workdir / "results" / "leakage" / "Original" / "KermanyTest.json").read_text())
    assert checked["test_images_of_training_patients"] == {"KermanyTest": []}
    assert checked["compared_by_pixels_only"] == [["Original", "KermanyTest"]] and checked["compared_by_patient"] == []
    manifest = pd.read_csv(workdir / "results" / "splits" / "Original.csv")
    trained = {group[3:] for group in manifest.loc[manifest["split"] == "train", "group"]}
    tested = {PATIENT.search(path.name).group(1) for path in (data / "chest_xray" / "test" / "PNEUMONIA").iterdir()}
    reused = sorted(trained & tested)
    assert reused and all(person.startswith("person") for person in reused)
    assert checked["shared_ids_other_space"] == [
        {"domains": ["Original", "KermanyTest"], "ids": reused, "count": len(reused)}
    ]
    summary = (workdir / "results" / "summary.md").read_text()
    assert f"Same id, not the same patient by the config: {len(reused)} patient id(s) of Original's" in summary
    pixels_only = next(line for line in summary.splitlines() if line.startswith("- Compared by pixels only"))
    assert "Original with KermanyTest" in pixels_only and "Compared by patient id" not in summary
    intake_section = summary.split("## Data intake")[1].split("## Leakage")[0]
    intake = next(line for line in intake_section.splitlines() if line.startswith("| KermanyTest "))
    assert intake.split("|")[-2].strip() == "own"  # its ids are its own (patient_id_space column)
    # leakage: error: every training waited for the gate, which lists every check of the study
    gate = (workdir / "results" / "leakage" / "all_checks_passed.txt").read_text().split()
    assert "results/leakage/Original/KermanyTest.json" in gate and len(gate) == 4 * 5  # 4 trainings, 5 tests


@needs_sample
@pytest.mark.slow
@pytest.mark.workflow
def test_one_patient_id_space_for_kaggles_train_and_test_stops_before_any_training(tmp_path):
    """Fail fast (issue 22, item 3): the leak is in the external test set, which only evaluations read; with
    leakage: error the run still stops after the preparations, before the first model is trained."""
    data = tmp_path / "data"
    kaggle_tree_reusing_person_numbers(data / "chest_xray", {"train": 20, "test": 10, "val": 2})
    demo_tree(data / "hospital2", {"train": 8, "test": 4, "val": 1})
    config = kermany_config(data)
    for name in ("Original", "KermanyTest"):
        config["domains"][name]["patient_id_space"] = "kermany"  # the commented line of config/kermany.yaml
    result = snakemake(tmp_path, "--configfile", write_config(tmp_path / "c.yaml", config), "--cores", 2, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "test image(s) of domain 'KermanyTest' are of patients in the training data of 'Original'" in output
    assert list((tmp_path / "results").glob("models/**/model.pt")) == []
    assert not (tmp_path / "results" / "logs" / "train_model").exists()  # no training started
    assert (tmp_path / "results" / "splits" / "KermanyTest.csv").exists()  # the preparations are kept


def test_only_leakage_error_holds_the_trainings_behind_every_check(tmp_path):
    """With leakage: report no training waits for the checks of other pairs (no gate in the DAG)."""
    config = tiny_config(with_kinds({"Original": {"demo": {"per_class": 6, "shift": "none"}}}))
    gated = planned_jobs(tmp_path, "--configfile", write_config(tmp_path / "e.yaml", dict(config, leakage="error")))
    assert ("leakage_gate", "") in gated
    plain = planned_jobs(tmp_path, "--configfile", write_config(tmp_path / "r.yaml", dict(config, leakage="report")))
    assert ("leakage_gate", "") not in plain and gated - {("leakage_gate", "")} == plain


@needs_sample
def test_kermany_config_dry_run_lists_no_training_of_the_external_test_set(tmp_path):
    data = tmp_path / "data"
    link_tree(data / "chest_xray", {"train": 12, "test": 4, "val": 2}, sample_patients())
    jobs = planned_jobs(tmp_path, "--configfile", REPO / "config" / "kermany.yaml")
    assert not [w for rule, w in jobs if rule in ("train_model", "check_leakage") and "train=KermanyTest" in w]
    # Original, GANs, VAEs, Mixed; 5 seeds; the study CNN and ResNet-18
    assert sum(rule == "train_model" for rule, _ in jobs) == 4 * 5 * 2
    assert {w for rule, w in jobs if rule == "evaluate_model"} == {
        f"classifier={c},seed={s},train={t}"
        for c in ("study_cnn", "resnet18")
        for t in ("Original", "GANs", "VAEs", "Mixed")
        for s in range(1, 6)
    }


@pytest.mark.workflow
@needs_sample
def test_the_external_column_holds_every_external_image(kermany_run):
    workdir, _, data = kermany_run
    summary = pd.read_csv(workdir / "results" / "summary.csv")
    external = summary[summary["test"] == "KermanyTest"]
    assert set(external["train"]) == {"Original", "Hospital2", "GANs", "VAEs"}
    assert set(external["n_test"]) == {count_images(data / "chest_xray" / "test")}
    assert external["external_test"].all() and not summary[summary["test"] != "KermanyTest"]["external_test"].any()
    assert "KermanyTest" not in set(summary["train"])
    # The table's columns: reference first, other real, synthetic, external last (not the config's order).
    assert list(dict.fromkeys(summary["test"])) == ["Original", "Hospital2", "GANs", "VAEs", "KermanyTest"]
    assert list(dict.fromkeys(summary["train"])) == ["Original", "Hospital2", "GANs", "VAEs"]
    markdown = (workdir / "results" / "summary.md").read_text()
    assert "| KermanyTest (external)" in markdown
    assert "| Original (generator saw these)" in markdown  # VAEs' generator saw Original's test images
    manifest = pd.read_csv(workdir / "results" / "splits" / "Hospital2.csv")
    assert set(manifest["split_reason"]) == {"folder train/", "folder val/ (joins train)", "folder test/"}
    intake = json.loads((workdir / "results" / "intake" / "Hospital2.json").read_text())
    assert intake["split"] == "folders" and intake["val_images_joined_train"] == 2


@pytest.mark.workflow
@needs_sample
def test_findings_lead_with_the_external_test_set_and_never_call_a_real_domain_synthetic(kermany_run):
    workdir, _, data = kermany_run
    text = (workdir / "results" / "findings.md").read_text()
    n_external = count_images(data / "chest_xray" / "test")
    sections = text.split("\n## ")
    # the headline first: the primary endpoint defaults to AUROC on the external real test set (issue 23)
    assert "Primary endpoint, AUROC on the KermanyTest test split (external, real, never trained on)" in sections[0]
    first_result = next(s for s in sections[1:] if not s.startswith(("Details", "How the numbers")))
    # GANs' generator data are unknown: the heading names it rather than claim that no generator saw KermanyTest
    heading = (
        "On real images that no training saw and no generator is known to have seen (the generator data of GANs "
        "is unknown)"
    )
    assert first_result.startswith(heading)
    assert f"{heading} (KermanyTest, {n_external} images)" in text
    synthetic = next(s for s in sections if s.startswith("Training on synthetic instead of real images"))
    assert "training on Hospital2" not in synthetic and "training on GANs instead of Original" in synthetic
    assert "training on real images of Hospital2 instead of Original" in text
    assert "The images the generator of GANs was trained on are unknown" in text
    assert "A generator behind VAEs learned from the test images of Original" in text


@pytest.mark.workflow
@needs_sample
def test_permuting_domains_reruns_nothing_and_gives_identical_tables(kermany_run, tmp_path):
    workdir, config_path, _ = kermany_run
    config = yaml.safe_load(Path(config_path).read_text())
    config["domains"] = dict(reversed(list(config["domains"].items())))
    permuted = write_config(tmp_path / "permuted.yaml", config)
    assert planned_jobs(workdir, "--configfile", permuted) == set()
    kept = tmp_path / "before"
    kept.mkdir()
    tables = ["summary.csv", "summary_by_seed.csv", "comparisons.csv", "summary.md", "findings.md"]
    for name in tables:
        (kept / name).write_bytes((workdir / "results" / name).read_bytes())
    snakemake(
        workdir, "--configfile", permuted, "--cores", 2, "--forcerun", "summarize", "compare_domains", "report_tables"
    )
    for name in tables:
        assert filecmp.cmp(kept / name, workdir / "results" / name, shallow=False), name


# ---------------------------------------------------------------- from the demo renderer (always available)


@pytest.mark.slow
@pytest.mark.workflow
def test_a_split_folders_tree_and_an_external_test_set_from_the_demo_renderer(tmp_path):
    demo_tree(tmp_path / "data" / "chest_xray", {"train": 8, "test": 4, "val": 1})
    domains = with_kinds(
        {
            "Original": {"path": "data/chest_xray", "split": "folders"},
            "GANs": {"demo": {"per_class": 8, "shift": "gan"}},
            "External": {"demo": {"per_class": 5, "shift": "none", "seed": 11}, "split": "test"},
        }
    )
    config = tiny_config(domains)
    config["mixed"]["members"] = []
    snakemake(tmp_path, "--configfile", write_config(tmp_path / "c.yaml", config), "--cores", 2)
    summary = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert set(summary["train"]) == {"Original", "GANs"}
    assert set(summary.loc[summary["test"] == "External", "n_test"]) == {10}
    assert set(summary.loc[summary["test"] == "Original", "n_test"]) == {8}
    assert not (tmp_path / "results" / "models" / "study_cnn" / "External").exists()
    assert planned_jobs(tmp_path, "--configfile", tmp_path / "c.yaml") == set()
