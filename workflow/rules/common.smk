# The study (synthcxr.study) and the input functions of the rules. No torch here: a dry run needs only snakemake.
import os
import sys
from pathlib import Path

# CHECKOUT (Snakefile): this checkout, also when used as a module; the Snakefile puts SCRIPTS on sys.path.
SCRIPTS = CHECKOUT / "scripts"
from synthcxr import dag_checks
from synthcxr.classifier_config import (
    classifier_params,
    feature_classifier,
    job_settings,
    weights_fit_error,
)
from synthcxr.digests import fill_code_params
from synthcxr.jobs import MODEL_SHA256, damaged_file
from synthcxr.report_menu import FIGURE_SUBCATEGORIES, FIGURES, REPORT_CATEGORIES
from synthcxr.study import Study, prepared


def checked(check, *args):
    """``check(*args)``, with its ValueError (a config or data problem; the message names the key, domain or
    file) turned into one WorkflowError: Snakemake shows that as a one-line error, before any job starts.
    """
    try:
        return check(*args)
    except ValueError as error:
        raise WorkflowError(str(error)) from None


# The domains and their roles, after every check across config keys (synthcxr.study.ConfigError).
STUDY = checked(Study.from_config, config, os.getcwd())
# The names the rule files use.
CLASSES, DOMAINS, SEEDS = STUDY.classes, STUDY.domains, STUDY.seeds
MIXED, MIXED_MEMBERS = STUDY.mixed, STUDY.mixed_members
REFERENCE = STUDY.reference
# Every domain, in study order (synthcxr.study.Study.order); each has a test split.
ALL_DOMAINS = TEST_DOMAINS = STUDY.all_domains
TRAIN_DOMAINS = STUDY.train_domains
EXTERNAL_TEST_DOMAINS, REAL_TRAINING = STUDY.external_test_domains, STUDY.real_training
SYNTHETIC, FIDELITY_DOMAINS = STUDY.synthetic, STUDY.fidelity_domains
VOLUME_DOMAINS, VOLUME_PERCENTS = STUDY.volume_domains, STUDY.volume_percents
STATISTICS, PRIMARY = STUDY.statistics, STUDY.primary
image_kind, domain_split = STUDY.image_kind, STUDY.domain_split
folder_origin, domain_folder = STUDY.folder_origin, STUDY.domain_folder
generator_trained_on, generator_saw_test = (
    STUDY.generator_trained_on,
    STUDY.generator_saw_test,
)
fidelity_reference, train_sources = STUDY.fidelity_reference, STUDY.train_sources
leakage_pair_domains, check_id_spaces = (
    STUDY.leakage_pair_domains,
    STUDY.check_id_spaces,
)
bootstrap_settings, test_label = STUDY.bootstrap_settings, STUDY.test_label
unseen_external_test_domains = STUDY.unseen_external_test_domains

# The classifiers (config `classifiers:`), each trained on every training domain; weights files checked here.
CLASSIFIERS, CLASSIFIER_NAMES = STUDY.classifiers, STUDY.classifier_names
VOLUME_CLASSIFIER = STUDY.volume_classifier
# A weights file that does not fit its architecture stops the run here (needs torch; skipped without it).
if not (workflow.remote_exec or workflow.subprocess_exec):
    if message := weights_fit_error(CLASSIFIERS, config["image_size"]):
        raise WorkflowError(message)

# Each user folder checked (and its new images decoded) before any job starts; a demo or generated domain's
# folder is made by the workflow and tracked through its rules (None).
FOLDER_FINGERPRINTS = checked(dag_checks.folder_fingerprints, STUDY, config)

# With `leakage: error`, stop before any job if the study's current leakage reports hold findings (not in a
# job that a cluster node runs: its run checked that already).
if config["leakage"] == "error" and not (
    workflow.remote_exec or workflow.subprocess_exec
):
    message = dag_checks.existing_leakage_error(STUDY)
    if message:
        raise WorkflowError(message)


wildcard_constraints:
    domain="|".join(ALL_DOMAINS),
    test="|".join(TEST_DOMAINS),
    train="|".join(TRAIN_DOMAINS),
    seed=r"\d+",
    percent=r"\d+",
    classifier="|".join(CLASSIFIER_NAMES),


def code():
    """A rule's `code` param: empty until add_code_digests() fills it in with the digests of its entry script
    and of every package module the script runs (synthcxr.digests), so a real edit to any of them reruns it.
    """
    return {}


