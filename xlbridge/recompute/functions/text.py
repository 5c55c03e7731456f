"""Text: CONCATENATE, LEN, LEFT/RIGHT/MID, TRIM, VALUE, TEXT…"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xlbridge.xlvalues import ExcelError

from ..core import Unsupported
from ..values import (
    dec15,
    number_text,
    parse_number,
    to_number,
    to_text,
)
from .registry import registrar

register = registrar("Text")


# --------------------------------------------------------------------------- text

@register("CONCATENATE", 1, 255, lift=True)
def fn_concat(*args: Any) -> Any:
    parts = []
    for a in args:
        s = to_text(a)
        if type(s) is ExcelError:
            return s
        parts.append(s)
    out = "".join(parts)  # type: ignore[arg-type]
    if len(out) > 32767:
        return ExcelError("#VALUE!", "text longer than 32767 characters")
    return out


@register("LEN", 1, 1, lift=True)
def fn_len(x: Any) -> Any:
    s = to_text(x)
    if type(s) is ExcelError:
        return s
    return float(len(s))  # type: ignore[arg-type]


def _text_arg(x: Any) -> Any:
    return to_text(x)


def _count_arg(n: Any, default: float) -> Any:
    if n is None:
        return default
    k = to_number(n)
    if type(k) is not float:
        return k
    if k < 0:  # type: ignore[operator]
        return ExcelError("#VALUE!", "negative character count")
    return k


@register("LEFT", 1, 2, lift=True)
def fn_left(text: Any, n: Any = 1.0) -> Any:
    s = _text_arg(text)
    if type(s) is ExcelError:
        return s
    k = _count_arg(n, 1.0)
    if type(k) is not float:
        return k
    return s[:int(k)]  # type: ignore[index]


@register("RIGHT", 1, 2, lift=True)
def fn_right(text: Any, n: Any = 1.0) -> Any:
    s = _text_arg(text)
    if type(s) is ExcelError:
        return s
    k = _count_arg(n, 1.0)
    if type(k) is not float:
        return k
    k = int(k)  # type: ignore[assignment]
    return s[len(s) - k:] if k else ""  # type: ignore[arg-type, index]


@register("MID", 3, 3, lift=True)
def fn_mid(text: Any, start: Any, n: Any) -> Any:
    s = _text_arg(text)
    if type(s) is ExcelError:
        return s
    st = to_number(start)
    if type(st) is not float:
        return st
    if st < 1:  # type: ignore[operator]
        return ExcelError("#VALUE!", "MID start below 1")
    k = _count_arg(n, 0.0)
    if type(k) is not float:
        return k
    i = int(st) - 1  # type: ignore[arg-type]
    return s[i:i + int(k)]  # type: ignore[index]


@register("TRIM", 1, 1, lift=True)
def fn_trim(text: Any) -> Any:
    s = _text_arg(text)
    if type(s) is ExcelError:
        return s
    return " ".join(p for p in s.split(" ") if p)  # type: ignore[union-attr]


@register("VALUE", 1, 1, lift=True)
def fn_value(x: Any) -> Any:
    if type(x) is float or type(x) is ExcelError:
        return x
    if x is None:
        return 0.0
    if type(x) is bool:
        return ExcelError("#VALUE!", "VALUE of a logical value")
    y = parse_number(str(x))
    if y is None:
        return ExcelError("#VALUE!", f"“{x}” is not a number")
    return y


_DATE_CODES = re.compile(r"[yYdDhHsS]|\b[mM]{1,4}\b|AM/PM|am/pm|\[")


def _split_sections(fmt: str) -> list[str]:
    out, cur, i, quote = [], [], 0, False
    while i < len(fmt):
        ch = fmt[i]
        if ch == '"':
            quote = not quote
        elif ch == "\\" and not quote and i + 1 < len(fmt):
            cur.append(fmt[i:i + 2])
            i += 2
            continue
        elif ch == ";" and not quote:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _format_number(x: float, section: str) -> str:
    """Format with a simple numeric section: 0 # . , % and literal text."""
    # tokenize literals vs placeholders
    literal_before: list[str] = []
    literal_after: list[str] = []
    placeholders = []
    i = 0
    seen_digit = False
    percent = 0
    while i < len(section):
        ch = section[i]
        if ch == '"':
            j = section.find('"', i + 1)
            if j < 0:
                j = len(section)
            (literal_after if seen_digit else literal_before).append(section[i + 1:j])
            i = j + 1
            continue
        if ch == "\\" and i + 1 < len(section):
            (literal_after if seen_digit else literal_before).append(section[i + 1])
            i += 2
            continue
        if ch in "0#?.,":
            if literal_after and ch in "0#?":
                raise Unsupported(f"TEXT format {section!r}")
            placeholders.append(ch)
            if ch in "0#?":
                seen_digit = True
            i += 1
            continue
        if ch == "%":
            percent += 1
            (literal_after if seen_digit else literal_before).append("%")
            i += 1
            continue
        if ch in "_*":
            raise Unsupported(f"TEXT format {section!r}")
        if ch.isalpha() and ch not in "元角分万":
            raise Unsupported(f"TEXT format {section!r}")
        (literal_after if seen_digit else literal_before).append(ch)
        i += 1
    ph = "".join(placeholders)
    if "." in ph:
        int_part, _, frac_part = ph.partition(".")
    else:
        int_part, frac_part = ph, ""
    # trailing commas scale by 1000
    scale = 0
    while int_part.endswith(","):
        scale += 1
        int_part = int_part[:-1]
    thousands = "," in int_part
    int_part = int_part.replace(",", "")
    frac_part = frac_part.replace(",", "")
    for _ in range(percent):
        x *= 100.0
    for _ in range(scale):
        x /= 1000.0
    d = dec15(x) if x else Decimal(0)
    nfrac = len(frac_part)
    q = d.quantize(Decimal(1).scaleb(-nfrac), rounding=ROUND_HALF_UP)
    text = format(abs(q), "f")
    ipart, _, fpart = text.partition(".")
    # fraction: '0' forces digits, '#' drops trailing zeros, '?' pads with spaces
    if nfrac:
        fl = list(fpart.ljust(nfrac, "0"))
        k = nfrac - 1
        while k >= 0 and frac_part[k] != "0" and fl[k] == "0":
            fl[k] = " " if frac_part[k] == "?" else ""
            k -= 1
        fpart = "".join(fl)
    min_int = int_part.count("0")
    if ipart == "0" and min_int == 0:
        ipart = ""
    ipart = ipart.rjust(min_int, "0")
    if thousands and ipart:
        ipart = f"{int(ipart):,}".rjust(len(ipart), "0") if ipart.strip("0") else ipart
    out = ipart
    if "." in ph:
        out += "." + fpart if fpart or frac_part else "."
    return "".join(literal_before) + out + "".join(literal_after), q


