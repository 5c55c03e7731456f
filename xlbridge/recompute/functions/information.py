"""Information: IS*, N, TYPE, ERROR.TYPE, SHEET(S), NA, CELL…"""

from __future__ import annotations

from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import (
    ROW_SHIFT,
    SHEET_SHIFT,
    Context,
    Ref,
    Unsupported,
    split_key,
)
from ..formula import col_letters
from ..values import (
    NA,
    VALUE,
    to_number,
)
from .registry import registrar

register = registrar("Information")




@register("NA", 0, 0)
def fn_na() -> Any:
    return NA




# --------------------------------------------------------------------------- info

@register("ISBLANK", 1, 1, lift=True)
def fn_isblank(x: Any) -> Any:
    return x is None


@register("ISNUMBER", 1, 1, lift=True)
def fn_isnumber(x: Any) -> Any:
    return type(x) is float


@register("ISTEXT", 1, 1, lift=True)
def fn_istext(x: Any) -> Any:
    return type(x) is str


@register("ISERROR", 1, 1, lift=True)
def fn_iserror(x: Any) -> Any:
    return type(x) is ExcelError


@register("ISNA", 1, 1, lift=True)
def fn_isna(x: Any) -> Any:
    return type(x) is ExcelError and x.code == "#N/A"




@register("ISERR", 1, 1, lift=True)
def fn_iserr(x: Any) -> Any:
    return type(x) is ExcelError and x.code != "#N/A"


@register("ISLOGICAL", 1, 1, lift=True)
def fn_islogical(x: Any) -> Any:
    return type(x) is bool


@register("ISNONTEXT", 1, 1, lift=True)
def fn_isnontext(x: Any) -> Any:
    return type(x) is not str


def _parity(x: Any) -> int | ExcelError:
    if type(x) is bool:
        return VALUE
    n = to_number(x)
    if type(n) is ExcelError:
        return n
    return int(n) % 2  # type: ignore[arg-type]


@register("ISEVEN", 1, 1, lift=True)
def fn_iseven(x: Any) -> Any:
    p = _parity(x)
    return p if type(p) is ExcelError else p == 0


@register("ISODD", 1, 1, lift=True)
def fn_isodd(x: Any) -> Any:
    p = _parity(x)
    return p if type(p) is ExcelError else p == 1


@register("ISREF", 1, 1, "R")
def fn_isref(x: Any) -> Any:
    return type(x) is Ref


@register("ISFORMULA", 1, 1, "R", ctx=True)
def fn_isformula(ctx: Context, x: Any) -> Any:
    if type(x) is not Ref:
        return ExcelError("#VALUE!", tr("ISFORMULA 需要单元格引用"))
    key = (x.sheet << SHEET_SHIFT) | (x.r1 << ROW_SHIFT) | x.c1
    return ctx.formula_text(key) is not None


@register("N", 1, 1, lift=True)
def fn_n(x: Any) -> Any:
    t = type(x)
    if t is float or t is ExcelError:
        return x
    if t is bool:
        return 1.0 if x else 0.0
    return 0.0


_TYPE_CODES = {float: 1.0, str: 2.0, bool: 4.0, ExcelError: 16.0}


@register("TYPE", 1, 1, "R", ctx=True)
def fn_type(ctx: Context, x: Any) -> Any:
    if type(x) is Ref and x.is_cell:
        x = ctx.cell(x.sheet, x.r1, x.c1)
    if type(x) is Ref:
        return 64.0
    if type(x) is list:
        return 64.0 if len(x) > 1 or len(x[0]) > 1 else _TYPE_CODES.get(type(x[0][0]), 1.0)
    return _TYPE_CODES.get(type(x), 1.0)


@register("ERROR.TYPE", 1, 1, lift=True)
def fn_error_type(x: Any) -> Any:
    if type(x) is ExcelError:
        return float(x.error_type)
    return NA


@register("SHEET", 0, 1, "R", ctx=True)
def fn_sheet(ctx: Context, x: Any = None) -> Any:
    if x is None:
        return float(split_key(ctx.caller)[0] + 1)
    if type(x) is Ref:
        return float(x.sheet + 1)
    if type(x) is str:
        i = ctx.sheet_index.get(x.casefold())
        return NA if i is None else float(i + 1)
    if type(x) is ExcelError:
        return x
    return NA


@register("SHEETS", 0, 1, "R", ctx=True)
def fn_sheets(ctx: Context, x: Any = None) -> Any:
    if x is None:
        return float(len(ctx.sheet_names))
    if type(x) is Ref:
        return 1.0
    return VALUE


_CELL_INFO = {"address", "col", "color", "contents", "filename", "format", "parentheses",
              "prefix", "protect", "row", "type", "width"}


@register("CELL", 1, 2, "SR", ctx=True)
def fn_cell(ctx: Context, info: Any, ref: Any = None) -> Any:
    """CELL("address"|"col"|"row"|"contents"|"type", reference) of the reference's top-left
    cell. Without a reference (Excel: the cell last changed) and for the formatting and file
    kinds (format, color, width, prefix, protect, parentheses, filename) the cell is not
    computed: its value depends on what the file does not say or on Excel's state."""
    if type(info) is ExcelError:
        return info
    kind = info.casefold() if type(info) is str else None
    if kind not in _CELL_INFO:
        return ExcelError("#VALUE!", tr("CELL 没有信息类型 {info}", info=repr(info)))
    if type(ref) is ExcelError:
        return ref
    if ref is None:
        raise Unsupported(tr("CELL 没有引用参数（指 Excel 最后更改的单元格）"))
    if type(ref) is not Ref:
        return ExcelError("#VALUE!", tr("CELL 需要单元格引用"))
    if kind == "address":
        return f"${col_letters(ref.c1)}${ref.r1}"
    if kind == "col":
        return float(ref.c1)
    if kind == "row":
        return float(ref.r1)
    v = ctx.cell(ref.sheet, ref.r1, ref.c1)
    if kind == "contents":
        return 0.0 if v is None else v
    if kind == "type":
        return "b" if v is None else ("l" if type(v) is str else "v")
    raise Unsupported(tr("CELL(\"{kind}\")（格式或文件信息）", kind=kind))
