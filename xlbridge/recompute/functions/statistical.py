"""Statistical: AVERAGE, MIN/MAX, COUNT*, COUNTIF(S), AVERAGEIF(S), MEDIAN, RANK…"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import (
    Context,
    Ref,
)
from ..values import (
    DIV0,
    NA,
    NUM,
    VALUE,
    number_text,
    parse_number,
    to_number,
)
from .args import (
    _number_args,
    _values,
    numbers_a,
    numeric,
)
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
        return ExcelError("#DIV/0!", tr("AVERAGE 没有可计算的数字"))
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
        return ExcelError("#VALUE!", tr("COUNTBLANK 需要单元格区域"))
    filled = 0
    for v in ctx.flat(rng):
        if v is not None and v != "":
            filled += 1
    return float(rng.height * rng.width - filled)




@register("COUNTIF", 2, 2, "RL", ctx=True)
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
    n = sum(1 for v in got[0] if m(v))  # type: ignore[index]
    if type(rng) is Ref and m(None):
        n += _beyond_used(ctx, [rng])
    return float(n)


def _beyond_used(ctx: Context, refs: list[Ref]) -> int:
    """Cells of (same-shaped) ranges outside the used area: blank, and counted by a criterion
    that matches blanks (COUNTIF(A:A,"") counts the whole empty column, as in Excel)."""
    r = refs[0]
    r1, c1, r2, c2 = ctx.clamp(r)
    return r.height * r.width - max(r2 - r1 + 1, 0) * max(c2 - c1 + 1, 0)




@register("COUNTIFS", 2, 254, "R", ctx=True)
def fn_countifs(ctx: Context, *args: Any) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", tr("COUNTIFS 需要成对的区域和条件"))
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    n = len(got[0])  # type: ignore[index]
    refs = [r for r, _ in pairs]
    r0 = refs[0]
    # a first range inside the used area (the usual case) has no cells beyond it, nor have
    # the others (same shape): _beyond_used would say 0
    if (type(r0) is Ref and (r0.r2 > ctx.max_row or r0.c2 > ctx.max_col)
            and all(type(r) is Ref for r in refs)):
        # blank cells beyond the used area count when every criterion matches a blank;
        # ranges inside the used area (the usual case) have none, so no criterion is asked
        beyond = _beyond_used(ctx, refs)
        if beyond and all(
                _crit(ctx.intersect(c, ctx.caller) if type(c) is Ref else c).match(None)
                for _, c in pairs):
            n += beyond
    return float(n)


@register("AVERAGEIFS", 3, 255, "R", ctx=True)
def fn_averageifs(ctx: Context, avg_rng: Any, *args: Any) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", tr("AVERAGEIFS 需要成对的区域和条件"))
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    return _sum_at(ctx, avg_rng, got[1], got[2], got[0], True)  # type: ignore[index]


@register("AVERAGEIF", 2, 3, "RLR", ctx=True)
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
        return ExcelError("#DIV/0!", tr("AVERAGEIF 没有符合条件的数字"))
    return total / n




@register("MEDIAN", 1, 255, "R", ctx=True)
def fn_median(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return ExcelError("#NUM!", tr("MEDIAN 没有可计算的数字"))
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
    return ExcelError("#VALUE!", tr("RANK 需要单元格区域"))


def _rank_span(ctx: Context, x: Any, ref: Any, order: Any
               ) -> tuple[float, int, int, int, float] | ExcelError:
    """(x, lo, hi, n, order): x's equal run ``nums[lo:hi]`` in the sorted numbers of ref."""
    if type(x) is Ref:
        x = ctx.intersect(x, ctx.caller)
    x = to_number(x)
    if type(x) is not float:
        return x  # type: ignore[return-value]
    nums = _sorted_numbers(ctx, ref)
    if type(nums) is ExcelError:
        return nums
    o = to_number(order) if order is not None else 0.0
    if type(o) is not float:
        return o  # type: ignore[return-value]
    lo = bisect.bisect_left(nums, x)  # type: ignore[arg-type]
    hi = bisect.bisect_right(nums, x)  # type: ignore[arg-type]
    return x, lo, hi, len(nums), o  # type: ignore[return-value, arg-type]


@register("RANK", 2, 3, "SRS", ctx=True)
@register("RANK.EQ", 2, 3, "SRS", ctx=True)
def fn_rank(ctx: Context, x: Any, ref: Any, order: Any = None) -> Any:
    got = _rank_span(ctx, x, ref, order)
    if type(got) is ExcelError:
        return got
    x, lo, hi, n, o = got  # type: ignore[misc]
    if lo == hi:
        return ExcelError("#N/A", tr("RANK：{value} 不在列表中", value=number_text(x)))
    if o == 0.0:
        return float(n - hi + 1)
    return float(lo + 1)




