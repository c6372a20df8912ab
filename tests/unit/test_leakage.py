"""synthcxr.leakage: pixel copies, shared patients and identical domains, and the message that stops a run."""

from synthcxr.leakage import (
    IDENTICAL_SHARE,
    domain_overlaps,
    id_space_error,
    leakage_error,
    pair_id_spaces,
    pair_report,
    patient_overlap,
    report_findings,
    same_patients,
    shared_ids,
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


def test_a_pair_report_names_copies_of_every_source_and_patients_of_sources_in_the_same_id_space():
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
    spaces = {"Original": "hospitals", "Hospital2": "hospitals", "GANs": None}
    report, message = pair_report("Mixed", "Hospital2", rows, ["Original", "GANs"], spaces)
    assert report["train_domain"] == "Mixed" and report["test_domain"] == "Hospital2"
    assert report["test_images"] == {"Hospital2": ["h2.png"]}
    assert report["test_images_of_training_patients"] == {"Hospital2": ["h1.png"]}
    assert report["domain_overlaps"] == domain_overlaps(rows)
    identical = [entry for entry in report["domain_overlaps"] if entry["identical"]]  # GANs' one image is h2
    assert [entry["domains"] for entry in identical] == [["GANs", "Hospital2"]]
    assert message == leakage_error(
        "Mixed", report["test_images"], report["test_images_of_training_patients"], identical
    )
    assert report["compared_by_patient"] == [["Original", "Hospital2"]]
    assert report["compared_by_pixels_only"] == [["GANs", "Hospital2"]]
    assert report["shared_ids_other_space"] == []
    assert report["patient_id_spaces"] == {"Original": "hospitals", "GANs": None, "Hospital2": "hospitals"}
    # a synthetic test domain has no patients to compare
    report, _ = pair_report("Original", "GANs", rows, ["Original"], spaces)
    assert report["test_images_of_training_patients"] == {"GANs": []}
    assert report["compared_by_pixels_only"] == [["Original", "GANs"]]


def kaggle_like_rows():
    """Kaggle's Kermany: test/ reuses person numbers of train/ with the other infection type."""
    return {
        "Original": [
            {"path": "PNEUMONIA/person1_bacteria_1.png", "split": "train", "group": "id:person1", "pixel_hash": "a"},
            {"path": "PNEUMONIA/person2_bacteria_5.png", "split": "train", "group": "id:person2", "pixel_hash": "b"},
            {"path": "NORMAL/IM-0117-0001.png", "split": "test", "group": "id:IM-0117", "pixel_hash": "c"},
        ],
        "KermanyTest": [
            {"path": "PNEUMONIA/person1_virus_11.png", "split": "test", "group": "id:person1", "pixel_hash": "d"},
            {"path": "PNEUMONIA/person2_virus_13.png", "split": "test", "group": "id:person2", "pixel_hash": "e"},
            {"path": "NORMAL/IM-0001-0001.png", "split": "test", "group": "id:IM-0001", "pixel_hash": "f"},
        ],
    }


def test_ids_of_domains_in_different_id_spaces_are_information_never_leakage():
    rows = kaggle_like_rows()
    for spaces in ({}, {"Original": "kaggle-train", "KermanyTest": "kaggle-test"}, {"Original": "kermany"}):
        report, message = pair_report("Original", "KermanyTest", rows, ["Original"], spaces)
        assert message is None, spaces
        assert report["test_images_of_training_patients"] == {"KermanyTest": []}
        assert report["compared_by_patient"] == [] and report["compared_by_pixels_only"] == [
            ["Original", "KermanyTest"]
        ]
        assert report["shared_ids_other_space"] == [
            {"domains": ["Original", "KermanyTest"], "ids": ["person1", "person2"], "count": 2}
        ]


def test_one_id_space_on_both_domains_makes_shared_ids_leakage():
    rows = kaggle_like_rows()
    spaces = {"Original": "kermany", "KermanyTest": "kermany"}
    report, message = pair_report("Original", "KermanyTest", rows, ["Original"], spaces)
    leaked = ["PNEUMONIA/person1_virus_11.png", "PNEUMONIA/person2_virus_13.png"]
    assert report["test_images_of_training_patients"] == {"KermanyTest": leaked}
    assert report["compared_by_patient"] == [["Original", "KermanyTest"]] and report["shared_ids_other_space"] == []
    assert message.startswith("leakage: 2 test image(s) of domain 'KermanyTest' are of patients in the training data")


def test_a_domains_own_split_is_not_compared_across_domains():
    rows = kaggle_like_rows()
    report, message = pair_report("Original", "Original", rows, ["Original"], {"Original": "kermany"})
    assert message is None and report["compared_by_patient"] == report["compared_by_pixels_only"] == []
    assert report["shared_ids_other_space"] == []


def test_same_patients_needs_the_same_named_space_on_both_domains():
    assert same_patients("A", "B", {"A": "s", "B": "s"})
    assert not same_patients("A", "B", {"A": "s", "B": "t"})
    assert not same_patients("A", "B", {"A": "s"})
    assert not same_patients("A", "B", {"A": None, "B": None})
    assert not same_patients("A", "B", {})


def test_shared_ids_are_patient_ids_only():
    train = [{"group": "id:p1"}, {"group": "content:x"}, {"group": "id:p2"}]
    test = [{"group": "id:p2"}, {"group": "content:x"}, {"group": "id:p3"}, {"group": "id:p2"}]
    assert shared_ids(train, test) == ["p2"]


def test_an_id_space_is_refused_on_a_synthetic_domain_only():
    assert id_space_error("Original", "real", "kermany") is None
    assert id_space_error("GANs", "synthetic", None) is None
    message = id_space_error("GANs", "synthetic", "kermany")
    assert message.startswith("domains.GANs.patient_id_space: 'kermany' on a synthetic domain; only real domains")


def test_a_checks_id_spaces_are_only_those_that_can_change_its_result():
    kinds = {"Original": "real", "KermanyTest": "real", "Hospital2": "real", "GANs": "synthetic"}
    spaces = {"Original": "kermany", "KermanyTest": "kermany", "Hospital2": None}
    assert pair_id_spaces(["Original"], "KermanyTest", kinds, spaces) == {
        "Original": "kermany",
        "KermanyTest": "kermany",
    }
    # a domain's own split (an input of its training), or only synthetic other sources: no space matters
    assert pair_id_spaces(["Original"], "Original", kinds, spaces) == {}
    assert pair_id_spaces(["Original", "GANs"], "Original", kinds, spaces) == {}
    assert pair_id_spaces(["GANs"], "KermanyTest", kinds, spaces) == {}
    assert pair_id_spaces(["Original"], "GANs", kinds, spaces) == {}  # a synthetic test split has no patients
    assert pair_id_spaces(["Original", "Hospital2", "GANs"], "Hospital2", kinds, spaces) == {
        "Original": "kermany",
        "Hospital2": None,
    }


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
