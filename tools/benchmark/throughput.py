"""Where the study's training time goes, measured on this machine (`make bench`).

`--help` lists the sizes, so it can also run small. On the same images and settings, in one run, it
measures training throughput (images/s) of the study CNN (StudyCNN, Adam lr 1e-3, batch 16,
cross-entropy) through

  (a) the workflow's path: synthcxr.train.train_model on the prepared uint8 cache, as the train_model
      rule runs it (checkpoint per epoch, deterministic algorithms on);
  (b) the usual published pipeline: torchvision ImageFolder + Grayscale/Resize/ToTensor + DataLoader,
      decoding and resizing every JPEG on every epoch;
  (c) a compute-only loop over random tensors already in memory (the ceiling);

on the CPU with the rule's threads and, where a GPU is present, again on the GPU (target a/b >= 10);
the training throughput of each classifier architecture (synthcxr.classifiers: the study CNN, ResNet-18,
DenseNet-121; forward + backward + Adam step of batches of 16 random images at the study's size), so a
user can plan a study with larger classifiers;
and also the time and peak memory of preparing the domain, the model's FLOPs and the achieved GFLOP/s
beside a large matrix product, evaluation (inference) throughput, Pillow's reduced JPEG decode (draft)
against a full decode, the snakemake overhead (dry run of a large study, nothing-to-do run), the
training options tried (memory layout, torch.compile, threads), and the fixed start of a training and
an evaluation job (tools/benchmark/jobtime.py: Python's start, Snakemake's preamble, imports, torch
setup; goal: an evaluation job's under 3 s). It is a measurement, not a test: it
prints a table with PASS/FAIL against the targets and always exits 0.

The inputs are generated into a temporary folder: demo phantoms (synthcxr.phantoms, NON-MEDICAL)
upscaled to radiograph size (1000-2000 px a side by default) with film-like noise, saved as grayscale
JPEG quality 90. They are read from the page cache (no cold-disk reads) in every pipeline.
"""

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS, as scripts/train_model.py

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402

from synthcxr.classifier_config import ARCHITECTURES  # noqa: E402
from synthcxr.classifiers import build_architecture  # noqa: E402
from synthcxr.images import load_image, to_grayscale_uint8  # noqa: E402
from synthcxr.model import StudyCNN, count_parameters, to_input  # noqa: E402
from synthcxr.train import epoch_order, predict_proba, seed_everything, train_model  # noqa: E402
from tools.benchmark import SCRIPTS, jobtime  # noqa: E402
from tools.benchmark.common import (  # noqa: E402
    Table,
    benchmark_main,
    fmt,
    load_average,
    make_jpeg_domain,
    placeholder_domains,
    planned_job_count,
    rule_threads,
    run_in_workdir,
    run_snakemake,
    slurm_controller_missing,
    verdict,
    write_config,
)

TARGETS = {"a/c": 0.9, "a/b": 1.25, "gpu a/b": 10.0, "dry_run_s": 3.0, "noop_s": 5.0}


# ----------------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------------


CPU = torch.device("cpu")


def synchronize(device):
    """Wait for queued GPU work, so a timing covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def settings_for(args, seed=1):
    return {"epochs": args.epochs, "batch_size": 16, "lr": 1e-3, "widths": [32, 64, 128], "seed": seed}


def same_weights(a, b):
    return all(torch.equal(a[k].contiguous(), b[k].contiguous()) for k in a)


def weights_of(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


# ----------------------------------------------------------------------------------------------------
# Preparing a domain (decode + cache), in a fresh process so its peak memory is its own
# ----------------------------------------------------------------------------------------------------

PREPARE_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from synthcxr.prepare import prepare_domain

    def peak_rss_kib():
        # VmHWM: this process's peak RSS. (getrusage's ru_maxrss survives exec on Linux, so in a child
        # of a large process it reports the parent's size; it is only the fallback.)
        try:
            with open("/proc/self/status") as status:
                return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    folder, out, size, threads = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    baseline_kib = peak_rss_kib()
    started = time.perf_counter()
    images, rows, report = prepare_domain("Bench", folder, ["NORMAL", "PNEUMONIA"], image_size=size,
                                          test_fraction=0.2, split_seed=20240601, threads=threads)
    seconds = time.perf_counter() - started
    peak_kib = peak_rss_kib()
    np.save(out + "/images.npy", images)
    np.save(out + "/labels.npy", np.array([r["label"] for r in rows], dtype=np.int64))
    print(json.dumps({"seconds": seconds, "baseline_kib": baseline_kib, "peak_kib": peak_kib,
                      "images": len(rows)}))
    """
)


