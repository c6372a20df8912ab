"""Entry point of rule train_model: train the study CNN on one training domain and seed."""

import hashlib
import json
import time

import torch

from synthcxr.data import file_digest, load_union
from synthcxr.jobs import logged, package_versions, write_json
from synthcxr.train import describe_device, pick_device, train_model

with logged(snakemake.log[0]):
    p = snakemake.params
    started = time.time()
    torch.set_num_threads(snakemake.threads)
    torch.use_deterministic_algorithms(True)
    device = pick_device(p.device)
    print(f"device: {json.dumps(describe_device(device))}")
    images, rows = load_union(snakemake.input.images, snakemake.input.manifests, "train")
    labels = [row["label"] for row in rows]
    print(f"training {snakemake.wildcards.train} (seed {p.settings['seed']}) on {len(rows)} images from {p.sources}")
    manifest_hashes = {src: file_digest(m) for src, m in zip(p.sources, snakemake.input.manifests)}
    # The checkpoint is resumed only by a run with the same settings and training data.
    fingerprint = hashlib.sha256(json.dumps([p.settings, manifest_hashes], sort_keys=True).encode()).hexdigest()
    model, history = train_model(images, labels, p.settings, device, p.checkpoint, fingerprint, log=print)
    torch.save(model.state_dict(), snakemake.output.model)
    write_json(
        {
            "train_domain": snakemake.wildcards.train,
            "sources": p.sources,
            "settings": p.settings,
            "train_images": len(rows),
            "train_images_per_class": {str(k): labels.count(k) for k in sorted(set(labels))},
            "manifest_sha256": manifest_hashes,
            "history": history,
            "device": describe_device(device)["device"],
            "packages": package_versions(),
        },
        snakemake.output.history,
    )
    print(f"done in {time.time() - started:.1f} s")
