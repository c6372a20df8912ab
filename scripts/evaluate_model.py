"""Entry point of rule evaluate_model: test one trained model on every test split it is tested on."""

import time

SCRIPT_STARTED = time.perf_counter()  # before the imports: the job timing in the log counts them

import json  # noqa: E402

from synthcxr import classifiers, evaluate, jobs, predictions, train  # noqa: E402
from synthcxr.data import load_split  # noqa: E402
from synthcxr.shutdown import end_job  # noqa: E402

with jobs.logged(snakemake.log[0]):
    clock = jobs.JobClock(SCRIPT_STARTED)
    clock.phase_done("imports")
    p = snakemake.params
    train_domain, seed = snakemake.wildcards.train, snakemake.wildcards.seed
    device = train.start_torch_job(snakemake.threads, p.device)
    clock.phase_done("torch_setup")
    training = jobs.read_json(snakemake.input.history)
    validation = predictions.read_predictions(snakemake.input.validation)
    model = None
    # One cell per test split, in the order of params.tests (the rule's expand() order of inputs and outputs).
    cells = zip(
        p.tests,
        snakemake.input.images,
        snakemake.input.manifests,
        snakemake.input.leakage,
        snakemake.output.metrics,
        snakemake.output.predictions,
        strict=True,
    )
    for test, images_path, manifest, leakage_path, metrics_path, predictions_path in cells:
        images, rows = load_split(images_path, manifest, "test")
        # Found by check_leakage for this pair before the evaluation (which stopped there with `leakage: error`).
        leakage = jobs.read_json(leakage_path)
        if model is None:  # every prepared domain has the study's image size: one load serves all test splits
            size, widths = images.shape[-1], p.settings.get("widths")  # widths: the study CNN's only
            architecture = classifiers.build_architecture(p.classifier["architecture"], size, widths)
            model = train.load_trained_model(snakemake.input.model, widths, size, device, model=architecture)
        scoring_started = time.perf_counter()
        probabilities = train.rounded_probabilities(model, images, device)
        scoring_s = time.perf_counter() - scoring_started
        predictions.write_predictions(predictions.prediction_rows(rows, probabilities), predictions_path)
        metrics = evaluate.metrics_json(
            rows,
            probabilities,
            train_domain,
            test,
            seed,
            validation=validation,
            training=training,
            leakage=leakage,
            settings=p.settings,
            classes=p.classes,
            split_seed=p.split_seed,
            test_manifest=manifest,
            device=train.describe_device(device)["device"],
        )
        jobs.write_json(metrics, metrics_path)
        # The time in the evaluation loop, read by tools/benchmark/packed.py (the rest of the job is its fixed part).
        print(
            f"scored {len(rows)} images of {test} in {scoring_s:.3f} s:",
            json.dumps({k: metrics[k] for k in ("accuracy", "f1", "auroc")}),
        )
    clock.phase_done("evaluation")
    print(clock.timing_line())
end_job()  # outputs and log are closed: Python's shutdown would only tear down torch and scikit-learn
