"""Entry point of rule evaluate_fidelity: fidelity, diversity and memorisation of one synthetic domain
against its real reference domain.

snakemake.input: synthetic_images, synthetic_manifest (prepared cache of the synthetic domain; ALL its
    images, both splits, are used), real_images, real_manifest (the reference domain's cache: its train
    split = the generator's training images, its test split = held-out real images), feature_model
    (state_dict .pt of the reference domain's StudyCNN; widths are read from the weights)
snakemake.output: metrics (JSON), pairs (.npz of the closest synthetic/train pairs, drawn by summarize_fidelity)
snakemake.params: settings (dict, every one of synthcxr.fidelity_measures.SETTINGS: widths, two_sample_epochs,
    seed, n_boot, ...), classes (class names, label order), device ("auto" | "cpu" | "cuda")
"""

import time

import numpy as np

from synthcxr import fidelity_files
from synthcxr.jobs import atomic_open, logged, write_json
from synthcxr.train import start_torch_job

with logged(snakemake.log[0]):
    p = snakemake.params
    started = time.time()
    device = start_torch_job(snakemake.threads, p.device)
    metrics, pairs = fidelity_files.evaluate_files(snakemake.input, p.settings, p.classes, device, log=print)
    with atomic_open(snakemake.output.pairs, "wb") as handle:
        np.savez(handle, **pairs)
    write_json(metrics, snakemake.output.metrics)
    print(fidelity_files.headline(metrics))
    print(f"done in {time.time() - started:.1f} s")
