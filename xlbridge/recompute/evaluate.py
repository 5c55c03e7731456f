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
from dataclasses import dataclass
from typing import Any

from .book import Book, SheetInfo
from .compiler import Compiler, NameTable
from .core import (
    PENDING,
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
)
from .functions import FunctionSpec, external_spec
from .report import CellIssue, WorkbookReport
from .sheetxml import (
    _ATTR_T,
    FormulaCell,
    SheetScan,
    find_cell,
    parse_ref_range,
    scan_sheet,
)
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
    kept: set[int]          # formula cells that keep their cached value


def _addr(ctx: Context, key: int) -> tuple[str, str]:
    s, r, c = split_key(key)
    return ctx.sheet_names[s], f"{col_letters(c)}{r}"


def evaluate_book(book: Book, report: WorkbookReport,
                  functions: Mapping[str, Callable[..., Any] | FunctionSpec] | None = None
                  ) -> Evaluation:
    t0 = time.perf_counter()
    values: dict[int, Any] = {}
    states: list[SheetState] = []
    max_row = max_col = 0
    path = book.path
    for info in book.sheets:
        if info.part is None:
            continue
        data = book.pkg.read(info.part)
        scan = scan_sheet(data, info.index, values, book.shared_strings, path, info.part)
        states.append(SheetState(info, data, scan))
        max_row = max(max_row, scan.max_row)
        max_col = max(max_col, scan.max_col)
    t1 = time.perf_counter()
    report.timings["read"] = t1 - t0

    ctx = Context(values, [s.name for s in book.sheets], max_row, max_col)
    names = NameTable(book.names)
    extra: dict[str, FunctionSpec] | None = None
    if functions:
        extra = {}
        for name, fn in functions.items():
            extra[name.upper()] = fn if isinstance(fn, FunctionSpec) else external_spec(name, fn)

    kept: set[int] = set()
    order: list[tuple[int, Fn]] = []
    member_of: dict[int, int] = {}
    cache: dict[tuple[int, str, bool], tuple[Fn | None, list[str]]] = {}
    n_formulas = 0
    templates = KeyTemplates()

    def entry(comp: Compiler, sheet: int, text: bytes, row: int, col: int,
              array: bool, exact: bool = False) -> tuple[Fn | None, list[str]]:
        # shared-formula masters are keyed on the decoded text: their key is applied to
        # other cells, so every reference must be recognised; other formulas need not be
        key = relative_key(decode_text(text), row, col) if exact else templates.key(
            text, row, col)
        ck = (sheet, key, array)
        got = cache.get(ck)
        if got is not None:
            return got
        try:
            tree = parse_key(key)
            fn = comp.compile_root(tree, array)
            problems = [f"unsupported function {n}" for n in dict.fromkeys(comp.unknown)]
            problems += comp.unsupported
        except UnsupportedSyntax as exc:
            fn, problems = None, [f"unsupported formula syntax: {exc}"]
        except (FormulaSyntaxError, ValueError) as exc:
            fn, problems = None, [f"cannot read formula: {exc}"]
        except RecursionError:
            fn, problems = None, ["formula nested too deeply"]
        got = (None if problems else fn, problems)
        cache[ck] = got
        return got

    for st in states:
        sheet = st.info.index
        comp = Compiler(ctx, sheet, names, extra)
        masters: dict[int, tuple[Fn | None, list[str], FormulaCell]] = {}
        deferred: list[FormulaCell] = []
        extra_cells: list[FormulaCell] = []
        for fc in st.scan.formulas:
            n_formulas += 1
            fn: Fn | None
            if fc.kind == "normal":
                fn, problems = entry(comp, sheet, fc.text or b"", fc.row, fc.col, False)
            elif fc.kind == "shared":
                if fc.text is not None:
                    fn, problems = entry(comp, sheet, fc.text, fc.row, fc.col, False, True)
                    if fc.si is not None:
                        masters[fc.si] = (fn, problems, fc)
                else:
                    got = masters.get(fc.si) if fc.si is not None else None
                    if got is None:
                        deferred.append(fc)
                        continue
                    fn, problems = got[0], got[1]
            elif fc.kind == "array":
                fn, problems = entry(comp, sheet, fc.text or b"", fc.row, fc.col, True)
                if fn is not None:
                    fn, problems, members = _array_root(ctx, st, fc, fn)
                    extra_cells.extend(members)
                    for m in members:
                        member_of[m.key] = fc.key
            else:
                fn, problems = None, ["data table formula (what-if analysis) is not recomputed"]
            _assign(ctx, fc, fn, problems, order, kept, report)
        for fc in deferred:
            got = masters.get(fc.si) if fc.si is not None else None
            if got is None:
                _assign(ctx, fc, None, ["shared formula without its master cell"], order, kept,
                        report)
            else:
                _assign(ctx, fc, got[0], got[1], order, kept, report)
        if extra_cells:
            st.scan.formulas.extend(extra_cells)
    t2 = time.perf_counter()
    report.timings["compile"] = t2 - t1
    report.formulas = n_formulas

    _run(ctx, order, member_of, kept, report)
    t3 = time.perf_counter()
    report.timings["evaluate"] = t3 - t2
    report.kept_cached = len(kept)
    report.recomputed = n_formulas - sum(1 for k in kept if k not in member_of)
    for key, _name, msg in ctx.function_errors:
        s, c = _addr(ctx, key)
        report.function_errors.append(CellIssue(s, c, "function-error", msg))
    return Evaluation(book, states, ctx, kept)


