"""Helpers shared by the category modules: arguments as Excel reads them."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref, RefList
from ..values import DIV0, NUM, OMITTED, VALUE, checked, takes_omitted, to_number, to_text

# --------------------------------------------------------------------------- helpers

def _err(v: Any) -> bool:
    return type(v) is ExcelError


def _values(ctx: Context, a: Any) -> list[Any] | None:
    """Values of a Ref/array argument as a flat list; None for a direct scalar."""
    t = type(a)
    if t is Ref:
        return ctx.flat(a)
    if t is list:
        return [v for row in a for v in row]
    if t is RefList:
        return [v for r in a for v in ctx.flat(r)]
    return None


def _number_args(ctx: Context, args: Iterable[Any], a_rules: bool = False
                 ) -> list[float] | ExcelError:
    """Numbers as SUM/AVERAGE/MIN/MAX see them: from ranges only real numbers, direct
    arguments coerced ("3" and TRUE count, "abc" is #VALUE!). With ``a_rules`` (AVERAGEA,
    MINA, STDEVA…) text in ranges counts 0 and booleans 1/0."""
    out: list[float] = []
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            if a is None:  # an omitted argument counts as 0 for SUM/AVERAGE... like Excel
                out.append(0.0)
                continue
            x = to_number(a)
            if type(x) is not float:
                return x  # type: ignore[return-value]
            out.append(x)
            continue
        for v in vals:
            tv = type(v)
            if tv is float:
                out.append(v)
            elif tv is ExcelError:
                return v
            elif a_rules and tv is bool:
                out.append(1.0 if v else 0.0)
            elif a_rules and tv is str:
                out.append(0.0)
    return out


def _lookup_scalar(ctx: Context, v: Any) -> Any:
    if type(v) is Ref:
        return ctx.intersect(v, ctx.caller)
    if type(v) is list:
        return v[0][0]
    return v




# --------------------------------------------------------------------------- wrappers

_NO_DEFAULT = inspect.Parameter.empty


def _defaults(fn: Callable[..., Any]) -> list[Any]:
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [p.default for p in params]


def strict_numeric(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`numeric` for the functions that came from the Analysis ToolPak (MROUND,
    QUOTIENT…): a logical value is #VALUE! there, not 1 or 0."""
    inner = numeric(fn)
    defaults = _defaults(fn)

    @takes_omitted
    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        if any(type(a) is bool for a in args):
            return ExcelError("#VALUE!", tr("此处应为数字，不是逻辑值"))
        for i, a in enumerate(args):  # MROUND(5,): #N/A (an empty cell would be 0)
            if a is OMITTED and not (i < len(defaults) and defaults[i] is not _NO_DEFAULT):
                return ExcelError("#N/A", tr("省略了必需的参数"))
        return inner(*args)

    return wrapper


def numeric(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A function of numbers, as Excel's scalar math functions read their arguments: each
    coerced as arithmetic does (blank → 0, "3" → 3, TRUE → 1, "abc" → #VALUE!), an omitted
    argument takes the parameter's default (0 without one) while an empty cell is 0, the
    first error is the result; the result is
    checked (inf/nan → #NUM!), and ValueError/OverflowError from ``math`` become #NUM!."""
    defaults = _defaults(fn)

    @takes_omitted
    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        xs = []
        for i, a in enumerate(args):
            if a is OMITTED:
                if i < len(defaults) and defaults[i] is not _NO_DEFAULT:
                    xs.append(defaults[i])
                    continue
                a = None
            x = a if type(a) is float else to_number(a)
            if type(x) is ExcelError:
                return x
            xs.append(x)
        try:
            r = fn(*xs)
        except (ValueError, OverflowError):
            return NUM
        except ZeroDivisionError:
            return DIV0
        if type(r) is float:
            return checked(r)
        if type(r) is int:
            return checked(float(r))
        return r

    return wrapper


def textual(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A function of text: each argument coerced to text as ``&`` does (numbers to 15
    digits, TRUE → "TRUE", blank → ""), the first error is the result; an omitted argument
    takes the parameter's default (an empty cell does not: ``LEFT("abc", A1)`` is "").
    Parameters annotated ``float`` get numbers instead."""
    defaults = _defaults(fn)
    hints = [p.annotation for p in inspect.signature(fn).parameters.values()]

    @takes_omitted
    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        xs = []
        for i, a in enumerate(args):
            if a is OMITTED:
                if i < len(defaults) and defaults[i] is not _NO_DEFAULT:
                    xs.append(defaults[i])
                    continue
                a = None
            want_num = i < len(hints) and hints[i] in ("float", float)
            x = to_number(a) if want_num else to_text(a)
            if type(x) is ExcelError:
                return x
            xs.append(x)
        try:
            r = fn(*xs)
        except (ValueError, OverflowError):
            return VALUE
        if type(r) is str and len(r) > 32767:
            return ExcelError("#VALUE!", tr("文字超过 32767 个字符"))
        if type(r) is int:
            return float(r)
        return r

    return wrapper


def flat_values(ctx: Context, args: Iterable[Any]) -> list[Any]:
    """Every value of the arguments, ranges and arrays flattened row by row."""
    out: list[Any] = []
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            out.append(a)
        else:
            out.extend(vals)
    return out


def numbers_a(ctx: Context, args: Iterable[Any]) -> list[float] | ExcelError:
    """Numbers as AVERAGEA/MINA/STDEVA read them (see :func:`_number_args`)."""
    return _number_args(ctx, args, a_rules=True)


def number_grid(ctx: Context, a: Any, what: str) -> list[list[float]] | ExcelError:
    """A range or array that must hold numbers only (MDETERM's matrix, LINEST's ys): its
    first error, or #VALUE! naming ``what`` for an empty cell or text."""
    out = []
    for row in ctx.array(a):
        r = []
        for v in row:
            if type(v) is ExcelError:
                return v
            if type(v) is not float:
                return ExcelError("#VALUE!", tr("{what}中有不是数字的单元格", what=what))
            r.append(v)
        out.append(r)
    return out


def grid_of(ctx: Context, a: Any) -> list[list[Any]]:
    """A Ref, array or scalar as rows of values, blanks as None (ranges clamped)."""
    return ctx.array(a)


def to_int(x: Any) -> int | ExcelError:
    """An argument that counts something (a row, a length): a number truncated to int."""
    n = to_number(x)
    if type(n) is not float:
        return n  # type: ignore[return-value]
    if not -1e15 < n < 1e15:  # type: ignore[operator]
        return ExcelError("#NUM!", tr("数字超出范围"))
    return int(n)  # type: ignore[arg-type]
