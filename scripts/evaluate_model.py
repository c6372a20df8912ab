"""Entry point of rule evaluate_model: test one trained model on one test split."""

import time

SCRIPT_STARTED = time.perf_counter()  # before the imports: the job timing in the log counts them

import json  # noqa: E402

from synthcxr import evaluate, jobs, predictions, train  # noqa: E402
from synthcxr.data import load_split  # noqa: E402

with jobs.logged(snakemake.log[0]):
    clock = jobs.JobClock(SCRIPT_STARTED)
    clock.phase_done("imports")
    p = snakemake.params
    train_domain, test, seed = snakemake.wildcards.train, snakemake.wildcards.test, snakemake.wildcards.seed
    device = train.start_torch_job(snakemake.threads, p.device)
    clock.phase_done("torch_setup")
    images, rows = load_split(snakemake.input.images, snakemake.input.manifest, "test")
    # Found by check_leakage for this pair before the evaluation (which stopped there with `leakage: error`).
    leakage = jobs.read_json(snakemake.input.leakage)
    model = train.load_trained_model(snakemake.input.model, p.settings["widths"], images.shape[-1], device)
    probabilities = train.rounded_probabilities(model, images, device)
    predictions.write_predictions(predictions.prediction_rows(rows, probabilities), snakemake.output.predictions)
    metrics = evaluate.cell_metrics(rows, probabilities, p.classes)
    training = jobs.read_json(snakemake.input.history)
    metrics["at_validation_threshold"] = evaluate.at_validation_threshold(
        rows,
        probabilities,
        predictions.read_predictions(snakemake.input.validation),
        train_domain,
        training["validation_images"],
    )
    metrics["train_test_overlap"] = evaluate.leaked_test_images(leakage, test)
    metrics["provenance"] = evaluate.cell_provenance(
        train_domain,
        test,
        seed,
        settings=p.settings,
        classes=p.classes,
        split_seed=p.split_seed,
        training=training,
        test_manifest=snakemake.input.manifest,
        device=train.describe_device(device)["device"],
    )
    jobs.write_json(metrics, snakemake.output.metrics)
    clock.phase_done("evaluation")
    print(json.dumps({k: metrics[k] for k in ("accuracy", "f1", "auroc")}))
    print(clock.timing_line())
