"""Where a sheet keeps its records: the header row naming a scheme's inputs, the records below
it, and the result columns beside them — read from a grid of cell values, with no Excel.

The ribbon (over xlwings' one read of a used range) and ``xlbridge recompute`` (over the
recalculated cells of a workbook) find a sheet's table the same way, through
:func:`find_table`:

* a header row, within the first :data:`HEADER_ROWS` rows, naming the scheme's inputs by id or
  Chinese label (``xlbridge schemes show`` lists them); every input needs its column;
* the records follow it, one per row, up to the first row whose input cells are all blank or
  that is labelled 合计/平均/小计/总计;
* result columns are found by their header (总分, 等次, 奖金, … — see
  :mod:`xlbridge.engine.columns`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from xlbridge.csvio import CsvInputError, header_map
from xlbridge.engine import CompiledScheme
from xlbridge.engine.columns import RESULT_COLUMNS, kind_of_header
from xlbridge.engine.values import normalize_text
from xlbridge.i18n import t
from xlbridge.xlvalues import ERROR_CODES, ExcelError

#: How far down a sheet the header row is looked for.
HEADER_ROWS = 20

#: Labels of the rows that close a table of records (合计/平均 rows under the last record).
SUMMARY_LABELS = frozenset(normalize_text(x) for x in (
    "合计", "总计", "小计", "平均", "平均分", "平均值", "汇总", "合计/平均", "total", "average"))


class NoLayout(Exception):
    """A sheet that does not hold records of any known scheme (the message says why)."""


@dataclass
class RecordTable:
    """A sheet's records of one scheme, within a grid read from the sheet."""

    sheet: str
    scheme: CompiledScheme
    origin: tuple[int, int]            # row, column (1-based) of values[0][0]
    values: list[list[Any]]            # the grid, as read once
    header_index: int                  # index in values of the header row
    inputs: dict[int, str]             # column index → input id
    outputs: dict[str, int]            # result kind → its first column (where to write)
    results: list[tuple[int, str]]     # every result column: (column index, kind)
    records: int                       # how many rows of records follow the header

    @property
    def header_row(self) -> int:
        return self.origin[0] + self.header_index

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    def address(self, index: int, column: int) -> str:
        """A1 address of values[index][column]."""
        return f"{column_letter(self.origin[1] + column)}{self.origin[0] + index}"

    def header(self, column: int) -> Any:
        row = self.values[self.header_index]
        return row[column] if column < len(row) else None

    def body(self) -> list[list[Any]]:
        return self.values[self.header_index + 1:self.header_index + 1 + self.records]

    def rows(self) -> list[dict[str, Any]]:
        """The records' raw inputs by input id, as the engine reads them."""
        return [{key: cell_value(row[i]) if i < len(row) else None
                 for i, key in self.inputs.items()} for row in self.body()]


def column_letter(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_value(value: Any) -> Any:
    """A cell as read through xlwings (``err_to_str``): ``"#N/A"`` → the error value."""
    if isinstance(value, str):
        code = value.strip().upper()
        if code in ERROR_CODES:
            return ExcelError(code)
    return value


def is_summary_row(row: Sequence[Any]) -> bool:
    return any(isinstance(c, str) and normalize_text(c) in SUMMARY_LABELS for c in row)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def find_table(sheet: str, origin: tuple[int, int], values: list[list[Any]],
               candidates: Iterable[CompiledScheme], bound: str | None = None) -> RecordTable:
    """The scheme among ``candidates`` whose inputs a header row of ``values`` names best,
    and its records; raises NoLayout saying why not."""
    best: tuple[int, CompiledScheme, int, dict[int, str]] | None = None
    closest = ""
    for cs in candidates:
        names = {normalize_text(s.id) for s in cs.inputs} | \
            {normalize_text(s.label) for s in cs.inputs}
        for index, row in enumerate(values[:HEADER_ROWS]):
            header = ["" if c is None else str(c) for c in row]
            hits = sum(1 for h in header if normalize_text(h) in names)
            if not hits:
                continue
            try:
                mapping, _unknown = header_map(header, cs.inputs,
                                               t("第 {row} 行", row=origin[0] + index))
            except CsvInputError as exc:
                if hits > 1 and (not closest or bound):
                    closest = str(exc)
                continue
            if best is None or hits > best[0]:
                best = (hits, cs, index, mapping)
    if best is None:
        where = t("（方案 {scheme}）", scheme=bound) if bound else ""
        raise NoLayout((t("工作表“{sheet}”{where}找不到表头行：表头应以方案输入的 id 或中文名"
                          "命名各列（见 xlbridge schemes show）。", sheet=sheet, where=where)
                        + closest).strip())
    _hits, cs, index, mapping = best
    outputs: dict[str, int] = {}
    results: list[tuple[int, str]] = []
    for i, c in enumerate(values[index]):
        kind = kind_of_header(c) if i not in mapping else None
        if kind:
            results.append((i, kind))
            # where to write a kind: the column headed exactly as xlbridge heads it (总分)
            # before one headed by a synonym or with a remark (考评得分（表内公式）)
            if normalize_text(str(c)) == RESULT_COLUMNS[kind][0]:
                outputs[kind] = i
            else:
                outputs.setdefault(kind, i)
    records = 0
    for row in values[index + 1:]:
        if all(_blank(row[i]) for i in mapping if i < len(row)) or is_summary_row(row):
            break
        records += 1
    return RecordTable(sheet, cs, origin, values, index, mapping, outputs, results, records)
