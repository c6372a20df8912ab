"""Entry point of rule summarize: the summary tables (means, sd, bootstrap intervals) and the run's provenance."""

import datetime

from synthcxr.analysis import INTERVAL_RESAMPLING, interval_table, load_cells
from synthcxr.jobs import (
    code_version,
    logged,
    package_versions,
    read_json,
    repository_root,
    run_environment,
    write_csv,
    write_json,
)
from synthcxr.summary import by_seed_table, mark_test_roles, summary_table

with logged(snakemake.log[0]):
    p = snakemake.params
    metrics = [read_json(path) for path in snakemake.input.metrics]
    by_seed = by_seed_table(metrics, p.train_domains, p.test_domains)
    cells = load_cells(snakemake.input.predictions, snakemake.params.cells)
    intervals = interval_table(cells, **p.bootstrap)
    summary = mark_test_roles(summary_table(by_seed, intervals), p.external, p.generator_saw_test)
    write_csv(by_seed, snakemake.output.by_seed)
    write_csv(summary, snakemake.output.csv)
    write_json(
        {
            "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "environment": run_environment(),
            "code_version": code_version(repository_root()),
            "packages": package_versions(),
            "statistics": {"intervals": dict(p.bootstrap, resampling=INTERVAL_RESAMPLING)},
            "trainings": {path: read_json(path) for path in snakemake.input.run_info},
            "cells": [
                {"metrics": path, "provenance": m["provenance"]} for path, m in zip(snakemake.input.metrics, metrics)
            ],
        },
        snakemake.output.provenance,
    )
    print(summary.to_string())
