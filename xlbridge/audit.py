"""Audit of an office's own formulas: where a sheet computes a total, grade, payout or rank
itself, compare every row with what the scheme gives and list the rows that differ.

A template pinned to an old version, a clerk's broken IF, a grade column that shows the tier
before quotas: each shows as ``第12行 总分 86.9；方案 meiling-street-quarterly@2 算得 89.7``.
``xlbridge recompute`` runs it on every sheet holding a scheme's records (after computing
the formulas), the ribbon's 检查本表 on the sheet it checks. Result columns are found by
their header (:mod:`xlbridge.engine.columns`); texts such as 标记 and 计分明细 are not
compared (their wording is the sheet's own), nor are cells that hold an error (those are
reported as errors) or records with bad data (reported as such).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlbridge.arith import fmt, from_float, round_declared
from xlbridge.engine import score_population
from xlbridge.engine.values import normalize_text, parse_number_text
from xlbridge.i18n import t
from xlbridge.sheets import RecordTable
from xlbridge.xlvalues import ExcelError

#: The result kinds an audit compares.
AUDITED = ("total", "grade", "payout", "rank")


@dataclass(frozen=True)
class Difference:
    """One row where the sheet's own result differs from the scheme's."""

    sheet: str
    cell: str
    row: int
    header: str
    own: str
    scheme_ref: str
    expected: str

    def __str__(self) -> str:
        return t("{sheet}!{cell}：第{row}行 {header} {own}；方案 {scheme} 算得 {expected}",
                 sheet=self.sheet, cell=self.cell, row=self.row, header=self.header,
                 own=self.own, scheme=self.scheme_ref, expected=self.expected)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return from_float(value)
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        return parse_number_text(value)
    return None


def _shown(value: Any) -> str:
    if value is None or value == "":
        return t("（空）")
    if isinstance(value, float):
        return fmt(from_float(value))
    return str(value)


def audit_table(table: RecordTable,
                computed: Callable[[int, int], bool] | None = None) -> list[Difference]:
    """Every row of ``table`` whose own total/grade/payout/rank differs from the scheme's.

    ``computed(index, column)`` says whether ``table.values[index][column]`` is computed by a
    formula (only those are audited); None: every filled cell is."""
    columns = [(col, kind) for col, kind in table.results if kind in AUDITED]
    if not columns or not table.records:
        return []
    cs = table.scheme
    pop = score_population(cs, table.rows(), first_row=table.first_row)
    digits = {"total": cs.scheme.rounding.total, "payout": cs.scheme.rounding.payout}
    out: list[Difference] = []
    for offset, (row, r) in enumerate(zip(table.body(), pop.records, strict=True)):
        if r.errors:
            continue
        index = table.header_index + 1 + offset
        for col, kind in columns:
            own = row[col] if col < len(row) else None
            if isinstance(own, ExcelError) or (isinstance(own, str) and own.startswith("#")):
                continue
            if computed is not None and not computed(index, col):
                continue
            if computed is None and (own is None or own == ""):
                continue
            expected: Any
            if kind == "grade":
                if r.withheld:
                    continue
                expected = r.grade_text
                same = normalize_text(str(own or "")) == expected
            elif kind == "rank":
                if r.withheld or r.rank is None:
                    continue
                expected = r.rank
                number = _number(own)
                same = number is not None and number == r.rank
            else:
                value = r.total if kind == "total" else r.payout
                if value is None or (kind == "payout" and r.withheld):
                    continue
                expected = value
                number = _number(own)
                rounding = digits[kind]
                same = number is not None and round_declared(
                    number, rounding.digits, rounding.mode) == value
            if not same:
                out.append(Difference(table.sheet, table.address(index, col), r.row or 0,
                                      str(table.header(col)), _shown(own), cs.ref,
                                      _shown(expected if not isinstance(expected, Decimal)
                                             else fmt(expected))))
    return out
