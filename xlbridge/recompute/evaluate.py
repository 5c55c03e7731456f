"""Evaluate every formula of a workbook in dependency order.

There is no explicit dependency graph. Formula cells are evaluated in sheet order; a formula
that reads a formula cell not evaluated yet raises :class:`~.core.NeedCells` (the check is one
identity test per read), and the scheduler evaluates those cells first — with an explicit
stack, so a chain of 50,000 cells needs no recursion — then retries. A cell that needs a
cell already waiting below it on the stack closes a circle: every cell of that circle keeps
the value stored in the file, and the circle is reported.

For a typical template (formulas read their own row and earlier columns, or whole input
columns) nothing is ever retried; a ranking column is retried once, after the column it
ranks is complete.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xlbridge.i18n import t as tr

from .book import Book, SheetInfo
from .compiler import Compiler, NameTable
from .core import (
    COL_MASK,
    PENDING,
    ROW_MASK,
    ROW_SHIFT,
    SHEET_SHIFT,
    Context,
    NeedCells,
    Unsupported,
    split_key,
)
from .formula import (
    FormulaSyntaxError,
    KeyTemplates,
    UnsupportedSyntax,
    col_letters,
    parse_key,
    relative_key,
    render_key,
)
from .functions import FunctionSpec, external_spec
from .report import CellIssue, WorkbookReport, unsupported_function
from .sheetxml import (
    _ATTR_T,
    ARRAY,
    MEMBER,
    NORMAL,
    SHARED,
    T_CODES,
    T_OTHER,
    FormulaTable,
    SheetScan,
    find_cells,
    parse_ref_range,
    scan_sheet,
)
from .tables import rewrite_structured
from .values import NA
from .xmltext import decode_text

__all__ = ["Evaluation", "evaluate_book"]

Fn = Callable[[int], Any]


@dataclass
class SheetState:
    info: SheetInfo
    data: bytes
    scan: SheetScan


@dataclass
class Evaluation:
    book: Book
    sheets: list[SheetState]
    ctx: Context
    table: FormulaTable
    kept: set[int] = field(default_factory=set)  # formula cells keeping their stored value


def _addr(ctx: Context, key: int) -> tuple[str, str]:
    s, r, c = split_key(key)
    return ctx.sheet_names[s], f"{col_letters(c)}{r}"


class _Run:
    """The evaluation state shared by the scheduler helpers."""

    def __init__(self, ctx: Context, table: FormulaTable, report: WorkbookReport):
        self.ctx = ctx
        self.table = table
        self.report = report
        self.fn_of: dict[int, Fn] = {}       # evaluable formula cells
        self.order: list[int] = []           # their keys, in sheet order
        self.member_of: dict[int, int] = {}  # array-formula member → anchor
        self.kept: set[int] = set()
        self._row_of: dict[int, int] | None = None
        self._members_of: dict[int, list[int]] | None = None

    def cached(self, key: int) -> Any:
        if self._row_of is None:
            self._row_of = {k: i for i, k in enumerate(self.table.keys)}
        i = self._row_of.get(key)
        return self.table.cached[i] if i is not None else None

    def assign(self, key: int, cached: Any, fn: Fn | None, problems: list[str]) -> None:
        if fn is None:
            self.kept.add(key)
            self.ctx.values[key] = cached
            s, c = _addr(self.ctx, key)
            for p in problems:
                kind = "array" if p.startswith("array") else "unsupported"
                self.report.unsupported.append(CellIssue(s, c, kind, p))
            return
        self.ctx.values[key] = PENDING
        self.fn_of[key] = fn
        self.order.append(key)

    def keep(self, key: int, msg: str, kind: str = "unsupported") -> None:
        """The formula cannot be computed: the cell (and its array range) keep stored values."""
        self._restore(key)
        s, c = _addr(self.ctx, key)
        self.report.unsupported.append(CellIssue(s, c, kind, msg))

    def _restore(self, key: int) -> None:
        """A formula cell that is not computed gets its stored value back — an array
        formula's whole range with it, so that no member is left waiting."""
        values = self.ctx.values
        values[key] = self.cached(key)
        self.kept.add(key)
        members = self._members_of.get(key) if self._members_of is not None else None
        if members is None and self.member_of:
            self._members_of = {}
            for m, anchor in self.member_of.items():
                self._members_of.setdefault(anchor, []).append(m)
            members = self._members_of.get(key)
        for m in members or ():
            if values.get(m) is PENDING:
                values[m] = self.cached(m)
                self.kept.add(m)

    # ------------------------------------------------------------------ scheduling

    def run(self) -> None:
        ctx = self.ctx
        values = ctx.values
        get = values.get
        fn_of = self.fn_of
        for key in self.order:
            if get(key) is not PENDING:
                continue
            ctx.caller = key
            try:
                v = fn_of[key](key)
            except NeedCells as need:
                self.resolve(key, need)
                continue
            except Unsupported as exc:
                self.keep(key, str(exc))
                continue
            except RecursionError:
                self.keep(key, tr("公式嵌套层数太多"))
                continue
            except Exception as exc:  # a bug: keep the stored value, say so
                self.keep(key, tr("内部错误：{kind}: {error}", kind=type(exc).__name__, error=exc),
                          "internal-error")
                continue
            values[key] = 0.0 if v is None else v

    def resolve(self, first: int, need: NeedCells) -> None:
        ctx = self.ctx
        values = ctx.values
        get = values.get
        fn_of = self.fn_of
        member_of = self.member_of
        stack = [first]
        blocked = {first}

        def push(keys: tuple[int, ...] | list[int]) -> None:
            for d in keys:
                d = member_of.get(d, d)
                if d in blocked:
                    self.circle(stack, d, blocked)
                elif d in fn_of:
                    stack.append(d)
                else:  # pragma: no cover - a pending cell nobody computes
                    values[d] = None

        push(need.keys)
        # a safety net: every cell is evaluated a bounded number of times; a stack that
        # keeps growing back means an ordering this scheduler cannot find (it is reported)
        budget = 64 * (len(fn_of) + 16)
        while stack:
            budget -= 1
            if budget < 0:
                self.circle(stack, stack[0], set(stack) | blocked)
                return
            k = stack[-1]
            if get(k) is not PENDING:
                stack.pop()
                blocked.discard(k)
                continue
            ctx.caller = k
            try:
                v = fn_of[k](k)
            except NeedCells as n:
                blocked.add(k)
                push(n.keys)
                continue
            except Unsupported as exc:
                self.keep(k, str(exc))
            except RecursionError:
                self.keep(k, tr("公式嵌套层数太多"))
            except Exception as exc:
                self.keep(k, tr("内部错误：{kind}: {error}", kind=type(exc).__name__, error=exc),
                          "internal-error")
            else:
                values[k] = 0.0 if v is None else v
            stack.pop()
            blocked.discard(k)

    def circle(self, stack: list[int], d: int, blocked: set[int]) -> None:
        pos = len(stack) - 1
        while pos >= 0 and stack[pos] != d:
            pos -= 1
        members = list(dict.fromkeys(k for k in stack[max(pos, 0):] if k in blocked))
        names = [f"{s}!{c}" for s, c in (_addr(self.ctx, k) for k in members)]
        path = " → ".join([*names, names[0]]) if names else "?"
        for k in members:
            self._restore(k)
            blocked.discard(k)
            s, c = _addr(self.ctx, k)
            self.report.circular.append(
                CellIssue(s, c, "circular",
                          tr("循环引用（{path}），保留文件中原有的值", path=path)))


