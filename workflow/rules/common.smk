# Domain tables and input functions. No torch here: a dry run needs only snakemake.
import csv
import functools
import json
import os
import re
import sys
from pathlib import Path

# CHECKOUT (Snakefile): this checkout, also when used as a module; the Snakefile puts SCRIPTS on sys.path.
SCRIPTS = CHECKOUT / "scripts"
from synthcxr.catalog import COMPARED_METRICS
from synthcxr.classifier_config import (
    ClassifierError,
    checked_classifiers,
    classifier_params,
    feature_classifier,
    job_settings,
    weights_fit_error,
)
from synthcxr.digests import code_digests
from synthcxr.jobs import MODEL_SHA256, damaged_file
from synthcxr.leakage import report_findings
from synthcxr.endpoints import primary_endpoint
from synthcxr.folders import (
    SPLIT_MODES,
    DomainError,
    changed_since,
    check_class_sizes,
    fingerprint,
    list_domain,
    outside_classes_note,
)
from synthcxr.tables import MANIFEST_SPLIT_MODES, checked_table, table_fingerprint
from synthcxr.leakage import id_space_error, pair_id_spaces

CLASSES = config["classes"]
# Settings of each domain, by name (config `domains:`).
DOMAINS = config["domains"]
MIXED = config["mixed"]["name"]
SEEDS = config["seeds"]
VOLUME_DOMAINS = config["volume"]["domains"]
# The classifiers (config `classifiers:`), each trained on every training domain; weights files checked here.
try:
    CLASSIFIERS = checked_classifiers(config["classifiers"], os.getcwd())
except ClassifierError as error:
    raise WorkflowError(str(error)) from None
CLASSIFIER_NAMES = list(CLASSIFIERS)
# The volume curve is measured with the first classifier alone (its trainings multiply with the parts).
VOLUME_CLASSIFIER = CLASSIFIER_NAMES[0]
# A weights file that does not fit its architecture stops the run here (needs torch; skipped without it).
if not (workflow.remote_exec or workflow.subprocess_exec):
    if message := weights_fit_error(CLASSIFIERS, config["image_size"]):
        raise WorkflowError(message)
# 100% is the main training; only the smaller parts are trained again.
VOLUME_PERCENTS = sorted(p for p in config["volume"]["percents"] if p < 100)


def image_kind(domain):
    """'real' or 'synthetic', as the config says (a generated domain is synthetic by definition)."""
    if "generated" in DOMAINS[domain]:
        return "synthetic"
    return DOMAINS[domain].get("kind")


def domain_split(domain):
    """'random' (80/20 here), 'folders' (given train/ and test/) or 'test' (an external test set)."""
    return DOMAINS[domain].get("split", "random")


def check_domain_roles():
    """Every domain says what it is; the split mode fits where its images come from."""
    unsaid = [
        d for d in DOMAINS if "generated" not in DOMAINS[d] and "kind" not in DOMAINS[d]
    ]
    if unsaid:
        raise WorkflowError(
            f"domains {unsaid}: say what each domain's images are with kind: real or kind: synthetic "
            "(the first domain is no longer taken to be the real one)"
        )
    for domain, settings in DOMAINS.items():
        if "generated" in settings and settings.get("kind", "synthetic") != "synthetic":
            raise WorkflowError(
                f"domains.{domain}.kind: a generated domain is synthetic; remove kind: {settings['kind']}"
            )
        allowed = {
            "path": SPLIT_MODES,
            "manifest": MANIFEST_SPLIT_MODES,
            "demo": ("random", "test"),
            "generated": ("random",),
        }
        origin = next(o for o in allowed if o in settings)
        if domain_split(domain) not in allowed[origin]:
            raise WorkflowError(
                f"domains.{domain}.split: {domain_split(domain)} does not apply to a {origin} domain; "
                f"allowed: {list(allowed[origin])}"
            )


check_domain_roles()
EXTERNAL_TEST_DOMAINS = [d for d in DOMAINS if domain_split(d) == "test"]
REAL_TRAINING = [
    d for d in DOMAINS if image_kind(d) == "real" and d not in EXTERNAL_TEST_DOMAINS
]


