"""``xlbridge template --scheme S -o 新表.xlsx``: a blank input workbook for any scheme.

One sheet, 录入表: the scheme's title, the pinned scheme (``方案`` names the cell holding
``id@version``, so the workbook keeps computing with that version, and PERF_* formulas and the
ribbon read it), one column per input under its Chinese label — the block the defined name
``表头`` covers — and the result columns (总分、等次、奖金、排名、标记) computed by one
``PERF_RESULTS`` formula over the whole input block. Every input cell has data validation
(numbers in range, whole numbers for counts, lists for ratings and levels, 是/否) and an input
prompt that names the rule reading it and the line of the written scheme it comes from
(``source:``). Printing is set up: landscape, one page wide, the header row repeated.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula

from xlbridge.engine import CompiledScheme
from xlbridge.engine.columns import DEFAULT_COLUMNS
from xlbridge.i18n import t
from xlbridge.results import number_format, result_headers
from xlbridge.scheme.inputs import InputSpec
from xlbridge.xlsxout import BOX, INPUT_HEAD, RESULT_HEAD

SHEET = "录入表"
HEADER_ROW = 4
#: The result columns a template computes: PERF_RESULTS' default ones, in its order.
RESULTS = DEFAULT_COLUMNS
# the colours of every workbook xlbridge writes: blue = filled in, orange = computed
CALC_HEAD = RESULT_HEAD
CALC_CELL = PatternFill("solid", fgColor="F7F7F7")
HEAD = Alignment(horizontal="center", vertical="center", wrap_text=True)
_STEP = re.compile(r"([A-Za-z_]\w*)(?:\[(\d+)\])?")


def rule_of(cs: CompiledScheme, spec: InputSpec) -> tuple[str, str | None]:
    """The title of the rule that reads ``spec`` and its ``source:`` (the seed line), found
    by walking the input's path in the scheme (``parts[0].parts[2]``); the nearest enclosing
    rule's source where the rule itself names none."""
    obj: Any = cs.scheme
    title, source = cs.scheme.title, getattr(cs.scheme, "source", None)
    for step in spec.path.split("."):
        m = _STEP.fullmatch(step)
        if m is None:
            break
        obj = getattr(obj, m.group(1), None)
        if obj is not None and m.group(2) is not None:
            try:
                obj = obj[int(m.group(2))]
            except (IndexError, KeyError, TypeError):
                obj = None
        if obj is None:
            break
        title = getattr(obj, "title", None) or title
        source = getattr(obj, "source", None) or source
    return title, source


def _num(x: Decimal | None) -> str:
    return "" if x is None else format(Decimal(x).normalize(), "f")


def input_validation(cs: CompiledScheme, spec: InputSpec) -> DataValidation:
    """The data validation of one input's cells, with a prompt naming its rule and seed."""
    rule, source = rule_of(cs, spec)
    where = t("{rule}（{source}）", rule=rule, source=source) if source else rule
    blank_ok = spec.blank != "error" or spec.optional or spec.conditional
    blank = (t("留空按0计") if spec.blank == "zero" else t("留空按“否”计")
             if spec.blank == "false" else t("可留空") if blank_ok else t("必须填写"))
    kw: dict[str, Any] = {}
    if spec.type == "bool":
        # the list holds the values the engine reads (是/否), in either language
        kw = dict(type="list", formula1='"是,否"', error=t("只能选择“是”或“否”。"))
        what = t("选择“是”或“否”")
    elif spec.type == "label":
        labels = list(spec.labels or ())
        kw = dict(type="list", formula1='"' + ",".join(labels) + '"',
                  error=t("请从下拉列表中选择：{labels}", labels=t("、").join(labels)))
        what = t("从下拉列表选择：{labels}", labels=t("、").join(labels))
    elif spec.type in ("number", "count"):
        kind = "whole" if spec.type == "count" else "decimal"
        low = spec.min if spec.min is not None else (Decimal(0) if spec.type == "count"
                                                     else None)
        high = spec.max
        noun = t("整数") if spec.type == "count" else t("数值")
        if low is not None and high is not None:
            kw = dict(type=kind, operator="between", formula1=_num(low), formula2=_num(high))
            what = t("填写 {low}～{high} 的{noun}", low=_num(low), high=_num(high), noun=noun)
            only = t("只能填写 {low}～{high} 的{noun}。", low=_num(low), high=_num(high),
                     noun=noun)
        elif low is not None:
            kw = dict(type=kind, operator="greaterThanOrEqual", formula1=_num(low))
            what = t("填写不小于 {low} 的{noun}", low=_num(low), noun=noun)
            only = t("只能填写不小于 {low} 的{noun}。", low=_num(low), noun=noun)
        elif high is not None:
            kw = dict(type=kind, operator="lessThanOrEqual", formula1=_num(high))
            what = t("填写不大于 {high} 的{noun}", high=_num(high), noun=noun)
            only = t("只能填写不大于 {high} 的{noun}。", high=_num(high), noun=noun)
        else:
            kw = dict(type="decimal", operator="between", formula1="-999999999999999",
                      formula2="999999999999999")
            what = t("填写{noun}", noun=noun)
            only = t("只能填写{noun}。", noun=noun)
        kw["error"] = only
    else:
        what = t("填写文字")
    prompt = t("{where}：{what}；{blank}。", where=where, what=what, blank=blank)
    return DataValidation(allow_blank=True, showInputMessage=True,
                          showErrorMessage="error" in kw, errorStyle="stop",
                          errorTitle=t("输入有误"), promptTitle=spec.label[:32],
                          prompt=prompt[:255], **kw)


