"""Domains given by a label table (synthcxr.tables): parsing, label mapping, every bad input, the published
layouts of docs/data.md, and a real run on NIH-like and CheXpert-like tables of real X-rays."""

import csv
import hashlib
import json
import os

import pydicom
import pytest
from helpers import write_image
from kaggle_trees import needs_sample, sample_patients
from table_layouts import CLASSES, LAYOUTS, published_settings, random_patients, write_csv
from workflow_helpers import planned_jobs, snakemake, write_config

from synthcxr.folders import IMAGE_EXTENSIONS, DomainError
from synthcxr.manifest import write_manifest
from synthcxr.prepare import prepare_domain
from synthcxr.tables import (
    check_manifest_class_sizes,
    classes_of,
    label_rules,
    list_manifest,
    read_table,
    same_value,
    table_fingerprint,
)

NIH_LIKE = {"NORMAL": ["No Finding"], "PNEUMONIA": ["Pneumonia"]}


def table_domain(root, rows, header=("file", "finding", "patient"), images=None, **settings):
    """A manifest domain under ``root``: table.csv with ``rows`` and a random image for each named file (or for
    ``images``); returns its settings."""
    for index, name in enumerate(images if images is not None else {row[0] for row in rows}):
        write_image(root / "images" / name, (7, index), size=16)
    write_csv(root / "table.csv", header, rows)
    return {
        "kind": "real",
        "manifest": str(root / "table.csv"),
        "images": str(root / "images"),
        "columns": {"path": "file", "label": "finding", "patient": "patient"},
        "labels": NIH_LIKE,
        **settings,
    }


def simple_rows(per_class=5):
    return [
        [f"{name.lower()}{i}.png", "No Finding" if name == "NORMAL" else "Pneumonia", f"{name[0]}{i // 2}"]
        for name in CLASSES
        for i in range(per_class)
    ]


# Parsing and label mapping


def test_cell_values_match_as_the_table_means_them():
    assert same_value("1.0", 1) and same_value(" 1 ", "1.0") and same_value("-1.0", -1)
    assert same_value("", "") and not same_value("", 0) and not same_value("0.0", "")
    assert same_value("No Finding", "No Finding") and not same_value("No finding", "No Finding")


def test_a_multi_finding_value_is_claimed_by_the_class_of_one_of_its_findings_with_a_separator():
    rules = label_rules("NIH", {"columns": {"path": "p", "label": "f"}, "labels": NIH_LIKE}, CLASSES)
    assert classes_of({"f": "Pneumonia|Effusion"}, rules, "f", "|") == ["PNEUMONIA"]
    assert classes_of({"f": "No Finding"}, rules, "f", "|") == ["NORMAL"]
    assert classes_of({"f": "Effusion|Atelectasis"}, rules, "f", "|") == []
    # Without a separator the whole value must match.
    assert classes_of({"f": "Pneumonia|Effusion"}, rules, "f") == []
    assert classes_of({"f": "Pneumonia"}, rules, "f") == ["PNEUMONIA"]


def test_one_column_per_finding_with_uncertain_and_blank_cells():
    labels = {
        "NORMAL": [{"No Finding": 1.0, "Pneumonia": ["", 0]}],
        "PNEUMONIA": [{"Pneumonia": [1.0, -1.0]}],
    }
    rules = label_rules("CheXpert", {"columns": {"path": "Path"}, "labels": labels}, CLASSES)
    assert classes_of({"No Finding": "1.0", "Pneumonia": ""}, rules) == ["NORMAL"]
    assert classes_of({"No Finding": "1.0", "Pneumonia": "0.0"}, rules) == ["NORMAL"]
    assert classes_of({"No Finding": "", "Pneumonia": "-1.0"}, rules) == ["PNEUMONIA"]
    assert classes_of({"No Finding": "1.0", "Pneumonia": "1.0"}, rules) == ["PNEUMONIA"]
    assert classes_of({"No Finding": "", "Pneumonia": ""}, rules) == []
    both = label_rules(
        "X", {"columns": {"path": "p"}, "labels": {"NORMAL": [{"a": 1}], "PNEUMONIA": [{"b": 1}]}}, CLASSES
    )
    assert classes_of({"a": "1", "b": "1"}, both) == ["NORMAL", "PNEUMONIA"]


