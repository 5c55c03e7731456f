"""LINEST, LOGEST, TREND, GROWTH: the examples of Excel's documentation (the corpus files
LINEST_LOGEST.xlsx and TREND_GROWTH.xlsx check them against Excel's cached values)."""

from __future__ import annotations

import pytest

from xlbridge.recompute.memory import compute

# LINEST's page: known_y's {1,9,5,7}, known_x's {0,4,2,3} → slope 2, intercept 1
CELLS = {"A1": 1, "A2": 9, "A3": 5, "A4": 7, "B1": 0, "B2": 4, "B3": 2, "B4": 3,
         # LOGEST's/GROWTH's page: units sold by month 11–16
         "C1": 33100, "C2": 47300, "C3": 69000, "C4": 102000, "C5": 150000, "C6": 220000,
         "D1": 11, "D2": 12, "D3": 13, "D4": 14, "D5": 15, "D6": 16}

CASES = [
    ("=INDEX(LINEST(A1:A4,B1:B4),1,1)", 2.0, 1e-12), ("=INDEX(LINEST(A1:A4,B1:B4),1,2)", 1.0,
                                                      1e-12),
    ("=INDEX(LINEST(A1:A4,B1:B4,TRUE,TRUE),3,1)", 1.0, 1e-12),   # r²: a perfect fit
    ("=INDEX(LINEST(A1:A4,B1:B4,FALSE),1,2)", 0.0, 0),
    ("=INDEX(LOGEST(C1:C6,D1:D6),1,1)", 1.463275628, 5e-9),
    ("=INDEX(LOGEST(C1:C6,D1:D6),1,2)", 495.3047702, 5e-7),
    ("=INDEX(GROWTH(C1:C6,D1:D6,{17;18}),1,1)", 320196.7184, 5e-4),
    ("=INDEX(GROWTH(C1:C6,D1:D6,{17;18}),2,1)", 468536.0536, 1e-3),
    ("=INDEX(TREND(A1:A4,B1:B4,{5;6}),2,1)", 13.0, 1e-12),
    ("=TREND(A1:A4)", 3.4, 1e-12),  # x = 1…4: y = 1.4x + 2
]


@pytest.mark.parametrize(("formula", "want", "tol"), CASES)
def test_documented_example(formula: str, want: float, tol: float) -> None:
    got = compute({**CELLS, "Z1": formula})["Z1"]
    assert isinstance(got, float) and abs(got - want) <= tol, (formula, got)
