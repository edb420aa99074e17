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


def spread(values: Sequence[float]) -> float:
    """(max - min) / min: 0.05 means the largest is 5% above the smallest ("flat within 5%")."""
    return (max(values) - min(values)) / min(values)


def fit_all(rows: Iterable[dict]) -> dict[str, dict]:
    """The fit of every engine with at least two measured lengths.

    {engine: {"exponent", "r_squared", "points", "peak_memory_spread"}}; the memory spread is over the same
    lengths, to tell a flat peak (a fixed-size state) from a growing one.
    """
    series: dict[str, list[dict]] = {}
    for row in rows:
        series.setdefault(row["engine"], []).append(row)
    fits = {}
    for engine, points in series.items():
        fit = fit_exponent([p["tokens"] for p in points], [p["seconds"] for p in points])
        if fit is not None:
            memory = [p["peak_memory_bytes"] for p in points if "peak_memory_bytes" in p]
            if memory and min(memory) > 0:
                fit["peak_memory_spread"] = spread(memory)
            fits[engine] = fit
    return fits
