"""Entry point of rule evaluate_model: test one trained model on one test split."""

import json

import numpy as np
import torch

from synthcxr.data import load_split
from synthcxr.evaluate import cell_metrics, metrics_at_validation_threshold, validation_threshold
from synthcxr.jobs import config_sha256, file_sha256, logged, package_versions, read_json, write_json
from synthcxr.model import StudyCNN
from synthcxr.predictions import prediction_rows, read_predictions, write_predictions
from synthcxr.train import describe_device, predict_proba, start_torch_job

with logged(snakemake.log[0]):
    p = snakemake.params
    device = start_torch_job(snakemake.threads, p.device)
    images, rows = load_split(snakemake.input.images, snakemake.input.manifest, "test")
    # Found by check_leakage for this pair before the evaluation (which stopped there with `leakage: error`).
    leakage = read_json(snakemake.input.leakage)
    leaked = leakage["test_images"][snakemake.wildcards.test]
    same_patients = leakage.get("test_images_of_training_patients", {}).get(snakemake.wildcards.test, [])
    model = StudyCNN(widths=tuple(p.settings["widths"]), image_size=images.shape[-1])
    model.load_state_dict(torch.load(snakemake.input.model, map_location="cpu", weights_only=True))
    # Rounded once, so the metrics equal what anyone recomputes from the predictions file.
    probabilities = np.round(predict_proba(model.to(device), images, device).astype(np.float64), 6)
    write_predictions(prediction_rows(rows, probabilities), snakemake.output.predictions)
    metrics = cell_metrics(rows, probabilities, p.classes)
    training = read_json(snakemake.input.history)
    threshold = validation_threshold(read_predictions(snakemake.input.validation))
    metrics["at_validation_threshold"] = metrics_at_validation_threshold(rows, probabilities, threshold)
    metrics["at_validation_threshold"]["chosen_on"] = (
        f"validation slice of the {snakemake.wildcards.train} train split ({training['validation_images']} images, "
        "not used for training); Youden's J"
    )
    metrics["train_test_overlap"] = {
        "images": len(leaked),
        "test_images": leaked,
        "patient_images": len(same_patients),
        "patient_test_images": same_patients,
    }
    metrics["provenance"] = {
        "train_domain": snakemake.wildcards.train,
        "test_domain": snakemake.wildcards.test,
        "seed": int(snakemake.wildcards.seed),
        "split_seed": p.split_seed,
        "settings": p.settings,
        "config_sha256": config_sha256(p.settings, p.classes, p.split_seed),
        "train_manifest_sha256": training["manifest_sha256"],
        "test_manifest_sha256": file_sha256(snakemake.input.manifest),
        "device": describe_device(device)["device"],
        "packages": package_versions(),
    }
    write_json(metrics, snakemake.output.metrics)
    print(json.dumps({k: metrics[k] for k in ("accuracy", "f1", "auroc")}))
