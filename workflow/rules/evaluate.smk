# One job per trained model, scoring it on every test split: the process start, imports, torch set-up and
# model load (seconds, more than the scoring of a test split) are paid once per model, not once per cell.
# Adding or changing a test domain re-evaluates each model once.
rule evaluate_model:
    input:
        model="results/models/{classifier}/{train}/seed{seed}/model.pt",
        history="results/models/{classifier}/{train}/seed{seed}/history.json",
        validation="results/models/{classifier}/{train}/seed{seed}/validation.csv",
        images=prepared("images", TEST_DOMAINS),
        manifests=prepared("manifest", TEST_DOMAINS),
        # Per (training, test) pair, in the order of TEST_DOMAINS: with `leakage: error` a pair stops here.
        leakage=lambda w: leakage_checks(w.train, TEST_DOMAINS),
    output:
        metrics=expand(
            "results/metrics/{{classifier}}/{{train}}/{test}/seed{{seed}}.json",
            test=TEST_DOMAINS,
        ),
        predictions=expand(
            "results/predictions/{{classifier}}/{{train}}/{test}/seed{{seed}}.csv",
            test=TEST_DOMAINS,
        ),
    log:
        "results/logs/evaluate_model/{classifier}/{train}/seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate_model/{classifier}/{train}/seed{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        tests=TEST_DOMAINS,
        settings=training_settings,
        classifier=classifier_setup,
        classes=CLASSES,
        split_seed=config["split_seed"],
        device=config["device"],
        code=code(),
    script:
        "../../scripts/evaluate_model.py"