# --------------------------------------------------------------------------- A-variants

@register("AVERAGEA", 1, 255, "R", ctx=True)
def fn_averagea(ctx: Context, *args: Any) -> Any:
    nums = numbers_a(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return DIV0
    return math.fsum(nums) / len(nums)  # type: ignore[arg-type]


@register("MINA", 1, 255, "R", ctx=True)
def fn_mina(ctx: Context, *args: Any) -> Any:
    nums = numbers_a(ctx, args)
    if type(nums) is ExcelError:
        return nums
    return min(nums) if nums else 0.0  # type: ignore[type-var]


@register("MAXA", 1, 255, "R", ctx=True)
def fn_maxa(ctx: Context, *args: Any) -> Any:
    nums = numbers_a(ctx, args)
    if type(nums) is ExcelError:
        return nums
    return max(nums) if nums else 0.0  # type: ignore[type-var]


# --------------------------------------------------------------------------- order

def _kth(ctx: Context, arr: Any, k: Any, largest: bool) -> Any:
    nums = _number_args(ctx, [arr])
    if type(nums) is ExcelError:
        return nums
    kk = to_number(k)
    if type(kk) is not float:
        return kk
    n = math.ceil(kk)  # type: ignore[arg-type]
    if not 1 <= n <= len(nums):  # type: ignore[arg-type]
        return NUM
    s = sorted(nums, reverse=largest)  # type: ignore[type-var]
    return s[n - 1]


@register("LARGE", 2, 2, "RS", ctx=True)
def fn_large(ctx: Context, arr: Any, k: Any) -> Any:
    if type(k) is list:
        return [[_kth(ctx, arr, x, True) for x in row] for row in k]
    return _kth(ctx, arr, k, True)


@register("SMALL", 2, 2, "RS", ctx=True)
def fn_small(ctx: Context, arr: Any, k: Any) -> Any:
    if type(k) is list:
        return [[_kth(ctx, arr, x, False) for x in row] for row in k]
    return _kth(ctx, arr, k, False)


def _minmax_ifs(ctx: Context, rng: Any, args: tuple[Any, ...], pick: Callable[..., Any]) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", tr("需要成对的区域和条件"))
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    pos, h, w = got  # type: ignore[misc]
    if type(rng) is Ref:
        r1, c1, r2, c2 = ctx.clamp(rng)
        if (max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0)) != (h, w):
            return VALUE
        vals = ctx.flat(rng)
    elif type(rng) is list:
        if (len(rng), len(rng[0])) != (h, w):
            return VALUE
        vals = [v for row in rng for v in row]
    else:
        return VALUE
    nums = []
    for i in pos:
        v = vals[i]
        if type(v) is float:
            nums.append(v)
        elif type(v) is ExcelError:
            return v
    return pick(nums) if nums else 0.0


@register("MINIFS", 3, 255, "R", ctx=True)
def fn_minifs(ctx: Context, rng: Any, *args: Any) -> Any:
    return _minmax_ifs(ctx, rng, args, min)


@register("MAXIFS", 3, 255, "R", ctx=True)
def fn_maxifs(ctx: Context, rng: Any, *args: Any) -> Any:
    return _minmax_ifs(ctx, rng, args, max)


def _modes(ctx: Context, args: tuple[Any, ...]) -> list[float] | ExcelError:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    counts: dict[float, int] = {}
    for x in nums:  # type: ignore[union-attr]
        counts[x] = counts.get(x, 0) + 1
    best = max(counts.values(), default=0)
    if best < 2:
        return NA
    return [x for x in counts if counts[x] == best]  # in order of first appearance


@register("MODE", 1, 255, "R", ctx=True)
@register("MODE.SNGL", 1, 255, "R", ctx=True)
def fn_mode(ctx: Context, *args: Any) -> Any:
    m = _modes(ctx, args)
    return m if type(m) is ExcelError else m[0]  # type: ignore[index]


@register("MODE.MULT", 1, 255, "R", ctx=True)
def fn_mode_mult(ctx: Context, *args: Any) -> Any:
    m = _modes(ctx, args)
    return m if type(m) is ExcelError else [[x] for x in m]  # type: ignore[union-attr]


def _sorted_arg(ctx: Context, arr: Any) -> list[float] | ExcelError:
    nums = _number_args(ctx, [arr])
    if type(nums) is ExcelError:
        return nums
    return sorted(nums)  # type: ignore[type-var]