def add_code_digests():
    """Fill in the `code` param of every rule with a script; call once all rules exist (the Snakefile's end)."""
    fill_code_params(workflow.rules, SCRIPTS)


def made_by_workflow(wildcards):
    """A demo or generated domain's folder, a rule's output; none for a user's folder (fingerprinted)."""
    if folder_origin(wildcards.domain) in ("path", "manifest"):
        return []
    return [domain_folder(wildcards.domain)]


def leakage_checks(train, tests):
    """One leakage check per (training domain, test domain) pair, not per training domain: a check that
    read every test split would rerun, and rerun the training, whenever any other domain changes.
    No ancient() to prevent that either: Snakemake 9 then skips the jobs downstream whose own settings
    changed (they are masked by the rerun check and never reached through the ancient input).
    """
    return [f"results/leakage/{train}/{test}.json" for test in tests]


def leakage_checks_across():
    """The pairs one check_leakage_across job checks (Study.leakage_pairs_across)."""
    return STUDY.leakage_pairs_across()


def study_leakage_checks():
    """Every (training domain, test domain) check; with `leakage: error` any of them can stop the study."""
    return [
        check
        for train in TRAIN_DOMAINS
        for check in leakage_checks(train, TEST_DOMAINS)
    ]


def model_folder(wildcards):
    """The folder of the model a train_model or train_model_on_part job writes."""
    w = wildcards
    if "percent" in w.keys():
        return f"results/volume/models/{w.classifier}/{w.train}/pct{w.percent}/seed{w.seed}"
    return f"results/models/{w.classifier}/{w.train}/seed{w.seed}"


def model_file(wildcards):
    """The model a train_model or train_model_on_part job writes."""
    return f"{model_folder(wildcards)}/model.pt"


def after_every_leakage_check(wildcards):
    """No input files: with `leakage: error`, a training not run before starts only once every leakage check
    of the study has passed (checkpoint leakage_gate), so a leak stops the run after the preparations, never
    after hours of training. The gate is an order, not an input: once it has run, the training's inputs are
    its own again, so a later check (a new or changed test domain) reruns no training. A training that ran
    before (its model exists) does not wait: the checks of its run passed, and waiting would list it in
    every dry run until the gate reran. With `leakage: report` nothing waits.
    """
    if config["leakage"] == "error" and not os.path.exists(model_file(wildcards)):
        checkpoints.leakage_gate.get()  # raises until the gate has run in this run (Snakemake then waits)
    return []


def training_settings(wildcards):
    """The training settings of one job: `training:` with its classifier's overrides (per classifier, so a
    change to one classifier's settings reruns its jobs alone; classifier_config.job_settings).
    """
    return job_settings(
        CLASSIFIERS[wildcards.classifier], config["training"], wildcards.seed
    )


def fidelity_feature_model(reference):
    """The study CNN trained on ``reference`` (first seed) whose features the fidelity metrics use."""
    classifier = feature_classifier(CLASSIFIERS)
    if classifier is None:
        raise WorkflowError(
            "classifiers: the fidelity of synthetic domains is measured in the features of the study CNN; "
            "add a classifier with architecture: study_cnn, or leave the synthetic domains without a reference"
        )
    return f"results/models/{classifier}/{reference}/seed{SEEDS[0]}/model.pt"


def classifier_setup(wildcards):
    """The architecture and weights file (with its sha256) of one job's classifier (classifier_config)."""
    return classifier_params(CLASSIFIERS[wildcards.classifier])


def metric_keys():
    """(train, test, seed) of every evaluation: scripts take these keys, never the file paths apart."""
    return [
        (train, test, seed)
        for train in TRAIN_DOMAINS
        for test in TEST_DOMAINS
        for seed in SEEDS
    ]


def metric_files(pattern="results/metrics/{classifier}/{train}/{test}/seed{seed}.json"):
    """One file per evaluation: classifier by classifier (CLASSIFIER_NAMES), each in the order of metric_keys()."""
    return [
        pattern.format(classifier=classifier, train=train, test=test, seed=seed)
        for classifier in CLASSIFIER_NAMES
        for train, test, seed in metric_keys()
    ]


def classifier_files(pattern):
    """``pattern`` ({classifier}, {train}, {seed}) for every classifier, training domain and seed, classifier by
    classifier (the order of metric_files())."""
    return expand(pattern, classifier=CLASSIFIER_NAMES, train=TRAIN_DOMAINS, seed=SEEDS)


