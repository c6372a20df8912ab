# Domain tables and input functions. No torch here: a dry run needs only snakemake.
import ast
import functools
import hashlib
import os
import re
import sys
from pathlib import Path

# CHECKOUT (Snakefile): this checkout, also when used as a module; the Snakefile puts SCRIPTS on sys.path.
SCRIPTS = CHECKOUT / "scripts"
from synthcxr.catalog import COMPARED_METRICS
from synthcxr.endpoints import primary_endpoint
from synthcxr.folders import (
    SPLIT_MODES,
    DomainError,
    bad_images_error,
    changed_since,
    check_class_sizes,
    fingerprint,
    list_domain,
    outside_classes_note,
)

CLASSES = config["classes"]
# Settings of each domain, by name (config `domains:`).
DOMAINS = config["domains"]
MIXED = config["mixed"]["name"]
SEEDS = config["seeds"]
VOLUME_DOMAINS = config["volume"]["domains"]
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
                f"domains.{domain}: source/reference '{reference}' must be another domain that is "
                f"not generated and not an external test set (split: test); allowed: {allowed}"
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


def folder_origin(domain):
    """'path' (the user's folder), 'demo' (phantoms) or 'generated' (a generator trained here)."""
    return next(
        kind for kind in ("path", "demo", "generated") if kind in DOMAINS[domain]
    )


def domain_folder(domain):
    return {
        "path": lambda: DOMAINS[domain]["path"],
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
    try:
        split = domain_split(domain)
        listing = list_domain(domain, domain_folder(domain), CLASSES, split)
        check_class_sizes(domain, listing, config["test_fraction"], split)
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
    d: checked_fingerprint(d) if folder_origin(d) == "path" else None
    for d in ALL_DOMAINS
}


def made_by_workflow(wildcards):
    """A demo or generated domain's folder, a rule's output; none for a user's folder (fingerprinted)."""
    if folder_origin(wildcards.domain) == "path":
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


def metric_keys():
    """(train, test, seed) of every evaluation: scripts take these keys, never the file paths apart."""
    return [
        (train, test, seed)
        for train in TRAIN_DOMAINS
        for test in TEST_DOMAINS
        for seed in SEEDS
    ]


def metric_files(pattern="results/metrics/{train}/{test}/seed{seed}.json"):
    """One file per evaluation, in the order of metric_keys()."""
    return [
        pattern.format(train=train, test=test, seed=seed)
        for train, test, seed in metric_keys()
    ]


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


def test_label(domain):
    """A test domain's label in tables and figures: external test sets are marked."""
    return f"{domain} (external)" if domain in EXTERNAL_TEST_DOMAINS else domain


def unseen_external_test_domains():
    """Real external test sets that no generator learned from: the honest yardstick the findings lead with."""
    seen = {(generator_trained_on(d) or {}).get("domain") for d in DOMAINS}
    return [
        d for d in EXTERNAL_TEST_DOMAINS if image_kind(d) == "real" and d not in seen
    ]


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
