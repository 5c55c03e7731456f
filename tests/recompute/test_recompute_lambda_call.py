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
