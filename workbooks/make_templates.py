"""Build the office templates in ``workbooks/templates/`` — four workbooks as clerks keep them.

Rebuild (from the repository root, with the project installed, e.g. ``. .venv/bin/activate``)::

    python workbooks/make_templates.py              # writes workbooks/templates/*.xlsx
    python workbooks/make_templates.py --out DIR    # somewhere else (the tests do this)

The output is deterministic: fixed document properties (created = modified = a date of the
template's year), and the zip is re-packed with fixed member timestamps, so re-running with
the same openpyxl produces byte-identical files.

Each template serves one shipped scheme, PINNED to its version (``方案`` on the 参数 sheet
holds ``id@version``: a 2016 workbook keeps computing as in 2016), and fills its input block
with the scheme's example records (``workbooks/schemes/<id>.records.csv``):

==============================  ==================================  =========================
file                            scheme                              seed
==============================  ==================================  =========================
县直部门绩效评估-2016.xlsx        ``county-dept-2016@1``               002:524-568
财政局平时考核积分-月度.xlsx      ``finance-bureau-points@1``          004:205-303
梅岭街道季度绩效考核.xlsx         ``meiling-street-quarterly@1``       004:487-527
医院科室质量考核-月度.xlsx        ``hospital-2016@1``                  002:36-58
==============================  ==================================  =========================

Layout of a main sheet: row 1 the merged title, row 2 填报单位/日期, row 3 ``=PERF_SCHEME(方案)``,
then a row of merged group headers (指标评估（60分）…), for deduction sheets a row of 扣分标准
(points per occurrence, read by the subtotal formulas), the header row — exactly the scheme's
input labels, one contiguous block, named ``表头`` — and one row per record. Computed columns
(orange headers) follow the input block (blue headers); a 合计/平均 row and a signature line
close the table. A 汇总 sheet counts grades with COUNTIF/COUNTIFS and charts them; a 参数 sheet
holds the pinned scheme, the payout and band tables read by VLOOKUP, and the condition codes.

Formulas are what a clerk would write, mixed with the PERF_* add-in functions:

* totals: ``PERF_SCORE(方案, B6:AG6, 表头)`` (one row knows its total);
* part subtotals: native (MIN/AVERAGE/SUMPRODUCT over the 扣分标准 row), with ``PERF_DEDUCT``
  (扣完为止) and ``PERF_CAP`` (累计不超过) as building blocks;
* results that depend on the other records — 等次 (quotas per group, every record's vetoes,
  ties broken by part scores), 标记, 计分明细, and 奖金 where payout rules read the record —
  are columns of ``PERF_RESULTS(方案, 输入区域, 表头, "等次", ROW(首个输入单元格))``, each
  entered as a legacy array formula (Ctrl+Shift+Enter, ``t="array"``) over the column: the
  form that always gives exactly what ``xlbridge score`` gives; ``PERF_BONUS`` of that final
  grade where the scheme has no payout rules;
* a second column ``PERF_GRADE(总分, 方案, , 条件)`` shows the tier before quotas, and a
  yellow fill marks the records a quota moved;
* conditions (适用条件): a native ``IF(…="是","、id","")&…`` string naming the scheme's
  conditions;
* ranks: ``RANK.EQ`` (stored as ``_xlfn.RANK.EQ``, as Excel writes it) or ``COUNTIFS`` within
  the group — the office's own formulas, which ``xlbridge recompute`` and 检查本表 audit
  against the scheme's ranks.

The 梅岭 scheme scores 党政领导测评 by rank within the staff category, which one row cannot
know, so PERF_SCORE gives #N/A there: that template's 总分 is a PERF_RESULTS column, and its
own native arithmetic (band by COUNTIFS rank and the 参数 band table, 工作考评 × 60% + 测评 ×
40%) stays beside it as 考评得分（表内公式）, audited row by row. The hospital scheme has no
tiers or payout: its templates (one sheet per 科室类别) chart score bands (VLOOKUP into 参数),
not grades, and explain each row with ``PERF_EXPLAIN``.

openpyxl stores formulas without cached values (and asks for a full recalculation on open,
``fullCalcOnLoad``); the generator then runs ``xlbridge recompute`` on each file, which stores
every value and drops ``fullCalcOnLoad``, so the committed templates open with their results
shown everywhere, add-in or not (``--no-values`` skips that step).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.packaging.core import DocumentProperties
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from xlbridge.csvio import header_map
from xlbridge.engine import CompiledScheme
from xlbridge.scheme.inputs import InputSpec
from xlbridge.store import SchemeStore

HERE = Path(__file__).resolve().parent
SCHEMES = HERE / "schemes"
OUT = HERE / "templates"

# ----------------------------------------------------------------------------- styles

SONG = "宋体"
TITLE_FONT = Font(name="黑体", size=16, bold=True)
SUB_FONT = Font(name=SONG, size=10)
HEAD_FONT = Font(name=SONG, size=10, bold=True)
BODY_FONT = Font(name=SONG, size=10)
NOTE_FONT = Font(name=SONG, size=9, italic=True, color="595959")
INPUT_HEAD = PatternFill("solid", fgColor="DDEBF7")     # blue: filled in by the clerk
CALC_HEAD = PatternFill("solid", fgColor="FCE4D6")      # orange: formulas
CALC_CELL = PatternFill("solid", fgColor="F7F7F7")
STD_FILL = PatternFill("solid", fgColor="FFF2CC")
GREEN = PatternFill("solid", fgColor="C6EFCE")
RED = PatternFill("solid", fgColor="FFC7CE")
GREY = PatternFill("solid", fgColor="D9D9D9")
YELLOW = PatternFill("solid", fgColor="FFEB9C")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=False)
WRAP_TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)

SCORE2 = "0.00"
SCORE1 = "0.0"
WHOLE = "0"
MONEY = "#,##0.00"
PERCENT = "0.0%"

NO_GRADE = "不定等次"     # what PERF_GRADE(S) shows for a record that gets no grade


# ----------------------------------------------------------------------------- model


@dataclass
class Col:
    """One column of a main sheet: an input of the scheme, or a computed column."""

    key: str
    header: str
    group: str = ""
    width: float = 9.0
    fmt: str | None = None
    spec: InputSpec | None = None
    formula: Callable[[int], str] | None = None   # row number → formula text
    array: Callable[[], str] | None = None        # one array formula over the whole column
    std: Any = None                               # value in the 扣分标准 row
    align: Alignment = CENTER
    total: str | None = None                      # "sum" | "avg" in the 合计/平均 rows


@dataclass
class TableInfo:
    """Where a template's table lies (the tests read the workbook back through this)."""

    sheet: str
    header_row: int
    first_row: int
    last_row: int
    letters: dict[str, str]
    input_ids: list[str]


@dataclass
class Template:
    file: str
    ref: str
    title: str
    tables: list[TableInfo] = field(default_factory=list)
    summary: str = "汇总"
    grade_key: str | None = "grade"    # column holding the final grade (None: no tiers)
    counts: tuple[int, int, str] = (4, 6, "B")   # 汇总: distribution rows and count column


