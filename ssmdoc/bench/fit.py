"""The scaling exponent: least-squares slope of log(seconds) against log(tokens), per engine.

Time ~ c * tokens^k; k = 1 is linear (a recurrent scan), k -> 2 is the quadratic term of attention taking over.
At short lengths fixed costs (weights, Python overhead) flatten the curve, so k below 1 means "overhead-bound",
not "better than linear".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def fit_exponent(tokens: Sequence[float], seconds: Sequence[float]) -> dict | None:
    """{"exponent": k, "r_squared": r2, "points": n} for log s = k log t + b; None with fewer than 2 lengths.

    Points with a non-positive value are left out (a log cannot take them).
    """
    pairs = [(math.log(t), math.log(s)) for t, s in zip(tokens, seconds, strict=True) if t > 0 and s > 0]
    if len({x for x, _ in pairs}) < 2:
        return None
    n = len(pairs)
    mean_x = sum(x for x, _ in pairs) / n
    mean_y = sum(y for _, y in pairs) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    syy = sum((y - mean_y) ** 2 for _, y in pairs)
    k = sxy / sxx
    # r^2 of a fit to identical times is undefined; report 1.0 (the line through them is exact)
    r2 = 1.0 if syy == 0 else (sxy * sxy) / (sxx * syy)
    return {"exponent": k, "r_squared": r2, "points": n}


def fit_all(rows: Iterable[dict]) -> dict[str, dict]:
    """The fit of every engine with at least two measured lengths: {engine: {"exponent", "r_squared", "points"}}."""
    series: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        series.setdefault(row["engine"], []).append((row["tokens"], row["seconds"]))
    fits = {}
    for engine, points in series.items():
        fit = fit_exponent([t for t, _ in points], [s for _, s in points])
        if fit is not None:
            fits[engine] = fit
    return fits
