"""Write computed values back into the workbook, changing nothing else.

A rewritten sheet is streamed: the original bytes between changed cells and the new cell
bytes go through a buffer straight into the compressor, so no second full copy of a large
sheet is held in memory.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from . import sheetxml
from .evaluate import Evaluation, SheetState
from .package import DEFLATE_LEVEL, ZipWriter, rels_path
from .report import WorkbookReport
from .richvalues import RICH_CODES, plan_rich_errors, set_vm
from .sheetxml import MEMBER, SHARED, T_NAMES, T_OTHER, rewrite_cell, value_xml
from .xmltext import decode_text

__all__ = ["Output", "SheetPatch", "plan_output", "sheet_chunks", "write_output"]

_CALCPR_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?calcPr\b[^>]*>")
_FULLCALC_RE = re.compile(rb"""\s+fullCalcOnLoad\s*=\s*("[^"]*"|'[^']*')""")
_CHUNK = 256 << 10
_RICH_V = frozenset(c.encode("ascii") for c in RICH_CODES)
_BLANKS = b" \t\r\n"


@dataclass
class SheetPatch:
    state: SheetState
    rows: Sequence[int]   # FormulaTable rows to rewrite, in file order (an array: 4 bytes a row)
    drop: set[int] = field(default_factory=set)  # rows whose formula is removed
    #: vm of the rich value each of #CALC!/#SPILL! is written with (richvalues)
    vm: dict[bytes, int] = field(default_factory=dict)


@dataclass
class Output:
    """What changes in the output zip."""

    replace: dict[str, bytes] = field(default_factory=dict)     # small parts, new bytes
    add: dict[str, bytes] = field(default_factory=dict)         # new parts (rich values)
    sheets: dict[str, SheetPatch] = field(default_factory=dict)  # worksheet part → patch
    remove: set[str] = field(default_factory=set)
    changed_cells: int = 0

    @property
    def changes(self) -> bool:
        return bool(self.replace or self.sheets or self.remove or self.add)


def _same(new: Any, cached: Any, ctype: int) -> bool:
    t = type(new)
    if t is not type(cached):
        return False
    if t is float:
        return cached == new and ctype <= 1
    if t is str:
        return cached == new and ctype == 2
    if t is bool:
        return cached == new and ctype == 3
    if t is ExcelError:
        return cached.code == new.code and ctype == 4
    return False


def plan_output(ev: Evaluation, report: WorkbookReport,
                values_only: Callable[[str], bool] | None = None) -> Output:
    """Decide which cells and parts change."""
    out = Output()
    table = ev.table
    get = ev.ctx.values.get
    kept = ev.kept
    keys = table.keys
    cached = table.cached
    meta = table.meta
    missing_values = False
    rich: set[str] = set()  # #CALC!/#SPILL! among the values written (see _rich_errors)
    for st in ev.sheets:
        scan = st.scan
        drop: set[int] = set()
        if values_only is not None:
            drop = _values_only_rows(ev, st, values_only)
        rows = array("i")  # 500,000 rows as a list of ints would be 18 MB, as an array 2 MB
        add = rows.append
        for i in [*range(scan.lo, scan.hi), *scan.members] if scan.members else \
                range(scan.lo, scan.hi):
            key = keys[i]
            if drop and i in drop:
                add(i)
                new = cached[i] if key in kept else get(key)
                if type(new) is ExcelError and new.code in RICH_CODES:
                    rich.add(new.code)
                continue
            old = cached[i]
            if key in kept:
                if old is None and meta[3 * i] != MEMBER:
                    missing_values = True
                continue
            new = get(key)
            # no value stored: the new one is written; else only if it differs
            if old is None or not _same(0.0 if new is None else new, old, meta[3 * i + 1]):
                add(i)
                if type(new) is ExcelError and new.code in RICH_CODES:
                    rich.add(new.code)
        if scan.members:
            rows = array("i", sorted(rows, key=lambda i: table.start[i]))
        if rows:
            out.sheets[st.info.part] = SheetPatch(st, rows, drop)  # type: ignore[index]
            out.changed_cells += len(rows)
    pkg = ev.book.pkg
    # calcPr: stop Excel from recalculating everything on open (on a PC without the add-in
    # that turns every PERF_* cell into #NAME?) — unless some formula cell has no value at
    # all (a formula we could not compute, in a file saved without values): then Excel's
    # recalculation is the only way that cell gets one.
    if missing_values:
        if ev.book.full_calc_on_load:
            report.notes.append(tr("保留了 fullCalcOnLoad：有些公式无法计算、也没有保存的值，"
                                   "Excel 打开时会计算它们"))
    elif report.formulas or values_only is not None:
        wb = pkg.read(ev.book.workbook_part)
        fixed, notes = calc_properties(wb)
        if fixed is not None:
            out.replace[ev.book.workbook_part] = fixed
            report.notes.extend(notes)
    if any(p.drop for p in out.sheets.values()):
        _drop_calc_chain(ev, out, report)
    if rich:
        _rich_errors(ev, out, report, rich)
    return out