class Table:
    """A main sheet's record table: group row, optional 扣分标准 row, header row, records."""

    def __init__(self, ws: Worksheet, cs: CompiledScheme, *, group_row: int = 4,
                 std_row: int | None = None, std_label: str = "扣分标准"):
        self.ws = ws
        self.cs = cs
        self.specs = {s.id: s for s in cs.inputs}
        self.group_row = group_row
        self.std_row = std_row
        self.std_label = std_label
        self.header_row = (std_row or group_row) + 1
        self.first = self.header_row + 1
        self.last = self.first
        self.cols: list[Col] = []

    # -- building

    def index(self, header: str = "序号") -> None:
        self.cols.append(Col("_index", header, "", 5, WHOLE))

    def inputs(self, group: str, ids: Sequence[str], width: float = 8.5,
               widths: dict[str, float] | None = None, fmts: dict[str, str] | None = None,
               std: dict[str, Any] | None = None) -> None:
        for i in ids:
            spec = self.specs[i]
            fmt = (fmts or {}).get(i) or ("@" if spec.type in ("text", "label") else None)
            align = LEFT if spec.type == "text" else CENTER
            self.cols.append(Col(i, spec.label, group, (widths or {}).get(i, width), fmt,
                                 spec, std=(std or {}).get(i), align=align))

    def calc(self, key: str, header: str, formula: Callable[[int], str] | None = None, *,
             group: str = "计算结果（公式自动生成，请勿填写）", width: float = 9.0,
             fmt: str | None = None, array: Callable[[], str] | None = None,
             align: Alignment = CENTER, total: str | None = None) -> None:
        self.cols.append(Col(key, header, group, width, fmt, None, formula, array,
                             align=align, total=total))

    # -- addressing (valid once every column is added)

    def c(self, key: str) -> str:
        for n, col in enumerate(self.cols, start=1):
            if col.key == key:
                return get_column_letter(n)
        raise KeyError(key)

    def col(self, key: str) -> str:
        """The data range of a column, absolute: ``$AL$6:$AL$37``."""
        x = self.c(key)
        return f"${x}${self.first}:${x}${self.last}"

    def span(self, k1: str, k2: str, r: int | str) -> str:
        return f"{self.c(k1)}{r}:{self.c(k2)}{r}"

    @property
    def input_keys(self) -> list[str]:
        return [c.key for c in self.cols if c.spec is not None]

    def input_span(self, r: int | str) -> str:
        keys = self.input_keys
        return self.span(keys[0], keys[-1], r)

    def input_block(self) -> str:
        """Every record's input cells, absolute: ``$B$6:$AG$37`` (valid once written)."""
        keys = self.input_keys
        a, b = self.c(keys[0]), self.c(keys[-1])
        return f"${a}${self.first}:${b}${self.last}"

    def results(self, key: str, header: str, column: str | None = None, **kw: Any) -> None:
        """A result column computed by the engine for the whole table at once — the form
        that is always right (quotas, groups, conditions, gates, ties): an array formula
        ``PERF_RESULTS(方案, inputs, 表头, "等次", ROW(first input cell))`` over the column."""
        wanted = column or header

        def formula() -> str:
            # ROW() of the first input cell: messages keep naming the right rows when rows
            # are inserted above the table
            first = f"${self.c(self.input_keys[0])}${self.first}"
            return (f'=PERF_RESULTS(方案,{self.input_block()},表头,"{wanted}",ROW({first}))')

        self.calc(key, header, array=formula, **kw)

    def header_ref(self) -> str:
        keys = self.input_keys
        a, b = self.c(keys[0]), self.c(keys[-1])
        return f"{quote(self.ws.title)}!${a}${self.header_row}:${b}${self.header_row}"

    def info(self) -> TableInfo:
        return TableInfo(self.ws.title, self.header_row, self.first, self.last,
                         {c.key: self.c(c.key) for c in self.cols}, self.input_keys)

    # -- writing

    def write(self, records: Sequence[dict[str, Any]]) -> None:
        ws = self.ws
        self.last = self.first + len(records) - 1
        keys = self.input_keys
        assert [self.c(k) for k in keys] == [
            get_column_letter(n) for n in range(column_index(self.c(keys[0])),
                                                column_index(self.c(keys[-1])) + 1)], \
            "the input block must be contiguous"
        # group row: consecutive columns with the same group share one merged cell
        n = 1
        while n <= len(self.cols):
            group = self.cols[n - 1].group
            m = n
            while m < len(self.cols) and self.cols[m].group == group:
                m += 1
            if group:
                cell = ws.cell(self.group_row, n, group)
                is_calc = self.cols[n - 1].spec is None
                for k in range(n, m + 1):
                    style(ws.cell(self.group_row, k), HEAD_FONT, CENTER,
                          CALC_HEAD if is_calc else INPUT_HEAD)
                if m > n:
                    ws.merge_cells(start_row=self.group_row, start_column=n,
                                   end_row=self.group_row, end_column=m)
                cell.value = group
            else:
                style(ws.cell(self.group_row, n), HEAD_FONT, CENTER)
            n = m + 1
        ws.row_dimensions[self.group_row].height = 30
        if self.std_row is not None:
            style(ws.cell(self.std_row, 1, self.std_label), HEAD_FONT, CENTER, STD_FILL)
            for n, col in enumerate(self.cols, start=1):
                cell = ws.cell(self.std_row, n)
                if n > 1:
                    cell.value = col.std
                style(cell, BODY_FONT, CENTER, STD_FILL)
            ws.row_dimensions[self.std_row].height = 30
        for n, col in enumerate(self.cols, start=1):
            style(ws.cell(self.header_row, n, col.header), HEAD_FONT, CENTER,
                  CALC_HEAD if col.spec is None and col.key != "_index" else INPUT_HEAD)
            ws.column_dimensions[get_column_letter(n)].width = col.width
        ws.row_dimensions[self.header_row].height = header_height(self.cols)
        for i, rec in enumerate(records):
            r = self.first + i
            for n, col in enumerate(self.cols, start=1):
                cell = ws.cell(r, n)
                if col.key == "_index":
                    cell.value = i + 1
                elif col.spec is not None:
                    cell.value = rec.get(col.key)
                elif col.array is not None:
                    if i == 0:
                        x = get_column_letter(n)
                        cell.value = ArrayFormula(f"{x}{self.first}:{x}{self.last}",
                                                  col.array())
                elif col.formula is not None:
                    cell.value = col.formula(r)
                style(cell, BODY_FONT, col.align, CALC_CELL if col.spec is None and
                      col.key != "_index" else None, col.fmt)
        self._totals()
        self._validations()
        ws.freeze_panes = ws.cell(self.first, column_index(self.c(keys[0])) + 1)

    def _totals(self) -> None:
        ws = self.ws
        rows = {"sum": self.last + 1, "avg": self.last + 2}
        labels = {"sum": "合计", "avg": "平均"}
        name_col = column_index(self.c(self.input_keys[0]))
        for kind, r in rows.items():
            for n in range(1, len(self.cols) + 1):
                style(ws.cell(r, n), HEAD_FONT, CENTER)
            ws.cell(r, name_col, labels[kind])
        for col in self.cols:
            if col.total is None:
                continue
            x = self.c(col.key)
            rng = f"{x}{self.first}:{x}{self.last}"
            if col.total == "sum":
                ws[f"{x}{rows['sum']}"] = f"=SUM({rng})"
            else:
                ws[f"{x}{rows['avg']}"] = f"=ROUND(AVERAGE({rng}),2)"
            for r in rows.values():
                ws[f"{x}{r}"].number_format = col.fmt or "General"

    def _validations(self) -> None:
        rules: dict[tuple, DataValidation] = {}
        for col in self.cols:
            if col.spec is None:
                continue
            rule = validation_for(col.spec)
            if rule is None:
                continue
            x = self.c(col.key)
            if "{cell}" in rule["formula1"]:
                rule["formula1"] = rule["formula1"].format(cell=f"{x}{self.first}")
            key = tuple(sorted((k, str(v)) for k, v in rule.items()))
            dv = rules.get(key)
            if dv is None:
                dv = rules[key] = DataValidation(showInputMessage=True, showErrorMessage=True,
                                                 errorStyle="stop", **rule)
                self.ws.add_data_validation(dv)
            dv.add(f"{x}{self.first}:{x}{self.last}")

    def signature(self, text: str = "制表人：　　　　　　　　审核人：　　　　　　　　"
                  "单位负责人：　　　　　　　　") -> None:
        r = self.last + 4
        self.ws.cell(r, 2, text).font = SUB_FONT


# ----------------------------------------------------------------------------- helpers


def column_index(letters: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letters)