def _width(text: str) -> float:
    return min(18.0, max(8.0, sum(2 if ord(ch) > 0x2E7F else 1 for ch in text) / 2 + 3))


def blank_template(cs: CompiledScheme, rows: int = 50) -> bytes:
    """The workbook's bytes: ``rows`` empty record rows under the scheme's input columns."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    specs = list(cs.inputs)
    n_in = len(specs)
    first, last = HEADER_ROW + 1, HEADER_ROW + rows
    headers = result_headers(RESULTS)
    width = n_in + len(headers)
    last_in = get_column_letter(n_in)

    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=min(width, 12))
    ws.cell(1, 1, t("{title} 录入表", title=cs.scheme.title)).font = Font(name="黑体", size=15,
                                                                          bold=True)
    ws.row_dimensions[1].height = 28
    ws.cell(2, 1, t("方案")).font = Font(bold=True)
    ws.cell(2, 2, cs.ref)           # pinned: this workbook computes with this version
    ws.merge_cells(start_row=2, start_column=3, end_row=2, end_column=min(width, 12))
    ws.cell(2, 3, "=PERF_SCHEME(方案)")
    ws.cell(3, 1, t("蓝色表头为填报项（单元格有填写说明和有效性检查），"
                    "橙色表头由公式计算，请勿填写。")
            ).font = Font(size=9, italic=True, color="595959")
    wb.defined_names["方案"] = DefinedName("方案", attr_text=f"{SHEET}!$B$2")
    wb.defined_names["表头"] = DefinedName(
        "表头", attr_text=f"{SHEET}!$A${HEADER_ROW}:${last_in}${HEADER_ROW}")

    for j, spec in enumerate(specs, start=1):
        cell = ws.cell(HEADER_ROW, j, spec.label)
        cell.fill, cell.font, cell.alignment, cell.border = INPUT_HEAD, Font(bold=True), HEAD, BOX
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = _width(spec.label)
        dv = input_validation(cs, spec)
        ws.add_data_validation(dv)
        dv.add(f"{letter}{first}:{letter}{last}")
        for r in range(first, last + 1):
            c = ws.cell(r, j)
            c.border = BOX
            if spec.type in ("text", "label"):
                c.number_format = "@"
    rounding = cs.scheme.rounding
    formats = {"total": number_format(rounding.total.digits if rounding.total else None),
               "payout": number_format(rounding.payout.digits if rounding.payout else 2),
               "rank": "0"}
    for k, key in enumerate(RESULTS):
        j = n_in + 1 + k
        cell = ws.cell(HEADER_ROW, j, headers[k])
        cell.fill, cell.font, cell.alignment, cell.border = CALC_HEAD, Font(bold=True), HEAD, BOX
        ws.column_dimensions[get_column_letter(j)].width = 14 if key == "flags" else 9
        for r in range(first, last + 1):
            c = ws.cell(r, j)
            c.fill, c.border = CALC_CELL, BOX
            if key in formats:
                c.number_format = formats[key]
    # the result block: one formula over every record row, in the always-right form
    start, end = get_column_letter(n_in + 1), get_column_letter(width)
    ws.cell(first, n_in + 1).value = ArrayFormula(
        f"{start}{first}:{end}{last}",
        f"=PERF_RESULTS(方案,$A${first}:${last_in}${last},"
        f"$A${HEADER_ROW}:${last_in}${HEADER_ROW},,ROW($A${first}))")
    ws.row_dimensions[HEADER_ROW].height = 42
    ws.freeze_panes = ws.cell(first, 2)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{end}{last}"

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4 if width <= 20 else ws.PAPERSIZE_A3
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:{end}{last}"
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = t("第 &P 页，共 &N 页")
    wb.properties.title = t("{title} 录入表", title=cs.scheme.title)
    wb.properties.creator = "xlbridge"
    wb.properties.keywords = f"绩效考核 xlbridge {cs.ref}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
