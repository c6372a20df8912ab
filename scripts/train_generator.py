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
import time
from pathlib import Path

from synthcxr import data, generators, jobs, train

with jobs.logged(snakemake.log[0]):
    p, inputs, outputs = snakemake.params, snakemake.input, snakemake.output
    started = time.time()
    device = train.start_torch_job(snakemake.threads, p.device)
    settings = generators.resolve_settings(p.kind, p.settings)
    images, rows = data.load_split(inputs.images, inputs.manifest, "train")
    labels = [row["label"] for row in rows]
    print(generators.describe_training(p.kind, labels, settings))
    fingerprint = jobs.run_fingerprint([p.kind, settings, p.code], [inputs.images, inputs.manifest])
    grids = Path(outputs.progress)
    generators.write_progress_grid(images, labels, grids / "real.png", p.classes, "real training images")
    model, history = generators.train_generator(
        p.kind, images, labels, settings, device, p.checkpoint, fingerprint, progress_dir=grids, class_names=p.classes
    )
    generators.save_generator(model, p.kind, settings, outputs.model)
    generated, generated_labels = generators.sample(p.kind, model, int(p.per_class), settings["seed"], device)
    counts = generators.write_samples(generated, generated_labels, p.classes, outputs.samples)
    title = f"{p.kind}: final samples"
    generators.write_progress_grid(generated, generated_labels, grids / "final_samples.png", p.classes, title)
    # The outputs are the result now; a checkpoint left behind could only be resumed by mistake.
    Path(p.checkpoint).unlink(missing_ok=True)
    print(f"history: {json.dumps(history[-1])}")
    print(f"wrote {counts} images to {outputs.samples}; done in {time.time() - started:.1f} s")
