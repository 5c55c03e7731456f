"""Excel tables (ListObjects) and structured references: ``Table1[Amount]``,
``Table1[[#This Row],[Amount]]`` (``[@Amount]`` on screen), ``Table1[#All]``,
``Table1[[#Headers],[Name]:[Amount]]``…

A structured reference always means a rectangle of the table's sheet, so a formula's text
is rewritten into A1 references before it is keyed and parsed: ``#This Row`` becomes a
*relative* reference to the formula's own row (so a calculated column is still compiled
once), the other parts absolute ones. References to unknown tables or columns stay as they
are and are reported (the syntax is then unsupported), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from xlbridge.i18n import t as tr

from .formula import col_letters

__all__ = ["Table", "rewrite_structured", "table_parts"]


@dataclass(frozen=True)
class Table:
    name: str
    sheet: int
    r1: int
    c1: int
    r2: int
    c2: int
    header_rows: int
    totals_rows: int
    columns: tuple[str, ...]
    filtered: bool = False  # its autoFilter has a criterion: hidden data rows are filtered

    def column(self, name: str) -> int | None:
        """A column by its name, in any case; a name Excel wrote with spaces around it
        (``[the two ]``) is found with or without them."""
        want = name.casefold()
        for i, c in enumerate(self.columns):
            if c.casefold() == want:
                return self.c1 + i
        want = want.strip()
        for i, c in enumerate(self.columns):
            if c.strip().casefold() == want:
                return self.c1 + i
        return None


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")


def parse_table(xml: bytes, sheet: int) -> Table | None:
    root = etree.fromstring(xml)
    ref = root.get("ref") or ""
    a, _, b = ref.partition(":")
    ma, mb = _REF.fullmatch(a), _REF.fullmatch(b or a)
    if ma is None or mb is None:
        return None
    from .formula import col_index

    cols = []
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.endswith("}tableColumn"):
            cols.append(el.get("name") or "")
    filtered = any(isinstance(el.tag, str) and el.tag.endswith("}filterColumn")
                   for el in root.iter())
    name = root.get("displayName") or root.get("name") or ""
    return Table(name, sheet, int(ma.group(2)), col_index(ma.group(1)), int(mb.group(2)),
                 col_index(mb.group(1)), int(root.get("headerRowCount") or 1),
                 int(root.get("totalsRowCount") or 0), tuple(cols), filtered)


def table_parts(rels: dict[str, tuple[str, str]]) -> list[str]:
    """The table parts among a worksheet's relationships."""
    return [part for typ, part in rels.values() if typ == "table"]


# Name[ ... ] with nested brackets; ' escapes a special character inside
_START = re.compile(r"(?<![\w.\\])([A-Za-z_\\\u0080-\uffff][\w.\u0080-\uffff]*)\[")


def _bracket_end(text: str, i: int) -> int:
    """Index just past the bracket group starting at text[i] == '['; -1 if unbalanced."""
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch == "'" and i + 1 < len(text):
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _items(inner: str) -> list[str]:
    """``[#This Row],[Amount]`` → ["#This Row", "Amount"]; ``Amount`` → ["Amount"];
    ``[A]:[B]`` → ["A:B"]; ``[]`` → [] (the whole table's data). A column whose name starts
    with ``#`` is written ``'#`` and comes back as ``\x00#…`` (not a special item)."""
    inner = inner.strip()
    if not inner:
        return []
    if not inner.startswith("["):
        return [_unescape(inner)]
    out, i = [], 0
    while i < len(inner):
        if inner[i] == "[":
            j = _bracket_end(inner, i)
            if j < 0:
                raise ValueError(tr("方括号不配对"))
            item = _unescape(inner[i + 1:j - 1])
            k = j
            while k < len(inner) and inner[k] == " ":
                k += 1
            if k < len(inner) and inner[k] == ":":
                k += 1
                while k < len(inner) and inner[k] == " ":
                    k += 1
                j2 = _bracket_end(inner, k)
                if j2 < 0:
                    raise ValueError(tr("方括号不配对"))
                item = item + ":" + _unescape(inner[k + 1:j2 - 1])
                j = j2
            out.append(item)
            i = j
        else:
            i += 1
    return out


def _unescape(s: str) -> str:
    s = s.strip(" ") if s.strip(" ").startswith(("#", "'#")) else s
    lead = "\x00" if s.startswith("'#") else ""
    return lead + re.sub(r"'(.)", r"\1", s)


def _sheet_prefix(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
        return name + "!"
    return "'" + name.replace("'", "''") + "'!"


def _resolve(t: Table, items: list[str], row: int, own_sheet: int,
             sheet_names: list[str]) -> str | None:
    specials = [x.strip().lower() for x in items if x.strip().startswith("#")]
    cols = [x.replace("\x00", "") for x in items if not x.strip().startswith("#")]
    data1, data2 = t.r1 + t.header_rows, t.r2 - t.totals_rows
    if not specials or specials == ["#data"]:
        r1, r2 = data1, data2
    elif specials == ["#all"]:
        r1, r2 = t.r1, t.r2
    elif specials == ["#headers"]:
        if not t.header_rows:
            return "#REF!"  # a table without that row: Excel's #REF!
        r1 = r2 = t.r1
    elif specials == ["#totals"]:
        if not t.totals_rows:
            return "#REF!"
        r1 = r2 = t.r2
    elif sorted(specials) == ["#data", "#headers"]:
        r1, r2 = t.r1, data2
    elif sorted(specials) == ["#data", "#totals"]:
        r1, r2 = data1, t.r2
    elif specials == ["#this row"]:
        if not data1 <= row <= data2:
            return "#VALUE!"  # outside the table's rows: Excel's #VALUE!
        r1 = r2 = row
    else:
        return None
    if cols:
        if len(cols) > 1:
            return None
        a, _, b = cols[0].partition(":")
        c1, c2 = t.column(a), t.column(b or a)
        if c1 is None or c2 is None:
            return None
    else:
        c1, c2 = t.c1, t.c2
    prefix = _sheet_prefix(sheet_names[t.sheet]) if t.sheet != own_sheet else ""
    this_row = specials == ["#this row"]
    rr = "" if this_row else "$"
    first = f"${col_letters(c1)}{rr}{r1}"
    if r1 == r2 and c1 == c2:
        return prefix + first
    return f"{prefix}{first}:${col_letters(c2)}{rr}{r2}"


def rewrite_structured(text: str, row: int, tables: dict[str, Table], own_sheet: int,
                       sheet_names: list[str]) -> str | None:
    """``text`` with every structured reference replaced by A1 references; None when one
    cannot be resolved (an unknown table or column), so that the cell is reported."""
    out, pos = [], 0
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            in_string = not in_string
            i += 1
            continue
        if in_string:
            i += 1
            continue
        m = _START.match(text, i) if ch.isalpha() or ch in "_\\" or ord(ch) > 127 else None
        if m is None or (i > 0 and (text[i - 1].isalnum() or text[i - 1] in "._")):
            i += 1
            continue
        t = tables.get(m.group(1).casefold())
        if t is None:
            i = m.end()
            continue
        end = _bracket_end(text, m.end() - 1)
        if end < 0:
            return None
        try:
            items = _items(text[m.end():end - 1])
        except ValueError:
            return None
        a1 = _resolve(t, items, row, own_sheet, sheet_names)
        if a1 is None:
            return None
        out.append(text[pos:i])
        out.append(a1)
        pos = i = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)
