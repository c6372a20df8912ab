"""The ``classifiers:`` section of a study config, checked with the standard library only (the DAG imports it).

A study names its classifiers, each trained on every training domain for every seed (the wildcard
``{classifier}`` of the model, metrics and predictions paths), e.g.::

    classifiers:
      study_cnn: {architecture: study_cnn}
      resnet18: {architecture: resnet18, epochs: 10, lr: 0.0001}
      resnet18_imagenet: {architecture: resnet18, weights: weights/resnet18-f37072fd.pth}

``weights`` names a local file of pretrained weights in torchvision's state-dict format (downloaded once by the
user; nothing is downloaded at run time). ``epochs``, ``lr`` and ``batch_size`` override ``training:`` for that
classifier. Without the section a study has :data:`DEFAULT_CLASSIFIERS`: the study CNN alone.
Building the models (torch) is :mod:`synthcxr.classifiers`.
"""

import functools
import os
import re

from synthcxr.jobs import file_sha256

ARCHITECTURES = ("study_cnn", "resnet18", "densenet121")
PRETRAINABLE = ("resnet18", "densenet121")  # torchvision architectures: weights files exist for them
DEFAULT_CLASSIFIERS = {"study_cnn": {"architecture": "study_cnn"}}
TRAINING_OVERRIDES = {"epochs": int, "batch_size": int, "lr": float}  # keys of training: a classifier may set
ENTRY_KEYS = ("architecture", "weights", *TRAINING_OVERRIDES)
# A classifier's name becomes a wildcard value and a folder name: no slashes, dots or spaces.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class ClassifierError(ValueError):
    """A classifier of the config, or its weights file, cannot be used; the message names both."""


def checked_classifiers(classifiers, base_dir="."):
    """The ``classifiers:`` section, checked; ``None`` (the section left out) gives :data:`DEFAULT_CLASSIFIERS`.

    Parameters
    ----------
    classifiers : dict or None
        Classifier name -> entry {architecture, optional weights, optional epochs, lr, batch_size}.
    base_dir : path
        What a relative ``weights`` path is relative to (Snakemake's working directory).

    Returns
    -------
    dict
        Name -> entry, a copy in the config's order; ``weights`` made absolute where given.

    Raises
    ------
    ClassifierError
        For the first problem found, naming the classifier, the key and (for weights) the file:
        an empty or non-mapping section, a name unusable as a folder, unknown keys, an unknown architecture,
        weights for the study CNN, a weights path that is not an existing file, an override of the wrong type.
    """
    if classifiers is None:
        return {name: dict(entry) for name, entry in DEFAULT_CLASSIFIERS.items()}
    if not isinstance(classifiers, dict) or not classifiers:
        raise ClassifierError(f"config key classifiers: must map names to classifiers, got {classifiers!r}")
    return {name: checked_entry(name, entry, base_dir) for name, entry in classifiers.items()}


def checked_entry(name, entry, base_dir="."):
    """One classifier's entry, checked (see :func:`checked_classifiers`); returns a copy."""
    where = f"classifiers: {name}"
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ClassifierError(
            f"classifiers: name {name!r} must be letters, digits, '_' or '-' (it becomes a folder name)"
        )
    if not isinstance(entry, dict):
        raise ClassifierError(f"{where}: must be a mapping with at least 'architecture', got {entry!r}")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise ClassifierError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(ENTRY_KEYS)}")
    architecture = entry.get("architecture")
    if architecture not in ARCHITECTURES:
        raise ClassifierError(f"{where}: architecture {architecture!r} is not one of {', '.join(ARCHITECTURES)}")
    checked = dict(entry)
    for key, kind in TRAINING_OVERRIDES.items():
        if key in entry:
            checked[key] = checked_override(where, key, entry[key], kind)
    if entry.get("weights") is not None:
        checked["weights"] = checked_weights_path(where, architecture, entry["weights"], base_dir)
    return checked


def checked_override(where, key, value, kind):
    """A training override: a positive int (epochs, batch_size) or a positive number (lr); bools refused."""
    valid_type = isinstance(value, int) if kind is int else isinstance(value, (int, float))
    if isinstance(value, bool) or not valid_type or not value > 0:
        wanted = "a positive integer" if kind is int else "a positive number"
        raise ClassifierError(f"{where}: {key} must be {wanted}, got {value!r}")
    return kind(value)


def checked_weights_path(where, architecture, weights, base_dir="."):
    """The absolute path of an existing weights file for a torchvision ``architecture``."""
    if architecture not in PRETRAINABLE:
        raise ClassifierError(
            f"{where}: weights are torchvision state dicts for {', '.join(PRETRAINABLE)}; "
            f"architecture {architecture} is trained from random init"
        )
    if not isinstance(weights, str) or not weights.strip():
        raise ClassifierError(f"{where}: weights must be the path of a local file, got {weights!r}")
    path = os.path.abspath(os.path.join(base_dir, os.path.expanduser(weights)))
    if not os.path.isfile(path):
        state = "is a folder, not a file" if os.path.isdir(path) else "does not exist"
        raise ClassifierError(f"{where}: weights file {path} {state} (weights are never downloaded at run time)")
    return path


def classifier_training(entry, training):
    """The training settings of one classifier: ``training`` (the config's section) with its overrides applied."""
    return {**training, **{key: entry[key] for key in TRAINING_OVERRIDES if key in entry}}


def job_settings(entry, training, seed):
    """The ``settings`` param of one training or evaluation job of classifier ``entry``: the keys of ``training``
    it uses, its overrides applied, the run seed; ``widths`` for the study CNN only (changing it reruns no other
    architecture). For the study CNN with no overrides: exactly the settings of the study before classifiers."""
    keys = ("epochs", "batch_size", "lr", "widths", "validation_fraction", "mixed_precision")
    settings = classifier_training(entry, {key: training[key] for key in keys} | {"seed": int(seed)})
    if entry["architecture"] != "study_cnn":
        del settings["widths"]
    return settings


def feature_classifier(classifiers):
    """The name of the first study CNN among ``classifiers`` (its models give the fidelity metrics their
    features), or None."""
    return next((name for name, entry in classifiers.items() if entry["architecture"] == "study_cnn"), None)


def classifier_params(entry):
    """What a training or evaluation job's params say of its classifier: the architecture and, with a weights
    file, its path and sha256 (so a replaced file reruns that classifier's jobs, and only theirs)."""
    params = {"architecture": entry["architecture"]}
    if entry.get("weights") is not None:
        params["weights"] = entry["weights"]
        params["weights_sha256"] = weights_sha256(entry["weights"])
    return params


# The sha256 of a weights file, read once per DAG build however many jobs ask.
weights_sha256 = functools.cache(file_sha256)


def weights_fit_error(classifiers, image_size):
    """The message of the first weights file that does not load into its classifier, or None.

    Loads each file with torch (:func:`synthcxr.classifiers.build_classifier`), so a file of the wrong
    architecture stops a dry run; None where no classifier has weights, or torch is not installed (a login node
    with only snakemake: the training refuses the file then, with the same message).
    """
    with_weights = {name: entry for name, entry in classifiers.items() if entry.get("weights") is not None}
    if not with_weights:
        return None
    try:
        from synthcxr.classifiers import build_classifier  # torch: only when weights are given
    except ImportError:
        return None
    for name, entry in with_weights.items():
        try:
            build_classifier(name, entry, image_size)
        except ClassifierError as error:
            return str(error)
    return None
