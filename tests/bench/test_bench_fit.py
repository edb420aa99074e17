"""The scaling exponent: least squares on log-log, checked on data with a known exponent."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssmdoc.bench import fit_all, fit_exponent


@pytest.mark.parametrize("k", [0.5, 1.0, 1.5, 2.0])
def test_exact_power_law_gives_its_exponent(k):
    tokens = [4096, 16384, 65536, 262144]
    fit = fit_exponent(tokens, [3e-5 * t**k for t in tokens])
    assert fit["exponent"] == pytest.approx(k, abs=1e-9)
    assert fit["r_squared"] == pytest.approx(1.0)
    assert fit["points"] == 4


@given(k=st.floats(0.1, 3.0), c=st.floats(1e-6, 1e3), first=st.integers(1, 1000))
def test_recovers_any_exponent_and_ignores_the_constant(k, c, first):
    tokens = [first * 2**i for i in range(5)]
    assert fit_exponent(tokens, [c * t**k for t in tokens])["exponent"] == pytest.approx(k, rel=1e-6)


def test_noisy_data_is_a_least_squares_slope_not_the_end_points():
    # log-log points (0,0), (1,1), (2,3): the least-squares slope is 1.5, the end-to-end slope also 1.5;
    # (0,0), (1,2), (2,2): least squares gives 1.0 while first-to-last would too; use an asymmetric one
    tokens = [math.e**0, math.e**1, math.e**2, math.e**3]
    seconds = [math.e**0, math.e**2, math.e**2, math.e**3]
    # x = 0..3, y = 0,2,2,3: slope = sum((x-1.5)(y-1.75)) / sum((x-1.5)^2) = 4.5 / 5 = 0.9
    assert fit_exponent(tokens, seconds)["exponent"] == pytest.approx(0.9)


def test_fewer_than_two_lengths_has_no_fit():
    assert fit_exponent([4096], [1.0]) is None
    assert fit_exponent([4096, 4096], [1.0, 2.0]) is None
    assert fit_exponent([], []) is None


def test_fit_all_groups_rows_by_engine():
    rows = [{"engine": "a", "tokens": t, "seconds": t * 1e-3} for t in (10, 100, 1000)]
    rows += [{"engine": "b", "tokens": t, "seconds": (t * 1e-3) ** 2} for t in (10, 100)]
    rows += [{"engine": "c", "tokens": 10, "seconds": 1.0}]
    fits = fit_all(rows)
    assert fits["a"]["exponent"] == pytest.approx(1.0)
    assert fits["b"]["exponent"] == pytest.approx(2.0)
    assert "c" not in fits