def test_a_table_with_quoted_commas_line_breaks_and_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes('\ufefffile,note\r\na.png,"x, ""y""\nz"\r\n\r\nb.png,\r\n'.encode())
    header, rows, digest = read_table("D", path)
    assert header == ["file", "note"]
    assert rows == [(3, {"file": "a.png", "note": 'x, "y"\nz'}), (5, {"file": "b.png", "note": ""})]
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_manifest_domain_lists_classes_patients_and_what_it_does_not_use(tmp_path):
    rows = [*simple_rows(), ["other.png", "Effusion", "Z1"], ["pneumonia0.png", "Pneumonia", "P0"]]
    settings = table_domain(tmp_path, rows, images=[r[0] for r in rows] + ["unnamed.png", "sub/also.png"])
    listing = list_manifest("NIH", settings, CLASSES)
    assert listing.images == {
        "NORMAL": [f"normal{i}.png" for i in range(5)],
        "PNEUMONIA": [f"pneumonia{i}.png" for i in range(5)],
    }
    assert listing.patients["normal3.png"] == "N1" and listing.patients["pneumonia4.png"] == "P2"
    assert listing.values_without_class == {"Effusion": 1} and listing.duplicate_rows == 1
    assert listing.unlisted == ["sub/also.png", "unnamed.png"] and listing.missing == []
    assert listing.rows == 12


# Bad input: one clear error naming the domain, the key and the row or file


@pytest.mark.parametrize(
    "content, message",
    [
        (None, r"domain 'D': manifest .*table.csv does not exist \(set domains.D.manifest\)"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", r"is not a CSV table: it holds binary data"),
        ("file,finding\nn\xe9.png,x\n".encode("latin-1"), r"is not a CSV table: line 2 \(byte 14\) is not UTF-8"),
        (b"file,finding,patient\na.png,No Finding\n", r"is not a CSV table: line 2 has 2 field\(s\), the header 3"),
        (b'file,finding,patient\n"a.png,No Finding,1\n', r"is not a CSV table: line 2: unexpected end of data"),
        (b"", r"is not a CSV table: it is empty"),
    ],
    ids=["missing", "spreadsheet", "not-utf8", "ragged", "open-quote", "empty"],
)
def test_a_manifest_that_is_missing_or_not_csv_is_refused_naming_domain_key_and_line(tmp_path, content, message):
    settings = table_domain(tmp_path, simple_rows())
    if content is None:
        os.remove(settings["manifest"])
    else:
        (tmp_path / "table.csv").write_bytes(content)
    with pytest.raises(DomainError, match=message) as raised:
        list_manifest("D", settings, CLASSES)
    assert str(raised.value).startswith("domain 'D': manifest ") and "domains.D.manifest" in str(raised.value)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"columns": {"path": "file", "label": "Finding Labels"}}, "domains.D.columns.label names column 'Finding"),
        ({"columns": {"path": "Path", "label": "finding"}}, "domains.D.columns.path names column 'Path'"),
        ({"labels": {"NORMAL": [{"No Finding": 1}], "PNEUMONIA": ["Pneumonia"]}}, "domains.D.labels.NORMAL names"),
    ],
    ids=["label", "path", "finding-column"],
)
def test_a_named_column_missing_from_the_manifest_is_refused_listing_its_columns(tmp_path, change, message):
    settings = table_domain(tmp_path, simple_rows()) | change
    with pytest.raises(DomainError, match=message) as raised:
        list_manifest("D", settings, CLASSES)
    assert str(raised.value).startswith("domain 'D': ") and "its columns: ['file', 'finding', 'patient']" in str(
        raised.value
    )


