# Fidelity, diversity and memorization of every synthetic domain that names its real reference
# (generated domains: their source; synthetic folders: `reference:` or generator_trained_on).


rule evaluate_fidelity:
    input:
        synthetic_images="results/prepared/{domain}/images.npy",
        synthetic_manifest="results/splits/{domain}.csv",
        real_images=lambda w: prepared("images", [fidelity_reference(w.domain)])[0],
        real_manifest=lambda w: prepared("manifest", [fidelity_reference(w.domain)])[0],
        # The study CNN trained on the real reference supplies the feature space.
        feature_model=lambda w: fidelity_feature_model(fidelity_reference(w.domain)),
    output:
        metrics="results/fidelity/{domain}.json",
        pairs="results/fidelity/{domain}_closest_pairs.npz",
    log:
        "results/logs/evaluate_fidelity/{domain}.log",
    benchmark:
        "results/benchmarks/evaluate_fidelity/{domain}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        # The two-sample test trains the study CNN exactly as the study does.
        settings={
            **config["fidelity"],
            "widths": config["training"]["widths"],
            "two_sample_batch_size": config["training"]["batch_size"],
            "two_sample_lr": config["training"]["lr"],
            "alpha": config["statistics"]["alpha"],
        },
        classes=CLASSES,
        device=config["device"],
        code=code(),
    script:
        "../../scripts/evaluate_fidelity.py"


rule summarize_fidelity:
    input:
        metrics=expand("results/fidelity/{domain}.json", domain=FIDELITY_DOMAINS),
        pairs=expand(
            "results/fidelity/{domain}_closest_pairs.npz", domain=FIDELITY_DOMAINS
        ),
    output:
        csv="results/fidelity/summary.csv",
        pairs=[
            report(
                f"results/fidelity/{domain}_closest_pairs.png",
                caption="../report/closest_pairs.rst",
                category=REPORT_CATEGORIES["Fidelity"],
                subcategory="Closest pairs (memorization)",
                labels={"domain": domain},
            )
            for domain in FIDELITY_DOMAINS
        ],
        pairs_pdf=expand(
            "results/fidelity/{domain}_closest_pairs.pdf", domain=FIDELITY_DOMAINS
        ),
        markdown=report(
            "results/fidelity/summary.md",
            caption="../report/fidelity_table.rst",
            category=REPORT_CATEGORIES["Fidelity"],
            subcategory="Overview",
            labels={"result": "fidelity table", "format": "Markdown"},
        ),
        html=report(
            "results/fidelity/summary.html",
            caption="../report/fidelity_table.rst",
            category=REPORT_CATEGORIES["Fidelity"],
            subcategory="Overview",
            labels={"result": "fidelity table", "format": "HTML"},
        ),
        figure_png=report(
            "results/figures/fidelity.png",
            caption="../report/fidelity.rst",
            category=REPORT_CATEGORIES["Fidelity"],
            subcategory="Overview",
            labels={"result": "fidelity figure", "format": "PNG"},
        ),
        figure_pdf="results/figures/fidelity.pdf",
    log:
        "results/logs/summarize_fidelity.log",
    # Light work: runs in the main Snakemake process, never queued on the cluster.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        domains=FIDELITY_DOMAINS,
        references=[fidelity_reference(d) for d in FIDELITY_DOMAINS],
        classes=CLASSES,
        alpha=config["statistics"]["alpha"],
        dpi=config["figures"]["dpi"],
        code=code(),
    script:
        "../../scripts/summarize_fidelity.py"
