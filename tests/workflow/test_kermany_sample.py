"""Intake on real chest X-rays: the Kermany sample beside the project (skipped where it is absent)."""

from collections import defaultdict

import pytest
import yaml
from workflow_helpers import REPO

from synthcxr.prepare import prepare_domain

SAMPLE = REPO.parent / "shared" / "data" / "kermany-sample"
pytestmark = [
    pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"real X-ray sample not found at {SAMPLE}"),
    pytest.mark.slow,  # decodes 806 real X-rays from disk
]


def test_patient_groups_are_detected_and_never_straddle_the_split():
    study = yaml.safe_load((REPO / "config" / "study.yaml").read_text())
    pattern = study["domains"]["Original"]["group_pattern"]
    images, rows, report = prepare_domain(
        "Original",
        SAMPLE,
        ["NORMAL", "PNEUMONIA"],
        image_size=128,
        test_fraction=0.2,
        split_seed=1,
        group_pattern=pattern,
        threads=2,
    )
    assert images.shape == (806, 128, 128)
    assert report["images_used"] == 806 and report["bad_images"] == 0
    # Every Kermany file name carries a patient id; several patients have more than one image.
    assert report["groups_matched_by_pattern"] == report["groups"] < 806
    assert report["groups_straddling_without_grouping"] > 0
    sides = defaultdict(set)
    for row in rows:
        sides[row["group"]].add(row["split"])
    assert all(len(s) == 1 for s in sides.values())
    test_share = sum(r["split"] == "test" for r in rows) / len(rows)
    assert 0.17 < test_share < 0.23
    for name in ("NORMAL", "PNEUMONIA"):
        per_class = report["class_counts"]["test"][name] / (
            report["class_counts"]["test"][name] + report["class_counts"]["train"][name]
        )
        assert 0.15 < per_class < 0.25  # stratified as far as groups allow
