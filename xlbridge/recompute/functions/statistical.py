"""Statistical: AVERAGE, MIN/MAX, COUNT*, COUNTIF(S), AVERAGEIF(S), MEDIAN, RANK…"""

from __future__ import annotations

import bisect
from typing import Any

from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref
from ..values import (
    number_text,
    parse_number,
    to_number,
)
from .args import _number_args, _values
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

register = registrar("Statistical")


@register("AVERAGE", 1, 255, "R", ctx=True)
def fn_average(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return ExcelError("#DIV/0!", "AVERAGE of no numbers")
    return sum(nums) / len(nums)  # type: ignore[arg-type]


@register("MIN", 1, 255, "R", ctx=True)
def fn_min(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    return min(nums) if nums else 0.0  # type: ignore[type-var]


@register("MAX", 1, 255, "R", ctx=True)
def fn_max(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    return max(nums) if nums else 0.0  # type: ignore[type-var]




# --------------------------------------------------------------------------- counting

@register("COUNT", 1, 255, "R", ctx=True)
def fn_count(ctx: Context, *args: Any) -> Any:
    n = 0
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            t = type(a)
            if t is float or t is bool or (t is str and parse_number(a) is not None):
                n += 1
            continue
        for v in vals:
            if type(v) is float:
                n += 1
    return float(n)


@register("COUNTA", 1, 255, "R", ctx=True)
def fn_counta(ctx: Context, *args: Any) -> Any:
    n = 0
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            n += 1  # a direct value (even an error or "") counts
            continue
        for v in vals:
            if v is not None:
                n += 1
    return float(n)


@register("COUNTBLANK", 1, 1, "R", ctx=True)
def fn_countblank(ctx: Context, rng: Any) -> Any:
    if type(rng) is not Ref:
        return ExcelError("#VALUE!", "COUNTBLANK needs a range")
    filled = 0
    for v in ctx.flat(rng):
        if v is not None and v != "":
            filled += 1
    return float(rng.height * rng.width - filled)




@register("COUNTIF", 2, 2, "R", ctx=True)
def fn_countif(ctx: Context, rng: Any, crit: Any) -> Any:
    if type(crit) is Ref:
        crit = ctx.intersect(crit, ctx.caller)
    c = _crit(crit)
    if type(rng) is Ref and c.eq_key is not None:
        return float(len(_eq_index(ctx, rng).get(c.eq_key, ())))
    got = _crit_range(ctx, rng)
    if type(got) is ExcelError:
        return got
    m = c.match
    return float(sum(1 for v in got[0] if m(v)))  # type: ignore[index]




@register("COUNTIFS", 2, 254, "R", ctx=True)
def fn_countifs(ctx: Context, *args: Any) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", "COUNTIFS needs range/criteria pairs")
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    return float(len(got[0]))  # type: ignore[index]


@register("AVERAGEIFS", 3, 255, "R", ctx=True)
def fn_averageifs(ctx: Context, avg_rng: Any, *args: Any) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", "AVERAGEIFS needs range/criteria pairs")
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    return _sum_at(ctx, avg_rng, got[1], got[2], got[0], True)  # type: ignore[index]


@register("AVERAGEIF", 2, 3, "R", ctx=True)
def fn_averageif(ctx: Context, rng: Any, crit: Any, avg_rng: Any = None) -> Any:
    if type(crit) is Ref:
        crit = ctx.intersect(crit, ctx.caller)
    got = _crit_range(ctx, rng)
    if type(got) is ExcelError:
        return got
    vals, h, w = got  # type: ignore[misc]
    svals = vals if avg_rng is None else _aligned(ctx, avg_rng, h, w)
    if type(svals) is ExcelError:
        return svals
    m = _crit(crit).match
    total, n = 0.0, 0
    for i, v in enumerate(vals):
        if m(v):
            s = svals[i]
            if type(s) is float:
                total += s
                n += 1
            elif type(s) is ExcelError:
                return s
    if not n:
        return ExcelError("#DIV/0!", "AVERAGEIF matched no numbers")
    return total / n




@register("MEDIAN", 1, 255, "R", ctx=True)
def fn_median(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return ExcelError("#NUM!", "MEDIAN of no numbers")
    v = sorted(nums)  # type: ignore[arg-type]
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2.0




def _sorted_numbers(ctx: Context, ref: Any) -> list[float] | ExcelError:
    if type(ref) is Ref:
        def build() -> list[float] | ExcelError:
            out = []
            for v in ctx.flat(ref):
                if type(v) is float:
                    out.append(v)
            out.sort()
            return out

        return ctx.aux(("sorted", ref.key), build)
    if type(ref) is list:
        return sorted(v for row in ref for v in row if type(v) is float)
    return ExcelError("#VALUE!", "RANK needs a range")


@register("RANK", 2, 3, "SRS", ctx=True)
@register("RANK.EQ", 2, 3, "SRS", ctx=True)
def fn_rank(ctx: Context, x: Any, ref: Any, order: Any = None) -> Any:
    if type(x) is Ref:
        x = ctx.intersect(x, ctx.caller)
    x = to_number(x)
    if type(x) is not float:
        return x
    nums = _sorted_numbers(ctx, ref)
    if type(nums) is ExcelError:
        return nums
    o = to_number(order) if order is not None else 0.0
    if type(o) is not float:
        return o
    lo = bisect.bisect_left(nums, x)  # type: ignore[arg-type]
    hi = bisect.bisect_right(nums, x)  # type: ignore[arg-type]
    if lo == hi:
        return ExcelError("#N/A", f"RANK: {number_text(x)} not in the list")  # type: ignore[arg-type]
    if o == 0.0:
        return float(len(nums) - hi + 1)  # type: ignore[arg-type]
    return float(lo + 1)


