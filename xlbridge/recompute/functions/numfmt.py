"""Excel number formats, as TEXT() applies them: General, digit placeholders (``0 # ?``),
thousands separators and scaling, percent, scientific notation, literal text (``"…"``,
``\\x``, ``_x``, ``*x``), colours and locale tags, up to four sections (positive; negative;
zero; text), conditions, and dates and times (``yyyy mm dd hh:mm:ss AM/PM``, elapsed
``[h]:mm``, fractions of a second). What is not here (fractions ``# ?/?``, ``[DBNum1]``…)
raises :class:`~xlbridge.recompute.core.Unsupported`: the cell keeps its stored value and is
reported, never guessed.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

from xlbridge.i18n import t as tr

from ..core import Unsupported
from ..serials import ymd_of
from ..values import dec15, number_text

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_COND = re.compile(r"\[(<=|>=|<>|<|>|=)(-?\d+(?:\.\d*)?)\]")
_BRACKET = re.compile(r"\[[^\]]*\]")
_DATE_CHARS = set("yYmMdDhHsS")


class InvalidFormat(ValueError):
    """A format Excel itself rejects (TEXT gives #VALUE!)."""


def split_sections(fmt: str) -> list[str]:
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


def _tokens(section: str) -> list[tuple[str, str]]:
    """(kind, text): kind "lit" for literal text, "br" for a bracket, else the code char."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(section)
    while i < n:
        ch = section[i]
        if ch == '"':
            j = section.find('"', i + 1)
            j = n if j < 0 else j
            out.append(("lit", section[i + 1:j]))
            i = j + 1
        elif ch == "\\" and i + 1 < n:
            out.append(("lit", section[i + 1]))
            i += 2
        elif ch == "_" and i + 1 < n:
            out.append(("lit", " "))
            i += 2
        elif ch == "*" and i + 1 < n:
            i += 2  # fill character: no width here
        elif ch == "[":
            j = section.find("]", i)
            j = n - 1 if j < 0 else j
            out.append(("br", section[i:j + 1]))
            i = j + 1
        else:
            out.append((ch, ch))
            i += 1
    return out


def _is_date(tokens: list[tuple[str, str]]) -> bool:
    for k, t in tokens:
        if k in _DATE_CHARS:
            return True
        if k == "br" and re.fullmatch(r"\[(h+|m+|s+)\]", t, re.I):
            return True
        if k in ("A", "a") :
            return True
    return False


def _bracket_literal(t: str) -> str:
    """``[$€-407]`` → "€"; colours, locales and other brackets show nothing."""
    m = re.fullmatch(r"\[\$([^-\]]*)(?:-[0-9A-Fa-f]+)?\]", t)
    return m.group(1) if m else ""


def _pick_section(sections: list[str], x: float) -> tuple[str, float, bool]:
    """The section for x, the value to format in it, and whether to write a minus sign."""
    conds = [_COND.search(s) for s in sections]
    if any(conds):
        for s, c in zip(sections, conds, strict=False):
            if c is None:
                return s, abs(x) if x < 0 else x, x < 0
            op, v = c.group(1), float(c.group(2))
            ok = {"<": x < v, ">": x > v, "=": x == v, "<=": x <= v, ">=": x >= v,
                  "<>": x != v}[op]
            if ok:
                return s, abs(x), x < 0 and v >= 0
        return sections[-1], abs(x), x < 0
    if x < 0 and len(sections) >= 2 and sections[1] != "":
        return sections[1], -x, False
    if x == 0 and len(sections) >= 3:
        return sections[2], 0.0, False
    return sections[0], abs(x), x < 0


def format_number(x: float, fmt: str) -> str:
    """``TEXT(x, fmt)`` for a number x."""
    sections = split_sections(fmt)[:4]
    if len(sections) == 4:
        sections = sections[:3]
    section, v, minus = _pick_section(sections, x)
    plain = _BRACKET.sub("", section).strip()
    if plain.upper() in ("GENERAL", "G/通用格式") or (not plain and len(sections) == 1):
        s = general(v)
        return ("-" + s) if minus and s != "0" else s
    tokens = _tokens(section)
    if _is_date(tokens):
        if x < 0:
            raise InvalidFormat(tr("日期为负"))
        return _format_date(x, tokens)
    text, zero = _format_digits(v, tokens)
    if minus and not zero:
        text = "-" + text
    return text


def general(x: float) -> str:
    """The General format in an 11-character cell, as TEXT(x, "General") shows it."""
    if x == 0:
        return "0"
    a = abs(x)
    e = math.floor(math.log10(a))
    mant = f"{a:.5E}"
    m, _, ex = mant.partition("E")
    if "." in m:
        m = m.rstrip("0").rstrip(".")
    exp = int(ex)
    sci = f"{m}E{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if e < 11:
        decimals = 9 - max(e, 0)
        d = Decimal(repr(a)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        s = format(d, "f")
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        # fixed notation unless it shows fewer significant digits than the scientific one
        if len(s) <= 11 and _significant(s) >= _significant(m):
            return ("-" if x < 0 else "") + s
    return ("-" if x < 0 else "") + sci


def _significant(s: str) -> int:
    return len(s.replace("-", "").replace(".", "").lstrip("0"))


def _format_digits(x: float, tokens: list[tuple[str, str]]) -> tuple[str, bool]:
    """A numeric section; returns the text and whether the shown value is zero."""
    for k, t in tokens:
        if k == "/":
            raise Unsupported(tr("TEXT 格式中的分数"))
        if k == "br" and not re.fullmatch(r"\[(\$[^\]]*|[A-Za-z]+\d*|Color\d+)\]", t, re.I):
            raise Unsupported(tr("TEXT 格式 {format}", format=t))
        if k == "br" and t.upper().startswith("[DBNUM"):
            raise Unsupported(tr("TEXT 格式 {format}", format=t))
    # split into integer / fraction / exponent parts
    exp_at = next((i for i, (k, _t) in enumerate(tokens) if k in ("E", "e") and i + 1 < len(
        tokens) and tokens[i + 1][0] in ("+", "-")), None)
    main = tokens[:exp_at] if exp_at is not None else tokens
    exp_tokens = tokens[exp_at + 2:] if exp_at is not None else []
    dot = next((i for i, (k, _t) in enumerate(main) if k == "."), None)
    int_toks = main[:dot] if dot is not None else main
    frac_toks = main[dot + 1:] if dot is not None else []
    ph = "0#?"
    percent = sum(1 for k, _ in tokens if k == "%")
    # thousands: a comma between integer placeholders; scaling: commas right after the last
    last_ph = max((i for i, (k, _) in enumerate(int_toks) if k in ph), default=-1)
    first_ph = min((i for i, (k, _) in enumerate(int_toks) if k in ph), default=-1)
    grouping = any(k == "," and first_ph < i < last_ph for i, (k, _) in enumerate(int_toks))
    scale = 0
    j = last_ph + 1
    while j < len(int_toks) and int_toks[j][0] == ",":
        scale += 1
        j += 1
    if dot is None and last_ph < 0:
        # no placeholders at all: the literal text (a format like "Yes")
        return "".join(_lit(k, t) for k, t in tokens if k not in (",",)), x == 0
    nfrac = sum(1 for k, _ in frac_toks if k in ph)
    v = x * (100.0 ** percent) / (1000.0 ** scale)
    exponent = 0
    if exp_at is not None:
        nint = sum(1 for k, _ in int_toks if k in ph) or 1
        if v != 0:
            exponent = math.floor(math.log10(v))
            exponent -= (exponent % nint) if nint > 1 else 0
            v = v / (10.0 ** exponent)
        d = dec15(v).quantize(Decimal(1).scaleb(-nfrac), rounding=ROUND_HALF_UP)
        if v != 0 and d >= 10 ** nint:
            exponent += nint
            d = dec15(v / 10 ** nint).quantize(Decimal(1).scaleb(-nfrac), rounding=ROUND_HALF_UP)
    else:
        d = (dec15(v) if v else Decimal(0)).quantize(Decimal(1).scaleb(-nfrac),
                                                     rounding=ROUND_HALF_UP)
    text = format(d, "f")
    ipart, _, fpart = text.partition(".")
    if ipart == "0":
        ipart = ""
    if grouping and ipart:
        ipart = f"{int(ipart):,}"
    out_int = _fill_int(ipart, int_toks)
    out = out_int
    if dot is not None:
        out += "." + _fill_frac(fpart.ljust(nfrac, "0"), frac_toks)
    if exp_at is not None:
        sign_tok = tokens[exp_at + 1][0]
        es = "-" if exponent < 0 else ("+" if sign_tok == "+" else "")
        ndig = sum(1 for k, _ in exp_tokens if k in ph)
        digits = str(abs(exponent)).rjust(max(ndig, 1), "0")
        rest = "".join(_lit(k, t) for k, t in exp_tokens if k not in ph)
        out += tokens[exp_at][1] + es + digits + rest
    return out, d == 0


def _lit(k: str, t: str) -> str:
    if k == "lit":
        return t
    if k == "br":
        return _bracket_literal(t)
    if k == "%":
        return "%"
    if k in "0#?.,":
        return ""
    if k.isalpha() and ord(k) < 128:
        raise Unsupported(tr("TEXT 格式字符 {char}", char=repr(k)))
    return t


def _fill_int(digits: str, toks: list[tuple[str, str]]) -> str:
    """Integer digits into the placeholders from the right; literals stay where they are;
    extra digits go in front of the first placeholder."""
    ph = [i for i, (k, _) in enumerate(toks) if k in "0#?"]
    out = [""] * len(toks)
    ds = [c for c in digits if c.isdigit()]
    groups = digits  # with thousands separators, placed as one run
    if "," in digits:
        # grouped: the whole run (with separators) replaces the placeholders
        need = sum(1 for i in ph if toks[i][0] == "0")
        run = groups if len(ds) >= need else ("0" * (need - len(ds)) + groups)
        first = ph[0] if ph else 0
        for i, (k, t) in enumerate(toks):
            if i == first:
                out[i] = run
            elif k in "0#?,":
                out[i] = ""
            else:
                out[i] = _lit(k, t)
        return "".join(out)
    pos = len(ds)
    for i in reversed(range(len(toks))):
        k, t = toks[i]
        if k in "0#?":
            if pos > 0:
                pos -= 1
                out[i] = ds[pos]
            else:
                out[i] = "0" if k == "0" else (" " if k == "?" else "")
        elif k == ",":
            out[i] = ""
        else:
            out[i] = _lit(k, t)
    if pos > 0 and ph:
        out[ph[0]] = "".join(ds[:pos]) + out[ph[0]]
    elif pos > 0:
        out.insert(0, "".join(ds[:pos]))
    return "".join(out)


def _fill_frac(digits: str, toks: list[tuple[str, str]]) -> str:
    ph = [i for i, (k, _) in enumerate(toks) if k in "0#?"]
    vals = list(digits[:len(ph)])
    # trailing zeros: '#' drops them, '?' pads with a space
    for n in range(len(ph) - 1, -1, -1):
        k = toks[ph[n]][0]
        if vals[n] == "0" and k != "0":
            vals[n] = " " if k == "?" else ""
        else:
            break
    out = []
    j = 0
    for k, t in toks:
        if k in "0#?":
            out.append(vals[j])
            j += 1
        else:
            out.append(_lit(k, t))
    return "".join(out)


def _format_date(x: float, tokens: list[tuple[str, str]]) -> str:
    # group runs of the same date letter
    runs: list[tuple[str, str]] = []
    for k, t in tokens:
        lk = k.lower()
        if lk in "ymdhs" and k != "lit" and runs and runs[-1][0] == lk:
            runs[-1] = (lk, runs[-1][1] + t)
        elif lk in "ymdhs" and k not in ("lit", "br"):
            runs.append((lk, t))
        else:
            runs.append((k, t))
    # AM/PM markers
    text_runs: list[tuple[str, str]] = []
    i = 0
    ampm = False
    while i < len(runs):
        k, t = runs[i]
        rest = "".join(tt for _k, tt in runs[i:i + 5])
        if k in ("A", "a") and rest[:5].upper() == "AM/PM":
            text_runs.append(("ampm", rest[:5]))
            ampm = True
            i += 5 if len(runs[i][1]) == 1 else 1
            continue
        if k in ("A", "a") and rest[:3].upper() == "A/P":
            text_runs.append(("ap", rest[:3]))
            ampm = True
            i += 3
            continue
        text_runs.append((k, t))
        i += 1
    frac_digits = 0
    for j, (k, _t) in enumerate(text_runs):
        if k == "." and j + 1 < len(text_runs) and text_runs[j + 1][0] == "0":
            frac_digits = len(text_runs[j + 1][1])
    # components, rounded to the shown precision
    unit = 86400 * 10 ** frac_digits
    total = math.floor(x * unit + 0.5)
    day, rem = divmod(total, unit)
    secs_f, frac = divmod(rem, 10 ** frac_digits)
    hh, mm, ss = secs_f // 3600, secs_f // 60 % 60, secs_f % 60
    if day > 2958465:
        raise InvalidFormat(tr("日期超出范围"))
    y, mo, d = ymd_of(int(day)) if day >= 1 else (1900, 1, 0)
    weekday = (int(day) + 6) % 7
    out = []
    for j, (k, t) in enumerate(text_runs):
        n = len(t)
        if k == "y":
            out.append(f"{y % 100:02d}" if n <= 2 else f"{y:04d}")
        elif k == "m":
            if _is_minute(text_runs, j):
                out.append(f"{mm:02d}" if n >= 2 else str(mm))
            elif n == 1:
                out.append(str(mo))
            elif n == 2:
                out.append(f"{mo:02d}")
            elif n == 3:
                out.append(_MONTHS[mo - 1][:3])
            elif n == 5:
                out.append(_MONTHS[mo - 1][0])
            else:
                out.append(_MONTHS[mo - 1])
        elif k == "d":
            if n == 1:
                out.append(str(d))
            elif n == 2:
                out.append(f"{d:02d}")
            elif n == 3:
                out.append(_DAYS[weekday][:3])
            else:
                out.append(_DAYS[weekday])
        elif k == "h":
            h = hh % 12 or 12 if ampm else hh
            out.append(f"{h:02d}" if n >= 2 else str(h))
        elif k == "s":
            out.append(f"{ss:02d}" if n >= 2 else str(ss))
        elif k == "ampm":
            out.append(("AM" if hh < 12 else "PM") if t[0].isupper() else (
                "am" if hh < 12 else "pm"))
        elif k == "ap":
            out.append(("A" if hh < 12 else "P") if t[0].isupper() else (
                "a" if hh < 12 else "p"))
        elif k == "br":
            m = re.fullmatch(r"\[(h+|m+|s+)\]", t, re.I)
            if m:
                unit_ch, width = m.group(1)[0].lower(), len(m.group(1))
                whole = day * 86400 + secs_f
                val = whole // 3600 if unit_ch == "h" else (
                    whole // 60 if unit_ch == "m" else whole)
                out.append(str(val).rjust(width, "0"))
            else:
                out.append(_bracket_literal(t))
        elif k == "." and j + 1 < len(text_runs) and text_runs[j + 1][0] == "0":
            out.append("." + str(frac).rjust(frac_digits, "0"))
        elif k == "0" and j > 0 and text_runs[j - 1][0] == ".":
            continue
        elif k in ("#", "?", "0"):
            raise InvalidFormat(tr("日期格式中有数字占位符"))
        else:
            out.append(_lit(k, t) if k not in ("/", ":", "-", ".", ",", " ") else t)
    return "".join(out)


def _is_minute(runs: list[tuple[str, str]], j: int) -> bool:
    """An m run means minutes right after an hour or right before a second."""
    for i in range(j - 1, -1, -1):
        k = runs[i][0]
        if k in ("h",) or (k == "br" and runs[i][1].lower().startswith("[h")):
            return True
        if k in ("y", "m", "d", "s"):
            break
    for i in range(j + 1, len(runs)):
        k = runs[i][0]
        if k == "s" or (k == "br" and runs[i][1].lower().startswith("[s")):
            return True
        if k in ("y", "m", "d", "h"):
            break
    return False


def format_text(s: str, fmt: str) -> str:
    """``TEXT("abc", fmt)``: the text section (4th, or one with ``@``) or the text itself."""
    sections = split_sections(fmt)
    sec = sections[3] if len(sections) >= 4 else next((x for x in sections if "@" in x), None)
    if sec is None:
        return s
    out = []
    for k, t in _tokens(sec):
        out.append(s if k == "@" else (_bracket_literal(t) if k == "br" else t))
    return "".join(out)


__all__ = ["InvalidFormat", "format_number", "format_text", "general", "number_text"]
