"""Excel's scalar semantics for the recalculator: coercion, comparison, rounding, text.

Values inside the evaluator are plain Python objects, chosen so that the hot paths are a
single ``type(x) is float`` test:

* numbers are ``float`` (IEEE doubles, exactly what Excel computes with; never ``int``),
* text is ``str``, booleans are ``bool``, errors are :class:`~xlbridge.xlvalues.ExcelError`,
* a blank cell is ``None``;
* an omitted argument (``F(A1,,2)``) is :data:`OMITTED` for the functions that tell it apart
  from an empty cell (marked with :func:`takes_omitted`; Excel: ``MROUND(5,)`` is #N/A while
  ``MROUND(5,A1)`` with A1 empty is 0, ``FLOOR.PRECISE(5)`` is 5 while ``FLOOR.PRECISE(5,A1)``
  is 0), ``None`` for every other function.

Where Excel looks at only 15 significant digits (ROUND and friends, INT, equality), the
number is first written with ``'%.15g'`` — that is why ``ROUND(2.675, 2)`` is 2.68 here as in
Excel even though the double closest to 2.675 is slightly below it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Context, Decimal, InvalidOperation
from typing import Any, TypeVar

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ERROR_CODES, ExcelError

__all__ = [
    "DIV0",
    "ERRORS",
    "NA",
    "NAME",
    "NUM",
    "OMITTED",
    "REF",
    "VALUE",
    "approx_equal",
    "compare",
    "number_text",
    "parse_number",
    "takes_omitted",
    "to_bool",
    "to_number",
    "to_text",
    "xl_round",
]

#: One shared instance per error code (errors compare by code, so sharing is only a saving).
ERRORS: dict[str, ExcelError] = {code: ExcelError(code) for code in ERROR_CODES}
DIV0 = ERRORS["#DIV/0!"]
NA = ERRORS["#N/A"]
VALUE = ERRORS["#VALUE!"]
REF = ERRORS["#REF!"]
NAME = ERRORS["#NAME?"]
NUM = ERRORS["#NUM!"]



_F = TypeVar("_F", bound=Callable[..., Any])


class _Omitted:
    """The value of an omitted argument, for the functions that ask for it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED = _Omitted()


def takes_omitted(fn: _F) -> _F:
    """Mark a function implementation as telling an omitted argument (:data:`OMITTED`) from
    an empty cell (``None``); the compiler passes ``None`` for both to every other one."""
    fn.takes_omitted = True  # type: ignore[attr-defined]
    return fn


_MAX = 1.7976931348623157e308
_EPS48 = 2.0 ** -48  # LibreOffice's rtl::math::approxEqual tolerance (≈3.6e-15 relative)


def approx_equal(a: float, b: float) -> bool:
    """Equality as Excel/LibreOffice see it: equal to ~15 significant digits."""
    if a == b:
        return True
    if a == 0.0 or b == 0.0:
        return False
    d = abs(a - b)
    return d < abs(a) * _EPS48 and d < abs(b) * _EPS48


def checked(x: float) -> float | ExcelError:
    """inf/nan → #NUM! (Excel never stores them)."""
    if -_MAX <= x <= _MAX:
        return x
    return NUM


# --------------------------------------------------------------------------- text → number

_NOT_EXCEL = re.compile(r"[nNiI_]")
_NUM_RE = re.compile(
    r"\s*([+-]?)\s*(\$|¥|￥|€|£)?\s*((?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*(%?)\s*(?:€|元)?\s*\Z"
)


def parse_number(text: str) -> float | None:
    """Text that Excel would accept as a number in arithmetic ("3", " 1,234.5 ", "50%")."""
    try:
        x = float(text)  # fast path; also accepts "1e3", " 3 "
    except ValueError:
        pass
    else:
        # float() also takes "nan", "inf", "infinity" and "1_000"; Excel does not
        return None if _NOT_EXCEL.search(text) else x
    if not text:
        return None
    m = _NUM_RE.match(text)
    if m is None:
        return None
    sign, _cur, body, pct = m.groups()
    body = body.replace(",", "")
    if not body or body == ".":
        return None
    try:
        x = float(body)
    except ValueError:
        return None
    if sign == "-":
        x = -x
    if pct:
        x /= 100.0
    return x


def _date_text(text: str) -> float | None:
    """A date or time typed as text, as arithmetic reads it (Excel: ="2024-01-10"+1)."""
    if not text or text != text.strip() or (not any(ch in text for ch in "-/:年月日") and not any(
            ch.isalpha() for ch in text)):
        return None  # (with spaces around it, Excel does not read text as a date)
    from datetime import date

    from .serials import parse_datetime

    return parse_datetime(text, date.today())


def to_number(v: object) -> float | ExcelError:
    """Coerce a scalar for arithmetic: blank → 0, TRUE → 1, "3" → 3, "abc" → #VALUE!."""
    t = type(v)
    if t is float:
        return v  # type: ignore[return-value]
    if v is None:
        return 0.0
    if t is bool:
        return 1.0 if v else 0.0
    if t is str:
        x = parse_number(v)  # type: ignore[arg-type]
        if x is None:
            x = _date_text(v)  # type: ignore[arg-type]  # "2024-01-10", "9:30 AM"
            if x is None:
                return ExcelError("#VALUE!", tr("“{text}”不是数字", text=v))
        return x
    if t is ExcelError:
        return v  # type: ignore[return-value]
    if t is int:
        return float(v)  # type: ignore[arg-type]
    return VALUE