def prepare_in_child(folder, out_dir, size, threads):
    result = subprocess.run(
        [sys.executable, "-c", PREPARE_CHILD, str(SCRIPTS), str(folder), str(out_dir), str(size), str(threads)],
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    images = np.load(Path(out_dir) / "images.npy")
    labels = np.load(Path(out_dir) / "labels.npy")
    return measured, images, labels


# ----------------------------------------------------------------------------------------------------
# Training pipelines
# ----------------------------------------------------------------------------------------------------


def run_workflow_training(images, labels, settings, work, device=CPU):
    """(a) synthcxr.train.train_model exactly as scripts/train_model.py calls it (checkpoint per epoch)."""
    checkpoint = Path(work) / f"checkpoint-{time.time_ns()}.pt"
    started = time.perf_counter()
    model, history = train_model(
        images, labels.tolist(), settings, device, str(checkpoint), "bench", log=lambda *_: None
    )
    seconds = time.perf_counter() - started
    checkpoint.unlink(missing_ok=True)
    return seconds, model


def run_cache_loop(images, labels, settings, channels_last=True, compiled=False):
    """train_model's inner loop (same seeding, order and arithmetic) with one option changed.

    Returns (total seconds, seconds of each epoch, model); without options the weights equal (a)'s.
    """
    seed_everything(settings["seed"])
    model = StudyCNN(widths=tuple(settings["widths"]), image_size=images.shape[-1], channels_last=channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    loss_fn = nn.CrossEntropyLoss()
    forward = torch.compile(model) if compiled else model
    x_all, y_all = torch.as_tensor(images), torch.as_tensor(labels, dtype=torch.long)
    epoch_seconds = []
    for epoch in range(settings["epochs"]):
        started = time.perf_counter()
        order = epoch_order(len(y_all), settings["seed"], epoch)
        total_loss, correct = torch.zeros(()), torch.zeros((), dtype=torch.long)
        for start in range(0, len(order), settings["batch_size"]):
            batch = order[start : start + settings["batch_size"]]
            x, y = to_input(x_all[batch]), y_all[batch]
            logits = forward(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.detach() * len(batch)
            correct += (logits.argmax(1) == y).sum()
        total_loss.item()
        epoch_seconds.append(time.perf_counter() - started)
    return sum(epoch_seconds), epoch_seconds, model


def run_reference_pipeline(folder, settings, num_workers, size=128, device=CPU):
    """(b) what most published study code does: decode + resize every image on every epoch."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    # Resize((size, size)), not Resize(size): with films of different aspect ratios Resize(size) only
    # fixes the short side and the default collate cannot stack the batch.
    transform = transforms.Compose(
        [transforms.Grayscale(num_output_channels=1), transforms.Resize((size, size)), transforms.ToTensor()]
    )
    dataset = datasets.ImageFolder(str(folder), transform=transform)
    seed_everything(settings["seed"])
    model = StudyCNN(widths=tuple(settings["widths"]), image_size=size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(
        dataset,
        batch_size=settings["batch_size"],
        shuffle=True,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
        generator=torch.Generator().manual_seed(settings["seed"]),
    )
    started = time.perf_counter()
    for _ in range(settings["epochs"]):
        model.train()
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    synchronize(device)
    return time.perf_counter() - started, len(dataset)


def run_compute_only(n_images, settings, size=128, device=CPU):
    """(c) the ceiling: the same model, optimizer and batches, on float tensors already in (device) memory."""
    seed_everything(settings["seed"])
    model = StudyCNN(widths=tuple(settings["widths"]), image_size=size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    loss_fn = nn.CrossEntropyLoss()
    bs = settings["batch_size"]
    xs = [torch.rand(min(bs, n_images - s), 1, size, size, device=device) for s in range(0, n_images, bs)]
    ys = [torch.randint(0, 2, (len(x),), device=device) for x in xs]
    synchronize(device)
    started = time.perf_counter()
    for _ in range(settings["epochs"]):
        for x, y in zip(xs, ys):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    synchronize(device)
    return time.perf_counter() - started


def architecture_throughput(architecture, size, batches, device=CPU, batch_size=16, seed=1):
    """Training images/s of one architecture (synthcxr.classifiers) on random tensors already in (device) memory.

    One warm-up step (allocations, kernel choice), then ``batches`` timed steps of forward, cross-entropy,
    backward and Adam (lr 1e-3), as train_model's loop without its data path. Returns (images/s, parameters).
    """
    seed_everything(seed)
    model = build_architecture(architecture, image_size=size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch_size, 1, size, size, device=device)
    y = torch.randint(0, 2, (batch_size,), device=device)

    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()
    synchronize(device)
    started = time.perf_counter()
    for _ in range(batches):
        step()
    synchronize(device)
    return batches * batch_size / (time.perf_counter() - started), count_parameters(model)


TRAIN_CHILD = textwrap.dedent(
    """
    import hashlib, json, sys, time
    sys.path.insert(0, sys.argv[1])
    import numpy as np, torch
    import synthcxr.train as train
    cache, allocator = sys.argv[2], sys.argv[6]
    epochs, threads, seed = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    if allocator == "default":  # the code before keep_freed_memory: glibc's defaults
        train.keep_freed_memory = lambda *args, **kwargs: False
    images, labels = np.load(cache + "/images.npy"), np.load(cache + "/labels.npy").tolist()
    settings = {"epochs": epochs, "batch_size": 16, "lr": 1e-3, "widths": [32, 64, 128], "seed": seed}
    started = time.time()
    model, _ = train.train_model(images, labels, settings, torch.device("cpu"), f"{cache}/ck{seed}-{allocator}.pt",
                                 "bench", log=lambda *_: None)
    ended = time.time()
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode() + value.contiguous().numpy().tobytes())
    print(json.dumps({"start": started, "end": ended, "weights": digest.hexdigest()}))
    """
)


def train_in_children(cache_dir, epochs, processes, threads_each, allocator="keep"):
    """train_model in ``processes`` fresh processes at once (seeds 1, 2, ...), as `snakemake --cores N` runs them.

    Returns (seconds from the first start to the last end of training, without interpreter start-up
    and imports; the weight digest of each process).
    """
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                TRAIN_CHILD,
                str(SCRIPTS),
                str(cache_dir),
                str(epochs),
                str(threads_each),
                str(seed),
                allocator,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in range(1, processes + 1)
    ]
    results = [json.loads(child.communicate()[0].strip().splitlines()[-1]) for child in children]
    seconds = max(r["end"] for r in results) - min(r["start"] for r in results)
    return seconds, [r["weights"] for r in results]


def weight_digest(model):
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode() + value.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------------
# FLOPs and the machine's matrix-product speed
# ----------------------------------------------------------------------------------------------------


def model_macs(widths=(32, 64, 128), size=128, n_classes=2):
    """Multiply-accumulates of one forward pass, per layer, counted analytically (biases ignored)."""
    layers, cin, side = [], 1, size
    for width in widths:
        layers.append((f"conv {cin}->{width} @{side}px", side * side * width * cin * 9))
        cin, side = width, side // 2
    layers.append((f"linear {cin * side * side}->{n_classes}", cin * side * side * n_classes))
    return layers


def training_flops_per_image(widths=(32, 64, 128), size=128):
    """2 FLOPs per MAC, x3 for forward + backward (grad of inputs and of weights)."""
    return 3 * 2 * sum(m for _, m in model_macs(widths, size))


def matmul_gflops(n=2048, min_seconds=1.0):
    a, b = torch.rand(n, n), torch.rand(n, n)
    for _ in range(2):
        torch.mm(a, b)
    reps, started = 0, time.perf_counter()
    while True:
        torch.mm(a, b)
        reps += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds and reps >= 3:
            return 2 * n**3 * reps / elapsed / 1e9


def inference_throughput(model, images, min_seconds=1.5):
    predict_proba(model, images[:64], torch.device("cpu"))  # warm-up
    reps, started = 0, time.perf_counter()
    while True:
        predict_proba(model, images, torch.device("cpu"))
        reps += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds and reps >= 2:
            return reps * len(images) / elapsed


# ----------------------------------------------------------------------------------------------------
# Decoding: full decode vs Pillow's reduced JPEG decode (draft)
# ----------------------------------------------------------------------------------------------------


def decode_full(path, size):
    with Image.open(path) as image:
        image.load()
        gray = to_grayscale_uint8(image)
        return np.asarray(gray.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0))


def decode_draft(path, size):
    with Image.open(path) as image:
        image.draft("L", (size, size))  # JPEG: libjpeg's DCT scaling by 1/2, 1/4 or 1/8; others: no-op
        image.load()
        gray = to_grayscale_uint8(image)
        return np.asarray(gray.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0))


def decode_torchvision(path, size):
    """The per-image work of pipeline (b), in-process."""
    from torchvision import transforms

    with open(path, "rb") as handle:
        image = Image.open(handle).convert("RGB")  # what ImageFolder's default loader does
    return transforms.Resize((size, size))(transforms.Grayscale(1)(image))


def time_per_image(function, paths, size):
    started = time.perf_counter()
    out = [function(p, size) for p in paths]
    return (time.perf_counter() - started) / len(paths), out


def compare_draft(paths, size):
    for p in paths[:2]:  # warm-up: page cache and code
        decode_full(p, size), decode_draft(p, size), load_image(p, size)
    t_load, _ = time_per_image(lambda p, s: load_image(p, s)[0], paths, size)
    t_full, full = time_per_image(decode_full, paths, size)
    t_draft, draft = time_per_image(decode_draft, paths, size)
    t_tv, _ = time_per_image(decode_torchvision, paths, size)
    diffs = [np.abs(f.astype(np.int16) - d.astype(np.int16)) for f, d in zip(full, draft)]
    return {
        "load_image_ms": 1e3 * t_load,
        "full_ms": 1e3 * t_full,
        "draft_ms": 1e3 * t_draft,
        "torchvision_ms": 1e3 * t_tv,
        "speedup": t_full / t_draft,
        "mad": float(np.mean([d.mean() for d in diffs])),
        "worst_image_mad": float(max(d.mean() for d in diffs)),
        "max_pixel_diff": int(max(d.max() for d in diffs)),
    }


# ----------------------------------------------------------------------------------------------------
# Workflow overhead: snakemake dry run of a large study, and a run with nothing to do
# ----------------------------------------------------------------------------------------------------


def workflow_overhead(work, n_domains, per_domain, n_seeds, skip_noop=False, snakefile=None):
    work = Path(work)
    data = work / "dry_data"
    names = placeholder_domains(data, n_domains, per_domain)
    run_dir = work / "dry_run"
    run_dir.mkdir()
    # The first domain is the real one (the reference), the others synthetic.
    domains = {n: {"path": str(data / n), "kind": "synthetic" if i else "real"} for i, n in enumerate(names)}
    config = write_config(work / "dry.yaml", domains, range(1, n_seeds + 1))
    # Best of 3: start-up times on a shared or virtual machine vary by a few tenths of a second.
    dry = [run_snakemake(run_dir, config, "--dry-run", snakefile=snakefile) for _ in range(3)]
    out = {"dry_run_s": min(s for s, _ in dry), "dry_run_first_s": dry[0][0], "dry_jobs": planned_job_count(dry[0][1])}
    # Where the time goes: --list-rules runs the Snakefile (config validation, folder listing, rule
    # files) but builds no DAG; a one-rule workflow gives Snakemake's own start-up (the floor).
    out["list_rules_s"] = min(run_snakemake(run_dir, config, "--list-rules", snakefile=snakefile)[0] for _ in range(3))
    empty_dir = work / "empty"
    empty_dir.mkdir()
    (empty_dir / "Snakefile").write_text('rule all:\n    output: "x"\n    shell: "touch x"\n')
    (empty_dir / "empty.yaml").write_text("{}\n")
    empty = [
        run_snakemake(empty_dir, empty_dir / "empty.yaml", "--dry-run", snakefile=empty_dir / "Snakefile")
        for _ in range(3)
    ]
    out["empty_dry_run_s"] = min(s for s, _ in empty)
    out["slurm_controller_missing"] = slurm_controller_missing()
    if skip_noop:
        return out
    # A real tiny study (demo domains, 1 epoch, 1 seed), then the same command again: nothing to do.
    tiny_dir = work / "tiny_run"
    tiny_dir.mkdir()
    tiny = write_config(
        work / "tiny.yaml",
        {
            "Original": {"demo": {"per_class": 8, "shift": "none"}, "kind": "real"},
            "GANs": {"demo": {"per_class": 8, "shift": "gan"}, "kind": "synthetic"},
            "VAEs": {"demo": {"per_class": 6, "shift": "vae"}, "kind": "synthetic"},
        },
        [1],
        epochs=1,
    )
    out["tiny_run_s"], _ = run_snakemake(tiny_dir, tiny, "--cores", "2", snakefile=snakefile)
    noop = [run_snakemake(tiny_dir, tiny, "--cores", "2", snakefile=snakefile) for _ in range(2)]
    out["noop_s"] = min(s for s, _ in noop)
    out["noop_nothing_to_do"] = all("Nothing to be done" in text for _, text in noop)
    return out


# ----------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=400, help="training images (JPEGs generated), default 400")
    parser.add_argument("--epochs", type=int, default=2, help="epochs for each training pipeline, default 2")
    parser.add_argument("--min-side", type=int, default=1000, help="smallest JPEG side in px, default 1000")
    parser.add_argument("--max-side", type=int, default=2000, help="largest JPEG side in px, default 2000")
    parser.add_argument("--size", type=int, default=128, help="study image size, default 128")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads for training, default: the train_model rule's threads"
    )
    parser.add_argument(
        "--num-workers", type=int, default=None, help="DataLoader workers for (b), default threads-1 (0 if 1 thread)"
    )
    parser.add_argument("--draft-images", type=int, default=100, help="JPEGs for the draft comparison, default 100")
    parser.add_argument("--dry-domains", type=int, default=4, help="domains in the dry-run study, default 4 (+ Mixed)")
    parser.add_argument(
        "--dry-images", type=int, default=5000, help="placeholder files per dry-run domain, default 5000"
    )
    parser.add_argument("--dry-seeds", type=int, default=10, help="seeds in the dry-run study, default 10")
    parser.add_argument(
        "--min-seconds", type=float, default=1.5, help="time the matrix product and inference at least this long"
    )
    parser.add_argument(
        "--arch-size", type=int, default=128, help="image size for the per-architecture throughput, default 128"
    )
    parser.add_argument(
        "--arch-batches", type=int, default=5, help="timed batches of 16 per architecture (after 1 warm-up), default 5"
    )
    parser.add_argument("--skip-architectures", action="store_true", help="skip the per-architecture throughput")
    parser.add_argument("--skip-workflow", action="store_true", help="skip the snakemake overhead measurements")
    parser.add_argument("--skip-noop", action="store_true", help="skip the tiny real run and the nothing-to-do run")
    parser.add_argument("--skip-options", action="store_true", help="skip the training options (layout, compile, ...)")
    parser.add_argument("--skip-compile", action="store_true", help="skip the torch.compile option (slow to compile)")
    parser.add_argument("--skip-parallel", action="store_true", help="skip the parallel 1-thread trainings")
    parser.add_argument("--skip-gpu", action="store_true", help="skip the GPU pipelines even where a GPU is present")
    parser.add_argument(
        "--job-images", type=int, default=200, help="images of the domain whose jobs' fixed start is split, default 200"
    )
    parser.add_argument("--skip-jobs", action="store_true", help="skip the fixed start of a training and an evaluation")
    parser.add_argument("--snakefile", help="Snakefile for the overhead runs, default: this checkout's")
    parser.add_argument("--workdir", help="keep the generated files here instead of a temporary folder")
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------------------------------
# Measuring: one function per part, each adds its figures to the measurements dict ``m``
# ----------------------------------------------------------------------------------------------------


def measure_inputs(args, work, m, threads, prepare_threads, print_progress):
    """Generate the JPEGs and prepare them in a fresh process; return (folder, cache dir, images, labels)."""
    print_progress(f"generating {args.images} JPEGs of {args.min_side}-{args.max_side} px in {work} ...")
    started = time.perf_counter()
    folder, total_bytes = make_jpeg_domain(work / "jpegs", args.images, args.min_side, args.max_side, threads=threads)
    m["generate_s"] = time.perf_counter() - started
    m["jpeg_mean_kib"] = total_bytes / args.images / 1024
    print_progress("preparing the domain (decode + cache) in a fresh process ...")
    cache = work / "cache"
    cache.mkdir(exist_ok=True)
    m["prepare"], images, labels = prepare_in_child(folder, cache, args.size, prepare_threads)
    return folder, cache, images, labels


def measure_pipelines(args, folder, images, labels, settings, work, m, print_progress):
    """(b), (a), (c) on the CPU, with page faults per image; return the model of (a)."""
    n = len(labels)
    run_compute_only(32, {**settings, "epochs": 1})  # warm-up: no pipeline pays the process's one-time costs
    # (b) first: train_model switches this process to keep_freed_memory, which (b) never has.
    print_progress(f"(b) reference ImageFolder/DataLoader pipeline, num_workers={m['num_workers']} ...")
    faults = minor_faults()
    b_s, n_b = run_reference_pipeline(folder, settings, m["num_workers"], args.size)
    m["n_b"] = n_b
    m["b"], m["b_faults"] = n_b * args.epochs / b_s, (minor_faults() - faults) / (n_b * args.epochs)
    print_progress(f"(a) workflow training from the cache: {n} images x {args.epochs} epochs ...")
    faults = minor_faults()
    a_s, model = run_workflow_training(images, labels, settings, work)
    m["a"], m["a_faults"] = n * args.epochs / a_s, (minor_faults() - faults) / (n * args.epochs)
    print_progress("(c) compute only ...")
    faults = minor_faults()
    c_s = run_compute_only(n, settings, args.size)
    m["c"], m["c_faults"] = n * args.epochs / c_s, (minor_faults() - faults) / (n * args.epochs)
    return model


def option_compiled(images, labels, settings, a_weights):
    """torch.compile of the inner loop: (images/s incl. compiling, bit-identical, note)."""
    n = len(labels)
    try:
        s, per_epoch, mdl = run_cache_loop(images, labels, settings, compiled=True)
        steady = n / min(per_epoch[1:]) if len(per_epoch) > 1 else float("nan")
        note = f"steady epochs {fmt(steady)} img/s; first epoch {fmt(per_epoch[0])} s"
        return n * settings["epochs"] / s, same_weights(weights_of(mdl), a_weights), note
    except Exception as error:  # noqa: BLE001 - a missing compiler must not end the benchmark
        return float("nan"), None, f"failed: {type(error).__name__}: {str(error)[:80]}"
    finally:
        torch._dynamo.reset()


def measure_options(args, folder, cache, images, labels, settings, work, m, model, print_progress):
    """Training options tried on (a): {name: (images/s, bit-identical to (a) or None, note)}."""
    n, epochs, threads = len(labels), args.epochs, m["threads"]
    a_weights, a_digest = weights_of(model), weight_digest(model)
    options = {}
    print_progress("options: train_model in fresh processes, with and without keep_freed_memory ...")
    s, (keep,) = train_in_children(cache, epochs, 1, threads, "keep")
    options["train_model in a fresh process"] = (n * epochs / s, keep == a_digest, "as the rule runs it")
    s, (default,) = train_in_children(cache, epochs, 1, threads, "default")
    options["  same, glibc malloc defaults (before)"] = (
        n * epochs / s,
        default == a_digest,
        "without synthcxr.train.keep_freed_memory",
    )
    print_progress("options: plain inner loop, NCHW layout, threads ...")
    s, _, mdl = run_cache_loop(images, labels, settings)
    options["inner loop of train_model (no checkpoint)"] = (
        n * epochs / s,
        same_weights(weights_of(mdl), a_weights),
        "",
    )
    s, _, mdl = run_cache_loop(images, labels, settings, channels_last=False)
    options["NCHW layout (StudyCNN channels_last=False, before)"] = (
        n * epochs / s,
        same_weights(weights_of(mdl), a_weights),
        "",
    )
    for t in sorted({1, os.cpu_count() or 1} - {threads}):
        torch.set_num_threads(t)
        s, _ = run_workflow_training(images, labels, settings, work)
        torch.set_num_threads(threads)
        note = "train_model; bit-identity holds within one thread count"
        options[f"torch threads {t} instead of {threads}"] = (n * epochs / s, None, note)
    if not args.skip_compile:
        print_progress("options: torch.compile (compiles first) ...")
        options["torch.compile (incl. compile)"] = option_compiled(images, labels, settings, a_weights)
    print_progress("options: (b) again, now with keep_freed_memory ...")
    s, _ = run_reference_pipeline(folder, settings, m["num_workers"], args.size)
    options["(b) with keep_freed_memory too"] = (m["n_b"] * epochs / s, None, "decode+resize left as it is")
    rule_threads_each = m["train_rule_threads"]
    processes = max(1, (os.cpu_count() or 1) // rule_threads_each)
    if not args.skip_parallel and processes > 1:
        print_progress(f"options: {processes} trainings at once, {rule_threads_each} thread(s) each ...")
        s, _ = train_in_children(cache, epochs, processes, rule_threads_each, "keep")
        options[f"{processes} trainings at once, {rule_threads_each} thread(s) each"] = (
            processes * n * epochs / s,
            None,
            f"all processes together: `snakemake --cores {processes * rule_threads_each}`",
        )
    return options


def measure_gpu(args, folder, images, labels, settings, work, m, print_progress):
    """(c), (a), (b) on the GPU."""
    gpu, n = torch.device("cuda"), len(labels)
    print_progress(f"GPU ({torch.cuda.get_device_name(gpu)}): (c), (a), (b) ...")
    run_compute_only(32, {**settings, "epochs": 1}, args.size, gpu)  # CUDA context and kernels
    g = {"name": torch.cuda.get_device_name(gpu)}
    g["c"] = n * args.epochs / run_compute_only(n, settings, args.size, gpu)
    g["a"] = n * args.epochs / run_workflow_training(images, labels, settings, work, gpu)[0]
    s, n_b = run_reference_pipeline(folder, settings, m["num_workers"], args.size, gpu)
    g["b"] = n_b * args.epochs / s
    return g


def measure_compute(args, images, settings, m, model):
    flops = training_flops_per_image(tuple(settings["widths"]), args.size)
    m["train_gflop_per_image"] = flops / 1e9
    m["mm_gflops"] = matmul_gflops(min_seconds=args.min_seconds)
    m["a_gflops"] = m["a"] * flops / 1e9
    m["c_gflops"] = m["c"] * flops / 1e9
    m["eval"] = inference_throughput(model, images, min_seconds=args.min_seconds)


def measure_architectures(args, print_progress):
    """{device: {architecture: {images_per_s, parameters}}} on the CPU and, where present, the GPU."""
    devices = [CPU] + ([torch.device("cuda")] if torch.cuda.is_available() and not args.skip_gpu else [])
    measured = {}
    for device in devices:
        measured[device.type] = {}
        for architecture in ARCHITECTURES:
            print_progress(f"architecture {architecture} on the {device.type}: {args.arch_batches} batches ...")
            try:
                per_s, parameters = architecture_throughput(architecture, args.arch_size, args.arch_batches, device)
                measured[device.type][architecture] = {"images_per_s": per_s, "parameters": parameters}
            except RuntimeError as error:  # e.g. an op without a deterministic GPU kernel: report, go on
                measured[device.type][architecture] = {"error": f"{type(error).__name__}: {str(error)[:120]}"}
    return measured


def measure_workflow(args, work, m, print_progress):
    print_progress(
        f"snakemake: dry run of {args.dry_domains} domains x {args.dry_images} files x {args.dry_seeds} seeds"
        + ("" if args.skip_noop else ", tiny real run, nothing-to-do run")
        + " ..."
    )
    try:
        m["workflow"] = workflow_overhead(
            work / "wf", args.dry_domains, args.dry_images, args.dry_seeds, args.skip_noop, args.snakefile
        )
    except (RuntimeError, subprocess.TimeoutExpired) as error:  # a broken workflow must not hide the rest
        m["workflow_error"] = str(error)


def measure_jobs(args, work, print_progress):
    """The fixed start of one train_model and one evaluate_model job (tools/benchmark/jobtime.py), 1 epoch."""
    job_args = jobtime.parse_args(
        ["--sizes", str(args.job_images), "--epochs", "1", "--side", "256", "--threads", "2", "--device", "cpu"]
    )
    return jobtime.measure(job_args, work / "jobs", print_progress)


def measure(args, work, print_progress):
    """Every measurement of one run, as a dict (the process's torch settings are restored after)."""
    m = {"images": args.images, "epochs": args.epochs, "load_start": load_average()}
    m["prepare_threads"] = rule_threads("prepare_domain", 2)
    m["train_rule_threads"] = rule_threads("train_model", 1)
    m["threads"] = threads = max(1, args.threads or m["train_rule_threads"])
    m["num_workers"] = args.num_workers if args.num_workers is not None else max(0, threads - 1)
    settings = settings_for(args)
    previous = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)  # as scripts/train_model.py
    try:
        folder, cache, images, labels = measure_inputs(args, work, m, threads, m["prepare_threads"], print_progress)
        m["n"], m["shape"] = len(labels), tuple(images.shape)
        model = measure_pipelines(args, folder, images, labels, settings, work, m, print_progress)
        options = {}
        if not args.skip_options:
            options = measure_options(args, folder, cache, images, labels, settings, work, m, model, print_progress)
        m["options"] = {k: {"images_per_s": v[0], "bit_identical_to_a": v[1], "note": v[2]} for k, v in options.items()}
        if torch.cuda.is_available() and not args.skip_gpu:
            m["gpu"] = measure_gpu(args, folder, images, labels, settings, work, m, print_progress)
        print_progress("FLOPs, matrix product, inference ...")
        measure_compute(args, images, settings, m, model)
        if not args.skip_architectures:
            m["architectures"] = measure_architectures(args, print_progress)
        print_progress("decoding: full vs draft ...")
        paths = sorted(folder.rglob("*.jpg"))[: max(1, args.draft_images)]
        m["decode"], m["decode_files"] = compare_draft(paths, args.size), len(paths)
        if not args.skip_workflow:
            measure_workflow(args, work, m, print_progress)
        if not args.skip_jobs:
            m["jobs"] = measure_jobs(args, work, print_progress)
    finally:
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1])
    m["load_end"] = load_average()
    return m


