"""Classifier architectures (synthcxr.classifiers): built without downloads, one channel in, two logits out,
local torchvision weights adapted or refused with the classifier and the file named. Tiny images, no training."""

import hashlib
import subprocess
import sys

import pytest
import torch
import torchvision
from torch import nn
from workflow_helpers import REPO

from synthcxr.classifier_config import ARCHITECTURES, PRETRAINABLE, ClassifierError
from synthcxr.classifiers import (
    TORCHVISION,
    ClassifierWeightsError,
    build_architecture,
    build_classifier,
)
from synthcxr.model import StudyCNN, count_parameters
from synthcxr.torchvision_models import GlobalMeanPool, resnet18

SIZE = 32  # the smallest common size: DenseNet-121 needs 29 px


def same_state(a, b):
    a, b = a.state_dict(), b.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def imagenet_like_resnet18(tmp_path_factory):
    """A state-dict file as torchvision saves ResNet-18 (3 channels, 1000 classes), randomly initialised."""
    torch.manual_seed(11)
    reference = torchvision.models.resnet18(weights=None)
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    return reference, path


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_each_architecture_takes_one_channel_and_gives_two_logits(architecture):
    torch.manual_seed(0)
    model, provenance = build_classifier("c", {"architecture": architecture}, image_size=SIZE, widths=(4, 8, 16))
    model.eval()
    with torch.no_grad():
        assert model(torch.rand(3, 1, SIZE, SIZE)).shape == (3, 2)
    assert provenance == {
        "architecture": architecture,
        "parameters": count_parameters(model),
        "weights": "random init",
        "weights_file": None,
    }


def test_every_architecture_of_the_config_check_is_built_here():
    assert set(ARCHITECTURES) == {"study_cnn", *TORCHVISION} and set(TORCHVISION) == set(PRETRAINABLE)


def test_study_cnn_is_exactly_the_study_model_for_the_same_seed():
    torch.manual_seed(7)
    today = StudyCNN(widths=(32, 64, 128), image_size=64)
    torch.manual_seed(7)
    built = build_architecture("study_cnn", image_size=64, widths=[32, 64, 128])
    assert type(built) is StudyCNN and same_state(built, today)
    assert count_parameters(build_architecture("study_cnn")) == 158_210  # the study's model at 128 px


def test_torchvision_architectures_differ_from_torchvision_only_in_the_first_convolution():
    """Same keys and shapes as torchvision's two-class models but the first convolution's single channel."""
    for architecture, reference, first in (
        ("resnet18", torchvision.models.resnet18, "conv1.weight"),
        ("densenet121", torchvision.models.densenet121, "features.conv0.weight"),
    ):
        ours = build_architecture(architecture, image_size=SIZE).state_dict()
        theirs = reference(weights=None, num_classes=2).state_dict()
        assert ours.keys() == theirs.keys()
        assert [k for k in ours if ours[k].shape != theirs[k].shape] == [first]
        assert ours[first].shape[1] == 1 and theirs[first].shape[1] == 3


def test_the_mean_pool_computes_what_torchvisions_adaptive_pool_does():
    """The replacement exists for CUDA's deterministic backward; the function must not change."""
    x = torch.rand(2, 8, 5, 3)
    assert torch.allclose(GlobalMeanPool()(x), nn.AdaptiveAvgPool2d((1, 1))(x), atol=1e-6)
    model = build_architecture("densenet121", image_size=SIZE).eval()
    x = torch.rand(2, 1, SIZE, SIZE)
    with torch.no_grad():
        assert torch.allclose(model(x), torchvision.models.DenseNet.forward(model, x), atol=1e-5)
    assert not any(isinstance(m, nn.AdaptiveAvgPool2d) for m in build_architecture("resnet18").modules())


def test_a_seed_gives_the_same_torchvision_model():
    torch.manual_seed(5)
    a = resnet18()
    torch.manual_seed(5)
    assert same_state(a, resnet18())


def test_a_too_small_image_or_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="densenet121 needs images of at least 29 px a side, got 28"):
        build_architecture("densenet121", image_size=28)
    with pytest.raises(ValueError, match="architecture 'vgg16' is not one of study_cnn, resnet18, densenet121"):
        build_architecture("vgg16")


