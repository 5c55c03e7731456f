"""The Database functions on the example table of Excel's documentation (the orchard:
Tree, Height, Age, Yield, Profit) with its criteria range, and the results shown there."""

from __future__ import annotations

import pytest

from xlbridge.recompute.memory import compute
from xlbridge.xlvalues import ExcelError

TABLE = {
    "A1": "Tree", "B1": "Height", "C1": "Age", "D1": "Yield", "E1": "Profit", "F1": "Height",
    "A2": '="=Apple"', "B2": ">10", "F2": "<16",
    "A3": '="=Pear"',
    "A5": "Tree", "B5": "Height", "C5": "Age", "D5": "Yield", "E5": "Profit",
    "A6": "Apple", "B6": 18, "C6": 20, "D6": 14, "E6": 105,
    "A7": "Pear", "B7": 12, "C7": 12, "D7": 10, "E7": 96,
    "A8": "Cherry", "B8": 13, "C8": 14, "D8": 9, "E8": 105,
    "A9": "Apple", "B9": 14, "C9": 15, "D9": 10, "E9": 75,
    "A10": "Pear", "B10": 9, "C10": 8, "D10": 8, "E10": 76.8,
    "A11": "Apple", "B11": 8, "C11": 9, "D11": 6, "E11": 45,
    "H1": "Tree", "H2": "Pe",
}

CASES = [
    ("=DCOUNT(A5:E11,\"Age\",A1:F2)", 1.0), ("=DCOUNTA(A5:E11,\"Profit\",A1:F2)", 1.0),
    ("=DMAX(A5:E11,\"Profit\",A1:A3)", 105.0), ("=DMIN(A5:E11,\"Profit\",A1:B2)", 75.0),
    ("=DSUM(A5:E11,\"Profit\",A1:A2)", 225.0), ("=DSUM(A5:E11,\"Profit\",A1:F2)", 75.0),
    ("=DPRODUCT(A5:E11,\"Yield\",A1:F2)", 10.0),
    ("=DAVERAGE(A5:E11,\"Yield\",A1:B2)", 12.0), ("=DAVERAGE(A5:E11,3,A5:E11)", 13.0),
    ("=ROUND(DSTDEV(A5:E11,\"Yield\",A1:A3),6)", 2.966479),
    ("=ROUND(DSTDEVP(A5:E11,\"Yield\",A1:A3),6)", 2.653300),
    ("=ROUND(DVAR(A5:E11,\"Yield\",A1:A3),6)", 8.8), ("=ROUND(DVARP(A5:E11,\"Yield\",A1:A3),6)",
                                                      7.04),
    ("=DGET(A5:E11,\"Yield\",A1:A3)", ExcelError("#NUM!")),
    ("=DGET(A5:E11,\"Yield\",A1:F2)", 10.0),
    ("=DCOUNTA(A5:E11,\"tree\",H1:H2)", 2.0),          # text criteria match a prefix
    ("=DSUM(A5:E11,\"Weight\",A1:A2)", ExcelError("#VALUE!")),
    ("=DSUM(A5:E5,\"Profit\",A1:A2)", ExcelError("#VALUE!")),
    ("=DGET(A5:E11,\"Yield\",H1:H1)", ExcelError("#NUM!")),
]


@pytest.mark.parametrize(("formula", "want"), CASES)
def test_database_functions(formula: str, want: object) -> None:
    got = compute({**TABLE, "Z1": formula})["Z1"]
    assert got == want, (formula, got)
