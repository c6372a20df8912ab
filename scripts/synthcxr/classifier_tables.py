"""Results per classifier (config ``classifiers:``): the tables of every classifier in one, and whether the
classifiers agree.

With ONE classifier every function here returns what the single-classifier study always wrote (no
``classifier`` column, no agreement section), so a study of the study CNN alone keeps its bytes. With several,
the tables gain a first column ``classifier``; each training domain is compared with the reference domain
trained with the same classifier, and Holm's correction runs over the whole table (every classifier's rows).
Figures and the report's tables show each (classifier, training domain) as one row, labelled by
:func:`row_label`.

The rules list the input files classifier by classifier, each in the order of the cell keys
(common.smk: metric_files); :func:`by_classifier` splits such a list again.
"""

import pandas as pd

from synthcxr.analysis import comparison_rows, comparison_table, holm_corrected_table, load_cells
from synthcxr.catalog import LABELS

CLASSIFIER = "classifier"  # the column of every table with several classifiers


def by_classifier(items, classifiers):
    """``items`` (classifier by classifier, equal parts) as {classifier: its part}, in the order given.

    Raises ValueError when ``items`` does not divide into ``len(classifiers)`` equal parts.
    """
    if not classifiers or len(items) % len(classifiers):
        raise ValueError(f"{len(items)} files do not divide into the parts of {len(classifiers)} classifier(s)")
    size = len(items) // len(classifiers)
    return {name: list(items[index * size : (index + 1) * size]) for index, name in enumerate(classifiers)}


def with_classifier_column(tables):
    """{classifier: table} as one table; with one classifier its table as it is (no classifier column)."""
    if len(tables) == 1:
        return next(iter(tables.values()))
    parts = [table.assign(**{CLASSIFIER: name}) for name, table in tables.items()]
    combined = pd.concat(parts, ignore_index=True)
    return combined[[CLASSIFIER, *[column for column in combined.columns if column != CLASSIFIER]]]


def cells_by_classifier(predictions, keys, classifiers):
    """{classifier: cells (:func:`synthcxr.analysis.load_cells`)} from the predictions files of every
    classifier; ``keys``: the (train, test, seed) of one classifier's files."""
    return {name: load_cells(paths, keys) for name, paths in by_classifier(predictions, classifiers).items()}


def comparisons_by_classifier(cells, reference, train_domains, test_domains, *, primary=None, **bootstrap):
    """The comparison table: each training domain against ``reference`` trained with the same classifier.

    ``cells``: {classifier: cells}. One classifier: :func:`synthcxr.analysis.comparison_table` as ever. Several:
    its rows for every classifier, Holm-corrected as ONE table (within each family, across classifiers), with
    the classifier as first column.
    """
    if len(cells) == 1:
        only = next(iter(cells.values()))
        return comparison_table(only, reference, train_domains, test_domains, primary=primary, **bootstrap)
    rows, names = [], []
    for name, classifier_cells in cells.items():
        found = comparison_rows(classifier_cells, reference, train_domains, test_domains, **bootstrap)
        rows += found
        names += [name] * len(found)
    table = holm_corrected_table(rows, bootstrap["alpha"], primary)
    table.insert(0, CLASSIFIER, names)
    return table


def row_label(train, classifier):
    """How figures and the report's tables name a (classifier, training domain) row with several classifiers."""
    return f"{train} [{classifier}]"


def labelled_rows(table, columns=("train", "reference")):
    """A table with a classifier column as the single-classifier tables are: each of ``columns`` present
    relabelled by :func:`row_label`, the classifier column dropped. A table without one is returned as it is."""
    if CLASSIFIER not in table:
        return table
    table = table.copy()
    for column in columns:
        if column in table:
            table[column] = [row_label(value, name) for value, name in zip(table[column], table[CLASSIFIER])]
    return table.drop(columns=CLASSIFIER)


def labelled_trains(train_domains, classifiers):
    """The row order of figures and tables: with several classifiers, every training domain of each in turn."""
    if len(classifiers) == 1:
        return list(train_domains)
    return [row_label(train, name) for name in classifiers for train in train_domains]


def labelled_cells(cells):
    """{classifier: cells} as one {(row label, test): cell}; with one classifier its cells as they are."""
    several = len(cells) > 1
    return {
        (row_label(train, name) if several else train, test): cell
        for name, classifier_cells in cells.items()
        for (train, test), cell in classifier_cells.items()
    }