def test_a_torchvision_resnet18_file_loads_with_its_rgb_filters_summed(imagenet_like_resnet18):
    reference, path = imagenet_like_resnet18
    torch.manual_seed(1)
    model, provenance = build_classifier("r18", {"architecture": "resnet18", "weights": str(path)}, SIZE)
    torch.manual_seed(1)
    random_init = build_architecture("resnet18", SIZE)
    loaded, expected = model.state_dict(), reference.state_dict()
    assert torch.equal(loaded["conv1.weight"], expected["conv1.weight"].sum(dim=1, keepdim=True))
    for key in loaded:
        if key.startswith("fc."):  # a fresh two-class layer, as without weights
            assert loaded[key].shape[0] == 2 and torch.equal(loaded[key], random_init.state_dict()[key])
        elif key != "conv1.weight":
            assert torch.equal(loaded[key], expected[key]), key
    assert not torch.equal(loaded["layer1.0.conv1.weight"], random_init.state_dict()["layer1.0.conv1.weight"])
    assert provenance["weights"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert provenance["weights_file"] == str(path) and provenance["parameters"] == count_parameters(random_init)
    with torch.no_grad():
        x = torch.rand(2, 1, SIZE, SIZE)
        assert not torch.allclose(model.eval()(x), random_init.eval()(x))


def test_a_densenet_file_with_torchvisions_old_key_names_loads(tmp_path):
    """torchvision's ImageNet DenseNet files name layers denselayer1.norm.1 (renamed by torchvision on load)."""
    torch.manual_seed(2)
    reference = torchvision.models.densenet121(weights=None).state_dict()
    # ... and predate BatchNorm's num_batches_tracked.
    old = {
        k.replace("norm1", "norm.1").replace("conv2", "conv.2"): v
        for k, v in reference.items()
        if not k.endswith("num_batches_tracked")
    }
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    torch.save(old, tmp_path / "densenet121.pth")
    model, _ = build_classifier("dense", {"architecture": "densenet121", "weights": str(tmp_path / "densenet121.pth")})
    loaded = model.state_dict()
    deep = "features.denseblock4.denselayer16.conv2.weight"  # old name: denselayer16.conv.2.weight
    assert torch.equal(loaded[deep], reference[deep])
    assert torch.equal(loaded["features.conv0.weight"], reference["features.conv0.weight"].sum(1, keepdim=True))


def test_a_missing_weights_file_is_refused_naming_classifier_and_file(tmp_path):
    path = tmp_path / "nowhere.pth"
    with pytest.raises(ClassifierWeightsError, match=f"classifier r18: weights file {path} does not exist"):
        build_classifier("r18", {"architecture": "resnet18", "weights": str(path)}, SIZE)
    assert issubclass(ClassifierWeightsError, ClassifierError) and issubclass(ClassifierWeightsError, ValueError)


def test_a_file_that_is_not_a_state_dict_is_refused(tmp_path):
    text = tmp_path / "notes.pth"
    text.write_text("resnet18 weights, honest")
    whole_model = tmp_path / "model.pth"
    torch.save(resnet18(), whole_model)  # a pickled module: weights_only refuses to unpickle it
    tensors_in_a_list = tmp_path / "list.pth"
    torch.save([torch.zeros(2)], tensors_in_a_list)
    checkpoint = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 3, "model": resnet18().state_dict()}, checkpoint)
    for path, reason in (
        (text, "is not a torch state-dict file"),
        (whole_model, "is not a torch state-dict file"),
        (tensors_in_a_list, "is not a state dict .* got list"),
        (checkpoint, "is not a state dict .* got dict"),
    ):
        with pytest.raises(ClassifierWeightsError, match=f"classifier r18: weights file {path} {reason}"):
            build_classifier("r18", {"architecture": "resnet18", "weights": str(path)}, SIZE)


def test_a_state_dict_of_another_architecture_or_shape_is_refused_listing_keys(imagenet_like_resnet18, tmp_path):
    _, path = imagenet_like_resnet18
    with pytest.raises(ClassifierWeightsError) as error:
        build_classifier("dense", {"architecture": "densenet121", "weights": str(path)}, SIZE)
    message = str(error.value)
    assert f"classifier dense: weights file {path} does not fit densenet121" in message
    assert "missing keys (" in message and "features.conv0.weight" in message
    assert "unexpected keys (" in message and "conv1.weight, bn1.weight" in message and ", ..." in message
    state = torch.load(path, weights_only=True)
    state["layer2.0.conv1.weight"] = torch.zeros(128, 32, 3, 3)
    del state["layer4.1.bn2.running_var"]
    torch.save(state, tmp_path / "changed.pth")
    with pytest.raises(ClassifierWeightsError) as error:
        build_classifier("r18", {"architecture": "resnet18", "weights": str(tmp_path / "changed.pth")}, SIZE)
    message = str(error.value)
    assert "missing keys (1): layer4.1.bn2.running_var" in message
    assert "wrong shapes (1): layer2.0.conv1.weight (128, 32, 3, 3) (expected (128, 64, 3, 3))" in message
    assert "unexpected" not in message


