"""Financial, securities with periodic coupons: ACCRINT (accrued interest).

The day counts of Excel's five bases and the walk over coupon dates follow IronCalc's
``accrint.rs`` (MIT/Apache-2.0), which was fitted to Excel-saved files; the corpus files
ACCRINT*.xlsx and accrint_cases.xlsx check the result cell by cell.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Any

from xlbridge.xlvalues import ExcelError

from ..values import NUM, to_bool
from .args import numeric
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
        raise ValueError("date out of range")
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
