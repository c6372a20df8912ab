rule evaluate_model:
    input:
        model="results/models/{train}/seed{seed}/model.pt",
        history="results/models/{train}/seed{seed}/history.json",
        validation="results/models/{train}/seed{seed}/validation.csv",
        images="results/prepared/{test}/images.npy",
        manifest="results/splits/{test}.csv",
        leakage="results/leakage/{train}/{test}.json",
    output:
        metrics="results/metrics/{train}/{test}/seed{seed}.json",
        predictions="results/predictions/{train}/{test}/seed{seed}.csv",
    log:
        "results/logs/evaluate_model/{train}/{test}/seed{seed}.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        settings=training_settings,
        classes=CLASSES,
        split_seed=config["split_seed"],
        device=config["device"],
        code=code("data", "evaluate", "jobs", "predictions", "train"),
    script:
        "../../scripts/evaluate_model.py"
