"""Classifier architectures by name, for one-channel images and two classes (config ``classifiers:``).

- ``study_cnn``: :class:`synthcxr.model.StudyCNN`, exactly the study's model (same layers, same init for a seed).
- ``resnet18``, ``densenet121``: torchvision's, built with ``weights=None`` (nothing is ever downloaded), with
  the first convolution taking one channel and the last layer two logits. Their global average pool is a
  mean over height and width (the same numbers as torchvision's adaptive pool), because the adaptive pool
  has no deterministic backward on CUDA and the training runs with deterministic algorithms on.

Both normalise with BatchNorm, so in training mode a batch needs more than one value per channel: where the
last feature map is 1 x 1 (ResNet-18 at 32 px and below, DenseNet-121 below 61 px) a last batch of a single
image fails (the study's 128 px is safe; tiny test runs need a training set that does not leave one image
over, or a dropped last batch).

Pretrained weights come from a local torchvision state-dict file (:func:`load_pretrained`): the first
convolution's RGB filters are summed to one channel (a gray image is R = G = B, so the pretrained response is
kept) and the final layer is left as a fresh two-class layer. Inputs stay in [0, 1] as for the study CNN (no
ImageNet normalisation); in training mode BatchNorm normalises with each batch's statistics anyway.
The config side (names, keys, the file's existence at dry run) is :mod:`synthcxr.classifier_config`,
standard library only.
"""

import re

import torch

from synthcxr.classifier_config import ARCHITECTURES, ClassifierError
from synthcxr.jobs import file_sha256
from synthcxr.model import StudyCNN, count_parameters
from synthcxr.train import seed_everything

N_CLASSES = 2
SHOWN = 5  # keys listed in an error message about a state dict
# torchvision's ImageNet DenseNet files use the old key names (denselayer1.norm.1.weight); torchvision renames
# them when it loads its own downloads (torchvision.models.densenet._load_state_dict), so do we.
OLD_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


class ClassifierWeightsError(ClassifierError):
    """A weights file is missing, not a state dict, or does not fit the classifier's architecture."""


# name -> (key of the first convolution's weight, prefix of the final layer's keys, smallest image side); the
# models themselves are synthcxr.torchvision_models', imported only where a study uses one.
TORCHVISION = {
    "resnet18": ("conv1.weight", "fc.", 1),
    "densenet121": ("features.conv0.weight", "classifier.", 29),
}


def build_architecture(architecture, image_size=128, widths=None):
    """A randomly initialised classifier of ``architecture`` for (N, 1, image_size, image_size) -> (N, 2).

    Seed torch before calling for a reproducible init. ``widths`` is the study CNN's only (``training.widths``;
    None: StudyCNN's default).
    Raises ValueError for an unknown architecture or an image too small for it.
    """
    if architecture == "study_cnn":
        given = {} if widths is None else {"widths": tuple(widths)}
        return StudyCNN(**given, image_size=image_size, n_classes=N_CLASSES)
    if architecture not in TORCHVISION:
        raise ValueError(f"architecture {architecture!r} is not one of {', '.join(ARCHITECTURES)}")
    _, _, smallest = TORCHVISION[architecture]
    if image_size < smallest:
        # DenseNet halves the side five times without padding in its transitions: below 29 px the last
        # transition pools a 1 x 1 map to nothing. ResNet pads every stride: any side works.
        raise ValueError(f"{architecture} needs images of at least {smallest} px a side, got {image_size}")
    from synthcxr import torchvision_models  # torchvision's import (about 1 s) only where a study uses it

    return torchvision_models.BUILDERS[architecture]()


def build_classifier(name, entry, image_size=128, widths=None):
    """The classifier ``name`` of the config: ``entry`` is {architecture, optional weights (a local file)}.

    Returns (model, provenance), provenance = :func:`classifier_provenance`. Training overrides in ``entry`` are the
    caller's (:func:`synthcxr.classifier_config.classifier_training`). Raises :class:`ClassifierWeightsError`
    for a weights file that is missing, not a state dict or not of this architecture.
    """
    model = build_architecture(entry["architecture"], image_size, widths)
    weights = entry.get("weights")
    if weights is not None:
        load_pretrained(model, name, entry["architecture"], weights)
    return model, classifier_provenance(model, entry["architecture"], weights)