@register("TEXT", 2, 2, lift=True)
def fn_text(value: Any, fmt: Any) -> Any:
    if type(value) is ExcelError:
        return value
    f = to_text(fmt)
    if type(f) is ExcelError:
        return f
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    if value is None:
        value = 0.0
    if type(value) is str:
        y = parse_number(value)
        if y is None:
            return value
        value = y
    x: float = value  # type: ignore[assignment]
    # General, also as a Chinese Excel writes it (G/通用格式)
    if f == "" or f.upper() in ("GENERAL", "G/通用格式"):  # type: ignore[union-attr]
        return number_text(x) if f else ""
    if f == "@":
        return number_text(x)
    sections = _split_sections(f)  # type: ignore[arg-type]
    if any(_DATE_CODES.search(re.sub(r'"[^"]*"|\\.', "", s)) for s in sections):
        raise Unsupported(f"TEXT format {f!r}")
    if len(sections) > 3:
        sections = sections[:3]
    if x < 0 and len(sections) >= 2:
        text, _ = _format_number(-x, sections[1])
        return text
    if x == 0 and len(sections) >= 3:
        text, _ = _format_number(0.0, sections[2])
        return text
    text, q = _format_number(abs(x), sections[0])
    if x < 0 and q != 0:
        text = "-" + text
    return text


