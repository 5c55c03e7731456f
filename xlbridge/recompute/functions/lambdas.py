"""Logical, the LAMBDA helpers: MAP, REDUCE, SCAN, BYROW, BYCOL, MAKEARRAY.

Each takes a ``LAMBDA`` written in place as its last argument; the LAMBDA's body is compiled
once, its parameters bound to slots that the helper fills for every element, row, column or
position (as LET binds its names). Where one value is expected (MAP, SCAN, BYROW, BYCOL,
MAKEARRAY), a body whose result is an array of more than one cell gives #CALC!, as in Excel 365
("anything but a single value returned from the LAMBDA returns a #CALC! error": arrays of
arrays are not supported); REDUCE's accumulator keeps its top-left value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Ref, scalar
from ..operators import const
from ..values import VALUE, to_number
from .registry import registrar

register = registrar("Logical")

Fn = Callable[[int], Any]


def _lambda(comp: Any, node: tuple, n: int) -> tuple[list[list[Any]], Fn] | ExcelError:
    """The slots of a LAMBDA of ``n`` parameters and its compiled body."""
    if node[0] != "fn" or node[1] != "LAMBDA" or len(node[2]) != n + 1:
        return ExcelError("#VALUE!", tr("此处应为有 {n} 个参数的 LAMBDA", n=n))
    params, body = node[2][:-1], node[2][-1]
    if any(p[0] != "name" or p[1] is not None for p in params):
        return ExcelError("#VALUE!", tr("LAMBDA 的参数必须是名称"))
    slots: list[list[Any]] = [[None] for _ in params]
    comp.scopes.append({p[2].upper(): comp.slot_reader(s) for p, s in zip(params, slots,
                                                                            strict=True)})
    try:
        fbody = comp.compile(body, "A")
    finally:
        comp.scopes.pop()
    return slots, fbody


def _grid(ctx: Any, v: Any) -> list[list[Any]]:
    if isinstance(v, ExcelError):
        return [[v]]
    g = ctx.array(v)
    return g if g else [[None]]


def _call(ctx: Any, slots: list[list[Any]], fbody: Fn, base: int, *values: Any,
          single: bool = True) -> Any:
    for slot, v in zip(slots, values, strict=True):
        slot[0] = v
    got = fbody(base)
    if single and ((type(got) is list and (len(got) > 1 or len(got[0]) > 1))
                   or (type(got) is Ref and not got.is_cell)):
        return ExcelError("#CALC!", tr("LAMBDA 的结果是数组，此处只能是一个值"))
    return scalar(ctx, got, base)


@register("MAP", 2, 254, form=True)
def form_map(comp: Any, args: list[tuple], mode: str) -> Fn:
    """MAP(array1, [array2…], LAMBDA(x1, [x2…], body)): the body for each element."""
    got = _lambda(comp, args[-1], len(args) - 1)
    if isinstance(got, ExcelError):
        return const(got)
    slots, fbody = got
    fs = [comp.compile(a, "A") for a in args[:-1]]
    ctx = comp.ctx

    def map_(base: int) -> Any:
        grids = [_grid(ctx, f(base)) for f in fs]
        h, w = max(len(g) for g in grids), max(len(g[0]) for g in grids)
        out = []
        for i in range(h):
            row = []
            for j in range(w):
                vals = []
                for g in grids:
                    gi = 0 if len(g) == 1 else i
                    gj = 0 if len(g[0]) == 1 else j
                    vals.append(g[gi][gj] if gi < len(g) and gj < len(g[0]) else
                                ExcelError("#N/A", tr("MAP：数组大小不同")))
                row.append(_call(ctx, slots, fbody, base, *vals))
            out.append(row)
        return out

    return map_


def _fold(comp: Any, args: list[tuple], keep_all: bool) -> Fn:
    if len(args) == 2:  # REDUCE(, array, lambda): the initial value left out
        args = [("miss",), *args]
    if len(args) != 3:
        return const(ExcelError("#VALUE!", tr("此处应为（初始值, 数组, LAMBDA）")))
    got = _lambda(comp, args[2], 2)
    if isinstance(got, ExcelError):
        return const(got)
    slots, fbody = got
    finit = const(0.0) if args[0][0] == "miss" else comp.compile(args[0], "S")
    farr = comp.compile(args[1], "A")
    ctx = comp.ctx

    def fold(base: int) -> Any:
        acc = finit(base)
        grid = _grid(ctx, farr(base))
        out = []
        for row in grid:
            line = []
            for v in row:
                acc = _call(ctx, slots, fbody, base, acc, v, single=keep_all)
                line.append(acc)
            out.append(line)
        return out if keep_all else acc

    return fold


@register("REDUCE", 2, 3, form=True)
def form_reduce(comp: Any, args: list[tuple], mode: str) -> Fn:
    """REDUCE(initial, array, LAMBDA(accumulator, value, body)): the last accumulator."""
    return _fold(comp, args, False)


@register("SCAN", 2, 3, form=True)
def form_scan(comp: Any, args: list[tuple], mode: str) -> Fn:
    """SCAN(initial, array, LAMBDA(accumulator, value, body)): every accumulator, row by row."""
    return _fold(comp, args, True)


def _by(comp: Any, args: list[tuple], rows: bool) -> Fn:
    got = _lambda(comp, args[1], 1)
    if isinstance(got, ExcelError):
        return const(got)
    slots, fbody = got
    farr = comp.compile(args[0], "A")
    ctx = comp.ctx

    def by(base: int) -> Any:
        grid = _grid(ctx, farr(base))
        if rows:
            return [[_call(ctx, slots, fbody, base, [list(r)])] for r in grid]
        return [[_call(ctx, slots, fbody, base, [[r[j]] for r in grid])
                 for j in range(len(grid[0]))]]

    return by


@register("BYROW", 2, 2, form=True)
def form_byrow(comp: Any, args: list[tuple], mode: str) -> Fn:
    """BYROW(array, LAMBDA(row, body)): one result per row, in a column."""
    return _by(comp, args, True)


@register("BYCOL", 2, 2, form=True)
def form_bycol(comp: Any, args: list[tuple], mode: str) -> Fn:
    """BYCOL(array, LAMBDA(column, body)): one result per column, in a row."""
    return _by(comp, args, False)


@register("MAKEARRAY", 3, 3, form=True)
def form_makearray(comp: Any, args: list[tuple], mode: str) -> Fn:
    """MAKEARRAY(rows, columns, LAMBDA(r, c, body)): the body at every position (from 1)."""
    got = _lambda(comp, args[2], 2)
    if isinstance(got, ExcelError):
        return const(got)
    slots, fbody = got
    fr, fc = comp.compile(args[0], "S"), comp.compile(args[1], "S")
    ctx = comp.ctx

    def makearray(base: int) -> Any:
        r, c = to_number(fr(base)), to_number(fc(base))
        for x in (r, c):
            if isinstance(x, ExcelError):
                return x
        nr, nc = int(r), int(c)  # type: ignore[arg-type]
        if nr < 1 or nc < 1 or nr * nc > 1048576:
            return VALUE
        return [[_call(ctx, slots, fbody, base, float(i), float(j)) for j in range(1, nc + 1)]
                for i in range(1, nr + 1)]

    return makearray