def _percentile(s: list[float], p: float, exclusive: bool) -> Any:
    n = len(s)
    if not n:
        return NUM
    if exclusive:
        h = p * (n + 1) - 1
        if h < 0 or h > n - 1 or p <= 0 or p >= 1:
            return NUM
    else:
        if not 0 <= p <= 1:
            return NUM
        h = p * (n - 1)
    lo = math.floor(h)
    if lo >= n - 1:
        return s[-1]
    return s[lo] + (h - lo) * (s[lo + 1] - s[lo])


@register("PERCENTILE", 2, 2, "RS", ctx=True)
@register("PERCENTILE.INC", 2, 2, "RS", ctx=True)
def fn_percentile_inc(ctx: Context, arr: Any, p: Any) -> Any:
    return _pct_call(ctx, arr, p, False, 1.0)


@register("PERCENTILE.EXC", 2, 2, "RS", ctx=True)
def fn_percentile_exc(ctx: Context, arr: Any, p: Any) -> Any:
    return _pct_call(ctx, arr, p, True, 1.0)


@register("QUARTILE", 2, 2, "RS", ctx=True)
@register("QUARTILE.INC", 2, 2, "RS", ctx=True)
def fn_quartile_inc(ctx: Context, arr: Any, q: Any) -> Any:
    return _pct_call(ctx, arr, q, False, 4.0)


@register("QUARTILE.EXC", 2, 2, "RS", ctx=True)
def fn_quartile_exc(ctx: Context, arr: Any, q: Any) -> Any:
    return _pct_call(ctx, arr, q, True, 4.0)


def _pct_call(ctx: Context, arr: Any, p: Any, exclusive: bool, scale: float) -> Any:
    s = _sorted_arg(ctx, arr)
    if type(s) is ExcelError:
        return s
    x = to_number(p)
    if type(x) is not float:
        return x
    if scale == 4.0:
        x = math.trunc(x)  # type: ignore[arg-type]
        if not (0 <= x <= 4) or (exclusive and not 1 <= x <= 3):
            return NUM
    return _percentile(s, x / scale, exclusive)  # type: ignore[arg-type, operator]


def _percentrank(ctx: Context, arr: Any, x: Any, sig: Any, exclusive: bool) -> Any:
    s = _sorted_arg(ctx, arr)
    if type(s) is ExcelError:
        return s
    xv = to_number(x)
    if type(xv) is not float:
        return xv
    d = 3.0 if sig is None else to_number(sig)
    if type(d) is not float:
        return d
    digits = int(d)  # type: ignore[arg-type]
    if digits < 1 or not s:
        return NUM
    n = len(s)  # type: ignore[arg-type]
    if xv < s[0] or xv > s[-1]:  # type: ignore[index, operator]
        return NA
    lo = bisect.bisect_left(s, xv)  # type: ignore[arg-type]
    if lo < n and s[lo] == xv:  # type: ignore[index]
        rank = float(lo)
    else:
        a, b = s[lo - 1], s[lo]  # type: ignore[index]
        rank = lo - 1 + (xv - a) / (b - a)  # type: ignore[operator]
    r = (rank + 1) / (n + 1) if exclusive else (rank / (n - 1) if n > 1 else 1.0)
    f = 10 ** digits
    return math.floor(r * f + 1e-9) / f


@register("PERCENTRANK", 2, 3, "RSS", ctx=True)
@register("PERCENTRANK.INC", 2, 3, "RSS", ctx=True)
def fn_percentrank_inc(ctx: Context, arr: Any, x: Any, sig: Any = None) -> Any:
    return _percentrank(ctx, arr, x, sig, False)


@register("PERCENTRANK.EXC", 2, 3, "RSS", ctx=True)
def fn_percentrank_exc(ctx: Context, arr: Any, x: Any, sig: Any = None) -> Any:
    return _percentrank(ctx, arr, x, sig, True)


@register("RANK.AVG", 2, 3, "SRS", ctx=True)
def fn_rank_avg(ctx: Context, x: Any, ref: Any, order: Any = None) -> Any:
    got = _rank_span(ctx, x, ref, order)
    if type(got) is ExcelError:
        return got
    _x, lo, hi, n, o = got  # type: ignore[misc]
    if lo == hi:
        return NA
    if o == 0.0:
        return (n - hi + 1 + n - lo) / 2.0
    return (lo + 1 + hi) / 2.0


# --------------------------------------------------------------------------- spread

def _nums(ctx: Context, args: tuple[Any, ...], a: bool) -> list[float] | ExcelError:
    return numbers_a(ctx, args) if a else _number_args(ctx, args)


