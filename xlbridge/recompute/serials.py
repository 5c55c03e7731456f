"""Excel's date serial numbers, and dates and times typed as text.

Days since 1899-12-30, with Excel's (Lotus') phantom 1900-02-29 as serial 60 — so serials
1–59 are one more than the real day count — and a time of day as the fraction. Used by the
Date & Time functions, by TEXT's date formats, and by arithmetic, which reads "2024-01-10"
as a date like Excel does.
"""

from __future__ import annotations

import datetime as dt
import re

from xlbridge.i18n import t as tr

from .core import Unsupported

_BASE = dt.date(1899, 12, 30)
Ymd = tuple[int, int, int]


def serial_of(y: int, m: int, d: int) -> int:
    """The serial of a real date (y, m, d); (1900, 2, 29) is Excel's phantom day 60."""
    if (y, m, d) == (1900, 2, 29):
        return 60
    n = (dt.date(y, m, d) - _BASE).days
    return n - 1 if n < 61 else n


def ymd_of(n: int) -> Ymd:
    """The date of an (integer) serial ≥ 0; serial 0 is Excel's "1900-01-00"."""
    if n == 60:
        return 1900, 2, 29
    if n == 0:
        return 1900, 1, 0
    d = _BASE + dt.timedelta(days=n + 1 if n < 60 else n)
    return d.year, d.month, d.day


_MONTHS = {m.lower(): i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), 1)}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_TIME_RE = re.compile(r"\s*(\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?\s*([AaPp][Mm])?\s*$")
_DATE_PATTERNS = (
    re.compile(r"\s*(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"),
    re.compile(r"\s*(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日"),
    re.compile(r"\s*(?P<m>\d{1,2})[-/](?P<d>\d{1,2})[-/](?P<y>\d{2,4})"),
    re.compile(r"\s*(?P<d>\d{1,2})[- ](?P<mon>[A-Za-z]{3,9})[- ,]+(?P<y>\d{2,4})"),
    re.compile(r"\s*(?P<mon>[A-Za-z]{3,9})[- ](?P<d>\d{1,2}),?[- ](?P<y>\d{2,4})"),
    re.compile(r"\s*(?P<d>\d{1,2})[- ](?P<mon>[A-Za-z]{3,9})"),
    re.compile(r"\s*(?P<mon>[A-Za-z]{3,9})[- ](?P<y>\d{4})"),
    re.compile(r"\s*(?P<m>\d{1,2})[-/](?P<d>\d{1,2})"),
)


def _parse_time(text: str) -> float | None:
    m = _TIME_RE.match(text)
    if m is None:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    s = float(m.group(3) or 0)
    ap = (m.group(4) or "").lower()
    if ap:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ap == "pm" else 0)
    if mi > 59 or s >= 60:
        return None
    return (h * 3600 + mi * 60 + s) / 86400.0


def parse_datetime(text: str, today: dt.date) -> float | None:
    """A date and/or time typed as text, as DATEVALUE/TIMEVALUE read it (English and
    Chinese forms, ISO dates); None when it is not one."""
    s = text.strip()
    if not s:
        return None
    t = _parse_time(s)
    if t is not None:
        return t
    for rx in _DATE_PATTERNS:
        m = rx.match(s)
        if m is None:
            continue
        g = m.groupdict()
        if g.get("m") and g.get("d") and rx.pattern.lstrip("\\s*").startswith("(?P<m>") and (
                int(g["m"]) <= 12 and int(g["d"]) <= 12 and g["m"] != g["d"]):
            # 2/3/2023 is 3 February in the US and 2 March in Europe: the PC's regional
            # settings decide, which a file does not record — not guessed
            raise Unsupported(tr("日期文字“{text}”：日和月的先后取决于区域设置", text=text))
        if g.get("m") and g.get("d") and int(g["m"]) > 12 >= int(g["d"]) and (
                rx.pattern.lstrip("\\s*").startswith("(?P<m>")):
            g["m"], g["d"] = g["d"], g["m"]  # 25/12/2023: day first
        try:
            mon = int(g["m"]) if g.get("m") else _MONTHS.get((g.get("mon") or "").lower())
            if mon is None:
                continue
            y = int(g["y"]) if g.get("y") else today.year
            if g.get("y") and len(g["y"]) == 2:
                y += 2000 if y < 30 else 1900
            d = int(g["d"]) if g.get("d") else 1
            serial = serial_of(y, mon, d)
        except ValueError:
            continue
        rest = s[m.end():]
        if rest.strip():
            tt = _parse_time(rest)
            if tt is None:
                continue
            return serial + tt
        return float(serial)
    return None


