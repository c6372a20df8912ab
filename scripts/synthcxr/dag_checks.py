"""Checks of the data and of earlier results while the DAG is built, before any job starts.

Standard library only (Pillow where present): the Snakefile runs them at every DAG build, a dry run included
(workflow/rules/common.smk). Each raises ValueError (a folders.DomainError naming the domain and the file or
folder) or returns a message; common.smk turns either into one WorkflowError, so bad data stops a run before
any expensive work and nothing already computed is lost.
"""

import csv
import functools
import json
import sys
from pathlib import Path

from synthcxr.folders import changed_since, check_class_sizes, fingerprint, list_domain, outside_classes_note
from synthcxr.leakage import report_findings
from synthcxr.study import prepared
from synthcxr.tables import checked_table, table_fingerprint

# More new or changed images than this: the domain is prepared again anyway, so the dry run does
# not spend its time decoding them; prepare_domain checks them.
MAX_IMAGES_CHECKED_AT_DAG_TIME = 1000


def folder_fingerprints(study, config, notes=None):
    """Domain -> the fingerprint of its user folder (checked_fingerprint), or None for a demo or generated
    domain (made by the workflow and tracked through its rules), for every domain in study order."""
    return {
        d: checked_fingerprint(study, d, config, notes) if study.folder_origin(d) in ("path", "manifest") else None
        for d in study.all_domains
    }


def checked_fingerprint(study, domain, config, notes=None):
    """Check a user folder and fingerprint its image list; notes on what is not used go to ``notes`` (default: stderr).

    The fingerprint covers each image's path, size and modification time (not the folder's own date,
    and not the bytes, which would mean reading every image at each DAG build): copying the data
    without preserving times (cp without -p, rsync without -t) reruns the preparation.

    Raises
    ------
    folders.DomainError
        A problem of the folder or table (too few images, a bad layout, an unreadable new image...).
    """
    settings, split = study.domains[domain], study.domain_split(domain)
    if study.folder_origin(domain) == "manifest":
        listing, note = checked_table(
            domain, settings, study.classes, split, config["test_fraction"], config["on_bad_image"]
        )
    else:
        listing = list_domain(domain, study.domain_folder(domain), study.classes, split)
        check_class_sizes(domain, listing, config["test_fraction"], split)
        note = outside_classes_note(domain, listing)
    if note:
        print(f"Note: {note}", file=notes or sys.stderr)
    if config["on_bad_image"] == "error":
        check_new_images(domain, listing, config["image_size"])
    if study.folder_origin(domain) == "manifest":
        return table_fingerprint(listing, settings)
    return fingerprint(listing)


def check_new_images(domain, listing, image_size):
    """Decode the images added or changed since the domain was last prepared (with ``on_bad_image: error``).

    An unreadable one, or a copy of an image of another class (a label conflict, also with the images
    already prepared), would make prepare_domain fail, and Snakemake deletes a failed job's outputs:
    the split, cache and intake report would be lost, and removing the file again would re-prepare
    the domain and retrain its models. Stopping here keeps them. Skipped without Pillow (a login
    node with only snakemake): prepare_domain still refuses the file.

    Raises
    ------
    folders.DomainError
        The error prepare_domain would raise (new_images.new_images_error).
    """
    manifest = prepared("manifest", [domain])[0]
    new = changed_since(listing, manifest)
    if not new or len(new) > MAX_IMAGES_CHECKED_AT_DAG_TIME:
        return
    try:
        from synthcxr.new_images import new_images_error
    except ImportError:
        return
    error = new_images_error(domain, listing, new, manifest, image_size)
    if error:
        raise error


def preparation_outdated(study, domain):
    """Whether a prepared domain is seen to be prepared again: its intake report names another folder,
    split or group_pattern than the config, or images of its user folder were added, changed or removed
    since its split manifest was written. (Settings read by every domain, such as split_seed, are not
    compared.)
    """
    try:
        intake = json.loads(Path(f"results/intake/{domain}.json").read_text())
    except (OSError, ValueError):
        return True
    settings = {
        "folder": str(Path(study.domain_folder(domain))),
        "split": study.domain_split(domain),
        "group_pattern": study.domains[domain].get("group_pattern"),
    }
    if any(intake.get(key) != value for key, value in settings.items()):
        return True
    if study.folder_origin(domain) != "path":
        return False
    listing = list_domain(domain, study.domain_folder(domain), study.classes, study.domain_split(domain))
    manifest = prepared("manifest", [domain])[0]
    with open(manifest, newline="") as handle:
        prepared_paths = {row["path"] for row in csv.DictReader(handle)}
    return bool(changed_since(listing, manifest)) or bool(prepared_paths - set(listing.stats))


def current_leakage_report(study, train, test, outdated=None):
    """The leakage report of a pair if it still describes the data: newer than the manifests it read, none
    of their domains to be prepared again, and checked under today's id spaces (else its check runs again,
    and stops there); else None. ``outdated``: preparation_outdated for one domain (a cached one, when
    several pairs ask).
    """
    outdated = outdated or functools.partial(preparation_outdated, study)
    domains = study.leakage_pair_domains(train, test)
    report_file = Path(f"results/leakage/{train}/{test}.json")
    try:
        written = report_file.stat().st_mtime_ns
        if any(Path(m).stat().st_mtime_ns > written for m in prepared("manifest", domains)):
            return None
        content = json.loads(report_file.read_text())
    except (OSError, ValueError):
        return None
    if any(outdated(d) for d in domains):
        return None
    # Checked under other id spaces: the check runs again (its param changed), and may find no patients.
    if content.get("patient_id_spaces", {}) != study.check_id_spaces(train, test):
        return None
    return content


def existing_leakage_error(study):
    """The message stopping a run under ``leakage: error`` when the study's current leakage reports hold
    findings, or None.

    The setting is no rerun trigger (it decides whether a run stops, not what a check computes), so
    without this a study whose checks ran with `report` would go on, under `error`, with its leaks.
    """
    outdated = functools.cache(functools.partial(preparation_outdated, study))
    found = []
    for train in study.train_domains:
        for test in study.test_domains:
            findings = report_findings(current_leakage_report(study, train, test, outdated) or {})
            if findings:
                path = f"results/leakage/{train}/{test}.json"
                found.append(f"{train} -> {test} ({path}): {'; '.join(findings)}")
    if not found:
        return None
    listed = "\n  ".join(found)
    return (
        f"leakage: error, and the leakage reports of {len(found)} (training domain -> test domain) "
        f"pair(s) hold findings:\n  {listed}\nRemove the copies from the domain folders (their checks "
        "then run again), or set leakage: report to go on and report them"
    )
