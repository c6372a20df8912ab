# The volume curve (config `volume:`): the same training on nested parts of a domain's train split,
# tested on every test split, so users see how utility grows with the amount of (synthetic) data.
# 100% is the main training; the rules below train and test only the smaller parts.


use rule train_model as train_model_on_part with:
    output:
        model="results/volume/models/{classifier}/{train}/pct{percent}/seed{seed}/model.pt",
        history="results/volume/models/{classifier}/{train}/pct{percent}/seed{seed}/history.json",
        run_info="results/volume/models/{classifier}/{train}/pct{percent}/seed{seed}/run_info.json",
        validation="results/volume/models/{classifier}/{train}/pct{percent}/seed{seed}/validation.csv",
    log:
        "results/logs/train_model_on_part/{classifier}/{train}/pct{percent}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train_model_on_part/{classifier}/{train}/pct{percent}/seed{seed}.tsv"
    params:
        sources=lambda w: train_sources(w.train),
        settings=training_settings,
        classifier=classifier_setup,
        classes=CLASSES,
        percent=lambda w: int(w.percent),
        split_seed=config["split_seed"],
        device=config["device"],
        checkpoint="results/checkpoints/volume/{classifier}/{train}/pct{percent}/seed{seed}.pt",
        code=rules.train_model.params.code,


use rule evaluate_model as evaluate_model_on_part with:
    input:
        model="results/volume/models/{classifier}/{train}/pct{percent}/seed{seed}/model.pt",
        history="results/volume/models/{classifier}/{train}/pct{percent}/seed{seed}/history.json",
        validation="results/volume/models/{classifier}/{train}/pct{percent}/seed{seed}/validation.csv",
        images=prepared("images", TEST_DOMAINS),
        manifests=prepared("manifest", TEST_DOMAINS),
        leakage=lambda w: leakage_checks(w.train, TEST_DOMAINS),
    output:
        metrics=expand(
            "results/volume/metrics/{{classifier}}/{{train}}/pct{{percent}}/{test}/seed{{seed}}.json",
            test=TEST_DOMAINS,
        ),
        predictions=expand(
            "results/volume/predictions/{{classifier}}/{{train}}/pct{{percent}}/{test}/seed{{seed}}.csv",
            test=TEST_DOMAINS,
        ),
    log:
        "results/logs/evaluate_model_on_part/{classifier}/{train}/pct{percent}/seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate_model_on_part/{classifier}/{train}/pct{percent}/seed{seed}.tsv"


rule plot_volume_curve:
    input:
        metrics=volume_files("metrics"),
        predictions=volume_files("predictions"),
        histories=volume_files("history"),
    output:
        csv="results/volume/summary.csv",
        figure_png=report(
            "results/figures/volume_curve.png",
            caption="../report/volume_curve.rst",
            category=REPORT_CATEGORIES["Figures"],
            subcategory=FIGURE_SUBCATEGORIES["volume_curve"],
            labels={"figure": "volume curve"},
        ),
        figure_pdf="results/figures/volume_curve.pdf",
    log:
        "results/logs/plot_volume_curve.log",
    # Light work: runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        cells=volume_cells(),
        bootstrap=bootstrap_settings("interval_resamples"),
        style=config["figures"],
        code=code(),
    script:
        "../../scripts/plot_volume_curve.py"
