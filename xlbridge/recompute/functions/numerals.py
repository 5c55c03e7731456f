"""Math & Trig, numerals: ROMAN and ARABIC, BASE and DECIMAL (numbers written in other
systems). Registered in Excel's Math & Trig category; a module of their own because they are
text in, text out rather than arithmetic."""

from __future__ import annotations

import math
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..values import NUM, OMITTED, VALUE, takes_omitted, to_number, to_text
from .registry import registrar

register = registrar("Math & Trig")

_CHARS = "MDCLXVI"
_VALUES = (1000, 500, 100, 50, 10, 5, 1)


def roman(n: int, form: int) -> str:
    """``n`` (0–3999) in Roman numerals, ``form`` 0 (classic) to 4 (most simplified).

    Excel's forms allow ever longer subtractions: 499 is CDXCIX in form 0, LDVLIV in 1,
    XDIX in 2, VDIV in 3 and ID in 4. Digit by digit from the thousands, a digit 4 or 9
    becomes a subtraction whose subtrahend may step down ``form`` places while the
    subtraction still fits in what is left (LibreOffice's algorithm, which gives Excel's
    results on every value of IronCalc's ARABIC_ROMAN.xlsx grid).
    """
    out = []
    last = len(_VALUES) - 1
    for i in range(0, last + 1, 2):
        digit = n // _VALUES[i]
        if digit % 5 == 4:
            i2 = i - 1 if digit == 4 else i - 2
            steps = 0
            j = i
            while steps < form and j < last:
                steps += 1
                if _VALUES[i2] - _VALUES[j + 1] <= n:
                    j += 1
                else:
                    steps = form
            out.append(_CHARS[j] + _CHARS[i2])
            n = n + _VALUES[j] - _VALUES[i2]
        else:
            if digit > 4:
                out.append(_CHARS[i - 1])
            out.append(_CHARS[i] * (digit % 5))
            n %= _VALUES[i]
    return "".join(out)


@register("ROMAN", 1, 2, lift=True)
@takes_omitted
def fn_roman(number: Any, form: Any = OMITTED) -> Any:
    x = to_number(number)
    if type(x) is ExcelError:
        return x
    if form is OMITTED or form is True:
        f = 0.0
    elif form is False:
        f = 4.0
    else:
        f = to_number(form)
        if type(f) is ExcelError:
            return f
    if not 0 <= x < 4000 or not 0 <= f < 5:  # type: ignore[operator]
        return ExcelError("#VALUE!", tr("ROMAN 需要 0 到 3999 的数和 0–4 的形式"))
    return roman(int(x), int(f))  # type: ignore[arg-type]


_DIGIT = {c: v for c, v in zip(_CHARS, _VALUES, strict=True)}


@register("ARABIC", 1, 1, lift=True)
def fn_arabic(text: Any) -> Any:
    """The value of a Roman numeral, as leniently as Excel reads it: any case, surrounding
    spaces ignored, a leading minus, non-classic forms (IIII, ID, MMMMM) by the subtraction
    rule (a letter before a larger one is subtracted); "" is 0, anything else #VALUE!."""
    if type(text) in (float, bool):
        return ExcelError("#VALUE!", tr("ARABIC 需要文本形式的罗马数字"))
    s = to_text(text)
    if type(s) is ExcelError:
        return s
    s = s.strip(" ").upper()  # type: ignore[union-attr]
    sign = 1.0
    if s.startswith("-"):
        sign, s = -1.0, s[1:]
    if len(s) > 255:
        return VALUE
    total = 0
    biggest = 0
    for ch in reversed(s):
        v = _DIGIT.get(ch)
        if v is None:
            return ExcelError("#VALUE!", tr("“{text}”不是罗马数字", text=text))
        if v < biggest:
            total -= v
        else:
            total += v
            biggest = v
    return sign * total


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@register("BASE", 2, 3, lift=True)
@takes_omitted
def fn_base(number: Any, radix: Any, min_length: Any = OMITTED) -> Any:
    xs = []
    for a in (number, radix, 0.0 if min_length is OMITTED else min_length):
        x = to_number(a)
        if type(x) is ExcelError:
            return x
        xs.append(math.trunc(x))  # type: ignore[arg-type]
    n, r, width = xs
    if not 0 <= n < 2 ** 53 or not 2 <= r <= 36 or not 0 <= width <= 255:
        return NUM
    digits = []
    while n:
        n, d = divmod(n, r)
        digits.append(_ALPHABET[d])
    return "".join(reversed(digits or ["0"])).rjust(width, "0")


@register("DECIMAL", 2, 2, lift=True)
def fn_decimal(text: Any, radix: Any) -> Any:
    s = to_text(text)
    if type(s) is ExcelError:
        return s
    r = to_number(radix)
    if type(r) is ExcelError:
        return r
    r = math.trunc(r)  # type: ignore[arg-type]
    if not 2 <= r <= 36:
        return NUM
    s = s.strip().upper()  # type: ignore[union-attr]
    if r == 16 and s.startswith("0X"):
        s = s[2:]
    if len(s) > 255:
        return VALUE
    total = 0
    for ch in s:
        d = _ALPHABET.find(ch)
        if d < 0 or d >= r:
            return NUM
        total = total * r + d
    return float(total) if total < 2 ** 53 else NUM
