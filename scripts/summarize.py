"""Entry point of rule summarize: the summary tables and the run's provenance."""

import datetime

from synthcxr.jobs import code_version, logged, package_versions, read_json, repository_root, run_environment, write_json
from synthcxr.summary import by_seed_table, intake_table, leakage_lines, markdown_table, summary_table

with logged(snakemake.log[0]):
    p = snakemake.params
    metrics = [read_json(path) for path in snakemake.input.metrics]
    by_seed = by_seed_table(metrics, p.train_domains, p.test_domains)
    summary = summary_table(by_seed)
    by_seed.to_csv(snakemake.output.by_seed, index=False)
    summary.to_csv(snakemake.output.csv, index=False)
    intake = intake_table([read_json(path) for path in snakemake.input.intake])
    seeds = sorted(by_seed["seed"].unique().tolist())
    with open(snakemake.output.markdown, "w") as out:
        out.write("# Cross-domain results\n\n")
        out.write(
            f"Each row: a CNN trained on `train`, tested on the held-out test split of `test`; mean ± standard "
            f"deviation over seeds {seeds}. PNEUMONIA is the positive class; `majority_baseline_accuracy` is the "
            "accuracy of always predicting the test split's majority class. Research use only, not for diagnosis.\n\n"
        )
        out.write(markdown_table(summary) + "\n\n## Data intake\n\n" + intake.to_markdown(index=False) + "\n")
        out.write("\n## Leakage between domains\n\n" + "\n".join(leakage_lines(summary)) + "\n")
    write_json(
        {
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "environment": run_environment(),
            "code_version": code_version(repository_root()),
            "packages": package_versions(),
            "trainings": {path: read_json(path) for path in snakemake.input.run_info},
            "cells": [
                {"metrics": path, "provenance": m["provenance"]} for path, m in zip(snakemake.input.metrics, metrics)
            ],
        },
        snakemake.output.provenance,
    )
    print(summary.to_string())
