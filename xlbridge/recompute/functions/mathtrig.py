"""Math & Trig: SUM, SUMIF(S), SUMPRODUCT, ROUND and friends, INT, MOD…"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP
from typing import Any

from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref
from ..operators import arith_pow
from ..values import (
    VALUE,
    approx_equal,
    checked,
    to_number,
    xl_floor15,
    xl_round,
)
from .args import _values
from .criteria import (
    _aligned,
    _crit,
    _crit_range,
    _eq_index,
    _ifs_select,
    _pairs,
    _sum_at,
)
from .registry import registrar

register = registrar("Math & Trig")


# --------------------------------------------------------------------------- math

@register("SUM", 1, 255, "R", ctx=True)
def fn_sum(ctx: Context, *args: Any) -> Any:
    total = 0.0
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            if a is None:
                continue
            x = to_number(a)
            if type(x) is not float:
                return x
            total += x
            continue
        for v in vals:
            if type(v) is float:
                total += v
            elif type(v) is ExcelError:
                return v
    return checked(total)


def _round_family(mode: str) -> Callable[..., Any]:
    def f(x: Any, digits: Any = None) -> Any:
        x = to_number(x)
        if type(x) is not float:
            return x
        d = to_number(digits)
        if type(d) is not float:
            return d
        return xl_round(x, d, mode)  # type: ignore[arg-type]

    return f


fn_round = _round_family(ROUND_HALF_UP)
fn_roundup = register("ROUNDUP", 2, 2, lift=True)(_round_family(ROUND_UP))
fn_rounddown = register("ROUNDDOWN", 2, 2, lift=True)(_round_family(ROUND_DOWN))
register("TRUNC", 1, 2, lift=True)(fn_rounddown)


@register("ROUND", 2, 2, lift=True)
def fn_round_required(x: Any, digits: Any) -> Any:
    return fn_round(x, digits)


@register("INT", 1, 1, lift=True)
def fn_int(x: Any) -> Any:
    x = to_number(x)
    if type(x) is not float:
        return x
    return xl_floor15(x)  # type: ignore[arg-type]


@register("ABS", 1, 1, lift=True)
def fn_abs(x: Any) -> Any:
    x = to_number(x)
    if type(x) is not float:
        return x
    return abs(x)  # type: ignore[arg-type]


@register("MOD", 2, 2, lift=True)
def fn_mod(n: Any, d: Any) -> Any:
    n = to_number(n)
    if type(n) is not float:
        return n
    d = to_number(d)
    if type(d) is not float:
        return d
    if d == 0.0:
        return ExcelError("#DIV/0!", "MOD by zero")
    r = n - d * math.floor(n / d)  # type: ignore[operator]
    if r and approx_equal(abs(r), abs(d)):  # type: ignore[arg-type]
        r = 0.0
    return r


@register("POWER", 2, 2, lift=True)
def fn_power(x: Any, y: Any) -> Any:
    return arith_pow(x, y)


@register("SQRT", 1, 1, lift=True)
def fn_sqrt(x: Any) -> Any:
    x = to_number(x)
    if type(x) is not float:
        return x
    if x < 0:  # type: ignore[operator]
        return ExcelError("#NUM!", "square root of a negative number")
    return math.sqrt(x)  # type: ignore[arg-type]


@register("SUMPRODUCT", 1, 255, "A", ctx=True)
def fn_sumproduct(ctx: Context, *args: Any) -> Any:
    grids = []
    shape = None
    for a in args:
        g = ctx.array(a)
        s = (len(g), len(g[0]))
        if shape is None:
            shape = s
        elif s != shape:
            return ExcelError("#VALUE!", "SUMPRODUCT arrays differ in size")
        grids.append(g)
    if not grids:
        return VALUE
    # errors anywhere propagate
    for g in grids:
        for row in g:
            for v in row:
                if type(v) is ExcelError:
                    return v
    total = 0.0
    h, w = shape  # type: ignore[misc]
    if len(grids) == 1:
        for row in grids[0]:
            for v in row:
                if type(v) is float:
                    total += v
        return total
    for i in range(h):
        rows = [g[i] for g in grids]
        for j in range(w):
            p = 1.0
            for r in rows:
                v = r[j]
                if type(v) is float:
                    p *= v
                else:
                    p = 0.0
                    break
            total += p
    return checked(total)




@register("SUMIF", 2, 3, "R", ctx=True)
def fn_sumif(ctx: Context, rng: Any, crit: Any, sum_rng: Any = None) -> Any:
    if type(crit) is Ref:
        crit = ctx.intersect(crit, ctx.caller)
    got = _crit_range(ctx, rng)
    if type(got) is ExcelError:
        return got
    vals, h, w = got  # type: ignore[misc]
    if sum_rng is None:
        svals = vals
    else:
        svals = _aligned(ctx, sum_rng, h, w)
        if type(svals) is ExcelError:
            return svals
    c = _crit(crit)
    total = 0.0
    if type(rng) is Ref and c.eq_key is not None:
        for i in _eq_index(ctx, rng).get(c.eq_key, ()):
            v = svals[i]
            if type(v) is float:
                total += v
            elif type(v) is ExcelError:
                return v
        return total
    m = c.match
    for i, v in enumerate(vals):
        if m(v):
            s = svals[i]
            if type(s) is float:
                total += s
            elif type(s) is ExcelError:
                return s
    return total


@register("SUMIFS", 3, 255, "R", ctx=True)
def fn_sumifs(ctx: Context, sum_rng: Any, *args: Any) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", "SUMIFS needs range/criteria pairs")
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    return _sum_at(ctx, sum_rng, got[1], got[2], got[0], False)  # type: ignore[index]