def header_height(cols: Sequence[Col]) -> float:
    """Row height (points) that shows every wrapped header: a CJK character is ~2 width units."""
    lines = 1
    for col in cols:
        per_line = max(1, int((col.width - 1) / 2))
        lines = max(lines, -(-len(col.header) // per_line))
    return min(150, 14 * lines + 6)


def quote(sheet: str) -> str:
    """A sheet name as a formula writes it (Chinese names need no quotes)."""
    return f"'{sheet}'" if any(ch in sheet for ch in " -()（）'") else sheet


def style(cell: Any, font: Font | None = None, align: Alignment | None = None,
          fill: PatternFill | None = None, fmt: str | None = None) -> Any:
    cell.border = BOX
    if font is not None:
        cell.font = font
    if align is not None:
        cell.alignment = align
    if fill is not None:
        cell.fill = fill
    if fmt is not None:
        cell.number_format = fmt
    return cell


def num(x: Decimal | int | float | None) -> str:
    return "" if x is None else format(Decimal(str(x)).normalize(), "f")


def validation_for(spec: InputSpec) -> dict[str, Any] | None:
    """Data validation of an input cell, with a Chinese input message and error alert."""
    blank_ok = spec.blank != "error" or spec.optional
    title = "填写说明"
    if spec.type == "bool":
        tail = "；空白按“否”计" if spec.blank == "false" else ""
        return dict(type="list", formula1='"是,否"', allow_blank=blank_ok,
                    promptTitle=title, prompt=f"请选择“是”或“否”{tail}。",
                    errorTitle="输入有误", error="只能选择“是”或“否”。")
    if spec.type == "label":
        labels = ",".join(spec.labels or ())
        return dict(type="list", formula1=f'"{labels}"', allow_blank=blank_ok,
                    promptTitle=title, prompt=f"请从下拉列表选择：{'、'.join(spec.labels or ())}。",
                    errorTitle="输入有误", error="请从下拉列表中选择，不能填写其他内容。")
    if spec.type == "count":
        tail = "没有发生的留空（按0计）" if spec.blank == "zero" else "必须填写"
        if spec.max is not None:
            return dict(type="whole", operator="between", formula1="0", formula2=num(spec.max),
                        allow_blank=blank_ok, promptTitle=title,
                        prompt=f"填写0～{num(spec.max)}的整数；{tail}。",
                        errorTitle="输入有误", error=f"只能填写0～{num(spec.max)}的整数。")
        return dict(type="whole", operator="greaterThanOrEqual", formula1="0",
                    allow_blank=blank_ok, promptTitle=title,
                    prompt=f"填写次数（不小于0的整数）；{tail}。",
                    errorTitle="输入有误", error="次数只能是不小于0的整数。")
    if spec.type == "number":
        tail = "留空按0计" if spec.blank == "zero" else (
            "可留空" if blank_ok else "必须填写")
        if spec.min is not None and spec.max is not None:
            lo, hi = num(spec.min), num(spec.max)
            return dict(type="decimal", operator="between", formula1=lo, formula2=hi,
                        allow_blank=blank_ok, promptTitle=title,
                        prompt=f"填写{lo}～{hi}之间的数值；{tail}。",
                        errorTitle="超出范围", error=f"数值应在{lo}～{hi}之间。")
        if spec.min is not None:
            lo = num(spec.min)
            return dict(type="decimal", operator="greaterThanOrEqual", formula1=lo,
                        allow_blank=blank_ok, promptTitle=title,
                        prompt=f"填写不小于{lo}的数值；{tail}。",
                        errorTitle="超出范围", error=f"数值不能小于{lo}。")
        # no bounds in the scheme: any number (the formula is relative to the first cell)
        return dict(type="custom", formula1="ISNUMBER({cell})", allow_blank=blank_ok,
                    promptTitle=title, prompt=f"填写数值；{tail}。", errorTitle="输入有误",
                    error="请填写数值。")
    return None


def demo_records(cs: CompiledScheme, scheme_id: str) -> list[dict[str, Any]]:
    """The scheme's example records, by input id, with numbers as numbers."""
    path = SCHEMES / f"{scheme_id}.records.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    mapping, unknown = header_map(rows[0], cs.inputs, str(path))
    if unknown:
        raise ValueError(f"{path}: unknown columns {unknown}")
    specs = {s.id: s for s in cs.inputs}
    out = []
    for row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        out.append({key: cell_value(specs[key], row[i] if i < len(row) else "")
                    for i, key in mapping.items()})
    return out


def cell_value(spec: InputSpec, text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if spec.type in ("number", "count"):
        d = Decimal(text)
        return int(d) if d == d.to_integral_value() else float(d)
    return text


def title_block(ws: Worksheet, width: int, title: str, unit: str, date: str,
                note: str = "") -> None:
    """Rows 1-3: merged title, 填报单位/日期, the scheme in use (PERF_SCHEME)."""
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1, title).font = TITLE_FONT
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 32
    half = max(4, width // 2)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=half)
    ws.cell(2, 1, f"填报单位：{unit}").font = SUB_FONT
    ws.merge_cells(start_row=2, start_column=half + 1, end_row=2, end_column=width)
    ws.cell(2, half + 1, f"填报日期：{date}").font = SUB_FONT
    ws.cell(2, half + 1).alignment = Alignment(horizontal="right")
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=2)
    ws.cell(3, 1, "计分方案：").font = HEAD_FONT
    ws.cell(3, 1).alignment = Alignment(horizontal="right")
    ws.merge_cells(start_row=3, start_column=3, end_row=3, end_column=min(width, 14))
    ws.cell(3, 3, "=PERF_SCHEME(方案)").font = SUB_FONT
    if note and width > 15:
        ws.merge_cells(start_row=3, start_column=15, end_row=3, end_column=width)
        ws.cell(3, 15, note).font = NOTE_FONT


def page_setup(ws: Worksheet, title_rows: str, a3: bool = True) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if a3 else ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True


def print_layout(wb: Workbook) -> None:
    """Print set-up of every sheet, so that each prints as a clerk files it: the main sheets
    landscape, one page wide (the 计分明细 column, a screen and appeal aid, is left out of the
    print area), their group and header rows repeated on every page; the 汇总 sheet — tables
    and chart — on one page; the 参数 sheet one page wide. Page numbers in the footer."""
    for ws in wb.worksheets:
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top, ws.page_margins.bottom = 0.5, 0.6
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        ws.oddFooter.center.size = 9
        ws.page_setup.orientation = "landscape"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.print_options.horizontalCentered = True
        if ws.title == "汇总":
            ws.page_setup.paperSize = ws.PAPERSIZE_A4
            ws.page_setup.fitToHeight = 1
            ws.print_area = f"A1:{_chart_extent(ws)}"
        elif ws.title == "参数":
            ws.page_setup.paperSize = ws.PAPERSIZE_A4
            ws.page_setup.fitToHeight = 0
            ws.print_area = f"A1:{get_column_letter(ws.max_column)}{ws.max_row}"
        else:
            ws.page_setup.fitToHeight = 0
            last = ws.max_column
            if _explain_column(ws) == last:
                last -= 1
            ws.print_area = f"A1:{get_column_letter(last)}{ws.max_row}"


def _explain_column(ws: Worksheet) -> int | None:
    """The column whose header is 计分明细 (within the first ten rows), if any."""
    for row in ws.iter_rows(min_row=1, max_row=10):
        for cell in row:
            if cell.value == "计分明细":
                return cell.column
    return None


def _chart_extent(ws: Worksheet) -> str:
    """The bottom-right cell that covers every table and chart of a sheet (for its print
    area): a chart is anchored at a cell and measured in cm."""
    last_col, last_row = ws.max_column, ws.max_row
    for chart in ws._charts:
        letters, anchor_row = coordinate_from_string(chart.anchor)    # "F3": its top left
        col, width = column_index(letters) - 1, 0.0
        while width < chart.width:        # default column ≈ 8.43 units ≈ 0.19 cm per unit
            letter = get_column_letter(col + 1)
            width += (ws.column_dimensions[letter].width or 8.43) * 0.19
            col += 1
        rows = int(chart.height / 0.5) + 1   # rows of the default height (15 pt ≈ 0.53 cm)
        last_col, last_row = max(last_col, col + 1), max(last_row, anchor_row + rows + 1)
    return f"{get_column_letter(last_col)}{last_row}"


def grade_formats(ws: Worksheet, rng: str, good: Iterable[str], bad: Iterable[str],
                  first_cell: str | None = None, tier_cell: str | None = None) -> None:
    """Conditional formats on a grade column: top tiers green, bottom red, no grade grey;
    yellow where the quota changed the tier (``tier_cell`` is the pre-quota column)."""
    for label in good:
        ws.conditional_formatting.add(rng, CellIsRule(
            operator="equal", formula=[f'"{label}"'], fill=GREEN, font=Font(color="006100")))
    for label in bad:
        ws.conditional_formatting.add(rng, CellIsRule(
            operator="equal", formula=[f'"{label}"'], fill=RED, font=Font(color="9C0006")))
    ws.conditional_formatting.add(rng, CellIsRule(
        operator="equal", formula=[f'"{NO_GRADE}"'], fill=GREY))
    if first_cell and tier_cell:
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f'AND({first_cell}<>"",{tier_cell}<>"",{first_cell}<>{tier_cell})'],
            fill=YELLOW))


def params_sheet(wb: Workbook, ref: str, period_label: str, period: str) -> Worksheet:
    """The 参数 sheet's head: the pinned scheme (defined name 方案) and the period."""
    ws = wb.create_sheet("参数")
    ws.merge_cells("A1:F1")
    ws["A1"] = "参数表（方案版本、计分和奖励标准；修改前请与考核办核对）"
    ws["A1"].font = Font(name="黑体", size=13, bold=True)
    ws["A3"], ws["B3"] = "方案", ref
    ws["C3"] = ("固定为本年度版本（id@版本）：本表始终按该版本计算，新版本发布后也不变；"
                "公式中以名称“方案”引用此单元格")
    ws["A4"], ws["B4"] = period_label, period
    for cell in ("A3", "A4"):
        style(ws[cell], HEAD_FONT, CENTER, INPUT_HEAD)
    for cell in ("B3", "B4"):
        style(ws[cell], BODY_FONT, LEFT)
    ws["C3"].font = NOTE_FONT
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 26
    for x in "CDEFG":
        ws.column_dimensions[x].width = 14
    wb.defined_names["方案"] = DefinedName("方案", attr_text="参数!$B$3")
    return ws


