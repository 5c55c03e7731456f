"""Write computed values back into the workbook, changing nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, BinaryIO

from xlbridge.xlvalues import ExcelError

from .evaluate import Evaluation
from .formula import relative_key, render_key
from .package import ZipWriter
from .report import WorkbookReport
from .sheetxml import rewrite_cell, splice, value_xml
from .xmltext import decode_text

__all__ = ["Output", "plan_output", "write_output"]

_CALCPR_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?calcPr\b[^>]*>")
_FULLCALC_RE = re.compile(rb"""\s+fullCalcOnLoad\s*=\s*("[^"]*"|'[^']*')""")


class Output:
    """Member name → new bytes, and members to drop, for the output zip."""

    def __init__(self) -> None:
        self.replace: dict[str, bytes] = {}
        self.remove: set[str] = set()
        self.changed_cells = 0


def _same(new: Any, cached: Any, cached_t: str | None) -> bool:
    t = type(new)
    if t is not type(cached):
        return False
    if t is float:
        return cached == new and cached_t in (None, "n")
    if t is str:
        return cached == new and cached_t == "str"
    if t is bool:
        return cached == new and cached_t == "b"
    if t is ExcelError:
        return cached.code == new.code and cached_t == "e"
    return False


def plan_output(ev: Evaluation, report: WorkbookReport,
                values_only: Callable[[str], bool] | None = None) -> Output:
    """Compute the new bytes of every part that changes (sheets, and workbook-level parts)."""
    out = Output()
    values = ev.ctx.values
    kept = ev.kept
    missing_values = False
    removed_any_formula = False
    for st in ev.sheets:
        edits: list[tuple[int, int, bytes]] = []
        ncells = 0
        data = st.data
        # values-only: decide per cell (per shared group, on the master's formula)
        drop: set[int] = set()
        if values_only is not None:
            masters: dict[int, tuple[str, int, int]] = {}
            group_drop: dict[int, bool] = {}
            for fc in st.scan.formulas:
                if fc.kind == "shared" and fc.text is not None and fc.si is not None:
                    masters[fc.si] = (decode_text(fc.text), fc.row, fc.col)
            for fc in st.scan.formulas:
                if fc.kind == "member":
                    continue
                if fc.kind == "shared" and fc.si is not None and fc.si in masters:
                    if fc.si not in group_drop:
                        group_drop[fc.si] = bool(values_only(masters[fc.si][0]))
                    if group_drop[fc.si]:
                        drop.add(fc.key)
                elif fc.text is not None and values_only(decode_text(fc.text)):
                    drop.add(fc.key)
            # array members of a dropped array formula are plain values already
        for fc in st.scan.formulas:
            key = fc.key
            dropping = key in drop
            if key in kept and not dropping:
                if fc.cached is None and fc.kind != "member":
                    missing_values = True
                continue
            new = values.get(key) if key not in kept else fc.cached
            if new is None and key in kept:
                # dropping a formula that never had a value: leave an empty cell
                t, v = None, None
            else:
                if new is None:
                    new = 0.0
                if not dropping and _same(new, fc.cached, fc.cached_t):
                    continue
                t, v = value_xml(new)
            if not dropping and fc.t_start >= 0:
                # splice the value (and the t attribute) in place
                old_t = fc.cached_t.encode("ascii") if fc.cached_t not in (None, "n") else None
                if t != old_t:
                    if fc.t_end > fc.t_start:  # an existing t="…": replace its value
                        if t is None:
                            # drop ' t="x"': find the attribute's start
                            a = data.rfind(b"t", fc.start, fc.t_start - 1)
                            while a > fc.start and data[a - 1:a] in (b" ", b"\t", b"\n", b"\r"):
                                a -= 1
                            edits.append((a, fc.t_end + 1, b""))
                        else:
                            edits.append((fc.t_start, fc.t_end, t))
                    elif t is not None:
                        edits.append((fc.t_start, fc.t_start, b' t="' + t + b'"'))
                if fc.v_mode == 0:
                    edits.append((fc.v_start, fc.v_end, v))
                else:
                    edits.append((fc.v_start, fc.v_end, b"<" + st.scan.prefix + b"v>" + v
                                  + b"</" + st.scan.prefix + b"v>"))
                ncells += 1
                continue
            cell = data[fc.start:fc.end]
            try:
                new_cell = rewrite_cell(cell, t, v, drop_formula=dropping,
                                        inline_string=dropping)
            except ValueError:  # pragma: no cover - the scanner matched a <c> element
                continue
            edits.append((fc.start, fc.end, new_cell))
            ncells += 1
            if dropping:
                removed_any_formula = True
        if edits:
            out.replace[st.info.part] = splice(data, edits)  # type: ignore[index]
            out.changed_cells += ncells
    pkg = ev.book.pkg
    # calcPr: stop Excel from recalculating everything on open — unless some formula
    # cell has no value at all (a formula we could not compute in a file saved without
    # values): then Excel's recalculation is the only way that cell gets one.
    if ev.book.full_calc_on_load:
        if missing_values:
            report.notes.append("kept fullCalcOnLoad: some formulas could not be computed and "
                                "have no stored value, Excel will compute them on open")
        elif out.replace or values_only is not None:
            wb = pkg.read(ev.book.workbook_part)
            m = _CALCPR_RE.search(wb)
            if m is not None:
                tag = _FULLCALC_RE.sub(b"", m.group(0))
                out.replace[ev.book.workbook_part] = wb[:m.start()] + tag + wb[m.end():]
                report.notes.append("removed fullCalcOnLoad from calcPr (values are stored)")
    if removed_any_formula:
        _drop_calc_chain(ev, out, report)
    return out


def _drop_calc_chain(ev: Evaluation, out: Output, report: WorkbookReport) -> None:
    """calcChain lists formula cells; once formulas are removed it must go (Excel rebuilds it)."""
    pkg = ev.book.pkg
    chain = None
    rid = None
    for r, (typ, target) in ev.book.rels.items():
        if typ == "calcChain":
            chain, rid = target, r
    if chain is None:
        return
    out.remove.add(chain)
    from .package import rels_path

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
    report.notes.append("removed calcChain.xml (formulas were replaced by values)")


def write_output(ev: Evaluation, out: Output, fh: BinaryIO, level: int = 6) -> None:
    """Write the whole package to ``fh``: changed parts recompressed, the rest copied raw."""
    pkg = ev.book.pkg
    zw = ZipWriter(fh, pkg.zf.comment or b"")
    for info in pkg.infos:
        name = info.filename
        if name in out.remove:
            continue
        new = out.replace.get(name)
        if new is not None:
            zw.add_data(info, new, level)
        else:
            zw.add_raw(info, pkg.raw(info))
    zw.close()


def formula_text(fc_text: str, master: tuple[str, int, int], row: int, col: int) -> str:
    """The formula of a shared-formula child cell, in A1 form (for reports and predicates)."""
    text, mr, mc = master
    return render_key(relative_key(text, mr, mc), row, col)

