"""Financial: time value of money (PV, FV, PMT, IPMT, PPMT, NPER, RATE, CUMIPMT, CUMPRINC),
cash flows (NPV, XNPV, IRR, XIRR, MIRR, FVSCHEDULE), rates (EFFECT, NOMINAL, RRI, PDURATION,
ISPMT), depreciation (SLN, SYD, DB, DDB, VDB), accrued interest (ACCRINT, ACCRINTM), discounted
securities (DISC, INTRATE, RECEIVED, PRICEDISC, YIELDDISC, PRICEMAT, YIELDMAT), Treasury bills
(TBILLEQ, TBILLPRICE, TBILLYIELD) and fractional dollars (DOLLARDE, DOLLARFR).

The formulas and their edge cases (which argument errors are #NUM! and which #DIV/0!)
follow Excel's documentation and IronCalc's implementation (MIT/Apache-2.0,
``base/src/functions/financial``), which was written against the same Excel-saved files that
the corpus (tests/corpus/excel/ironcalc/calc_tests/FINANCIAL) checks. IRR's, RATE's and XIRR's
iterations are Excel's own, as measured on those files (``tests/corpus/solver_fit.py``,
``tests/corpus/xirr_fit.py``).
The coupon bonds (COUP*, PRICE, YIELD…) are in :mod:`.bonds`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context
from ..values import DIV0, NUM, VALUE, to_number
from .args import _values, numeric, strict_numeric
from .dates import yearfrac
from .registry import registrar

register = registrar("Financial")


def _num_err(msg: str) -> ExcelError:
    return ExcelError("#NUM!", msg)


# --------------------------------------------------------------------------- annuities

def payment(rate: float, nper: float, pv: float, fv: float, start: bool) -> float | ExcelError:
    if rate == 0.0:
        if nper == 0.0:
            return _num_err(tr("PMT：期数为 0"))
        return -(pv + fv) / nper
    if rate <= -1.0:
        return _num_err(tr("PMT：利率必须大于 -1"))
    rn = 1.0 if nper == 0.0 else (1.0 + rate) ** nper
    if rn == 1.0 or isinstance(rn, complex):
        return _num_err(tr("PMT：没有付款额能得到此值（期数为 0）"))
    if start:
        return (fv + pv * rn) * rate / ((1.0 + rate) * (1.0 - rn))
    return (fv * rate + pv * rate * rn) / (1.0 - rn)


def future_value(rate: float, nper: float, pmt: float, pv: float, start: bool
                 ) -> float | ExcelError:
    if rate == 0.0:
        return -pv - pmt * nper
    if rate == -1.0 and nper < 0.0:
        return DIV0
    rn = (1.0 + rate) ** nper
    if isinstance(rn, complex):
        return NUM
    if start:
        return -pv * rn - pmt * (1.0 + rate) * (rn - 1.0) / rate
    return -pv * rn - pmt * (rn - 1.0) / rate


def interest_payment(rate: float, per: float, nper: float, pv: float, fv: float,
                     start: bool) -> float | ExcelError:
    pmt = payment(rate, nper, pv, fv, start)
    if type(pmt) is ExcelError:
        return pmt
    if per < 1.0 or per >= nper + 1.0:
        return _num_err(tr("IPMT：期次必须在 1 与期数之间"))
    if per == 1.0 and start:
        return 0.0
    value = future_value(rate, per - 2.0 if start else per - 1.0, pmt, pv, start)  # type: ignore[arg-type]
    if type(value) is ExcelError:
        return value
    return (value + (-pmt if start else 0.0)) * rate  # type: ignore[operator]


def principal_payment(rate: float, per: float, nper: float, pv: float, fv: float,
                      start: bool) -> float | ExcelError:
    """The principal part of payment ``per``, without PMT − IPMT's cancellation at high
    rates: it grows by (1 + rate) each period from q = −rate·(pv + fv)/((1 + rate)^nper − 1)
    (paid at the end), and a first payment at the start is all principal."""
    pmt = payment(rate, nper, pv, fv, start)
    if type(pmt) is ExcelError:
        return pmt
    if per < 1.0 or per >= nper + 1.0:
        return _num_err(tr("PPMT：期次必须在 1 与期数之间"))
    if rate == 0.0:
        return pmt
    if start and per < 2.0:
        return pmt
    q = -rate * (pv + fv) / ((1.0 + rate) ** nper - 1.0)
    return q * (1.0 + rate) ** (per - (2.0 if start else 1.0))


def _start(t: float) -> bool:
    return t != 0.0


@register("PMT", 3, 5, lift=True)
@numeric
def fn_pmt(rate: float, nper: float, pv: float, fv: float = 0.0, typ: float = 0.0) -> Any:
    return payment(rate, nper, pv, fv, _start(typ))


@register("FV", 3, 5, lift=True)
@numeric
def fn_fv(rate: float, nper: float, pmt: float, pv: float = 0.0, typ: float = 0.0) -> Any:
    r = future_value(rate, nper, pmt, pv, _start(typ))
    if type(r) is float and math.isinf(r):
        return DIV0
    return r


@register("PV", 3, 5, lift=True)
@numeric
def fn_pv(rate: float, nper: float, pmt: float, fv: float = 0.0, typ: float = 0.0) -> Any:
    if rate == 0.0:
        return -fv - pmt * nper
    if rate == -1.0:
        return DIV0
    rn = (1.0 + rate) ** nper
    if isinstance(rn, complex):
        return NUM
    if _start(typ):
        return -(fv * rate + pmt * (1.0 + rate) * (rn - 1.0)) / (rate * rn)
    return (-fv * rate - pmt * (rn - 1.0)) / (rate * rn)


@register("IPMT", 4, 6, lift=True)
@numeric
def fn_ipmt(rate: float, per: float, nper: float, pv: float, fv: float = 0.0,
            typ: float = 0.0) -> Any:
    return interest_payment(rate, per, nper, pv, fv, _start(typ))


@register("PPMT", 4, 6, lift=True)
@numeric
def fn_ppmt(rate: float, per: float, nper: float, pv: float, fv: float = 0.0,
            typ: float = 0.0) -> Any:
    if per == math.floor(per):  # a whole period: the closed form (Excel's digits)
        return principal_payment(rate, per, nper, pv, fv, _start(typ))
    pmt = payment(rate, nper, pv, fv, _start(typ))
    if type(pmt) is ExcelError:
        return pmt
    ipmt = interest_payment(rate, per, nper, pv, fv, _start(typ))
    if type(ipmt) is ExcelError:
        return ipmt
    return pmt - ipmt  # type: ignore[operator]


@register("NPER", 3, 5, lift=True)
@numeric
def fn_nper(rate: float, pmt: float, pv: float, fv: float = 0.0, typ: float = 0.0) -> Any:
    if rate == 0.0:
        if pmt == 0.0:
            return DIV0
        return -(fv + pv) / pmt
    if rate < -1.0:
        return _num_err(tr("NPER：利率必须大于 -1"))
    if pmt != 0.0:
        term = pmt * (1.0 + rate) / rate if _start(typ) else pmt / rate
        rn = (1.0 - fv / term) / (1.0 + pv / term)
    else:
        rn = -fv / pv
    if rn <= 0.0:
        return _num_err(tr("NPER：没有期数能得到此终值"))
    return math.log(rn) / math.log(1.0 + rate)


def _rate_balance(rate: float, nper: float, pmt: float, pv: float, fv: float, t: float
                  ) -> float:
    """What is left after ``nper`` periods at ``rate`` (zero at RATE's answer)."""
    a = (1.0 + rate) ** nper
    return pv * a + pmt * (1.0 + rate * t) * (a - 1.0) / rate + fv


@register("RATE", 3, 6, lift=True)
@numeric
def fn_rate(nper: float, pmt: float, pv: float, fv: float = 0.0, typ: float = 0.0,
            guess: float = 0.1) -> Any:
    """Excel's iteration, as measured on the Excel-saved corpus (tests/corpus/solver_fit.py
    over ironcalc/calc_tests/FINANCIAL/RATE.xlsx): one Newton step from ``guess``, then the
    secant method through the last two points, stopped when a step is below RATE's documented
    accuracy (0.0000001) relative to the rate, at most 50 steps (IronCalc found 50 needed for
    Excel's results, where Excel documents 20). It gives 23 of Excel's 26 rates to 1e-12;
    Newton's method to the root gives 13."""
    if guess <= -1.0:
        return VALUE
    t = 1.0 if _start(typ) else 0.0
    try:
        x0 = guess
        f0 = _rate_balance(x0, nper, pmt, pv, fv, t)
        a = (1.0 + x0) ** (nper - 1.0)
        aa = a * (1.0 + x0)
        df = pv * nper * a - pmt * (aa - 1.0) / (x0 * x0) + pmt * (1.0 + x0 * t) * a * nper / x0
        x1 = x0 - f0 / df
        for _ in range(50):
            if isinstance(x1, complex) or x1 != x1 or x1 <= -1.0:
                return _num_err(tr("RATE 的迭代没有收敛"))
            f1 = _rate_balance(x1, nper, pmt, pv, fv, t)
            if f1 == 0.0:
                return x1
            if f1 == f0 or isinstance(f1, complex) or not math.isfinite(f1):
                return _num_err(tr("RATE 的迭代没有收敛"))
            x2 = x1 - f1 * (x1 - x0) / (f1 - f0)
            if isinstance(x2, complex) or x2 != x2 or x2 <= -1.0:
                return _num_err(tr("RATE 的迭代没有收敛"))
            if abs(x2 - x1) < 1e-7 * abs(x2):
                return x2
            x0, f0, x1 = x1, f1, x2
    except (ZeroDivisionError, OverflowError):
        return NUM
    return _num_err(tr("RATE 的迭代没有收敛"))


def _periods(x: float, up: bool) -> int:
    return math.ceil(x) if up else math.trunc(x)


def _cumulative(rate: float, nper: float, pv: float, start: float, end: float, typ: float,
                principal: bool) -> Any:
    s, e = _periods(start, True), _periods(end, False)
    if typ not in (0.0, 1.0) or s > e or rate <= 0.0 or nper <= 0.0 or pv <= 0.0 or s < 1:
        return NUM
    total = 0.0
    for per in range(s, e + 1):
        i = interest_payment(rate, float(per), nper, pv, 0.0, typ == 1.0)
        if type(i) is ExcelError:
            return i
        if principal:
            p = principal_payment(rate, float(per), nper, pv, 0.0, typ == 1.0)
            if type(p) is ExcelError:
                return p
            total += p  # type: ignore[operator]
        else:
            total += i  # type: ignore[operator]
    return total


@register("CUMIPMT", 6, 6, lift=True)
@strict_numeric
def fn_cumipmt(rate: float, nper: float, pv: float, start: float, end: float,
               typ: float) -> Any:
    return _cumulative(rate, nper, pv, start, end, typ, False)


@register("CUMPRINC", 6, 6, lift=True)
@strict_numeric
def fn_cumprinc(rate: float, nper: float, pv: float, start: float, end: float,
                typ: float) -> Any:
    return _cumulative(rate, nper, pv, start, end, typ, True)


@register("ISPMT", 4, 4, lift=True)
@numeric
def fn_ispmt(rate: float, per: float, nper: float, pv: float) -> Any:
    if nper == 0.0:
        return DIV0
    return pv * rate * (per / nper - 1.0)


@register("RRI", 3, 3, lift=True)
@numeric
def fn_rri(nper: float, pv: float, fv: float) -> Any:
    if nper <= 0.0:
        return NUM
    if fv == pv:
        return 0.0
    if pv == 0.0:
        return NUM
    r = (fv / pv) ** (1.0 / nper)
    return NUM if isinstance(r, complex) else r - 1.0


@register("PDURATION", 3, 3, lift=True)
@numeric
def fn_pduration(rate: float, pv: float, fv: float) -> Any:
    if fv <= 0.0 or pv <= 0.0 or rate <= 0.0:
        return NUM
    return (math.log(fv) - math.log(pv)) / math.log1p(rate)


@register("EFFECT", 2, 2, lift=True)
@strict_numeric
def fn_effect(nominal: float, npery: float) -> Any:
    n = math.floor(npery)
    if nominal <= 0.0 or n < 1:
        return NUM
    return (1.0 + nominal / n) ** n - 1.0


@register("NOMINAL", 2, 2, lift=True)
@strict_numeric
def fn_nominal(effect: float, npery: float) -> Any:
    n = math.floor(npery)
    if effect <= 0.0 or n < 1:
        return NUM
    return ((1.0 + effect) ** (1.0 / n) - 1.0) * n


# --------------------------------------------------------------------------- cash flows

def _flows(ctx: Context, a: Any, *, blanks: float | None = None, strict: ExcelError | None = None,
           scalar: bool = True) -> list[float] | ExcelError:
    """The numbers of a range/array argument. Text, booleans and blanks in a range are left
    out, unless ``strict`` (that error for a non-number) or ``blanks`` (their value) say
    otherwise; an error in the range is the result."""
    vals = _values(ctx, a)
    if vals is None:
        if not scalar:
            return VALUE
        x = to_number(a)
        return x if type(x) is ExcelError else [x]  # type: ignore[list-item,return-value]
    out = []
    for v in vals:
        t = type(v)
        if t is float:
            out.append(v)
        elif t is ExcelError:
            return v
        elif v is None:
            if blanks is not None:
                out.append(blanks)
            elif strict is not None:
                return NUM
        elif strict is not None:
            return strict
    return out


def npv(rate: float, values: list[float]) -> float:
    total = 0.0
    for i, v in enumerate(values):
        total += v / (1.0 + rate) ** (i + 1)
    return total


@register("NPV", 2, 255, "SR", ctx=True)
def fn_npv(ctx: Context, rate: Any, *flows: Any) -> Any:
    r = to_number(rate)
    if type(r) is ExcelError:
        return r
    values: list[float] = []
    for a in flows:
        if a is None:
            continue
        got = _flows(ctx, a)
        if type(got) is ExcelError:
            return got
        values.extend(got)  # type: ignore[arg-type]
    if r == -1.0:
        return DIV0
    try:
        return npv(r, values)  # type: ignore[arg-type]
    except (ZeroDivisionError, OverflowError):
        return NUM


def _npv_newton(values: list[float], guess: float) -> float | None:
    x = guess
    for _ in range(50):
        try:
            f = npv(x, values)
            df = sum(-v * (i + 1) / (1.0 + x) ** (i + 2) for i, v in enumerate(values))
            new = x - f / df
        except (ZeroDivisionError, OverflowError):
            return None
        if isinstance(new, complex) or new != new or math.isinf(new):
            return None
        if abs(new - x) < 1e-8:
            return None if new <= -1.0 else new
        x = new
    return None


#: IRR's secant iteration (see :func:`_irr_secant`): the second starting point lies this far
#: below the first in the discount factor, the iteration stops once a step is smaller than
#: IRR's documented accuracy (0.00001 percent), and gives up after this many steps.
_IRR_SECOND_POINT = 0.001
_IRR_ACCURACY = 1e-7
_IRR_STEPS = 50


def _npv_by_factor(values: list[float], v: float) -> float:
    """NPV with the first flow at time 0, as a polynomial in the discount factor
    ``v = 1/(1+r)`` (Horner's scheme)."""
    total = 0.0
    for x in reversed(values):
        total = total * v + x
    return total


def _irr_secant(values: list[float], guess: float) -> float | None:
    """Excel's own IRR iteration, as measured on the Excel-saved corpus: the secant method on
    the NPV as a polynomial in the discount factor ``v = 1/(1+r)``, from ``v0 = 1/(1+guess)``
    and ``v0 - 0.001``, stopped when ``|v_new - v| < 1e-7`` and answered as ``1/v_new - 1``.

    Found by trying Newton's and the secant method in r, 1+r and v, with several
    stopping rules, against every IRR cell of tests/corpus/excel (ironcalc/calc_tests/
    FINANCIAL/IRR.xlsx; tests/corpus/solver_fit.py): this one reproduces 70 of Excel's 75 IRR
    values to 1e-12 (Newton's method in r as in LibreOffice's ScIRR and IronCalc: 43; with the
    bisection fallback and polish xlbridge had: 54) — every
    Excel IRR is exactly ``(1+x)-1`` of a double, the mark of a result computed back from the
    discount factor. ``None`` when it does not converge, so that the caller falls back."""
    v0 = 1.0 / (1.0 + guess)
    v1 = v0 - _IRR_SECOND_POINT
    try:
        f0 = _npv_by_factor(values, v0)
        for _ in range(_IRR_STEPS):
            f1 = _npv_by_factor(values, v1)
            if f1 == 0.0:
                return 1.0 / v1 - 1.0
            if f1 == f0 or not math.isfinite(f1):
                return None
            v2 = v1 - f1 * (v1 - v0) / (f1 - f0)
            if not 0.0 < v2 < math.inf:
                return None
            if abs(v2 - v1) < _IRR_ACCURACY:
                return 1.0 / v2 - 1.0
            v0, f0, v1 = v1, f1, v2
    except (ZeroDivisionError, OverflowError):
        return None
    return None


def irr(values: list[float], guess: float) -> float | ExcelError:
    """Excel's secant iteration (:func:`_irr_secant`); where that does not converge,
    Newton's method from the guess, then bisection on (-0.99999, 100), then Newton's method
    again from beyond either end."""
    if guess <= -1.0:
        return VALUE
    if all(v >= 0 for v in values) or all(v <= 0 for v in values):
        return _num_err(tr("IRR 需要至少一笔正现金流和一笔负现金流"))
    got = _irr_secant(values, guess)
    if got is not None:
        return got
    got = _npv_newton(values, guess)
    if got is not None:
        return got
    lo, hi = -0.99999, 100.0
    try:
        f1, f2 = npv(lo, values), npv(hi, values)
    except OverflowError:
        return NUM
    if f1 * f2 > 0.0:
        for g in (200.0, -2.0):
            got = _npv_newton(values, g)
            if got is not None:
                return got
        return _num_err(tr("IRR 的迭代没有收敛"))
    rtb, dx = (lo, hi - lo) if f1 < 0.0 else (hi, lo - hi)
    for _ in range(49):
        dx *= 0.5
        mid = rtb + dx
        f = npv(mid, values)
        if f <= 0.0:
            rtb = mid
        if abs(f) < 1e-10 or abs(dx) < 1e-10:
            polished = _npv_newton(values, mid)  # the root to full precision
            return mid if polished is None else polished
    return _num_err(tr("IRR 的迭代没有收敛"))


@register("IRR", 1, 2, "RS", ctx=True)
def fn_irr(ctx: Context, flows: Any, guess: Any = None) -> Any:
    values = _flows(ctx, flows)
    if type(values) is ExcelError:
        return values
    g = 0.1 if guess is None else to_number(guess)
    if type(g) is ExcelError:
        return g
    return irr(values, g)  # type: ignore[arg-type]


@register("MIRR", 3, 3, "RSS", ctx=True)
def fn_mirr(ctx: Context, flows: Any, finance: Any, reinvest: Any) -> Any:
    values = _flows(ctx, flows)
    if type(values) is ExcelError:
        return values
    fr, rr = to_number(finance), to_number(reinvest)
    for x in (fr, rr):
        if type(x) is ExcelError:
            return x
    pos = [v if v >= 0 else 0.0 for v in values]  # type: ignore[union-attr]
    neg = [v if v < 0 else 0.0 for v in values]  # type: ignore[union-attr]
    last_neg = max((i for i, v in enumerate(values) if v < 0), default=-1)  # type: ignore[arg-type]
    if last_neg == -1:
        return DIV0
    n = float(len(values))  # type: ignore[arg-type]
    try:
        top = pos[-1] if rr == -1.0 else -npv(rr, pos) * (1.0 + rr) ** n  # type: ignore[operator]
        if fr == -1.0:
            bottom = neg[last_neg] if last_neg == 0 else math.inf
        else:
            bottom = npv(fr, neg) * (1.0 + fr)  # type: ignore[operator]
        r = (top / bottom) ** (1.0 / (n - 1.0)) - 1.0
    except ZeroDivisionError:
        return DIV0
    except OverflowError:
        return NUM
    if isinstance(r, complex) or r != r:
        return NUM
    if math.isinf(r):
        return DIV0
    return r


def _dated_flows(ctx: Context, flows: Any, dates: Any, xirr: bool
                 ) -> tuple[list[float], list[float]] | ExcelError:
    if xirr:
        values = _flows(ctx, flows, blanks=0.0, strict=VALUE, scalar=False)
        days = _flows(ctx, dates, blanks=0.0, strict=VALUE, scalar=False)
    else:
        values = _flows(ctx, flows, strict=NUM)
        days = _flows(ctx, dates, strict=VALUE)
    if type(values) is ExcelError:
        return values
    if type(days) is ExcelError:
        return days
    days = [math.floor(d) for d in days]  # type: ignore[union-attr]
    if len(values) != len(days) or not values:  # type: ignore[arg-type]
        return NUM
    for d in days:
        if not 0 <= d <= 2958465 or d < days[0]:
            return NUM
    return values, days  # type: ignore[return-value]


def xnpv(rate: float, values: list[float], days: list[float]) -> float:
    return values[0] + sum(v / (1.0 + rate) ** ((d - days[0]) / 365.0)
                           for v, d in zip(values[1:], days[1:], strict=True))


@register("XNPV", 3, 3, "SRR", ctx=True)
def fn_xnpv(ctx: Context, rate: Any, flows: Any, dates: Any) -> Any:
    r = to_number(rate)
    if type(r) is ExcelError:
        return r
    got = _dated_flows(ctx, flows, dates, False)
    if type(got) is ExcelError:
        return got
    if r <= 0.0:  # type: ignore[operator]
        return NUM
    try:
        return xnpv(r, *got)  # type: ignore[arg-type,misc]
    except (ZeroDivisionError, OverflowError):
        return NUM


#: XIRR's iteration (see :func:`_xirr_bisection`), as measured on Excel's values: a guess of 0
#: starts the search at this rate instead; the rate doubles at most this many times looking for
#: a sign change above 0; the bisection stops at a midpoint where the bracket is narrower than
#: ``_XIRR_STEP * (1 + |rate|)`` and ``|XNPV|`` is below ``_XIRR_VALUE`` times the sum of the
#: flows' magnitudes, and gives up (#NUM!, Excel's "100 tries") after ``_XIRR_STEPS`` halvings.
_XIRR_ZERO_GUESS = 1e-5
_XIRR_DOUBLINGS = 60
_XIRR_STEP = 6.5e-9
_XIRR_VALUE = 2.3e-8
_XIRR_STEPS = 100


def _xnpv_ieee(rate: float, values: list[float], days: list[float]) -> float:
    """XNPV as IEEE arithmetic gives it where Python's raises: a discount factor that
    underflows to 0 makes its flow ±inf, one that overflows makes it 0 (NaN where +inf meets
    −inf, which XIRR's bisection treats as "not positive", as a C comparison does)."""
    total = 0.0
    for v, d in zip(values, days, strict=True):
        try:
            factor = (1.0 + rate) ** ((d - days[0]) / 365.0)
        except OverflowError:
            continue
        if isinstance(factor, complex):
            return math.nan
        total += v / factor if factor else math.copysign(math.inf, v)
    return total


def _xirr_bisection(values: list[float], days: list[float], guess: float
                    ) -> float | None:
    """Excel's own XIRR iteration, as measured (tests/corpus/xirr_fit.py): bisection on a
    bracket grown from the guess, not Newton's method.

    With ``G = |guess|`` (1e-5 for a guess of 0) the bracket is ``(0, G·2^k)`` for the first
    k ≥ 0 at which XNPV's sign differs from XNPV(0)'s (or XNPV(0) is exactly 0), else
    ``(0, −G)`` if XNPV(−G)'s does, else ``(−1, −G)``. Each midpoint is ``near − (near − far)/2``,
    ``near`` being the end grown from the guess and kept while XNPV has its sign there; the
    iteration stops at the first midpoint where the bracket it leaves is narrower than
    6.5e-9·(1 + |rate|) *and* |XNPV| < 2.3e-8·Σ|values|, and returns that midpoint. Not
    measured, because no Excel value at hand needs it: the ``(0, −G)`` bracket for a root
    between −G and 0, the answer being the guess itself when it already meets the XNPV test
    (PhpSpreadsheet's tests have Excel answer −0.642307613 to that guess), the 60 doublings.

    The clue was that every XIRR value Excel stored is ``guess·j/2^k`` for a short j — rates
    on a bisection grid of the guess (Excel's XIRR.xlsx R20 is −63654505/2^28; the
    ExcelFinancialFunctions cases with guess 0.5 are multiples of 2^-28, with 0.15 of
    0.15·2^-25, with 0 of 1e-5·2^-11, and where the root is exactly 0 Excel answers 0.15·2^-25).
    The brackets put all 17 XIRR values of the Excel-saved corpus (XIRR.xlsx, XNPV.xlsx) on the
    path bit for bit (the midpoint formula matters: ``(lo+hi)/2`` misses one by an ulp) and
    every one of the 26 ExcelFinancialFunctions values (Excel 2010) to its printed digits. The
    stopping rule was fitted on the corpus (Excel 365), which pins it to 6.01e-9 < step ≤ 8.6e-9
    and 1.14e-8 < value ≤ 2.4e-8: Excel goes on bisecting near −1, where XNPV is steep, until
    XNPV itself is small. It reproduces all 17 corpus values bit for bit and 11 of the 22
    distinct ExcelFinancialFunctions cases: Excel 2010 stopped on the bracket's width alone
    (that gives 21 of them, for a step constant in (5.25e-9, 6.8e-9] — 6.5e-9 fits both
    versions), ten of them one halving before Excel 365's XNPV test allows; 2.3e-8, near the
    corpus's bound, keeps the most of them.
    ``None`` when the bisection does not stop within 100 halvings (Excel's #NUM!)."""
    g = guess if guess != 0.0 else _XIRR_ZERO_GUESS
    scale = _XIRR_VALUE * math.fsum(abs(v) for v in values)
    if abs(_xnpv_ieee(g, values, days)) < scale:
        return g
    size = abs(g)
    f0 = _xnpv_ieee(0.0, values, days)
    near, far = size, 0.0
    for _ in range(_XIRR_DOUBLINGS):
        f = _xnpv_ieee(near, values, days)
        if f != f:
            break
        if f0 == 0.0 or (f > 0.0) != (f0 > 0.0):
            return _bisect_xnpv(values, days, far, near, scale)
        near *= 2.0
    f = _xnpv_ieee(-size, values, days)
    far = 0.0 if f == f and (f > 0.0) != (f0 > 0.0) else -1.0
    return _bisect_xnpv(values, days, far, -size, scale)


def _bisect_xnpv(values: list[float], days: list[float], far: float, near: float,
                 scale: float) -> float | None:
    f_near = _xnpv_ieee(near, values, days)
    for _ in range(_XIRR_STEPS):
        mid = near - (near - far) / 2.0
        f = _xnpv_ieee(mid, values, days)
        if abs(near - far) / 2.0 < _XIRR_STEP * (1.0 + abs(mid)) and abs(f) < scale:
            return mid
        if (f > 0.0) == (f_near > 0.0):
            near, f_near = mid, f
        else:
            far = mid
    return None


@register("XIRR", 2, 3, "RRS", ctx=True)
def fn_xirr(ctx: Context, flows: Any, dates: Any, guess: Any = None) -> Any:
    got = _dated_flows(ctx, flows, dates, True)
    if type(got) is ExcelError:
        return got
    values, days = got  # type: ignore[misc]
    g = 0.1 if guess is None else to_number(guess)
    if type(g) is ExcelError:
        return g
    if g <= -1.0:  # type: ignore[operator]
        return VALUE
    if all(v >= 0 for v in values) or all(v <= 0 for v in values):
        return NUM
    r = _xirr_bisection(values, days, g)  # type: ignore[arg-type]
    if r is None or not math.isfinite(r):
        return _num_err(tr("XIRR 的迭代没有收敛"))
    return r


@register("FVSCHEDULE", 2, 2, "SR", ctx=True)
def fn_fvschedule(ctx: Context, principal: Any, schedule: Any) -> Any:
    p = to_number(principal)
    if type(p) is ExcelError:
        return p
    rates = _flows(ctx, schedule)
    if type(rates) is ExcelError:
        return rates
    for r in rates:  # type: ignore[union-attr]
        p *= 1.0 + r  # type: ignore[operator]
    return DIV0 if math.isinf(p) else p  # type: ignore[arg-type]


# --------------------------------------------------------------------------- depreciation

@register("SLN", 3, 3, lift=True)
@numeric
def fn_sln(cost: float, salvage: float, life: float) -> Any:
    if life == 0.0:
        return DIV0
    return (cost - salvage) / life


@register("SYD", 4, 4, lift=True)
@numeric
def fn_syd(cost: float, salvage: float, life: float, per: float) -> Any:
    if life == 0.0 or per > life or per <= 0.0:
        return NUM
    return (cost - salvage) * (life - per + 1.0) * 2.0 / (life * (life + 1.0))


@register("DB", 4, 5, lift=True)
@numeric
def fn_db(cost: float, salvage: float, life: float, period: float, month: float = 12.0) -> Any:
    month = math.trunc(month)
    if (month == 12.0 and period > life) or period > life + 1.0 or month <= 0.0 \
            or month > 12.0 or period <= 0.0 or cost < 0.0:
        return NUM
    if cost == 0.0:
        return 0.0
    rate = round((1.0 - (salvage / cost) ** (1.0 / life)) * 1000.0) / 1000.0
    n = math.trunc(period)
    acc = cost * rate * month / 12.0
    if n <= 1:
        return acc
    for _ in range(2, n):
        acc += (cost - acc) * rate
    if n == math.trunc(life) + 1:
        return (cost - acc) * rate * (12.0 - month) / 12.0
    return (cost - acc) * rate


@register("DDB", 4, 5, lift=True)
@numeric
def fn_ddb(cost: float, salvage: float, life: float, period: float, factor: float = 2.0) -> Any:
    if period > life or cost < 0.0 or salvage < 0.0 or period <= 0.0 or factor <= 0.0:
        return NUM
    period = max(period, 1.0)
    rate = factor / life
    if rate >= 1.0:
        rate = 1.0
        old = cost if period == 1.0 else 0.0
    else:
        old = cost * (1.0 - rate) ** (period - 1.0)
    new = cost * (1.0 - rate) ** period
    return max(old - salvage if new < salvage else old - new, 0.0)


def _vdb_total(cost: float, salvage: float, life: float, period: float, factor: float,
               switch: bool) -> float:
    frac = period - math.trunc(period)
    n, whole_life = math.trunc(period), math.trunc(life)

    def ddb(tot: float) -> float:
        return min((cost - tot) * (factor / life), cost - salvage - tot)

    def sln(tot: float, per: float) -> float:
        return (cost - tot - salvage) / (life - per)

    tot, per = 0.0, 0.0
    while True:
        d, s = ddb(tot), sln(tot, per)
        new = tot + (s if switch and d < s else d)
        if n == 0:
            return new * frac
        if math.trunc(per) == n - 1:
            d2, s2 = ddb(new), sln(new, per + 1.0)
            nxt = (0.0 if n == whole_life else s2) if switch and d2 < s2 else d2
            return new + nxt * frac
        tot, per = new, per + 1.0


@register("VDB", 5, 7, lift=True)
@numeric
def fn_vdb(cost: float, salvage: float, life: float, start: float, end: float,
           factor: float = 2.0, no_switch: float = 0.0) -> Any:
    if cost < 0.0 or salvage < 0.0 or life <= 0.0 or factor <= 0.0 or start < 0.0 \
            or start > life or end > life or start > end or end <= 0.0:
        return NUM
    switch = no_switch == 0.0
    if switch and life == start == end:
        return NUM
    return _vdb_total(cost, salvage, life, end, factor, switch) - _vdb_total(
        cost, salvage, life, start, factor, switch)


# --------------------------------------------------------------------------- dollars

def _dollar(dollar: float, fraction: float, to_decimal: bool) -> Any:
    """DOLLARDE/DOLLARFR: the fractional part read in (or written as) 1/fraction, the
    digits of a power of ten wide enough for the fraction (1.02 in sixteenths is 1.125)."""
    if fraction < 0.0:
        return NUM
    base = float(math.trunc(fraction))
    if base < 1:
        return DIV0
    whole = math.trunc(dollar)
    digits = 10.0 ** math.ceil(math.log10(base))
    scale = digits / base if to_decimal else base / digits
    return (dollar - whole) * scale + whole


@register("DOLLARDE", 2, 2, lift=True)
@strict_numeric
def fn_dollarde(dollar: float, fraction: float) -> Any:
    return _dollar(dollar, fraction, True)


@register("DOLLARFR", 2, 2, lift=True)
@strict_numeric
def fn_dollarfr(dollar: float, fraction: float) -> Any:
    return _dollar(dollar, fraction, False)


# --------------------------------------------------------------------------- T-bills

def _within_a_year(settlement: int, maturity: int) -> bool:
    from ..serials import ymd_of

    if maturity - settlement < 365:
        return True
    y1, m1, d1 = ymd_of(settlement)
    y2, m2, d2 = ymd_of(maturity)
    if y1 == y2:
        return True
    if y2 != y1 + 1:
        return False
    return (m2, d2) <= (m1, d1)


def _tbill(settlement: float, maturity: float, x: float) -> tuple[float, ExcelError | None]:
    s, m = int(settlement), int(maturity)
    if s < 0 or m > 2958465:
        return 0.0, NUM
    if s > m or not _within_a_year(s, m) or x <= 0.0:
        return 0.0, NUM
    return float(m - s), None


@register("TBILLPRICE", 3, 3, lift=True)
@strict_numeric
def fn_tbillprice(settlement: float, maturity: float, discount: float) -> Any:
    days, err = _tbill(settlement, maturity, discount)
    if err:
        return err
    r = 100.0 * (1.0 - discount * days / 360.0)
    return NUM if r < 0.0 else r


@register("TBILLYIELD", 3, 3, lift=True)
@strict_numeric
def fn_tbillyield(settlement: float, maturity: float, price: float) -> Any:
    days, err = _tbill(settlement, maturity, price)
    if err:
        return err
    if days == 0.0:
        return NUM
    return (100.0 - price) * 360.0 / (price * days)


@register("TBILLEQ", 3, 3, lift=True)
@strict_numeric
def fn_tbilleq(settlement: float, maturity: float, discount: float) -> Any:
    days, err = _tbill(settlement, maturity, discount)
    if err:
        return err
    if days < 183.0:
        denom = 360.0 - discount * days
        return DIV0 if denom == 0.0 else 365.0 * discount / denom
    year = 366.0 if days == 366.0 else 365.0
    extra = days - year / 2.0
    alpha = 1.0 - days * discount / 360.0
    beta = 0.5 + extra / year
    a, b, c = extra * alpha / (year * 2.0), alpha * beta, alpha - 1.0
    disc = b * b - 4.0 * a * c
    if disc < 0.0:
        return NUM
    return (-b + math.sqrt(disc)) / (2.0 * a)


# --------------------------------------------------------------------------- discounted

def _yf(start: float, end: float, basis: float) -> float | ExcelError:
    return yearfrac(math.floor(start), math.floor(end), basis)


def _settle(settlement: float, maturity: float) -> ExcelError | None:
    if math.floor(settlement) >= math.floor(maturity):
        return _num_err(tr("结算日必须早于到期日"))
    return None


def _discounted(name: str, formula: Callable[[float, float, float], Any]) -> None:
    """DISC, INTRATE, RECEIVED, PRICEDISC, YIELDDISC: ``name(settlement, maturity, a, b,
    [basis])`` with a and b positive, the settlement before maturity; ``formula(a, b, yf)``
    of the year fraction between them."""
    @register(name, 4, 5, lift=True)
    @strict_numeric
    def impl(settlement: float, maturity: float, a: float, b: float,
             basis: float = 0.0) -> Any:
        if a <= 0.0 or b <= 0.0:
            return NUM
        err = _settle(settlement, maturity)
        if err:
            return err
        yf = _yf(settlement, maturity, basis)
        if type(yf) is ExcelError:
            return yf
        return formula(a, b, yf)  # type: ignore[arg-type]

    impl.__name__ = "fn_" + name.lower()


def _received(investment: float, discount: float, yf: float) -> Any:
    denom = 1.0 - discount * yf
    return NUM if denom <= 0.0 else investment / denom


_discounted("DISC", lambda pr, redemption, yf: DIV0 if yf == 0.0 else (1.0 - pr / redemption) / yf)
_discounted("INTRATE", lambda investment, redemption, yf:
            DIV0 if yf == 0.0 else (redemption / investment - 1.0) / yf)
_discounted("RECEIVED", _received)
_discounted("PRICEDISC", lambda discount, redemption, yf: redemption * (1.0 - discount * yf))
_discounted("YIELDDISC", lambda pr, redemption, yf:
            DIV0 if yf == 0.0 else (redemption / pr - 1.0) / yf)


def _mat_factors(issue: float, settlement: float, maturity: float, basis: float
                 ) -> tuple[float, float, float] | ExcelError:
    i, s, m = math.floor(issue), math.floor(settlement), math.floor(maturity)
    a = _yf(i, s, basis)
    if type(a) is ExcelError:
        return a
    if math.trunc(basis) == 1:
        if s == i:
            return DIV0
        dim = (m - i) * a / (s - i)  # type: ignore[operator]
    else:
        dim = _yf(i, m, basis)  # type: ignore[assignment]
        if type(dim) is ExcelError:
            return dim
    return a, dim, dim - a  # type: ignore[return-value,operator]


@register("PRICEMAT", 5, 6, lift=True)
@strict_numeric
def fn_pricemat(settlement: float, maturity: float, issue: float, rate: float, yld: float,
                basis: float = 0.0) -> Any:
    if rate < 0.0 or yld < 0.0:
        return NUM
    err = _settle(settlement, maturity) or _settle(issue, settlement)
    if err:
        return err
    f = _mat_factors(issue, settlement, maturity, basis)
    if type(f) is ExcelError:
        return f
    a, dim, dsm = f  # type: ignore[misc]
    denom = 1.0 + yld * dsm
    return DIV0 if denom == 0.0 else 100.0 * ((1.0 + rate * dim) / denom - rate * a)


@register("YIELDMAT", 5, 6, lift=True)
@strict_numeric
def fn_yieldmat(settlement: float, maturity: float, issue: float, rate: float, pr: float,
                basis: float = 0.0) -> Any:
    if rate < 0.0 or pr <= 0.0:
        return NUM
    err = _settle(settlement, maturity) or _settle(issue, settlement)
    if err:
        return err
    f = _mat_factors(issue, settlement, maturity, basis)
    if type(f) is ExcelError:
        return f
    a, dim, dsm = f  # type: ignore[misc]
    denom = pr / 100.0 + rate * a
    if denom == 0.0 or dsm == 0.0:
        return DIV0
    return ((1.0 + rate * dim) / denom - 1.0) / dsm


@register("ACCRINTM", 3, 5, lift=True)
@numeric
def fn_accrintm(issue: float, settlement: float, rate: float, par: float = 1000.0,
                basis: float = 0.0) -> Any:
    if rate <= 0.0 or par <= 0.0 or math.floor(issue) >= math.floor(settlement):
        return NUM
    yf = _yf(issue, settlement, basis)
    if type(yf) is ExcelError:
        return yf
    return par * rate * yf  # type: ignore[operator]