# ----------------------------------------------------------------------------------------------------
# The table: one function per section
# ----------------------------------------------------------------------------------------------------


def table_machine(table, args, m):
    table.section("Machine and settings")
    table.add("CPU", platform.processor() or platform.machine(), f"{os.cpu_count()} logical CPUs")
    table.add(
        "torch / threads",
        f"{torch.__version__}",
        f"torch.set_num_threads({m['threads']}) (rule train_model: threads {m['train_rule_threads']});"
        " deterministic algorithms on",
    )
    table.add("1-min load average", f"{m['load_start']:.2f} -> {m['load_end']:.2f}", "at start -> at end")
    table.add(
        "training data",
        f"{m['n']} images",
        f"x {args.epochs} epochs, batch 16, Adam lr 1e-3, StudyCNN at {args.size} px",
    )
    table.add(
        "JPEGs (quality 90, L)",
        f"{args.min_side}-{args.max_side} px",
        f"mean {fmt(m['jpeg_mean_kib'], 0)} KiB; generated in {fmt(m['generate_s'])} s",
    )


def table_preparation(table, m):
    prep = m["prepare"]
    table.section("Preparing the domain (prepare_domain: decode, hash, split, cache)")
    table.add("threads", f"{m['prepare_threads']}", "rule prepare_domain's threads")
    table.add("time", f"{fmt(prep['seconds'], 2)} s", f"{fmt(m['n'] / prep['seconds'])} images/s")
    table.add(
        "peak memory (RSS)",
        f"{fmt(prep['peak_kib'] / 1024)} MiB",
        f"VmHWM of a fresh process; {fmt(prep['baseline_kib'] / 1024)} MiB after imports",
    )
    cache_mib = np.prod(m["shape"]) / 2**20
    table.add("cache size", f"{fmt(cache_mib)} MiB", f"uint8 {m['shape']}")


