import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from workflow_helpers import REPO

from synthcxr.jobs import run_fingerprint
from synthcxr.model import StudyCNN
from synthcxr.train import (
    load_trained_model,
    pick_device,
    predict_proba,
    rounded_probabilities,
    start_torch_job,
    train_model,
)


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
    full, history = train_model(
        images, labels, SETTINGS, torch.device("cpu"), tmp_path / "a.pt", "fp", log=lambda m: None
    )
    again, _ = train_model(images, labels, SETTINGS, torch.device("cpu"), tmp_path / "b.pt", "fp", log=lambda m: None)
    # Interrupted after epoch 1: a checkpoint from a 1-epoch run with the same fingerprint.
    first = dict(SETTINGS, epochs=1)
    train_model(images, labels, first, torch.device("cpu"), tmp_path / "c.pt", "fp", log=lambda m: None)
    messages = []
    resumed, resumed_history = train_model(
        images, labels, SETTINGS, torch.device("cpu"), tmp_path / "c.pt", "fp", log=messages.append
    )
    assert any("resuming from checkpoint" in m and "after epoch 1" in m for m in messages)
    for name, tensor in full.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name])
        assert torch.equal(tensor, resumed.state_dict()[name])
    assert resumed_history == history and len(history) == 3


def test_a_checkpoint_of_other_settings_is_not_resumed(tmp_path):
    images, labels = tiny_data()
    train_model(
        images, labels, dict(SETTINGS, epochs=1), torch.device("cpu"), tmp_path / "c.pt", "old", log=lambda m: None
    )
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
    train_model(
        images,
        labels,
        dict(SETTINGS, epochs=1),
        "cpu",
        checkpoint,
        run_fingerprint(SETTINGS, [data, code]),
        log=lambda m: None,
    )
    if change == "code":
        code.write_text("# version 2\n")
    elif change == "data":
        np.save(data, 255 - images)
    messages = []
    _, history = train_model(
        images, labels, SETTINGS, "cpu", checkpoint, run_fingerprint(SETTINGS, [data, code]), log=messages.append
    )
    resumed = any("resuming from checkpoint" in m for m in messages)
    assert resumed == (change == "nothing")
    assert messages[0].startswith("resuming") if resumed else " epoch 1/3: " in messages[0]


def test_predict_proba_gives_one_probability_per_image(tmp_path):
    images, labels = tiny_data()
    model, _ = train_model(
        images, labels, SETTINGS, torch.device("cpu"), str(tmp_path / "ckpt.pt"), "x", log=lambda m: None
    )
    probabilities = predict_proba(model, images, torch.device("cpu"), batch_size=5)
    assert probabilities.shape == (24,) and ((0 <= probabilities) & (probabilities <= 1)).all()


def test_a_saved_model_loads_back_and_predicts_the_same_rounded_probabilities(tmp_path):
    images, labels = tiny_data()
    device = torch.device("cpu")
    model, _ = train_model(images, labels, SETTINGS, device, str(tmp_path / "ckpt.pt"), "x", log=lambda m: None)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    loaded = load_trained_model(tmp_path / "model.pt", SETTINGS["widths"], images.shape[-1], device)
    probabilities = rounded_probabilities(loaded, images, device)
    assert probabilities.dtype == np.float64 and np.array_equal(probabilities, np.round(probabilities, 6))
    assert np.array_equal(probabilities, rounded_probabilities(model, images, device))


def test_mixed_precision_is_never_used_on_the_cpu(tmp_path):
    torch.use_deterministic_algorithms(True)
    images, labels = tiny_data()
    plain, _ = train_model(images, labels, SETTINGS, "cpu", tmp_path / "a.pt", "fp", log=lambda m: None)
    mixed, _ = train_model(
        images, labels, dict(SETTINGS, mixed_precision=True), "cpu", tmp_path / "b.pt", "fp", log=lambda m: None
    )
    for name, tensor in plain.state_dict().items():
        assert torch.equal(tensor, mixed.state_dict()[name])


