# Domain tables and input functions. No torch here: a dry run needs only snakemake.
import ast
import functools
import hashlib
import os
import re
from pathlib import Path

# CHECKOUT (Snakefile): this checkout, also when used as a module; the Snakefile puts SCRIPTS on sys.path.
SCRIPTS = CHECKOUT / "scripts"
from synthcxr.folders import (
    DomainError,
    bad_images_error,
    changed_since,
    check_class_sizes,
    fingerprint,
    list_domain,
    outside_classes_note,
)

CLASSES = config["classes"]
DOMAINS = config["domains"]
REAL_DOMAINS = list(DOMAINS)
MIXED = config["mixed"]["name"]
MIXED_MEMBERS = config["mixed"]["members"]
TRAIN_DOMAINS = REAL_DOMAINS + ([MIXED] if MIXED_MEMBERS else [])
TEST_DOMAINS = REAL_DOMAINS
SEEDS = config["seeds"]
VOLUME_DOMAINS = config["volume"]["domains"]
# 100% is the main training; only the smaller parts are trained again.
VOLUME_PERCENTS = sorted(p for p in config["volume"]["percents"] if p < 100)


def check_config_references():
    """What the JSON schema cannot say: cross-references between keys."""
    if MIXED in DOMAINS:
        raise WorkflowError(
            f"mixed.name '{MIXED}' is also a name in domains; choose another"
        )
    unknown = [m for m in MIXED_MEMBERS if m not in DOMAINS]
    if unknown:
        raise WorkflowError(
            f"mixed.members {unknown} are not in domains; allowed: {REAL_DOMAINS}"
        )
    for domain in FIDELITY_DOMAINS:
        reference = fidelity_reference(domain)
        if (
            reference not in DOMAINS
            or reference == domain
            or "generated" in DOMAINS[reference]
        ):
            raise WorkflowError(
                f"domains.{domain}: source/reference '{reference}' must be another domain that is "
                f"not generated; allowed: {[d for d in REAL_DOMAINS if d != domain and 'generated' not in DOMAINS[d]]}"
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
        pattern = settings.get("group_pattern")
        if pattern is None:
            continue
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
    domain="|".join(REAL_DOMAINS),
    test="|".join(TEST_DOMAINS),
    train="|".join(TRAIN_DOMAINS),
    seed=r"\d+",
    percent=r"\d+",


def code(*modules):
    """Digests of the package modules a rule's script imports, and of those they import: a param, so a
    real edit to any of them reruns the rule.

    A param, not input files: the content decides (a touch or a fresh checkout reruns nothing), and
    the rerun trigger does not depend on where the run directory lies relative to the checkout.
    """
    used = set().union(*(module_closure(module) for module in modules))
    return {module: module_digest(module) for module in sorted(used)}


def add_entry_script_digests():
    """Add the digest of each rule's entry script to its `code` param; call once every rule exists.

    Snakemake's own rerun trigger "code" reruns a `script:` rule whenever the script's modification
    time is newer than the outputs (a touch, a git checkout, a fresh clone with the results copied
    over: hours of GPU time for nothing). profiles/default/config.yaml switches it off, and the
    script's content decides instead, as for the package modules.
    """
    for each in workflow.rules:
        if each.script and "code" in each.params.keys():
            script = SCRIPTS / Path(each.script).name
            each.params.code[script.name] = hashlib.sha256(
                script.read_bytes()
            ).hexdigest()[:16]


def package_imports(module):
    """The synthcxr modules that synthcxr.<module> imports itself."""
    tree = ast.parse((SCRIPTS / "synthcxr" / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        package, _, name = (node.module or "").partition(".")
        if package == "synthcxr":  # from synthcxr.x import f / from synthcxr import x
            found |= {name} if name else {alias.name for alias in node.names}
    return found


@functools.cache
def module_closure(module):
    """``module`` and every synthcxr module it imports, directly or through another."""
    closure, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current not in closure:
            closure.add(current)
            todo.extend(package_imports(current))
    return frozenset(closure)


@functools.cache
def module_digest(module):
    source = SCRIPTS / "synthcxr" / f"{module}.py"
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def domain_kind(domain):
    """'path' (the user's folder), 'demo' (phantoms) or 'generated' (a generator trained here)."""
    return next(
        kind for kind in ("path", "demo", "generated") if kind in DOMAINS[domain]
    )


def domain_folder(domain):
    return {
        "path": lambda: DOMAINS[domain]["path"],
        "demo": lambda: f"results/demo/{domain}",
        "generated": lambda: f"results/generated/{domain}",
    }[domain_kind(domain)]()


def fidelity_reference(domain):
    """The real domain a synthetic domain is compared with, or None."""
    settings = DOMAINS[domain]
    return (
        settings["generated"]["source"]
        if "generated" in settings
        else settings.get("reference")
    )


FIDELITY_DOMAINS = [d for d in REAL_DOMAINS if fidelity_reference(d)]
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
    try:
        listing = list_domain(domain, domain_folder(domain), CLASSES)
        check_class_sizes(domain, listing, config["test_fraction"])
    except DomainError as error:
        raise WorkflowError(str(error)) from None
    note = outside_classes_note(domain, listing)
    if note:
        print(f"Note: {note}", file=sys.stderr)
    check_new_images(domain, listing)
    return fingerprint(listing)


# More new or changed images than this: the domain is prepared again anyway, so the dry run does
# not spend its time decoding them; prepare_domain checks them.
MAX_IMAGES_CHECKED_AT_DAG_TIME = 1000


def check_new_images(domain, listing):
    """Decode the images added or changed since the domain was last prepared, before any job starts.

    An unreadable one would make prepare_domain fail, and Snakemake deletes a failed job's outputs:
    the split, cache and intake report would be lost, and removing the file again would re-prepare
    the domain and retrain its models. Stopping here keeps them. Skipped without Pillow (a login
    node with only snakemake): prepare_domain still refuses the file.
    """
    if config["on_bad_image"] != "error":
        return
    new = changed_since(listing, prepared("manifest", [domain])[0])
    if not new or len(new) > MAX_IMAGES_CHECKED_AT_DAG_TIME:
        return
    try:
        from synthcxr.images import unreadable_images
    except ImportError:
        return
    bad = unreadable_images(listing.folder, new, config["image_size"])
    if bad:
        raise WorkflowError(str(bad_images_error(domain, listing.folder, bad)))


# Demo and generated folders are made by the workflow and tracked through their rules.
FOLDER_FINGERPRINTS = {
    d: checked_fingerprint(d) if domain_kind(d) == "path" else None
    for d in REAL_DOMAINS
}


def made_by_workflow(wildcards):
    """A demo or generated domain's folder, a rule's output; none for a user's folder (fingerprinted)."""
    if domain_kind(wildcards.domain) == "path":
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


def training_settings(wildcards):
    training = config["training"]
    return {
        "epochs": training["epochs"],
        "batch_size": training["batch_size"],
        "lr": training["lr"],
        "widths": training["widths"],
        "validation_fraction": training["validation_fraction"],
        "mixed_precision": training["mixed_precision"],
        "seed": int(wildcards.seed),
    }


def metric_files(pattern="results/metrics/{train}/{test}/seed{seed}.json"):
    return expand(pattern, train=TRAIN_DOMAINS, test=TEST_DOMAINS, seed=SEEDS)


FIGURES = [
    "heatmap_accuracy",
    "heatmap_balanced_accuracy",
    "heatmap_f1",
    "heatmap_auroc",
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
            domain=[d for d in REAL_DOMAINS if domain_kind(d) == "generated"],
        ),
    ]


def volume_paths(train, percent, test, seed):
    """Metrics, predictions and training history of one point of the volume curve (100%: the main training)."""
    if percent == 100:
        return {
            "metrics": f"results/metrics/{train}/{test}/seed{seed}.json",
            "predictions": f"results/predictions/{train}/{test}/seed{seed}.csv",
            "history": f"results/models/{train}/seed{seed}/history.json",
        }
    part = f"{train}/pct{percent}"
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