def test_the_study_cnn_takes_no_weights_file(imagenet_like_resnet18):
    with pytest.raises(ClassifierWeightsError, match="classifier c: weights .* study_cnn takes no pretrained"):
        build_classifier("c", {"architecture": "study_cnn", "weights": str(imagenet_like_resnet18[1])})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("architecture", ["resnet18", "densenet121"])
def test_a_training_step_runs_on_cuda_with_deterministic_algorithms(architecture):
    """torchvision's adaptive average pool has no deterministic CUDA backward; the training needs one."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        model = build_architecture(architecture, SIZE).cuda()
        loss = nn.functional.cross_entropy(
            model(torch.rand(4, 1, SIZE, SIZE, device="cuda")), torch.tensor([0, 1] * 2).cuda()
        )
        loss.backward()
        assert all(p.grad is not None for p in model.parameters())
    finally:
        torch.use_deterministic_algorithms(previous)


def test_a_training_step_from_the_same_seed_gives_the_same_bits_on_the_cpu():
    """The study's reproducibility (same config and seeds, same bytes on CPU) holds for the deeper models."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)  # as every training job runs
    try:
        states = []
        for _ in range(2):
            torch.manual_seed(3)
            model = build_architecture("resnet18", SIZE).train()
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            x, y = torch.rand(4, 1, SIZE, SIZE), torch.tensor([0, 1, 0, 1])
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            states.append(model.state_dict())
        assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
        torch.manual_seed(3)
        assert not torch.equal(states[0]["conv1.weight"], build_architecture("resnet18", SIZE).conv1.weight)  # it moved
    finally:
        torch.use_deterministic_algorithms(previous)


def test_an_epoch_that_would_end_on_a_batch_of_one_image_leaves_that_image_out_for_batchnorm(tmp_path):
    """At 32 px ResNet-18's last feature map is 1 x 1: BatchNorm cannot train on a batch of one image, which a
    study's last batch may be (17 images, batches of 16). The epoch leaves that image out; the study CNN, without
    BatchNorm, trains on every image as ever."""
    from synthcxr.classifiers import new_model
    from synthcxr.train import has_batch_norm, train_model

    settings = {"epochs": 1, "batch_size": 16, "lr": 1e-3, "seed": 1, "widths": [4, 8, 8]}
    images = torch.randint(0, 256, (17, SIZE, SIZE), dtype=torch.uint8).numpy()
    labels = [0, 1] * 8 + [0]
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        model = new_model(settings, SIZE, {"architecture": "resnet18"}).train()
        model(torch.rand(1, 1, SIZE, SIZE))  # what the last batch would do
    model = new_model(settings, SIZE, {"architecture": "resnet18"})
    assert has_batch_norm(model) and not has_batch_norm(StudyCNN(widths=(4, 8, 8), image_size=SIZE))
    _, history = train_model(images, labels, settings, "cpu", tmp_path / "a.pt", "f", log=lambda *_: None, model=model)
    assert len(history) == 1 and 0 <= history[0]["accuracy"] <= 1
    # The mean is over the 16 images trained on: a multiple of 1/16.
    assert (history[0]["accuracy"] * 16) == pytest.approx(round(history[0]["accuracy"] * 16))


def test_a_study_of_the_study_cnn_alone_never_imports_torchvision():
    """torchvision's import costs about a second per job: only a torchvision architecture pays it."""
    program = (
        "import sys; from synthcxr import classifiers\n"
        "classifiers.build_architecture('study_cnn', 32)\n"
        "assert 'torchvision' not in sys.modules\n"
        "classifiers.build_architecture('resnet18', 32)\n"
        "assert 'torchvision' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", program], cwd=REPO / "scripts", check=True, capture_output=True)
