"""Entry point of rule summarize: the summary tables (means, sd, bootstrap intervals) and the run's provenance."""

from synthcxr import analysis, jobs, summary

with jobs.logged(snakemake.log[0]):
    p = snakemake.params
    metrics = [jobs.read_json(path) for path in snakemake.input.metrics]
    by_seed, table = summary.study_tables(
        metrics,
        analysis.load_cells(snakemake.input.predictions, p.cells),
        train_domains=p.train_domains,
        test_domains=p.test_domains,
        external=p.external,
        generator_saw_test=p.generator_saw_test,
        bootstrap=p.bootstrap,
    )
    jobs.write_csv(by_seed, snakemake.output.by_seed)
    jobs.write_csv(table, snakemake.output.csv)
    trainings = {path: jobs.read_json(path) for path in snakemake.input.run_info}
    jobs.write_json(
        summary.provenance(snakemake.input.metrics, metrics, trainings, p.bootstrap), snakemake.output.provenance
    )
    print(table.to_string())
