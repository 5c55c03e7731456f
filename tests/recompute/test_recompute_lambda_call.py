"""A LAMBDA called where it is written, and ISOMITTED (the corpus files LAMBDA.xlsx and
ISOMITTED.xlsx; before, the parser took the call for an intersection operator)."""

from __future__ import annotations

import pytest

from xlbridge.recompute.memory import compute
from xlbridge.recompute.report import WorkbookReport
from xlbridge.xlvalues import ExcelError


@pytest.mark.parametrize(("formula", "want"), [
    ("=_xlfn.LAMBDA(_xlpm.x, _xlpm.x+1)(5)", 6.0),
    ("=LAMBDA(x,y,SQRT(x*x+y*y))(3,4)", 5.0),
    ("=LAMBDA(x,y,SQRT(x*x+y*y))(A1,A2)", 5.0),
    ('=_xlfn.LAMBDA(_xlpm.x,_xlpm.y,IF(_xlfn.ISOMITTED(_xlpm.y),"no y",_xlpm.x+_xlpm.y))(1,)',
     "no y"),
    ("=_xlfn.LAMBDA(_xlpm.a,_xlop.b,IF(_xlfn.ISOMITTED(_xlpm.b),_xlpm.a/2,_xlpm.a*_xlpm.b))(A1)",
     1.5),
    ("=_xlfn.LAMBDA(_xlpm.a,_xlop.b,IF(_xlfn.ISOMITTED(_xlpm.b),_xlpm.a/2,_xlpm.a*_xlpm.b))(A1,A2)",
     12.0),
    ("=LAMBDA(x,y,x+y)(1)", ExcelError("#VALUE!")),
    ("=LAMBDA(x,x)(1,2)", ExcelError("#VALUE!")),
])
def test_lambda_called_in_place(formula: str, want: object) -> None:
    rep = WorkbookReport("mem")
    got = compute({"A1": 3, "A2": 4, "Z1": formula}, report=rep)["Z1"]
    assert not rep.unsupported, rep.unsupported
    assert got == want, (formula, got)


@pytest.mark.parametrize(("formula", "want"), [
    ("=INDEX(MAP(A1:A2,LAMBDA(a,IF(a>3,a*a,a))),2,1)", 16.0),
    ("=INDEX(MAP(A1:A2,A1:A2,LAMBDA(a,b,a+b)),1,1)", 6.0),
    ("=REDUCE(0,{1,2,3},LAMBDA(a,b,a+b))", 6.0),
    ("=REDUCE(1,A1:A2,LAMBDA(acc,v,acc*v))", 12.0),
    ('=INDEX(SCAN("",{"a","b","c"},LAMBDA(t,i,t&i)),1,3)', "abc"),
    ("=INDEX(SCAN(1,{1,2,3},LAMBDA(a,b,a*b)),1,2)", 2.0),
    ("=INDEX(BYROW({1,2;3,4},LAMBDA(r,SUM(r))),2,1)", 7.0),
    ("=INDEX(BYCOL({1,2;3,4},LAMBDA(c,MAX(c))),1,2)", 4.0),
    ("=INDEX(MAKEARRAY(3,3,LAMBDA(r,c,r*c)),3,2)", 6.0),
    ("=SUM(MAKEARRAY(2,2,LAMBDA(r,c,r+c)))", 12.0),
    ("=MAP(A1:A2,LAMBDA(a,b,a))", ExcelError("#VALUE!")),
    ("=MAKEARRAY(0,2,LAMBDA(r,c,1))", ExcelError("#VALUE!")),
])
def test_lambda_helpers(formula: str, want: object) -> None:
    """The examples of Excel's documentation of MAP, REDUCE, SCAN, BYROW, BYCOL, MAKEARRAY."""
    rep = WorkbookReport("mem")
    got = compute({"A1": 3, "A2": 4, "Z1": formula}, report=rep)["Z1"]
    assert not rep.unsupported, rep.unsupported
    assert got == want, (formula, got)


def test_a_lambda_bound_by_let_is_called_by_its_name() -> None:
    """LAMBDA.xlsx: LET(area, LAMBDA(x, y, x*y), area(D1, E1))."""
    rep = WorkbookReport("mem")
    got = compute({"D1": 6, "E1": 7,
                   "Z1": "=_xlfn.LET(_xlpm.area,_xlfn.LAMBDA(_xlpm.x,_xlpm.y,_xlpm.x*_xlpm.y),"
                         "_xlpm.area(D1,E1))",
                   "Z2": "=LET(f,LAMBDA(x,x+1),g,f(2),g*10)"}, report=rep)
    assert not rep.unsupported, rep.unsupported
    assert (got["Z1"], got["Z2"]) == (42.0, 30.0)


@pytest.mark.parametrize(("formula", "want"), [
    ("=ROWS(TRIMRANGE(A1:C9))", 2.0), ("=COLUMNS(TRIMRANGE(A1:C9))", 1.0),
    ("=ROWS(TRIMRANGE(A1:C9,2))", 2.0), ("=SUM(TRIMRANGE(A1:C9,0))", 7.0),
    ("=ROWS(TRIMRANGE(A1:C9,0))", 9.0),
    ("=SUM(TRIMRANGE(A:A))", 7.0), ("=COLUMNS(TRIMRANGE(A1:C9,3,0))", 3.0),
    ("=TRIMRANGE(A1:A2,5)", ExcelError("#VALUE!")),
])
def test_trimrange(formula: str, want: object) -> None:
    """TRIMRANGE (Excel's documentation; TRIMRANGE.xlsx in the corpus): the reference without
    its empty outer rows and columns."""
    assert compute({"A1": 3, "A2": 4, "Z1": formula})["Z1"] == want, formula


@pytest.mark.parametrize(("formula", "want"), [
    ("=ROWS(OFFSET(A1,0,0,100))", 100.0), ("=COLUMNS(INDIRECT(\"A1:AZ1\"))", 52.0),
    ("=ROWS(INDIRECT(\"A1:A50\"))", 50.0), ("=SUM(OFFSET(A1,0,0,2))", 7.0),
])
def test_a_returned_reference_keeps_its_size(formula: str, want: float) -> None:
    """A reference a function returns is not cut to the used area where an array is read:
    ROWS(OFFSET(A1,0,0,100)) is 100 (it was the used rows' count)."""
    assert compute({"A1": 3, "A2": 4, "Z1": formula})["Z1"] == want, formula
