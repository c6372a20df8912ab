"""Trees in Kaggle's chest_xray layout for tests: from the real Kermany sample beside the project (symlinks;
tests that need it are skipped with a reason where it is absent) or from the demo renderer."""

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from workflow_helpers import REPO

from synthcxr.phantoms import write_demo_domain

SAMPLE = REPO.parent / "shared" / "data" / "kermany-sample"
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"real X-ray sample not found at {SAMPLE}")
CLASSES = ["NORMAL", "PNEUMONIA"]
KERMANY = yaml.safe_load((REPO / "config" / "kermany.yaml").read_text())
PATIENT = re.compile(KERMANY["domains"]["Original"]["group_pattern"])


def sample_patients():
    """Kermany sample images per class, grouped by patient, patients in name order."""
    patients = {}
    for name in CLASSES:
        by_patient = defaultdict(list)
        for path in sorted((SAMPLE / name).iterdir()):
            by_patient[PATIENT.search(path.name).group(1)].append(path)
        patients[name] = dict(sorted(by_patient.items()))
    return patients


def link_tree(root, parts, patients, start=0):
    """Symlink whole patients into root/<part>/<class>/, ``parts`` = {part: images per class}.

    Takes patients in order from ``start`` (per class); returns where it stopped, so that trees built
    one after the other share no patient.
    """
    stop = {}
    for name in CLASSES:
        order, index = list(patients[name].values()), start if isinstance(start, int) else start[name]
        for part, count in parts.items():
            folder = Path(root) / part / name
            folder.mkdir(parents=True, exist_ok=True)
            linked = 0
            while linked < count:
                for path in order[index]:
                    (folder / path.name).symlink_to(path)
                    linked += 1
                index += 1
        stop[name] = index
    return stop


INFECTION = re.compile(r"person\d+_(bacteria|virus)_")


def reused_person_numbers(patients, count):
    """``count`` PNEUMONIA patients of the sample with both a bacteria and a virus image, in name order."""
    both = [
        person
        for person, paths in patients["PNEUMONIA"].items()
        if {INFECTION.search(path.name).group(1) for path in paths} == {"bacteria", "virus"}
    ]
    assert len(both) >= count, f"the sample has {len(both)} person numbers with both infection types"
    return both[:count]


def kaggle_tree_reusing_person_numbers(root, parts, reused=3):
    """Kaggle's chest_xray/{train,test,val}/ as published: test/PNEUMONIA reuses person numbers of train/.

    ``parts`` = {part: images per class} as for :func:`link_tree`. ``reused`` person numbers with both
    infection types have their bacteria images in train/PNEUMONIA and their virus images in test/PNEUMONIA
    (``person1_bacteria_1`` in train, ``person1_virus_11`` in test, never the same type, as in Kaggle's
    files); every other patient is whole in one part. Returns the reused ids (``personN``).
    """
    patients = sample_patients()
    numbers = reused_person_numbers(patients, reused)
    split = {
        "train": {f"{n}_bacteria": [p for p in patients["PNEUMONIA"][n] if "_bacteria_" in p.name] for n in numbers},
        "test": {f"{n}_virus": [p for p in patients["PNEUMONIA"][n] if "_virus_" in p.name] for n in numbers},
    }
    others = {n: paths for n, paths in patients["PNEUMONIA"].items() if n not in numbers}
    start = {"NORMAL": 0, "PNEUMONIA": 0}
    for part, count in parts.items():
        first = split.get(part, {})
        given = {"NORMAL": patients["NORMAL"], "PNEUMONIA": {**first, **others}}
        # the reused numbers' images first, then whole patients of the sample not used yet
        stop = link_tree(root, {part: count}, given, start={"NORMAL": start["NORMAL"], "PNEUMONIA": 0})
        start["NORMAL"] = stop["NORMAL"]
        used = list(given["PNEUMONIA"])[len(first) : stop["PNEUMONIA"]]
        others = {n: paths for n, paths in others.items() if n not in used}
    return numbers


def demo_tree(root, per_split):
    """A Kaggle-layout tree of demo phantoms: root/<split>/<class>/, a different seed per split."""
    for seed, (part, count) in enumerate(per_split.items(), start=1):
        write_demo_domain(Path(root) / part, per_class=count, shift="none", seed=seed, class_names=CLASSES, size=32)
    return Path(root)
