"""The classifiers: section's check (synthcxr.classifier_config): standard library only, run at dry-run time."""

import hashlib
import subprocess
import sys

import pytest
from workflow_helpers import REPO

from synthcxr.classifier_config import (
    ARCHITECTURES,
    DEFAULT_CLASSIFIERS,
    ClassifierError,
    checked_classifiers,
    classifier_params,
    classifier_training,
    feature_classifier,
    job_settings,
)

SCRIPTS = REPO / "scripts"


def test_without_the_section_the_study_has_the_study_cnn_alone():
    assert checked_classifiers(None) == DEFAULT_CLASSIFIERS == {"study_cnn": {"architecture": "study_cnn"}}
    assert checked_classifiers(None) is not DEFAULT_CLASSIFIERS  # a copy: callers cannot change the default


def test_a_valid_section_keeps_its_order_and_resolves_weights_against_the_working_directory(tmp_path):
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "resnet18.pth").write_bytes(b"not read at dry run")
    classifiers = {
        "resnet18_imagenet": {"architecture": "resnet18", "weights": "weights/resnet18.pth", "lr": 1},
        "study_cnn": {"architecture": "study_cnn"},
        "dense": {"architecture": "densenet121", "epochs": 10, "batch_size": 8},
    }
    checked = checked_classifiers(classifiers, base_dir=tmp_path)
    assert list(checked) == ["resnet18_imagenet", "study_cnn", "dense"]
    assert checked["resnet18_imagenet"]["weights"] == str(tmp_path / "weights" / "resnet18.pth")
    assert checked["resnet18_imagenet"]["lr"] == 1.0 and isinstance(checked["resnet18_imagenet"]["lr"], float)
    assert checked["dense"] == classifiers["dense"]
    assert classifiers["resnet18_imagenet"]["weights"] == "weights/resnet18.pth"  # the input is not changed


def test_a_missing_weights_file_is_refused_naming_the_classifier_and_the_file(tmp_path):
    entry = {"architecture": "resnet18", "weights": "weights/resnet18.pth"}
    with pytest.raises(ClassifierError) as error:
        checked_classifiers({"r18": entry}, base_dir=tmp_path)
    message = str(error.value)
    assert "classifiers: r18" in message and str(tmp_path / "weights" / "resnet18.pth") in message
    assert "does not exist" in message
    (tmp_path / "weights" / "resnet18.pth").mkdir(parents=True)
    with pytest.raises(ClassifierError, match="r18: weights file .*resnet18.pth is a folder"):
        checked_classifiers({"r18": entry}, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("classifiers", "expected"),
    [
        ({}, "classifiers: must map names"),
        (["study_cnn"], "classifiers: must map names"),
        ({"a/b": {"architecture": "resnet18"}}, "name 'a/b' must be letters"),
        ({"with space": {"architecture": "resnet18"}}, "name 'with space'"),
        ({"r": "resnet18"}, "classifiers: r: must be a mapping"),
        ({"r": {"architecture": "resnet50"}}, "classifiers: r: architecture 'resnet50' is not one of"),
        ({"r": {"epochs": 3}}, "classifiers: r: architecture None"),
        ({"r": {"architecture": "resnet18", "widths": [1, 2, 3]}}, "classifiers: r: unknown key.* widths"),
        ({"r": {"architecture": "resnet18", "epochs": 0}}, "r: epochs must be a positive integer, got 0"),
        ({"r": {"architecture": "resnet18", "epochs": True}}, "r: epochs must be a positive integer"),
        ({"r": {"architecture": "resnet18", "epochs": "5"}}, "r: epochs must be a positive integer"),
        ({"r": {"architecture": "resnet18", "batch_size": 2.5}}, "r: batch_size must be a positive integer"),
        ({"r": {"architecture": "resnet18", "lr": -0.1}}, "r: lr must be a positive number"),
        ({"c": {"architecture": "study_cnn", "weights": "w.pth"}}, "classifiers: c: weights are torchvision"),
        ({"r": {"architecture": "resnet18", "weights": ""}}, "classifiers: r: weights must be the path"),
    ],
)
def test_a_bad_section_gets_one_error_naming_the_classifier_and_key(classifiers, expected, tmp_path):
    with pytest.raises(ClassifierError, match=expected):
        checked_classifiers(classifiers, base_dir=tmp_path)


def test_a_classifier_error_is_a_value_error():
    assert issubclass(ClassifierError, ValueError)


def test_a_classifiers_overrides_replace_only_their_training_settings():
    training = {"epochs": 5, "batch_size": 16, "lr": 0.001, "widths": [32, 64, 128], "validation_fraction": 0.1}
    entry = {"architecture": "resnet18", "weights": "/w.pth", "epochs": 10, "lr": 0.0001}
    assert classifier_training(entry, training) == {**training, "epochs": 10, "lr": 0.0001}
    assert classifier_training({"architecture": "study_cnn"}, training) == training
    assert training["epochs"] == 5


def test_the_check_imports_no_third_party_package():
    """The DAG imports it: a dry run must work with only Snakemake installed."""
    program = (
        "import sys\nfor name in ('torch', 'torchvision', 'numpy'):\n    sys.modules[name] = None\n"
        "import synthcxr.classifier_config as c\nprint(','.join(c.ARCHITECTURES))"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=SCRIPTS, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ",".join(ARCHITECTURES) == "study_cnn,resnet18,densenet121"


def test_a_jobs_params_name_the_architecture_and_the_weights_files_checksum(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"weights")
    assert classifier_params({"architecture": "study_cnn"}) == {"architecture": "study_cnn"}
    params = classifier_params({"architecture": "resnet18", "weights": str(weights), "lr": 0.1})
    assert params == {
        "architecture": "resnet18",
        "weights": str(weights),
        "weights_sha256": hashlib.sha256(b"weights").hexdigest(),
    }


def test_without_weights_files_the_dry_run_check_imports_no_torch():
    """weights_fit_error loads files with torch only where a classifier has one: a login node without torch
    plans the default study."""
    program = (
        "import sys\nsys.modules['torch'] = None\n"
        "from synthcxr.classifier_config import DEFAULT_CLASSIFIERS, weights_fit_error\n"
        "print(weights_fit_error(DEFAULT_CLASSIFIERS, 128))\n"
        "print(weights_fit_error({'r': {'architecture': 'resnet18', 'weights': '/w.pth'}}, 128))"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=SCRIPTS, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["None", "None"]  # the second: no torch here, the training refuses the file


def test_a_jobs_settings_are_the_studys_for_the_study_cnn_and_carry_only_what_other_architectures_use():
    training = {"epochs": 5, "batch_size": 16, "lr": 0.001, "widths": [32, 64, 128], "validation_fraction": 0.1}
    training |= {"mixed_precision": False, "unused": 1}
    before = {**{k: v for k, v in training.items() if k != "unused"}, "seed": 3}  # the settings before classifiers
    study_cnn = job_settings({"architecture": "study_cnn"}, training, "3")
    assert study_cnn == before and list(study_cnn) == list(before)
    assert job_settings({"architecture": "resnet18", "lr": 0.01}, training, 3) == {
        k: v for k, v in before.items() if k != "widths"
    } | {"lr": 0.01}
    classifiers = {
        "r": {"architecture": "resnet18"},
        "a": {"architecture": "study_cnn"},
        "b": {"architecture": "study_cnn"},
    }
    assert feature_classifier(classifiers) == "a" and feature_classifier({"r": classifiers["r"]}) is None