def evaluate_book(book: Book, report: WorkbookReport,
                  functions: Mapping[str, Callable[..., Any] | FunctionSpec] | None = None,
                  clock: datetime | None = None) -> Evaluation:
    t0 = time.perf_counter()
    values: dict[int, Any] = {}
    states: list[SheetState] = []
    table = FormulaTable()
    max_row = max_col = 0
    path = book.path
    for info in book.sheets:
        if info.part is None:
            continue
        data = book.pkg.read(info.part)
        scan = scan_sheet(data, info.index, values, book.shared_strings, table, path, info.part,
                          info.name, book.value_metadata.error)
        states.append(SheetState(info, data, scan))
        max_row = max(max_row, scan.max_row)
        max_col = max(max_col, scan.max_col)
    t1 = time.perf_counter()
    report.timings["read"] = t1 - t0
    if book.value_metadata.problem:
        report.notes.append(tr("无法读取工作簿的值元数据（{reason}）：#CALC!、#SPILL! 等错误"
                               "按单元格里写的 #VALUE! 读取", reason=book.value_metadata.problem))

    ctx = Context(values, [s.name for s in book.sheets], max_row, max_col, now=clock,
                  date1904=book.date1904)
    names = NameTable(book.names)
    extra: dict[str, FunctionSpec] | None = None
    if functions:
        extra = {}
        for name, fn in functions.items():
            extra[name.upper()] = fn if isinstance(fn, FunctionSpec) else external_spec(name, fn)
    run = _Run(ctx, table, report)
    tables = book.tables
    ctx.formula_text = lambda key: _formula_text(run, states, key)
    ctx.hidden_rows = {st.info.index: st.scan.hidden_rows for st in states if st.scan.hidden_rows}
    ctx.filtered_rows = _filtered_rows(states, tables)
    cache: dict[tuple[int, Any, bool], tuple[Fn | None, list[str]]] = {}
    templates = KeyTemplates()

    def entry(comp: Compiler, sheet: int, text: bytes, row: int, col: int,
              array: bool, exact: bool = False) -> tuple[Fn | None, list[str]]:
        # shared-formula masters are keyed on the decoded text: their key is applied to
        # other cells, so every reference must be recognised; other formulas need not be
        if tables and b"[" in text:
            a1 = rewrite_structured(decode_text(text), row, tables, sheet, ctx.sheet_names)
            if a1 is None:
                return None, ["unsupported formula syntax: a structured reference to a table "
                              "or column this workbook does not have"]
            key = relative_key(a1, row, col)
        else:
            key = relative_key(decode_text(text), row, col) if exact else templates.key(
                text, row, col)
        ck = (sheet, key, array)
        got = cache.get(ck)
        if got is not None:
            return got
        try:
            tree = parse_key(key)
            fn = comp.compile_root(tree, array)
            problems = [unsupported_function(n) for n in dict.fromkeys(comp.unknown)]
            problems += comp.unsupported
        except UnsupportedSyntax as exc:
            fn, problems = None, [tr("不支持的公式写法：{what}",
                                     what=exc)]
        except (FormulaSyntaxError, ValueError) as exc:
            fn, problems = None, [tr("无法读取公式：{reason}", reason=exc)]
        except RecursionError:
            fn, problems = None, [tr("公式嵌套层数太多")]
        got = (None if problems else fn, problems)
        cache[ck] = got
        return got

    keys = table.keys
    meta = table.meta
    cached = table.cached
    starts = table.start
    fn_of = run.fn_of
    order_append = run.order.append
    for st in states:
        sheet = st.info.index
        data = st.data
        comp = Compiler(ctx, sheet, names, extra)
        masters: dict[int, tuple[Fn | None, list[str]]] = {}
        deferred: list[int] = []
        # column → (template, closure) of the last formula compiled there
        col_memo: dict[int, tuple[Any, Fn]] = {}
        spans = table.spans  # after the scan: its typecode is final
        for i in range(st.scan.lo, st.scan.hi):
            key = keys[i]
            kind = meta[3 * i]
            row = (key >> ROW_SHIFT) & ROW_MASK
            col = key & COL_MASK
            fn: Fn | None
            if kind == NORMAL:
                off = spans[7 * i]  # table.text(i, data), inline: once per formula cell
                if off >= 0:
                    off += starts[i]
                    text = data[off:off + spans[7 * i + 1]]
                else:
                    text = b""
                memo = col_memo.get(col)
                if memo is not None and memo[0].fits(text, row):
                    fn = memo[1]  # the formula above, filled down: same key, same closure
                else:
                    templates.used = None
                    fn, problems = entry(comp, sheet, text, row, col, False)
                    if fn is not None and templates.used is not None:
                        col_memo[col] = (templates.used, fn)
                    else:
                        col_memo.pop(col, None)
                if fn is not None:  # the usual cell: what run.assign does, inline
                    values[key] = PENDING
                    fn_of[key] = fn
                    order_append(key)
                    continue
            elif kind == SHARED:
                text = table.text(i, data)
                si = table.si[i]
                if text:
                    fn, problems = entry(comp, sheet, text, row, col, False, True)
                    if si >= 0:
                        masters[si] = (fn, problems)
                else:
                    got = masters.get(si) if si >= 0 else None
                    if got is None:
                        deferred.append(i)
                        continue
                    fn, problems = got
            elif kind == ARRAY:
                rng = parse_ref_range(table.refs.get(i) or "")
                if rng is not None:
                    ctx.spills[key] = rng
                fn, problems = entry(comp, sheet, table.text(i, data) or b"", row, col, True)
                if fn is not None:
                    fn, problems = _array_root(run, st, i, fn)
            else:
                fn, problems = None, [tr("模拟运算表（假设分析）公式不重算")]
            run.assign(key, cached[i], fn, problems)
        for i in deferred:
            si = table.si[i]
            got = masters.get(si) if si >= 0 else None
            if got is None:
                run.assign(keys[i], cached[i], None, ["shared formula without its master cell"])
            else:
                run.assign(keys[i], cached[i], *got)
    t2 = time.perf_counter()
    report.timings["compile"] = t2 - t1
    n_formulas = sum(st.scan.hi - st.scan.lo for st in states)
    report.formulas = n_formulas

    run.run()
    # the closure holds the whole scheduler (a closure per formula cell): let it go before
    # the file is written, which is where the memory peak is
    ctx.formula_text = _no_formula_text
    t3 = time.perf_counter()
    report.timings["evaluate"] = t3 - t2
    kept = run.kept
    report.kept_cached = sum(1 for k in kept if k not in run.member_of)
    report.recomputed = n_formulas - report.kept_cached
    for key, _name, msg in ctx.function_errors:
        s, c = _addr(ctx, key)
        report.function_errors.append(CellIssue(s, c, "function-error", msg))
    return Evaluation(book, states, ctx, table, kept)


