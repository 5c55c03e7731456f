"""Date & Time: DATE, YEAR/MONTH/DAY, EDATE, EOMONTH, DATEDIF, NETWORKDAYS, WORKDAY, WEEKDAY,
TODAY/NOW, TIME, HOUR/MINUTE/SECOND, DATEVALUE, TIMEVALUE, DAYS, DAYS360, YEARFRAC…

Dates are Excel serial numbers: days since 1899-12-30, with Excel's (Lotus') phantom
1900-02-29 as serial 60 — so serials 1–59 are one more than the real day count — and a time
of day as the fraction. TODAY() and NOW() read the workbook's clock (``Context.now``), one
instant for the whole recompute; tests fix it with ``recalc_workbook(clock=…)``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref
from ..serials import parse_datetime, serial_of, ymd_of
from ..values import NUM, VALUE, parse_number, to_bool, to_number, to_text
from .args import _values
from .registry import registrar

register = registrar("Date & Time")

_MAX_SERIAL = 2958465  # 9999-12-31


def _month_start(y: int, m: int) -> int | ExcelError:
    """Serial of the first day of month m of year y, months overflowing into years."""
    y += (m - 1) // 12
    m = (m - 1) % 12 + 1
    if not 1900 <= y <= 9999:
        return NUM
    return serial_of(y, m, 1)


def date_serial(y: float, m: float, d: float) -> int | ExcelError:
    """DATE(y, m, d) as Excel computes it: years 0–1899 are 1900+y, months and days
    overflow into the next (or previous) month and year."""
    yi, mi, di = int(y), int(m), int(d)
    if not 0 <= yi <= 9999:
        return NUM
    if yi < 1900:
        yi += 1900
    start = _month_start(yi, mi)
    if type(start) is ExcelError:
        return start
    n = start + di - 1  # type: ignore[operator]
    if not 0 <= n <= _MAX_SERIAL:
        return NUM
    return n


def to_serial(ctx: Context, x: Any) -> float | ExcelError:
    """A date argument: a number, or text that is a number or a date."""
    if type(x) is float:
        return x
    if type(x) is Ref:
        x = ctx.intersect(x, ctx.caller)
    if type(x) is str:
        n = parse_number(x)
        if n is not None:
            return n
        got = parse_datetime(x, ctx.now.date())
        if got is None:
            return ExcelError("#VALUE!", tr("“{text}”不是日期", text=x))
        return got
    return to_number(x)


def _day(ctx: Context, x: Any, to_second: bool = False) -> int | ExcelError:
    """The day of a date argument; ``to_second``: its time read to the nearest second
    first, as DAYS360 does (DAYS360 of 46000.999999 counts it as the next day, DAYS not)."""
    s = to_serial(ctx, x)
    if type(s) is ExcelError:
        return s
    if not 0 <= s <= _MAX_SERIAL + 0.99999:  # type: ignore[operator]
        return NUM
    if to_second:
        return int(round(s * 86400.0) // 86400)  # type: ignore[operator]
    return int(s)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- dates

@register("DATE", 3, 3, ctx=True, lift=True)
def fn_date(ctx: Context, y: Any, m: Any, d: Any) -> Any:
    vals = []
    for a in (y, m, d):
        x = to_number(a)
        if type(x) is ExcelError:
            return x
        vals.append(x)
    r = date_serial(*vals)
    return float(r) if type(r) is int else r


def _part(i: int) -> Any:
    def impl(ctx: Context, x: Any) -> Any:
        n = _day(ctx, x)
        if type(n) is ExcelError:
            return n
        return float(ymd_of(n)[i])  # type: ignore[arg-type]

    return impl


register("YEAR", 1, 1, ctx=True, lift=True)(_part(0))
register("MONTH", 1, 1, ctx=True, lift=True)(_part(1))
register("DAY", 1, 1, ctx=True, lift=True)(_part(2))


def _add_months(ctx: Context, start: Any, months: Any, end_of_month: bool) -> Any:
    if type(start) is bool or type(months) is bool:  # Analysis ToolPak functions
        return ExcelError("#VALUE!", tr("此处应为日期或数字，不是逻辑值"))
    n = _day(ctx, start)
    if type(n) is ExcelError:
        return n
    k = to_number(months)
    if type(k) is ExcelError:
        return k
    y, m, d = ymd_of(n)  # type: ignore[arg-type]
    first = _month_start(y, m + int(k))  # type: ignore[arg-type]
    if type(first) is ExcelError:
        return first
    fy, fm, _ = ymd_of(first)  # type: ignore[arg-type]
    last = calendar_days(fy, fm)
    r = first + (last if end_of_month else min(d, last)) - 1  # type: ignore[operator]
    if not 0 <= r <= _MAX_SERIAL:
        return NUM
    return float(r)


def calendar_days(y: int, m: int) -> int:
    """Days in month m of year y, as Excel counts them (February 1900 has 29)."""
    if (y, m) == (1900, 2):
        return 29
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return (nxt - dt.date(y, m, 1)).days


@register("EDATE", 2, 2, ctx=True, lift=True)
def fn_edate(ctx: Context, start: Any, months: Any) -> Any:
    return _add_months(ctx, start, months, False)


@register("EOMONTH", 2, 2, ctx=True, lift=True)
def fn_eomonth(ctx: Context, start: Any, months: Any) -> Any:
    return _add_months(ctx, start, months, True)


@register("DAYS", 2, 2, ctx=True, lift=True)
def fn_days(ctx: Context, end: Any, start: Any) -> Any:
    e, s = _day(ctx, end), _day(ctx, start)
    if type(e) is ExcelError:
        return e
    if type(s) is ExcelError:
        return s
    return float(e - s)  # type: ignore[operator]


@register("DAYS360", 2, 3, ctx=True, lift=True)
def fn_days360(ctx: Context, start: Any, end: Any, method: Any = None) -> Any:
    s, e = _day(ctx, start, True), _day(ctx, end, True)
    if type(s) is ExcelError:
        return s
    if type(e) is ExcelError:
        return e
    eu = False if method is None else to_bool(method)
    if type(eu) is ExcelError:
        return eu
    y1, m1, d1 = ymd_of(s)  # type: ignore[arg-type]
    y2, m2, d2 = ymd_of(e)  # type: ignore[arg-type]
    if eu:
        d1, d2 = min(d1, 30), min(d2, 30)
    else:
        if d1 == 31 or (m1 == 2 and d1 == calendar_days(y1, 2)):
            d1 = 30
        if d2 == 31 and d1 >= 30:
            d2 = 30
    return float((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1))


@register("DATEDIF", 3, 3, ctx=True, lift=True)
def fn_datedif(ctx: Context, start: Any, end: Any, unit: Any) -> Any:
    s, e = _day(ctx, start), _day(ctx, end)
    if type(s) is ExcelError:
        return s
    if type(e) is ExcelError:
        return e
    if s > e:  # type: ignore[operator]
        return NUM
    u = to_text(unit)
    if type(u) is ExcelError:
        return u
    u = u.upper()  # type: ignore[union-attr]
    y1, m1, d1 = ymd_of(s)  # type: ignore[arg-type]
    y2, m2, d2 = ymd_of(e)  # type: ignore[arg-type]
    months = (y2 - y1) * 12 + (m2 - m1) - (d2 < d1)
    if u == "D":
        return float(e - s)  # type: ignore[operator]
    if u == "M":
        return float(months)
    if u == "Y":
        return float(months // 12)
    if u == "YM":
        return float(months % 12)
    if u == "MD":
        if d2 >= d1:
            return float(d2 - d1)
        py, pm = (y2, m2 - 1) if m2 > 1 else (y2 - 1, 12)
        return float(calendar_days(py, pm) - d1 + d2)
    if u == "YD":
        yy = y2 if (m2, d2) >= (m1, d1) else y2 - 1
        try:
            anniv = serial_of(yy, m1, min(d1, calendar_days(yy, m1)))
        except ValueError:
            return NUM
        return float(e - anniv)  # type: ignore[operator]
    return NUM


def _weekday(n: int) -> int:
    """0 = Sunday … 6 = Saturday for a serial (Excel's 1900-01-01 is a Sunday)."""
    return (n + 6) % 7


_WEEKDAY_TYPES = {1: (0, 1), 2: (1, 1), 3: (1, 0), 11: (1, 1), 12: (2, 1), 13: (3, 1),
                  14: (4, 1), 15: (5, 1), 16: (6, 1), 17: (0, 1)}


@register("WEEKDAY", 1, 2, ctx=True, lift=True)
def fn_weekday(ctx: Context, x: Any, kind: Any = None) -> Any:
    n = _day(ctx, x)
    if type(n) is ExcelError:
        return n
    k = 1.0 if kind is None else to_number(kind)
    if type(k) is ExcelError:
        return k
    got = _WEEKDAY_TYPES.get(int(k))  # type: ignore[arg-type]
    if got is None:
        return NUM
    first, one = got
    return float((_weekday(n) - first) % 7 + one)  # type: ignore[arg-type]


def _real(n: int) -> dt.date:
    y, m, d = ymd_of(n)
    if ((m, d) == (2, 29) and y == 1900) or d == 0:
        return dt.date(1900, 3, 1) if d else dt.date(1899, 12, 31)
    return dt.date(y, m, d)


@register("ISOWEEKNUM", 1, 1, ctx=True, lift=True)
def fn_isoweeknum(ctx: Context, x: Any) -> Any:
    n = _day(ctx, x)
    if type(n) is ExcelError:
        return n
    return float(_real(n).isocalendar()[1])  # type: ignore[arg-type]


@register("WEEKNUM", 1, 2, ctx=True, lift=True)
def fn_weeknum(ctx: Context, x: Any, kind: Any = None) -> Any:
    n = _day(ctx, x)
    if type(n) is ExcelError:
        return n
    k = 1 if kind is None else to_number(kind)
    if type(k) is ExcelError:
        return k
    k = int(k)  # type: ignore[arg-type]
    if k == 21:
        return fn_isoweeknum(ctx, float(n))  # type: ignore[arg-type]
    got = _WEEKDAY_TYPES.get(k)
    if got is None or k == 3:
        return NUM
    first = got[0]
    y = ymd_of(n)[0]  # type: ignore[arg-type]
    jan1 = serial_of(y, 1, 1)
    offset = (_weekday(jan1) - first) % 7
    return float((n - jan1 + offset) // 7 + 1)  # type: ignore[operator]


def _weekend_mask(weekend: Any) -> set[int] | ExcelError:
    """Weekend days as 0=Sunday…6=Saturday from NETWORKDAYS.INTL's weekend argument."""
    if weekend is None:
        return {0, 6}
    if type(weekend) is str:
        if len(weekend) != 7 or set(weekend) - {"0", "1"} or weekend == "1111111":
            return VALUE
        # the string starts on Monday
        return {(i + 1) % 7 for i, ch in enumerate(weekend) if ch == "1"}
    k = to_number(weekend)
    if type(k) is ExcelError:
        return k
    k = int(k)  # type: ignore[arg-type]
    if 1 <= k <= 7:
        return {(k + 5) % 7, (k + 6) % 7}  # 1: Sat+Sun, 2: Sun+Mon, …
    if 11 <= k <= 17:
        return {(k - 11) % 7}  # 11: Sunday only, 12: Monday only, …
    return NUM


def _holidays(ctx: Context, h: Any) -> set[int] | ExcelError:
    if h is None:
        return set()
    vals = _values(ctx, h)
    out = set()
    for v in (vals if vals is not None else [h]):
        if v is None:
            continue
        n = _day(ctx, v)
        if type(n) is ExcelError:
            return n
        out.add(n)
    return out  # type: ignore[return-value]


def _calendar_args(ctx: Context, start: Any, weekend: Any, holidays: Any
                   ) -> tuple[int, set[int], set[int]] | ExcelError:
    """The start day, weekend days and holidays of NETWORKDAYS/WORKDAY(.INTL)."""
    s = _day(ctx, start)
    if type(s) is ExcelError:
        return s
    wk = _weekend_mask(weekend)
    if type(wk) is ExcelError:
        return wk
    hol = _holidays(ctx, holidays)
    if type(hol) is ExcelError:
        return hol
    return s, wk, hol  # type: ignore[return-value]


def _networkdays(ctx: Context, start: Any, end: Any, weekend: Any, holidays: Any) -> Any:
    e = _day(ctx, end)
    if type(e) is ExcelError:
        return e
    got = _calendar_args(ctx, start, weekend, holidays)
    if type(got) is ExcelError:
        return got
    s, wk, hol = got  # type: ignore[misc]
    sign = 1
    if s > e:  # type: ignore[operator]
        s, e, sign = e, s, -1
    count = 0
    full, rest = divmod(e - s + 1, 7)  # type: ignore[operator]
    count = full * (7 - len(wk))  # type: ignore[arg-type]
    for i in range(rest):
        if _weekday(s + full * 7 + i) not in wk:  # type: ignore[operator]
            count += 1
    for h in hol:  # type: ignore[union-attr]
        if s <= h <= e and _weekday(h) not in wk:  # type: ignore[operator]
            count -= 1
    return float(sign * count)


@register("NETWORKDAYS", 2, 3, "SSR", ctx=True)
def fn_networkdays(ctx: Context, start: Any, end: Any, holidays: Any = None) -> Any:
    return _networkdays(ctx, start, end, None, holidays)


@register("NETWORKDAYS.INTL", 2, 4, "SSSR", ctx=True)
def fn_networkdays_intl(ctx: Context, start: Any, end: Any, weekend: Any = None,
                        holidays: Any = None) -> Any:
    return _networkdays(ctx, start, end, weekend, holidays)


def _workday(ctx: Context, start: Any, days: Any, weekend: Any, holidays: Any) -> Any:
    k = to_number(days)
    if type(k) is ExcelError:
        return k
    got = _calendar_args(ctx, start, weekend, holidays)
    if type(got) is ExcelError:
        return got
    s, wk, hol = got  # type: ignore[misc]
    n, left = s, int(k)  # type: ignore[arg-type]
    step = 1 if left >= 0 else -1
    while left:
        n += step  # type: ignore[operator]
        if _weekday(n) not in wk and n not in hol:  # type: ignore[operator, arg-type]
            left -= step
        if not 0 <= n <= _MAX_SERIAL:  # type: ignore[operator]
            return NUM
    return float(n)  # type: ignore[arg-type]


@register("WORKDAY", 2, 3, "SSR", ctx=True)
def fn_workday(ctx: Context, start: Any, days: Any, holidays: Any = None) -> Any:
    return _workday(ctx, start, days, None, holidays)


@register("WORKDAY.INTL", 2, 4, "SSSR", ctx=True)
def fn_workday_intl(ctx: Context, start: Any, days: Any, weekend: Any = None,
                    holidays: Any = None) -> Any:
    return _workday(ctx, start, days, weekend, holidays)


def _now_serial(ctx: Context) -> float:
    now = ctx.now
    day = serial_of(now.year, now.month, now.day)
    secs = now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6
    return day + secs / 86400.0


@register("TODAY", 0, 0, ctx=True, volatile=True)
def fn_today(ctx: Context) -> Any:
    return float(math.floor(_now_serial(ctx)))


@register("NOW", 0, 0, ctx=True, volatile=True)
def fn_now(ctx: Context) -> Any:
    return _now_serial(ctx)


# --------------------------------------------------------------------------- times

@register("TIME", 3, 3, lift=True)
def fn_time(h: Any, m: Any, s: Any) -> Any:
    vals = []
    for a in (h, m, s):
        x = to_number(a)
        if type(x) is ExcelError:
            return x
        vals.append(int(x))  # type: ignore[arg-type]
    total = vals[0] * 3600 + vals[1] * 60 + vals[2]
    if total < 0 or vals[0] > 32767 or vals[1] > 32767 or vals[2] > 32767:
        return NUM
    return (total % 86400) / 86400.0


def _seconds(ctx: Context, x: Any) -> int | ExcelError:
    s = to_serial(ctx, x)
    if type(s) is ExcelError:
        return s
    if s < 0:  # type: ignore[operator]
        return NUM
    frac = s - math.floor(s)  # type: ignore[operator]
    return math.floor(frac * 86400.0 + 0.5) % 86400


def _clock_part(div: int, mod: int) -> Any:
    def impl(ctx: Context, x: Any) -> Any:
        secs = _seconds(ctx, x)
        if type(secs) is ExcelError:
            return secs
        return float(secs // div % mod)  # type: ignore[operator]

    return impl


register("HOUR", 1, 1, ctx=True, lift=True)(_clock_part(3600, 24))
register("MINUTE", 1, 1, ctx=True, lift=True)(_clock_part(60, 60))
register("SECOND", 1, 1, ctx=True, lift=True)(_clock_part(1, 60))


@register("DATEVALUE", 1, 1, ctx=True, lift=True)
def fn_datevalue(ctx: Context, text: Any) -> Any:
    if type(text) is not str:
        return ExcelError("#VALUE!", tr("DATEVALUE 需要文字"))
    got = parse_datetime(text, ctx.now.date())
    if got is None or got < 1:
        return ExcelError("#VALUE!", tr("“{text}”不是日期", text=text))
    return float(math.floor(got))


@register("TIMEVALUE", 1, 1, ctx=True, lift=True)
def fn_timevalue(ctx: Context, text: Any) -> Any:
    if type(text) is not str:
        return ExcelError("#VALUE!", tr("TIMEVALUE 需要文字"))
    got = parse_datetime(text, ctx.now.date())
    if got is None:
        return ExcelError("#VALUE!", tr("“{text}”不是时间", text=text))
    return got - math.floor(got)


@register("YEARFRAC", 2, 3, ctx=True, lift=True)
def fn_yearfrac(ctx: Context, start: Any, end: Any, basis: Any = None) -> Any:
    s, e = _day(ctx, start), _day(ctx, end)
    if type(s) is ExcelError:
        return s
    if type(e) is ExcelError:
        return e
    b = 0.0 if basis is None else to_number(basis)
    if type(b) is ExcelError:
        return b
    return yearfrac(s, e, b)  # type: ignore[arg-type]


def year_within(y1: int, m1: int, d1: int, y2: int, m2: int, d2: int) -> float:
    """The length of the year YEARFRAC's actual/actual divides by when the second date is at
    most a year after the first: 366 if a 29 February lies in the span's years, else 365."""
    leap = (calendar.isleap(y1) and (m1, d1) <= (2, 29)) or (calendar.isleap(y2) and (
        m2, d2) >= (2, 29) and y1 != y2) or (y1 == y2 and calendar.isleap(y1))
    return 366.0 if leap else 365.0


def yearfrac(s: int, e: int, basis: float) -> float | ExcelError:
    """The fraction of a year between two day serials on a day-count basis (0: US 30/360,
    1: actual/actual, 2: actual/360, 3: actual/365, 4: European 30/360); the financial
    functions' day count too."""
    b = int(basis)
    if not 0 <= b <= 4:
        return NUM
    if s > e:
        s, e = e, s
    if b == 0:
        y1, m1, d1 = ymd_of(s)  # type: ignore[arg-type]
        y2, m2, d2 = ymd_of(e)  # type: ignore[arg-type]
        if d1 == 31:
            d1 = 30
        if d1 == 30 and d2 == 31:
            d2 = 30
        elif m1 == 2 and d1 == calendar_days(y1, 2):
            d1 = 30
            if m2 == 2 and d2 == calendar_days(y2, 2):
                d2 = 30
        return ((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1)) / 360.0
    days = e - s  # type: ignore[operator]
    if b == 2:
        return days / 360.0
    if b == 3:
        return days / 365.0
    if b == 4:
        y1, m1, d1 = ymd_of(s)  # type: ignore[arg-type]
        y2, m2, d2 = ymd_of(e)  # type: ignore[arg-type]
        return ((y2 - y1) * 360 + (m2 - m1) * 30 + (min(d2, 30) - min(d1, 30))) / 360.0
    # basis 1: actual/actual
    y1, m1, d1 = ymd_of(s)  # type: ignore[arg-type]
    y2, m2, d2 = ymd_of(e)  # type: ignore[arg-type]
    if y1 == y2 or (y2 == y1 + 1 and (m2, d2) <= (m1, d1)):
        return days / year_within(y1, m1, d1, y2, m2, d2)
    years = range(y1, y2 + 1)
    avg = sum(366 if calendar.isleap(y) else 365 for y in years) / len(years)
    return days / avg
