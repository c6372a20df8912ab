# Domain tables and input functions. No torch here: a dry run needs only snakemake.
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
from synthcxr.folders import DomainError, check_class_sizes, fingerprint, list_domain

CLASSES = config["classes"]
DOMAINS = config["domains"]
REAL_DOMAINS = list(DOMAINS)
MIXED = config["mixed"]["name"]
MIXED_MEMBERS = config["mixed"]["members"]
TRAIN_DOMAINS = REAL_DOMAINS + ([MIXED] if MIXED_MEMBERS else [])
TEST_DOMAINS = REAL_DOMAINS
SEEDS = config["seeds"]
SCRIPTS = Path(workflow.basedir) / "scripts"


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
    for domain, settings in DOMAINS.items():
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


check_config_references()


wildcard_constraints:
    domain="|".join(REAL_DOMAINS),
    test="|".join(TEST_DOMAINS),
    train="|".join(TRAIN_DOMAINS),
    seed=r"\d+",


def code(*modules):
    """The package modules a rule's script uses: inputs, so a real edit to them reruns the rule."""
    # Relative paths: the inputs (a rerun trigger) must not depend on where the checkout lives.
    return [
        os.path.relpath(SCRIPTS / "synthcxr" / f"{module}.py") for module in modules
    ]


def is_demo(domain):
    return "demo" in DOMAINS[domain]


def domain_folder(domain):
    return f"results/demo/{domain}" if is_demo(domain) else DOMAINS[domain]["path"]


def checked_fingerprint(domain):
    """Check a user folder before any job starts and fingerprint its images (content, not mtime of the folder)."""
    try:
        listing = list_domain(domain, domain_folder(domain), CLASSES)
        check_class_sizes(domain, listing, config["test_fraction"])
    except DomainError as error:
        raise WorkflowError(str(error)) from None
    return fingerprint(listing)


# Demo folders are made by the workflow; their content is tracked through the demo rule's params.
FOLDER_FINGERPRINTS = {
    d: None if is_demo(d) else checked_fingerprint(d) for d in REAL_DOMAINS
}


def prepare_domain_input(wildcards):
    inputs = {"code": code("prepare", "folders", "images", "splits")}
    if is_demo(wildcards.domain):
        inputs["demo"] = domain_folder(wildcards.domain)
    return inputs


def train_sources(train):
    return MIXED_MEMBERS if train == MIXED else [train]


def prepared(kind, domains):
    path = {
        "images": "results/prepared/{}/images.npy",
        "manifest": "results/splits/{}.csv",
    }[kind]
    return [path.format(domain) for domain in domains]


def training_settings(wildcards):
    training = config["training"]
    return {
        "epochs": training["epochs"],
        "batch_size": training["batch_size"],
        "lr": training["lr"],
        "widths": training["widths"],
        "seed": int(wildcards.seed),
    }


def metric_files(pattern="results/metrics/{train}/{test}/seed{seed}.json"):
    return expand(pattern, train=TRAIN_DOMAINS, test=TEST_DOMAINS, seed=SEEDS)


FIGURES = ["heatmap_accuracy", "heatmap_f1", "confusion_matrices"]


def final_outputs():
    return [
        "results/summary.csv",
        "results/summary.md",
        "results/provenance.json",
        *expand("results/figures/{name}.{ext}", name=FIGURES, ext=["png", "pdf"]),
    ]
