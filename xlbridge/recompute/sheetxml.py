"""Fast reading and surgical rewriting of worksheet XML (``xl/worksheets/sheetN.xml``).

The sheet is scanned as bytes with one regular expression over the ``<row>``/``<c>``
elements of ``<sheetData>`` (the only part of a worksheet the recalculator needs) and every
formula cell's byte span is remembered. Writing back splices new ``<c>`` elements into the
original bytes at those spans: everything else — other cells, styles, merged cells, data
validation, conditional formatting, extension lists, even the XML declaration and attribute
quoting — stays byte-for-byte as it was. Inside a rewritten cell only the ``t`` attribute and
the ``<v>`` element change (and, for the values-only export, the ``<f>`` element goes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from xlbridge.xlvalues import ExcelError

from .core import ROW_SHIFT, SHEET_SHIFT
from .formula import col_index
from .package import FileRejected
from .values import ERRORS
from .xmltext import decode_text, encode_text

__all__ = ["FormulaCell", "SheetScan", "decode_text", "encode_text", "scan_sheet"]


@dataclass(slots=True)
class FormulaCell:
    """A formula cell (or a cell inside an array formula's range) found in the sheet."""

    key: int
    row: int
    col: int
    start: int            # byte span of the <c> element
    end: int
    text: bytes | None    # formula as stored in the XML, still escaped (None for
                          # shared-formula children and array members)
    kind: str             # "normal", "shared", "array", "member" (array range cell), "table"
    si: int | None = None      # shared formula group
    ref: str | None = None     # ref attribute (shared master / array formula)
    cached: Any = None          # value stored in the file (None when absent)
    cached_t: str | None = None  # the t attribute as found
    dynamic: bool = False       # dynamic-array (spilled) formula: cell has a cm attribute
    # where to splice a new value without re-parsing the cell (usual layouts only):
    # t: (start, end) of the t attribute's value, or (pos, pos) where ' t="…"' can go;
    # v: (start, end) of the <v> text, of a <v/> element (v_mode 1), or an insertion point
    # before </c> (v_mode 2). t_start < 0: use rewrite_cell().
    t_start: int = -1
    t_end: int = -1
    v_start: int = -1
    v_end: int = -1
    v_mode: int = 0


@dataclass
class SheetScan:
    prefix: bytes
    formulas: list[FormulaCell] = field(default_factory=list)
    max_row: int = 0
    max_col: int = 0
    cells: int = 0


_SHEETDATA_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?sheetData\b[^>]*?(/?)>")
_ATTR_R = re.compile(rb"""\br\s*=\s*["']\$?([A-Za-z]{1,3})\$?([0-9]{1,7})["']""")
_ATTR_T = re.compile(rb"""\bt\s*=\s*["']([^"']*)["']""")
_ATTR_ROW_R = re.compile(rb"""\br\s*=\s*["']([0-9]+)["']""")
_ATTR_SI = re.compile(rb"""\bsi\s*=\s*["']([0-9]+)["']""")
_ATTR_REF = re.compile(rb"""\bref\s*=\s*["']([^"']*)["']""")
_ATTR_CM = re.compile(rb"""\bcm\s*=\s*["']""")
_REF_RANGE_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)(?::\$?([A-Za-z]{1,3})\$?([0-9]+))?")


def _cell_re(p: bytes) -> re.Pattern[bytes]:
    """One pattern for rows and cells. The usual layouts (attributes in Excel's order
    r, s, t; a lone value; a formula and its value; a plain inline string) are taken apart
    by the regex engine itself; anything else falls back to a general inner-XML parse.

    Groups: 1 column letters, 2 row, 3 t, 4 other attributes, 5 lone value, 6 formula
    attributes, 7 formula text, 8 value after a formula, 9 ``<v/>``, 10 inline string,
    11 other inner XML, 12 row attributes.
    """
    p = re.escape(p)
    return re.compile(
        rb"<" + p + rb"(?:c(?=[\s/>])(?:\s+r=\"([A-Z]{1,3})([0-9]{1,7})\")?"
        rb"(?:\s+s=\"[0-9]*\")?(?:\s+t=\"([A-Za-z]+)\")?([^>]*)>"
        rb"(?:(?<=/>)"
        rb"|<" + p + rb"v>([^<]*)</" + p + rb"v></" + p + rb"c>"
        rb"|<" + p + rb"f(?=[\s/>])([^>]*?)(?:/>|>([^<]*)</" + p + rb"f>)"
        rb"(?:<" + p + rb"v>([^<]*)</" + p + rb"v>|(<" + p + rb"v/>))?</" + p + rb"c>"
        rb"|<" + p + rb"is><" + p + rb"t(?:\s[^>]*)?>([^<]*)</" + p + rb"t></" + p + rb"is></"
        + p + rb"c>"
        rb"|(.*?)</" + p + rb"c>)"
        rb"|row(?=[\s/>])([^>]*)>)",
        re.DOTALL,
    )