def study_reference():
    """The real training domain every other training domain is compared with (config `reference:`)."""
    reference = config.get("reference")
    if not REAL_TRAINING:
        raise no_real_training_domain()
    if reference is None:
        if len(REAL_TRAINING) != 1:
            raise WorkflowError(
                f"reference: required when there is not exactly one real training domain; name one of "
                f"the real training domains {REAL_TRAINING}"
            )
        return REAL_TRAINING[0]
    if reference not in REAL_TRAINING:
        why = (
            "is not in domains"
            if reference not in DOMAINS
            else (
                "is an external test set (split: test)"
                if reference in EXTERNAL_TEST_DOMAINS
                else "is synthetic"
            )
        )
        raise WorkflowError(
            f"reference: '{reference}' {why}; name one of the real training domains {REAL_TRAINING}"
        )
    return reference


def no_real_training_domain():
    """The error for a study without a real training domain, saying why none of its domains is one."""
    real_external = [d for d in EXTERNAL_TEST_DOMAINS if image_kind(d) == "real"]
    why = (
        f"; {real_external} are real but external test sets (split: test), never trained on"
        if real_external
        else ""
    )
    return WorkflowError(
        "reference: the study has no real training domain (kind: real, not split: test), but the models "
        f"of every other training domain are compared with those trained on one (the reference){why}. "
        "Add a domain of real images with kind: real, or set kind: real on a domain whose images are real"
    )


STUDY_REFERENCE = study_reference()


def study_order(domain):
    """Tables and figures follow roles, never the order of `domains:`: the reference, other real
    training domains, synthetic training domains, then external test sets; by name within a group.
    """
    return (
        domain != STUDY_REFERENCE,
        domain in EXTERNAL_TEST_DOMAINS,
        image_kind(domain) != "real",
        domain,
    )


# Every domain, in study order; each has a test split (an external test set has nothing else).
ALL_DOMAINS = sorted(DOMAINS, key=study_order)
TEST_DOMAINS = ALL_DOMAINS
SYNTHETIC = [d for d in ALL_DOMAINS if image_kind(d) == "synthetic"]
MIXED_MEMBERS = sorted(
    config["mixed"]["members"],
    key=lambda d: study_order(d) if d in DOMAINS else (True,) * 3 + (d,),
)
TRAIN_DOMAINS = [d for d in ALL_DOMAINS if d not in EXTERNAL_TEST_DOMAINS] + (
    [MIXED] if MIXED_MEMBERS else []
)


def generator_trained_on(domain):
    """{domain, split} of the real images a synthetic domain's generator learned from, or None (unknown)."""
    settings = DOMAINS.get(domain, {})
    if "generated" in settings:
        return {"domain": settings["generated"]["source"], "split": "train"}
    return settings.get("generator_trained_on")


def generator_saw_test():
    """Training domain -> the test domains whose test images its (or a Mixed member's) generator saw."""
    seen = {}
    for train in TRAIN_DOMAINS:
        for source in train_sources(train):
            trained_on = generator_trained_on(source)
            if trained_on and trained_on["split"] == "all":
                seen.setdefault(train, []).append(trained_on["domain"])
    return {train: sorted(set(tests), key=study_order) for train, tests in seen.items()}


def check_config_references():
    """What the JSON schema cannot say: cross-references between keys."""
    if MIXED in DOMAINS:
        raise WorkflowError(
            f"mixed.name '{MIXED}' is also a name in domains; choose another"
        )
    unknown = [m for m in MIXED_MEMBERS if m not in DOMAINS]
    if unknown:
        raise WorkflowError(
            f"mixed.members {unknown} are not in domains; allowed: {ALL_DOMAINS}"
        )
    external = [m for m in MIXED_MEMBERS if m in EXTERNAL_TEST_DOMAINS]
    if external:
        raise WorkflowError(
            f"mixed.members {external}: an external test set (split: test) is never trained on; "
            f"allowed: {[d for d in ALL_DOMAINS if d not in EXTERNAL_TEST_DOMAINS]}"
        )
    check_generator_references()
    for domain in FIDELITY_DOMAINS:
        reference = fidelity_reference(domain)
        allowed = [
            d
            for d in ALL_DOMAINS
            if d != domain
            and "generated" not in DOMAINS[d]
            and d not in EXTERNAL_TEST_DOMAINS
        ]
        if reference not in allowed:
            raise WorkflowError(
                f"domains.{domain}.{fidelity_reference_key(domain)}: '{reference}' must be another "
                "domain that is not generated and not an external test set (split: test): the fidelity "
                f"of {domain} is measured against it; allowed: {allowed}"
            )
    unknown = [d for d in VOLUME_DOMAINS if d not in TRAIN_DOMAINS]
    if unknown:
        raise WorkflowError(
            f"volume.domains {unknown} are not training domains; allowed: {TRAIN_DOMAINS}"
        )
    for domain, settings in DOMAINS.items():
        if "generated" in settings and "reference" in settings:
            raise WorkflowError(
                f"domains.{domain}: a generated domain is compared with its generated.source "
                f"('{settings['generated']['source']}'); remove reference"
            )
        check_group_pattern(domain, settings.get("group_pattern"))
        message = id_space_error(
            domain, image_kind(domain), settings.get("patient_id_space")
        )
        if message:
            raise WorkflowError(message)


