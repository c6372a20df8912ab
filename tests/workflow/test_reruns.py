"""Incremental reruns: each change reruns exactly the jobs it affects (issue: exact reruns).

One tiny run on user folders is made once; each case copies it (mtimes and Snakemake's metadata
included), makes one change and compares the dry run's job list with the expected set.
"""

import filecmp
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from helpers import make_domain, write_image
from workflow_helpers import REPO, SNAKEMAKE, WORKFLOW_FILES, planned_jobs, snakemake, tiny_config, write_config

pytestmark = pytest.mark.workflow

DOMAINS = ["Original", "GANs", "VAEs"]
TRAIN = DOMAINS + ["Mixed"]


def prep(domain):
    return ("prepare_domain", f"domain={domain}")


def train(domain, seed=1, classifier="study_cnn"):
    return ("train_model", f"classifier={classifier},seed={seed},train={domain}")


def evaluate(train_domain, seed=1, classifier="study_cnn"):
    """One job evaluates a model on every test split: a change to any of them re-evaluates the model once."""
    return ("evaluate_model", f"classifier={classifier},seed={seed},train={train_domain}")


def leakage_checks(domain, trains=TRAIN, tests=DOMAINS, members=DOMAINS):
    """The leakage checks that read ``domain``'s manifest: each of a training's own pairs (test domain one of
    its sources: one job each, rerunning only that training, which the change reruns anyway) and the one job
    of every other pair (check_leakage_across, which reads every manifest and reruns only evaluations)."""

    def sources(t):
        return members if t == "Mixed" else [t]

    own = {
        ("check_leakage", f"test={te},train={t}")
        for t in trains
        for te in tests
        if te in sources(t) and domain in sources(t)
    }
    return own | {ACROSS}


ACROSS = ("check_leakage_across", "")


SUMMARY = {("summarize", ""), ("compare_domains", ""), ("report_tables", ""), ("plot_figures", "")}


def domain_dependents(domain, trains=TRAIN, tests=DOMAINS):
    """Jobs downstream of one member domain's data: its preparation, its and Mixed's models, its column."""
    affected_models = {domain, "Mixed"}
    return (
        {prep(domain)}
        | leakage_checks(domain, trains, tests)
        | {train(t) for t in affected_models}
        | {evaluate(t) for t in trains for te in tests if t in affected_models or te == domain}
        | SUMMARY
    )