def _rich_errors(ev: Evaluation, out: Output, report: WorkbookReport, codes: set[str]
                 ) -> None:
    """#CALC!/#SPILL! among the values written (``codes``, gathered by :func:`plan_output`):
    the cell value cannot hold them, so they are written as Excel writes them, #VALUE! with
    ``vm`` → a rich value (richvalues)."""
    vms = plan_rich_errors(ev.book.value_metadata, codes, out.replace, out.add)
    by_code = {code.encode("ascii"): vm for code, vm in vms.items()}
    for patch in out.sheets.values():
        patch.vm = by_code
    for code in sorted(codes - vms.keys()):
        report.notes.append(tr("{code} 写成了 #VALUE!：工作簿的值元数据无法读取（{reason}）",
                               code=code, reason=ev.book.value_metadata.problem))


#: The calculation engine id Excel 2016, 2019, 2021 and Microsoft 365 write (``calcId``).
#: Excel recalculates every formula on open when a file's id is lower than its own — and a
#: file without one counts as 0 (MS-OI29500 2.1.565; MS-XLS 2.4.215 RecalcId) — so files
#: written by openpyxl (124519, Excel 2007) or older Excel get this id once their values
#: are stored.
EXCEL_CALC_ID = 191029
_CALCID_RE = re.compile(rb"""\bcalcId\s*=\s*("([^"]*)"|'([^']*)')""")
#: workbook children that come after calcPr (ECMA-376 CT_Workbook order)
_AFTER_CALCPR_RE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?(?:oleSize|customWorkbookViews|pivotCaches|smartTagPr|"
    rb"smartTagTypes|webPublishing|fileRecoveryPr|webPublishObjects|extLst)\b"
    rb"|</(?:[A-Za-z_][\w.-]*:)?workbook>")


def calc_properties(wb: bytes) -> tuple[bytes | None, list[str]]:
    """``workbook.xml`` with calcPr saying the stored values are current: no
    ``fullCalcOnLoad``, ``calcId`` at least :data:`EXCEL_CALC_ID`; None if already so."""
    notes = []
    m = _CALCPR_RE.search(wb)
    if m is None:
        end = _AFTER_CALCPR_RE.search(wb)
        if end is None:
            return None, []
        prefix = _element_prefix(wb)
        tag = b"<%scalcPr calcId=\"%d\"/>" % (prefix, EXCEL_CALC_ID)
        notes.append(tr("添加了 calcPr calcId={id}（没有它，Excel 打开时会全部重算）",
                        id=EXCEL_CALC_ID))
        return wb[:end.start()] + tag + wb[end.start():], notes
    tag = m.group(0)
    if _FULLCALC_RE.search(tag):
        tag = _FULLCALC_RE.sub(b"", tag)
        notes.append(tr("从 calcPr 中去掉了 fullCalcOnLoad（值已保存）"))
    cid = _CALCID_RE.search(tag)
    current = (cid.group(2) or cid.group(3) or b"").strip() if cid else b""
    old = int(current) if current.isdigit() else 0
    if old < EXCEL_CALC_ID:
        new_attr = b'calcId="%d"' % EXCEL_CALC_ID
        if cid:
            tag = tag[:cid.start()] + new_attr + tag[cid.end():]
        else:
            close = tag.rfind(b"/>") if tag.endswith(b"/>") else len(tag) - 1
            tag = tag[:close].rstrip() + b" " + new_attr + tag[close:]
        notes.append(tr("calcId {old} → {id}（旧的计算引擎编号会让 Excel 打开时全部重算）",
                        old=old or tr("无"), id=EXCEL_CALC_ID))
    if not notes:
        return None, []
    return wb[:m.start()] + tag + wb[m.end():], notes