def final_outputs():
    return [
        "results/summary.csv",
        "results/summary_by_seed.csv",
        "results/summary.md",
        "results/summary.tex",
        "results/comparisons.csv",
        "results/findings.md",
        "results/tables/summary.html",
        "results/tables/comparisons.html",
        "results/tables/findings.html",
        "results/methods.html",
        "results/provenance.json",
        *expand("results/figures/{name}.{ext}", name=FIGURES, ext=["png", "pdf"]),
    ]


def fidelity_outputs():
    if not FIDELITY_DOMAINS:
        return []
    return [
        "results/fidelity/summary.csv",
        "results/fidelity/summary.md",
        "results/fidelity/summary.html",
        "results/figures/fidelity.png",
        "results/figures/fidelity.pdf",
        *expand("results/fidelity/{domain}_closest_pairs.png", domain=FIDELITY_DOMAINS),
        *expand("results/generators/{domain}/progress", domain=STUDY.generated_domains),
    ]


def volume_paths(train, percent, test, seed):
    """Metrics, predictions and training history of one point of the volume curve (100%: the main training)."""
    if percent == 100:
        main = f"{VOLUME_CLASSIFIER}/{train}"
        return {
            "metrics": f"results/metrics/{main}/{test}/seed{seed}.json",
            "predictions": f"results/predictions/{main}/{test}/seed{seed}.csv",
            "history": f"results/models/{main}/seed{seed}/history.json",
        }
    part = f"{VOLUME_CLASSIFIER}/{train}/pct{percent}"
    return {
        "metrics": f"results/volume/metrics/{part}/{test}/seed{seed}.json",
        "predictions": f"results/volume/predictions/{part}/{test}/seed{seed}.csv",
        "history": f"results/volume/models/{part}/seed{seed}/history.json",
    }


def volume_cells():
    """Every point of the volume curve and seed, with its files."""
    return [
        {"train": train, "percent": percent, "test": test, "seed": seed}
        | volume_paths(train, percent, test, seed)
        for train in VOLUME_DOMAINS
        for percent in VOLUME_PERCENTS + [100]
        for test in TEST_DOMAINS
        for seed in SEEDS
    ]


def volume_files(kind):
    return list(dict.fromkeys(cell[kind] for cell in volume_cells()))


def volume_outputs():
    if not VOLUME_DOMAINS:
        return []
    return [
        "results/volume/summary.csv",
        "results/figures/volume_curve.png",
        "results/figures/volume_curve.pdf",
    ]


def model_outputs():
    """Every trained model with its history, run info and validation predictions: targets of the default run.

    Results in their own right (researchers keep and share the classifiers), and without being targets a
    deleted model would never come back: Snakemake 9 does not rebuild a missing file whose consumers are
    up to date.
    """
    main = expand(
        "results/models/{classifier}/{train}/seed{seed}/{name}",
        classifier=CLASSIFIER_NAMES,
        train=TRAIN_DOMAINS,
        seed=SEEDS,
        name=MODEL_FILES,
    )
    parts = expand(
        "results/volume/models/{classifier}/{train}/pct{percent}/seed{seed}/{name}",
        classifier=VOLUME_CLASSIFIER,
        train=VOLUME_DOMAINS,
        percent=VOLUME_PERCENTS,
        seed=SEEDS,
        name=MODEL_FILES,
    )
    return main + parts


MODEL_FILES = ["model.pt", "history.json", "run_info.json", "validation.csv"]


def retrain_if_damaged(wildcards):
    """An input function of train_model that reads nothing: it has Snakemake rerun the training when the
    model file's bytes differ from the checksum its run_info.json recorded (a truncated copy, a failing
    disk), as `--forcerun <model file>` would; shown by a dry run too. Returns [].

    Through the DAG's forced files, a public attribute of Snakemake 9's DAG: no param can say it (a
    param that changed when the model was damaged would change back after the training, and rerun it
    once more). Not in a job that a cluster node runs: that one runs just its own job anyway.
    """
    if workflow.remote_exec or workflow.subprocess_exec:
        return []
    folder = model_folder(wildcards)
    why = damaged_file(f"{folder}/model.pt", f"{folder}/run_info.json", MODEL_SHA256)
    if why:
        print(
            f"Note: {folder}/model.pt is damaged ({why}): its training runs again",
            file=sys.stderr,
        )
        workflow.dag.forcefiles.add(f"{folder}/model.pt")
    return []