def all_models_and_evaluations(seed=1):
    return {train(t, seed) for t in TRAIN} | {evaluate(t, seed) for t in TRAIN} | SUMMARY


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A completed tiny run with its own copy of the workflow code, so tests may edit the code."""
    workdir = tmp_path_factory.mktemp("rerun_base")
    for name in WORKFLOW_FILES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, workdir / name)
    for index, name in enumerate(DOMAINS):
        make_domain(workdir / "data" / name, per_class=6, seed=index)
    config = tiny_config({name: {"path": f"data/{name}"} for name in DOMAINS})
    write_config(workdir / "study.yaml", config)
    run(workdir, "--cores", 2)
    return workdir


def run(workdir, *args):
    return snakemake(workdir, "--snakefile", workdir / "Snakefile", "--configfile", workdir / "study.yaml", *args)


def plan(workdir):
    return planned_jobs(workdir, "--snakefile", workdir / "Snakefile", "--configfile", workdir / "study.yaml")


@pytest.fixture
def copy_of_run(finished_run, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(finished_run, workdir, symlinks=True)
    return workdir


def edit_config(workdir, change):
    config = yaml.safe_load((workdir / "study.yaml").read_text())
    change(config)
    write_config(workdir / "study.yaml", config)


def test_nothing_changed_reruns_nothing(copy_of_run):
    assert plan(copy_of_run) == set()


@pytest.mark.parametrize("change", ["add", "remove", "replace"])
def test_one_image_changed_in_gans_reruns_gans_dependents(copy_of_run, change):
    folder = copy_of_run / "data" / "GANs" / "NORMAL"
    if change == "add":
        write_image(folder / "new.png", 999)
    elif change == "remove":
        (folder / "normal_000.png").unlink()
    else:
        write_image(folder / "normal_000.png", 998)
    assert plan(copy_of_run) == domain_dependents("GANs")


@pytest.mark.parametrize(
    "key, value",
    [("epochs", 2), ("lr", 0.01), ("batch_size", 8), ("widths", [8, 16, 32]), ("validation_fraction", 0.3)],
)
def test_training_setting_reruns_all_models_but_no_data_preparation(copy_of_run, key, value):
    edit_config(copy_of_run, lambda c: c["training"].update({key: value}))
    assert plan(copy_of_run) == all_models_and_evaluations()


def test_per_domain_setting_of_vaes_reruns_only_vaes_dependents(copy_of_run):
    edit_config(copy_of_run, lambda c: c["domains"]["VAEs"].update(group_pattern=r"(\d+)\.png"))
    assert plan(copy_of_run) == domain_dependents("VAEs")


@pytest.mark.parametrize("member", [True, False])
def test_adding_a_domain_reruns_its_row_and_column(copy_of_run, member):
    make_domain(copy_of_run / "data" / "Extra", per_class=6, seed=42)

    def add(config):
        config["domains"]["Extra"] = {"path": "data/Extra", "kind": "synthetic"}
        if member:
            config["mixed"]["members"].append("Extra")

    edit_config(copy_of_run, add)
    trains, tests = TRAIN + ["Extra"], DOMAINS + ["Extra"]
    changed_models = {"Extra", "Mixed"} if member else {"Extra"}
    expected = (
        {prep("Extra")}
        | leakage_checks("Extra", trains, tests, members=tests if member else DOMAINS)
        | {train(t) for t in changed_models}
        | {evaluate(t) for t in trains for te in tests if t in changed_models or te == "Extra"}
        | SUMMARY
    )
    assert plan(copy_of_run) == expected


def test_with_leakage_error_a_new_test_domain_retrains_nothing(copy_of_run):
    """Trainings wait for every check (the leakage_gate checkpoint) as an order, not an input: the new test
    domain's checks run before its evaluations, and no model that exists waits or reruns."""
    make_domain(copy_of_run / "data" / "External", per_class=3, seed=43)

    def add(config):
        config["leakage"] = "error"
        config["domains"]["External"] = {"path": "data/External", "kind": "real", "split": "test"}

    edit_config(copy_of_run, add)
    expected = (
        {prep("External")}
        | {ACROSS}  # External is no training's source: its pairs are checked in the one job of such pairs
        | {evaluate(t) for t in TRAIN}
        | SUMMARY
    )
    assert plan(copy_of_run) == expected


def test_with_leakage_error_only_a_training_not_run_before_waits_for_the_gate(copy_of_run):
    make_domain(copy_of_run / "data" / "Extra", per_class=6, seed=42)

    def add(config):
        config["leakage"] = "error"
        config["domains"]["Extra"] = {"path": "data/Extra", "kind": "synthetic"}

    edit_config(copy_of_run, add)
    trains, tests = TRAIN + ["Extra"], DOMAINS + ["Extra"]
    expected = (
        {prep("Extra"), ("leakage_gate", ""), train("Extra")}
        | leakage_checks("Extra", trains, tests)
        | {evaluate(t) for t in trains}  # each model scored once more, on every test split
        | SUMMARY
    )
    assert plan(copy_of_run) == expected


def test_a_patient_id_space_on_the_only_real_domain_reruns_nothing(copy_of_run):
    # No other real domain to compare its patients with: no check's result can change.
    edit_config(copy_of_run, lambda c: c["domains"]["Original"].update(patient_id_space="hospital"))
    assert plan(copy_of_run) == set()


def test_adding_a_seed_reruns_only_that_seed(copy_of_run):
    edit_config(copy_of_run, lambda c: c.update(seeds=[1, 2]))
    expected = {train(t, 2) for t in TRAIN} | {evaluate(t, 2) for t in TRAIN} | SUMMARY
    assert plan(copy_of_run) == expected


def test_adding_a_classifier_runs_only_its_jobs_and_the_summaries(copy_of_run):
    # The study CNN stated as it was the default: its models, evaluations and their params stay as they are.
    classifiers = {"study_cnn": {"architecture": "study_cnn"}, "resnet18": {"architecture": "resnet18"}}
    edit_config(copy_of_run, lambda c: c.update(classifiers=classifiers))
    expected = {train(t, classifier="resnet18") for t in TRAIN} | {evaluate(t, classifier="resnet18") for t in TRAIN}
    assert plan(copy_of_run) == expected | SUMMARY