def table_throughput(table, m):
    table.section("Training throughput (images/s, same images and settings)")
    table.add(
        "(a) workflow: train_model on cache",
        fmt(m["a"]),
        f"incl. checkpoint per epoch; {fmt(m['a_faults'], 0)} page faults/image",
    )
    table.add(
        "(b) ImageFolder+DataLoader on JPEGs",
        fmt(m["b"]),
        f"decode+resize every epoch, num_workers={m['num_workers']}; "
        f"{fmt(m['b_faults'], 0)} page faults/image (main process)",
    )
    table.add(
        "(c) compute only (ceiling)",
        fmt(m["c"]),
        f"random tensors already in memory; {fmt(m['c_faults'], 0)} page faults/image",
    )
    for name, option in m["options"].items():
        identical = option["bit_identical_to_a"]
        same = "" if identical is None else ("bit-identical to (a); " if identical else "NOT bit-identical to (a); ")
        table.add(f"option: {name}", fmt(option["images_per_s"]), f"{same}{option['note']}")
    if "gpu" in m:
        g = m["gpu"]
        table.section(f"Training throughput on the GPU ({g['name']}; images/s)")
        table.add("(a) workflow: train_model, cache on the GPU", fmt(g["a"]), "batches indexed on the device")
        table.add("(b) ImageFolder+DataLoader on JPEGs", fmt(g["b"]), f"num_workers={m['num_workers']}, pinned memory")
        table.add("(c) compute only (ceiling)", fmt(g["c"]), "random tensors already on the GPU")