@pytest.mark.parametrize(
    "labels, message",
    [
        ({**NIH_LIKE, "COVID": ["COVID-19"]}, r"domains.D.labels: \['COVID'\] are not classes"),
        ({"NORMAL": ["No Finding"]}, r"domains.D.labels: no label values for class\(es\) \['PNEUMONIA'\]"),
    ],
    ids=["unknown-class", "class-without-values"],
)
def test_labels_naming_an_unknown_class_or_leaving_one_out_are_refused(tmp_path, labels, message):
    settings = table_domain(tmp_path, simple_rows()) | {"labels": labels}
    with pytest.raises(DomainError, match=message):
        list_manifest("D", settings, CLASSES)


def test_a_label_value_without_a_label_column_is_refused():
    with pytest.raises(DomainError, match=r"domains.D.labels.NORMAL: 'No Finding' is a value of the label column"):
        label_rules("D", {"columns": {"path": "Path"}, "labels": NIH_LIKE}, CLASSES)


def test_duplicate_paths_that_disagree_on_the_label_are_a_label_conflict(tmp_path):
    rows = [*simple_rows(), ["normal1.png", "Pneumonia", "N0"]]
    settings = table_domain(tmp_path, rows)
    with pytest.raises(DomainError) as raised:
        list_manifest("D", settings, CLASSES)
    assert str(raised.value) == (
        f"domain 'D': 1 path(s) of manifest {settings['manifest']} have rows that disagree on the class, a label "
        "conflict (set on_bad_image: skip to exclude them):\n  normal1.png: line 3 NORMAL, line 12 PNEUMONIA"
    )
    listing = list_manifest("D", settings, CLASSES, on_bad_image="skip")
    assert "normal1.png" not in listing.images["NORMAL"] and len(listing.label_conflicts) == 1


@pytest.mark.parametrize("path", ["../outside.png", "/etc/x.png", "a/../../b.png", ""])
def test_a_path_escaping_the_images_folder_is_refused_naming_the_line(tmp_path, path):
    settings = table_domain(tmp_path, simple_rows())
    write_csv(tmp_path / "table.csv", ("file", "finding", "patient"), [*simple_rows(), [path, "Pneumonia", "X"]])
    with pytest.raises(DomainError, match=r"domain 'D': line 12 of manifest .* which is not a path inside domains.D"):
        list_manifest("D", settings, CLASSES)


def test_split_column_values_other_than_train_or_test_are_refused_naming_line_and_value(tmp_path):
    rows = [[*row, "train"] for row in simple_rows()]
    rows[3][3] = "validate"
    settings = table_domain(tmp_path, rows, header=("file", "finding", "patient", "set"), split="manifest")
    settings["columns"]["split"] = "set"
    with pytest.raises(DomainError) as raised:
        list_manifest("D", settings, CLASSES, split="manifest")
    assert str(raised.value) == (
        f"domain 'D': line 5 of manifest {settings['manifest']}: domains.D.columns.split column 'set' holds "
        "'validate'; allowed: ['train', 'test']"
    )


@pytest.mark.parametrize(
    "split, columns, message",
    [
        ("manifest", {}, "domains.D.split: manifest takes train/test from a column; set domains.D.columns.split"),
        ("random", {"split": "set"}, "domains.D.columns.split is used only with split: manifest"),
    ],
)
def test_split_manifest_and_the_split_column_come_together(tmp_path, split, columns, message):
    settings = table_domain(tmp_path, simple_rows())
    settings["columns"] |= columns
    with pytest.raises(DomainError, match=message):
        list_manifest("D", settings, CLASSES, split=split)