def test_asking_for_a_volume_curve_reruns_nothing_else(copy_of_run):
    edit_config(copy_of_run, lambda c: c.update(volume={"domains": ["GANs"], "percents": [50, 100]}))
    expected = (
        {("train_model_on_part", "classifier=study_cnn,percent=50,seed=1,train=GANs")}
        | {("evaluate_model_on_part", "classifier=study_cnn,percent=50,seed=1,train=GANs")}
        | {("plot_volume_curve", "")}
    )
    assert plan(copy_of_run) == expected


# train.py is imported by the scripts of both rules; model.py by train.py only, for train_model.
@pytest.mark.parametrize("name", ["train.py", "model.py"])
def test_editing_the_training_code_reruns_models_and_evaluations(copy_of_run, name):
    module = copy_of_run / "scripts" / "synthcxr" / name
    module.write_text(module.read_text() + "\n# a real edit\n")
    assert plan(copy_of_run) == all_models_and_evaluations()


def test_no_checkpoint_outlives_a_finished_training(finished_run):
    assert (finished_run / "results" / "models").is_dir()
    assert not [p for p in (finished_run / "results").rglob("checkpoints/**/*") if p.is_file()]


def test_after_a_code_edit_the_training_starts_again_from_the_first_epoch(copy_of_run):
    module = copy_of_run / "scripts" / "synthcxr" / "train.py"
    module.write_text(module.read_text() + "\n# a real edit\n")
    target = "results/models/study_cnn/Original/seed1/model.pt"  # before --configfile, which takes several values
    snakemake(
        copy_of_run,
        target,
        "--snakefile",
        copy_of_run / "Snakefile",
        "--configfile",
        copy_of_run / "study.yaml",
        "--cores",
        1,
    )
    log = (copy_of_run / "results" / "logs" / "train_model" / "study_cnn" / "Original" / "seed1.log").read_text()
    assert "resuming" not in log and "epoch 1/1" in log


def test_touching_code_without_changing_it_reruns_nothing(copy_of_run):
    module = copy_of_run / "scripts" / "synthcxr" / "train.py"
    module.write_text(module.read_text())
    assert plan(copy_of_run) == set()


def test_editing_the_methods_page_template_reruns_report_tables_only(copy_of_run):
    template = copy_of_run / "scripts" / "synthcxr" / "methods.html.jinja2"
    template.write_text(template.read_text() + "\n<p>a real edit</p>\n")
    assert plan(copy_of_run) == {("report_tables", "")}


# Words live apart from numbers: a findings sentence reruns only the rule that writes findings.md, and an
# interval's wording only that rule and the figures (their titles), never the bootstraps of summarize and
# compare_domains.
@pytest.mark.parametrize(
    "name, rules",
    [("findings.py", {"report_tables"}), ("wording.py", {"report_tables", "plot_figures"})],
)
def test_editing_words_reruns_only_the_rules_that_write_them(copy_of_run, name, rules):
    module = copy_of_run / "scripts" / "synthcxr" / name
    module.write_text(module.read_text() + "\n# a real edit\n")
    assert plan(copy_of_run) == {(rule, "") for rule in rules}


def test_a_data_change_and_a_training_setting_in_one_edit_rerun_every_model(copy_of_run):
    # Was: the leakage input was ancient(); the checks rerun for the GANs data masked the models
    # downstream, and Snakemake never looked at their own (changed) settings: stale models.
    (copy_of_run / "data" / "GANs" / "NORMAL" / "normal_000.png").unlink()
    edit_config(copy_of_run, lambda c: c["training"].update(epochs=2))
    assert plan(copy_of_run) == domain_dependents("GANs") | all_models_and_evaluations()


def test_the_leakage_setting_and_figure_styling_in_one_edit_leave_nothing_stale(copy_of_run):
    # Was: "4 of 4 steps (100%) done", and the next dry run listed plot_figures again.
    edit_config(copy_of_run, lambda c: c.update(leakage="error", figures={"dpi": 90}))
    assert plan(copy_of_run) == {("plot_figures", "")}
    run(copy_of_run, "--cores", 1)  # snakemake() checks that a dry run then has nothing to do


def results_state(workdir):
    return {p: p.stat().st_mtime_ns for p in (workdir / "results").rglob("*") if p.is_file() and "logs" not in p.parts}


