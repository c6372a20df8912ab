"""How the statistics read in words: an interval's coverage and level, a p-value at the floor of its bootstrap.

Apart from synthcxr.analysis (the numbers), so that an edit to this wording reruns only the rules that write
words (report_tables and the figures' titles), never the bootstrap of summarize or compare_domains.
"""

import math

import pandas as pd

from synthcxr.stats import MIN_DOMAIN_SEEDS, bootstrap_p_floor, seed_level


def interval_label(alpha):
    """'95%' for alpha = 0.05: the coverage of the intervals, as the tables and findings name it."""
    return f"{100 * (1 - alpha):g}%"


def interval_level_text(n_seeds):
    """What a cell interval covers, in brief (figure titles): by the level of ``n_seeds`` (None: unknown)."""
    if n_seeds is None:
        return "domain-level from 3 seeds per cell, model-level below"
    if seed_level(n_seeds) == "domain":
        return "domain-level: test patient groups and seeds"
    return f"model-level: test patient groups only, {n_seeds} seed(s)"


def cell_interval_text(alpha, n_seeds):
    """What a cell interval is: '95% domain-level interval (...)' from 3 seeds, '95% model-level interval
    (...)' below (:func:`synthcxr.stats.seed_level`)."""
    if seed_level(n_seeds) == "domain":
        return (
            f"{interval_label(alpha)} domain-level interval (test patient groups resampled with the seed models "
            "fixed, plus the seeds' variance, t-calibrated)"
        )
    return (
        f"{interval_label(alpha)} model-level interval (test patient groups resampled, the {n_seeds} seed "
        f"model{'s' if n_seeds > 1 else ''} fixed: fewer than {MIN_DOMAIN_SEEDS} seeds, so it says nothing "
        "about other seeds)"
    )


def at_p_floor(p_value, n_boot):
    """Whether a bootstrap p-value is the smallest ``n_boot`` replicates can give (the true one may be smaller)."""
    return not pd.isna(p_value) and p_value <= bootstrap_p_floor(n_boot) * (1 + 1e-9)


def p_floor_text(n_boot):
    """The floor of :func:`at_p_floor` rounded up to 2 significant digits ('0.0004' for 5000), so that 'p < x' holds."""
    floor = bootstrap_p_floor(n_boot)
    scale = 10 ** (1 - math.floor(math.log10(floor)))
    return f"{math.ceil(floor * scale) / scale:g}"


def p_value_text(p_value, n_boot, name="", raw_p_value=None):
    """A p-value as tables and findings print it: '0.0123'; '< 0.0004' at the floor of a bootstrap of
    ``n_boot`` replicates. An adjusted p-value (``raw_p_value`` given) whose raw p-value is at the floor is
    an upper bound: '≤ 0.0144'. With ``name``: 'p = 0.0123', 'p < 0.0004'. CSV files keep the numbers.
    """
    if pd.isna(p_value):
        relation, number = "=", "n/a"
    elif raw_p_value is None and at_p_floor(p_value, n_boot):
        relation, number = "<", p_floor_text(n_boot)
    elif raw_p_value is not None and at_p_floor(raw_p_value, n_boot):
        relation, number = "≤", f"{p_value:.4f}"
    else:
        relation, number = "=", f"{p_value:.4f}"
    if name:
        return f"{name} {relation} {number}"
    return number if relation == "=" else f"{relation} {number}"