def _var(ctx: Context, args: tuple[Any, ...], sample: bool, a: bool = False) -> Any:
    nums = _nums(ctx, args, a)
    if type(nums) is ExcelError:
        return nums
    n = len(nums)  # type: ignore[arg-type]
    if n < (2 if sample else 1):
        return DIV0
    m = math.fsum(nums) / n  # type: ignore[arg-type]
    return math.fsum((x - m) ** 2 for x in nums) / (n - 1 if sample else n)  # type: ignore


for _names, _sample, _a in ((("VAR", "VAR.S"), True, False), (("VARP", "VAR.P"), False, False),
                            (("VARA",), True, True), (("VARPA",), False, True)):
    for _n in _names:
        register(_n, 1, 255, "R", ctx=True)(
            lambda ctx, *args, _s=_sample, _aa=_a: _var(ctx, args, _s, _aa))
for _names, _sample, _a in ((("STDEV", "STDEV.S"), True, False),
                            (("STDEVP", "STDEV.P"), False, False),
                            (("STDEVA",), True, True), (("STDEVPA",), False, True)):
    for _n in _names:
        register(_n, 1, 255, "R", ctx=True)(
            lambda ctx, *args, _s=_sample, _aa=_a: _sqrt(_var(ctx, args, _s, _aa)))


def _sqrt(v: Any) -> Any:
    return math.sqrt(v) if type(v) is float else v


