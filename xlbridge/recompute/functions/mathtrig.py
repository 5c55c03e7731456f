"""Math & Trig: SUM, SUMIF(S), SUMPRODUCT, ROUND and friends, INT, MOD…"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import (
    PENDING,
    ROW_SHIFT,
    SHEET_SHIFT,
    Context,
    Ref,
)
from ..operators import arith_pow
from ..values import (
    DIV0,
    NUM,
    OMITTED,
    VALUE,
    approx_equal,
    checked,
    dec15,
    takes_omitted,
    to_number,
    xl_floor15,
    xl_round,
)
from .args import (
    _number_args,
    _values,
    numeric,
    strict_numeric,
    to_int,
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
from .registry import NATIVE, registrar

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
        return ExcelError("#DIV/0!", tr("MOD 的除数为零"))
    # the exact remainder with the divisor's sign, as Excel's (MOD(5, 1E-10) is 9.99998E-11,
    # where n - d·INT(n/d) loses it to rounding)
    r = math.fmod(n, d)  # type: ignore[arg-type]
    if r and (r < 0) != (d < 0):  # type: ignore[operator]
        r += d  # type: ignore[operator]
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
        return ExcelError("#NUM!", tr("负数的平方根"))
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
            return ExcelError("#VALUE!", tr("SUMPRODUCT 的各数组大小不同"))
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




@register("SUMIF", 2, 3, "RLR", ctx=True)
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
        return ExcelError("#VALUE!", tr("SUMIFS 需要成对的区域和条件"))
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    return _sum_at(ctx, sum_rng, got[1], got[2], got[0], False)  # type: ignore[index]




# --------------------------------------------------------------------------- more arithmetic

@register("PRODUCT", 1, 255, "R", ctx=True)
def fn_product(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, [a for a in args if a is not None])
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return 0.0
    p = 1.0
    for x in nums:  # type: ignore[union-attr]
        p *= x
    return checked(p)


@register("SUMSQ", 1, 255, "R", ctx=True)
def fn_sumsq(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, [a for a in args if a is not None])
    if type(nums) is ExcelError:
        return nums
    return checked(math.fsum(x * x for x in nums))  # type: ignore[union-attr]


def _pairs_of(ctx: Context, a: Any, b: Any) -> list[tuple[float, float]] | ExcelError:
    """Aligned numbers of two same-shaped ranges (pairs where both are numbers)."""
    fa = [v for row in ctx.array(a) for v in row]
    fb = [v for row in ctx.array(b) for v in row]
    if len(fa) != len(fb):
        return ExcelError("#N/A", tr("各区域大小不同"))
    out = []
    for x, y in zip(fa, fb, strict=True):
        if type(x) is ExcelError:
            return x
        if type(y) is ExcelError:
            return y
        if type(x) is float and type(y) is float:
            out.append((x, y))
    return out


def _sumx(f: Callable[[float, float], float]) -> Callable[..., Any]:
    def impl(ctx: Context, a: Any, b: Any) -> Any:
        pairs = _pairs_of(ctx, a, b)
        if type(pairs) is ExcelError:
            return pairs
        return checked(math.fsum(f(x, y) for x, y in pairs))  # type: ignore[union-attr]

    return impl


register("SUMX2MY2", 2, 2, "A", ctx=True)(_sumx(lambda x, y: x * x - y * y))
register("SUMX2PY2", 2, 2, "A", ctx=True)(_sumx(lambda x, y: x * x + y * y))
register("SUMXMY2", 2, 2, "A", ctx=True)(_sumx(lambda x, y: (x - y) ** 2))


@register("PI", 0, 0)
def fn_pi() -> Any:
    return math.pi


@register("SIGN", 1, 1, lift=True)
@numeric
def fn_sign(x: float) -> Any:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


@register("EXP", 1, 1, lift=True)
@numeric
def fn_exp(x: float) -> Any:
    return math.exp(x)


@register("LN", 1, 1, lift=True)
@numeric
def fn_ln(x: float) -> Any:
    return math.log(x)


@register("LOG10", 1, 1, lift=True)
@numeric
def fn_log10(x: float) -> Any:
    return math.log10(x)


@register("LOG", 1, 2, lift=True)
@numeric
def fn_log(x: float, base: float = 10.0) -> Any:
    if base == 1.0:
        return DIV0
    if base == 10.0:
        return math.log10(x)
    return math.log(x) / math.log(base)


@register("DEGREES", 1, 1, lift=True)
@numeric
def fn_degrees(x: float) -> Any:
    return math.degrees(x)


@register("RADIANS", 1, 1, lift=True)
@numeric
def fn_radians(x: float) -> Any:
    return math.radians(x)


@register("SQRTPI", 1, 1, lift=True)
@numeric
def fn_sqrtpi(x: float) -> Any:
    return math.sqrt(x * math.pi)


_TRIG_LIMIT = 134217728.0  # Excel: |x| ≥ 2^27 is #NUM! for SIN/COS/TAN


def _trig(name: str, f: Callable[[float], float], limit: float | None = _TRIG_LIMIT,
          zero_div: bool = False) -> None:
    @numeric
    def impl(x: float) -> Any:
        if limit is not None and abs(x) >= limit:
            return NUM
        if zero_div and x == 0.0:
            return DIV0
        return f(x)

    impl.__name__ = f"fn_{name.lower()}"
    register(name, 1, 1, lift=True)(impl)


# Excel reduces the argument of SIN, COS, TAN (and COT, CSC, SEC) by π/2 as the x87 FPU's
# FLDPI holds it, π rounded to 64 bits: 0xC90FDAA22168C235·2⁻⁶², 5.0166E-20 above π. So it
# computes f(x − k·δ), k = x's nearest multiple of π/2 and δ = half that excess: SIN(PI())
# is 1.22514845490862E-16 in Excel and 1.2246467991473532E-16 in C, TAN(PI()/2) is
# 1.6324552277619072E16 (C: 1.633123935319537E16), COT(2^20) differs from C's from the
# 14th digit. Every such cell of tests/corpus (TAN, COS, TRIGONOMETRIC, trigonometric_
# functions) gives this same π, bit for bit. f(x − e) is C's f(x) corrected to first order
# (exactly, for TAN: tan(x − e) = (tan x − e)/(1 + e·tan x)), which keeps C's correctly
# rounded value wherever the correction is below half an ulp.
_HALF_PI_80_EXCESS = 2.508278806334166e-20  # 0xC90FDAA22168C235·2⁻⁶³ − π/2


def _excess(x: float) -> float:
    return round(x / (math.pi / 2)) * _HALF_PI_80_EXCESS


def _sin(x: float) -> float:
    return math.sin(x) - _excess(x) * math.cos(x)


def _cos(x: float) -> float:
    return math.cos(x) + _excess(x) * math.sin(x)


def _tan(x: float) -> float:
    t, e = math.tan(x), _excess(x)
    return (t - e) / (1.0 + e * t)


_trig("SIN", _sin)
_trig("COS", _cos)
_trig("TAN", _tan)
_trig("ASIN", math.asin, None)
_trig("ACOS", math.acos, None)
_trig("ATAN", math.atan, None)
_trig("SINH", math.sinh, None)
_trig("COSH", math.cosh, None)
_trig("TANH", math.tanh, None)
_trig("ASINH", math.asinh, None)
_trig("ACOSH", math.acosh, None)
_trig("ATANH", math.atanh, None)
_trig("COT", lambda x: 1.0 / _tan(x), _TRIG_LIMIT, True)
_trig("CSC", lambda x: 1.0 / _sin(x), _TRIG_LIMIT, True)
_trig("SEC", lambda x: 1.0 / _cos(x), _TRIG_LIMIT)
_trig("COTH", lambda x: 1.0 / math.tanh(x), None, True)
_trig("CSCH", lambda x: 0.0 if abs(x) > 700 else 1.0 / math.sinh(x), None, True)
_trig("SECH", lambda x: 0.0 if abs(x) > 700 else 1.0 / math.cosh(x), None)
_trig("ACOT", lambda x: math.atan(1.0 / x) if x > 0 else math.pi / 2 - math.atan(x), None)


@register("ACOTH", 1, 1, lift=True)
@numeric
def fn_acoth(x: float) -> Any:
    if abs(x) <= 1.0:
        return NUM
    # ½·ln((x+1)/(x−1)) as ½·ln(1 + 2/(|x|−1)): Excel's value both next to 1, where
    # ATANH(1/x) loses 1/x's rounding (ACOTH(1.0000000001) is 11.859499013905017, not
    # …855018), and for large x, where the quotient rounds to 1 (TRIGONOMETRIC.xlsx)
    return math.copysign(0.5 * math.log1p(2.0 / (abs(x) - 1.0)), x)


@register("ATAN2", 2, 2, lift=True)
@numeric
def fn_atan2(x: float, y: float) -> Any:
    if x == 0.0 and y == 0.0:
        return DIV0
    return math.atan2(y, x)


def _away(x: float, step: float) -> float:
    """x rounded away from zero to a multiple of step (EVEN/ODD)."""
    return math.ceil(abs(x) / step - 1e-12) * step


@register("EVEN", 1, 1, lift=True)
@numeric
def fn_even(x: float) -> Any:
    r = math.ceil(abs(x) / 2.0) * 2.0
    return r if x >= 0 else -r


@register("ODD", 1, 1, lift=True)
@numeric
def fn_odd(x: float) -> Any:
    a = math.ceil(abs(x))
    if a % 2 == 0:
        a += 1
    return float(a) if x >= 0 else -float(a)


@register("FACT", 1, 1, lift=True)
@numeric
def fn_fact(x: float) -> Any:
    if x < 0:
        return NUM
    n = int(x)
    if n > 170:
        return NUM
    return float(math.factorial(n))


@register("FACTDOUBLE", 1, 1, lift=True)
@numeric
def fn_factdouble(x: float) -> Any:
    if x < -1:
        return NUM
    n = int(x)
    p = 1.0
    while n > 1:
        p *= n
        n -= 2
    return p


@register("COMBIN", 2, 2, lift=True)
@numeric
def fn_combin(n: float, k: float) -> Any:
    n, k = math.trunc(n), math.trunc(k)  # type: ignore[assignment]
    if n < 0 or k < 0 or k > n:
        return NUM
    return float(math.comb(int(n), int(k)))


@register("COMBINA", 2, 2, lift=True)
@numeric
def fn_combina(n: float, k: float) -> Any:
    n, k = math.trunc(n), math.trunc(k)  # type: ignore[assignment]
    if n < 0 or k < 0 or (n == 0 and k > 0):
        return NUM
    if n == 0 and k == 0:
        return 1.0
    return float(math.comb(int(n + k - 1), int(k)))


@register("PERMUT", 2, 2, lift=True)
@numeric
def fn_permut(n: float, k: float) -> Any:
    n, k = math.trunc(n), math.trunc(k)  # type: ignore[assignment]
    if n < 0 or k < 0 or k > n:
        return NUM
    return float(math.perm(int(n), int(k)))


@register("MULTINOMIAL", 1, 255, "R", ctx=True)
def fn_multinomial(ctx: Context, *args: Any) -> Any:
    ks = _integers(ctx, args)
    if type(ks) is ExcelError:
        return ks
    if any(k < 0 for k in ks):
        return NUM
    r = math.factorial(sum(ks))
    for k in ks:
        r //= math.factorial(k)
    return checked(float(r))


def _integers(ctx: Context, args: tuple[Any, ...]) -> list[int] | ExcelError:
    out = []
    for a in args:
        vals = _values(ctx, a)
        if a is OMITTED:  # GCD(,5): #N/A in Excel (an empty cell is 0)
            return ExcelError("#N/A", tr("省略了必需的参数"))
        if vals == [] and type(a) is Ref:  # a range wholly outside the used area: blanks
            vals = [None, None]
        for v in (vals if vals is not None else [a]):
            if v is None:
                # Excel: LCM(A1,B1,C1) leaves an empty C1 out, LCM(G1:H1) counts an empty
                # cell of the range as 0 (its cached values in GCD_LCM.xlsx)
                if vals is None or len(vals) > 1:
                    out.append(0)
                continue
            if type(v) is bool:
                return ExcelError("#VALUE!", tr("此处应为整数，不是逻辑值"))
            x = to_number(v)
            if type(x) is ExcelError:
                return x
            if x < 0 or x >= 2.0 ** 53:  # type: ignore[operator]
                return NUM
            out.append(int(x))  # type: ignore[arg-type]
    return out


@register("GCD", 1, 255, "R", ctx=True)
@takes_omitted
def fn_gcd(ctx: Context, *args: Any) -> Any:
    ns = _integers(ctx, args)
    if type(ns) is ExcelError:
        return ns
    if not ns:
        return VALUE
    return float(math.gcd(*ns))  # type: ignore[misc]


@register("LCM", 1, 255, "R", ctx=True)
@takes_omitted
def fn_lcm(ctx: Context, *args: Any) -> Any:
    ns = _integers(ctx, args)
    if type(ns) is ExcelError:
        return ns
    if not ns:
        return VALUE
    if 0 in ns:  # type: ignore[operator]
        return 0.0
    r = math.lcm(*ns)  # type: ignore[misc]
    return NUM if r >= 2 ** 53 else float(r)


@register("QUOTIENT", 2, 2, lift=True)
@strict_numeric
def fn_quotient(n: float, d: float) -> Any:
    if d == 0.0:
        return DIV0
    return float(math.trunc(n / d))


@register("MROUND", 2, 2, lift=True)
@strict_numeric
def fn_mround(x: float, m: float) -> Any:
    if m == 0.0:
        return 0.0
    if (x > 0 and m < 0) or (x < 0 and m > 0):
        return NUM
    q = dec15(x / m)
    if q.adjusted() >= 15:  # a multiple already at 15 digits: MROUND(10, 1E-100) is 10
        return x
    return float(q.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * m


def _to_multiple(x: float, m: float, up: bool) -> float:
    """x rounded to a multiple of m: toward +inf (up) or -inf, on 15-digit decimals."""
    q = dec15(x / m)
    n = math.ceil(q) if up else math.floor(q)
    return float(Decimal(n) * dec15(m))


@register("CEILING", 2, 2, lift=True)
@numeric
def fn_ceiling(x: float, m: float) -> Any:
    if m == 0.0:
        return 0.0
    if x > 0 and m < 0:
        return NUM
    if x < 0 and m < 0:
        return -_to_multiple(-x, -m, True)
    return _to_multiple(x, m, True)


@register("FLOOR", 2, 2, lift=True)
@numeric
def fn_floor(x: float, m: float) -> Any:
    if m == 0.0:
        return DIV0 if x != 0 else 0.0
    if x > 0 and m < 0:
        return NUM
    if x < 0 and m < 0:
        return -_to_multiple(-x, -m, False)
    return _to_multiple(x, m, False)


@register("CEILING.MATH", 1, 3, lift=True)
@numeric
def fn_ceiling_math(x: float, m: float = 1.0, mode: float = 0.0) -> Any:
    if m == 0.0:
        return 0.0
    m = abs(m)
    if x < 0 and mode != 0:
        return -_to_multiple(-x, m, True)
    return _to_multiple(x, m, True)


@register("FLOOR.MATH", 1, 3, lift=True)
@numeric
def fn_floor_math(x: float, m: float = 1.0, mode: float = 0.0) -> Any:
    if m == 0.0:
        return 0.0
    m = abs(m)
    if x < 0 and mode != 0:
        return -_to_multiple(-x, m, False)
    return _to_multiple(x, m, False)


@register("CEILING.PRECISE", 1, 2, lift=True)
@register("ISO.CEILING", 1, 2, lift=True)
@numeric
def fn_ceiling_precise(x: float, m: float = 1.0) -> Any:
    if m == 0.0:
        return 0.0
    return _to_multiple(x, abs(m), True)


@register("FLOOR.PRECISE", 1, 2, lift=True)
@numeric
def fn_floor_precise(x: float, m: float = 1.0) -> Any:
    if m == 0.0:
        return 0.0
    return _to_multiple(x, abs(m), False)


@register("RAND", 0, 0, volatile=True)
def fn_rand() -> Any:
    return random.random()


@register("RANDBETWEEN", 2, 2, lift=True, volatile=True)
@numeric
def fn_randbetween(lo: float, hi: float) -> Any:
    a, b = math.ceil(lo), math.floor(hi)
    if a > b:
        return NUM
    return float(random.randint(a, b))


# --------------------------------------------------------------------------- matrices

@register("MMULT", 2, 2, "A", ctx=True)
def fn_mmult(ctx: Context, a: Any, b: Any) -> Any:
    ga, gb = ctx.array(a), ctx.array(b)
    for g in (ga, gb):
        for row in g:
            for v in row:
                if type(v) is ExcelError:
                    return v
                if type(v) is not float:
                    return VALUE
    n, m, p = len(ga), len(ga[0]), len(gb[0])
    if m != len(gb):
        return VALUE
    return [[checked(math.fsum(ga[i][k] * gb[k][j] for k in range(m))) for j in range(p)]
            for i in range(n)]


@register("SEQUENCE", 1, 4)
def fn_sequence(rows: Any, cols: Any = None, start: Any = None, step: Any = None) -> Any:
    vals = []
    for v, d in ((rows, 1.0), (cols, 1.0), (start, 1.0), (step, 1.0)):
        x = d if v is None else to_number(v)
        if type(x) is ExcelError:
            return x
        vals.append(x)
    r, c = int(vals[0]), int(vals[1])
    if r < 0 or c < 0:  # Excel: SEQUENCE(-1) is #VALUE!, SEQUENCE(0) and SEQUENCE(0.3) #CALC!
        return ExcelError("#VALUE!", tr("SEQUENCE 的行数和列数不能为负数"))
    if r == 0 or c == 0:
        return ExcelError("#CALC!", tr("SEQUENCE 的结果没有单元格"))
    if r * c > 1048576:
        return NUM
    s, st = vals[2], vals[3]
    return [[s + (i * c + j) * st for j in range(c)] for i in range(r)]


# --------------------------------------------------------------------------- SUBTOTAL, AGGREGATE

_AGGREGATES = {1: "AVERAGE", 2: "COUNT", 3: "COUNTA", 4: "MAX", 5: "MIN", 6: "PRODUCT",
               7: "STDEV.S", 8: "STDEV.P", 9: "SUM", 10: "VAR.S", 11: "VAR.P", 12: "MEDIAN",
               13: "MODE.SNGL", 14: "LARGE", 15: "SMALL", 16: "PERCENTILE.INC",
               17: "QUARTILE.INC", 18: "PERCENTILE.EXC", 19: "QUARTILE.EXC"}
_NESTED = re.compile(r"\b(?:_xlfn\.)?(?:SUBTOTAL|AGGREGATE)\s*\(", re.I)


def _kept(ctx: Context, a: Any, hidden: bool, nested: bool, errors: bool,
          filtered: bool = False) -> Any:
    """The values of a SUBTOTAL/AGGREGATE argument without what it is told to leave out:
    hidden rows (or, with ``filtered``, the rows a filter hid), cells that are themselves
    SUBTOTAL/AGGREGATE formulas, error values."""
    if type(a) is not Ref:
        if type(a) is list and errors:
            vals = [v for row in a for v in row if type(v) is not ExcelError]
            return [vals or [None]]
        return a
    r1, c1, r2, c2 = ctx.clamp(a)
    hidden_rows = ctx.hidden_rows.get(a.sheet, ()) if hidden else (
        ctx.filtered_rows.get(a.sheet, ()) if filtered else ())
    out = []
    sb = a.sheet << SHEET_SHIFT
    get = ctx.values.get
    for r in range(r1, r2 + 1):
        if r in hidden_rows:
            continue
        for c in range(c1, c2 + 1):
            key = sb | (r << ROW_SHIFT) | c
            v = get(key)
            if v is PENDING:
                ctx.cell(a.sheet, r, c)  # raises NeedCells: computed first
            if nested and v is not None:
                text = ctx.formula_text(key)
                if text is not None and _NESTED.search(text):
                    continue
            if errors and type(v) is ExcelError:
                continue
            out.append(v)
    return [out or [None]]


def _aggregate(ctx: Context, fn: int, args: tuple[Any, ...], hidden: bool, nested: bool,
               errors: bool, filtered: bool = False) -> Any:
    name = _AGGREGATES.get(fn)
    if name is None:
        return VALUE
    impl = NATIVE[name].impl
    if fn >= 14:
        if len(args) < 2:
            return VALUE
        return impl(ctx, _kept(ctx, args[0], hidden, nested, errors, filtered), args[1])
    return impl(ctx, *[_kept(ctx, a, hidden, nested, errors, filtered) for a in args])


@register("SUBTOTAL", 2, 255, "SR", ctx=True)
def fn_subtotal(ctx: Context, fn: Any, *refs: Any) -> Any:
    """SUBTOTAL(1–11, …) counts rows hidden by hand and leaves out the rows a filter hid,
    SUBTOTAL(101–111, …) leaves out every hidden row; cells that are SUBTOTAL/AGGREGATE
    formulas themselves are never counted twice."""
    n = to_int(fn)
    if type(n) is ExcelError:
        return n
    hidden = n > 100  # type: ignore[operator]
    k = n - 100 if hidden else n  # type: ignore[operator]
    if not 1 <= k <= 11 or any(type(r) is not Ref for r in refs):
        return VALUE
    return _aggregate(ctx, k, refs, hidden, True, False, True)  # type: ignore[arg-type]


@register("AGGREGATE", 3, 255, "SSA", ctx=True)
def fn_aggregate(ctx: Context, fn: Any, options: Any, *args: Any) -> Any:
    """AGGREGATE(function 1–19, options 0–7, …): options 0–3 leave out nested SUBTOTAL/
    AGGREGATE cells, 1/3/5/7 hidden rows, 2/3/6/7 error values."""
    n, o = to_int(fn), to_int(0.0 if options is None else options)
    if type(n) is ExcelError:
        return n
    if type(o) is ExcelError:
        return o
    if not 0 <= o <= 7:  # type: ignore[operator]
        return VALUE
    return _aggregate(ctx, n, args, o in (1, 3, 5, 7), o <= 3,  # type: ignore[arg-type]
                      o in (2, 3, 6, 7))
