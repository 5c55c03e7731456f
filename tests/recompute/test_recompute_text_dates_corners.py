"""Corner cases of TEXTBEFORE/TEXTAFTER, DAYS360 and SEARCH that Excel's cached values in the
corpus (TEXTBEFORE_TEXTAFTER.xlsx, DAYS_DAYS360.xlsx, FIND_SEARCH.xlsx) settle."""

from __future__ import annotations

import pytest

from xlbridge.recompute.memory import compute
from xlbridge.xlvalues import ExcelError

T = "123 the 456 the 891"


@pytest.mark.parametrize(("formula", "want"), [
    # match_end: the text's end is one more delimiter — once, not for every instance
    (f'=TEXTAFTER("{T}","Hello",1,1,1,"Failed")', ""),
    (f'=TEXTBEFORE("{T}","Hello",1,1,1,"Failed")', T),
    (f'=TEXTAFTER("{T}","Hello",2,1,1,"Failed")', "Failed"),
    (f'=TEXTBEFORE("{T}","Hello",-2,1,1,"Failed")', "Failed"),
    (f'=TEXTBEFORE("{T}"," the ",3,0,1)', T), (f'=TEXTBEFORE("{T}"," the ",4,0,1,"x")', "x"),
    (f'=TEXTAFTER("{T}","Hello",-1,1,2,"Failed")', ExcelError("#VALUE!")),
    (f'=TEXTBEFORE("{T}","Hello",-1,1,-12,"Failed")', ExcelError("#VALUE!")),
    # DAYS360: the method is read as a logical ("TRUE" text too), the time to the second
    ("=DAYS360(DATE(2025,1,1),DATE(2025,1,31),\"TRUE\")", 29.0),
    ("=DAYS360(DATE(2025,1,1),DATE(2025,1,31),\"abc\")", ExcelError("#VALUE!")),
    ("=DAYS360(DATE(2025,1,1),DATE(2025,1,31),0.0001)", 29.0),
    ("=DAYS360(45992.000001,46000.999999)", 9.0), ("=DAYS(46000.999999,45992.000001)", 8.0),
    # SEARCH: a ~ before a character that is no wildcard is dropped (FIND_SEARCH.xlsx)
    # INDIRECT: a lone column or row is no reference (ROW_COLUM.xlsx)
    ('=ROW(INDIRECT("h"))', ExcelError("#REF!")), ('=COLUMN(INDIRECT("H:H"))', 8.0),
    ('=ROW(INDIRECT("3:3"))', 3.0), ('=ROW(INDIRECT("3"))', ExcelError("#REF!")),
    # MOD: the exact remainder, with the divisor's sign (MOD_QUOTIENT.xlsx)
    ("=MOD(5,1E-10)", 9.999981783901343e-11), ("=MOD(10.0000000001,0.1)", 9.999945316252479e-11),
    ("=MOD(-3,2)", 1.0), ("=MOD(3,-2)", -1.0), ("=MOD(-3,-2)", -1.0), ("=MOD(6,3)", 0.0),
    ('=SEARCH("~d","My dear")', 4.0), ('=SEARCH("~*","a*b")', 2.0),
    ('=SEARCH("d~","My dear")', 4.0),
])
def test_corner_case(formula: str, want: object) -> None:
    assert compute({"Z1": formula})["Z1"] == want, formula