def _assign(ctx: Context, fc: FormulaCell, fn: Fn | None, problems: list[str],
            order: list[tuple[int, Fn]], kept: set[int], report: WorkbookReport) -> None:
    if fn is None:
        kept.add(fc.key)
        ctx.values[fc.key] = fc.cached
        s, c = _addr(ctx, fc.key)
        for p in problems:
            kind = "array" if p.startswith("array") else "unsupported"
            report.unsupported.append(CellIssue(s, c, kind, p))
        return
    ctx.cached[fc.key] = fc.cached
    ctx.values[fc.key] = PENDING
    order.append((fc.key, fn))


def _array_root(ctx: Context, st: SheetState, fc: FormulaCell, fn: Fn
                ) -> tuple[Fn | None, list[str], list[FormulaCell]]:
    """Wrap an array formula so that evaluating its anchor fills its whole range."""
    rng = parse_ref_range(fc.ref) if fc.ref else (fc.row, fc.col, fc.row, fc.col)
    if rng is None or (rng[0], rng[1]) != (fc.row, fc.col):
        return None, ["array formula with an unusual range is not recomputed"], []
    r1, c1, r2, c2 = rng
    if (r2 - r1 + 1) * (c2 - c1 + 1) > 100000:
        return None, ["array formula range too large"], []
    sb = st.info.index << SHEET_SHIFT
    members: list[FormulaCell] = []
    cells = []
    scan = st.scan
    sd_start = 0
    sd_end = len(st.data)
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            key = sb | (r << ROW_SHIFT) | c
            if key == fc.key:
                cells.append((0, 0, key))
                continue
            found = find_cell(st.data, scan.prefix, sd_start, sd_end, r, c)
            if found is None:
                return None, ["array formula range has cells missing in the file; not "
                              "recomputed"], []
            s, e, m = found
            cached = ctx.values.get(key)
            tm = _ATTR_T.search(m.group(0)[:m.group(0).find(b">")])
            members.append(FormulaCell(key, r, c, s, e, None, "member", cached=cached,
                                       cached_t=tm.group(1).decode("ascii") if tm else None))
            ctx.cached[key] = cached
            cells.append((r - r1, c - c1, key))
    values = ctx.values
    for m in members:
        values[m.key] = PENDING
    h, w = r2 - r1 + 1, c2 - c1 + 1
    dynamic = fc.dynamic

    def array_root(base: int) -> Any:
        v = fn(base)
        if type(v) is not list:
            grid = [[v]]
        else:
            grid = v
        gh, gw = len(grid), len(grid[0]) if grid else 0
        if dynamic and (gh, gw) != (h, w) and not (gh == 1 and gw == 1 and h == w == 1):
            raise Unsupported(f"dynamic array result is {gh}×{gw}, the file's spill range is "
                              f"{h}×{w}; kept the stored values")
        out = None
        for i, j, key in cells:
            ii = 0 if gh == 1 else i
            jj = 0 if gw == 1 else j
            x = grid[ii][jj] if ii < gh and jj < gw else NA
            if x is None:
                x = 0.0
            if key == base:
                out = x
            else:
                values[key] = x
        return out

    return array_root, [], members


