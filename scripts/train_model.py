"""Entry point of rule train_model: train one classifier on one training domain and seed."""

import time

SCRIPT_STARTED = time.perf_counter()  # before the imports: the job-time split (run_info.json) counts them

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from synthcxr import classifiers, data, jobs, predictions, train  # noqa: E402

with jobs.logged(snakemake.log[0]):
    p, inputs, outputs = snakemake.params, snakemake.input, snakemake.output
    clock = jobs.JobClock(SCRIPT_STARTED)
    clock.phase_done("imports")
    device = train.start_torch_job(snakemake.threads, p.device)
    clock.phase_done("torch_setup")
    job = train.TrainingJob(snakemake.wildcards.train, p.sources, p.settings, p.classes, p.percent, p.split_seed)
    (images, rows), (validation_images, validation_rows) = data.load_training_data(
        inputs.images, inputs.manifests, p.settings["validation_fraction"], p.percent, p.split_seed
    )
    labels, validation_labels = [row["label"] for row in rows], [row["label"] for row in validation_rows]
    clock.phase_done("data_load")
    print(job.describe(rows, validation_rows))
    manifest_sha256 = job.manifest_sha256(inputs.manifests)
    fingerprint = job.fingerprint([*inputs.images, *inputs.manifests], p.code)
    clock.phase_done("input_hashes")
    classifier = {**p.classifier, "name": snakemake.wildcards.classifier}
    # Built (and its weights file loaded) after the data: a bad file is named before any training step.
    untrained = classifiers.new_model(p.settings, images.shape[-1], classifier)
    model, history = train.train_model(
        images,
        labels,
        p.settings,
        device,
        p.checkpoint,
        fingerprint,
        validation=(validation_images, validation_labels),
        model=untrained,
    )
    clock.phase_done("training_loop")
    # The evaluations choose their decision threshold on these predictions, never on a test split.
    probabilities = train.rounded_probabilities(model, validation_images, device)
    predictions.write_predictions(predictions.prediction_rows(validation_rows, probabilities), outputs.validation)
    train.save_atomically(model.state_dict(), outputs.model)
    jobs.write_json(job.record(rows, validation_rows, manifest_sha256, history, device), outputs.history)
    clock.phase_done("outputs")
    print(f"seconds by phase (process start before this script not included): {json.dumps(clock.phase_seconds)}")
    # The model's checksum: a model file damaged later is found and retrained (common.smk).
    run_info = clock.run_info(train.describe_device(device)) | {jobs.MODEL_SHA256: jobs.file_sha256(outputs.model)}
    # What the model is: architecture, parameters, weights (checksum or random init), training settings.
    run_info["classifier"] = classifiers.training_provenance(classifier, model, p.settings)
    jobs.write_json(run_info, outputs.run_info)
    # The outputs are the result now; a checkpoint left behind could only be resumed by mistake.
    Path(p.checkpoint).unlink(missing_ok=True)
    print(f"done in {clock.wall_seconds():.1f} s")
