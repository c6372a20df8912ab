import numpy as np
import pytest
import torch

from synthcxr.jobs import run_fingerprint
from synthcxr.train import pick_device, predict_proba, train_model


def tiny_data(n=24, size=16):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    images = rng.integers(0, 100, (n, size, size), dtype=np.uint8)
    images[labels == 1, 4:12, 4:12] += 120  # a learnable bright patch
    return images, labels


SETTINGS = {"epochs": 3, "batch_size": 4, "lr": 1e-3, "widths": [4, 8, 8], "seed": 3}


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="device: cuda was requested but no GPU is available"):
        pick_device("cuda")
    assert pick_device("auto").type == "cpu"


def test_training_is_deterministic_and_resumes_to_identical_weights(tmp_path):
    torch.use_deterministic_algorithms(True)
    images, labels = tiny_data()
    full, history = train_model(images, labels, SETTINGS, torch.device("cpu"), tmp_path / "a.pt", "fp", log=lambda m: None)
    again, _ = train_model(images, labels, SETTINGS, torch.device("cpu"), tmp_path / "b.pt", "fp", log=lambda m: None)
    # Interrupted after epoch 1: a checkpoint from a 1-epoch run with the same fingerprint.
    first = dict(SETTINGS, epochs=1)
    train_model(images, labels, first, torch.device("cpu"), tmp_path / "c.pt", "fp", log=lambda m: None)
    messages = []
    resumed, resumed_history = train_model(images, labels, SETTINGS, torch.device("cpu"), tmp_path / "c.pt", "fp", log=messages.append)
    assert any("resuming from checkpoint" in m and "after epoch 1" in m for m in messages)
    for name, tensor in full.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name])
        assert torch.equal(tensor, resumed.state_dict()[name])
    assert resumed_history == history and len(history) == 3


def test_a_checkpoint_of_other_settings_is_not_resumed(tmp_path):
    images, labels = tiny_data()
    train_model(images, labels, dict(SETTINGS, epochs=1), torch.device("cpu"), tmp_path / "c.pt", "old", log=lambda m: None)
    messages = []
    train_model(images, labels, SETTINGS, torch.device("cpu"), tmp_path / "c.pt", "new", log=messages.append)
    assert not any("resuming" in m for m in messages)


@pytest.mark.parametrize("change", ["nothing", "code", "data"])
def test_a_checkpoint_is_resumed_only_with_the_same_code_and_data(tmp_path, change):
    images, labels = tiny_data()
    code, data = tmp_path / "train.py", tmp_path / "images.npy"
    code.write_text("# version 1\n")
    np.save(data, images)
    checkpoint = tmp_path / "c.pt"
    train_model(images, labels, dict(SETTINGS, epochs=1), "cpu", checkpoint, run_fingerprint(SETTINGS, [data, code]), log=lambda m: None)
    if change == "code":
        code.write_text("# version 2\n")
    elif change == "data":
        np.save(data, 255 - images)
    messages = []
    _, history = train_model(images, labels, SETTINGS, "cpu", checkpoint, run_fingerprint(SETTINGS, [data, code]), log=messages.append)
    resumed = any("resuming from checkpoint" in m for m in messages)
    assert resumed == (change == "nothing")
    assert messages[0].startswith("resuming" if resumed else "epoch 1/3")


def test_predict_proba_gives_one_probability_per_image(tmp_path):
    images, labels = tiny_data()
    model, _ = train_model(images, labels, SETTINGS, torch.device("cpu"), str(tmp_path / "ckpt.pt"), "x", log=lambda m: None)
    probabilities = predict_proba(model, images, torch.device("cpu"), batch_size=5)
    assert probabilities.shape == (24,) and ((0 <= probabilities) & (probabilities <= 1)).all()


def test_mixed_precision_is_never_used_on_the_cpu(tmp_path):
    torch.use_deterministic_algorithms(True)
    images, labels = tiny_data()
    plain, _ = train_model(images, labels, SETTINGS, "cpu", tmp_path / "a.pt", "fp", log=lambda m: None)
    mixed, _ = train_model(images, labels, dict(SETTINGS, mixed_precision=True), "cpu", tmp_path / "b.pt", "fp", log=lambda m: None)
    for name, tensor in plain.state_dict().items():
        assert torch.equal(tensor, mixed.state_dict()[name])


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_an_unreadable_checkpoint_is_set_aside_and_the_training_starts_over(tmp_path, damage):
    # Was: EOFError / "ERROR: " with an empty message, at every retry: the training was blocked.
    images, labels = tiny_data()
    checkpoint = tmp_path / "c.pt"
    train_model(images, labels, dict(SETTINGS, epochs=1), "cpu", checkpoint, "fp", log=lambda m: None)
    content = checkpoint.read_bytes()
    checkpoint.write_bytes({"truncated": content[: len(content) // 2], "empty": b"", "garbage": b"\x00junk" * 50}[damage])
    messages = []
    _, history = train_model(images, labels, SETTINGS, "cpu", checkpoint, "fp", log=messages.append)
    assert messages[0] == (
        f"checkpoint {checkpoint} is unreadable ({messages[0].split('(', 1)[1].split(')')[0]}); "
        f"set aside as {checkpoint}.corrupt, starting over"
    )
    assert messages[1].startswith("epoch 1/3") and len(history) == 3
    assert (tmp_path / "c.pt.corrupt").exists()