def load_pretrained(model, name, architecture, path):
    """Load a torchvision state-dict file (3 or 1 input channels, any number of classes) into ``model``.

    The first convolution's filters are summed over the colour channels; the final layer's keys are
    skipped, so the model keeps its own two-class layer. Everything else must match the architecture
    key for key and shape for shape. Raises :class:`ClassifierWeightsError` naming ``name`` and ``path``.
    """
    if architecture not in TORCHVISION:
        raise ClassifierWeightsError(
            f"classifier {name}: weights {path}: architecture {architecture} takes no pretrained weights"
        )
    first_conv, head, _ = TORCHVISION[architecture]
    state = read_state_dict(name, path)
    if architecture == "densenet121":
        state = {OLD_DENSENET_KEY.sub(r"\1\2", key): value for key, value in state.items()}
    state = {key: value for key, value in state.items() if not key.startswith(head)}
    if first_conv in state and state[first_conv].dim() == 4 and state[first_conv].shape[1] == 3:
        state[first_conv] = state[first_conv].sum(dim=1, keepdim=True)  # RGB filters -> one gray channel
    check_fits(model, state, name, architecture, path, head)
    model.load_state_dict(state, strict=False)  # only the final layer (and BatchNorm counters) missing, as checked
    return model


def read_state_dict(name, path):
    """The tensors of a state-dict file, read with ``weights_only=True`` (never unpickles code)."""
    where = f"classifier {name}: weights file {path}"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ClassifierWeightsError(f"{where} does not exist (weights are never downloaded)") from None
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same clear error
        raise ClassifierWeightsError(
            f"{where} is not a torch state-dict file ({type(error).__name__}: {str(error)[:200]})"
        ) from None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ClassifierWeightsError(
            f"{where} is not a state dict (a mapping of parameter names to tensors), got {type(state).__name__}"
        )
    return state


def check_fits(model, state, name, architecture, path, head):
    """Raise :class:`ClassifierWeightsError` unless ``state`` has every key of ``model`` (but the final layer
    and BatchNorm's batch counters), no other key, and the model's shapes."""
    expected = {key: value.shape for key, value in model.state_dict().items() if not key.startswith(head)}
    missing = [key for key in expected if key not in state and not key.endswith("num_batches_tracked")]
    unexpected = [key for key in state if key not in expected]
    shapes = [
        f"{key} {tuple(state[key].shape)} (expected {tuple(shape)})"
        for key, shape in expected.items()
        if key in state and state[key].shape != shape
    ]
    problems = [
        f"{label} ({len(items)}): {', '.join(items[:SHOWN])}{', ...' if len(items) > SHOWN else ''}"
        for label, items in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", shapes))
        if items
    ]
    if problems:
        raise ClassifierWeightsError(
            f"classifier {name}: weights file {path} does not fit {architecture}: {'; '.join(problems)}"
        )


def classifier_provenance(model, architecture, weights=None):
    """What a run records of its classifier: architecture, parameter count, the weights file's sha256 or
    ``"random init"``, and the file's path."""
    return {
        "architecture": architecture,
        "parameters": count_parameters(model),
        "weights": file_sha256(weights) if weights is not None else "random init",
        "weights_file": str(weights) if weights is not None else None,
    }


def training_provenance(classifier, model, settings):
    """A training's record of its classifier (run_info.json): name, :func:`classifier_provenance` and the
    training settings it ran with (``training:`` with the classifier's overrides). ``classifier``: {name,
    architecture, optional weights}."""
    return {
        "name": classifier.get("name", classifier["architecture"]),
        **classifier_provenance(model, classifier["architecture"], classifier.get("weights")),
        "settings": {key: value for key, value in settings.items() if key != "seed"},
    }


def new_model(settings, image_size, classifier):
    """The untrained model of a training: ``classifier`` ({architecture, optional weights, optional name for
    messages}) built after seeding torch with the run seed, as :func:`synthcxr.train.train_model` builds the
    study CNN (so the study CNN gets the same init as ever for a seed). ``settings``: seed, widths (study CNN)."""
    seed_everything(settings["seed"])
    name = classifier.get("name", classifier["architecture"])
    return build_classifier(name, classifier, image_size, settings.get("widths"))[0]
