"""Entry point of rule summarize: the summary tables (means, sd, bootstrap intervals) and the run's provenance."""

from synthcxr import analysis, classifier_tables, jobs, summary

with jobs.logged(snakemake.log[0]):
    p = snakemake.params
    metrics = [jobs.read_json(path) for path in snakemake.input.metrics]
    metrics_of = classifier_tables.by_classifier(metrics, p.classifiers)
    predictions_of = classifier_tables.by_classifier(snakemake.input.predictions, p.classifiers)
    tables = {
        name: summary.study_tables(
            metrics_of[name],
            analysis.load_cells(predictions_of[name], p.cells),
            train_domains=p.train_domains,
            test_domains=p.test_domains,
            external=p.external,
            generator_saw_test=p.generator_saw_test,
            bootstrap=p.bootstrap,
        )
        for name in p.classifiers
    }
    by_seed = classifier_tables.with_classifier_column({name: pair[0] for name, pair in tables.items()})
    table = classifier_tables.with_classifier_column({name: pair[1] for name, pair in tables.items()})
    jobs.write_csv(by_seed, snakemake.output.by_seed)
    jobs.write_csv(table, snakemake.output.csv)
    trainings = {path: jobs.read_json(path) for path in snakemake.input.run_info}
    provenance = summary.provenance(snakemake.input.metrics, metrics, trainings, p.bootstrap)
    provenance["classifiers"] = classifier_tables.provenance_by_classifier(trainings)
    jobs.write_json(provenance, snakemake.output.provenance)
    print(table.to_string())
