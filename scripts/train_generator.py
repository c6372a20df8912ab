"""Entry point of rule train_generator: train a class-conditional VAE or GAN on one domain's train split,
then write the generated domain (ImageFolder layout) and the progress grids.

snakemake.input: images, manifest (the source domain's prepared cache and split manifest)
snakemake.output: model (final weights .pt), samples (directory: <CLASS>/<class_lower>_<i:05d>.png),
    progress (directory: real.png + epoch_NNNN.png sample grids)
snakemake.params: kind ("vae" | "gan"), settings (dict, see synthcxr.generators.DEFAULT_SETTINGS),
    per_class (images generated per class), classes (class names, label order), device
    ("auto" | "cpu" | "cuda"), checkpoint (path outside the outputs, resumed when it matches; deleted after success)
"""

import json
import os
import time
from pathlib import Path

import numpy as np  # noqa: E402

from synthcxr.data import load_split  # noqa: E402
from synthcxr.generators import (  # noqa: E402
    PROGRESS_PER_CLASS,
    resolve_settings,
    sample,
    save_generator,
    train_generator,
    write_sample_grid,
    write_samples,
)
from synthcxr.jobs import logged, run_fingerprint  # noqa: E402
from synthcxr.train import start_torch_job  # noqa: E402

with logged(snakemake.log[0]):
    p = snakemake.params
    started = time.time()
    device = start_torch_job(snakemake.threads, p.device)
    settings = resolve_settings(p.kind, p.settings)
    images, rows = load_split(snakemake.input.images, snakemake.input.manifest, "train")
    labels = np.array([row["label"] for row in rows], dtype=np.int64)
    print(
        f"training a {p.kind} on {len(rows)} train images "
        f"({np.bincount(labels, minlength=2).tolist()} per class), settings {settings}"
    )
    fingerprint = run_fingerprint([p.kind, settings, p.code], [snakemake.input.images, snakemake.input.manifest])
    progress_dir = snakemake.output.progress
    os.makedirs(progress_dir, exist_ok=True)
    write_sample_grid(
        images,
        labels,
        os.path.join(progress_dir, "real.png"),
        per_class=PROGRESS_PER_CLASS,
        class_names=p.classes,
        title="real training images",
    )
    model, history = train_generator(
        p.kind,
        images,
        labels,
        settings,
        device,
        p.checkpoint,
        fingerprint,
        log=print,
        progress_dir=progress_dir,
        class_names=p.classes,
    )
    save_generator(model, p.kind, settings, snakemake.output.model)
    generated, generated_labels = sample(p.kind, model, int(p.per_class), settings["seed"], device)
    counts = write_samples(generated, generated_labels, p.classes, snakemake.output.samples)
    write_sample_grid(
        generated,
        generated_labels,
        os.path.join(progress_dir, "final_samples.png"),
        per_class=PROGRESS_PER_CLASS,
        class_names=p.classes,
        title=f"{p.kind}: final samples",
    )
    # The outputs are the result now; a checkpoint left behind could only be resumed by mistake.
    Path(p.checkpoint).unlink(missing_ok=True)
    print(f"history: {json.dumps(history[-1])}")
    print(f"wrote {counts} images to {snakemake.output.samples}; done in {time.time() - started:.1f} s")