def test_validation_scores_each_epoch_without_changing_the_training(tmp_path):
    torch.use_deterministic_algorithms(True)
    images, labels = tiny_data()
    validation = tiny_data(n=10)
    plain, plain_history = train_model(images, labels, SETTINGS, "cpu", tmp_path / "a.pt", "fp", log=lambda m: None)
    scored, history = train_model(
        images, labels, SETTINGS, "cpu", tmp_path / "b.pt", "fp", log=lambda m: None, validation=validation
    )
    for name, tensor in plain.state_dict().items():
        assert torch.equal(tensor, scored.state_dict()[name])
    assert [{k: r[k] for k in ("epoch", "loss", "accuracy")} for r in history] == plain_history
    last = history[-1]
    expected = predict_proba(scored, validation[0], "cpu")
    assert last["validation_accuracy"] == pytest.approx(np.mean((expected > 0.5) == validation[1]))
    log_probability = np.log(np.where(validation[1] == 1, expected, 1 - expected))
    assert last["validation_loss"] == pytest.approx(-log_probability.mean(), rel=1e-4)
    assert "validation_loss" not in plain_history[0]
    # An empty validation slice (validation_fraction: 0) adds nothing.
    empty = (images[:0], labels[:0])
    _, unscored = train_model(
        images, labels, SETTINGS, "cpu", tmp_path / "c.pt", "fp", log=lambda m: None, validation=empty
    )
    assert unscored == plain_history


EPOCH_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC epoch (\d)/3: loss \d\.\d{4} accuracy \d\.\d{4}, "
    r"validation loss \d+\.\d{4} accuracy \d\.\d{4} \(\d+ images/s\) \(elapsed \d+:\d\d, about (\d+):(\d\d) left\)$"
)


def test_each_epoch_logs_a_time_stamp_the_time_elapsed_and_the_time_left(tmp_path):
    images, labels = tiny_data()
    messages = []
    train_model(
        images, labels, SETTINGS, "cpu", tmp_path / "a.pt", "fp", log=messages.append, validation=tiny_data(n=10)
    )
    matches = [EPOCH_LINE.match(m) for m in messages]
    assert all(matches), messages
    assert [int(m.group(1)) for m in matches] == [1, 2, 3]
    assert matches[-1].group(2, 3) == ("0", "00")  # nothing left after the last epoch


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_an_unreadable_checkpoint_is_set_aside_and_the_training_starts_over(tmp_path, damage):
    # Was: EOFError / "ERROR: " with an empty message, at every retry: the training was blocked.
    images, labels = tiny_data()
    checkpoint = tmp_path / "c.pt"
    train_model(images, labels, dict(SETTINGS, epochs=1), "cpu", checkpoint, "fp", log=lambda m: None)
    content = checkpoint.read_bytes()
    checkpoint.write_bytes(
        {"truncated": content[: len(content) // 2], "empty": b"", "garbage": b"\x00junk" * 50}[damage]
    )
    messages = []
    _, history = train_model(images, labels, SETTINGS, "cpu", checkpoint, "fp", log=messages.append)
    assert messages[0] == (
        f"checkpoint {checkpoint} is unreadable ({messages[0].split('(', 1)[1].split(')')[0]}); "
        f"set aside as {checkpoint}.corrupt, starting over"
    )
    assert " epoch 1/3: " in messages[1] and len(history) == 3
    assert (tmp_path / "c.pt.corrupt").exists()


def test_start_torch_job_sets_threads_determinism_and_logs_the_device():
    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    lines = []
    try:
        device = start_torch_job(1, "cpu", log=lines.append)
        assert device.type == "cpu" and torch.get_num_threads() == 1
        assert torch.are_deterministic_algorithms_enabled()
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] and lines[0].startswith('device: {"device": "cpu"')
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])


def test_a_training_job_starts_without_importing_the_compiler_nor_pandas():
    """start_torch_job sets determinism without torch._inductor, whose import costs every job about 2 s; the
    modules scripts/train_model.py imports leave out pandas (it only writes predictions; 0.3-1 s here)."""
    child = "import sys, torch; from synthcxr import data, jobs, predictions, train as t; "
    child += "t.start_torch_job(1, 'cpu', log=lambda line: None); "
    child += "print(torch.are_deterministic_algorithms_enabled(), *(name in sys.modules for name in "
    child += "('torch._inductor', 'pandas')))"
    scripts = REPO / "scripts"
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True, cwd=scripts)
    assert result.stdout.split() == ["True", "False", "False"]


def test_a_damaged_model_file_is_refused_naming_the_file_and_the_command_that_retrains_it(tmp_path):
    # Was: PyTorch's "PytorchStreamReader failed reading zip archive", with no file name.
    path = tmp_path / "model.pt"
    torch.save(StudyCNN(widths=tuple(SETTINGS["widths"]), image_size=16).state_dict(), path)
    with open(path, "r+b") as handle:
        handle.truncate(100)
    with pytest.raises(ValueError) as raised:
        load_trained_model(path, SETTINGS["widths"], 16, torch.device("cpu"))
    message = str(raised.value)
    assert message.startswith(f"cannot read the trained model {path} (")
    assert message.endswith(f"it is damaged: retrain it with `snakemake --cores all --forcerun {path}`")
