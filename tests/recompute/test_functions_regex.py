"""REGEXTEST, REGEXEXTRACT, REGEXREPLACE: the examples of Excel's documentation."""

from __future__ import annotations

import pytest

from xlbridge.recompute.memory import compute
from xlbridge.xlvalues import ExcelError

CELLS = {"A1": "Sonia Rees (378) 555-4195", "A2": "DylanWilliams", "A3": "abc123 def456"}


@pytest.mark.parametrize(("formula", "want"), [
    ("=REGEXTEST(A1,\"[0-9]{3}-[0-9]{4}\")", True), ("=REGEXTEST(\"abc\",\"ABC\")", False),
    ("=REGEXTEST(\"abc\",\"ABC\",1)", True), ("=REGEXTEST(\"abc\",\"(\")", ExcelError("#VALUE!")),
    ("=REGEXTEST(\"张三\",\"\\p{Han}+\")", True),
    ("=REGEXEXTRACT(A1,\"[0-9()]+ [0-9-]+\")", "(378) 555-4195"),
    ("=REGEXEXTRACT(A2,\"[A-Z][a-z]+\")", "Dylan"),
    ("=INDEX(REGEXEXTRACT(A2,\"[A-Z][a-z]+\",1),1,2)", "Williams"),
    ("=INDEX(REGEXEXTRACT(A3,\"([a-z]+)([0-9]+)\",2),1,2)", "123"),
    ("=REGEXEXTRACT(\"abc\",\"[0-9]\")", ExcelError("#N/A")),
    ("=REGEXREPLACE(A2,\"([A-Z][a-z]+)([A-Z][a-z]+)\",\"$2, $1\")", "Williams, Dylan"),
    ("=REGEXREPLACE(A3,\"[0-9]+\",\"#\")", "abc# def#"),
    ("=REGEXREPLACE(A3,\"[0-9]+\",\"#\",2)", "abc123 def#"),
    ("=REGEXREPLACE(A3,\"[0-9]+\",\"#\",-2)", "abc# def456"),
    ("=REGEXREPLACE(\"a.b\",\"\\.\",\"$$\")", "a$b"),
    ("=REGEXREPLACE(\"ab\",\"(?<x>a)\",\"${x}${x}\")", "aab"),
])
def test_regex_functions(formula: str, want: object) -> None:
    got = compute({**CELLS, "Z1": formula})["Z1"]
    assert got == want, (formula, got)