def _array_root(run: _Run, st: SheetState, i: int, fn: Fn) -> tuple[Fn | None, list[str]]:
    """Wrap an array formula so that evaluating its anchor fills its whole range."""
    table = run.table
    ctx = run.ctx
    anchor = table.keys[i]
    _s, arow, acol = split_key(anchor)
    ref = table.refs.get(i)
    rng = parse_ref_range(ref) if ref else (arow, acol, arow, acol)
    if rng is None or (rng[0], rng[1]) != (arow, acol):
        return None, ["array formula with an unusual range is not recomputed"]
    r1, c1, r2, c2 = rng
    if (r2 - r1 + 1) * (c2 - c1 + 1) > 100000:
        return None, ["array formula range too large"]
    sb = st.info.index << SHEET_SHIFT
    cells = []
    found_rows = []
    spans = find_cells(st.data, st.scan.prefix, r1, c1, r2, c2)
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            key = sb | (r << ROW_SHIFT) | c
            if key == anchor:
                cells.append((0, 0, key))
                continue
            found = spans.get((r, c))
            if found is None:
                return None, ["array formula range has cells missing in the file; not "
                              "recomputed"]
            s, e, m = found
            head = m.group(0)[:m.group(0).find(b">")]
            tm = _ATTR_T.search(head)
            t = tm.group(1) if tm else None
            found_rows.append((key, s, e, T_CODES.get(t, T_OTHER), b"vm" in head))
            cells.append((r - r1, c - c1, key))
    values = ctx.values
    for key, s, e, tcode, vm in found_rows:
        j = table.add(key, s, e - s, MEMBER, -1, values.get(key), tcode,
                      (-1, 0, -1, 0, -1, 0, 0))
        if vm:  # a rich value (richvalues): the writer drops or sets it
            table.vm_rows.add(j)
        st.scan.members.append(j)
        run.member_of[key] = anchor
        values[key] = PENDING
    h, w = r2 - r1 + 1, c2 - c1 + 1
    dynamic = i in table.dynamic

    def array_root(base: int) -> Any:
        v = fn(base)
        grid = v if type(v) is list else [[v]]
        gh, gw = len(grid), len(grid[0]) if grid else 0
        if dynamic and (gh, gw) != (h, w) and not (gh == 1 and gw == 1 and h == w == 1):
            raise Unsupported(tr("动态数组的结果为 {rows}×{columns}，文件中的溢出区域为 "
                                 "{file_rows}×{file_columns}；保留原有的值", rows=gh, columns=gw,
                                 file_rows=h, file_columns=w))
        out = None
        for ii, jj, key in cells:
            a = 0 if gh == 1 else ii
            b = 0 if gw == 1 else jj
            x = grid[a][b] if a < gh and b < gw else NA
            if x is None:
                x = 0.0
            if key == base:
                out = x
            else:
                values[key] = x
        return out

    return array_root, []