def to_bool(v: object) -> bool | ExcelError:
    """Coerce a scalar to a condition: numbers ≠ 0, "TRUE"/"FALSE" text, blank = FALSE."""
    t = type(v)
    if t is bool:
        return v  # type: ignore[return-value]
    if t is float:
        return v != 0.0
    if v is None:
        return False
    if t is str:
        u = v.upper()  # type: ignore[union-attr]
        if u == "TRUE":
            return True
        if u == "FALSE":
            return False
        return ExcelError("#VALUE!", tr("“{text}”不是 TRUE 或 FALSE", text=v))
    if t is ExcelError:
        return v  # type: ignore[return-value]
    return VALUE


def number_text(x: float) -> str:
    """A number as Excel turns it into text (``=A1&""``): up to 15 significant digits."""
    if x == 0.0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    s = f"{x:.15g}"
    if "e" in s:
        mant, _, exp = s.partition("e")
        e = int(exp)
        if -10 < e < 15:
            # positional, like Excel's General for moderately small numbers
            d = Decimal(s)
            s = format(d, "f")
            if "." in s:
                s = s.rstrip("0").rstrip(".")
            return s
        return f"{mant}E{'+' if e >= 0 else '-'}{abs(e):02d}"
    return s


def to_text(v: object) -> str | ExcelError:
    t = type(v)
    if t is str:
        return v  # type: ignore[return-value]
    if t is float:
        return number_text(v)  # type: ignore[arg-type]
    if v is None:
        return ""
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is ExcelError:
        return v  # type: ignore[return-value]
    return VALUE


# --------------------------------------------------------------------------- comparison

def _rank(v: object) -> int:
    t = type(v)
    if t is float:
        return 0
    if t is str:
        return 1
    if t is bool:
        return 2
    return 0


def compare(a: object, b: object) -> int | ExcelError:
    """Excel's ordering for the comparison operators: numbers < text < booleans.

    A blank takes the type of the other side (0, "" or FALSE). Text compares case-insensitively.
    Returns -1/0/1, or the first error operand.
    """
    ta, tb = type(a), type(b)
    if ta is ExcelError:
        return a  # type: ignore[return-value]
    if tb is ExcelError:
        return b  # type: ignore[return-value]
    if a is None:
        if b is None:
            return 0
        a = "" if tb is str else (False if tb is bool else 0.0)
        ta = type(a)
    elif b is None:
        b = "" if ta is str else (False if ta is bool else 0.0)
        tb = type(b)
    if ta is int:
        a, ta = float(a), float  # type: ignore[arg-type]
    if tb is int:
        b, tb = float(b), float  # type: ignore[arg-type]
    if ta is tb:
        if ta is float:
            if approx_equal(a, b):  # type: ignore[arg-type]
                return 0
            return -1 if a < b else 1  # type: ignore[operator]
        if ta is str:
            x, y = a.casefold(), b.casefold()  # type: ignore[union-attr]
            return 0 if x == y else (-1 if x < y else 1)
        return 0 if a == b else (-1 if a < b else 1)  # type: ignore[operator]
    ra, rb = _rank(a), _rank(b)
    return -1 if ra < rb else 1


# --------------------------------------------------------------------------- rounding

_CTX = Context(prec=60)
_QUANT = {d: Decimal(1).scaleb(-d) for d in range(-20, 31)}
_P10 = tuple(10.0 ** d for d in range(16))  # exact doubles
ROUND_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_UP, "down": ROUND_DOWN}


def dec15(x: float) -> Decimal:
    """The decimal Excel sees for a double: 15 significant digits."""
    return Decimal(f"{x:.15g}")


def xl_round(x: float, digits: float, rounding: str = ROUND_HALF_UP) -> float | ExcelError:
    """ROUND / ROUNDUP / ROUNDDOWN on the 15-significant-digit decimal of ``x``.

    ``rounding`` is a :mod:`decimal` rounding constant; ROUND_HALF_UP rounds half away from
    zero like Excel's ROUND.
    """
    n = int(digits)  # Excel truncates the digit count toward zero
    if x == 0.0:
        return 0.0
    if rounding == ROUND_HALF_UP and 0 <= n <= 15:
        # The usual ROUND(x, 2) without Decimal: x·10ⁿ is within 6e-15 of the 15-digit
        # decimal times 10ⁿ (the error of dec15 plus one of the product), so when it is
        # clearly away from a half the rounded integer k is the decimal's, and k / 10ⁿ is the
        # double nearest to it (both exact, one correctly rounded division) — exactly
        # float() of the quantized Decimal. Near a half (2.675 → 267.49999…) or for huge
        # values, the Decimal path below decides.
        p = _P10[n]
        y = x * p
        ay = -y if y < 0.0 else y
        if ay < 1e15:
            k = math.floor(ay)
            frac = ay - k
            if abs(frac - 0.5) > ay * 1e-13 + 1e-12:
                if frac > 0.5:
                    k += 1
                return -(k / p) if x < 0.0 else k / p
    if n > 30:
        return x
    if n < -308:
        return 0.0
    d = dec15(x)
    q = _QUANT.get(n) or Decimal(1).scaleb(-n)
    try:
        r = d.quantize(q, rounding=rounding, context=_CTX)
    except InvalidOperation:  # pragma: no cover - only for absurd digit counts
        return x
    return checked(float(r))


def xl_floor15(x: float) -> float:
    """INT: round down, after reading ``x`` to 15 significant digits (INT(0.29*100) = 29)."""
    if x.is_integer():
        return x
    return float(math.floor(dec15(x)))
