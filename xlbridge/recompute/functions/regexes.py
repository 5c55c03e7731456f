"""Text, regular expressions: REGEXTEST, REGEXEXTRACT, REGEXREPLACE.

Excel evaluates these with PCRE2. They run here on the ``regex`` package, whose syntax is
PCRE's for what workbooks use: classes and Unicode properties (``\\p{Han}``), lazy and
possessive quantifiers, atomic groups, look-around, named groups ``(?<name>…)``, inline
flags ``(?i)``. Stated differences: PCRE2's backtracking-control verbs (``(*SKIP)``…),
callouts and ``\\K`` are not supported (such a pattern is #VALUE!, as an invalid one is in
Excel); in a replacement ``$1``, ``${1}``, ``${name}`` and ``$0`` name groups as in Excel,
``$$`` is a dollar sign.
"""

from __future__ import annotations

from typing import Any

import regex

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..values import NA, OMITTED, takes_omitted, to_number, to_text
from .registry import registrar

register = registrar("Text")

_CACHE: dict[tuple[str, int], Any] = {}


def _compile(pattern: str, case: Any) -> Any:
    """The compiled pattern, or an error; ``case`` 0 (default) case-sensitive, 1 not."""
    c = 0.0 if case is OMITTED or case is None else to_number(case)
    if type(c) is ExcelError:
        return c
    if c not in (0.0, 1.0):
        return ExcelError("#VALUE!", tr("case_sensitivity 必须是 0 或 1"))
    key = (pattern, int(c))
    rx = _CACHE.get(key)
    if rx is None:
        try:
            rx = regex.compile(pattern, regex.V0 | (regex.IGNORECASE if c else 0))
        except (regex.error, ValueError, OverflowError) as exc:
            return ExcelError("#VALUE!", tr("“{pattern}”不是有效的正则表达式：{exc}",
                                            pattern=pattern, exc=exc))
        if len(_CACHE) > 1024:
            _CACHE.clear()
        _CACHE[key] = rx
    return rx


def _texts(*args: Any) -> list[str] | ExcelError:
    out = []
    for a in args:
        t = to_text(a)
        if type(t) is ExcelError:
            return t
        out.append(t)
    return out  # type: ignore[return-value]


@register("REGEXTEST", 2, 3, lift=True)
@takes_omitted
def fn_regextest(text: Any, pattern: Any, case: Any = OMITTED) -> Any:
    got = _texts(text, pattern)
    if type(got) is ExcelError:
        return got
    rx = _compile(got[1], case)  # type: ignore[index]
    if type(rx) is ExcelError:
        return rx
    return rx.search(got[0]) is not None  # type: ignore[index]


@register("REGEXEXTRACT", 2, 4)
@takes_omitted
def fn_regexextract(text: Any, pattern: Any, mode: Any = OMITTED, case: Any = OMITTED) -> Any:
    """return_mode 0: the first match; 1: every match, in a row (as Excel spills it);
    2: the first match's capturing groups, in a row (an unmatched group is "")."""
    got = _texts(text, pattern)
    if type(got) is ExcelError:
        return got
    m = 0.0 if mode is OMITTED or mode is None else to_number(mode)
    if type(m) is ExcelError:
        return m
    if m not in (0.0, 1.0, 2.0):
        return ExcelError("#VALUE!", tr("return_mode 必须是 0、1 或 2"))
    rx = _compile(got[1], case)  # type: ignore[index]
    if type(rx) is ExcelError:
        return rx
    s = got[0]  # type: ignore[index]
    if m == 1.0:
        found = [x.group(0) for x in rx.finditer(s)]
        return [found] if found else ExcelError("#N/A", tr("没有匹配"))
    first = rx.search(s)
    if first is None:
        return NA
    if m == 0.0:
        return first.group(0)
    groups = first.groups()
    if not groups:
        return ExcelError("#N/A", tr("正则表达式没有捕获组"))
    return [[g if g is not None else "" for g in groups]]


def _template(rx: Any, replacement: str) -> Any:
    """Excel's replacement syntax ($1, ${1}, ${name}, $0, $$) as a function of a match."""
    parts: list[Any] = []
    i, n = 0, len(replacement)
    lit = []
    while i < n:
        ch = replacement[i]
        if ch == "$" and i + 1 < n:
            nxt = replacement[i + 1]
            if nxt == "$":
                lit.append("$")
                i += 2
                continue
            if nxt.isdigit():
                j = i + 1
                while j < n and replacement[j].isdigit() and int(replacement[i + 1:j + 1]) \
                        <= rx.groups:
                    j += 1
                ref: Any = int(replacement[i + 1:j]) if j > i + 1 else None
                if ref is not None:
                    parts.append("".join(lit))
                    lit = []
                    parts.append((ref,))
                    i = j
                    continue
            if nxt == "{":
                close = replacement.find("}", i + 2)
                if close > 0:
                    name = replacement[i + 2:close]
                    parts.append("".join(lit))
                    lit = []
                    parts.append((int(name) if name.isdigit() else name,))
                    i = close + 1
                    continue
        lit.append(ch)
        i += 1
    parts.append("".join(lit))

    def expand(m: Any) -> str:
        out = []
        for p in parts:
            if type(p) is str:
                out.append(p)
            else:
                try:
                    out.append(m.group(p[0]) or "")
                except (IndexError, regex.error):
                    raise ValueError(tr("正则表达式没有第 {group} 组", group=p[0])) from None
        return "".join(out)

    return expand


@register("REGEXREPLACE", 3, 5, lift=True)
@takes_omitted
def fn_regexreplace(text: Any, pattern: Any, replacement: Any, occurrence: Any = OMITTED,
                    case: Any = OMITTED) -> Any:
    """occurrence 0 (default) replaces every match, n the n-th, -n the n-th from the end."""
    got = _texts(text, pattern, replacement)
    if type(got) is ExcelError:
        return got
    s, pat, rep = got  # type: ignore[misc]
    k = 0.0 if occurrence is OMITTED or occurrence is None else to_number(occurrence)
    if type(k) is ExcelError:
        return k
    rx = _compile(pat, case)
    if type(rx) is ExcelError:
        return rx
    expand = _template(rx, rep)
    try:
        if k == 0.0:
            return rx.sub(expand, s)
        matches = list(rx.finditer(s))
        idx = int(k) - 1 if k > 0 else len(matches) + int(k)  # type: ignore[operator]
        if not 0 <= idx < len(matches):
            return s
        m = matches[idx]
        return s[:m.start()] + expand(m) + s[m.end():]
    except ValueError as exc:
        return ExcelError("#VALUE!", str(exc))
