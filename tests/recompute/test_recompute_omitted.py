"""An omitted argument is not an empty cell (Excel's cached values in the corpus files
GCD_LCM.xlsx, MROUND_TRUNC_INT.xlsx, FLOOR_CEILING.xlsx): ``MROUND(5,)`` is #N/A while
``MROUND(5,A1)`` with A1 empty is 0; ``FLOOR.PRECISE(5)`` takes the default significance 1
while ``FLOOR.PRECISE(5,A1)`` with A1 empty is 0."""

from __future__ import annotations

import pytest

from xlbridge.recompute.memory import compute
from xlbridge.xlvalues import ExcelError

NA = ExcelError("#N/A")


@pytest.mark.parametrize(("formula", "want"), [
    ("=MROUND(A9,)", NA), ("=MROUND(,5)", NA), ("=MROUND(7,A9)", 0.0),
    ("=GCD(,5,10)", NA), ("=LCM(,5)", NA), ("=GCD(A9,5,10)", 5.0), ("=LCM(A9,B1)", 5.0),
    ("=LCM(A9:B9)", 0.0), ("=GCD(A9:B9)", 0.0), ("=LCM(A9:B1)", 0.0),
    ("=FLOOR.PRECISE(7.5)", 7.0), ("=FLOOR.PRECISE(7.5,A9)", 0.0),
    ("=CEILING.PRECISE(7.5,A9)", 0.0), ("=CEILING.MATH(-7.5,A9)", 0.0),
    ("=CEILING.MATH(-7.5)", -7.0), ("=FLOOR.MATH(-7.5,,1)", -7.0),
    ("=ROUND(2.5,)", 3.0), ("=LEFT(\"abc\")", "a"), ("=LEFT(\"abc\",A9)", ""),
    ("=LOG(100,A9)", ExcelError("#NUM!")), ("=LOG(100)", 2.0),
])
def test_omitted_and_empty(formula: str, want: object) -> None:
    got = compute({"B1": 5, "Z1": formula})["Z1"]
    assert got == want, (formula, got)


@pytest.mark.parametrize(("formula", "want"), [
    ("=MROUND(10,1E-100)", 10.0), ("=MROUND(1E+100,1E+50)", 1e100),
    ("=MROUND(9.99999E+307,5)", 9.99999e307),
])
def test_mround_of_a_huge_quotient(formula: str, want: float) -> None:
    """Excel's cached values (MROUND_TRUNC_INT.xlsx); this was an internal error."""
    assert compute({"Z1": formula})["Z1"] == want
