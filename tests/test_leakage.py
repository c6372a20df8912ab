"""synthcxr.leakage: pixel copies, shared patients and identical domains, and the message that stops a run."""

from synthcxr.leakage import IDENTICAL_SHARE, domain_overlaps, leakage_error, patient_overlap


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