def test_columns_patient_and_group_pattern_together_are_refused(tmp_path):
    settings = table_domain(tmp_path, simple_rows(), group_pattern=r"(\d)")
    with pytest.raises(DomainError, match="domain 'D': columns.patient and group_pattern both name the patient"):
        list_manifest("D", settings, CLASSES)


def test_missing_files_stop_with_on_bad_image_error_and_are_listed_with_skip(tmp_path):
    settings = table_domain(tmp_path, simple_rows())
    os.remove(tmp_path / "images" / "normal2.png")
    os.remove(tmp_path / "images" / "pneumonia4.png")
    with pytest.raises(DomainError) as raised:
        list_manifest("D", settings, CLASSES)
    assert str(raised.value) == (
        f"domain 'D': 2 file(s) named in manifest {settings['manifest']} are missing from {tmp_path / 'images'} "
        "(set on_bad_image: skip to leave those rows out):\n  normal2.png\n  pneumonia4.png"
    )
    listing = list_manifest("D", settings, CLASSES, on_bad_image="skip")
    assert listing.missing == ["normal2.png", "pneumonia4.png"] and len(listing.images["NORMAL"]) == 4


def test_a_class_with_too_few_rows_for_the_split_is_refused_naming_the_labels_key(tmp_path):
    settings = table_domain(tmp_path, simple_rows(5)[:7])
    listing = list_manifest("D", settings, CLASSES)
    with pytest.raises(DomainError, match=r"gives class PNEUMONIA 2 existing image\(s\) \(a 80%/20% split needs"):
        check_manifest_class_sizes("D", listing, 0.2, "random")
    check_manifest_class_sizes("D", listing, 0.2, "test")


def test_split_manifest_needs_train_and_test_images_of_each_class(tmp_path):
    rows = [[*row, "test" if row[0] == "normal0.png" else "train"] for row in simple_rows()]
    settings = table_domain(tmp_path, rows, header=("file", "finding", "patient", "set"), split="manifest")
    settings["columns"]["split"] = "set"
    listing = list_manifest("D", settings, CLASSES, split="manifest")
    with pytest.raises(DomainError) as raised:
        check_manifest_class_sizes("D", listing, 0.2, "manifest")
    assert str(raised.value) == (
        f"domain 'D': manifest {settings['manifest']} gives class PNEUMONIA no existing test image "
        "(domains.D.columns.split); each class needs train and test images"
    )


def test_the_fingerprint_follows_the_table_and_the_settings(tmp_path):
    settings = table_domain(tmp_path, simple_rows())
    before = table_fingerprint(list_manifest("D", settings, CLASSES), settings)
    assert table_fingerprint(list_manifest("D", settings, CLASSES), settings) == before
    assert table_fingerprint(list_manifest("D", settings, CLASSES), settings | {"label_separator": "|"}) != before
    assert table_fingerprint(list_manifest("D", settings, CLASSES), settings | {"kind": "synthetic"}) == before
    edited = simple_rows()
    edited[0][2] = "N9"  # one patient id: the split may change
    write_csv(tmp_path / "table.csv", ("file", "finding", "patient"), edited)
    assert table_fingerprint(list_manifest("D", settings, CLASSES), settings) != before


# Preparing a manifest domain


def test_a_given_split_and_patient_ids_come_from_the_table(tmp_path):
    rows = [[*row, "test" if row[2].endswith("0") else "train"] for row in simple_rows(6)]
    settings = table_domain(tmp_path, rows, header=("file", "finding", "patient", "set"), split="manifest")
    settings["columns"]["split"] = "set"
    images, prepared, report = prepare(settings, split="manifest")
    assert len(images) == 12 and report["split"] == "manifest"
    for row in prepared:
        assert row["group"] == f"id:{dict((r[0], r[2]) for r in rows)[row['path']]}"
        assert row["split"] == ("test" if row["group"].endswith("0") else "train")
        assert row["split_reason"] == f"manifest column: {row['split']}"
    assert report["patients_from_column"] == 6 and report["patient_groups_in_both_given_splits"] == []
    # The split is the table's: a patient on both sides is listed, not moved.
    rows[2][3] = "test"  # normal2.png, patient N1
    write_csv(tmp_path / "table.csv", ("file", "finding", "patient", "set"), rows)
    _, prepared, report = prepare(settings, split="manifest")
    assert report["patient_groups_in_both_given_splits"] == ["id:N1"]
    assert {row["path"]: row["split"] for row in prepared}["normal2.png"] == "test"