def check_generator_references():
    """generator_trained_on: only on a synthetic folder, naming another real domain."""
    for domain, settings in DOMAINS.items():
        trained_on = settings.get("generator_trained_on")
        if trained_on is None:
            continue
        if "generated" in settings or image_kind(domain) != "synthetic":
            raise WorkflowError(
                f"domains.{domain}.generator_trained_on: only for a synthetic path or demo domain "
                "(a generated domain's generator learns from its generated.source train split)"
            )
        real = [d for d in ALL_DOMAINS if image_kind(d) == "real"]
        if trained_on["domain"] not in real:
            raise WorkflowError(
                f"domains.{domain}.generator_trained_on.domain: '{trained_on['domain']}' is not a real "
                f"domain of domains; allowed: {real}"
            )


def check_group_pattern(domain, pattern):
    if pattern is None:
        return
    try:
        groups = re.compile(pattern).groups
    except re.error as error:
        raise WorkflowError(
            f"domains.{domain}.group_pattern '{pattern}' is not a regular expression: {error}"
        )
    if groups != 1:
        raise WorkflowError(
            f"domains.{domain}.group_pattern '{pattern}' must have exactly one capture group, has {groups}"
        )


wildcard_constraints:
    domain="|".join(ALL_DOMAINS),
    test="|".join(TEST_DOMAINS),
    train="|".join(TRAIN_DOMAINS),
    seed=r"\d+",
    percent=r"\d+",
    classifier="|".join(CLASSIFIER_NAMES),


def code():
    """The `code` param of a rule, empty until add_code_digests() fills it in once all rules exist, with
    the digests of its entry script and of every package module the script runs (synthcxr.digests), so a
    real edit to any of them reruns the rule.

    A param, not input files: the content decides (a touch or a fresh checkout reruns nothing), and the
    rerun trigger does not depend on where the run directory lies relative to the checkout. Snakemake's
    own rerun trigger "code" would rerun a `script:` rule whenever the script's modification time is newer
    than the outputs (a touch, a git checkout, a fresh clone with the results copied over: hours of GPU
    time for nothing); profiles/default/config.yaml switches it off.
    """
    return {}


def add_code_digests():
    """Fill in the `code` param of every rule with a script, from what the script imports; call once all
    rules exist. (Reused with `use`, a rule shares its original's dict, hence the same script and digests.)
    """
    for each in workflow.rules:
        if each.script and "code" in each.params.keys():
            each.params.code.update(code_digests(SCRIPTS / Path(each.script).name))


def folder_origin(domain):
    """'path' (the user's folder), 'manifest' (a label table and its images folder), 'demo' (phantoms)
    or 'generated' (a generator trained here)."""
    return next(
        kind
        for kind in ("path", "manifest", "demo", "generated")
        if kind in DOMAINS[domain]
    )


def domain_folder(domain):
    return {
        "path": lambda: DOMAINS[domain]["path"],
        "manifest": lambda: DOMAINS[domain]["images"],
        "demo": lambda: f"results/demo/{domain}",
        "generated": lambda: f"results/generated/{domain}",
    }[folder_origin(domain)]()


def fidelity_reference(domain):
    """The real domain a synthetic domain's fidelity is measured against, or None: the generated
    source, the `reference:` of a synthetic folder, else the domain its generator was trained on.
    """
    settings = DOMAINS[domain]
    if "generated" in settings:
        return settings["generated"]["source"]
    return settings.get("reference") or (generator_trained_on(domain) or {}).get(
        "domain"
    )


def fidelity_reference_key(domain):
    """The config key that names fidelity_reference(domain), for messages."""
    settings = DOMAINS[domain]
    if "generated" in settings:
        return "generated.source"
    return "reference" if settings.get("reference") else "generator_trained_on.domain"


FIDELITY_DOMAINS = [d for d in ALL_DOMAINS if fidelity_reference(d)]
check_config_references()


def prepared(kind, domains):
    path = {
        "images": "results/prepared/{}/images.npy",
        "manifest": "results/splits/{}.csv",
    }[kind]
    return [path.format(domain) for domain in domains]


