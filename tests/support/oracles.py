"""Reference computations written from the textbook definitions, independent of synthcxr, to check it against."""

import numpy as np


def holm(p_values):
    """Holm (1979) step-down adjusted p-values by the definition: the i-th smallest of m p-values gets
    max over j <= i of min(1, (m - j + 1) p_(j)). NaN p-values are not tests and stay NaN."""
    p = np.asarray(p_values, dtype=float)
    tests = sorted((value, index) for index, value in enumerate(p) if not np.isnan(value))
    m = len(tests)
    adjusted = np.full(p.shape, np.nan)
    running = 0.0
    for rank, (value, index) in enumerate(tests, start=1):
        running = max(running, min(1.0, (m - rank + 1) * value))
        adjusted[index] = running
    return adjusted
