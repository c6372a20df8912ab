"""Entry point of rule evaluate_model: test one trained model on one test split."""

import json

import numpy as np
import torch

from synthcxr import evaluate, jobs, predictions
from synthcxr.data import load_split
from synthcxr.model import StudyCNN
from synthcxr.train import describe_device, predict_proba, start_torch_job

with jobs.logged(snakemake.log[0]):
    p = snakemake.params
    train, test, seed = snakemake.wildcards.train, snakemake.wildcards.test, snakemake.wildcards.seed
    device = start_torch_job(snakemake.threads, p.device)
    images, rows = load_split(snakemake.input.images, snakemake.input.manifest, "test")
    # Found by check_leakage for this pair before the evaluation (which stopped there with `leakage: error`).
    leakage = jobs.read_json(snakemake.input.leakage)
    model = StudyCNN(widths=tuple(p.settings["widths"]), image_size=images.shape[-1])
    model.load_state_dict(torch.load(snakemake.input.model, map_location="cpu", weights_only=True))
    # Rounded once, so the metrics equal what anyone recomputes from the predictions file.
    probabilities = np.round(predict_proba(model.to(device), images, device).astype(np.float64), 6)
    predictions.write_predictions(predictions.prediction_rows(rows, probabilities), snakemake.output.predictions)
    metrics = evaluate.cell_metrics(rows, probabilities, p.classes)
    training = jobs.read_json(snakemake.input.history)
    metrics["at_validation_threshold"] = evaluate.at_validation_threshold(
        rows,
        probabilities,
        predictions.read_predictions(snakemake.input.validation),
        train,
        training["validation_images"],
    )
    metrics["train_test_overlap"] = evaluate.leaked_test_images(leakage, test)
    metrics["provenance"] = evaluate.cell_provenance(
        train,
        test,
        seed,
        settings=p.settings,
        classes=p.classes,
        split_seed=p.split_seed,
        training=training,
        test_manifest=snakemake.input.manifest,
        device=describe_device(device)["device"],
    )
    jobs.write_json(metrics, snakemake.output.metrics)
    print(json.dumps({k: metrics[k] for k in ("accuracy", "f1", "auroc")}))
