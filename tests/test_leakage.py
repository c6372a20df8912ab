"""synthcxr.leakage: pixel copies, shared patients and identical domains, and the message that stops a run."""

from synthcxr.leakage import (
    IDENTICAL_SHARE,
    domain_overlaps,
    leakage_error,
    pair_report,
    patient_overlap,
    report_findings,
)


def test_patient_overlap_and_domain_overlaps():
    train = [
        {"path": "a.png", "group": "id:p1", "pixel_hash": "x"},
        {"path": "b.png", "group": "content:y", "pixel_hash": "y"},
    ]
    test = [
        {"path": "c.png", "group": "id:p1", "pixel_hash": "z"},
        {"path": "d.png", "group": "content:y", "pixel_hash": "y"},
    ]
    assert patient_overlap(train, test) == ["c.png"]  # content groups are not patients
    rows = {"A": train, "B": test, "C": [{"path": "e.png", "group": "id:q", "pixel_hash": "q"}]}
    assert domain_overlaps(rows) == [{"domains": ["A", "B"], "shared_images": 1, "share": 0.5, "identical": True}]
    assert IDENTICAL_SHARE == 0.5
    message = leakage_error("A", {"B": []}, {"B": ["c.png"]}, domain_overlaps(rows))
    assert "1 test image(s) of domain 'B' are of patients in the training data of 'A'" in message
    assert "domains 'A' and 'B' share 1 images (50% of the smaller" in message


def test_the_leakage_error_names_each_test_domain_with_copies_and_examples():
    leaked = {"Original": [f"NORMAL/{i}.png" for i in range(7)], "VAEs": [], "GANs": ["PNEUMONIA/x.png"]}
    message = leakage_error("Mixed", leaked, examples=2)
    assert message == (
        "leakage: 7 test image(s) of domain 'Original' are exact copies of training images of 'Mixed', "
        "e.g. ['NORMAL/0.png', 'NORMAL/1.png']; 1 test image(s) of domain 'GANs' are exact copies of training "
        "images of 'Mixed', e.g. ['PNEUMONIA/x.png'] (set leakage: report to continue)"
    )
    assert leakage_error("Mixed", {"Original": [], "VAEs": []}) is None


def test_a_pair_report_names_copies_of_every_source_and_patients_of_other_real_sources():
    rows = {
        "Original": [
            {"path": "o1.png", "split": "train", "group": "id:p1", "pixel_hash": "a"},
            {"path": "o2.png", "split": "test", "group": "id:p2", "pixel_hash": "b"},
        ],
        "GANs": [{"path": "g1.png", "split": "train", "group": "content:c", "pixel_hash": "c"}],
        "Hospital2": [
            {"path": "h1.png", "split": "test", "group": "id:p1", "pixel_hash": "d"},  # a patient of Original
            {"path": "h2.png", "split": "test", "group": "content:c", "pixel_hash": "c"},  # a copy of a GANs image
            {"path": "h3.png", "split": "train", "group": "id:p3", "pixel_hash": "e"},
        ],
    }
    report, message = pair_report("Mixed", "Hospital2", rows, ["Original", "GANs"], ["Original", "Hospital2"])
    assert report["train_domain"] == "Mixed" and report["test_domain"] == "Hospital2"
    assert report["test_images"] == {"Hospital2": ["h2.png"]}
    assert report["test_images_of_training_patients"] == {"Hospital2": ["h1.png"]}
    assert report["domain_overlaps"] == domain_overlaps(rows)
    identical = [entry for entry in report["domain_overlaps"] if entry["identical"]]  # GANs' one image is h2
    assert [entry["domains"] for entry in identical] == [["GANs", "Hospital2"]]
    assert message == leakage_error(
        "Mixed", report["test_images"], report["test_images_of_training_patients"], identical
    )
    # a synthetic test domain has no patients to compare
    report, _ = pair_report("Original", "GANs", rows, ["Original"], ["Original", "Hospital2"])
    assert report["test_images_of_training_patients"] == {"GANs": []}


def test_the_findings_of_a_leakage_report_are_its_listed_test_images_and_identical_domains():
    report = {
        "train_domain": "Mixed",
        "test_domain": "Original",
        "test_images": {"Original": ["NORMAL/1.png", "NORMAL/2.png"]},
        "test_images_of_training_patients": {"Original": ["PNEUMONIA/p7.png"]},
        "domain_overlaps": [
            {"domains": ["GANs", "Original"], "shared_images": 40, "share": 0.9, "identical": True},
            {"domains": ["Original", "VAEs"], "shared_images": 1, "share": 0.01, "identical": False},
        ],
        "patient_id_space": "an info-only key another version may add",
    }
    assert report_findings(report, examples=1) == [
        "2 test image(s) of domain 'Original' are exact copies of training images, e.g. ['NORMAL/1.png']",
        "1 test image(s) of domain 'Original' are of patients in the training data, e.g. ['PNEUMONIA/p7.png']",
        "domains 'GANs' and 'Original' share 40 images",
    ]
    clean = {"test_images": {"Original": []}, "test_images_of_training_patients": {"Original": []}}
    assert report_findings(clean | {"domain_overlaps": report["domain_overlaps"][1:]}) == []
    assert report_findings({}) == []