def label_trainings(records, classifiers, holder=lambda record: record):
    """``records`` (dicts, classifier by classifier as :func:`by_classifier` splits them), each one's
    ``train_domain`` (a key of ``holder(record)``) relabelled by :func:`row_label` where there are several
    classifiers; changed in place and returned."""
    if len(classifiers) > 1:
        for name, part in by_classifier(records, classifiers).items():
            for record in part:
                holder(record)["train_domain"] = row_label(holder(record)["train_domain"], name)
    return records


def first_classifier_rows(table, classifiers):
    """The rows of the first classifier, without the classifier column (the findings' headline is about it)."""
    if CLASSIFIER not in table:
        return table
    return table[table[CLASSIFIER] == classifiers[0]].drop(columns=CLASSIFIER).reset_index(drop=True)


def direction(row):
    """'higher', 'lower' or 'equal': the sign of a comparison row's difference from the reference."""
    if pd.isna(row["difference"]) or row["difference"] == 0:
        return "equal"
    return "higher" if row["difference"] > 0 else "lower"


def agreement_cell(row):
    """One classifier's comparison in the agreement table: direction and difference, '*' where significant
    (words first, so that no table renderer reads the cell as a number)."""
    if pd.isna(row["difference"]):
        return "n/a"
    return f"{direction(row)} {row['difference']:+.3f}" + ("*" if bool(row["significant"]) else "")


def agreement_table(comparisons, metric):
    """Per training domain and test split: each classifier's difference from the reference in ``metric``, and
    whether all classifiers agree on its direction and on its significance. Columns: training domain, test
    split, one per classifier, agree ('yes' or 'no')."""
    rows = comparisons[comparisons["metric"] == metric]
    classifiers = list(dict.fromkeys(rows[CLASSIFIER]))
    lines = []
    for (train, test), pair in rows.groupby(["train", "test"], sort=False):
        by_name = {row[CLASSIFIER]: row for _, row in pair.iterrows()}
        verdicts = {(direction(row), bool(row["significant"])) for row in by_name.values()}
        line = {"training domain": train, "test split": test}
        line |= {name: agreement_cell(by_name[name]) if name in by_name else "n/a" for name in classifiers}
        line["agree"] = "yes" if len(verdicts) == 1 and len(by_name) == len(classifiers) else "no"
        lines.append(line)
    return pd.DataFrame(lines, columns=["training domain", "test split", *classifiers, "agree"])


def agreement_sections(comparisons, metric, alpha):
    """The findings' section on whether the classifiers tell the same story; [] with one classifier.

    Per training domain and test split, whether every classifier's difference from the reference (trained with
    the same classifier) in ``metric`` has the same direction and the same significance (Holm-adjusted, at
    ``alpha``), with the cells where they disagree named.
    """
    if CLASSIFIER not in comparisons or comparisons[CLASSIFIER].nunique() < 2:
        return []
    table = agreement_table(comparisons, metric)
    classifiers = [c for c in table.columns if c not in ("training domain", "test split", "agree")]
    disagree = table[table["agree"] == "no"]
    label = LABELS.get(metric, metric)
    intro = (
        f"Each classifier ({', '.join(classifiers)}) was trained on every training domain; each domain is compared "
        f"with the reference domain trained with the same classifier. The table gives the difference in {label} "
        f"from the reference per classifier (`*`: significant after Holm's correction over the whole comparison "
        f"table, alpha {alpha}); the classifiers agree on a cell when every difference has the same direction and "
        f"the same significance. The findings above are those of the first classifier, {classifiers[0]}."
    )
    if disagree.empty:
        verdict = f"The classifiers agree on every training domain and test split in {label}."
    else:
        cells = [f"{row['training domain']} on {row['test split']}" for _, row in disagree.iterrows()]
        verdict = (
            f"The classifiers disagree in {label} on {len(cells)} of {len(table)} cells: {'; '.join(cells)}. "
            "There, the conclusion depends on the classifier."
        )
    return [("Do the classifiers agree?", [intro, verdict, table])]


def provenance_by_classifier(trainings):
    """{classifier name: architecture, parameters, weights (sha256 or 'random init'), weights_file, settings}
    from the trainings' run_info (``trainings``: {path: run_info}), once per classifier (first training)."""
    found = {}
    for run_info in trainings.values():
        record = run_info.get("classifier")
        if record and record["name"] not in found:
            found[record["name"]] = {key: value for key, value in record.items() if key != "name"}
    return found