def _element_prefix(wb: bytes) -> bytes:
    """``x:`` when the workbook element is written with a namespace prefix, else empty."""
    m = re.search(rb"<([A-Za-z_][\w.-]*:)?workbook\b", wb)
    return m.group(1) or b"" if m else b""


def _values_only_rows(ev: Evaluation, st: SheetState, pred: Callable[[str], bool]) -> set[int]:
    """Rows whose formula the values-only export removes (shared groups as a whole, decided
    on the group's first formula)."""
    table = ev.table
    data = st.data
    drop: set[int] = set()
    group: dict[int, bool] = {}
    scan = st.scan
    for i in range(scan.lo, scan.hi):
        text = table.text(i, data)
        if table.kind(i) == SHARED and table.si[i] >= 0:
            si = table.si[i]
            if text and si not in group:
                group[si] = bool(pred(decode_text(text)))
        elif text and pred(decode_text(text)):
            drop.add(i)
    if group:
        for i in range(scan.lo, scan.hi):
            if table.kind(i) == SHARED and group.get(table.si[i]):
                drop.add(i)
    return drop


def _drop_calc_chain(ev: Evaluation, out: Output, report: WorkbookReport) -> None:
    """calcChain lists formula cells; once formulas are removed it must go (Excel rebuilds it)."""
    pkg = ev.book.pkg
    chain = None
    rid = None
    for r, (typ, target) in ev.book.rels.items():
        if typ == "calcChain":
            chain, rid = target, r
    if chain is None or not pkg.has(chain):
        return
    out.remove.add(chain)
    rp = rels_path(ev.book.workbook_part)
    if pkg.has(rp) and rid is not None:
        data = pkg.read(rp)
        pat = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\b[^>]*\bId\s*=\s*[\"']"
                         + re.escape(rid.encode()) + rb"[\"'][^>]*?(?:/>|>.*?</(?:[A-Za-z_]"
                         rb"[\w.-]*:)?Relationship>)", re.DOTALL)
        out.replace[rp] = pat.sub(b"", data, count=1)
    ct = "[Content_Types].xml"
    if pkg.has(ct):
        data = pkg.read(ct)
        pat = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Override\b[^>]*\bPartName\s*=\s*[\"']/"
                         + re.escape(chain.encode()) + rb"[\"'][^>]*?(?:/>|>\s*</(?:[A-Za-z_]"
                         rb"[\w.-]*:)?Override>)", re.DOTALL)
        out.replace[ct] = pat.sub(b"", data, count=1)
    report.notes.append(tr("删除了 calcChain.xml（公式已替换为值）"))