def put_table(ws: Worksheet, top: int, left: int, rows: Sequence[Sequence[Any]],
              title: str | None = None, fmts: dict[int, str] | None = None) -> int:
    """A small bordered table (first row = header); returns the row after it."""
    r = top
    if title:
        ws.cell(r, left, title).font = HEAD_FONT
        r += 1
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            cell = ws.cell(r + i, left + j, value)
            if i == 0:
                style(cell, HEAD_FONT, CENTER, INPUT_HEAD)
            else:
                style(cell, BODY_FONT, CENTER, None, (fmts or {}).get(j))
    return r + len(rows) + 1


def conditions_table(ws: Worksheet, top: int, cs: CompiledScheme) -> int:
    """The scheme's conditions: the titles the 适用条件 column writes, and what they do."""
    rows: list[list[Any]] = [["条件", "结果"]]
    for cond in cs.scheme.conditions:
        then = cond.then
        if then.grade:
            what = f"确定为{then.grade}"
        elif then.no_grade:
            what = "不确定等次"
        elif then.at_most:
            what = f"最高{then.at_most}"
        else:
            what = then.flag or ""
        rows.append([cond.title, what])
    end = put_table(ws, top, 1, rows,
                    "适用条件（“适用条件”列由公式列出本人适用的条件，多个以、分隔）")
    for r in range(top + 2, end):
        ws.cell(r, 1).alignment = LEFT
    return end


def summary_head(wb: Workbook, title: str, width: int = 8) -> Worksheet:
    ws = wb.create_sheet("汇总")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1, title).font = TITLE_FONT
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    ws.column_dimensions["A"].width = 22
    for n in range(2, width + 1):
        ws.column_dimensions[get_column_letter(n)].width = 12
    return ws


def bar_chart(ws: Worksheet, title: str, *, cats: Reference, data: Reference, anchor: str,
              y_title: str = "人数", x_title: str = "等次") -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = title
    chart.y_axis.title = y_title
    chart.x_axis.title = x_title
    chart.y_axis.majorGridlines = None
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.height = 8
    chart.width = 15
    ws.add_chart(chart, anchor)
    return chart


def flags_formula(cs: CompiledScheme, parts: Sequence[tuple[str, str]]) -> str:
    """``MID(IF(test,"、title","")&…,2,1000)``: the titles of the conditions that hold,
    separated by 、 (the worksheet functions read titles whole, 、 and ， inside them too)."""
    titles = {c.id: c.title for c in cs.scheme.conditions}
    pieces = "&".join(f'IF({test},"、{titles[cid]}","")' for test, cid in parts)
    return f"=MID({pieces},2,1000)"