def test_an_unreadable_image_added_to_a_prepared_domain_stops_the_run_and_loses_nothing(copy_of_run):
    # Was: prepare_domain failed, Snakemake deleted the split, cache and intake report, and removing
    # the file again re-prepared the domain and retrained its models.
    before = results_state(copy_of_run)
    broken = copy_of_run / "data" / "GANs" / "NORMAL" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    result = snakemake(
        copy_of_run,
        "--snakefile",
        copy_of_run / "Snakefile",
        "--configfile",
        copy_of_run / "study.yaml",
        "--cores",
        1,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "domain 'GANs': 1 unreadable image(s) in data/GANs (set on_bad_image: skip to exclude them; that re-prepares "
        "only the domains whose images changed, and reruns what depends on them):\n  "
        f"{Path('data/GANs/NORMAL/broken.png')}: " in output
    )
    assert "rule prepare_domain" not in output  # stopped before any job
    assert results_state(copy_of_run) == before
    broken.unlink()
    assert plan(copy_of_run) == set()

    # Was: "Code has changed since last execution" for every rule (Snakemake compares a script's
    # modification time), as after a git checkout or a fresh clone with the results copied over.
    later = time.time() + 3600
    scripts = list((copy_of_run / "scripts").glob("*.py"))
    assert len(scripts) > 8
    for script in scripts:
        os.utime(script, (later, later))
    assert plan(copy_of_run) == set()


def test_editing_an_entry_script_reruns_its_rule_and_dependents(copy_of_run):
    script = copy_of_run / "scripts" / "train_model.py"
    script.write_text(script.read_text() + "\n# a real edit\n")
    assert plan(copy_of_run) == all_models_and_evaluations()
    # Back to the original content (with a new modification time): nothing to rerun.
    script.write_text((REPO / "scripts" / "train_model.py").read_text())
    assert plan(copy_of_run) == set()
    script = copy_of_run / "scripts" / "plot_figures.py"
    script.write_text(script.read_text() + "\n# a real edit\n")
    assert plan(copy_of_run) == {("plot_figures", "")}


def test_changing_figure_styling_reruns_figures_only(copy_of_run):
    edit_config(copy_of_run, lambda c: c.update(figures={"dpi": 90, "colormap": "cividis"}))
    assert plan(copy_of_run) == {("plot_figures", "")}


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("alpha", 0.1, SUMMARY),
        ("interval_resamples", 500, {("summarize", ""), ("report_tables", ""), ("plot_figures", "")}),
        ("comparison_resamples", 1000, {("compare_domains", ""), ("report_tables", ""), ("plot_figures", "")}),
        (
            "bootstrap_seed",
            3,
            {("summarize", ""), ("compare_domains", ""), ("report_tables", ""), ("plot_figures", "")},
        ),
    ],
)
def test_statistics_settings_rerun_the_statistics_only(copy_of_run, key, value, expected):
    edit_config(copy_of_run, lambda c: c.update(statistics={key: value}))
    assert plan(copy_of_run) == expected


def test_two_clean_runs_are_byte_identical(finished_run, tmp_path):
    again = tmp_path / "again"
    again.mkdir()
    for name in WORKFLOW_FILES + ["data", "study.yaml"]:
        source = finished_run / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, again / name)
    run(again, "--cores", 2)
    compared = ["summary.csv", "summary_by_seed.csv", "summary.md"]
    compared += [
        str(p.relative_to(finished_run / "results")) for p in (finished_run / "results").glob("metrics/*/*/*/*.json")
    ]
    compared += [
        str(p.relative_to(finished_run / "results")) for p in (finished_run / "results").glob("predictions/*/*/*/*.csv")
    ]
    compared += [
        str(p.relative_to(finished_run / "results"))
        for p in (finished_run / "results").glob("models/*/*/*/validation.csv")
    ]
    compared += [f"splits/{d}.csv" for d in DOMAINS] + [f"prepared/{d}/images.npy" for d in DOMAINS]
    assert len(compared) > 2 * 12
    _, mismatch, errors = filecmp.cmpfiles(finished_run / "results", again / "results", compared, shallow=False)
    assert mismatch == [] and errors == []


def test_provenance_records_config_data_and_code(finished_run):
    import json

    provenance = json.loads((finished_run / "results" / "provenance.json").read_text())
    assert {"finished", "environment", "code_version", "packages", "cells"} <= set(provenance)
    cell = provenance["cells"][0]["provenance"]
    assert {"config_sha256", "train_manifest_sha256", "test_manifest_sha256", "packages", "device"} <= set(cell)