def table_architectures(table, args, m):
    for device, measured in m["architectures"].items():
        table.section(
            f"Training throughput per architecture ({device}; images/s; batch 16 at {args.arch_size} px, "
            "forward+backward+Adam)"
        )
        study = measured.get("study_cnn", {}).get("images_per_s")
        for architecture, figures in measured.items():
            if "error" in figures:
                table.add(architecture, "failed", figures["error"])
                continue
            slower = study and architecture != "study_cnn"
            relative = f"; {study / figures['images_per_s']:.1f}x the study CNN's time" if slower else ""
            table.add(architecture, fmt(figures["images_per_s"]), f"{figures['parameters']:,} parameters{relative}")


def table_compute(table, args, m):
    table.section("Compute efficiency")
    table.add(
        "FLOPs per training image",
        f"{fmt(m['train_gflop_per_image'], 3)} GFLOP",
        "analytic conv+linear MACs x2 x3 (fwd+bwd)",
    )
    for name, macs in model_macs((32, 64, 128), args.size):
        table.add(f"  forward MACs {name}", f"{fmt(macs / 1e6, 2)} M")
    table.add("achieved (a)", f"{fmt(m['a_gflops'])} GFLOP/s", f"{fmt(100 * m['a_gflops'] / m['mm_gflops'])}% of mm")
    table.add("achieved (c)", f"{fmt(m['c_gflops'])} GFLOP/s", f"{fmt(100 * m['c_gflops'] / m['mm_gflops'])}% of mm")
    table.add("torch.mm 2048x2048 fp32", f"{fmt(m['mm_gflops'])} GFLOP/s", f"same {m['threads']} thread(s)")
    table.section("Evaluation (predict_proba: inference mode, batches of 512)")
    table.add("inference", fmt(m["eval"]), f"images/s = {fmt(m['eval'] / m['a'])}x training (a)")