def test_with_skip_missing_files_and_label_conflicts_are_left_out_and_listed_in_the_intake_report(tmp_path):
    rows = [*simple_rows(6), ["normal1.png", "Pneumonia", "N0"], ["normal1.png", "No Finding", "N0"]]
    settings = table_domain(tmp_path, rows)
    os.remove(tmp_path / "images" / "pneumonia5.png")
    images, prepared, report = prepare(settings, on_bad_image="skip")
    assert len(images) == report["images_used"] == 10 and report["missing_file_paths"] == ["pneumonia5.png"]
    assert report["manifest_label_conflict_rows"] == ["normal1.png: line 3 NORMAL, line 14 PNEUMONIA"]
    assert report["manifest_label_conflicts"] == 1 and report["duplicate_rows"] == 1 and report["manifest_rows"] == 14
    assert "normal1.png" not in {row["path"] for row in prepared}


def prepare(settings, split="random", on_bad_image="error", test_fraction=0.2):
    return prepare_domain(
        "D",
        settings["images"],
        CLASSES,
        image_size=16,
        test_fraction=test_fraction,
        split_seed=3,
        group_pattern=settings.get("group_pattern"),
        on_bad_image=on_bad_image,
        split=split,
        table=settings,
    )


@pytest.mark.parametrize("name", ["NIH", "CheXpert", "RSNA", "COVID"])
def test_each_published_layout_is_prepared_with_the_documented_snippet(tmp_path, name):
    patients = random_patients(tmp_path / "source", patients_per_class=6)
    expected = LAYOUTS[name](tmp_path / "published", patients)
    settings = published_settings(name, tmp_path / "published")
    listing = list_manifest(name, settings, CLASSES)
    n_images = sum(len(files) for per_class in patients.values() for files in per_class)
    assert sum(map(len, listing.images.values())) == n_images
    assert dict(listing.values_without_class) == expected["label_values_without_class"]
    assert listing.unlisted == expected["images_not_in_manifest"]
    if name == "RSNA":
        assert listing.duplicate_rows == expected["duplicate_rows"] > 0
        if ".dcm" not in IMAGE_EXTENSIONS:
            pytest.skip("DICOM decoding (issue 22, item 5) is not in this checkout: .dcm not in IMAGE_EXTENSIONS")
    images, rows, report = prepare(settings)
    assert report["images_used"] == len(images) == n_images and report["missing_files"] == 0
    sides = {}
    for row in rows:
        # One patient, one group, whatever the id source (a column, or group_pattern on CheXpert's path).
        assert row["group"] == f"id:{expected['patients'][row['path']]}"
        sides.setdefault(row["group"], set()).add(row["split"])
    assert all(len(seen) == 1 for seen in sides.values())
    assert report["groups"] == (n_images if name == "RSNA" else 12)
    if name == "RSNA":
        assert report["image_modes"] == {"DICOM MONOCHROME2 8-bit": n_images}
        shipped = pydicom.dcmread(listing.folder / rows[0]["path"])
        assert shipped.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit  # as RSNA ships them


# The workflow: dry-run checks, and a real run on NIH-like and CheXpert-like tables of real X-rays