def _no_formula_text(key: int) -> str | None:
    return None


def _formula_text(run: _Run, states: list[SheetState], key: int) -> str | None:
    """The formula of a formula cell as Excel shows it (without ``=``), for FORMULATEXT and
    ISFORMULA; None for other cells. Shared-formula members get their master's formula
    moved to their own position. Found on demand: only those functions need it."""
    table = run.table
    if run._row_of is None:
        run._row_of = {k: i for i, k in enumerate(table.keys)}
    i = run._row_of.get(key)
    sheet, row, col = split_key(key)
    if i is None:
        anchor = run.member_of.get(key)
        return None if anchor is None else _formula_text(run, states, anchor)
    st = next((s for s in states if s.info.index == sheet), None)
    if st is None:
        return None
    raw = table.text(i, st.data)
    if raw:
        return decode_text(raw)
    si = table.si[i]
    if table.kind(i) != SHARED or si < 0:
        return None
    for j in range(st.scan.lo, st.scan.hi):
        if table.si[j] == si and table.kind(j) == SHARED:
            text = table.text(j, st.data)
            if text:
                _s, mr, mc = split_key(table.keys[j])
                return render_key(relative_key(decode_text(text), mr, mc), row, col)
    return None


def _filtered_rows(states: list[Any], tables: dict[str, Any]) -> dict[int, set[int]]:
    """Hidden rows that a filter hid (in a filtering autoFilter's or table's data rows):
    SUBTOTAL 1–11 leaves those out too, and keeps rows hidden by hand."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for st in states:
        if st.scan.filter_rows is not None:
            spans.setdefault(st.info.index, []).append(st.scan.filter_rows)
    for t in tables.values():
        if t.filtered:
            spans.setdefault(t.sheet, []).append((t.r1 + t.header_rows, t.r2 - t.totals_rows))
    out: dict[int, set[int]] = {}
    for st in states:
        ranges = spans.get(st.info.index)
        if ranges and st.scan.hidden_rows:
            rows = {r for r in st.scan.hidden_rows if any(a <= r <= b for a, b in ranges)}
            if rows:
                out[st.info.index] = rows
    return out