def finish(wb: Workbook, path: Path, *, title: str, subject: str, created: dt.datetime,
           ref: str) -> None:
    """Save deterministically: fixed properties and fixed zip member timestamps."""
    wb.properties = DocumentProperties(
        creator="xlbridge", lastModifiedBy="xlbridge", title=title, subject=subject,
        keywords=f"绩效考核 xlbridge {ref}", category="绩效考核模板",
        description=f"由 workbooks/make_templates.py 生成；计分方案 {ref}。"
                    "打开后由 Excel（xlbridge 加载项）或 `xlbridge recompute` 计算。",
        created=created, modified=created)
    wb.calculation.fullCalcOnLoad = True
    print_layout(wb)
    for name in ("汇总", "参数"):                # main sheets first, then 汇总, then 参数
        wb.move_sheet(name, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(name))
    buf = io.BytesIO()
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()          # closes the archive; keeps `modified` as set
    stamp = created.timetuple()[:6]
    packed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            out.writestr(zi, src.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(packed.getvalue())
    tmp.replace(path)


def new_book(main: str) -> tuple[Workbook, Worksheet]:
    wb = Workbook()
    ws = wb.active
    ws.title = main
    ws.sheet_view.zoomScale = 90
    return wb, ws


# ----------------------------------------------------------------------------- 1. county


def county(store: SchemeStore, out: Path) -> Template:
    """正定县 2016 county departments' assessment (002:524-568): one row per 部门."""
    ref = "county-dept-2016@1"
    cs = store.get(ref)
    records = demo_records(cs, "county-dept-2016")
    title = "2016年度县直部门绩效评估汇总表"
    tpl = Template("县直部门绩效评估-2016.xlsx", ref, title)
    wb, ws = new_book("评估表")
    t = Table(ws, cs)
    t.index()
    t.inputs("基本情况", ["unit_name"], widths={"unit_name": 16})
    t.inputs("指标评估（60分，完成比例计分）", ["indicator_mid_actual", "indicator_mid_target",
                                        "indicator_end_actual", "indicator_end_target"])
    t.inputs("公众评估（30分，按百分制填报）", ["public_q1", "public_q2", "public_q3", "public_q4"],
             width=7.5)
    t.inputs("领导评估（10分）", ["leaders_mid", "leaders_end"], width=7.5)
    t.inputs("加分（累计不超过4分，须书面依据）",
             ["party_award_市委市政府", "party_award_省委省政府", "party_award_党中央国务院",
              "party_award_evidence", "dept_award_市级部门", "dept_award_省级部门",
              "dept_award_国务院部委", "dept_award_evidence", "county_award",
              "county_award_evidence"],
             widths={"party_award_evidence": 14, "dept_award_evidence": 14,
                     "county_award_evidence": 14})
    t.inputs("减分（累计不超过4分）", ["notice_省级", "notice_市级", "notice_县级", "complaint",
                                "sanction", "accountability"])
    t.inputs("否决及认定事项（是/否）", ["major_accident", "order_veto", "corruption",
                                  "judged_unqualified"])
    t.inputs("奖励基数", ["payroll"], width=13, fmts={"payroll": MONEY})
    c = t.c
    t.calc("indicator", "指标评估得分", lambda r: (
        f"=60*(MIN(1,{c('indicator_mid_actual')}{r}/{c('indicator_mid_target')}{r})*0.5"
        f"+MIN(1,{c('indicator_end_actual')}{r}/{c('indicator_end_target')}{r})*0.5)"),
        fmt=SCORE2, total="avg")
    t.calc("public", "公众评估得分", lambda r: (
        f"=AVERAGE({t.span('public_q1', 'public_q4', r)})*30/100"), fmt=SCORE2, total="avg")
    t.calc("leaders", "领导评估得分", lambda r: (
        f"=AVERAGE({t.span('leaders_mid', 'leaders_end', r)})"), fmt=SCORE2, total="avg")
    t.calc("bonus", "加分", lambda r: (
        f"=PERF_CAP(SUMPRODUCT({t.span('party_award_市委市政府', 'party_award_党中央国务院', r)},"
        f"参数!$B$13:$D$13)*({c('party_award_evidence')}{r}<>\"\")"
        f"+SUMPRODUCT({t.span('dept_award_市级部门', 'dept_award_国务院部委', r)},"
        f"参数!$B$15:$D$15)*({c('dept_award_evidence')}{r}<>\"\")"
        f"+{c('county_award')}{r}*({c('county_award_evidence')}{r}<>\"\"),参数!$B$16)"),
        fmt=SCORE2, width=7, total="avg")
    t.calc("deduction", "减分", lambda r: (
        f"=PERF_CAP(SUMPRODUCT({t.span('notice_省级', 'accountability', r)},"
        f"参数!$B$19:$G$19),参数!$B$20)"), fmt=SCORE2, width=7, total="avg")
    t.calc("total", "总分", lambda r: f"=PERF_SCORE(方案,{t.input_span(r)},表头)",
           fmt=SCORE2, total="avg")
    t.calc("flags", "适用条件", lambda r: flags_formula(cs,
        [(f'{c(k)}{r}="是"', k) for k in ("judged_unqualified", "major_accident",
                                          "order_veto", "corruption")]), width=14)
    t.calc("tier", "分数等次（未计名额）",
           lambda r: f"=PERF_GRADE({c('total')}{r},方案,,{c('flags')}{r})", width=9)
    t.results("grade", "等次", width=8)
    t.calc("rank", "排名", lambda r: f"=_xlfn.RANK.EQ({c('total')}{r},{t.col('total')})",
           fmt=WHOLE, width=6)
    t.calc("months", "奖励月数", lambda r: (
        f"=IFERROR(VLOOKUP({c('grade')}{r},参数!$A$8:$D$10,4,FALSE),0)"), fmt=WHOLE, width=7)
    t.calc("payout", "奖金", lambda r: (
        f"=PERF_BONUS({c('grade')}{r},方案,{c('payroll')}{r})"), fmt=MONEY, width=13,
        total="sum")
    t.results("mark", "标记", width=22)
    t.results("explain", "计分明细", width=60, align=WRAP_TOP)
    ws_width = len(t.cols)
    title_block(ws, ws_width, title, "正定县人民政府绩效管理办公室（盖章）", "2017年1月10日",
                "说明：蓝色表头为填报项，橙色表头为公式计算项；先进名额按参评单位数25%四舍五入，"
                "须90分以上（含90分）。")
    t.write(records)
    t.signature()
    wb.defined_names["表头"] = DefinedName("表头", attr_text=t.header_ref())
    grade = t.col("grade").replace("$", "")
    first_grade, first_tier = f"{c('grade')}{t.first}", f"{c('tier')}{t.first}"
    grade_formats(ws, grade, ["先进"], ["不合格"], first_grade, first_tier)
    grade_formats(ws, t.col("tier").replace("$", ""), ["先进"], ["不合格"])
    ws.conditional_formatting.add(t.col("mark").replace("$", ""), CellIsRule(
        operator="notEqual", formula=['""'], fill=RED))
    page_setup(ws, f"{t.group_row}:{t.header_row}")
    tpl.tables.append(t.info())

    p = params_sheet(wb, ref, "考核年度", "2016年度")
    put_table(p, 6, 1, [["等次", "分数要求", "名额比例", "奖励月数（在编人员月工资总额）"],
                        ["先进", "90分以上（含90分）", 0.25, 1],
                        ["合格", "60分（含）至90分", None, 0],
                        ["不合格", "60分以下或经审定认定", None, 0]],
              "等次与奖励标准（002:568-582）", {2: "0%"})
    put_table(p, 11, 1, [["党委政府表彰或典型推广", "市委市政府", "省委省政府", "党中央国务院"],
                         ["分/次", 2, 3, 4],
                         ["上级部门表彰", "市级部门", "省级部门", "国务院部委"],
                         ["分/次", 1, 2, 3],
                         ["加分上限（累计）", 4, None, None]],
              "加分标准（002:550）")
    put_table(p, 17, 1, [["减分项目", "通报批评·省级", "通报批评·市级", "通报批评·县级",
                          "投诉举报查实", "党政纪处分", "行政问责"],
                         ["分/次", 2, 1, 0.5, 0.5, 1, 0.5],
                         ["减分上限（累计）", 4, None, None, None, None, None]],
              "减分标准（002:552）")
    conditions_table(p, 23, cs)

    s = summary_head(wb, "2016年度县直部门绩效评估等次分布", 7)
    g, tot = f"评估表!{t.col('grade')}", f"评估表!{t.col('total')}"
    rows = [["等次", "单位数", "占比", "说明"]]
    notes = {"先进": "名额按参评单位数25%确定，须90分以上", "合格": "60分（含）以上",
             "不合格": "60分以下或经审定认定"}
    for i, label in enumerate(["先进", "合格", "不合格"]):
        rr = 4 + i
        rows.append([label, f"=COUNTIF({g},A{rr})", f"=IF($B$7=0,0,B{rr}/$B$7)", notes[label]])
    rows.append(["合计", "=SUM(B4:B6)", "=SUM(C4:C6)", ""])
    put_table(s, 3, 1, rows, None, {1: WHOLE, 2: PERCENT})
    s.column_dimensions["D"].width = 34
    stats = [["统计项目", "数值"],
             ["参评单位数", f"=COUNTA(评估表!{t.col('unit_name')})"],
             ["先进名额（25%，四舍五入）", "=ROUND(B10*参数!$C$8,0)"],
             ["平均分", f"=ROUND(AVERAGE({tot}),2)"],
             ["最高分", f"=MAX({tot})"],
             ["最低分", f"=MIN({tot})"],
             ["奖金合计（元）", f"=SUM(评估表!{t.col('payout')})"],
             ["抄送有关部门的单位数",
              f'=COUNTIF(评估表!{t.col("mark")},"按干部管理权限抄送有关部门")']]
    put_table(s, 9, 1, stats, None, {1: SCORE2})
    s["B15"].number_format = MONEY
    for cell in ("B10", "B11", "B16"):
        s[cell].number_format = WHOLE
    bar_chart(s, "2016年度县直部门绩效评估等次分布",
              cats=Reference(s, min_col=1, min_row=4, max_row=6),
              data=Reference(s, min_col=2, min_row=3, max_row=6), anchor="F3",
              y_title="单位数")
    finish(wb, out / tpl.file, title=title, subject=cs.scheme.title,
           created=dt.datetime(2017, 1, 5, 9, 0, 0), ref=ref)
    return tpl


# ----------------------------------------------------------------------------- 2. finance


FINANCE_PARTS = {
    "attendance": ("考勤工作（30分，扣完为止）", 30,
                   ["late", "absent", "duty_phone", "duty_late", "duty_absent", "meeting_late",
                    "meeting_absent", "idle", "noon_drinking", "service_complaint",
                    "power_left_on", "power_accident", "event_absent"],
                   [1, 2, 1, 1, 5, 1, 2, 2, 5, 5, 1, 10, 2]),
    "routine": ("常规工作（25分，扣完为止）", 25,
                ["log_late", "log_missing", "summary_overdue", "disobey", "temp_overdue",
                 "secrecy"], [1, 2, 2, 3, 2, 2]),
    "key_work": ("重点工作（30分，扣完为止）", 30,
                 ["key_poor", "key_overdue", "key_criticized", "report_missing",
                  "report_criticized"], [2, 3, 5, 2, 5]),
    "democratic": ("民主测评（15分，扣完为止）", 15, ["vote_bottom"], [2]),
}
FINANCE_PENALTIES = (["criticized", "shirking", "unrest", "inspection_found_通报批评",
                      "inspection_found_媒体曝光", "inspection_found_查处", "major_failure",
                      "emergency_shirking", "time_limit"], [3, 3, 5, 3, 5, 8, 3, 3, 5])
FINANCE_BONUSES = {
    "unit_award": "国家级5 省级3 市级2 本局1", "personal_award": "国家级5 省级3 市级2 本局1",
    "hard_task": 2, "article": "国家级3 省级2 市级1", "welfare": "取得名次2 参加1",
}


def finance(store: SchemeStore, out: Path) -> Template:
    """市财政局 monthly points sheet (004:205-303): one row per person, grouped by 分管领导."""
    ref = "finance-bureau-points@1"
    cs = store.get(ref)
    records = demo_records(cs, "finance-bureau-points")
    title = "市财政局干部职工平时考核积分表（2016年6月）"
    tpl = Template("财政局平时考核积分-月度.xlsx", ref, title, counts=(4, 8, "B"))
    wb, ws = new_book("月考核表")
    t = Table(ws, cs, std_row=5, std_label="每次分值")
    t.index()
    t.inputs("基本情况", ["name", "office", "leader", "leave_days", "refused"],
             widths={"name": 8, "office": 11, "leader": 8})
    for group, _points, ids, amounts in FINANCE_PARTS.values():
        t.inputs(group, ids, width=7, std=dict(zip(ids, amounts, strict=True)))
    bonus_ids = ["unit_award", "unit_award_evidence", "personal_award",
                 "personal_award_evidence", "hard_task", "hard_task_evidence", "article",
                 "article_evidence", "welfare", "welfare_evidence"]
    t.inputs("奖励加分（每类封顶5分，合计封顶25分，同项取最高，须书面依据）", bonus_ids,
             width=11, std=FINANCE_BONUSES)
    pen_ids, pen_amounts = FINANCE_PENALTIES
    t.inputs("惩戒扣分（不封顶）", pen_ids, width=7,
             std=dict(zip(pen_ids, pen_amounts, strict=True)))
    c = t.c
    std = t.std_row
    # The part subtotals, in the order of the scheme's tie keys (重点工作, 常规工作, 考勤工作).
    for part in ("key_work", "routine", "attendance", "democratic"):
        _group, points, ids, _amounts = FINANCE_PARTS[part]
        header = {"attendance": "考勤工作", "routine": "常规工作", "key_work": "重点工作",
                  "democratic": "民主测评"}[part]

        def formula(r: int, ids: list[str] = ids, points: int = points) -> str:
            a, b = c(ids[0]), c(ids[-1])
            return f"=PERF_DEDUCT({points},SUMPRODUCT({a}{r}:{b}{r},${a}${std}:${b}${std}))"

        t.calc(part, f"{header}（{points}分）", formula, fmt=WHOLE, width=7, total="avg")
    t.calc("base", "基本分", lambda r: f"=SUM({t.span('key_work', 'democratic', r)})",
           fmt=WHOLE, width=7, total="avg")
    t.calc("bonus", "奖励加分", lambda r: f"={c('total')}{r}-{c('base')}{r}+{c('penalty')}{r}",
           fmt=WHOLE, width=7, total="avg")
    t.calc("penalty", "惩戒扣分", lambda r: (
        f"=SUMPRODUCT({c(pen_ids[0])}{r}:{c(pen_ids[-1])}{r},"
        f"${c(pen_ids[0])}${std}:${c(pen_ids[-1])}${std})"), fmt=WHOLE, width=7, total="avg")
    t.calc("total", "总分", lambda r: f"=PERF_SCORE(方案,{t.input_span(r)},表头)",
           fmt=WHOLE, width=7, total="avg")
    t.calc("group_rank", "排名", lambda r: (
        f'=COUNTIFS({t.col("leader")},{c("leader")}{r},{t.col("total")},">"&{c("total")}{r})+1'),
        fmt=WHOLE, width=6)
    t.calc("flags", "适用条件", lambda r: flags_formula(cs, [
        (f'{c("refused")}{r}="是"', "refused"), (f"{c('leave_days')}{r}>12", "long_leave"),
        (f"{c('time_limit')}{r}>0", "time_limit")]), width=12)
    t.calc("tier", "分数等次（未计名额）",
           lambda r: f"=PERF_GRADE({c('total')}{r},方案,,{c('flags')}{r})", width=9)
    t.results("grade", "等次", width=8)
    t.calc("standard", "奖金标准(元)", lambda r: (
        f"=IFERROR(VLOOKUP({c('grade')}{r},参数!$A$14:$D$17,4,FALSE),0)"), fmt=MONEY,
        width=10)
    t.calc("payout", "奖金", lambda r: f"=PERF_BONUS({c('grade')}{r},方案)", fmt=MONEY,
           width=10, total="sum")
    t.results("mark", "标记", width=22)
    t.results("explain", "计分明细", width=60, align=WRAP_TOP)
    title_block(ws, len(t.cols), title, "市财政局人事教育科", "2016年7月5日",
                "说明：扣分项填次数（没有发生的留空），每次分值见第5行；奖励加分填级别，"
                "同一事项多个级别用逗号分隔、不同事项用分号分隔，并填书面依据。"
                "“好”等次不超过各分管领导分管人数的40%。")
    t.write(records)
    t.signature("制表人：　　　　　　　　科室负责人：　　　　　　　　分管领导：　　　　　　　　")
    wb.defined_names["表头"] = DefinedName("表头", attr_text=t.header_ref())
    grade_formats(ws, t.col("grade").replace("$", ""), ["好"], ["差"],
                  f"{c('grade')}{t.first}", f"{c('tier')}{t.first}")
    grade_formats(ws, t.col("tier").replace("$", ""), ["好"], ["差"])
    ws.conditional_formatting.add(t.col("mark").replace("$", ""), CellIsRule(
        operator="notEqual", formula=['""'], fill=RED))
    page_setup(ws, f"{t.group_row}:{t.header_row}")
    tpl.tables.append(t.info())

    p = params_sheet(wb, ref, "考核月份", "2016年6月")
    leaders = sorted({str(rec["leader"]) for rec in records},
                     key=[str(rec["leader"]) for rec in records].index)
    put_table(p, 6, 1, [["分管领导"], *[[x] for x in leaders]],
              "分管领导（“分管领导”列的下拉选项）")
    lo, hi = 8, 7 + len(leaders)
    dv = DataValidation(type="list", formula1=f"参数!$A${lo}:$A${hi}", allow_blank=False,
                        showInputMessage=True, showErrorMessage=True, promptTitle="填写说明",
                        prompt="请从下拉列表选择分管领导；“好”等次名额按分管领导分别计算。",
                        errorTitle="输入有误", error="请选择参数表中列出的分管领导。")
    ws.add_data_validation(dv)
    dv.add(t.col("leader").replace("$", ""))
    assert hi < 12
    put_table(p, 12, 1, [["等次", "积分", "名额", "奖励（元/月）"],
                         ["好", "95分以上（含95分）", "分管人数40%以内", 300],
                         ["良好", "85分（含）至95分", "", 200],
                         ["一般", "70分（含）至85分", "", 0],
                         ["差", "70分以下", "", 0]],
              "等次与奖励标准（004:207、004:299；分数线和金额由局党组确定）", {3: MONEY})
    conditions_table(p, 19, cs)

    s = summary_head(wb, "2016年6月平时考核等次分布", 9)
    g = f"月考核表!{t.col('grade')}"
    labels = ["好", "良好", "一般", "差", NO_GRADE]
    rows = [["等次", "人数", "占比"]]
    for i, label in enumerate(labels):
        rr = 4 + i
        rows.append([label, f"=COUNTIF({g},A{rr})", f"=IF($B$9=0,0,B{rr}/$B$9)"])
    rows.append(["合计", "=SUM(B4:B8)", "=SUM(C4:C8)"])
    put_table(s, 3, 1, rows, None, {1: WHOLE, 2: PERCENT})
    lead = f"月考核表!{t.col('leader')}"
    matrix = [["分管领导", "分管人数", "“好”名额（40%以内）", *labels]]
    for i, name in enumerate(leaders):
        rr = 13 + i
        matrix.append([name, f"=COUNTIF({lead},A{rr})", f"=ROUNDDOWN(B{rr}*40%,0)",
                       *[f'=COUNTIFS({lead},$A{rr},{g},"{x}")' for x in labels]])
    end = put_table(s, 11, 1, matrix, "按分管领导统计", {1: WHOLE, 2: WHOLE})
    tot = f"月考核表!{t.col('total')}"
    put_table(s, end, 1, [["统计项目", "数值"],
                          ["平均积分", f"=ROUND(AVERAGE({tot}),2)"],
                          ["最高积分", f"=MAX({tot})"],
                          ["最低积分", f"=MIN({tot})"],
                          ["奖励合计（元）", f"=SUM(月考核表!{t.col('payout')})"],
                          ["积分后20%人数", f'=COUNTIF(月考核表!{t.col("mark")},"?*")']],
              "其他统计", {1: SCORE2})
    s.cell(end + 5, 2).number_format = MONEY
    s.cell(end + 6, 2).number_format = WHOLE
    bar_chart(s, "平时考核等次分布", cats=Reference(s, min_col=1, min_row=4, max_row=8),
              data=Reference(s, min_col=2, min_row=3, max_row=8), anchor="E3")
    finish(wb, out / tpl.file, title=title, subject=cs.scheme.title,
           created=dt.datetime(2016, 7, 1, 9, 0, 0), ref=ref)
    return tpl


# ----------------------------------------------------------------------------- 3. meiling


def meiling(store: SchemeStore, out: Path) -> Template:
    """梅岭街道 quarterly staff assessment (004:487-527): categories, quotas, payouts."""
    ref = "meiling-street-quarterly@1"
    cs = store.get(ref)
    records = demo_records(cs, "meiling-street-quarterly")
    title = "梅岭街道机关事业单位工作人员2016年第二季度绩效考核表"
    tpl = Template("梅岭街道季度绩效考核.xlsx", ref, title, counts=(4, 8, "E"))
    wb, ws = new_book("季度考核表")
    t = Table(ws, cs)
    t.index()
    t.inputs("基本情况", ["name", "category", "has_office", "has_community", "project_count"],
             widths={"name": 8, "category": 12})
    t.inputs("在岗、请假及奖惩情况", ["leave_days", "sick_days", "new_staff", "workdays", "warned",
                                "investigated", "disciplined", "leaving", "months_served"],
             width=8)
    t.inputs("工作考评（常规50 + 重点项目40 + 考勤10，奖惩附加分±10）",
             ["office", "community", "project1", "project2", "late", "absent_days", "merit"],
             width=7.5)
    t.inputs("党政领导测评", ["leaders"], width=9)
    c = t.c
    t.calc("routine", "常规工作（50分）", lambda r: (
        f'=(IF({c("has_office")}{r}="是",{c("office")}{r},0)'
        f'+IF({c("has_community")}{r}="是",{c("community")}{r},0))*50'
        f'/(IF({c("has_office")}{r}="是",25,0)+IF({c("has_community")}{r}="是",25,0))'),
        fmt=SCORE1, width=8, total="avg")
    t.calc("projects", "重点项目（40分）", lambda r: (
        f"=IF({c('project_count')}{r}>=2,{c('project1')}{r}+{c('project2')}{r},"
        f"IF({c('project_count')}{r}=1,{c('project1')}{r}*2,0))"), fmt=SCORE1, width=8,
        total="avg")
    t.calc("attendance", "考勤（10分）", lambda r: (
        f"=IF(OR({c('late')}{r}>=10,{c('absent_days')}{r}>=2),0,"
        f"PERF_DEDUCT(10,{c('late')}{r}*1+{c('absent_days')}{r}*5))"), fmt=SCORE1, width=7,
        total="avg")
    t.calc("work", "工作考评（百分制）", lambda r: (
        f"=IF({c('project_count')}{r}=0,{c('routine')}{r}*90/50,"
        f"{c('routine')}{r}+{c('projects')}{r})+{c('attendance')}{r}+{c('merit')}{r}"),
        fmt=SCORE1, width=9, total="avg")
    t.calc("leaders_rank", "测评组内排名", lambda r: (
        f'=COUNTIFS({t.col("category")},{c("category")}{r},{t.col("leaders")},'
        f'">"&{c("leaders")}{r})+1'), fmt=WHOLE, width=7)
    t.calc("leaders_band", "测评得分（百分制）", lambda r: (
        "=IF({rank}<=ROUND({n}*参数!$B$7,0),参数!$C$7,"
        "IF({rank}<=ROUND({n}*参数!$B$8,0),参数!$C$8,参数!$C$9))").format(
            rank=f"{c('leaders_rank')}{r}",
            n=f"COUNTIF({t.col('category')},{c('category')}{r})"), fmt=WHOLE, width=8)
    # The office's own arithmetic (工作考评×60% + 测评×40%), kept beside the scheme's total:
    # xlbridge recompute and 检查本表 compare them row by row and list any difference (a
    # sheet pointed at a version with other weights, a broken formula).
    t.calc("own_total", "考评得分（表内公式）", lambda r: (
        f"=ROUND({c('work')}{r}*60%+{c('leaders_band')}{r}*40%,1)"), fmt=SCORE1, width=8,
        total="avg")
    t.results("total", "总分", fmt=SCORE1, width=7, total="avg")
    t.calc("group_rank", "排名", lambda r: (
        f'=COUNTIFS({t.col("category")},{c("category")}{r},{t.col("total")},'
        f'">"&{c("total")}{r})+1'), fmt=WHOLE, width=6)

    def yes(k: str, r: int) -> str:
        return f'{c(k)}{r}="是"'

    t.calc("flags", "适用条件", lambda r: flags_formula(cs, [
        (f"{c('absent_days')}{r}>2", "absent_over_2"), (yes("disciplined", r), "disciplined"),
        (f"AND({yes('new_staff', r)},{c('workdays')}{r}<20)", "new_staff"),
        (f"{c('sick_days')}{r}>40", "long_sick"), (yes("warned", r), "warned"),
        (yes("investigated", r), "investigated"), (yes("leaving", r), "leaving")]), width=12)
    t.calc("tier", "分数等次（未计名额）",
           lambda r: f"=PERF_GRADE({c('total')}{r},方案,,{c('flags')}{r})", width=9)
    t.results("grade", "等次", width=8)
    t.calc("standard", "奖金标准(元)", lambda r: (
        f"=IFERROR(VLOOKUP({c('grade')}{r},参数!$A$12:$D$15,4,FALSE),0)"), fmt=MONEY,
        width=10)
    # the payout rules (请假超过15天不享受优秀奖金, 退休调离按月折算) read the record: the engine
    # pays them, PERF_BONUS of a grade alone would refuse
    t.results("payout", "奖金", fmt=MONEY, width=10, total="sum")
    t.results("mark", "标记", width=22)
    t.results("explain", "计分明细", width=60, align=WRAP_TOP)
    title_block(ws, len(t.cols), title, "梅岭街道党政办（考核办）", "2016年7月8日",
                "说明：考评得分=工作考评×60%+党政领导测评×40%；测评按考核类别组内排名计分"
                "（前25%得90分，25%～55%得80分，其余70分）；优秀≤25%、良好≤30%，按类别分别控制。")
    t.write(records)
    t.signature("制表人：　　　　　　　　审核人：　　　　　　　　"
                "街道考核领导小组：　　　　　　　　")
    wb.defined_names["表头"] = DefinedName("表头", attr_text=t.header_ref())
    grade_formats(ws, t.col("grade").replace("$", ""), ["优秀"], ["不称职"],
                  f"{c('grade')}{t.first}", f"{c('tier')}{t.first}")
    grade_formats(ws, t.col("tier").replace("$", ""), ["优秀"], ["不称职"])
    page_setup(ws, f"{t.group_row}:{t.header_row}")
    tpl.tables.append(t.info())

    p = params_sheet(wb, ref, "考核季度", "2016年第二季度")
    put_table(p, 5, 1, [["党政领导测评（组内排名）", "累计比例", "得分（百分制）"],
                        ["前25%", 0.25, 90], ["前25%～55%", 0.55, 80], ["其余", None, 70]],
              "党政领导测评计分（004:497；人数四舍五入）", {1: "0%"})
    put_table(p, 10, 1, [["等次", "考评得分", "比例上限（按类别）", "奖金（元/季）"],
                         ["优秀", "90分以上", 0.25, 2100], ["良好", "75分至89分", 0.30, 1800],
                         ["称职", "60分至74分", None, 1500], ["不称职", "60分以下", None, 0]],
              "等次、名额与奖金（004:501、004:525）", {2: "0%", 3: MONEY})
    p["A17"], p["B17"] = "请假超过以下工作日，不享受优秀等次奖金（按良好）", 15
    p["C17"] = "当季退休或调离本市：按在职月数享受称职等次奖金（004:503）"
    style(p["A17"], HEAD_FONT, CENTER, INPUT_HEAD)
    style(p["B17"], BODY_FONT, CENTER)
    p["C17"].font = NOTE_FONT
    p.row_dimensions[17].height = 30
    conditions_table(p, 19, cs)

    cats = list(cs.input_by_id["category"].labels or ())
    s = summary_head(wb, "2016年第二季度绩效考核等次分布（按考核类别）", 10)
    g = f"季度考核表!{t.col('grade')}"
    cat_rng = f"季度考核表!{t.col('category')}"
    labels = ["优秀", "良好", "称职", "不称职", NO_GRADE]
    rows = [["等次", *cats, "合计", "占比"]]
    for i, label in enumerate(labels):
        rr = 4 + i
        rows.append([label, *[f'=COUNTIFS({cat_rng},{get_column_letter(2 + j)}$3,{g},$A{rr})'
                              for j in range(len(cats))],
                     f"=SUM(B{rr}:D{rr})", f"=IF($E$9=0,0,E{rr}/$E$9)"])
    rows.append(["合计", *[f"=SUM({x}4:{x}8)" for x in "BCDE"], "=SUM(F4:F8)"])
    put_table(s, 3, 1, rows, None, {1: WHOLE, 2: WHOLE, 3: WHOLE, 4: WHOLE, 5: PERCENT})
    quota = [["考核类别", "参加考核人数", "优秀名额（25%以内）", "良好名额（30%以内）",
              "平均分", "奖金合计（元）"]]
    tot, pay = f"季度考核表!{t.col('total')}", f"季度考核表!{t.col('payout')}"
    for i, cat in enumerate(cats):
        rr = 13 + i
        quota.append([cat, f"=COUNTIF({cat_rng},A{rr})", f"=ROUNDDOWN(B{rr}*25%,0)",
                      f"=ROUNDDOWN(B{rr}*30%,0)", f"=ROUND(AVERAGEIF({cat_rng},A{rr},{tot}),1)",
                      f"=SUMIF({cat_rng},A{rr},{pay})"])
    quota.append(["合计", "=SUM(B13:B15)", "=SUM(C13:C15)", "=SUM(D13:D15)",
                  f"=ROUND(AVERAGE({tot}),1)", "=SUM(F13:F15)"])
    put_table(s, 11, 1, quota, "名额与奖金（按考核类别）",
              {1: WHOLE, 2: WHOLE, 3: WHOLE, 4: SCORE1, 5: MONEY})
    bar_chart(s, "季度考核等次分布", cats=Reference(s, min_col=1, min_row=4, max_row=8),
              data=Reference(s, min_col=2, max_col=4, min_row=3, max_row=8), anchor="H3")
    finish(wb, out / tpl.file, title=title, subject=cs.scheme.title,
           created=dt.datetime(2016, 7, 4, 9, 0, 0), ref=ref)
    return tpl


# ----------------------------------------------------------------------------- 4. hospital


CLINICAL = (["c_record_乙级", "c_record_丙级", "c_core_rules", "c_infection", "c_prescription",
             "c_adverse_event", "c_critical_value", "c_dispute"], [2, 5, 2, 1, 0.5, 3, 2, 5])
FUNCTIONAL = (["f_check_missed", "f_notice_late", "f_report_late", "f_risk_unreported",
               "f_safety_event", "f_criticized"], [3, 2, 2, 3, 5, 5])
BANDS = ["95分及以上", "90～95分", "85～90分", "85分以下"]


def hospital_sheet(wb: Workbook, cs: CompiledScheme, kind: str, title: str,
                   records: list[dict[str, Any]]) -> Table:
    """One 科室类别's sheet: its own inputs (the other kind's stay blank), deduction subtotals."""
    ws = wb.create_sheet(kind)
    ws.sheet_view.zoomScale = 90
    t = Table(ws, cs, std_row=5, std_label="每次扣分")
    c = t.c
    t.index()
    t.inputs("科室", ["dept_name", "dept_type"], widths={"dept_name": 16, "dept_type": 10})
    if kind == "临床科室":
        ids, amounts = CLINICAL
        full = 85
        t.inputs("质量与安全（85分，减分制）", ids, width=8,
                 std=dict(zip(ids, amounts, strict=True)))
        t.inputs("关键指标（10分）", ["c_key_missed"], width=8, std={"c_key_missed": 5})
        t.inputs("重点单项：满意度调查（5分）", ["c_satisfaction_num", "c_satisfaction_den"],
                 width=9)
    else:
        ids, amounts = FUNCTIONAL
        full = 90
        votes = ["f_satisfaction_满意", "f_satisfaction_基本满意", "f_satisfaction_不满意"]
        t.inputs("质量与安全（90分，减分制）", ids, width=9,
                 std=dict(zip(ids, amounts, strict=True)))
        t.inputs("临床对职能科室的满意度评价（10分，票数）", votes, width=9,
                 std=dict(zip(votes, ["100%", "80%", "60%"], strict=True)))
    t.calc("quality", "质量与安全得分", lambda r: (
        f"=PERF_DEDUCT({full},SUMPRODUCT({t.span(ids[0], ids[-1], r)},"
        f"${c(ids[0])}$5:${c(ids[-1])}$5))"), fmt=SCORE2, total="avg")
    if kind == "临床科室":
        t.calc("key", "关键指标得分", lambda r: (
            f"=PERF_DEDUCT(10,{c('c_key_missed')}{r}*${c('c_key_missed')}$5)"),
            fmt=SCORE2, total="avg")
        t.calc("satisfaction", "满意度得分", lambda r: (
            f"=5*{c('c_satisfaction_num')}{r}/{c('c_satisfaction_den')}{r}"),
            fmt=SCORE2, total="avg")
    else:
        t.calc("satisfaction", "满意度评价得分", lambda r: (
            f"=10*SUMPRODUCT({t.span(votes[0], votes[-1], r)},参数!$B$13:$D$13)"
            f"/SUM({t.span(votes[0], votes[-1], r)})"), fmt=SCORE2, total="avg")
    t.calc("total", "总分", lambda r: f"=PERF_SCORE(方案,{t.input_span(r)},表头)",
           fmt=SCORE2, total="avg")
    t.calc("rank", "排名", lambda r: f"=_xlfn.RANK.EQ({c('total')}{r},{t.col('total')})",
           fmt=WHOLE, width=6)
    t.calc("band", "分数段", lambda r: f"=VLOOKUP({c('total')}{r},参数!$A$7:$B$10,2,TRUE)",
           width=10)
    t.calc("explain", "计分明细", lambda r: f"=PERF_EXPLAIN(方案,{t.input_span(r)},表头)",
           width=60, align=WRAP_TOP)
    title_block(ws, len(t.cols), f"{title}（{kind}）", "质量管理办公室", "2016年6月3日",
                "说明：减分制，各项填写问题数（无问题留空）；"
                "总分报经济管理办公室作为管理绩效指标。")
    t.write(records)
    t.signature("考核人：　　　　　　　　质量管理办公室负责人：　　　　　　　　")
    ws.defined_names["表头"] = DefinedName("表头", attr_text=t.header_ref())
    band = t.col("band").replace("$", "")
    ws.conditional_formatting.add(band, CellIsRule(
        operator="equal", formula=[f'"{BANDS[0]}"'], fill=GREEN, font=Font(color="006100")))
    ws.conditional_formatting.add(band, CellIsRule(
        operator="equal", formula=[f'"{BANDS[-1]}"'], fill=RED, font=Font(color="9C0006")))
    ws.conditional_formatting.add(t.col("total").replace("$", ""), CellIsRule(
        operator="lessThan", formula=["85"], fill=RED, font=Font(color="9C0006")))
    page_setup(ws, f"{t.group_row}:{t.header_row}", a3=False)
    return t


def hospital(store: SchemeStore, out: Path) -> Template:
    """A hospital's monthly 科室 quality assessment (002:36-58): one sheet per 科室类别."""
    ref = "hospital-2016@1"
    cs = store.get(ref)
    records = demo_records(cs, "hospital-2016")
    title = "***医院2016年5月科室综合目标管理质量考核表"
    tpl = Template("医院科室质量考核-月度.xlsx", ref, title, grade_key=None,
                   counts=(4, 7, "D"))
    wb = Workbook()
    wb.remove(wb.active)
    sheets = []
    for kind in ("临床科室", "职能科室"):
        t = hospital_sheet(wb, cs, kind, title, [r for r in records if r["dept_type"] == kind])
        tpl.tables.append(t.info())
        sheets.append(t)

    p = params_sheet(wb, ref, "考核月份", "2016年5月")
    put_table(p, 6, 1, [["分数下限", "分数段"], [0, BANDS[3]], [85, BANDS[2]], [90, BANDS[1]],
                        [95, BANDS[0]]],
              None, {0: SCORE2})
    p["D6"] = "分数段仅用于统计分析（VLOOKUP 近似匹配）。本方案不设等次与奖金（002:74）。"
    p["D6"].font = NOTE_FONT
    put_table(p, 12, 1, [["满意度评价", "满意", "基本满意", "不满意"],
                         ["折算比例", 1, 0.8, 0.6]], None, {1: "0%", 2: "0%", 3: "0%"})
    for cell in ("C13", "D13"):
        p[cell].number_format = "0%"

    s = summary_head(wb, "2016年5月科室质量考核分数段分布", 8)
    rows = [["分数段", "临床科室", "职能科室", "合计"]]
    for i, band in enumerate(BANDS):
        rr = 4 + i
        rows.append([band, *[f"=COUNTIF({tb.ws.title}!{tb.col('band')},$A{rr})"
                             for tb in sheets], f"=SUM(B{rr}:C{rr})"])
    rows.append(["合计", "=SUM(B4:B7)", "=SUM(C4:C7)", "=SUM(D4:D7)"])
    put_table(s, 3, 1, rows, None, {1: WHOLE, 2: WHOLE, 3: WHOLE})
    stats = [["统计项目", "临床科室", "职能科室"],
             ["科室数", *[f"=COUNTA({tb.ws.title}!{tb.col('dept_name')})" for tb in sheets]],
             ["平均分", *[f"=ROUND(AVERAGE({tb.ws.title}!{tb.col('total')}),2)" for tb in sheets]],
             ["最高分", *[f"=MAX({tb.ws.title}!{tb.col('total')})" for tb in sheets]],
             ["最低分", *[f"=MIN({tb.ws.title}!{tb.col('total')})" for tb in sheets]],
             ["85分以下科室数", *[f'=COUNTIF({tb.ws.title}!{tb.col("total")},"<85")'
                                for tb in sheets]]]
    put_table(s, 10, 1, stats, None, {1: SCORE2, 2: SCORE2})
    for cell in ("B11", "C11", "B15", "C15"):
        s[cell].number_format = WHOLE
    bar_chart(s, "科室质量考核分数段分布", cats=Reference(s, min_col=1, min_row=4, max_row=7),
              data=Reference(s, min_col=2, max_col=3, min_row=3, max_row=7), anchor="F3",
              y_title="科室数", x_title="分数段")
    finish(wb, out / tpl.file, title=title, subject=cs.scheme.title,
           created=dt.datetime(2016, 6, 1, 9, 0, 0), ref=ref)
    return tpl


# ----------------------------------------------------------------------------- main

BUILDERS = (county, finance, meiling, hospital)


def build_all(out: Path = OUT, store: SchemeStore | None = None, *,
              recompute: bool = True) -> list[Template]:
    """Write every template into ``out``; returns where each table lies.

    With ``recompute`` (the default) every formula's value is then stored in the file by
    ``xlbridge recompute`` with the shipped schemes, so that a template opened on a PC without
    the add-in — Excel, WPS or LibreOffice — shows the demo results instead of ``#NAME?``.
    """
    store = store or SchemeStore([SCHEMES])
    templates = [build(store, Path(out)) for build in BUILDERS]
    if recompute:
        store_values(store, [Path(out) / t.file for t in templates])
    return templates


def store_values(store: SchemeStore, files: Sequence[Path]) -> None:
    """Recompute ``files`` in place with the PERF_* functions; stop on any failure."""
    from xlbridge.batch import perf_functions
    from xlbridge.recompute import recompute_file
    from xlbridge.store import using_store

    with using_store(store):
        for path in files:
            report = recompute_file(path, functions=perf_functions())
            if not report.ok or report.issues() or report.recomputed != report.formulas:
                raise SystemExit(f"{path}: recompute failed:\n{report.summary()}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    parser.add_argument("--no-values", action="store_true",
                        help="leave the formulas without stored values (as openpyxl writes "
                             "them; Excel then recalculates on open)")
    args = parser.parse_args(argv)
    for tpl in build_all(args.out, recompute=not args.no_values):
        print(f"{args.out / tpl.file}  ({tpl.ref})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
