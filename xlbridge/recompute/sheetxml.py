"""Fast reading and surgical rewriting of worksheet XML (``xl/worksheets/sheetN.xml``).

The sheet is scanned as bytes with one regular expression over the ``<row>``/``<c>``
elements of ``<sheetData>`` (the only part of a worksheet the recalculator needs) and every
formula cell's byte span is remembered. Writing back splices new ``<c>`` elements into the
original bytes at those spans: everything else — other cells, styles, merged cells, data
validation, conditional formatting, extension lists, even the XML declaration and attribute
quoting — stays byte-for-byte as it was. Inside a rewritten cell only the ``t`` attribute and
the ``<v>`` element change (and, for the values-only export, the ``<f>`` element goes; for a
#CALC!/#SPILL!, the ``vm`` of its rich value: richvalues.py).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

from xlbridge.i18n import t
from xlbridge.xlvalues import ExcelError

from .core import MAX_COL, MAX_ROW, ROW_SHIFT, SHEET_SHIFT
from .formula import col_index
from .package import FileRejected, dtd_refused
from .values import ERRORS
from .xmltext import decode_text, encode_text

try:  # the scan's compiled fast path (setup.py builds it where a C compiler is at hand)
    from . import _speedups
except ImportError:  # pragma: no cover - a build without it: the same scan, in Python
    _speedups = None

__all__ = ["FormulaTable", "SheetScan", "decode_text", "encode_text", "scan_sheet"]


# kinds of formula cells
NORMAL, SHARED, ARRAY, TABLE, MEMBER = 0, 1, 2, 3, 4
KIND_NAMES = ("normal", "shared", "array", "table", "member")
# the t attribute of a cell, as a small code (OTHER: anything unusual; rewrite in full)
T_CODES = {None: 0, b"n": 1, b"str": 2, b"b": 3, b"e": 4, b"s": 5, b"inlineStr": 6, b"d": 7}
T_NAMES = (None, b"n", b"str", b"b", b"e", b"s", b"inlineStr", b"d", None)
T_OTHER = 8
#: formula cells gathered before they are moved into the FormulaTable's columns
_BATCH = 4096
#: the scan's shortcut for the usual formula cell (off only in the tests that compare it
#: with the general branch)
_FAST_FORMULA = True
#: the compiled scan of the usual layouts (_speedups.c), when it is built (off only in the tests
#: that compare it with the scan in Python)
_COMPILED = _speedups is not None


class FormulaTable:
    """Every formula cell of a workbook, stored column-wise (about 60 bytes a cell).

    Row ``i`` is one cell: its key, the byte span of its ``<c>`` element in the sheet XML,
    the formula kind, shared-formula group, the value stored in the file and its ``t``
    attribute, and seven offsets (relative to the element) used to splice a new value
    without re-parsing: formula text (offset, length), ``t`` attribute value (offset,
    length; offset -1: rewrite the whole element), ``<v>`` text or ``<v/>`` or insertion
    point before ``</c>`` (offset, length, mode 0/1/2). A sheet's cells are a contiguous run
    of rows (see :class:`SheetScan`).
    """

    SPAN = 7  # offsets per row in ``spans``

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.start = array("q")
        self.size = array("i")
        self.si = array("i")            # shared formula group, -1 for none
        self.cached: list[Any] = []     # value stored in the file (None when absent)
        self.meta = bytearray()         # kind, t code (T_CODES), 0 — per row
        # f_off, f_len, t_off, t_len, v_off, v_len, v_mode: two bytes each while every offset
        # fits (almost every cell: 7 MB less at 500,000 formulas), four once one does not
        self.spans = array("h")
        self.refs: dict[int, str] = {}  # ref attribute of shared masters / array formulas
        self.dynamic: set[int] = set()  # dynamic-array (spilled) formulas (cm attribute)
        self.vm_rows: set[int] = set()  # cells with a vm attribute (a rich value: richvalues)

    def __len__(self) -> int:
        return len(self.keys)

    def kind(self, i: int) -> int:
        return self.meta[3 * i]

    def ctype(self, i: int) -> int:
        return self.meta[3 * i + 1]

    def span(self, i: int) -> tuple[int, ...]:
        return tuple(self.spans[7 * i:7 * i + 7])

    def add(self, key: int, start: int, size: int, kind: int, si: int, cached: Any,
            ctype: int, spans: tuple[int, int, int, int, int, int, int]) -> int:
        self.keys.append(key)
        self.start.append(start)
        self.size.append(size)
        self.si.append(si)
        self.cached.append(cached)
        self.meta.extend((kind, ctype, 0))
        self._add_spans(list(spans))
        return len(self.keys) - 1

    def extend_rows(self, rows: list[tuple]) -> None:
        """Append rows given as tuples (key, start, size, si, cached, kind, t code, and the
        seven span offsets): column-wise, in C, rather than nine appends a cell."""
        if not rows:
            return
        cols = tuple(zip(*rows, strict=True))
        self.keys.extend(cols[0])
        self.start.fromlist(list(cols[1]))  # fromlist: twice as fast as extend(tuple)
        self.size.fromlist(list(cols[2]))
        self.si.fromlist(list(cols[3]))
        self.cached.extend(cols[4])
        self.meta.extend(chain.from_iterable(zip(cols[5], cols[6], repeat(0, len(rows)),
                                                 strict=True)))
        self._add_spans(list(chain.from_iterable(zip(*cols[7:], strict=True))))

    def extend_columns(self, keys: list[int], cached: list[Any], start: bytes, size: bytes,
                       si: bytes, meta: bytes, spans: bytes, code: str) -> None:
        """Append rows given column by column, as the compiled scan returns them: keys and
        cached values as lists, the other columns as the raw bytes of their arrays (spans as
        ``code``, "h" or "i")."""
        self.keys.extend(keys)
        self.start.frombytes(start)
        self.size.frombytes(size)
        self.si.frombytes(si)
        self.cached.extend(cached)
        self.meta.extend(meta)
        if code == self.spans.typecode:
            self.spans.frombytes(spans)
        elif code == "i":  # a long cell among the new rows: widen once, for good
            self.spans = array("i", self.spans)
            self.spans.frombytes(spans)
        else:
            more = array("h")
            more.frombytes(spans)
            self.spans.extend(array("i", more))

    def _add_spans(self, spans: list[int]) -> None:
        if self.spans.typecode == "h" and spans and max(spans) > 32767:
            self.spans = array("i", self.spans)  # a long cell: widen once, for good
        self.spans.fromlist(spans)

    def text(self, i: int, data: bytes) -> bytes | None:
        """The formula of row ``i`` as stored in the XML (entities not decoded)."""
        off = self.spans[7 * i]
        if off < 0:
            return None
        s = self.start[i] + off
        return data[s:s + self.spans[7 * i + 1]]


@dataclass
class SheetScan:
    prefix: bytes
    lo: int = 0              # rows [lo, hi) of the FormulaTable
    hi: int = 0
    members: list[int] = field(default_factory=list)  # array-formula member rows (later)
    max_row: int = 0
    max_col: int = 0
    cells: int = 0
    hidden_rows: set[int] = field(default_factory=set)  # <row hidden="1"> (SUBTOTAL 10x)
    #: (first, last) data rows of the sheet's autoFilter when it filters (SUBTOTAL 1–11)
    filter_rows: tuple[int, int] | None = None


_SHEETDATA_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?sheetData\b[^>]*?(/?)>")
_ATTR_R = re.compile(rb"""\br\s*=\s*["']\$?([A-Za-z]{1,3})\$?([0-9]{1,7})["']""")
_ATTR_T = re.compile(rb"""\bt\s*=\s*["']([^"']*)["']""")
_ATTR_ROW_R = re.compile(rb"""\br\s*=\s*["']([0-9]+)["']""")
_ATTR_SI = re.compile(rb"""\bsi\s*=\s*["']([0-9]+)["']""")
_ATTR_REF = re.compile(rb"""\bref\s*=\s*["']([^"']*)["']""")
_SHARED_CHILD = re.compile(rb"""\s+t="shared"\s+si="([0-9]+)"\s*/?""")
_HIDDEN = re.compile(rb"""\bhidden\s*=\s*["'](?:1|true)["']""")
_AUTOFILTER = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?autoFilter\b[^>]*?\bref\s*=\s*["']"""
                         rb"""\$?[A-Za-z]{1,3}\$?([0-9]+)(?::\$?[A-Za-z]{1,3}\$?([0-9]+))?["'][^>]*>"""
                         rb"""\s*<(?:[A-Za-z_][\w.-]*:)?filterColumn\b""")
_ATTR_CM = re.compile(rb"""\bcm\s*=\s*["']""")
_ATTR_VM = re.compile(rb"""\bvm\s*=\s*["']([0-9]{1,9})["']""")
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
        rb"|<" + p + rb"f(?=[\s/>])([^>]*)>(?:(?<=/>)|([^<]*)</" + p + rb"f>)"
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


def _value(ctype: bytes | None, v: bytes | None, inner: bytes, sst: list[str], prefix: bytes,
           path: str) -> Any:
    if ctype is None or ctype == b"n":
        if not v:
            return None
        try:
            return float(v)
        except ValueError:
            raise _BadCell(t("数值单元格中存有非数字内容 {value}", value=_show(v))) from None
    if ctype == b"s":
        if not v:
            return None
        try:
            return sst[int(v)]
        except (ValueError, IndexError):
            raise _BadCell(t("共享字符串编号 {value} 不存在", value=_show(v))) from None
    if ctype == b"str":
        return decode_text(v) if v is not None else None
    if ctype == b"b":
        if not v:
            return None
        return v.strip() in (b"1", b"true")
    if ctype == b"e":
        if not v:
            return None
        return ERRORS.get(decode_text(v).strip().upper(), ExcelError("#VALUE!"))
    if ctype == b"inlineStr":
        m = _res(prefix)[3].search(inner)
        if m is None:
            return decode_text(v) if v else None
        return rich_text(m.group(1), prefix)
    if ctype == b"d":
        return decode_text(v) if v else None
    return decode_text(v) if v else None


class _BadCell(ValueError):
    """A cell whose stored content cannot be read (the scan adds sheet and cell)."""


def _row_beyond_grid() -> _BadCell:
    return _BadCell(t("行号超出 Excel 的 1,048,576 行（否则会占用另一个单元格的位置）"))


def _show(v: bytes) -> str:
    return repr(v[:40].decode("utf-8", "replace"))


def rich_error(attrs: bytes, val: Any, rich: Callable[[int], ExcelError | None] | None) -> Any:
    """An error cell with ``vm``: the error its rich value holds (#CALC!, #SPILL!: the cell
    says #VALUE!), or ``val`` when it holds none (see richvalues)."""
    m = _ATTR_VM.search(attrs) if val is not None and rich is not None else None
    got = rich(int(m.group(1))) if m is not None else None
    return val if got is None else got


def scan_sheet(data: bytes, sheet: int, values: dict[int, Any], sst: list[str],
               table: FormulaTable, path: str, part: str, name: str | None = None,
               rich: Callable[[int], ExcelError | None] | None = None) -> SheetScan:
    """Read every cell of a worksheet into ``values``; its formula cells go to ``table``.
    ``rich`` gives the error of a ``vm`` index (the workbook's value metadata).

    A cell that cannot be read — a row or column beyond Excel's grid (it would take another
    cell's place), a number cell holding text — refuses the file with :class:`FileRejected`
    naming the sheet and the cell."""
    where = {"row": 0, "col": 0}
    try:
        return _scan(data, sheet, values, sst, table, path, part, where, rich)
    except _BadCell as exc:
        from .formula import col_letters

        cell = f"{col_letters(where['col'])}{where['row']}" if where["col"] else \
            t("第 {row} 行", row=where["row"])
        raise FileRejected(path, t("工作表“{sheet}”单元格 {cell}：{reason}", sheet=name or part,
                                    cell=cell, reason=exc)) from None


def _scan(data: bytes, sheet: int, values: dict[int, Any], sst: list[str],
          table: FormulaTable, path: str, part: str, where: dict[str, int],
          rich: Callable[[int], ExcelError | None] | None) -> SheetScan:
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise FileRejected(path, dtd_refused(part))
    m = _SHEETDATA_RE.search(data)
    if m is None:
        raise FileRejected(path, t("{part} 没有 <sheetData>：不是工作表", part=part))
    prefix = (m.group(1) + b":") if m.group(1) else b""
    scan = SheetScan(prefix, len(table), len(table))
    if m.group(2) == b"/":
        return scan
    start = m.end()
    end = data.find(b"</" + prefix + b"sheetData>", start)
    if end < 0:
        raise FileRejected(path, t("{part}：<sheetData> 没有结束标记", part=part))
    sb = sheet << SHEET_SHIFT
    if _COMPILED and not prefix:  # (it takes no comment, CDATA or processing instruction)
        got = _speedups.scan(data, start, end, sb, values, sst, decode_text, ERRORS,
                          ExcelError("#VALUE!"))
        if got is not None:  # every element had a usual layout (otherwise: below, in Python)
            keys, cached, starts, sizes, sis, meta, spans, code, refs, hidden, *counts = got
            base = len(table)
            table.extend_columns(keys, cached, starts, sizes, sis, meta, spans, code)
            for i, ref in refs:
                table.refs[base + i] = ref
            scan.hidden_rows.update(hidden)
            return _finish(scan, table, data, end, *counts)
    region_has_odd = data.find(b"<!", start, end) >= 0 or data.find(b"<?", start, end) >= 0
    if region_has_odd:
        raise FileRejected(path, t("{part}：不支持 <sheetData> 中的注释、CDATA 或处理指令",
                                   part=part))
    cell_re, f_re, v_re, _is_re, _t_re, _rph_re = _res(prefix)
    lclose = len(b"</" + prefix + b"c>")
    cols: dict[bytes, int] = {}
    row = 0
    col = 0
    max_row = 0
    max_col = 0
    ncells = 0
    rowkey = sb             # the key of column 0 of the current row
    last_rn: bytes | None = None  # the row digits rowkey was made from
    # formula cells go to the table in batches (one tuple each here, then column-wise)
    pending: list[tuple] = []
    push = pending.append
    base = len(table)
    t_codes = T_CODES
    inline: dict[bytes, str] = {}
    fast_formula = _FAST_FORMULA
    try:
        for m in cell_re.finditer(data, start, end):
            (cl, rn, ctype, attrs, vonly, fattrs, ftext, fv, fvempty, istr, inner,
             rowattrs) = m.groups()
            if cl is not None:
                col = cols.get(cl) or cols.setdefault(cl, col_index(cl.decode("ascii")))
                if rn != last_rn:  # a new row: the row checks once, not per cell
                    row = int(rn)
                    last_rn = rn
                    if row > max_row:
                        max_row = row
                        if row > MAX_ROW:
                            raise _row_beyond_grid()
                    rowkey = sb | (row << ROW_SHIFT)
            elif rowattrs is not None:
                rm = _ATTR_ROW_R.search(rowattrs)
                row = int(rm.group(1)) if rm else row + 1
                col = 0
                last_rn = None
                if b"hidden" in rowattrs and _HIDDEN.search(rowattrs):
                    scan.hidden_rows.add(row)
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
                last_rn = None
                if row > max_row:
                    max_row = row
                    if row > MAX_ROW:
                        raise _row_beyond_grid()
                rowkey = sb | (row << ROW_SHIFT)
            if col > max_col:
                max_col = col
                if col > MAX_COL:
                    raise _BadCell(t("列超出 Excel 的 16,384 列（XFD）"))
            key = rowkey | col
            if vonly is not None:  # <c ...><v>…</v></c>: the most common cell
                ncells += 1
                if ctype is None and attrs and b"t=" in attrs:
                    tm = _ATTR_T.search(attrs)
                    if tm is not None:
                        ctype = tm.group(1)
                if ctype is None or ctype == b"n":
                    if vonly:
                        try:
                            values[key] = float(vonly)
                        except ValueError:
                            raise _BadCell(t("数值单元格中存有非数字内容 {value}",
                                             value=_show(vonly))) from None
                elif ctype == b"s" and vonly:  # a shared string (what _value does, inline)
                    try:
                        values[key] = sst[int(vonly)]
                    except (ValueError, IndexError):
                        raise _BadCell(t("共享字符串编号 {value} 不存在",
                                         value=_show(vonly))) from None
                else:
                    val = _value(ctype, vonly, b"", sst, prefix, path)
                    if ctype == b"e" and b"vm" in attrs:
                        val = rich_error(attrs, val, rich)
                    if val is not None:
                        values[key] = val
                continue
            if (fv is not None and ftext and not fattrs and not attrs and ctype is None
                    and fast_formula):
                # the usual formula cell, <c r=".." s=".."><f>…</f><v>…</v></c>: what the
                # general branch below does for it, without its questions
                ncells += 1
                cstart = m.start()
                if fv:
                    try:
                        val = float(fv)
                    except ValueError:
                        raise _BadCell(t("数值单元格中存有非数字内容 {value}",
                                         value=_show(fv))) from None
                else:
                    val = None
                push((key, cstart, m.end() - cstart, -1, val, NORMAL, 0,
                      m.start(7) - cstart, len(ftext), m.end(4) - cstart, 0,
                      m.start(8) - cstart, len(fv), 0))
                values[key] = val
                if len(pending) >= _BATCH:
                    table.extend_rows(pending)
                    base += len(pending)
                    pending.clear()
                continue
            fast_t = ctype is not None
            if ctype is None and attrs and b"t=" in attrs:
                tm = _ATTR_T.search(attrs)
                if tm is not None:
                    ctype = tm.group(1)
            cstart = m.start()
            if fattrs is not None:  # <c ...><f …>…</f><v>…</v></c>: splice spans are known
                ncells += 1
                v = fv if fv is not None else (b"" if fvempty is not None else None)
                try:
                    val = _value(ctype, v, b"", sst, prefix, path) if v else (
                        "" if ctype == b"str" and v is not None else None)
                except FileRejected:  # a broken stored result: the formula gives a new one
                    val = None
                if ctype == b"e" and b"vm" in attrs:
                    val = rich_error(attrs, val, rich)
                if ftext is not None:
                    f_off, f_len = m.start(7) - cstart, len(ftext)
                else:
                    f_off, f_len = -1, 0
                if fast_t:
                    t_off, t_len = m.start(3) - cstart, len(ctype)
                elif ctype is None:
                    t_off, t_len = m.end(4) - cstart, 0
                else:
                    t_off, t_len = -1, 0
                if fv is not None:
                    v_off, v_len, v_mode = m.start(8) - cstart, len(fv), 0
                elif fvempty is not None:
                    v_off, v_len, v_mode = m.start(9) - cstart, len(fvempty), 1
                else:
                    v_off, v_len, v_mode = m.end() - lclose - cstart, 0, 2
            elif istr is not None:  # <c t="inlineStr"><is><t>…</t></is></c>
                ncells += 1
                text = inline.get(istr)
                if text is None:  # a column of inline strings repeats its values
                    text = inline[istr] = decode_text(istr)
                values[key] = text
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
                val = _value(ctype, v, inner, sst, prefix, path)
                if ctype == b"e" and b"vm" in attrs:
                    val = rich_error(attrs, val, rich)
                if fm is None:
                    if val is not None:
                        values[key] = val
                    continue
                fattrs, ftext = fm.group(1), fm.group(2)
                if ftext is not None:
                    f_off, f_len = m.start(11) + fm.start(2) - cstart, len(ftext)
                else:
                    f_off, f_len = -1, 0
                t_off = t_len = v_off = v_len = -1
                v_mode = 0
            kind = NORMAL
            si = -1
            if fattrs:
                sm = _SHARED_CHILD.fullmatch(fattrs)
                if sm is not None:  # the usual shared-formula member: ' t="shared" si="N"'
                    kind = SHARED
                    si = int(sm.group(1))
                elif b"t=" in fattrs:
                    ft = _ATTR_T.search(fattrs)
                    ftype = ft.group(1) if ft else b"normal"
                    if ftype == b"shared":
                        kind = SHARED
                        sm = _ATTR_SI.search(fattrs)
                        si = int(sm.group(1)) if sm else -1
                    elif ftype == b"array":
                        kind = ARRAY
                    elif ftype == b"dataTable":
                        kind = TABLE
            if kind == NORMAL and not ftext:
                # <f/> with no text: nothing to compute
                if val is not None:
                    values[key] = val
                continue
            push((key, cstart, m.end() - cstart, si, val, kind, t_codes.get(ctype, T_OTHER),
                  f_off, f_len, t_off, t_len, v_off, v_len, v_mode))
            if b"vm" in attrs and _ATTR_VM.search(attrs):  # the writer sets or drops it
                table.vm_rows.add(base + len(pending) - 1)
            if kind != NORMAL:
                i = base + len(pending) - 1
                if b"ref" in fattrs:
                    rfm = _ATTR_REF.search(fattrs)
                    if rfm is not None:
                        table.refs[i] = rfm.group(1).decode("ascii", "replace")
                if kind == ARRAY and b"cm=" in attrs and _ATTR_CM.search(attrs):
                    table.dynamic.add(i)
            values[key] = val
            if len(pending) >= _BATCH:
                table.extend_rows(pending)
                base += len(pending)
                pending.clear()
    except _BadCell:
        where["row"], where["col"] = row, col
        raise
    table.extend_rows(pending)
    return _finish(scan, table, data, end, max_row, max_col, ncells)


def _finish(scan: SheetScan, table: FormulaTable, data: bytes, end: int, max_row: int,
            max_col: int, ncells: int) -> SheetScan:
    scan.hi = len(table)
    af = _AUTOFILTER.search(data, end) if scan.hidden_rows else None
    if af is not None:  # the header row is not filtered
        scan.filter_rows = (int(af.group(1)) + 1, int(af.group(2) or af.group(1)))
    scan.max_row = max_row
    scan.max_col = max_col
    scan.cells = ncells
    return scan



def find_cells(data: bytes, prefix: bytes, r1: int, c1: int, r2: int, c2: int
               ) -> dict[tuple[int, int], tuple[int, int, Any]]:
    """Every ``<c>`` element inside rows r1..r2, columns c1..c2: (row, col) → (start, end,
    match), in one pass that starts at row r1's element and stops after row r2 — so an
    array formula over A1:XFD1 costs one scan of one row, not one scan per cell."""
    cell_re = _res(prefix)[0]
    m = _SHEETDATA_RE.search(data)
    start = m.end() if m else 0
    row_at = re.compile(rb"<" + re.escape(prefix) + rb"row\b[^>]*?\br=[\"']%d[\"']" % r1)
    rm = row_at.search(data, start)
    if rm is not None:
        start = rm.start()
    out: dict[tuple[int, int], tuple[int, int, Any]] = {}
    row = col = 0
    for m in cell_re.finditer(data, start):
        cl, rn, attrs, rowattrs = m.group(1), m.group(2), m.group(4), m.group(12)
        if rowattrs is not None:
            ra = _ATTR_ROW_R.search(rowattrs)
            row = int(ra.group(1)) if ra else row + 1
            col = 0
            if row > r2:
                break
            continue
        if attrs is None:
            continue
        if cl is not None:
            col, row = col_index(cl.decode("ascii")), int(rn)
        else:
            am = _ATTR_R.search(attrs)
            if am is not None:
                col, row = col_index(am.group(1).decode("ascii").upper()), int(am.group(2))
            else:
                col += 1
        if row > r2:
            break
        if r1 <= row and c1 <= col <= c2:
            out[(row, col)] = (m.start(), m.end(), m)
    return out


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
        if not -1.7976931348623157e308 <= v <= 1.7976931348623157e308:
            return b"e", b"#NUM!"  # inf/nan never reach a file
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
        raise ValueError(t("不是 <c> 元素"))
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
