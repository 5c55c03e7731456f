"""A draft scored beside the published version: the same records through the engine's
:func:`~xlbridge.engine.score_population` with each, the records whose total, grade or pay
changes, and the grade distribution before and after. No Flask here.

The records are the scheme's shipped examples (``workbooks/schemes/<id>.records.csv``) or
a table the office uploads: CSV (UTF-8 or GB18030, as Excel saves it) or the first sheet of
an ``.xlsx``, the header row naming each input by its id or its label, as ``xlbridge score``
reads them.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from xlbridge.arith import fmt
from xlbridge.csvio import CsvInputError, csv_rows, records_from_rows
from xlbridge.engine import CompiledScheme, PopulationResult, RecordResult, score_population
from xlbridge.engine.record import NO_GRADE
from xlbridge.i18n import t, tp
from xlbridge.store import REPO_SCHEMES

#: an uploaded table is read up to this many records (an office has hundreds, not more)
MAX_RECORDS = 5000


class TableError(ValueError):
    """An uploaded file that cannot be read as a table of records."""


@dataclass
class RecordTable:
    name: str  # the file, as messages name it
    rows: list[list[Any]]  # the header row first


def example_table(scheme_id: str) -> RecordTable | None:
    """The shipped example records of a scheme, if it has any."""
    path = REPO_SCHEMES / f"{scheme_id}.records.csv"
    if not path.is_file():
        return None
    return RecordTable(f"{scheme_id}.records.csv", csv_rows(path.read_bytes(), path.name))


def read_table(data: bytes, filename: str) -> RecordTable:
    """An uploaded CSV or .xlsx file as rows; TableError says why it cannot be read."""
    name = filename or t("上传的文件")
    lower = name.lower()
    if not data:
        raise TableError(t("{name}：文件是空的；需要一行表头和每条记录一行", name=name))
    if lower.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        rows = _xlsx_rows(data, name)
    elif lower.endswith((".xls", ".et")):
        raise TableError(t("{name}：不能读取旧版 .xls/.et 文件；请在 Excel 或 WPS 中另存为 "
                           ".xlsx 或 CSV（UTF-8）", name=name))
    else:
        try:
            rows = csv_rows(data, name)
        except CsvInputError as exc:
            raise TableError(str(exc)) from None
    if len(rows) - 1 > MAX_RECORDS:
        raise TableError(t("{name}：有 {n} 行记录，预览最多读取 {most} 行", name=name,
                           n=len(rows) - 1, most=MAX_RECORDS))
    return RecordTable(name, rows)


def _xlsx_rows(data: bytes, name: str) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(t("{name}：不是可读取的 .xlsx 工作簿（{error}）；请在 Excel 中重新保存",
                           name=name, error=type(exc).__name__)) from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[Any]] = []
        for row in sheet.iter_rows(values_only=True):
            if len(rows) > MAX_RECORDS + 1:
                break
            cells = list(row)
            while cells and (cells[-1] is None or cells[-1] == ""):
                cells.pop()
            rows.append(cells)
    finally:
        book.close()
    width = len(rows[0]) if rows else 0
    return [r[:width] if len(r) > width and not any(r[width:]) else r for r in rows]


# --------------------------------------------------------------------------- comparing


@dataclass
class Side:
    """One scheme's results on the records, or why there are none."""

    ref: str
    result: PopulationResult | None = None
    error: str | None = None

    @property
    def records(self) -> list[RecordResult]:
        return self.result.records if self.result else []


@dataclass
class Outcome:
    total: str
    grade: str
    pay: str
    problem: str = ""  # the record's errors, or why its population results are withheld


@dataclass
class Change:
    row: int | None
    who: str
    before: Outcome | None
    after: Outcome
    what: list[str]  # 总分, 等次, 奖金


@dataclass
class Preview:
    source: str
    count: int
    after: Side
    before: Side | None
    changes: list[Change] = field(default_factory=list)
    distribution: list[tuple[str, int, int]] = field(default_factory=list)  # grade, before, after
    payout: tuple[str, str] | None = None  # totals before, after
    unchanged: int = 0


def _score(cs: CompiledScheme, table: RecordTable) -> Side:
    side = Side(cs.ref)
    try:
        data = records_from_rows(table.rows, table.name, cs.inputs)
    except CsvInputError as exc:
        side.error = str(exc)
        return side
    side.result = score_population(cs, data.rows, first_row=data.row_numbers)
    return side


def _outcome(cs: CompiledScheme, r: RecordResult) -> Outcome:
    rounding = cs.scheme.rounding
    if r.errors:
        return Outcome("", "", "", "；".join(str(e) for e in r.errors))
    return Outcome(fmt(r.total, rounding.total.digits) if r.total is not None else "",
                   r.grade_text, fmt(r.payout, rounding.payout.digits)
                   if r.payout is not None else "", r.withheld or "")


def _who(cs: CompiledScheme, r: RecordResult) -> str:
    for spec in cs.inputs:
        if spec.type == "text" and spec.path.startswith("inputs["):
            value = r.values.get(spec.id)
            if value not in (None, ""):
                return str(value)
    return ""


def compare(table: RecordTable, draft: CompiledScheme,
            published: CompiledScheme | None) -> Preview:
    """Score ``table`` with the draft and (if there is one) the published version."""
    after = _score(draft, table)
    before = _score(published, table) if published is not None else None
    preview = Preview(table.name, max(0, len([r for r in table.rows[1:] if any(
        c is not None and str(c).strip() for c in r)])), after, before)
    if after.result is None:
        return preview
    olds = before.records if before is not None and before.result else []
    for i, r in enumerate(after.records):
        new = _outcome(draft, r)
        old = _outcome(published, olds[i]) if published is not None and i < len(olds) else None
        what = []
        if old is not None:
            what = [name for name, a, b in ((t("总分"), old.total, new.total),
                                            (tp("web", "等次"), old.grade, new.grade),
                                            (tp("web", "奖金"), old.pay, new.pay)) if a != b]
            if old.problem != new.problem and not what:
                what = [t("说明")]
        if old is None or what:
            preview.changes.append(Change(r.row, _who(draft, r), old, new, what))
        else:
            preview.unchanged += 1
    counts_after = after.result.grade_counts()
    counts_before = before.result.grade_counts() if before is not None and before.result else {}
    order = [t.label for t in draft.tiers]
    if published is not None:
        order += [t.label for t in published.tiers if t.label not in order]
    order = list(dict.fromkeys([*order, NO_GRADE, *counts_before, *counts_after]))
    preview.distribution = [(g, counts_before.get(g, 0), counts_after.get(g, 0)) for g in order
                            if g in counts_before or g in counts_after or g != NO_GRADE]
    if draft.scheme.payout or (published is not None and published.scheme.payout):
        old_total = before.result.payout_total() if before is not None and before.result \
            else None
        digits = draft.scheme.rounding.payout.digits
        preview.payout = (fmt(old_total, digits) if old_total is not None else "",
                          fmt(after.result.payout_total(), digits))
    return preview


def bar_width(count: int, preview: Preview) -> float:
    """Width (percent) of a distribution bar, against the largest count shown."""
    top = max([1, *(max(b, a) for _, b, a in preview.distribution)])
    return round(100 * count / top, 2)


__all__ = ["Preview", "RecordTable", "TableError", "bar_width", "compare",
           "example_table", "read_table"]