def checked_fingerprint(domain):
    """Check a user folder before any job starts and fingerprint its image list.

    The fingerprint covers each image's path, size and modification time (not the folder's own date,
    and not the bytes, which would mean reading every image at each DAG build): copying the data
    without preserving times (cp without -p, rsync without -t) reruns the preparation.
    """
    settings, split = DOMAINS[domain], domain_split(domain)
    try:
        if folder_origin(domain) == "manifest":
            listing, note = checked_table(
                domain,
                settings,
                CLASSES,
                split,
                config["test_fraction"],
                config["on_bad_image"],
            )
        else:
            listing = list_domain(domain, domain_folder(domain), CLASSES, split)
            check_class_sizes(domain, listing, config["test_fraction"], split)
            note = outside_classes_note(domain, listing)
    except DomainError as error:
        raise WorkflowError(str(error)) from None
    if note:
        print(f"Note: {note}", file=sys.stderr)
    check_new_images(domain, listing)
    if folder_origin(domain) == "manifest":
        return table_fingerprint(listing, settings)
    return fingerprint(listing)


# More new or changed images than this: the domain is prepared again anyway, so the dry run does
# not spend its time decoding them; prepare_domain checks them.
MAX_IMAGES_CHECKED_AT_DAG_TIME = 1000


def check_new_images(domain, listing):
    """Decode the images added or changed since the domain was last prepared, before any job starts.

    An unreadable one, or a copy of an image of another class (a label conflict, also with the images
    already prepared), would make prepare_domain fail, and Snakemake deletes a failed job's outputs:
    the split, cache and intake report would be lost, and removing the file again would re-prepare
    the domain and retrain its models. Stopping here keeps them. Skipped without Pillow (a login
    node with only snakemake): prepare_domain still refuses the file.
    """
    if config["on_bad_image"] != "error":
        return
    manifest = prepared("manifest", [domain])[0]
    new = changed_since(listing, manifest)
    if not new or len(new) > MAX_IMAGES_CHECKED_AT_DAG_TIME:
        return
    try:
        from synthcxr.new_images import new_images_error
    except ImportError:
        return
    error = new_images_error(domain, listing, new, manifest, config["image_size"])
    if error:
        raise WorkflowError(str(error))


# Demo and generated folders are made by the workflow and tracked through their rules.
FOLDER_FINGERPRINTS = {
    d: checked_fingerprint(d) if folder_origin(d) in ("path", "manifest") else None
    for d in ALL_DOMAINS
}


def made_by_workflow(wildcards):
    """A demo or generated domain's folder, a rule's output; none for a user's folder (fingerprinted)."""
    if folder_origin(wildcards.domain) in ("path", "manifest"):
        return []
    return [domain_folder(wildcards.domain)]


def train_sources(train):
    return MIXED_MEMBERS if train == MIXED else [train]


def leakage_pair_domains(train, test):
    """The domains whose manifests one leakage check reads: the training domain's sources and the test domain."""
    return list(dict.fromkeys([*train_sources(train), test]))


def leakage_checks(train, tests):
    """One leakage check per (training domain, test domain) pair, not per training domain: a check that
    read every test split would rerun, and rerun the training, whenever any other domain changes.
    No ancient() to prevent that either: Snakemake 9 then skips the jobs downstream whose own settings
    changed (they are masked by the rerun check and never reached through the ancient input).
    """
    return [f"results/leakage/{train}/{test}.json" for test in tests]


def patient_id_space(domain):
    """The domain's `patient_id_space`, or None: its patient ids are then its own, compared with no other domain's."""
    return DOMAINS[domain].get("patient_id_space")


def check_id_spaces(train, test):
    """The patient id spaces one leakage check's result depends on (leakage.pair_id_spaces)."""
    return pair_id_spaces(
        train_sources(train),
        test,
        {d: image_kind(d) for d in ALL_DOMAINS},
        {d: patient_id_space(d) for d in ALL_DOMAINS},
    )


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


# One heat-map per compared metric (synthcxr.catalog, standard library only).
FIGURES = [
    *(f"heatmap_{metric}" for metric in COMPARED_METRICS),
    "confusion_matrices",
    "confusion_matrices_by_seed",
    "roc_curves",
    "reliability",
    "training_curves",
    "sample_images",
]


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
        *expand(
            "results/generators/{domain}/progress",
            domain=[d for d in ALL_DOMAINS if folder_origin(d) == "generated"],
        ),
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


STATISTICS = config["statistics"]


