"""Trigonometry (xlbridge/recompute/functions/mathtrig.py) as Excel computes it.

Excel reduces the argument of SIN/COS/TAN/COT/CSC/SEC by π/2 with π rounded to 64 bits
(the x87's FLDPI, 5.0166E-20 above π), so next to a multiple of π/2 its results differ from
C's from the 4th digit on, and for large arguments from about the 14th. The values are cells
of workbooks Excel saved (IronCalc's ``xlsx/tests``, MIT/Apache-2.0; tests/corpus), each
named by file and cell; the hand checks are in the comments.
"""

from __future__ import annotations

import math

import pytest
from recompute_helpers import compute_formulas as _run
from recompute_helpers import saved_mismatches

from xlbridge.recompute.functions.mathtrig import _cos, _sin, _tan
from xlbridge.xlvalues import ExcelError

E = ExcelError

SAVED: list[tuple[str, str, object]] = [
    # TAN(π/2) = 1/(π₈₀/2 − x) with x = 1.5707963267948966 (the double): 1/6.1257E-17
    ("TAN.xlsx Sheet1!B8", "=TAN(PI()/2)", 1.6324552277619072e16),
    ("TAN.xlsx Sheet1!B4", "=TAN(-PI()/2)", -1.6324552277619072e16),
    ("TAN.xlsx Sheet1!B10", "=TAN(3*PI()/2)", 5441517425873024.0),
    ("TAN.xlsx Sheet1!B2", "=TAN(-3*PI()/2)", -5441517425873024.0),
    # π₈₀ − π(double) = 1.2246467991473532E-16 + 5.0166E-20
    ("TAN.xlsx Sheet1!B9", "=TAN(PI())", -1.22514845490862e-16),
    ("TAN.xlsx Sheet1!B3", "=TAN(-PI())", 1.22514845490862e-16),
    # away from the poles: C's values, as before
    ("TAN.xlsx Sheet1!B5", "=TAN(-0.5)", -0.5463024898437905),
    ("TAN.xlsx Sheet1!B11", "=TAN(10*PI()/180)", 0.17632698070846498),
    ("TAN.xlsx Sheet1!A16", "=TAN(10/0)", E("#DIV/0!")),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!B33", "=COT(PI()-0.000000000001)", -999788629259.2037),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!C33", "=CSC(PI()-0.000000000001)", 999788629259.2037),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!D33", "=SEC(PI()-0.000000000001)", -1.0),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!B34", "=COT(PI()/2-0.000000000001)", 1.0001501580050864e-12),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!D34", "=SEC(PI()/2-0.000000000001)", 999849864538.9548),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!B35", "=COT(PI()/2+0.000000000001)",
     -1.0000276431595956e-12),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!D35", "=SEC(PI()/2+0.000000000001)", -999972357604.5276),
    # a large argument: k = 667544 quarter turns, the reduction is 1.67E-14 short
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!B23", "=COT(2^20)", 2.855757895123916),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!C23", "=CSC(2^20)", 3.0257814123896294),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!D23", "=SEC(2^20)", 1.0595370908563435),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!B2", "=COT(1)", 0.6420926159343306),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!C31", "=CSC(1.75)", 1.01627467666275),
    ("TRIGONOMETRIC.xlsx COT_CSC_SEC!D31", "=SEC(1.75)", -5.610222320803706),
    # ACOTH = ½·ln(1 + 2/(|x|−1)): ATANH(1/x) loses 1/x's rounding next to 1 (…855018)
    ("TRIGONOMETRIC.xlsx ACOT_ACOTH!C9", "=ACOTH(1.0000000001)", 11.859499013905017),
    ("TRIGONOMETRIC.xlsx ACOT_ACOTH!C11", "=ACOTH(-1.0000000001)", -11.859499013905017),
    ("TRIGONOMETRIC.xlsx ACOT_ACOTH!C13", "=ACOTH(9999999999999)", 1.0000000000001e-13),
    ("TRIGONOMETRIC.xlsx ACOT_ACOTH!C4", "=ACOTH(10)", 0.1003353477310756),
    ("TRIGONOMETRIC.xlsx ACOT_ACOTH!C8", "=ACOTH(-7.1)", -0.14178764524956375),
    ("TRIGONOMETRIC.xlsx ACOT_ACOTH!C10", "=ACOTH(0.9999999999)", E("#NUM!")),
]


def test_cells_excel_saved() -> None:
    bad = saved_mismatches(SAVED)
    assert not bad, "\n".join(bad)


def test_sin_of_pi_is_excels() -> None:
    # the well-known Excel value, 15 digits: C's sin(π) is 1.2246467991473532E-16
    assert _run(["=SIN(PI())", "=COS(PI()/2)", "=SIN(2*PI())"]) == pytest.approx(
        [1.22514845490862e-16, 6.1257422745431e-17, -2.45029690981724e-16], rel=1e-12)


@pytest.mark.parametrize("x", [0.1, 0.7853, 0.7854, 1.0, 2.5, -3.0, 10.0])
def test_small_arguments_keep_c_s_value(x: float) -> None:
    # the correction, k·2.5E-20, is below half an ulp of a result that is not small
    assert (_sin(x), _cos(x), _tan(x)) == (math.sin(x), math.cos(x), math.tan(x))


@pytest.mark.parametrize("x", [1e4, 123456.789, -98765.4321, 1e8, 134217727.0])
def test_large_arguments_move_by_the_excess_of_excel_s_pi(x: float) -> None:
    # f(x − k·δ): δ = (π₈₀ − π)/2 = 2.508E-20 for each of the k quarter turns
    e = round(x / (math.pi / 2)) * 2.508278806334166e-20
    assert _sin(x) == pytest.approx(math.sin(x) - e * math.cos(x), rel=1e-15, abs=1e-300)
    assert _cos(x) == pytest.approx(math.cos(x) + e * math.sin(x), rel=1e-15, abs=1e-300)
    assert abs(_sin(x) - math.sin(x)) <= abs(e) * 1.0001 + 2.3e-16


def test_limits_as_before() -> None:
    assert [getattr(v, "code", v) for v in _run(
        ["=SIN(134217728)", "=TAN(-134217728)", "=COT(0)", "=CSC(0)", "=SEC(0)"])] == [
        "#NUM!", "#NUM!", "#DIV/0!", "#DIV/0!", 1.0]
