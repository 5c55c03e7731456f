"""``xlbridge score --output 结果.xlsx``: the results as a real workbook (openpyxl).

The input columns under the scheme's Chinese labels, then 总分, 等次, 奖金, 排名, 标记, 暂缓原因
and 计分明细; numbers are numbers, shown with as many places as the scheme rounds to; the
header row is frozen and filtered; a scheme with groups (考核类别…) gets one sheet per group,
in the order the groups first appear. Every value is the engine's (see :mod:`xlbridge.results`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xlbridge.engine import CompiledScheme, RecordResult
from xlbridge.engine.values import normalize_text, parse_number_text
from xlbridge.i18n import t
from xlbridge.results import RESULT_KINDS, as_cell, cell_value, number_format, result_headers
from xlbridge.scheme.inputs import InputSpec

HEAD_FONT = Font(bold=True)
INPUT_HEAD = PatternFill("solid", fgColor="DDEBF7")     # blue: what the clerk entered
RESULT_HEAD = PatternFill("solid", fgColor="FCE4D6")    # orange: computed
THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(text: str, taken: set[str]) -> str:
    """A valid, unique sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub("_", text).strip("'") or t("结果")
    base = base[:31]
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f"({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


def _input_cell(spec: InputSpec | None, text: str) -> Any:
    """An input as a cell: numbers as numbers (as the clerk's CSV gave them), text as text."""
    if spec is not None and spec.type in ("number", "count") and text.strip():
        value = parse_number_text(text)
        if value is not None and not text.rstrip().endswith(("%", "％")):
            return int(value) if value == value.to_integral_value() else float(value)
    return text


def _width(values: Sequence[Any]) -> float:
    """A column width that shows the longest value (a CJK character is two units)."""
    longest = 0
    for v in values:
        line = str(v if v is not None else "").split("\n", 1)[0]
        longest = max(longest, sum(2 if ord(ch) > 0x2E7F else 1 for ch in line))
    return min(max(6.0, longest + 2.0), 40.0)


def _group_key(cs: CompiledScheme, r: RecordResult, inputs: dict[str, str]) -> str:
    keys = cs.scheme.groups
    if not keys:
        return ""
    if r.group:
        return "/".join(r.group)
    return "/".join(normalize_text(str(inputs.get(k) or "")) for k in keys)


def results_workbook(cs: CompiledScheme, data: Any, pop: Any) -> bytes:
    """The workbook's bytes for ``data`` (read by :func:`xlbridge.csvio.read_records`) scored
    into ``pop`` by :func:`xlbridge.engine.score_population`."""
    by_header: dict[str, InputSpec] = {}
    for s in cs.inputs:
        by_header[normalize_text(s.id)] = s
        by_header[normalize_text(s.label)] = s
    column_specs = [by_header.get(normalize_text(h)) for h in data.header]
    headers = [s.label if s is not None else h for s, h in zip(column_specs, data.header,
                                                               strict=True)]
    results = result_headers()
    rounding = cs.scheme.rounding
    formats = {0: number_format(rounding.total.digits if rounding.total else None),
               2: number_format(rounding.payout.digits if rounding.payout else 2), 3: "0"}

    groups: dict[str, list[int]] = {}
    for i, r in enumerate(pop.records):
        groups.setdefault(_group_key(cs, r, data.rows[i]), []).append(i)

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for group, indexes in groups.items():
        title = group or (cs.scheme.title if not cs.scheme.groups else t("未分组"))
        ws = wb.create_sheet(sheet_title(title if cs.scheme.groups else t("结果"), taken))
        rows = []
        for i in indexes:
            r = pop.records[i]
            raw = data.raw_rows[i]
            inputs = [_input_cell(column_specs[j], raw[j] if j < len(raw) else "")
                      for j in range(len(headers))]
            rows.append([*inputs, *[as_cell(cell_value(cs, r, k)) for k in RESULT_KINDS]])
        _fill(ws, headers, results, rows, formats)
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.print_title_rows = "1:1"
    wb.properties.title = f"{cs.ref} {cs.scheme.title}"
    wb.properties.creator = "xlbridge"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _fill(ws: Worksheet, headers: list[str], results: list[str], rows: list[list[Any]],
          formats: dict[int, str]) -> None:
    n_inputs = len(headers)
    for j, h in enumerate([*headers, *results], start=1):
        cell = ws.cell(1, j, h)
        cell.font = HEAD_FONT
        cell.fill = INPUT_HEAD if j <= n_inputs else RESULT_HEAD
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    explain_col = n_inputs + len(results)
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row, start=1):
            cell = ws.cell(i, j, value)
            cell.border = BOX
            offset = j - n_inputs - 1
            if offset in formats:
                cell.number_format = formats[offset]
            if j == explain_col:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for j in range(1, explain_col + 1):
        column = [ws.cell(i, j).value for i in range(1, len(rows) + 2)]
        ws.column_dimensions[get_column_letter(j)].width = \
            60.0 if j == explain_col else _width(column)
    last = get_column_letter(explain_col)
    ws.freeze_panes = "B2" if n_inputs else "A2"
    ws.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