def bootstrap_settings(resamples):
    """Keyword arguments of the package's bootstrap functions, from the config's statistics section.

    ``resamples``: the key of the number of replicates (interval_resamples or comparison_resamples).
    """
    return {
        "n_boot": STATISTICS[resamples],
        "alpha": STATISTICS["alpha"],
        "seed": STATISTICS["bootstrap_seed"],
        "min_groups_per_class": STATISTICS["min_groups_per_class"],
    }


def test_label(domain):
    """A test domain's label in tables and figures: external test sets are marked."""
    return f"{domain} (external)" if domain in EXTERNAL_TEST_DOMAINS else domain


def unseen_external_test_domains():
    """Real external test sets that no generator learned from: the honest yardstick the findings lead with."""
    seen = {(generator_trained_on(d) or {}).get("domain") for d in DOMAINS}
    return [
        d for d in EXTERNAL_TEST_DOMAINS if image_kind(d) == "real" and d not in seen
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


def current_leakage_report(train, test):
    """The leakage report of a pair if it still describes the data: newer than the manifests it read, none
    of their domains to be prepared again, and checked under today's id spaces (else its check runs again,
    and stops there); else None.
    """
    report_file = Path(f"results/leakage/{train}/{test}.json")
    manifests = [
        Path(m) for m in prepared("manifest", leakage_pair_domains(train, test))
    ]
    try:
        written = report_file.stat().st_mtime_ns
        if any(m.stat().st_mtime_ns > written for m in manifests):
            return None
        content = json.loads(report_file.read_text())
    except (OSError, ValueError):
        return None
    if any(preparation_outdated(d) for d in leakage_pair_domains(train, test)):
        return None
    # Checked under other id spaces: the check runs again (its param changed), and may find no patients.
    if content.get("patient_id_spaces", {}) != check_id_spaces(train, test):
        return None
    return content


@functools.cache
def preparation_outdated(domain):
    """Whether a prepared domain is seen to be prepared again: its intake report names another folder,
    split or group_pattern than the config, or images of its user folder were added, changed or removed
    since its split manifest was written. (Settings read by every domain, such as split_seed, are not
    compared.) Computed once per run, though several pairs ask.
    """
    try:
        intake = json.loads(Path(f"results/intake/{domain}.json").read_text())
    except (OSError, ValueError):
        return True
    settings = {
        "folder": str(Path(domain_folder(domain))),
        "split": domain_split(domain),
        "group_pattern": DOMAINS[domain].get("group_pattern"),
    }
    if any(intake.get(key) != value for key, value in settings.items()):
        return True
    if folder_origin(domain) != "path":
        return False
    listing = list_domain(domain, domain_folder(domain), CLASSES, domain_split(domain))
    manifest = prepared("manifest", [domain])[0]
    with open(manifest, newline="") as handle:
        prepared_paths = {row["path"] for row in csv.DictReader(handle)}
    return bool(changed_since(listing, manifest)) or bool(
        prepared_paths - set(listing.stats)
    )


def check_existing_leakage_reports():
    """With `leakage: error`, stop before any job if the study's current leakage reports hold findings.

    The setting is no rerun trigger (it decides whether a run stops, not what a check computes), so
    without this a study whose checks ran with `report` would go on, under `error`, with its leaks.
    """
    if config["leakage"] != "error" or workflow.remote_exec or workflow.subprocess_exec:
        return
    found = []
    for train in TRAIN_DOMAINS:
        for test in TEST_DOMAINS:
            findings = report_findings(current_leakage_report(train, test) or {})
            if findings:
                path = f"results/leakage/{train}/{test}.json"
                found.append(f"{train} -> {test} ({path}): {'; '.join(findings)}")
    if found:
        listed = "\n  ".join(found)
        raise WorkflowError(
            f"leakage: error, and the leakage reports of {len(found)} (training domain -> test domain) "
            f"pair(s) hold findings:\n  {listed}\nRemove the copies from the domain folders (their checks "
            "then run again), or set leakage: report to go on and report them"
        )


check_existing_leakage_reports()


# The primary endpoint (statistics.primary, defaults filled in): tested apart from all other comparisons.
try:
    PRIMARY = primary_endpoint(
        STATISTICS.get("primary", {}),
        test_domains=TEST_DOMAINS,
        external=unseen_external_test_domains(),
        reference=STUDY_REFERENCE,
    )
except ValueError as error:
    raise WorkflowError(str(error)) from None


# The report's menu sorts its categories by name: numbered, they appear in reading order.
REPORT_CATEGORIES = {
    name: f"{index}. {name}"
    for index, name in enumerate(
        ["Findings", "Tables", "Figures", "Fidelity", "Methods"], start=1
    )
}