def _inner_res(p: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    p = re.escape(p)
    f = re.compile(rb"<" + p + rb"f(?=[\s/>])([^>]*)>(?:(?<=/>)|(.*?)</" + p + rb"f>)",
                   re.DOTALL)
    v = re.compile(rb"<" + p + rb"v(?=[\s/>])[^>]*>(?:(?<=/>)|(.*?)</" + p + rb"v>)", re.DOTALL)
    is_ = re.compile(rb"<" + p + rb"is(?=[\s/>])[^>]*>(.*?)</" + p + rb"is>", re.DOTALL)
    return f, v, is_


_RE_CACHE: dict[bytes, tuple[re.Pattern[bytes], ...]] = {}


def _res(p: bytes) -> tuple[re.Pattern[bytes], ...]:
    got = _RE_CACHE.get(p)
    if got is None:
        got = (_cell_re(p), *_inner_res(p), *_rich_res(p))
        _RE_CACHE[p] = got
    return got


def _rich_res(p: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    p = re.escape(p)
    t = re.compile(rb"<" + p + rb"t(?=[\s/>])[^>]*>(?:(?<=/>)|(.*?)</" + p + rb"t>)", re.DOTALL)
    rph = re.compile(rb"<" + p + rb"rPh(?=[\s/>]).*?</" + p + rb"rPh>", re.DOTALL)
    return t, rph


def rich_text(inner: bytes, prefix: bytes) -> str:
    """The text of an ``<si>``/``<is>`` body: all ``<t>`` runs, without phonetic ``<rPh>``."""
    res = _res(prefix)
    t_re, rph_re = res[4], res[5]
    if b"rPh" in inner:
        inner = rph_re.sub(b"", inner)
    return "".join(decode_text(m.group(1) or b"") for m in t_re.finditer(inner))


def parse_ref_range(ref: str) -> tuple[int, int, int, int] | None:
    m = _REF_RANGE_RE.fullmatch(ref.strip())
    if m is None:
        return None
    r1, c1 = int(m.group(2)), col_index(m.group(1))
    if m.group(3):
        r2, c2 = int(m.group(4)), col_index(m.group(3))
    else:
        r2, c2 = r1, c1
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _value(t: bytes | None, v: bytes | None, inner: bytes, sst: list[str], prefix: bytes,
           path: str) -> Any:
    if t is None or t == b"n":
        if not v:
            return None
        try:
            return float(v)
        except ValueError:
            raise FileRejected(path, f"bad number {v[:40]!r} in a cell") from None
    if t == b"s":
        if not v:
            return None
        try:
            return sst[int(v)]
        except (ValueError, IndexError):
            raise FileRejected(path, f"bad shared string index {v[:40]!r}") from None
    if t == b"str":
        return decode_text(v) if v is not None else None
    if t == b"b":
        if not v:
            return None
        return v.strip() in (b"1", b"true")
    if t == b"e":
        if not v:
            return None
        return ERRORS.get(decode_text(v).strip().upper(), ExcelError("#VALUE!"))
    if t == b"inlineStr":
        m = _res(prefix)[3].search(inner)
        if m is None:
            return decode_text(v) if v else None
        return rich_text(m.group(1), prefix)
    if t == b"d":
        return decode_text(v) if v else None
    return decode_text(v) if v else None


def scan_sheet(data: bytes, sheet: int, values: dict[int, Any], sst: list[str],
               path: str, part: str) -> SheetScan:
    """Read every cell of a worksheet into ``values`` and list its formula cells."""
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise FileRejected(path, f"{part} contains a DTD/entity declarations (refused)")
    m = _SHEETDATA_RE.search(data)
    if m is None:
        raise FileRejected(path, f"{part} has no <sheetData>: not a worksheet")
    prefix = (m.group(1) + b":") if m.group(1) else b""
    scan = SheetScan(prefix)
    if m.group(2) == b"/":
        return scan
    start = m.end()
    end = data.find(b"</" + prefix + b"sheetData>", start)
    if end < 0:
        raise FileRejected(path, f"{part}: <sheetData> is not closed")
    region_has_odd = data.find(b"<!", start, end) >= 0 or data.find(b"<?", start, end) >= 0
    if region_has_odd:
        raise FileRejected(path, f"{part}: comments, CDATA or processing instructions inside "
                                 "<sheetData> are not supported")
    cell_re, f_re, v_re, _is_re, _t_re, _rph_re = _res(prefix)
    lclose = len(b"</" + prefix + b"c>")
    sb = sheet << SHEET_SHIFT
    cols: dict[bytes, int] = {}
    row = 0
    col = 0
    max_row = 0
    max_col = 0
    ncells = 0
    formulas = scan.formulas
    for m in cell_re.finditer(data, start, end):
        cl, rn, t, attrs, vonly, fattrs, ftext, fv, fvempty, istr, inner, rowattrs = m.groups()
        if cl is not None:
            col = cols.get(cl) or cols.setdefault(cl, col_index(cl.decode("ascii")))
            row = int(rn)
        elif rowattrs is not None:
            rm = _ATTR_ROW_R.search(rowattrs)
            row = int(rm.group(1)) if rm else row + 1
            col = 0
            continue
        else:
            rm = _ATTR_R.search(attrs)
            if rm is not None:
                col = col_index(rm.group(1).decode("ascii"))
                row = int(rm.group(2))
            else:
                col += 1
                if row == 0:
                    row = 1
        if row > max_row:
            max_row = row
        if col > max_col:
            max_col = col
        key = sb | (row << ROW_SHIFT) | col
        if t is None and b"t=" in attrs:
            tm = _ATTR_T.search(attrs)
            if tm is not None:
                t = tm.group(1)
        if vonly is not None:  # <c ...><v>…</v></c>
            ncells += 1
            if (t is None or t == b"n") and vonly:
                try:
                    values[key] = float(vonly)
                except ValueError:
                    raise FileRejected(path, f"bad number {vonly[:40]!r} in a cell") from None
            else:
                val = _value(t, vonly, b"", sst, prefix, path)
                if val is not None:
                    values[key] = val
            continue
        if fattrs is not None:  # <c ...><f …>…</f><v>…</v></c>
            ncells += 1
            v = fv if fv is not None else (b"" if fvempty is not None else None)
            val = _value(t, v, b"", sst, prefix, path) if v else (
                "" if t == b"str" and v is not None else None)
        elif istr is not None:  # <c t="inlineStr"><is><t>…</t></is></c>
            ncells += 1
            values[key] = decode_text(istr)
            continue
        elif inner is None:
            continue  # <c .../>: a formatted empty cell
        else:
            ncells += 1
            fm = f_re.search(inner) if b"f" in inner else None
            vm = v_re.search(inner)
            v = vm.group(1) if vm is not None else None
            if vm is not None and v is None:
                v = b""
            val = _value(t, v, inner, sst, prefix, path)
            if fm is None:
                if val is not None:
                    values[key] = val
                continue
            fattrs, ftext = fm.group(1), fm.group(2)
        kind = "normal"
        si = ref = None
        if fattrs and b"t=" in fattrs:
            ft = _ATTR_T.search(fattrs)
            ftype = ft.group(1) if ft else b"normal"
            if ftype == b"shared":
                kind = "shared"
                sm = _ATTR_SI.search(fattrs)
                si = int(sm.group(1)) if sm else None
            elif ftype == b"array":
                kind = "array"
            elif ftype == b"dataTable":
                kind = "table"
        if kind != "normal" and b"ref" in fattrs:
            rfm = _ATTR_REF.search(fattrs)
            if rfm is not None:
                ref = rfm.group(1).decode("ascii", "replace")
        text = ftext or None  # raw XML text: decoded only when a new formula is parsed
        if kind == "normal" and not text:
            # <f/> with no text: nothing to compute
            if val is not None:
                values[key] = val
            continue
        fc = FormulaCell(key, row, col, m.start(), m.end(), text, kind, si, ref, val,
                         t.decode("ascii") if t else None)
        if inner is None:  # the usual layout: remember the spans to splice
            if t is not None:
                if m.start(3) >= 0:
                    fc.t_start, fc.t_end = m.span(3)
            else:
                fc.t_start = fc.t_end = m.end(4)
            if fv is not None:
                fc.v_start, fc.v_end = m.span(8)
            elif fvempty is not None:
                fc.v_start, fc.v_end = m.span(9)
                fc.v_mode = 1
            else:
                fc.v_start = fc.v_end = m.end() - lclose
                fc.v_mode = 2
        if kind == "array" and b"cm=" in attrs and _ATTR_CM.search(attrs):
            fc.dynamic = True
        formulas.append(fc)
        values[key] = val
    scan.max_row = max_row
    scan.max_col = max_col
    scan.cells = ncells
    return scan


def _num(v: bytes, path: str) -> float:
    try:
        return float(v)
    except ValueError:
        raise FileRejected(path, f"bad number {v[:40]!r} in a cell") from None


def find_cell(data: bytes, prefix: bytes, start: int, end: int, row: int, col: int
              ) -> tuple[int, int, Any] | None:
    """Locate a non-formula cell by position (array-formula members); (start, end, match)."""
    cell_re = _res(prefix)[0]
    from .formula import col_letters

    target = f"{col_letters(col)}{row}".encode("ascii")
    for m in cell_re.finditer(data, start, end):
        cl, rn, attrs = m.group(1, 2, 4)
        if attrs is None:
            continue
        if cl is not None:
            if cl + rn == target:
                return m.start(), m.end(), m
        else:
            rm = _ATTR_R.search(attrs)
            if rm and rm.group(1).upper() + rm.group(2) == target:
                return m.start(), m.end(), m
    return None


# --------------------------------------------------------------------------- rewriting

_START_RE = re.compile(rb"<([A-Za-z_][\w.-]*:)?c\b([^>]*?)(/?)>", re.DOTALL)
_T_ATTR_SUB = re.compile(rb"""\s+t\s*=\s*("[^"]*"|'[^']*')""")


def number_bytes(x: float) -> bytes:
    """A double as Excel stores it: shortest round-trip repr, integers without ``.0``."""
    if x == 0.0:
        return b"0"
    if x.is_integer() and abs(x) < 1e16:
        return b"%d" % int(x)
    r = repr(x)
    if "e" in r:
        mant, _, exp = r.partition("e")
        return f"{mant}E{exp}".encode("ascii")
    return r.encode("ascii")


def value_xml(v: Any) -> tuple[bytes | None, bytes]:
    """(t attribute, <v> text) for a formula result."""
    t = type(v)
    if t is float:
        return None, number_bytes(v)
    if t is str:
        return b"str", encode_text(v)
    if t is bool:
        return b"b", b"1" if v else b"0"
    if t is ExcelError:
        return b"e", v.code.encode("ascii")
    if v is None:
        return None, b"0"
    raise TypeError(f"cannot store {v!r}")


def rewrite_cell(cell: bytes, new_t: bytes | None, new_v: bytes | None, *,
                 drop_formula: bool = False, inline_string: bool = False) -> bytes:
    """Change a ``<c>`` element's ``t`` attribute and ``<v>`` contents, nothing else.

    ``new_v`` None removes the value. With ``drop_formula`` the ``<f>`` element is removed
    too; with ``inline_string`` a text value is stored as ``<is><t>`` (``t="inlineStr"``),
    which is what a cell without formula needs.
    """
    m = _START_RE.match(cell)
    if m is None:
        raise ValueError("not a <c> element")
    prefix = m.group(1) or b""
    attrs = m.group(2)
    selfclose = m.group(3) == b"/"
    body_start = m.end()
    # the t attribute: replace in place, or append
    tm = _ATTR_T.search(attrs)
    want_t = b"inlineStr" if (inline_string and new_t == b"str") else new_t
    if tm is not None:
        if want_t is None:
            attrs = _T_ATTR_SUB.sub(b"", attrs, count=1)
        else:
            q = attrs[tm.start(1) - 1:tm.start(1)]
            attrs = attrs[:tm.start(1) - 1] + q + want_t + q + attrs[tm.end(1) + 1:]
    elif want_t is not None:
        attrs = attrs + b' t="' + want_t + b'"'
    if selfclose:
        body = b""
        closing = b"</" + prefix + b"c>"
    else:
        closing = b"</" + prefix + b"c>"
        body = cell[body_start:len(cell) - len(closing)]
    f_re, v_re, is_re = _res(prefix)[1:4]
    if drop_formula:
        body = f_re.sub(b"", body, count=1)
    if want_t == b"inlineStr":
        new_elem = (b"<" + prefix + b"is><" + prefix + b't xml:space="preserve">' + new_v
                    + b"</" + prefix + b"t></" + prefix + b"is>") if new_v is not None else b""
        body = v_re.sub(b"", body, count=1)
        body = is_re.sub(b"", body, count=1)
        body = new_elem + body
    else:
        new_elem = (b"<" + prefix + b"v>" + new_v + b"</" + prefix + b"v>"
                    if new_v is not None else b"")
        vm = v_re.search(body)
        if vm is not None:
            body = body[:vm.start()] + new_elem + body[vm.end():]
        else:
            fm = f_re.search(body)
            pos = fm.end() if fm is not None else 0
            body = body[:pos] + new_elem + body[pos:]
    return b"<" + prefix + b"c" + attrs + b">" + body + closing


def splice(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace byte spans (sorted, non-overlapping) of ``data``."""
    if not edits:
        return data
    edits.sort(key=lambda e: e[0])
    out = []
    pos = 0
    for s, e, b in edits:
        out.append(data[pos:s])
        out.append(b)
        pos = e
    out.append(data[pos:])
    return b"".join(out)