def digests(workdir, pattern):
    """{path: sha256} of the result files matching ``pattern`` (below results/)."""
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (workdir / "results").glob(pattern)}


def times_of(workdir, parts):
    """Modification times of the results whose path contains one of ``parts``: what a change must not redo."""
    found = {p: t for p, t in results_state(workdir).items() if any(part in p.as_posix() for part in parts)}
    assert found, parts
    return found


def refused(workdir, *args):
    """The output of a dry run that must fail (a refusal before any job)."""
    result = snakemake(
        workdir, "--snakefile", workdir / "Snakefile", "--configfile", workdir / "study.yaml", "-n", *args, check=False
    )
    assert result.returncode != 0, result.stdout[-3000:]
    return result.stdout + result.stderr


def model_jobs(*trains):
    """The trainings of ``trains`` (seed 1), their evaluations and the summary."""
    return {train(t) for t in trains} | {evaluate(t) for t in trains} | SUMMARY


# The data and the other models: what a retraining of GANs and VAEs must leave as it is.
NOT_GANS_OR_VAES_MODELS = ["prepared/", "splits/", "intake/", "leakage/"]
NOT_GANS_OR_VAES_MODELS += ["models/study_cnn/Original/", "models/study_cnn/Mixed/"]
NOT_GANS_OR_VAES_MODELS += ["metrics/study_cnn/Original/", "metrics/study_cnn/Mixed/"]


def test_a_deleted_model_and_a_damaged_one_are_retrained_bit_identically(copy_of_run):
    # Was: `rm model.pt` (docs/reruns.md's way to force a training) was followed by "Nothing to be done", and a
    # truncated model.pt failed every evaluation with PyTorch's "PytorchStreamReader failed reading zip archive".
    models = digests(copy_of_run, "models/*/*/seed1/model.pt")
    kept = times_of(copy_of_run, NOT_GANS_OR_VAES_MODELS)
    (copy_of_run / "results" / "models" / "study_cnn" / "GANs" / "seed1" / "model.pt").unlink()
    os.truncate(copy_of_run / "results" / "models" / "study_cnn" / "VAEs" / "seed1" / "model.pt", 100)
    assert plan(copy_of_run) == model_jobs("GANs", "VAEs")
    result = run(copy_of_run, "--cores", 2)  # then a dry run has nothing to do
    assert "Note: results/models/study_cnn/VAEs/seed1/model.pt is damaged (100 bytes of sha256 " in result.stderr
    assert digests(copy_of_run, "models/*/*/seed1/model.pt") == models
    assert times_of(copy_of_run, NOT_GANS_OR_VAES_MODELS) == kept


def training_process(workdir, timeout=300):
    """The pid of the train_model script that Snakemake runs in ``workdir``, once it has started."""
    deadline = time.monotonic() + timeout
    script_folder = f"{workdir}/.snakemake/scripts/".encode()
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(arg.startswith(script_folder) and arg.endswith(b".train_model.py") for arg in command):
                return int(entry.name)
        time.sleep(0.2)
    raise AssertionError(f"no train_model script started in {workdir} within {timeout} s")