def sheet_chunks(ev: Evaluation, patch: SheetPatch) -> Iterator[bytes]:
    """The patched sheet XML, in pieces of about 256 KiB."""
    table = ev.table
    get = ev.ctx.values.get
    kept = ev.kept
    st = patch.state
    data = st.data
    prefix = st.scan.prefix
    v_open = b"<" + prefix + b"v>"
    v_close = b"</" + prefix + b"v>"
    out: list[bytes] = []   # pieces of the current chunk
    add = out.append
    pos = chunk_from = 0
    drop = patch.drop
    keys, starts, sizes, spans = table.keys, table.start, table.size, table.spans
    cached, meta = table.cached, table.meta
    # a column of results repeats its values (grades, ranks, rounded scores): each distinct
    # number or text is turned into XML once
    numbers: dict[float, tuple[bytes | None, bytes]] = {}
    texts: dict[str, tuple[bytes | None, bytes]] = {}
    vm_rows, rich = table.vm_rows, patch.vm
    rows = patch.rows
    n = len(rows)
    k = 0
    # the usual cells spliced by the compiled loop (sheetxml._speedups), which stops at the
    # first row it leaves to the loop below; that row done, it goes on
    splice = sheetxml._speedups.splice if (sheetxml._COMPILED and not prefix and not drop
                                           and not vm_rows) else None
    values = ev.ctx.values
    while k < n:
        if splice is not None:
            piece, k, pos = splice(data, rows, k, pos, chunk_from + _CHUNK, keys, starts,
                                   spans, meta, values, kept, numbers, texts, value_xml)
            add(piece)
            if pos - chunk_from >= _CHUNK:
                yield b"".join(out)
                out.clear()
                chunk_from = pos
                continue
            if k >= n:
                break
        i = rows[k]
        k += 1
        key = keys[i]
        dropping = i in drop if drop else False
        start = starts[i]
        if key in kept:
            new = cached[i]
        else:
            new = get(key)
            if new is None:
                new = 0.0
        if new is None:  # dropping a formula that never had a value: leave an empty cell
            t, v = None, None
        elif type(new) is float:
            tv = numbers.get(new)
            if tv is None:
                tv = numbers[new] = value_xml(new)
            t, v = tv
        elif type(new) is str:
            tv = texts.get(new)
            if tv is None:
                tv = value_xml(new)
                if len(texts) < 4096:  # a column of distinct texts is not kept twice
                    texts[new] = tv
            t, v = tv
        else:
            t, v = value_xml(new)
        fix_vm = False
        if t == b"e" and v in _RICH_V:  # #CALC!, #SPILL!: #VALUE! with vm, as Excel writes
            fix_vm, vm, v = True, rich.get(v), b"#VALUE!"
        elif vm_rows and i in vm_rows:  # a rich value no more: the vm goes
            fix_vm, vm = True, None
        j = 7 * i
        to = spans[j + 2]
        old_code = meta[3 * i + 1]
        if not fix_vm and not dropping and to >= 0 and old_code != T_OTHER:
            # the usual layout: splice the t attribute's value and the <v> text in place
            old_t = T_NAMES[old_code] if old_code != 1 else None
            if t != old_t:
                tl = spans[j + 3]
                if tl:  # an existing t="…"
                    if t is None:  # drop the attribute with the blanks before it
                        a = start + to - 3
                        while data[a - 1] in _BLANKS:
                            a -= 1
                        add(data[pos:a])
                        pos = start + to + tl + 1
                    else:
                        add(data[pos:start + to])
                        add(t)
                        pos = start + to + tl
                else:
                    add(data[pos:start + to])
                    add(b' t="' + t + b'"')  # type: ignore[operator]
                    pos = start + to
            vo = start + spans[j + 4]
            add(data[pos:vo])
            if spans[j + 6] == 0:
                add(v)  # type: ignore[arg-type]
            else:
                add(v_open + v + v_close)  # type: ignore[operator]
            pos = vo + spans[j + 5]
        else:
            end = start + sizes[i]
            add(data[pos:start])
            cell = rewrite_cell(data[start:end], t, v, drop_formula=dropping,
                                inline_string=dropping)
            add(set_vm(cell, vm) if fix_vm else cell)
            pos = end
        if pos - chunk_from >= _CHUNK:  # about 256 KiB of the sheet
            yield b"".join(out)
            out.clear()
            chunk_from = pos
    add(data[pos:])
    yield b"".join(out)


def write_output(ev: Evaluation, out: Output, fh: BinaryIO, level: int = DEFLATE_LEVEL) -> None:
    """Write the whole package to ``fh``: changed parts recompressed, the rest copied raw."""
    pkg = ev.book.pkg
    zw = ZipWriter(fh, pkg.zf.comment or b"")
    for info in pkg.infos:
        name = info.filename
        if name in out.remove:
            continue
        patch = out.sheets.get(name)
        if patch is not None:
            zw.add_chunks(info, sheet_chunks(ev, patch), level)
            continue
        new = out.replace.get(name)
        if new is not None:
            zw.add_data(info, new, level)
        else:
            zw.add_raw(info, pkg.raw(info))
    for name, data in out.add.items():  # new parts go last (Excel's order does not matter)
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 0
        zw.add_data(info, data, level)
    zw.close()