def table_decoding(table, args, m):
    d = m["decode"]
    table.section(f"Decoding one JPEG to {args.size} px ({m['decode_files']} files, 1 thread)")
    table.add("load_image (as prepare_domain)", f"{fmt(d['load_image_ms'], 2)} ms", "full decode + pixel hash + resize")
    table.add("full decode + resize", f"{fmt(d['full_ms'], 2)} ms")
    table.add("draft('L') decode + resize", f"{fmt(d['draft_ms'], 2)} ms", f"speed-up x{fmt(d['speedup'], 2)}")
    table.add("torchvision Grayscale+Resize (b)", f"{fmt(d['torchvision_ms'], 2)} ms", "per image and epoch in (b)")
    table.add(
        "draft vs full: mean |diff|",
        f"{fmt(d['mad'], 3)} grey",
        f"worst image {fmt(d['worst_image_mad'], 3)}, largest pixel diff {d['max_pixel_diff']} (target < 1)",
    )


def table_workflow(table, args, m):
    table.section("Workflow overhead (snakemake)")
    if "workflow_error" in m:
        table.add("snakemake failed", "-", m["workflow_error"].strip().splitlines()[-1][:120])
        return
    w = m["workflow"]
    table.add(
        "dry run (-n)",
        f"{fmt(w['dry_run_s'], 2)} s",
        f"{args.dry_domains} domains + Mixed x {args.dry_seeds} seeds, {args.dry_images} files/domain,"
        f" {w['dry_jobs']} jobs; first {fmt(w['dry_run_first_s'], 2)} s",
    )
    table.add("  snakemake's start-up", f"{fmt(w['empty_dry_run_s'], 2)} s", "dry run of a one-rule workflow")
    load_s = w["list_rules_s"] - w["empty_dry_run_s"]
    listed = args.dry_domains * args.dry_images
    table.add(
        "  + loading this workflow",
        f"{fmt(load_s, 2)} s",
        f"config validation, listing {listed} files, rule files (--list-rules)",
    )
    dag_s = w["dry_run_s"] - w["list_rules_s"]
    per_job = f"{fmt(1e3 * dag_s / max(w['dry_jobs'] or 1, 1), 1)} ms per job (inside Snakemake)"
    table.add("  + building and printing the DAG", f"{fmt(dag_s, 2)} s", per_job)
    if w["slurm_controller_missing"]:
        warning = "scontrol is installed but no SLURM controller answers: each start-up includes its ~10 s retry"
        table.add("  WARNING", "-", warning)
    if "noop_s" in w:
        table.add(
            "tiny real run (--cores 2)", f"{fmt(w['tiny_run_s'], 1)} s", "3 demo domains + Mixed, 1 seed, 1 epoch"
        )
        done = "said 'Nothing to be done'" if w["noop_nothing_to_do"] else "WARNING: it ran jobs"
        table.add("nothing-to-do run (--cores 2)", f"{fmt(w['noop_s'], 2)} s", done)