def test_a_training_killed_with_sigkill_is_redone_by_the_next_run(copy_of_run):
    # Was: the killed --forcerun training left results/models/Original/seed1/ empty, and the next run said
    # "Nothing to be done" (exit 0).
    model = "results/models/study_cnn/Original/seed1/model.pt"
    before = digests(copy_of_run, "models/study_cnn/Original/seed1/[mv]*")  # model.pt, validation.csv
    others = ["prepared/", "splits/", "models/study_cnn/GANs/", "models/study_cnn/VAEs/", "models/study_cnn/Mixed/"]
    kept = times_of(copy_of_run, others)
    command = [SNAKEMAKE, "--snakefile", copy_of_run / "Snakefile", "--directory", copy_of_run]
    command += ["--configfile", copy_of_run / "study.yaml", "--cores", "1", "--forcerun", model]
    options = {"cwd": copy_of_run, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    with subprocess.Popen(command, **options) as forced:
        os.kill(training_process(copy_of_run), signal.SIGKILL)
        output, _ = forced.communicate(timeout=600)
    assert forced.returncode != 0, output[-3000:]
    assert not (copy_of_run / model).exists()
    assert plan(copy_of_run) == model_jobs("Original")
    run(copy_of_run, "--cores", 2)  # then a dry run has nothing to do
    assert len(before) == 2 and digests(copy_of_run, "models/study_cnn/Original/seed1/[mv]*") == before
    assert times_of(copy_of_run, others) == kept


def test_a_label_conflict_copy_added_to_a_prepared_domain_stops_the_dry_run_and_loses_nothing(copy_of_run):
    # Was: the dry run passed; prepare_domain failed and Snakemake deleted GANs' split, cache and intake report.
    before = results_state(copy_of_run)
    folder = copy_of_run / "data" / "GANs"
    shutil.copy2(folder / "NORMAL" / "normal_002.png", folder / "PNEUMONIA" / "copy.png")
    output = refused(copy_of_run)
    assert (
        "domain 'GANs': 1 image(s) in data/GANs are in more than one class folder (the same pixels with different "
        "labels; set on_bad_image: skip to exclude every copy; that re-prepares only the domains whose images "
        "changed, and reruns what depends on them):\n  NORMAL/normal_002.png (NORMAL) = PNEUMONIA/copy.png (PNEUMONIA)"
    ) in output
    assert results_state(copy_of_run) == before
    (folder / "PNEUMONIA" / "copy.png").unlink()
    assert plan(copy_of_run) == set()


def test_switching_on_bad_image_re_prepares_only_the_domain_with_a_bad_image(copy_of_run):
    # Was: on_bad_image was a param of every preparation: following the advice "set on_bad_image: skip" reran
    # every job of the study, the preparations and trainings of Original and VAEs included.
    (copy_of_run / "data" / "GANs" / "NORMAL" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    assert "that re-prepares only the domains whose images changed" in refused(copy_of_run)
    kinds = ("prepared", "splits", "intake", "models/study_cnn")
    untouched = [f"{kind}/{d}" for kind in kinds for d in ("Original", "VAEs")]
    kept = times_of(copy_of_run, untouched)
    edit_config(copy_of_run, lambda c: c.update(on_bad_image="skip"))
    assert plan(copy_of_run) == domain_dependents("GANs")
    run(copy_of_run, "--cores", 2)  # then a dry run has nothing to do
    assert times_of(copy_of_run, untouched) == kept
    assert json.loads((copy_of_run / "results" / "intake" / "GANs.json").read_text())["bad_images"] == 1
    # Back to error: the skipped image stops the dry run again, and nothing is touched.
    edit_config(copy_of_run, lambda c: c.update(on_bad_image="error"))
    state = results_state(copy_of_run)
    assert "domain 'GANs': 1 unreadable image(s) in data/GANs" in refused(copy_of_run)
    assert results_state(copy_of_run) == state


def test_leakage_error_stops_a_study_whose_leakage_reports_hold_findings(copy_of_run):
    # Was: switching to `leakage: error` on a study with reported leakage exited 0 with nothing to do.
    edit_config(copy_of_run, lambda c: c["domains"].update(Copy={"path": "data/GANs", "kind": "synthetic"}))
    # Only the checks that meet the copy (no training: cheap); leakage: report, the default.
    pairs = ("Copy/GANs", "GANs/Copy", "Mixed/Copy")
    run(copy_of_run, "--cores", 2, *(f"results/leakage/{pair}.json" for pair in pairs))
    state = results_state(copy_of_run)
    edit_config(copy_of_run, lambda c: c.update(leakage="error"))
    output = refused(copy_of_run)
    found = "leakage: error, and the leakage reports of 3 (training domain -> test domain) pair(s) hold findings:"
    assert found in output
    for pair in pairs:
        train_domain, test_domain = pair.split("/")
        finding = f"{train_domain} -> {test_domain} (results/leakage/{pair}.json): domains 'Copy' and 'GANs' share 12"
        assert f"\n  {finding} images" in output
    assert results_state(copy_of_run) == state
    edit_config(copy_of_run, lambda c: c.update(leakage="report"))
    planned = plan(copy_of_run)  # the rest of the study with Copy; the checks done stay done
    assert train("Copy") in planned and prep("Copy") not in planned
    assert ACROSS not in planned  # Copy is no training's source: its pairs were all checked in that one job
