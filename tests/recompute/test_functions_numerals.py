"""ROMAN, ARABIC, BASE, DECIMAL: Excel's documented examples (support.microsoft.com).
Every form of ROMAN on 0–3999 is also checked cell by cell against Excel in the corpus file
ironcalc/calc_tests/MATH_AND_TRIGONOMETRY/ARABIC_ROMAN.xlsx."""

from __future__ import annotations

import pytest

from xlbridge.recompute.memory import compute
from xlbridge.xlvalues import ExcelError

V = ExcelError("#VALUE!")


@pytest.mark.parametrize(("formula", "want"), [
    ("=ROMAN(499,0)", "CDXCIX"), ("=ROMAN(499,1)", "LDVLIV"), ("=ROMAN(499,2)", "XDIX"),
    ("=ROMAN(499,3)", "VDIV"), ("=ROMAN(499,4)", "ID"), ("=ROMAN(2013,0)", "MMXIII"),
    ("=ROMAN(499,TRUE)", "CDXCIX"), ("=ROMAN(499,FALSE)", "ID"), ("=ROMAN(0)", ""),
    ("=ROMAN(3999)", "MMMCMXCIX"), ("=ROMAN(4000)", V), ("=ROMAN(-1)", V),
    ("=ROMAN(10,5)", V), ("=ROMAN(1999.9)", "MCMXCIX"),
    ("=ARABIC(\"LVII\")", 57.0), ("=ARABIC(\"mcmxii\")", 1912.0), ("=ARABIC(\"\")", 0.0),
    ("=ARABIC(\" -XIV \")", -14.0), ("=ARABIC(\"ID\")", 499.0), ("=ARABIC(\"IIII\")", 4.0),
    ("=ARABIC(\"ABC\")", V), ("=ARABIC(5)", V),
    ("=BASE(7,2)", "111"), ("=BASE(100,16)", "64"), ("=BASE(15,2,10)", "0000001111"),
    ("=BASE(-1,2)", ExcelError("#NUM!")), ("=BASE(5,37)", ExcelError("#NUM!")),
    ("=DECIMAL(\"FF\",16)", 255.0), ("=DECIMAL(111,2)", 7.0), ("=DECIMAL(\"zap\",36)", 45745.0),
    ("=DECIMAL(\"12\",2)", ExcelError("#NUM!")),
])
def test_numerals(formula: str, want: object) -> None:
    got = compute({"Z1": formula})["Z1"]
    assert got == want, (formula, got)