def table_targets(table, m):
    m["a/c"], m["a/b"] = a_c, a_b = m["a"] / m["c"], m["a"] / m["b"]
    table.section("Ratios and targets")
    table.add("a/c (workflow / ceiling)", f"{a_c:.2f}", f">= {TARGETS['a/c']}: {verdict(a_c >= TARGETS['a/c'])}")
    table.add("a/b (workflow / reference)", f"{a_b:.2f}", f">= {TARGETS['a/b']}: {verdict(a_b >= TARGETS['a/b'])}")
    if "gpu" in m:
        g = m["gpu"]
        m["gpu a/c"], m["gpu a/b"] = g["a"] / g["c"], g["a"] / g["b"]
        table.add("GPU a/c", f"{m['gpu a/c']:.2f}", "the data path's cost on the GPU")
        ok = m["gpu a/b"] >= TARGETS["gpu a/b"]
        table.add("GPU a/b", f"{m['gpu a/b']:.2f}", f">= {TARGETS['gpu a/b']}: {verdict(ok)}")
    if "workflow" in m:
        w = m["workflow"]
        table.add(
            "dry run",
            f"{fmt(w['dry_run_s'], 2)} s",
            f"< {TARGETS['dry_run_s']} s: {verdict(w['dry_run_s'] < TARGETS['dry_run_s'])}",
        )
        if "noop_s" in w:
            ok = w["noop_s"] < TARGETS["noop_s"] and w["noop_nothing_to_do"]
            table.add("nothing-to-do run", f"{fmt(w['noop_s'], 2)} s", f"< {TARGETS['noop_s']} s: {verdict(ok)}")


def render(args, m):
    table = Table()
    table_machine(table, args, m)
    table_preparation(table, m)
    table_throughput(table, m)
    if "architectures" in m:
        table_architectures(table, args, m)
    table_compute(table, args, m)
    table_decoding(table, args, m)
    if "workflow" in m or "workflow_error" in m:
        table_workflow(table, args, m)
    if "jobs" in m:
        jobtime.table_fixed_start(table, m["jobs"])
    table_targets(table, m)
    return table.render()


def run(args, print_progress=print):
    """Measure everything; return (table text, measurements dict)."""
    return run_in_workdir(args, measure, render, "synthcxr-bench-", print_progress)


def main(argv=None):
    return benchmark_main(argv, parse_args, run)


if __name__ == "__main__":
    sys.exit(main())
