"""Entry point of rule evaluate_fidelity: fidelity, diversity and memorisation of one synthetic domain
against its real reference domain.

snakemake.input: synthetic_images, synthetic_manifest (prepared cache of the synthetic domain; ALL its
    images, both splits, are used), real_images, real_manifest (the reference domain's cache: its train
    split = the generator's training images, its test split = held-out real images), feature_model
    (state_dict .pt of the reference domain's StudyCNN; widths are read from the weights)
snakemake.output: metrics (JSON), pairs (.npz of the closest synthetic/train pairs, drawn by summarize_fidelity)
snakemake.params: settings (dict, see synthcxr.fidelity.DEFAULT_SETTINGS: widths, two_sample_epochs,
    seed, n_boot, ...), classes (class names, label order), device ("auto" | "cpu" | "cuda")
"""

import json
import time

import numpy as np  # noqa: E402

from synthcxr.data import load_split  # noqa: E402
from synthcxr.fidelity import (
    closest_pairs,
    evaluate_fidelity,
    load_feature_model,
    resolve_settings,
)  # noqa: E402
from synthcxr.jobs import atomic_open, file_sha256, logged, package_versions, write_json  # noqa: E402
from synthcxr.manifest import read_manifest  # noqa: E402
from synthcxr.train import describe_device, start_torch_job  # noqa: E402

with logged(snakemake.log[0]):
    p = snakemake.params
    inp = snakemake.input
    started = time.time()
    device = start_torch_job(snakemake.threads, p.device)
    settings = resolve_settings(p.settings)

    synthetic = np.load(inp.synthetic_images)
    synthetic_rows = read_manifest(inp.synthetic_manifest)
    if len(synthetic) != len(synthetic_rows):
        raise ValueError(
            f"{inp.synthetic_images} has {len(synthetic)} images "
            f"but {inp.synthetic_manifest} lists {len(synthetic_rows)}"
        )
    synthetic_labels = np.array([row["label"] for row in synthetic_rows], dtype=np.int64)
    real_train, train_rows = load_split(inp.real_images, inp.real_manifest, "train")
    real_test, test_rows = load_split(inp.real_images, inp.real_manifest, "test")
    train_labels = np.array([row["label"] for row in train_rows], dtype=np.int64)
    test_labels = np.array([row["label"] for row in test_rows], dtype=np.int64)
    print(f"synthetic: {len(synthetic)} images; real: {len(real_train)} train, {len(real_test)} test")

    feature_model = load_feature_model(inp.feature_model, synthetic.shape[-1], device)
    metrics, details = evaluate_fidelity(
        synthetic,
        synthetic_labels,
        real_train,
        train_labels,
        real_test,
        test_labels,
        feature_model,
        settings,
        p.classes,
        device,
        log=print,
    )
    pairs = closest_pairs(synthetic, synthetic_labels, real_train, details, k=int(settings["closest_pairs"]))
    with atomic_open(snakemake.output.pairs, "wb") as handle:
        np.savez(handle, **pairs)
    metrics["provenance"] = {
        "synthetic_manifest_sha256": file_sha256(inp.synthetic_manifest),
        "real_manifest_sha256": file_sha256(inp.real_manifest),
        "feature_model_sha256": file_sha256(inp.feature_model),
        "device": describe_device(device)["device"],
        "packages": package_versions(),
    }
    write_json(metrics, snakemake.output.metrics)
    overall = metrics["groups"]["overall"]
    print(
        json.dumps(
            {
                "two_sample_auroc": (overall.get("two_sample") or {}).get("auroc"),
                "share_below_threshold": overall["memorization"]["share_below_threshold"],
            }
        )
    )
    print(f"done in {time.time() - started:.1f} s")
