"""Financial, securities with periodic coupons: ACCRINT (accrued interest), the coupon
schedule (COUPDAYBS, COUPDAYS, COUPDAYSNC, COUPNCD, COUPNUM, COUPPCD), PRICE and YIELD, and
the odd first/last periods (ODDFPRICE, ODDFYIELD, ODDLPRICE, ODDLYIELD).

YIELD and ODDFYIELD follow Excel's own Newton iteration (``excel_newton``: its start, its
derivative and its stop rule, fitted by tests/corpus/yield_fit.py), so that they give Excel's
last digits, not the exact root.

The day counts of Excel's five bases and the walk over coupon dates follow IronCalc's
``accrint.rs`` and ``financial_bonds.rs`` (MIT/Apache-2.0; themselves after the
ExcelFinancialFunctions library), fitted to Excel-saved files; the corpus files ACCRINT*.xlsx,
accrint_cases.xlsx, COUPDAYS.xlsx and PRICE_YIELD.xlsx check the results cell by cell.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..values import NUM, to_bool
from .args import numeric, strict_numeric
from .dates import year_within
from .registry import registrar

register = registrar("Financial")

_EPOCH = dt.date(1899, 12, 30)


def to_date(n: float) -> dt.date | None:
    """A day serial as a date (Excel's fictitious 1900-02-29, serial 60, has none)."""
    n = math.floor(n)
    if n < 1 or n == 60 or n > 2958465:
        return None
    return _EPOCH + dt.timedelta(days=n if n > 60 else n + 1)


def _last_day(y: int, m: int) -> int:
    return calendar.monthrange(y, m)[1]


def _is_last_day(d: dt.date) -> bool:
    return d.day == _last_day(d.year, d.month)


def _is_last_feb(d: dt.date) -> bool:
    return d.month == 2 and _is_last_day(d)


def add_months(d: dt.date, n: int, last_day: bool = False) -> dt.date:
    total = d.year * 12 + d.month - 1 + n
    y, m = divmod(total, 12)
    m += 1
    if not 1 <= y <= 9999:
        raise ValueError("date")  # caught: #NUM!
    return dt.date(y, m, _last_day(y, m) if last_day else min(d.day, _last_day(y, m)))


def _diff360(sd: int, sm: int, sy: int, ed: int, em: int, ey: int) -> float:
    return float((ey - sy) * 360 + (em - sm) * 30 + (ed - sd))


def diff360_us(start: dt.date, end: dt.date, both: bool = False) -> float:
    sd, ed = start.day, end.day
    if _is_last_feb(end) and (_is_last_feb(start) or both):
        ed = 30
    if ed == 31 and (sd >= 30 or both):
        ed = 30
    if sd == 31:
        sd = 30
    if _is_last_feb(start):
        sd = 30
    return _diff360(sd, start.month, start.year, ed, end.month, end.year)


def _diff360_eu(start: dt.date, end: dt.date) -> float:
    return _diff360(min(start.day, 30), start.month, start.year, min(end.day, 30), end.month,
                    end.year)


def _diff365(start: dt.date, end: dt.date) -> float:
    s = start.replace(day=28) if start.month == 2 and start.day > 28 else start
    e = end.replace(day=28) if end.month == 2 and end.day > 28 else end
    return float((end.year - start.year) * 365 + (e - s).days)


def days_between(start: dt.date, end: dt.date, numerator: bool, basis: int) -> float:
    if basis == 0:
        return diff360_us(start, end)
    if basis == 4:
        return _diff360_eu(start, end)
    if basis == 2:
        return float((end - start).days) if numerator else diff360_us(start, end)
    if basis == 3:
        return float((end - start).days) if numerator else _diff365(start, end)
    return float((end - start).days)


def _pcd_ncd(start: dt.date, end: dt.date, months: int, last: bool) -> tuple[dt.date, dt.date]:
    front, trailing = start, end
    while not (front >= end if months > 0 else front <= end):
        trailing = front
        front = add_months(front, months, last)
    return front, trailing


def _coupon_days(settlement: dt.date, maturity: dt.date, freq: int, basis: int) -> float:
    if basis in (0, 2, 4):
        return 360.0 / freq
    if basis == 3:
        return 365.0 / freq
    pcd, ncd = _pcd_ncd(maturity, settlement, -(12 // freq), _is_last_day(maturity))
    return float((ncd - pcd).days)


def accrint(issue: dt.date, first: dt.date, settlement: dt.date, rate: float, par: float,
            freq: int, basis: int, from_issue: bool) -> float:
    months = 12 // freq
    eom = _is_last_day(first)
    reg_pcd = add_months(first, -months, eom)
    pcd = _pcd_ncd(first, settlement, months, eom)[1] if settlement > first and from_issue \
        else reg_pcd
    acc = days_between(max(issue, pcd), settlement, True, basis) / _coupon_days(
        reg_pcd, first, freq, basis)
    front = pcd
    while front > issue:
        end = front
        front = add_months(front, -months, eom)
        if issue <= front:
            acc += 1.0 if from_issue else 0.0
        else:
            num = diff360_us(issue, end) if basis == 0 else days_between(issue, end, True, basis)
            if basis == 0:
                den = diff360_us(front, end, True)
            elif basis == 3:
                den = 365.0 / freq
            else:
                den = days_between(front, end, False, basis)
            acc += num / den
    return par * rate / freq * acc


@register("ACCRINT", 6, 8, lift=True)
@numeric
def fn_accrint(issue: float, first: float, settlement: float, rate: float, par: float,
               frequency: float, basis: float = 0.0, calc_method: Any = True) -> Any:
    from_issue = to_bool(calc_method)
    if type(from_issue) is ExcelError:
        return from_issue
    f, b = math.floor(frequency), math.floor(basis)
    if rate <= 0.0 or par <= 0.0 or f not in (1, 2, 4) or not 0 <= b <= 4 \
            or math.floor(issue) >= math.floor(settlement):
        return NUM
    dates = [to_date(x) for x in (issue, first, settlement)]
    if None in dates:
        return NUM
    try:
        return accrint(*dates, rate, par, f, b, bool(from_issue))  # type: ignore[arg-type]
    except (ValueError, OverflowError, ZeroDivisionError):
        return NUM


# --------------------------------------------------------------------------- coupons

def _serial(d: dt.date) -> int:
    n = (d - _EPOCH).days
    return n if n > 60 else n - 1


def _schedule(settlement: dt.date, maturity: dt.date, freq: int) -> tuple[dt.date, dt.date]:
    """The coupon dates before (or on) and after settlement, walking back from maturity
    (a maturity at a month's end puts every coupon at a month's end)."""
    months = 12 // freq
    last = _is_last_day(maturity)
    front = trailing = maturity
    while front > settlement:
        trailing = front
        front = add_months(front, -months, last)
    return front, trailing


def _basis_days(a: dt.date, b: dt.date, basis: int) -> float:
    if basis == 0:
        return diff360_us(a, b)
    if basis == 4:
        return _diff360_eu(a, b)
    return float((b - a).days)


def _coupon_args(settlement: float, maturity: float, frequency: float, basis: float
                 ) -> tuple[dt.date, dt.date, int, int] | ExcelError:
    f, b = math.floor(frequency), math.floor(basis)
    if f not in (1, 2, 4) or not 0 <= b <= 4 or math.floor(settlement) >= math.floor(maturity):
        return NUM
    s, m = to_date(settlement), to_date(maturity)
    if s is None or m is None:
        return NUM
    return s, m, f, b


def _period_days(s: dt.date, m: dt.date, f: int, b: int) -> float:
    if b in (0, 2, 4):
        return 360.0 / f
    if b == 3:
        return 365.0 / f
    pcd, ncd = _schedule(s, m, f)
    return float((ncd - pcd).days)


def _count(s: dt.date, m: dt.date, f: int) -> int:
    ncd = _schedule(s, m, f)[1]
    diff = (m.year * 12 + m.month) - (ncd.year * 12 + ncd.month)
    return diff // (12 // f) + 1


def _coupon(kind: str) -> Any:
    def impl(settlement: float, maturity: float, frequency: float, basis: float = 0.0) -> Any:
        got = _coupon_args(settlement, maturity, frequency, basis)
        if type(got) is ExcelError:
            return got
        s, m, f, b = got  # type: ignore[misc]
        try:
            pcd, ncd = _schedule(s, m, f)
            if kind == "COUPPCD":
                return float(_serial(pcd))
            if kind == "COUPNCD":
                return float(_serial(ncd))
            if kind == "COUPNUM":
                return float(_count(s, m, f))
            if kind == "COUPDAYBS":
                return _basis_days(pcd, s, b)
            if kind == "COUPDAYS":
                return _period_days(s, m, f, b)
            if b == 0:  # COUPDAYSNC on 30/360 US: the period's days less those before
                return diff360_us(pcd, ncd, True) - diff360_us(pcd, s)
            return _basis_days(s, ncd, b)
        except ValueError:
            return NUM

    impl.__name__ = "fn_" + kind.lower()
    return impl


for _name in ("COUPDAYBS", "COUPDAYS", "COUPDAYSNC", "COUPNCD", "COUPNUM", "COUPPCD"):
    register(_name, 3, 4, lift=True)(strict_numeric(_coupon(_name)))


def _flows(s: dt.date, m: dt.date, rate: float, redemption: float, f: int, b: int
           ) -> tuple[list[tuple[float, float]], float]:
    """A bond of more than one coupon period as its cash flows (amount, time in periods from
    settlement), redemption first, and its accrued interest."""
    n = _count(s, m, f)
    e = _period_days(s, m, f, b)
    a = _basis_days(_schedule(s, m, f)[0], s, b)
    dsc = (e - a) / e
    coupon = 100.0 * rate / f
    flows = [(redemption, dsc + n - 1.0)]
    flows += [(coupon, dsc + k - 1.0) for k in range(1, n + 1)]
    return flows, coupon * a / e


def _present(flows: list[tuple[float, float]], v: float) -> float:
    total = flows[0][0] / v ** flows[0][1]
    for amount, t in flows[1:]:
        total += amount / v ** t
    return total


def _slope(flows: list[tuple[float, float]], yld: float, f: int) -> float:
    """d/dyield of the flows' present value at 1 + yield/f per period."""
    v = 1.0 + yld / f
    return -sum(amount * t / v ** (t + 1.0) for amount, t in flows) / f


def price(s: dt.date, m: dt.date, rate: float, yld: float, redemption: float, f: int,
          b: int) -> float:
    if _count(s, m, f) == 1:  # the last coupon period: simple interest
        e = _period_days(s, m, f, b)
        a = _basis_days(_schedule(s, m, f)[0], s, b)
        coupon = 100.0 * rate / f
        return (redemption + coupon) / (1.0 + (e - a) / e * yld / f) - coupon * a / e
    flows, accrued = _flows(s, m, rate, redemption, f, b)
    return _present(flows, 1.0 + yld / f) - accrued


@register("PRICE", 6, 7, lift=True)
@strict_numeric
def fn_price(settlement: float, maturity: float, rate: float, yld: float, redemption: float,
             frequency: float, basis: float = 0.0) -> Any:
    got = _coupon_args(settlement, maturity, frequency, basis)
    if type(got) is ExcelError:
        return got
    if rate < 0.0 or yld < 0.0 or redemption <= 0.0:
        return NUM
    s, m, f, b = got  # type: ignore[misc]
    try:
        return price(s, m, rate, yld, redemption, f, b)
    except (ValueError, ZeroDivisionError, OverflowError):
        return NUM


def _term_years(s: dt.date, m: dt.date, basis: int) -> float:
    """Settlement to maturity in years as Excel's yield solvers count them for their start:
    30/360 days over 360 on the 30/360 bases; otherwise the whole years from settlement and
    the days left over the basis' year (360, 365, or 365/366 as YEARFRAC's actual/actual
    within one year)."""
    if basis == 0:
        return diff360_us(s, m) / 360.0
    if basis == 4:
        return _diff360_eu(s, m) / 360.0
    years = m.year - s.year
    while years > 0 and add_months(s, 12 * years) > m:
        years -= 1
    start = add_months(s, 12 * years)
    rest = float((m - start).days)
    if basis == 2:
        return years + rest / 360.0
    if basis == 3:
        return years + rest / 365.0
    return years + rest / year_within(start.year, start.month, start.day, m.year, m.month,
                                      m.day)


def yield_guess(rate: float, pr: float, years: float) -> float:
    """Excel's start for YIELD and ODDFYIELD: the approximate yield of a bond at price
    ``pr`` for 100 paying ``rate`` over ``years`` (the form ExcelFinancialFunctions uses);
    the coupon rate where that has no value (a tiny price on a short term)."""
    px = pr - 100.0
    den = px / 4.0 + years * px / 2.0 + years * 100.0
    return (rate * years * 100.0 - px) / den if den != 0.0 else rate


def excel_newton(target: float, start: float, price_of: Any, slope_of: Any) -> float | None:
    """Excel's yield iteration: Newton's method from ``start``, at most 100 steps, stopped
    when the next step would be below 1e-10 — and that step is not taken: the answer is the
    iterate it starts from, within ≈1e-10 of the root (so Excel's 0.05 comes back as
    0.0499999999999…). ``slope_of`` is the derivative Newton's step divides by. None when the
    iteration fails (a non-finite value, or no convergence).

    Measured (tests/corpus/yield_fit.py): from ``yield_guess`` over ``_term_years`` with the
    exact slope of PRICE this gives Excel's YIELD to 1e-12 for all 15 corpus cells and 3,090
    of the 3,098 of ExcelFinancialFunctions' yieldnegative.csv (whose values showed how the
    start's years are counted); for ODDFYIELD, with the slope of the price whose odd first
    coupon is one regular coupon, all 18 corpus cells whose settlement lies in the first
    coupon's own (quasi-)period and the 3 short-first-period cases of its oddfyield.test."""
    y = start
    for _ in range(100):
        try:
            step = (price_of(y) - target) / slope_of(y)
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
        if not (isinstance(step, float) and math.isfinite(step)):
            return None
        if abs(step) < 1e-10:
            return y
        y -= step
    return None


def solve_yield(target: float, rate: float, price_of: Any) -> float | ExcelError:
    """The yield at which ``price_of(yield)`` is ``target``, to the last bits: Newton's method
    from the coupon rate with a numeric derivative, bisection on (-0.9999, 100) if that fails.
    Where Excel's own iteration is known (``excel_newton``) it comes first; this is the
    fallback, and the answer where Excel's path was not found."""
    def obj(y: float) -> float | None:
        try:
            r = price_of(y) - target
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
        return r if isinstance(r, float) and math.isfinite(r) else None

    y, h = rate, 1e-5
    for _ in range(100):
        fv, up, down = obj(y), obj(y + h), obj(y - h)
        if fv is None or up is None or down is None:
            break
        fp = (up - down) / (2.0 * h)
        if not math.isfinite(fp) or abs(fp) < 1e-15:
            break
        yn = y - fv / fp
        if yn <= -1.0:
            break
        if abs(yn - y) < 1e-8:
            return yn
        y = yn
    lo, hi = -0.9999, 100.0
    f1, f2 = obj(lo), obj(hi)
    if f1 is None or f2 is None or f1 * f2 > 0.0:
        return ExcelError("#NUM!", tr("收益率的迭代没有收敛"))
    if f1 > 0.0:
        lo, hi = hi, lo
    for _ in range(200):
        mid = (lo + hi) / 2.0
        fm = obj(mid)
        if fm is None:
            return NUM
        if abs(fm) < 1e-8 or abs(hi - lo) < 1e-12:
            return mid
        fl = obj(lo)
        if fl is None:
            return NUM
        if fl * fm < 0.0:
            hi = mid
        else:
            lo = mid
    return ExcelError("#NUM!", tr("收益率的迭代没有收敛"))


@register("YIELD", 6, 7, lift=True)
@strict_numeric
def fn_yield(settlement: float, maturity: float, rate: float, pr: float, redemption: float,
             frequency: float, basis: float = 0.0) -> Any:
    got = _coupon_args(settlement, maturity, frequency, basis)
    if type(got) is ExcelError:
        return got
    if rate < 0.0 or pr <= 0.0 or redemption <= 0.0:
        return NUM
    s, m, f, b = got  # type: ignore[misc]

    def price_of(y: float) -> float:
        return price(s, m, rate, y, redemption, f, b)

    try:
        if _count(s, m, f) > 1:
            # the schedule once, not in every step: price() of these flows, and their slope
            flows, accrued = _flows(s, m, rate, redemption, f, b)

            def price_of(y: float) -> float:
                return _present(flows, 1.0 + y / f) - accrued

            got = excel_newton(pr, yield_guess(rate, pr, _term_years(s, m, b)), price_of,
                               lambda y: _slope(flows, y, f))
            if got is not None:
                return got
    except ValueError:  # a coupon date past year 9999
        return NUM
    return solve_yield(pr, rate, price_of)


# --------------------------------------------------------------------------- odd periods

def _nonneg(a: dt.date, b: dt.date, basis: int, both: bool = False) -> float:
    d = diff360_us(a, b, True) if both and basis == 0 else _basis_days(a, b, basis)
    return max(d, 0.0)


def _coup_number(mat: dt.date, settl: dt.date, months: int) -> float:
    eom = _is_last_day(mat)
    if not eom and mat.month != 2 and 28 < mat.day < _last_day(mat.year, mat.month):
        eom = _is_last_day(settl)
    start = add_months(settl, 0, eom)
    coupons = 1.0 if settl < start else 0.0
    front = add_months(start, months, eom)
    while front < mat:
        coupons += 1.0
        front = add_months(front, months, eom)
    return coupons


def _odd_first_flows(s: dt.date, m: dt.date, issue: dt.date, first: dt.date, rate: float,
                     redemption: float, f: int, b: int
                     ) -> tuple[list[tuple[float, float]], float, float]:
    """A bond with an odd first period as its cash flows (amount, time in periods from
    settlement) — the redemption, then the odd first coupon, then the regular ones —, its
    accrued interest, and the number of quasi-coupon dates between settlement and the first
    coupon (0 for a short first period)."""
    months = 12 // f
    e = _period_days(s, first, f, b)
    dfc = _nonneg(issue, first, b)
    if dfc < e:  # a short first period
        n = _count(s, m, f)
        y = _nonneg(s, first, b) / e
        a = _nonneg(issue, s, b)
        flows = [(redemption, n - 1.0 + y), (100.0 * rate / f * dfc / e, y)]
        flows += [(100.0 * rate / f, k - 1.0 + y) for k in range(2, n + 1)]
        return flows, a / e * (rate / f) * 100.0, 0.0
    nc = _count(issue, first, f)
    late = first
    dcnl = anl = 0.0
    for k in range(nc, 0, -1):
        early = add_months(late, -months)
        nl = _nonneg(early, late, b) if b == 1 else e
        dci = nl if k > 1 else _nonneg(issue, late, b)
        anl += _nonneg(max(issue, early), min(s, late), b) / nl
        dcnl += dci / nl
        late = early
    pcd, ncd = _schedule(s, first, f)
    dsc = _nonneg(s, ncd, b) if b in (2, 3) else e - _basis_days(pcd, s, b)
    nq = _coup_number(first, s, months)
    n = _count(first, m, f)
    y = dsc / e
    flows = [(redemption, y + nq + n), (100.0 * rate / f * dcnl, nq + y)]
    flows += [(100.0 * rate / f, k + nq + y) for k in range(1, n + 1)]
    return flows, 100.0 * rate / f * anl, nq


def odd_first_price(s: dt.date, m: dt.date, issue: dt.date, first: dt.date, rate: float,
                    yld: float, redemption: float, f: int, b: int) -> float:
    flows, accrued, _quasi = _odd_first_flows(s, m, issue, first, rate, redemption, f, b)
    return _present(flows, yld / f + 1.0) - accrued


def odd_last(s: dt.date, m: dt.date, last: dt.date, rate: float, pr_or_yld: float,
             redemption: float, f: int, b: int, is_price: bool) -> float:
    months = 12 // f
    nc = _count(last, m, f)
    early = last
    dcnl = anl = dscnl = 0.0
    for k in range(1, nc + 1):
        late = add_months(early, months)
        nl = _nonneg(early, late, b, True)
        dci = nl if k < nc else _nonneg(early, m, b, True)
        if late < s:
            a = dci
        elif early < s:
            a = _nonneg(early, s, b)
        else:
            a = 0.0
        dsc = _nonneg(max(s, early), min(m, late), b)
        early = late
        dcnl += dci / nl
        anl += a / nl
        dscnl += dsc / nl
    x = 100.0 * rate / f
    t1 = dcnl * x + redemption
    if is_price:
        return t1 / (dscnl * pr_or_yld / f + 1.0) - anl * x
    t2 = anl * x + pr_or_yld
    return (t1 - t2) / t2 * (f / dscnl)


def _odd_args(dates: tuple[float, ...], frequency: float, basis: float
              ) -> tuple[list[dt.date], int, int] | ExcelError:
    f, b = math.floor(frequency), math.floor(basis)
    if f not in (1, 2, 4) or not 0 <= b <= 4:
        return NUM
    ds = [to_date(d) for d in dates]
    if None in ds:
        return NUM
    return ds, f, b  # type: ignore[return-value]


@register("ODDFPRICE", 8, 9, lift=True)
@strict_numeric
def fn_oddfprice(settlement: float, maturity: float, issue: float, first: float, rate: float,
                 yld: float, redemption: float, frequency: float, basis: float = 0.0) -> Any:
    got = _odd_args((settlement, maturity, issue, first), frequency, basis)
    if type(got) is ExcelError:
        return got
    (s, m, i, fc), f, b = got  # type: ignore[misc]
    if i >= fc or fc > m or s >= m or rate < 0.0 or yld < 0.0 or redemption <= 0.0:
        return NUM
    try:
        return odd_first_price(s, m, i, fc, rate, yld, redemption, f, b)
    except (ValueError, ZeroDivisionError, OverflowError):
        return NUM


@register("ODDFYIELD", 8, 9, lift=True)
@strict_numeric
def fn_oddfyield(settlement: float, maturity: float, issue: float, first: float, rate: float,
                 pr: float, redemption: float, frequency: float, basis: float = 0.0) -> Any:
    got = _odd_args((settlement, maturity, issue, first), frequency, basis)
    if type(got) is ExcelError:
        return got
    (s, m, i, fc), f, b = got  # type: ignore[misc]
    if i >= fc or fc > m or s >= m or rate < 0.0 or pr <= 0.0 or redemption <= 0.0:
        return NUM

    try:
        flows, accrued, quasi = _odd_first_flows(s, m, i, fc, rate, redemption, f, b)
    except ValueError:  # a coupon date past year 9999
        return NUM

    def price_of(y: float) -> float:  # odd_first_price of the flows read once
        return _present(flows, y / f + 1.0) - accrued

    if quasi > 0.0:
        # quasi-coupon dates between settlement and a long first coupon: Excel's iteration
        # there was not found (docs/fidelity.md); the exact root
        return solve_yield(pr, rate, price_of)
    # Excel's Newton steps divide by the slope of the price with the odd first coupon counted
    # as one regular coupon, 100·rate/f, whatever its length (docs/fidelity.md)
    regular = [flows[0], (100.0 * rate / f, flows[1][1]), *flows[2:]]
    got = excel_newton(pr, yield_guess(rate, pr, _term_years(s, m, b)), price_of,
                       lambda y: _slope(regular, y, f))
    return got if got is not None else solve_yield(pr, rate, price_of)


@register("ODDLPRICE", 7, 8, lift=True)
@strict_numeric
def fn_oddlprice(settlement: float, maturity: float, last: float, rate: float, yld: float,
                 redemption: float, frequency: float, basis: float = 0.0) -> Any:
    got = _odd_args((settlement, maturity, last), frequency, basis)
    if type(got) is ExcelError:
        return got
    (s, m, li), f, b = got  # type: ignore[misc]
    if li >= m or s >= m or rate < 0.0 or yld < 0.0 or redemption <= 0.0:
        return NUM
    try:
        return odd_last(s, m, li, rate, yld, redemption, f, b, True)
    except (ValueError, ZeroDivisionError, OverflowError):
        return NUM


@register("ODDLYIELD", 7, 8, lift=True)
@strict_numeric
def fn_oddlyield(settlement: float, maturity: float, last: float, rate: float, pr: float,
                 redemption: float, frequency: float, basis: float = 0.0) -> Any:
    got = _odd_args((settlement, maturity, last), frequency, basis)
    if type(got) is ExcelError:
        return got
    (s, m, li), f, b = got  # type: ignore[misc]
    if li >= m or s >= m or rate < 0.0 or pr <= 0.0 or redemption <= 0.0:
        return NUM
    try:
        return odd_last(s, m, li, rate, pr, redemption, f, b, False)
    except (ValueError, ZeroDivisionError, OverflowError):
        return NUM
