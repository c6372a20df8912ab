"""Entry point of rule train_model: train the study CNN on one training domain and seed."""

import time

SCRIPT_STARTED = time.perf_counter()  # before the imports: the job-time split (run_info.json) counts them

import datetime  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from synthcxr.data import load_training_data  # noqa: E402
from synthcxr.jobs import (  # noqa: E402
    code_version,
    config_sha256,
    file_sha256,
    logged,
    package_versions,
    repository_root,
    run_environment,
    run_fingerprint,
    write_json,
)
from synthcxr.predictions import prediction_rows, write_predictions  # noqa: E402
from synthcxr.train import describe_device, predict_proba, save_atomically, start_torch_job, train_model  # noqa: E402

with logged(snakemake.log[0]):
    p = snakemake.params
    started = time.time()
    phase_ends = {"imports": time.perf_counter()}
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    device = start_torch_job(snakemake.threads, p.device)
    phase_ends["torch_setup"] = time.perf_counter()
    (images, rows), (validation_images, validation_rows) = load_training_data(
        snakemake.input.images, snakemake.input.manifests, p.settings["validation_fraction"], p.percent, p.split_seed
    )
    labels = [row["label"] for row in rows]
    phase_ends["data_load"] = time.perf_counter()
    print(
        f"training {snakemake.wildcards.train} (seed {p.settings['seed']}, {p.percent}% of the train split) on "
        f"{len(rows)} images from {p.sources}; {len(validation_rows)} held out to choose the threshold"
    )
    manifest_hashes = {src: file_sha256(m) for src, m in zip(p.sources, snakemake.input.manifests)}
    fingerprint = run_fingerprint(
        [p.settings, p.percent, p.split_seed, p.code], [*snakemake.input.images, *snakemake.input.manifests]
    )
    phase_ends["input_hashes"] = time.perf_counter()
    validation = (validation_images, [row["label"] for row in validation_rows])
    model, history = train_model(
        images, labels, p.settings, device, p.checkpoint, fingerprint, log=print, validation=validation
    )
    phase_ends["training_loop"] = time.perf_counter()
    # The evaluations choose their decision threshold on these predictions, never on a test split.
    probabilities = np.round(predict_proba(model, validation_images, device).astype(np.float64), 6)
    write_predictions(prediction_rows(validation_rows, probabilities), snakemake.output.validation)
    save_atomically(model.state_dict(), snakemake.output.model)
    write_json(
        {
            "train_domain": snakemake.wildcards.train,
            "sources": p.sources,
            "settings": p.settings,
            "config_sha256": config_sha256(p.settings, p.classes, p.split_seed),
            "train_images": len(rows),
            "train_images_per_class": {str(k): labels.count(k) for k in sorted(set(labels))},
            "train_percent": p.percent,
            "validation_fraction": p.settings["validation_fraction"],
            "validation_images": len(validation_rows),
            "manifest_sha256": manifest_hashes,
            "history": history,
            "device": describe_device(device)["device"],
            "packages": package_versions(),
        },
        snakemake.output.history,
    )
    phase_ends["outputs"] = time.perf_counter()
    # Each phase lasts from the end of the one before (the first from SCRIPT_STARTED).
    starts = [SCRIPT_STARTED, *phase_ends.values()]
    phases = {name: round(end - start, 3) for (name, end), start in zip(phase_ends.items(), starts)}
    print(f"seconds by phase (process start before this script not included): {json.dumps(phases)}")
    # Host, times and code version vary between runs: kept apart from the reproducible files.
    write_json(
        {
            "started": started_at,
            "wall_seconds": round(time.time() - started, 1),
            "phase_seconds": phases,
            "environment": run_environment(),
            "device": describe_device(device),
            "code_version": code_version(repository_root()),
        },
        snakemake.output.run_info,
    )
    # The outputs are the result now; a checkpoint left behind could only be resumed by mistake.
    Path(p.checkpoint).unlink(missing_ok=True)
    print(f"done in {time.time() - started:.1f} s")