def _run(ctx: Context, order: list[tuple[int, Fn]], member_of: dict[int, int], kept: set[int],
         report: WorkbookReport) -> None:
    values = ctx.values
    get = values.get
    fns = dict(order)
    for key, fn in order:
        if get(key) is not PENDING:
            continue
        ctx.caller = key
        try:
            v = fn(key)
        except NeedCells as need:
            _resolve(ctx, key, need, fns, member_of, kept, report)
            continue
        except Unsupported as exc:
            _keep(ctx, key, str(exc), kept, report, member_of)
            continue
        except RecursionError:
            _keep(ctx, key, "formula nested too deeply", kept, report, member_of)
            continue
        except Exception as exc:  # a bug: keep the stored value, say so
            _keep(ctx, key, f"internal error: {type(exc).__name__}: {exc}", kept, report,
                  member_of, kind="internal-error")
            continue
        values[key] = 0.0 if v is None else v


def _keep(ctx: Context, key: int, msg: str, kept: set[int], report: WorkbookReport,
          member_of: dict[int, int], kind: str = "unsupported") -> None:
    """The formula cannot be computed: the cell (and its array range) keep stored values."""
    fc_cached = _cached_of(ctx, key)
    ctx.values[key] = fc_cached
    kept.add(key)
    for m, anchor in member_of.items():
        if anchor == key and ctx.values.get(m) is PENDING:
            ctx.values[m] = _cached_of(ctx, m)
            kept.add(m)
    s, c = _addr(ctx, key)
    report.unsupported.append(CellIssue(s, c, kind, msg))


def _cached_of(ctx: Context, key: int) -> Any:
    return ctx.cached.get(key)


def _resolve(ctx: Context, first: int, need: NeedCells, fns: dict[int, Fn],
             member_of: dict[int, int], kept: set[int], report: WorkbookReport) -> None:
    values = ctx.values
    get = values.get
    stack = [first]
    blocked = {first}

    def push(keys: tuple[int, ...] | list[int], k: int) -> None:
        for d in keys:
            d = member_of.get(d, d)
            if d in blocked:
                _circle(ctx, stack, d, blocked, kept, report)
            elif d in fns:
                stack.append(d)
            else:  # pragma: no cover - a pending cell nobody computes
                values[d] = None

    push(need.keys, first)
    while stack:
        k = stack[-1]
        if get(k) is not PENDING:
            stack.pop()
            blocked.discard(k)
            continue
        ctx.caller = k
        try:
            v = fns[k](k)
        except NeedCells as n:
            blocked.add(k)
            push(n.keys, k)
            continue
        except Unsupported as exc:
            _keep(ctx, k, str(exc), kept, report, member_of)
        except RecursionError:
            _keep(ctx, k, "formula nested too deeply", kept, report, member_of)
        except Exception as exc:
            _keep(ctx, k, f"internal error: {type(exc).__name__}: {exc}", kept, report,
                  member_of, kind="internal-error")
        else:
            values[k] = 0.0 if v is None else v
        stack.pop()
        blocked.discard(k)


def _circle(ctx: Context, stack: list[int], d: int, blocked: set[int], kept: set[int],
            report: WorkbookReport) -> None:
    pos = len(stack) - 1
    while pos >= 0 and stack[pos] != d:
        pos -= 1
    members = [k for k in stack[max(pos, 0):] if k in blocked]
    members = list(dict.fromkeys(members))
    names = [f"{s}!{c}" for s, c in (_addr(ctx, k) for k in members)]
    path = " → ".join([*names, names[0]]) if names else "?"
    for k in members:
        ctx.values[k] = _cached_of(ctx, k)
        kept.add(k)
        blocked.discard(k)
        s, c = _addr(ctx, k)
        report.circular.append(CellIssue(s, c, "circular",
                                         f"circular reference ({path}); kept the stored value"))

