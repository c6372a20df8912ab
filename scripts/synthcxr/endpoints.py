"""The study's primary endpoint: one metric on one test split, tested apart from every other comparison.

Standard library only: the rule files read it at dry-run time.
"""

from synthcxr.catalog import COMPARED_METRICS

# Families of the comparison table's Holm corrections (comparisons.csv, column family).
PRIMARY, SECONDARY = "primary", "secondary"


def primary_endpoint(setting, *, test_domains, external, reference):
    """{metric, test} of the config's ``statistics.primary``, its defaults filled in and checked.

    Parameters
    ----------
    setting : dict
        The config's ``statistics.primary`` (keys ``metric`` and ``test``, each optional; ``test`` None
        means the default).
    test_domains : sequence of str
        The study's test splits.
    external : sequence of str
        Real external test sets that no generator learned from, in study order.
    reference : str
        The reference training domain.

    Returns
    -------
    endpoint : dict
        ``metric`` (default ``auroc``) and ``test`` (default: the first of ``external``, else ``reference``).

    Raises
    ------
    ValueError
        Naming the key, when the metric is not compared or the test split is not one of the study's.
    """
    metric = setting.get("metric") or "auroc"
    test = setting.get("test") or (external[0] if external else reference)
    if metric not in COMPARED_METRICS:
        raise ValueError(
            f"statistics.primary.metric: {metric!r} is not compared between training domains; "
            f"choose one of {list(COMPARED_METRICS)}"
        )
    if test not in test_domains:
        raise ValueError(
            f"statistics.primary.test: {test!r} is not a test split of this study; choose one of {list(test_domains)}"
        )
    return {"metric": metric, "test": test}


def family(test, metric, primary):
    """'primary' for the comparisons of the primary endpoint ``primary`` ({metric, test}), else 'secondary'."""
    return PRIMARY if primary and (test, metric) == (primary["test"], primary["metric"]) else SECONDARY
