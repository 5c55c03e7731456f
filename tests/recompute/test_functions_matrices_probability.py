"""MUNIT, MDETERM, MINVERSE, SERIESSUM, PERMUTATIONA, PROB, PHI, GAUSS (distributions.py),
HYPERLINK and ARRAYTOTEXT: the examples of Excel's documentation (the corpus files
MUNIT_MDETERM_MINVERSE, SERIESSUM, PROB, GAUSS, PHI, PERMUT_PERMUTATIONA, ARRAYTOTEXT and
link_test check them against Excel's cached values too)."""

from __future__ import annotations

import pytest

from xlbridge.recompute.memory import compute
from xlbridge.xlvalues import ExcelError

CASES = [
    ("=SUM(MUNIT(3))", 3.0, 0), ("=INDEX(MUNIT(3),2,2)", 1.0, 0), ("=INDEX(MUNIT(3),1,2)", 0.0, 0),
    ("=MDETERM({1,3,8,5;1,3,6,1;1,1,1,0;7,3,10,2})", 88.0, 1e-9),
    ("=MDETERM({3,6,1;1,1,0;3,10,2})", 1.0, 1e-12), ("=MDETERM({3,6;1,1})", -3.0, 1e-12),
    ("=INDEX(MINVERSE({4,-1;2,0}),1,2)", 0.5, 1e-12),
    ("=INDEX(MINVERSE({4,-1;2,0}),2,1)", -1.0, 1e-12),
    ("=INDEX(MINVERSE({1,2,1;3,4,-1;0,2,0}),1,3)", -0.75, 1e-12),
    ("=INDEX(MINVERSE({1,2,1;3,4,-1;0,2,0}),3,1)", 0.75, 1e-12),
    ("=SERIESSUM(PI()/4,0,2,{1,-0.5,0.041666667,-0.001388889})", 0.707103, 5e-7),
    ("=PERMUTATIONA(3,2)", 9.0, 0), ("=PERMUTATIONA(2,2)", 4.0, 0),
    ("=PROB({0,1,2,3},{0.2,0.3,0.1,0.4},2)", 0.1, 1e-12),
    ("=PROB({0,1,2,3},{0.2,0.3,0.1,0.4},1,3)", 0.8, 1e-12),
    ("=PHI(0.75)", 0.301137432, 5e-10), ("=GAUSS(2)", 0.47725, 5e-6),
]


@pytest.mark.parametrize(("formula", "want", "tol"), CASES)
def test_documented_example(formula: str, want: float, tol: float) -> None:
    got = compute({"Z1": formula})["Z1"]
    assert isinstance(got, float) and abs(got - want) <= tol, (formula, got)


@pytest.mark.parametrize(("formula", "want"), [
    ("=MINVERSE({1,2;2,4})", ExcelError("#NUM!")), ("=MDETERM({1,2,3})", ExcelError("#VALUE!")),
    ("=MUNIT(0)", ExcelError("#VALUE!")), ("=PROB({1,2},{0.5,0.6},1)", ExcelError("#NUM!")),
    ("=PROB({1,2},{0.5},1)", ExcelError("#N/A")),
    ("=HYPERLINK(\"http://example.microsoft.com/report/budget report.xlsx\","
     "\"Click for report\")", "Click for report"),
    ("=HYPERLINK(\"https://example.com\")", "https://example.com"),
    ("=HYPERLINK(\"https://example.com\",A9)", 0.0),
    ("=ARRAYTOTEXT({1,\"a\";TRUE,2})", "1, a, TRUE, 2"),
    ("=ARRAYTOTEXT({1,\"a\";TRUE,2},1)", "{1,\"a\";TRUE,2}"),
])
def test_exact_results(formula: str, want: object) -> None:
    assert compute({"Z1": formula})["Z1"] == want, formula


@pytest.mark.parametrize(("formula", "want"), [
    ("=CELL(\"address\",B3:C4)", "$B$3"), ("=CELL(\"col\",C7)", 3.0), ("=CELL(\"row\",C7)", 7.0),
    ("=CELL(\"contents\",A1)", 3.4), ("=CELL(\"contents\",A9)", 0.0),
    ("=CELL(\"type\",A1)", "v"), ("=CELL(\"TYPE\",A2)", "l"), ("=CELL(\"type\",A9)", "b"),
    ("=CELL(\"hello\",A1)", ExcelError("#VALUE!")), ("=CELL(2,A1)", ExcelError("#VALUE!")),
])
def test_cell(formula: str, want: object) -> None:
    """Excel's documented CELL info types that depend only on the reference and its value."""
    assert compute({"A1": 3.4, "A2": "x", "Z1": formula})["Z1"] == want, formula


def test_cell_of_formatting_is_reported_not_guessed() -> None:
    from xlbridge.recompute.report import WorkbookReport

    rep = WorkbookReport("mem")
    compute({"A1": 1, "Z1": "=CELL(\"width\",A1)", "Z2": "=CELL(\"type\")"}, report=rep)
    assert {i.cell for i in rep.unsupported} == {"Z1", "Z2"}