@register("AVEDEV", 1, 255, "R", ctx=True)
def fn_avedev(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return NUM
    m = math.fsum(nums) / len(nums)  # type: ignore[arg-type]
    return math.fsum(abs(x - m) for x in nums) / len(nums)  # type: ignore[union-attr, arg-type]


@register("DEVSQ", 1, 255, "R", ctx=True)
def fn_devsq(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return NUM
    m = math.fsum(nums) / len(nums)  # type: ignore[arg-type]
    return math.fsum((x - m) ** 2 for x in nums)  # type: ignore[union-attr]


@register("GEOMEAN", 1, 255, "R", ctx=True)
def fn_geomean(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums or any(x <= 0 for x in nums):  # type: ignore[union-attr]
        return NUM
    return math.exp(math.fsum(math.log(x) for x in nums) / len(nums))  # type: ignore


@register("HARMEAN", 1, 255, "R", ctx=True)
def fn_harmean(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums or any(x <= 0 for x in nums):  # type: ignore[union-attr]
        return NUM
    return len(nums) / math.fsum(1.0 / x for x in nums)  # type: ignore


def _moments(nums: list[float]) -> tuple[int, float, float]:
    n = len(nums)
    m = math.fsum(nums) / n
    s = math.sqrt(math.fsum((x - m) ** 2 for x in nums) / (n - 1)) if n > 1 else 0.0
    return n, m, s


@register("SKEW", 1, 255, "R", ctx=True)
def fn_skew(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if len(nums) < 3:  # type: ignore[arg-type]
        return DIV0
    n, m, s = _moments(nums)  # type: ignore[arg-type]
    if s == 0:
        return DIV0
    return n / ((n - 1) * (n - 2)) * math.fsum(((x - m) / s) ** 3 for x in nums)  # type: ignore


@register("SKEW.P", 1, 255, "R", ctx=True)
def fn_skew_p(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    n = len(nums)  # type: ignore[arg-type]
    if n < 1:
        return DIV0
    m = math.fsum(nums) / n  # type: ignore[arg-type]
    sp = math.sqrt(math.fsum((x - m) ** 2 for x in nums) / n)  # type: ignore[union-attr]
    if sp == 0:
        return DIV0
    return math.fsum(((x - m) / sp) ** 3 for x in nums) / n  # type: ignore[union-attr]


@register("KURT", 1, 255, "R", ctx=True)
def fn_kurt(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if len(nums) < 4:  # type: ignore[arg-type]
        return DIV0
    n, m, s = _moments(nums)  # type: ignore[arg-type]
    if s == 0:
        return DIV0
    k = math.fsum(((x - m) / s) ** 4 for x in nums)  # type: ignore[union-attr]
    return (n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * k
            - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


@register("STANDARDIZE", 3, 3, lift=True)
@numeric
def fn_standardize(x: float, mean: float, sd: float) -> Any:
    if sd <= 0:
        return NUM
    return (x - mean) / sd


@register("TRIMMEAN", 2, 2, "RS", ctx=True)
def fn_trimmean(ctx: Context, arr: Any, p: Any) -> Any:
    s = _sorted_arg(ctx, arr)
    if type(s) is ExcelError:
        return s
    x = to_number(p)
    if type(x) is not float:
        return x
    if not 0 <= x < 1 or not s:  # type: ignore[operator]
        return NUM
    k = math.floor(len(s) * x / 2)  # type: ignore[arg-type, operator]
    kept = s[k:len(s) - k]  # type: ignore[index, arg-type]
    return math.fsum(kept) / len(kept)


def _xy(ctx: Context, a: Any, b: Any) -> tuple[list[float], list[float]] | ExcelError:
    ga, gb = ctx.array(a), ctx.array(b)
    fa = [v for r in ga for v in r]
    fb = [v for r in gb for v in r]
    if len(fa) != len(fb):
        return NA
    xs, ys = [], []
    for x, y in zip(fa, fb, strict=True):
        if type(x) is ExcelError:
            return x
        if type(y) is ExcelError:
            return y
        if type(x) is float and type(y) is float:
            xs.append(x)
            ys.append(y)
    return xs, ys


def _cov(xs: list[float], ys: list[float], sample: bool) -> float:
    n = len(xs)
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    return math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (
        n - 1 if sample else n)


def _covariance(sample: bool) -> Callable[..., Any]:
    def impl(ctx: Context, a: Any, b: Any) -> Any:
        got = _xy(ctx, a, b)
        if type(got) is ExcelError:
            return got
        xs, ys = got  # type: ignore[misc]
        if len(xs) < (2 if sample else 1):
            return DIV0
        return _cov(xs, ys, sample)

    return impl


register("COVARIANCE.S", 2, 2, "A", ctx=True)(_covariance(True))
register("COVARIANCE.P", 2, 2, "A", ctx=True)(_covariance(False))
register("COVAR", 2, 2, "A", ctx=True)(_covariance(False))


def _regression(ctx: Context, ys_arg: Any, xs_arg: Any) -> Any:
    got = _xy(ctx, xs_arg, ys_arg)
    if type(got) is ExcelError:
        return got
    xs, ys = got  # type: ignore[misc]
    n = len(xs)
    if n < 2:
        return DIV0
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return n, mx, my, sxx, syy, sxy


@register("CORREL", 2, 2, "A", ctx=True)
@register("PEARSON", 2, 2, "A", ctx=True)
def fn_correl(ctx: Context, a: Any, b: Any) -> Any:
    r = _regression(ctx, b, a)
    if type(r) is ExcelError:
        return r
    _n, _mx, _my, sxx, syy, sxy = r
    if sxx == 0 or syy == 0:
        return DIV0
    return sxy / math.sqrt(sxx * syy)


@register("RSQ", 2, 2, "A", ctx=True)
def fn_rsq(ctx: Context, ys: Any, xs: Any) -> Any:
    r = fn_correl(ctx, xs, ys)
    return r * r if type(r) is float else r


@register("SLOPE", 2, 2, "A", ctx=True)
def fn_slope(ctx: Context, ys: Any, xs: Any) -> Any:
    r = _regression(ctx, ys, xs)
    if type(r) is ExcelError:
        return r
    _n, _mx, _my, sxx, _syy, sxy = r
    return DIV0 if sxx == 0 else sxy / sxx


@register("INTERCEPT", 2, 2, "A", ctx=True)
def fn_intercept(ctx: Context, ys: Any, xs: Any) -> Any:
    r = _regression(ctx, ys, xs)
    if type(r) is ExcelError:
        return r
    _n, mx, my, sxx, _syy, sxy = r
    return DIV0 if sxx == 0 else my - sxy / sxx * mx


@register("STEYX", 2, 2, "A", ctx=True)
def fn_steyx(ctx: Context, ys: Any, xs: Any) -> Any:
    r = _regression(ctx, ys, xs)
    if type(r) is ExcelError:
        return r
    n, _mx, _my, sxx, syy, sxy = r
    if n < 3 or sxx == 0:
        return DIV0
    return math.sqrt((syy - sxy * sxy / sxx) / (n - 2))


@register("FREQUENCY", 2, 2, "A", ctx=True)
def fn_frequency(ctx: Context, data: Any, bins: Any) -> Any:
    d = _number_args(ctx, [data])
    b = _number_args(ctx, [bins])
    if type(d) is ExcelError:
        return d
    if type(b) is ExcelError:
        return b
    order = sorted(range(len(b)), key=lambda i: b[i])  # type: ignore[index, arg-type]
    counts = [0] * (len(b) + 1)  # type: ignore[arg-type]
    sb = [b[i] for i in order]  # type: ignore[index]
    for x in d:  # type: ignore[union-attr]
        j = bisect.bisect_left(sb, x)
        counts[order[j] if j < len(order) else len(b)] += 1  # type: ignore[arg-type]
    return [[float(c)] for c in counts]
