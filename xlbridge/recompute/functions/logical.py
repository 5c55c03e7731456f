"""Logical: IF, IFS, IFERROR, IFNA (forms: only the branch taken is evaluated), AND, OR, NOT…"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import (
    LAMBDA_KEY,
    Context,
    Ref,
)
from ..operators import Fn, const, lift_apply, select, truth
from ..values import (
    OMITTED,
    compare,
    to_bool,
)
from .args import (
    _values,
)
from .registry import registrar

register = registrar("Logical")


# --------------------------------------------------------------------------- logic

def _logic_values(ctx: Context, args: Iterable[Any]) -> list[bool] | ExcelError:
    out: list[bool] = []
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            if a is None:
                out.append(False)
                continue
            if type(a) is str and a.upper() not in ("TRUE", "FALSE"):
                continue  # other text typed as an argument is skipped (OR("", TRUE) is TRUE)
            b = to_bool(a)
            if type(b) is not bool:
                return b  # type: ignore[return-value]
            out.append(b)  # type: ignore[arg-type]
            continue
        for v in vals:
            tv = type(v)
            if tv is bool:
                out.append(v)
            elif tv is float:
                out.append(v != 0.0)
            elif tv is ExcelError:
                return v
    return out


@register("AND", 1, 255, "R", ctx=True)
def fn_and(ctx: Context, *args: Any) -> Any:
    vals = _logic_values(ctx, args)
    if type(vals) is ExcelError:
        return vals
    if not vals:
        return ExcelError("#VALUE!", tr("AND 没有可计算的逻辑值"))
    return all(vals)  # type: ignore[arg-type]


@register("OR", 1, 255, "R", ctx=True)
def fn_or(ctx: Context, *args: Any) -> Any:
    vals = _logic_values(ctx, args)
    if type(vals) is ExcelError:
        return vals
    if not vals:
        return ExcelError("#VALUE!", tr("OR 没有可计算的逻辑值"))
    return any(vals)  # type: ignore[arg-type]


@register("NOT", 1, 1, lift=True)
def fn_not(x: Any) -> Any:
    b = to_bool(x)
    if type(b) is not bool:
        return b
    return not b


@register("TRUE", 0, 0)
def fn_true() -> Any:
    return True


@register("FALSE", 0, 0)
def fn_false() -> Any:
    return False


# --------------------------------------------------------------------------- forms


@register("IF", 1, 3, form=True)
def form_if(comp: Any, args: list[tuple], mode: str) -> Fn:
    if not 1 <= len(args) <= 3:
        return const(ExcelError("#VALUE!", tr("IF 需要 2 或 3 个参数")))
    bmode = mode
    then_node = args[1] if len(args) > 1 else ("b", True)
    else_node = args[2] if len(args) > 2 else ("b", False)
    fthen = comp.branch(then_node, bmode)
    felse = comp.branch(else_node, bmode)
    if mode == "A":
        fc = comp.compile(args[0], "A")
        ctx = comp.ctx

        def if_array(base: int) -> Any:
            c = fc(base)
            if type(c) is Ref or type(c) is list:
                return lift_apply(ctx, select, [c, fthen(base), felse(base)])
            b = truth(c)
            if type(b) is ExcelError:
                return b
            return fthen(base) if b else felse(base)

        return if_array
    fc = comp.cond(args[0])

    def if_(base: int) -> Any:
        c = fc(base)
        t = type(c)
        if t is bool:
            return fthen(base) if c else felse(base)
        if t is float:
            return fthen(base) if c != 0.0 else felse(base)
        if c is None:
            return felse(base)
        b = to_bool(c)
        if type(b) is ExcelError:
            return b
        return fthen(base) if b else felse(base)

    return if_


@register("IFERROR", 2, 2, form=True)
def form_iferror(comp: Any, args: list[tuple], mode: str) -> Fn:
    return _iferror(comp, args, mode, None)


@register("IFNA", 2, 2, form=True)
def form_ifna(comp: Any, args: list[tuple], mode: str) -> Fn:
    return _iferror(comp, args, mode, "#N/A")

def _iferror(comp: Any, args: list[tuple], mode: str, only: str | None) -> Fn:
    if len(args) != 2:
        return const(ExcelError("#VALUE!", tr("IFERROR 需要 2 个参数")))
    fv = comp.compile(args[0], mode)
    falt = comp.branch(args[1], mode)
    ctx = comp.ctx

    def is_err(v: Any) -> bool:
        return type(v) is ExcelError and (only is None or v.code == only)

    if mode == "A":
        def iferror_array(base: int) -> Any:
            v = fv(base)
            if type(v) is Ref or type(v) is list:
                g = ctx.array(v)
                if not any(is_err(x) for row in g for x in row):
                    return v
                alt = falt(base)
                return lift_apply(ctx, lambda x, y: y if is_err(x) else x, [g, alt])
            return falt(base) if is_err(v) else v

        return iferror_array

    def iferror(base: int) -> Any:
        v = fv(base)
        if type(v) is ExcelError and (only is None or v.code == only):
            return falt(base)
        return v

    return iferror


@register("IFS", 2, 254, form=True)
def form_ifs(comp: Any, args: list[tuple], mode: str) -> Fn:
    if len(args) < 2 or len(args) % 2:
        return const(ExcelError("#VALUE!", tr("IFS 需要成对的条件和值")))
    vmode = "S" if mode == "A" else mode
    pairs = [(comp.cond(args[i]), comp.branch(args[i + 1], vmode))
             for i in range(0, len(args), 2)]

    def ifs(base: int) -> Any:
        for fc, fv in pairs:
            c = fc(base)
            b = truth(c)
            if type(b) is ExcelError:
                return b
            if b:
                return fv(base)
        return ExcelError("#N/A", tr("IFS：没有一个条件为 TRUE"))

    return ifs


@register("ISOMITTED", 1, 1, "R")
def fn_isomitted(x: Any) -> Any:
    """Inside a LAMBDA: whether the call left this parameter out (``LAMBDA(a, b, …)(1,)``)."""
    return x is OMITTED


@register("XOR", 1, 254, "R", ctx=True)
def fn_xor(ctx: Context, *args: Any) -> Any:
    vals = _logic_values(ctx, args)
    if type(vals) is ExcelError:
        return vals
    if not vals:
        return ExcelError("#VALUE!", tr("XOR 没有可计算的逻辑值"))
    return sum(vals) % 2 == 1  # type: ignore[arg-type]


@register("SWITCH", 3, 254, form=True)
def form_switch(comp: Any, args: list[tuple], mode: str) -> Fn:
    fx = comp.compile(args[0], "S")
    rest = args[1:]
    default = comp.branch(rest[-1], mode) if len(rest) % 2 else None
    cases = [(comp.compile(rest[i], "S"), comp.branch(rest[i + 1], mode))
             for i in range(0, len(rest) - 1, 2)]

    def switch(base: int) -> Any:
        x = fx(base)
        if type(x) is ExcelError:
            return x
        for fv, fr in cases:
            v = fv(base)
            if type(v) is ExcelError:
                return v
            if type(x) is type(v) or (x is None or v is None):
                c = compare(x, v)
                if c == 0 and type(c) is int:
                    return fr(base)
        if default is not None:
            return default(base)
        return ExcelError("#N/A", tr("SWITCH：没有匹配的值"))

    return switch


@register("LET", 3, 253, form=True)
def form_let(comp: Any, args: list[tuple], mode: str) -> Fn:
    """LET(name, value, …, calculation): each value evaluated once per evaluation, in
    order, each name visible to the values after it and to the calculation."""
    if len(args) % 2 == 0:
        return const(ExcelError("#VALUE!", tr("LET 需要成对的名称和值，以及一个计算式")))
    scope: dict[str, Callable[[str], Fn]] = {}
    binds: list[tuple[list[Any], Fn]] = []
    comp.scopes.append(scope)
    try:
        for i in range(0, len(args) - 1, 2):
            nm = args[i]
            if nm[0] != "name" or nm[1] is not None:
                return const(ExcelError("#NAME?", tr("LET：此处应为名称")))
            value = args[i + 1]
            if value[0] == "fn" and value[1] == "LAMBDA":
                # LET(f, LAMBDA(x, …), f(1)): the name is called, not evaluated
                scope[LAMBDA_KEY + nm[2].upper()] = value  # type: ignore[assignment]
                scope[nm[2].upper()] = lambda _mode: const(
                    ExcelError("#CALC!", tr("LAMBDA 被当作值使用")))
                continue
            fv = comp.compile(value, "A" if mode == "A" else "R")
            slot: list[Any] = [None]
            binds.append((slot, fv))
            scope[nm[2].upper()] = comp.slot_reader(slot)
        fbody = comp.compile(args[-1], mode)
    finally:
        comp.scopes.pop()

    def let(base: int) -> Any:
        for slot, fv in binds:
            slot[0] = fv(base)
        return fbody(base)

    return let