def dry_run_config(tmp_path, domain):
    return write_config(
        tmp_path / "config.yaml",
        {"domains": {"Table": domain}, "seeds": [1], "device": "cpu", "image_size": 16},
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"images": "."}, "domain 'Table': 10 file(s) named in manifest"),
        ({"path": "/data"}, "is valid under each of"),
    ],
    # (split: folders on a table: a config error, test_study.py)
    ids=["missing-files", "path-and-manifest"],
)
def test_bad_manifest_settings_stop_the_dry_run_with_one_message(tmp_path, change, message):
    domain = table_domain(tmp_path, simple_rows()) | change
    result = snakemake(tmp_path, "--configfile", dry_run_config(tmp_path, domain), "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and message in output, output[-3000:]


def test_manifest_domains_plan_like_folder_domains_downstream_and_note_what_they_do_not_use(tmp_path):
    """The reference, an external test set, a generator's source and a Mixed member, each given by a table."""
    rows = [*simple_rows(), ["other.png", "Effusion", "Z1"]]
    table = table_domain(tmp_path / "a", rows, images=[r[0] for r in rows] + ["unnamed.png"])
    external = table_domain(tmp_path / "b", simple_rows(2), split="test")
    domains = {
        "Table": table,
        "TableTest": external,
        "GANs": {"generated": {"model": "gan", "source": "Table", "per_class": 4}},
    }
    config = {"reference": "Table", "domains": domains, "mixed": {"members": ["Table", "GANs"]}, "seeds": [1]}
    configfile = write_config(tmp_path / "config.yaml", config | {"device": "cpu", "image_size": 16})
    result = snakemake(tmp_path, "--configfile", configfile, "--dry-run")
    assert (
        f"Note: domain 'Table': manifest {table['manifest']}: not used: 1 row(s) whose label no class claims; "
        f"1 image(s) in {table['images']} that no row names (see the intake report)" in result.stderr
    )
    planned = planned_jobs(tmp_path, "--configfile", configfile)
    assert {("prepare_domain", f"domain={d}") for d in domains} <= planned
    assert {("train_model", f"classifier=study_cnn,seed=1,train={t}") for t in ("Table", "GANs", "Mixed")} <= planned
    assert ("train_generator", "domain=GANs") in planned and ("evaluate_fidelity", "domain=GANs") in planned
    assert ("evaluate_model", "classifier=study_cnn,seed=1,train=Mixed") in planned  # one job: every test split
    assert ("check_leakage", "test=Table,train=Mixed") in planned  # a pair whose test domain Mixed trains on
    assert ("check_leakage_across", "") in planned  # every other pair, TableTest's among them
    assert not [job for job in planned if "train=TableTest" in job[1]]


def test_an_unreadable_image_in_a_new_row_of_a_prepared_table_stops_the_dry_run_keeping_the_split(tmp_path):
    settings = table_domain(tmp_path / "t", simple_rows())
    _, rows, _ = prepare(settings)
    split_file = tmp_path / "results" / "splits" / "Table.csv"
    write_manifest(rows, split_file)
    (tmp_path / "t" / "images" / "new.png").write_bytes(b"not an image")
    write_csv(
        tmp_path / "t" / "table.csv", ("file", "finding", "patient"), [*simple_rows(), ["new.png", "Pneumonia", "X"]]
    )
    result = snakemake(tmp_path, "--configfile", dry_run_config(tmp_path, settings), "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and f"domain 'Table': 1 unreadable image(s) in {settings['images']}" in output
    assert "new.png" in output and split_file.is_file()


def real_tables(root):
    """An NIH-like and a CheXpert-like table of real X-rays (the Kermany sample), different patients each."""
    patients = sample_patients()
    nih = {name: list(patients[name].values())[:6] for name in CLASSES}
    chexpert = {name: list(patients[name].values())[6:12] for name in CLASSES}
    LAYOUTS["NIH"](root / "nih", nih)
    LAYOUTS["CheXpert"](root / "chexpert", chexpert)
    return {
        "NIH": published_settings("NIH", root / "nih"),
        "CheXpert": published_settings("CheXpert", root / "chexpert"),
    }


def file_states(root, patterns):
    """(sha256, mtime_ns) of every file matching ``patterns`` under ``root``."""
    found = {}
    for pattern in patterns:
        for path in sorted(p for p in root.glob(pattern) if p.is_file()):
            found[str(path.relative_to(root))] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                os.stat(path).st_mtime_ns,
            )
    return found


@needs_sample
@pytest.mark.slow
def test_nih_and_chexpert_tables_train_and_evaluate_and_a_row_edit_reprepares_that_domain_only(tmp_path):
    domains = real_tables(tmp_path / "data")
    for settings in domains.values():
        settings["kind"] = "real"
    config = {
        "reference": "NIH",
        "domains": domains,
        "seeds": [1],
        "training": {"epochs": 1},
        "device": "cpu",
        "image_size": 32,
        "leakage": "error",
        # Few replicates: this test is about the tables, not the intervals.
        "statistics": {"interval_resamples": 50, "comparison_resamples": 50},
    }
    work = tmp_path / "run"
    work.mkdir()
    configfile = write_config(work / "config.yaml", config)
    # Every training on every test split; the summary, figures and report are the same code as for folders.
    metrics = [f"results/metrics/study_cnn/{train}/{test}/seed1.json" for train in domains for test in domains]
    snakemake(work, *metrics, "--configfile", configfile, "--cores", "2")
    for name in domains:
        with open(work / "results" / "splits" / f"{name}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert {row["split"] for row in rows} == {"train", "test"}
        sides = {}
        for row in rows:
            assert row["group"].startswith("id:")
            sides.setdefault(row["group"], set()).add(row["split"])
        assert all(len(seen) == 1 for seen in sides.values()) and len(sides) == 12
        intake = json.loads((work / "results" / "intake" / f"{name}.json").read_text())
        assert intake["rows_without_class"] == 1 + (name == "CheXpert") and intake["images_not_in_manifest"] == 1
    for path in metrics:
        evaluated = json.loads((work / path).read_text())
        assert evaluated["n"] == sum(evaluated["n_per_class"].values()) > 0 and 0 <= evaluated["auroc"] <= 1
    nih_files = [
        "results/prepared/NIH/*",
        "results/splits/NIH.csv",
        "results/models/study_cnn/NIH/**/*",
        "results/intake/NIH.json",
    ]
    nih_before = file_states(work, nih_files)
    # NIH's model is scored again (one job scores it on every test split, CheXpert's too), to the same bytes.
    nih_on_nih = (work / "results" / "metrics" / "study_cnn" / "NIH" / "NIH" / "seed1.json").read_bytes()
    chexpert_split = (work / "results" / "splits" / "CheXpert.csv").read_bytes()

    # One CheXpert row becomes uncertain: that image leaves the domain, nothing of NIH is prepared or trained again.
    manifest = tmp_path / "data" / "chexpert" / "CheXpert-v1.0" / "train.csv"
    with open(manifest, newline="") as handle:
        table = list(csv.reader(handle))
    edited = next(row for row in table[1:] if row[table[0].index("Pneumonia")] == "1.0")
    edited[table[0].index("Pneumonia")] = "-1.0"
    write_csv(manifest, table[0], table[1:])
    planned = planned_jobs(work, *metrics, "--configfile", configfile)
    assert ("prepare_domain", "domain=CheXpert") in planned
    assert not [job for job in planned if "NIH" in job[1] and job[0] in ("prepare_domain", "train_model")]
    snakemake(work, *metrics, "--configfile", configfile, "--cores", "2")
    assert file_states(work, nih_files) == nih_before
    assert (work / "results" / "metrics" / "study_cnn" / "NIH" / "NIH" / "seed1.json").read_bytes() == nih_on_nih
    assert (work / "results" / "splits" / "CheXpert.csv").read_bytes() != chexpert_split
    assert edited[0] not in (work / "results" / "splits" / "CheXpert.csv").read_text()
