rule train_model:
    input:
        images=lambda w: prepared("images", train_sources(w.train)),
        manifests=lambda w: prepared("manifest", train_sources(w.train)),
        # Checked before the training: copies of its training images in its own sources' test splits.
        leakage=lambda w: leakage_checks(w.train, train_sources(w.train)),
        # With `leakage: error`: every other check of the study too, as an order, not an input.
        after_leakage_checks=after_every_leakage_check,
        # Nothing to read: forces this training when its model file is damaged.
        damaged=retrain_if_damaged,
    output:
        model="results/models/{classifier}/{train}/seed{seed}/model.pt",
        history="results/models/{classifier}/{train}/seed{seed}/history.json",
        run_info="results/models/{classifier}/{train}/seed{seed}/run_info.json",
        validation="results/models/{classifier}/{train}/seed{seed}/validation.csv",
    log:
        "results/logs/train_model/{classifier}/{train}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train_model/{classifier}/{train}/seed{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        sources=lambda w: train_sources(w.train),
        settings=training_settings,
        classifier=classifier_setup,
        classes=CLASSES,
        percent=100,
        split_seed=config["split_seed"],
        device=config["device"],
        # Outside the outputs on purpose: Snakemake deletes outputs of a failed job, not this.
        checkpoint="results/checkpoints/{classifier}/{train}/seed{seed}.pt",
        code=code(),
    script:
        "../../scripts/train_model.py"
