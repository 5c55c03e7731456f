"""Rounding identical to Excel's ROUND; floats read the way Excel shows them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlbridge.arith import RoundingMode, excel_round, fmt, from_float, round_decimal


@pytest.mark.parametrize(("value", "digits", "expected"), [
    # Excel: =ROUND(89.95,1) → 90; =ROUND(89.94,1) → 89.9; half away from zero, not to even
    (89.95, 1, "90.0"), (89.94, 1, "89.9"), (0.5, 0, "1"), (1.5, 0, "2"), (2.5, 0, "3"),
    (-2.5, 0, "-3"), (-0.05, 1, "-0.1"), (0.125, 2, "0.13"), (2.675, 2, "2.68"),
    (1.005, 2, "1.01"), (1234.5, -1, "1230"), (1235, -1, "1240"), (-1235, -1, "-1240"),
    (0.1 + 0.2, 1, "0.3"), (0.1 + 0.2, 15, "0.300000000000000"), (84.45, 1, "84.5"),
    (74.95, 1, "75.0"), (59.995, 2, "60.00"),
])
def test_round_matches_excel(value, digits, expected):
    assert excel_round(value, digits) == D(expected)


def test_python_round_would_be_wrong_here():
    # the reason this module exists: Python's round() is half-to-even and binary
    assert round(2.5) == 2 and round(2.675, 2) == 2.67
    assert excel_round(2.5) == 3 and excel_round(2.675, 2) == D("2.68")


@pytest.mark.parametrize(("mode", "expected"), [
    (RoundingMode.half_up, "-2.6"), (RoundingMode.up, "-2.6"), (RoundingMode.down, "-2.5"),
    (RoundingMode.half_even, "-2.6"), (RoundingMode.floor, "-2.6"),
    (RoundingMode.ceiling, "-2.5"),
])
def test_declared_modes(mode, expected):
    assert round_decimal(D("-2.55"), 1, mode) == D(expected)


def test_from_float_reads_fifteen_significant_digits():
    assert from_float(0.1 + 0.2) == D("0.3")
    assert from_float(89.95) == D("89.95")
    assert from_float(1e-20) == D("1E-20")
    assert from_float(100.0) == D(100)
    with pytest.raises(ValueError):
        from_float(float("nan"))


def test_fmt_has_no_exponent_or_trailing_zeros():
    assert fmt(D("1E+2")) == "100"
    assert fmt(D("90.10")) == "90.1"
    assert fmt(D("90"), 2) == "90.00"
    assert fmt(None) == "—"


@given(st.decimals(min_value=-10**6, max_value=10**6, places=4, allow_nan=False),
       st.integers(min_value=0, max_value=3))
def test_half_away_from_zero_reference(x, digits):
    # Reference definition of Excel's ROUND: sign(x) × floor(|x| × 10^d + 0.5) / 10^d
    scale = D(10) ** digits
    magnitude = (abs(x) * scale + D("0.5")).to_integral_value(rounding="ROUND_FLOOR") / scale
    expected = magnitude if x >= 0 else -magnitude
    assert round_decimal(x, digits) == expected


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_from_float_round_trips_through_excel_display(f):
    # Excel shows a double with 15 significant digits; reading it back gives the same double
    d = from_float(f)
    assert float(d) == float(format(f, ".15g"))
