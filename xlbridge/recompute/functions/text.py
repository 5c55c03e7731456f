"""Text: CONCATENATE, LEN, LEFT/RIGHT/MID, TRIM, VALUE, TEXT…"""

from __future__ import annotations

import math
import re
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import (
    Context,
)
from ..values import (
    NA,
    VALUE,
    number_text,
    parse_number,
    to_bool,
    to_number,
    to_text,
)
from . import numfmt
from .args import (
    flat_values,
    numeric,
    textual,
)
from .criteria import (
    _has_wild,
    _wild_re,
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
        return ExcelError("#VALUE!", tr("文字超过 32767 个字符"))
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
    if n is None:  # an empty cell, or an argument left empty (LEFT(A1,)): 0 characters
        return 0.0
    k = to_number(n)
    if type(k) is not float:
        return k
    if k < 0:  # type: ignore[operator]
        return ExcelError("#VALUE!", tr("字符数为负"))
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
        return ExcelError("#VALUE!", tr("MID 的起始位置小于 1"))
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
        return ExcelError("#VALUE!", tr("VALUE 的参数是逻辑值"))
    y = to_number(x)  # numbers, "1,234", "50%", "€100", dates and times as text
    if type(y) is ExcelError:
        return ExcelError("#VALUE!", tr("“{text}”不是数字", text=x))
    return y


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
            return numfmt.format_text(value, f)  # type: ignore[arg-type]
        value = y
    if f == "":
        return ""
    if f == "@":
        return number_text(value)  # type: ignore[arg-type]
    try:
        return numfmt.format_number(value, f)  # type: ignore[arg-type]
    except numfmt.InvalidFormat:
        return ExcelError("#VALUE!", tr("TEXT：{format} 不是适用于该值的格式", format=repr(f)))


# --------------------------------------------------------------------------- joining

@register("CONCAT", 1, 253, "R", ctx=True)
def fn_concat_ranges(ctx: Context, *args: Any) -> Any:
    parts = []
    for v in flat_values(ctx, args):
        s = to_text(v)
        if type(s) is ExcelError:
            return s
        parts.append(s)
    out = "".join(parts)  # type: ignore[arg-type]
    if len(out) > 32767:
        return ExcelError("#VALUE!", tr("文字超过 32767 个字符"))
    return out


@register("TEXTJOIN", 3, 254, "SSR", ctx=True)
def fn_textjoin(ctx: Context, delim: Any, ignore_empty: Any, *args: Any) -> Any:
    d = to_text(delim)
    if type(d) is ExcelError:
        return d
    ig = to_bool(ignore_empty)
    if type(ig) is ExcelError:
        return ig
    parts = []
    for v in flat_values(ctx, args):
        s = to_text(v)
        if type(s) is ExcelError:
            return s
        if ig and s == "":
            continue
        parts.append(s)
    out = d.join(parts)  # type: ignore[union-attr, arg-type]
    if len(out) > 32767:
        return ExcelError("#VALUE!", tr("文字超过 32767 个字符"))
    return out


# --------------------------------------------------------------------------- case, search

@register("UPPER", 1, 1, lift=True)
@textual
def fn_upper(s: str) -> Any:
    return s.upper()


@register("LOWER", 1, 1, lift=True)
@textual
def fn_lower(s: str) -> Any:
    return s.lower()




@register("PROPER", 1, 1, lift=True)
@textual
def fn_proper(s: str) -> Any:
    out = []
    prev_letter = False
    for ch in s:
        if ch.isalpha():
            out.append(ch.lower() if prev_letter else ch.upper())
            prev_letter = True
        else:
            out.append(ch)
            prev_letter = False
    return "".join(out)


@register("EXACT", 2, 2, lift=True)
@textual
def fn_exact(a: str, b: str) -> Any:
    return a == b


@register("REPT", 2, 2, lift=True)
@textual
def fn_rept(s: str, n: float) -> Any:
    if n < 0 or len(s) * int(n) > 32767:
        return VALUE
    return s * int(n)


def _find(s: str, within: str, start: float, fold: bool) -> Any:
    i = int(start)
    if i < 1 or i > len(within) + 1:
        return VALUE
    if fold:
        if s.endswith("~") and not s.endswith("~~"):
            s = s[:-1]  # an escape with nothing after it: Excel drops it
        # SEARCH("~d", "My dear") is 4: a ~ before a character that is no wildcard is
        # dropped too (Excel's cached value in FIND_SEARCH.xlsx)
        s = re.sub(r"~([^*?~])", r"\1", s)
        if _has_wild(s):
            rx = _wild_re(s)
            m = rx.search(within, i - 1)
            return float(m.start() + 1) if m else VALUE
        pos = within.casefold().find(s.casefold(), i - 1)
    else:
        pos = within.find(s, i - 1)
    return VALUE if pos < 0 else float(pos + 1)


@register("FIND", 2, 3, lift=True)
@textual
def fn_find(s: str, within: str, start: float = 1.0) -> Any:
    return _find(s, within, start, False)


@register("SEARCH", 2, 3, lift=True)
@textual
def fn_search(s: str, within: str, start: float = 1.0) -> Any:
    return _find(s, within, start, True)


@register("SUBSTITUTE", 3, 4, lift=True)
@textual
def fn_substitute(s: str, old: str, new: str, nth: float | None = None) -> Any:
    if old == "":
        return s
    if nth is None:
        return s.replace(old, new)
    k = int(nth)
    if k < 1:
        return VALUE
    pos = -1
    for _ in range(k):
        pos = s.find(old, pos + 1)
        if pos < 0:
            return s
    return s[:pos] + new + s[pos + len(old):]


@register("REPLACE", 4, 4, lift=True)
@textual
def fn_replace(s: str, start: float, n: float, new: str) -> Any:
    i, k = int(start), int(n)
    if i < 1 or k < 0:
        return VALUE
    return s[:i - 1] + new + s[i - 1 + k:]


@register("CLEAN", 1, 1, lift=True)
@textual
def fn_clean(s: str) -> Any:
    return "".join(ch for ch in s if ord(ch) >= 32)


@register("CHAR", 1, 1, lift=True)
@numeric
def fn_char(n: float) -> Any:
    k = int(n)
    if not 1 <= k <= 255:
        return VALUE
    try:
        return bytes([k]).decode("cp1252") if k >= 128 else chr(k)
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: Excel gives the code point
        return chr(k)


@register("UNICHAR", 1, 1, lift=True)
@numeric
def fn_unichar(n: float) -> Any:
    k = int(n)
    if not 1 <= k <= 0x10FFFF or 0xD800 <= k <= 0xDFFF:
        return VALUE
    return chr(k)


@register("CODE", 1, 1, lift=True)
@textual
def fn_code(s: str) -> Any:
    if not s:
        return VALUE
    b = s[0].encode("cp1252", errors="replace")
    return float(b[0])


@register("UNICODE", 1, 1, lift=True)
@textual
def fn_unicode(s: str) -> Any:
    if not s:
        return VALUE
    return float(ord(s[0]))


@register("T", 1, 1, lift=True)
def fn_t(x: Any) -> Any:
    if type(x) is str or type(x) is ExcelError:
        return x
    return ""


@register("NUMBERVALUE", 1, 3, lift=True)
@textual
def fn_numbervalue(s: str, dec: str = ".", group: str = ",") -> Any:
    if not dec or not group:
        return VALUE
    dec, group = dec[0], group[0]
    t = "".join(s.split())
    if not t:
        return 0.0
    pct = 0
    while t.endswith("%"):
        pct += 1
        t = t[:-1]
    if dec in t[t.find(dec) + 1:] if dec in t else False:
        return VALUE
    ipart, _, fpart = t.partition(dec)
    if group in fpart:
        return VALUE
    ipart = ipart.replace(group, "")
    try:
        x = float(f"{ipart or '0'}.{fpart or '0'}")
    except ValueError:
        return VALUE
    return x / (100.0 ** pct)


@register("VALUETOTEXT", 1, 2, lift=True)
def fn_valuetotext(x: Any, fmt: Any = None) -> Any:
    strict = to_number(fmt) == 1.0 if fmt is not None else False
    if type(x) is str:
        return '"' + x.replace('"', '""') + '"' if strict else x
    if type(x) is ExcelError:
        return x.code
    s = to_text(x)
    return s


@register("ARRAYTOTEXT", 1, 2, "AS", ctx=True)
def fn_arraytotext(ctx: Context, array: Any, fmt: Any = None) -> Any:
    """Format 0 (concise): the values joined by ", " as VALUETOTEXT shows them; format 1
    (strict): an array constant, ``{1,"a";TRUE,#N/A}``, text quoted."""
    f = 0.0 if fmt is None else to_number(fmt)
    if type(f) is ExcelError:
        return f
    if f not in (0.0, 1.0):
        return ExcelError("#VALUE!", tr("ARRAYTOTEXT 的格式必须是 0 或 1"))
    grid = ctx.array(array)
    rows = []
    for row in grid:
        cells = []
        for v in row:
            if v is None:
                cells.append("")
            elif type(v) is ExcelError:
                cells.append(v.code)
            else:
                cells.append(fn_valuetotext(v, f))
        rows.append(cells)
    if f == 0.0:
        out = ", ".join(c for row in rows for c in row)
    else:
        out = "{" + ";".join(",".join(row) for row in rows) + "}"
    return out if len(out) <= 32767 else ExcelError("#VALUE!", tr("文字超过 32767 个字符"))


def _count(haystack: str, needle: str, fold: bool) -> int:
    """Non-overlapping occurrences of needle, as _nth counts them."""
    h = haystack.casefold() if fold else haystack
    return h.count(needle.casefold() if fold else needle)


def _nth(haystack: str, needle: str, n: int, fold: bool) -> int:
    """Start of the n-th (negative: n-th from the end) occurrence of needle, or -1."""
    h = haystack.casefold() if fold else haystack
    nd = needle.casefold() if fold else needle
    starts = []
    pos = h.find(nd)
    while pos >= 0:
        starts.append(pos)
        pos = h.find(nd, pos + len(nd))
    k = n - 1 if n > 0 else len(starts) + n
    return starts[k] if 0 <= k < len(starts) else -1


def _before_after(text: Any, delim: Any, rest: tuple[Any, ...], after: bool) -> Any:
    """TEXTBEFORE/TEXTAFTER(text, delimiter, [instance], [match_mode], [match_end],
    [if_not_found]); an if_not_found argument that is an empty cell gives "" (only an
    omitted one gives #N/A), and a delimiter longer than the text is #VALUE! once an
    instance is given."""
    inst, mode, end, default = (*rest, None, None, None, None)[:4]
    given_default = len(rest) >= 4
    s = to_text(text)
    if type(s) is ExcelError:
        return s
    d = to_text(delim)
    if type(d) is ExcelError:
        return d
    n = 1.0 if inst is None else to_number(inst)
    if type(n) is ExcelError:
        return n
    fold = False if mode is None else bool(to_number(mode) == 1.0)
    e = 0.0 if end is None else to_number(end)
    if type(e) is ExcelError:
        return e
    if e not in (0.0, 1.0):
        return ExcelError("#VALUE!", tr("match_end 必须是 0 或 1"))
    match_end = e == 1.0
    k = math.floor(n)  # type: ignore[arg-type]
    if k == 0 or abs(k) > len(s) + 1 or (inst is not None and len(d) > len(s)):  # type: ignore
        return VALUE
    if d == "":
        pos, dl = (0 if k > 0 else len(s)), 0  # type: ignore[arg-type]
    else:
        pos = _nth(s, d, k, fold)  # type: ignore[arg-type]
        dl = len(d)  # type: ignore[arg-type]
        if pos < 0 and match_end and abs(k) == _count(s, d, fold) + 1:  # type: ignore[arg-type]
            # the text's end (start, counting from the end) is one more delimiter, once
            pos, dl = (len(s), 0) if k > 0 else (0, 0)  # type: ignore[arg-type]
    if pos < 0:
        if not given_default:
            return ExcelError("#N/A", tr("找不到分隔符"))
        return "" if default is None else default
    return s[pos + dl:] if after else s[:pos]  # type: ignore[index]


@register("TEXTBEFORE", 2, 6, lift=True)
def fn_textbefore(text: Any, delim: Any, *rest: Any) -> Any:
    return _before_after(text, delim, rest, False)


@register("TEXTAFTER", 2, 6, lift=True)
def fn_textafter(text: Any, delim: Any, *rest: Any) -> Any:
    return _before_after(text, delim, rest, True)


@register("TEXTSPLIT", 2, 6, "SAASSS", ctx=True)
def fn_textsplit(ctx: Context, text: Any, col_delim: Any, row_delim: Any = None,
                 ignore_empty: Any = None, mode: Any = None, pad: Any = None) -> Any:
    s = to_text(text if type(text) is not list else text[0][0])
    if type(s) is ExcelError:
        return s

    def delims(d: Any) -> list[str] | ExcelError:
        if d is None:
            return []
        vals = [v for row in d for v in row] if type(d) is list else [d]
        out = []
        for v in vals:
            t = to_text(v)
            if type(t) is ExcelError:
                return t
            if t:
                out.append(t)
        return out  # type: ignore[return-value]

    cd, rd = delims(col_delim), delims(row_delim)
    if type(cd) is ExcelError:
        return cd
    if type(rd) is ExcelError:
        return rd
    if not cd and not rd:
        return VALUE
    flags = re.IGNORECASE if mode is not None and to_number(mode) == 1.0 else 0
    ig = ignore_empty is not None and to_bool(ignore_empty) is True

    def split(t: str, ds: list[str]) -> list[str]:
        if not ds:
            return [t]
        parts = re.split("|".join(re.escape(x) for x in sorted(ds, key=len, reverse=True)), t,
                         flags=flags)
        return [p for p in parts if p] if ig else parts

    rows = [split(r, cd) for r in split(s, rd)]  # type: ignore[arg-type]
    if not rows:
        return VALUE
    w = max(len(r) for r in rows)
    fill = NA if pad is None else pad
    return [[*r, *([fill] * (w - len(r)))] for r in rows]
