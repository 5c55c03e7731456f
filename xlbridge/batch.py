"""Recomputing folders of workbooks: `xlbridge recompute` without the command line.

The headless recalculator (:mod:`xlbridge.recompute`) evaluates the offices' own formulas;
this module adds the PERF_* worksheet functions — the very functions of
:mod:`xlbridge.udfs` that the Excel add-in calls, so a workbook computes the same with or
without Excel — and runs many files, in parallel processes if asked, collecting what a
clerk wants to know afterwards: which files were recomputed, how many cells, the grade
distribution of each workbook and the scheme versions it used, and which files were skipped
and why.
"""

from __future__ import annotations

import contextlib
import html
import inspect
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlbridge import udfs
from xlbridge.audit import AUDITED, Difference, audit_table
from xlbridge.csvio import to_csv
from xlbridge.i18n import N_, NP_, current_language, gettext, t, tp
from xlbridge.recompute import recompute_file
from xlbridge.recompute.api import perf_formula, release_after
from xlbridge.recompute.core import make_key, split_key
from xlbridge.recompute.functions import current_caller
from xlbridge.scheme.types import SCHEME_REF_PATTERN
from xlbridge.sheets import HEADER_ROWS, NoLayout, find_table
from xlbridge.store import SchemeStore, default_store, reset_default_store, using_store
from xlbridge.xlvalues import ExcelError

#: Files a folder walk recomputes.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
#: Where each PERF_* function takes its scheme argument.
SCHEME_ARG = {name: list(inspect.signature(fn).parameters).index("scheme")
              for name, fn in udfs.FUNCTIONS.items()
              if "scheme" in inspect.signature(fn).parameters}


#: What each status says in the table and the reports.
STATUS_TEXT = {"ok": NP_("status", "已重算"), "dry-run": NP_("status", "试算（未写入）"),
               "rejected": NP_("status", "无法打开"), "locked": NP_("status", "正被另一次重算使用"),
               "read-only": NP_("status", "只读"), "timeout": NP_("status", "超时"),
               "failed": NP_("status", "失败"), "missing": NP_("status", "找不到")}


@dataclass
class FileOutcome:
    """One workbook's result, as sent back from a worker process (plain data only)."""

    path: str
    status: str
    error: str | None = None
    formulas: int = 0
    recomputed: int = 0
    changed: int = 0
    kept_cached: int = 0
    issues: list[str] = field(default_factory=list)
    grades: dict[str, int] = field(default_factory=dict)
    schemes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    backup: str | None = None
    frozen: str | None = None
    seconds: float = 0.0
    #: formula cells that ended as an Excel error: ``sheet!cell: #N/A reason``
    errors: list[str] = field(default_factory=list)
    #: rows where the sheet's own total/grade/payout/rank differs from the scheme's
    differences: list[str] = field(default_factory=list)
    #: ties at quota lines in the populations the workbook's PERF_RESULTS scored
    ties: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "dry-run")

    @property
    def processed(self) -> bool:
        """Recomputed (and written unless a dry run), whether or not its results are clean."""
        return self.ok or self.status in ("errors", "differs")

    @property
    def status_text(self) -> str:
        """The status with its count: ``errors (31)``, ``differs (2)``."""
        if self.status == "errors":
            return t("有错误值（{n}）", n=len(self.errors))
        if self.status == "differs":
            return t("与方案不一致（{n}）", n=len(self.differences))
        return tp("status", STATUS_TEXT[self.status]) if self.status in STATUS_TEXT \
            else self.status


@dataclass
class BatchReport:
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[FileOutcome]:
        """Files that could not be recomputed at all."""
        return [f for f in self.files if not f.processed]

    @property
    def ok(self) -> bool:
        """Every file recomputed, with no error cells and no differences."""
        return all(f.ok for f in self.files)

    def totals(self) -> dict[str, Any]:
        grades: Counter[str] = Counter()
        for f in self.files:
            grades.update(f.grades)
        return {"files": len(self.files), "ok": sum(f.ok for f in self.files),
                "failed": len(self.failed),
                "with_errors": sum(f.status in ("errors", "differs") for f in self.files),
                "errors": sum(len(f.errors) for f in self.files),
                "differences": sum(len(f.differences) for f in self.files),
                "formulas": sum(f.formulas for f in self.files),
                "recomputed": sum(f.recomputed for f in self.files),
                "changed": sum(f.changed for f in self.files),
                "issues": sum(len(f.issues) for f in self.files),
                "grades": dict(grades), "seconds": round(self.seconds, 3)}

    # ------------------------------------------------------------------ reports

    COLUMNS = (N_("工作簿"), N_("状态"), N_("公式"), N_("已重算"), N_("值有变化"), N_("保留原值"),
               N_("等次"), N_("方案"), N_("错误值单元格"), N_("与方案不一致"), N_("并列"),
               N_("提示"), N_("错误"), N_("用时（秒）"))

    def rows(self) -> Iterator[list[str]]:
        for f in self.files:
            yield [f.path, f.status_text, str(f.formulas), str(f.recomputed), str(f.changed),
                   str(f.kept_cached), grade_text(f.grades), " ".join(f.schemes),
                   "\n".join(f.errors), "\n".join(f.differences), "\n".join(f.ties),
                   t("；").join(f.issues), f.error or "", f"{f.seconds:.3f}"]

    def headings(self) -> list[str]:
        return [gettext(c) for c in self.COLUMNS]

    def to_csv(self) -> str:
        return to_csv(self.headings(), self.rows())

    def to_html(self) -> str:
        totals = self.totals()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.headings())
        body = "\n".join(
            "<tr class=\"{}\">{}</tr>".format(
                "ok" if f.ok else "failed",
                "".join(f"<td>{html.escape(cell)}</td>" for cell in row))
            for f, row in zip(self.files, self.rows(), strict=True))
        title = html.escape(t("xlbridge 重算报告"))
        summary = html.escape(t(
            "{files} 个文件：{ok} 个已重算，{failed} 个未重算；"
            "计算公式单元格 {recomputed}/{formulas} 个，值有变化 {changed} 个；"
            "等次：{grades}；用时 {seconds} 秒。", files=totals["files"],
            ok=totals["ok"], failed=totals["failed"], recomputed=totals["recomputed"],
            formulas=totals["formulas"], changed=totals["changed"],
            grades=grade_text(totals["grades"]), seconds=totals["seconds"]))
        lang = "en" if current_language() == "en" else "zh-CN"
        return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
tr.failed td{{background:#fde2e1}}th{{background:#eef}}</style></head>
<body><h1>{title}</h1>
<p>{summary}</p>
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table></body></html>
"""


def grade_text(grades: dict[str, int]) -> str:
    return " ".join(f"{g}:{n}" for g, n in grades.items())


# --------------------------------------------------------------------------- finding files


def find_workbooks(paths: Iterable[str | os.PathLike[str]],
                   exclude: Iterable[str | os.PathLike[str]] = ()
                   ) -> tuple[list[Path], list[str]]:
    """Workbook files under ``paths`` (files or folders, recursively), and paths not found.

    Folders in ``exclude`` (the frozen copies of an earlier ``--values-only`` run inside the
    folder being recomputed) are not searched."""
    skip = [Path(e).resolve() for e in exclude]
    found: list[Path] = []
    missing: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(f for f in sorted(p.rglob("*"))
                         if f.suffix.lower() in WORKBOOK_SUFFIXES and f.is_file()
                         and not f.name.startswith(("~$", ".~", "."))
                         and ".backup-" not in f.name
                         and not any(f.resolve().is_relative_to(d) for d in skip))
        elif p.is_file():
            found.append(p)
        else:
            missing.append(str(p))
    seen: set[Path] = set()
    unique = []
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, missing


@dataclass(frozen=True)
class Skipped:
    """A file a folder walk found but does not open: its type and why."""

    path: str
    kind: str            # "xls", "et", "lock"
    reason: str
    #: a workbook left unrecomputed (the run reports it and exits 1); a lock file is not one
    is_workbook: bool


def _skip_kind(name: str) -> str | None:
    low = name.lower()
    if low.startswith(("~$", ".~lock.")):
        return "lock"
    suffix = Path(low).suffix
    if suffix in (".xls", ".xlt"):
        return "xls"
    if suffix in (".et", ".ett"):
        return "et"
    return None


def _skip_reason(kind: str) -> str:
    return {
        "xls": t("旧版 Excel 97-2003 格式（.xls），无法重算：请在 Excel 或 WPS 中另存为"
                 " Excel 工作簿（.xlsx）后再运行"),
        "et": t("WPS 表格格式（.et），无法重算：请在 WPS 中另存为 Excel 工作簿（.xlsx）后再运行"),
        "lock": t("Excel、WPS 或 LibreOffice 打开工作簿时生成的锁定文件，不是工作簿；"
                  "关闭该工作簿后会自动删除"),
    }[kind]


def skipped_files(paths: Iterable[str | os.PathLike[str]],
                  exclude: Iterable[str | os.PathLike[str]] = ()) -> list[Skipped]:
    """The files in the folders of ``paths`` that :func:`find_workbooks` leaves out by type:
    legacy ``.xls``, WPS ``.et`` and lock files (``~$考核.xlsx``, ``.~lock.考核.xlsx#``)."""
    skip = [Path(e).resolve() for e in exclude]
    out = []
    for p in map(Path, paths):
        if not p.is_dir():
            continue
        for f in sorted(p.rglob("*")):
            kind = _skip_kind(f.name)
            if kind is None or not f.is_file() or \
                    any(f.resolve().is_relative_to(d) for d in skip):
                continue
            if kind == "lock" and not _looks_like_lock_of_a_workbook(f.name):
                continue
            out.append(Skipped(str(f), kind, _skip_reason(kind), kind != "lock"))
    return out


def _looks_like_lock_of_a_workbook(name: str) -> bool:
    low = name.lower().rstrip("#")
    return low.endswith((".xlsx", ".xlsm", ".xls", ".et", ".ett", ".xltx"))


def frozen_targets(files: Sequence[Path], out_dir: str | os.PathLike[str]) -> dict[Path, Path]:
    """Where ``--values-only`` puts each file's frozen copy: ``out_dir`` plus the file's path
    below the folder all the files share, so that two ``考核.xlsx`` in different folders get
    different copies. Raises ValueError where a copy would replace an original."""
    if not files:
        return {}
    sources = [f.resolve() for f in files]
    root = Path(os.path.commonpath([s.parent for s in sources]))
    out = Path(out_dir).resolve()
    targets = {f: out / s.relative_to(root) for f, s in zip(files, sources, strict=True)}
    originals = set(sources)
    clash = [str(f) for f, t in targets.items() if t in originals]
    if clash:
        raise ValueError(t("--values-only {folder}：定值副本会替换原文件 {path}；"
                           "请选择一个不含待重算工作簿的文件夹", folder=out_dir, path=clash[0]))
    return targets


# --------------------------------------------------------------------------- PERF_* inside


class _Tally:
    """Grades and scheme versions seen in one workbook, keyed by the calling cell.

    The recalculator may call a function for the same cell more than once (it retries a cell
    whose inputs were not ready), so results are kept per cell, not counted per call.

    A sheet that grades a column with PERF_GRADES often shows the tier before quotas beside
    it with PERF_GRADE: the distribution counts each record once, by its final grade — the
    PERF_GRADES cells of a sheet that has them, the PERF_GRADE cells elsewhere.
    """

    def __init__(self) -> None:
        self.grades: dict[tuple[str, str, str], Any] = {}   # (function, sheet, cell) → result
        self.schemes: set[str] = set()
        self.ties: dict[str, None] = {}                     # tie texts, in order, once each
        self._noted: set[tuple[str, SchemeStore, int]] = set()

    def note_results(self, args: tuple[Any, ...], result: Any, cell: tuple[str, str] | None
                     ) -> None:
        """A PERF_RESULTS call: its grade column (if it returns one) and its ties."""
        scheme, records, headers, columns, first_row = (*args, None, None, None)[:5]
        index = udfs.results_grade_column(scheme, columns)
        if index is not None and cell is not None and isinstance(result, list):
            self.grades[("PERF_RESULTS", *cell)] = [
                row[index] if isinstance(row, list) and index < len(row) else None
                for row in result]
        pop = udfs.results_population(scheme, records, headers, first_row)
        if pop is not None:
            for tie in pop.ties:
                self.ties.setdefault(tie.text, None)

    def note_scheme(self, ref: Any) -> None:
        """Note the scheme version a call used. A scheme id (or id@version) is looked up once
        per store generation, not on every call: the look-up costs about as much as a small
        PERF_* call, and a sheet repeats the same reference in every row."""
        key = None
        if type(ref) is str:
            store = default_store()
            key = (ref, store, store.generation)
            if key in self._noted:
                return
            if not SCHEME_REF_PATTERN.match(ref):
                key = None
        # a bad reference already shows as the cell's error; nothing to note then
        with contextlib.suppress(Exception):
            self.schemes.add(udfs.scheme_for(ref).ref)
            if key is not None:
                self._noted.add(key)

    def grade_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        column_graded = {sheet for fn, sheet, _ in self.grades
                         if fn in ("PERF_GRADES", "PERF_RESULTS")}
        for (fn, sheet, _), value in self.grades.items():
            if fn == "PERF_GRADE" and sheet in column_graded:
                continue
            cells = [c for row in value for c in (row if isinstance(row, list) else [row])] \
                if isinstance(value, list) else [value]
            counts.update(c for c in cells if isinstance(c, str) and c)
        # best tier first, as the schemes list them; other labels (不定等次 …) after
        order: dict[str, int] = {}
        for ref in sorted(self.schemes):
            with contextlib.suppress(Exception):
                for tier in udfs.scheme_for(ref).scheme.tiers:
                    order.setdefault(tier.label, len(order))
        return dict(sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)),
                                                           kv[0] not in order)))


def _one_value(value: Any) -> Any:
    """An argument not declared as a range, as xlwings passes it: one cell → its value, one
    row or one column → a flat list, anything larger stays rows of cells."""
    if type(value) is not list:
        return value
    if len(value) == 1:
        row = value[0]
        return row[0] if len(row) == 1 else row
    if all(len(row) == 1 for row in value):
        return [row[0] for row in value]
    return value


def xlwings_shaper(name: str, fn: Callable[..., Any]
                   ) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """The arguments of ``fn`` shaped as xlwings shapes them in Excel.

    The recalculator hands every reference other than a plain cell (``B5:D5``, a defined name
    such as 方案 → 参数!$B$3) over as a 2-D list; xlwings gives a function a list of lists
    only for arguments declared ``ndim=2`` (:data:`xlbridge.udfs.RANGE_ARGS`), and one value
    for a one-cell range elsewhere. Without this, ``=PERF_GRADE(F5, 方案)`` would compute in
    Excel and fail here.
    """
    ranges = udfs.RANGE_ARGS.get(name, frozenset())
    is_range = tuple(p in ranges for p in inspect.signature(fn).parameters)

    def shape(args: tuple[Any, ...]) -> tuple[Any, ...]:
        # most calls need nothing (a cell for a value, a range for a range): check first,
        # build a new argument tuple only for the others
        for a, rng in zip(args, is_range, strict=False):
            if (a.__class__ is list) is not rng and (a is not None or not rng):
                break
        else:
            return args
        return (*[(a if a is None or type(a) is list else [[a]]) if rng else _one_value(a)
                  for a, rng in zip(args, is_range, strict=False)], *args[len(is_range):])

    return shape


#: Each PERF_* function's argument shaper, built once (perf_functions runs for every file).
_SHAPERS = {name: xlwings_shaper(name, fn) for name, fn in udfs.FUNCTIONS.items()}


def perf_functions(tally: _Tally | None = None) -> dict[str, Callable[..., Any]]:
    """The PERF_* functions for the recalculator, called as xlwings calls them in Excel,
    noting grades and schemes in ``tally``."""

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        position = SCHEME_ARG.get(name)
        shape = _SHAPERS[name]

        def call(*raw: Any) -> Any:
            args = shape(raw)
            result = fn(*args)
            if tally is None:
                return result
            if position is not None and position < len(args):
                tally.note_scheme(args[position])
            if name in ("PERF_GRADE", "PERF_GRADES") and not isinstance(result, ExcelError):
                caller = current_caller()
                if caller is not None:
                    tally.grades[(name, caller.sheet, caller.cell)] = result
            elif name == "PERF_RESULTS":
                caller = current_caller()
                tally.note_results(args, result,
                                   (caller.sheet, caller.cell) if caller is not None else None)
            return result

        return call

    return {name: wrap(name, fn) for name, fn in udfs.FUNCTIONS.items()}


_CELL_LINE = re.compile(r"^(?P<sheet>.+)!(?P<col>[A-Z]{1,3})(?P<row>\d+): (?P<msg>.*)$", re.S)


def runs_of_cells(lines: Sequence[str]) -> list[str]:
    """Error-cell lines (``sheet!A5: #N/A reason``) with the same reason in consecutive rows
    of one column as one line, ``sheet!A5:A24（20 处）: #N/A reason`` — a withheld group is
    one line on a terminal, not thirty (the report keeps every cell)."""
    out: list[str] = []
    run: list[Any] = []       # [sheet, col, first row, last row, msg, count]
    sheets: dict[str, int] = {}

    def place(line: str) -> tuple:
        m = _CELL_LINE.match(line)
        if m is None:
            return (len(lines), "", 0)
        sheets.setdefault(m["sheet"], len(sheets))
        return (sheets[m["sheet"]], len(m["col"]), m["col"], int(m["row"]))

    for line in sorted(lines, key=place):   # column by column, each from the top
        m = _CELL_LINE.match(line)
        if m is None:
            if run:
                out.append(_run_text(run))
                run = []
            out.append(line)
            continue
        sheet, col, row, msg = m["sheet"], m["col"], int(m["row"]), m["msg"]
        if run and (run[0], run[1], run[4]) == (sheet, col, msg) and row == run[3] + 1:
            run[3], run[5] = row, run[5] + 1
            continue
        if run:
            out.append(_run_text(run))
        run = [sheet, col, row, row, msg, 1]
    if run:
        out.append(_run_text(run))
    return out


def _run_text(run: list[Any]) -> str:
    sheet, col, first, last, msg, n = run
    if n == 1:
        return f"{sheet}!{col}{first}: {msg}"
    return f"{sheet}!{col}{first}:{col}{last}" + t("（{n} 处）", n=n) + f": {msg}"


# --------------------------------------------------------------------------- audit


#: Formulas whose result is the engine's by construction: not audited (no need to score).
_ENGINE_FORMULAS = (b"PERF_RESULTS(", b"PERF_SCORE(")


@dataclass
class _Audit:
    """A sheet's records, kept from a recalculated workbook for the audit (only the cells it
    reads: the inputs and the result columns computed by the sheet's own formulas)."""

    table: Any                      # sheets.RecordTable
    formulas: dict[int, set[int]]   # column → rows (1-based) of its formula cells

    def differences(self) -> list[Difference]:
        formulas = self.formulas
        return audit_table(self.table, lambda i, c: i + 1 in formulas.get(c + 1, ()))


def audit_tables(ev: Any, schemes: Iterable[str]) -> list[_Audit]:
    """The sheets of a recalculated workbook to audit (:mod:`xlbridge.audit`): those holding
    records of a scheme the workbook's PERF_* formulas use, with a result column (总分, 等次,
    奖金, 排名) that the sheet computes with formulas of its own. Called before the workbook is
    written; the audit itself runs afterwards (:meth:`_Audit.differences`), once the
    recalculation's memory is freed — scoring a large sheet again is not cheap."""
    candidates = []
    for ref in sorted(schemes):
        with contextlib.suppress(Exception):  # a bad reference is already a cell's error
            candidates.append(udfs.scheme_for(ref))
    if not candidates:
        return []
    out: list[_Audit] = []
    table_rows = ev.table
    for st in ev.sheets:
        if not st.scan.max_row:
            continue
        s = st.info.index
        head = _grid(ev.ctx, s, 1, min(st.scan.max_row, HEADER_ROWS),
                     range(1, st.scan.max_col + 1))
        try:
            found = find_table(st.info.name, (1, 1), head, candidates)
        except NoLayout:
            continue
        # the result columns computed by formulas of the sheet's own (its first record's
        # cell tells), in one pass over the sheet's formula cells
        wanted = {c + 1 for c, kind in found.results if kind in AUDITED}
        first = found.first_row
        own_cols: set[int] = set()
        rows_of: dict[int, set[int]] = {}
        keys = table_rows.keys
        for i in range(st.scan.lo, st.scan.hi):
            _s, r, c = split_key(keys[i])
            if c in wanted:
                rows_of.setdefault(c, set()).add(r)
                if r == first and not (table_rows.text(i, st.data) or b"").startswith(
                        _ENGINE_FORMULAS):
                    own_cols.add(c)
        if not own_cols:
            continue
        columns = sorted({*(c + 1 for c in found.inputs), *own_cols})
        width = max(len(row) for row in head)
        body = _grid(ev.ctx, s, len(head) + 1, st.scan.max_row, columns, width)
        table = find_table(st.info.name, (1, 1), head + body, [found.scheme])
        table.results = [(c, kind) for c, kind in table.results if c + 1 in own_cols]
        out.append(_Audit(table, {c: rows_of[c] for c in own_cols}))
    return out


def _grid(ctx: Any, sheet: int, first: int, last: int, columns: Iterable[int],
          width: int | None = None) -> list[list[Any]]:
    """Rows ``first``…``last`` (1-based) of a sheet's computed values: the cells of
    ``columns`` (1-based), in rows ``width`` wide (the other cells None)."""
    columns = list(columns)
    width = width if width is not None else max(columns, default=0)
    values = ctx.values
    out = []
    for r in range(first, last + 1):
        row: list[Any] = [None] * width
        for c in columns:
            row[c - 1] = values.get(make_key(sheet, r, c))
        out.append(row)
    return out


# --------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    backup: bool = False
    frozen: dict[str, str] | None = None   # source → frozen copy (see frozen_targets)
    scheme_dirs: tuple[str, ...] = ()


def recompute_one(path: Path, options: Options) -> FileOutcome:
    """Recompute one workbook (in this process), and optionally write its frozen copy."""
    start = time.perf_counter()
    tally = _Tally()
    audits: list[_Audit] = []

    def keep_for_audit(ev: Any) -> None:
        audits.extend(audit_tables(ev, tally.schemes))

    report = recompute_file(path, dry_run=options.dry_run, backup=options.backup,
                            functions=perf_functions(tally), inspect=keep_for_audit)
    differences = [str(d) for a in audits for d in a.differences()]
    audits.clear()
    outcome = FileOutcome(str(path), report.status, report.error, report.formulas,
                          report.recomputed, report.changed, report.kept_cached,
                          [str(i) for i in report.issues()], tally.grade_counts(),
                          sorted(tally.schemes), list(report.notes), report.backup_path)
    outcome.errors = [str(e) for e in report.error_values]
    outcome.differences = differences
    outcome.ties = list(tally.ties)
    if report.ok and outcome.errors:
        outcome.status = "errors"
    elif report.ok and differences:
        outcome.status = "differs"
    target_name = options.frozen.get(str(path)) if options.frozen else None
    if report.ok and target_name and not options.dry_run:
        target = Path(target_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        frozen = recompute_file(path, out_path=target, functions=perf_functions(),
                                values_only=perf_formula)
        if frozen.ok:
            outcome.frozen = str(target)
        else:
            outcome.status, outcome.error = frozen.status, f"frozen copy: {frozen.error}"
    outcome.seconds = time.perf_counter() - start
    return outcome


def _init_worker(scheme_dirs: tuple[str, ...]) -> None:
    # each worker process reads schemes from the same folders as the parent
    reset_default_store([*scheme_dirs, *default_store().dirs] if scheme_dirs else None)


#: Seconds one workbook may take (recomputed, written, its frozen copy made) before its
#: worker is stopped and the file reported; a real workbook of 50,000 rows takes ≈ 8 s.
DEFAULT_TIMEOUT = 120.0


def recompute_files(files: Sequence[Path], options: Options, *, jobs: int = 1,
                    timeout: float | None = DEFAULT_TIMEOUT,
                    progress: Callable[[FileOutcome], None] | None = None) -> BatchReport:
    """Recompute ``files`` (see :func:`find_workbooks`).

    With a ``timeout`` (seconds per file; the default) or ``jobs`` > 1 the files are
    recomputed in worker processes (:class:`_Pool`): a workbook that takes longer than
    ``timeout`` is stopped — its worker killed, the file untouched — and reported, and the
    others go on; the workers die with this process. ``timeout=None`` with one job
    recomputes in this process."""
    if options.scheme_dirs:
        store = SchemeStore([*options.scheme_dirs, *default_store().dirs])
        with using_store(store):
            return _recompute_files(files, options, jobs, timeout, progress)
    return _recompute_files(files, options, jobs, timeout, progress)


def _recompute_files(files: Sequence[Path], options: Options, jobs: int,
                     timeout: float | None,
                     progress: Callable[[FileOutcome], None] | None) -> BatchReport:
    start = time.perf_counter()
    report = BatchReport()
    if files and (timeout or jobs > 1):
        report.files = _Pool(min(jobs, len(files)), options, timeout).run(files, progress)
    else:
        for f in files:
            outcome = recompute_one(f, options)
            report.files.append(outcome)
            if progress:
                progress(outcome)
    report.seconds = time.perf_counter() - start
    return report


# --------------------------------------------------------------------------- worker processes


def _die_with_parent() -> None:
    """End this worker as soon as its parent is gone, even in the middle of a workbook:
    Linux sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG); everywhere, a thread
    waits on the parent's sentinel and exits the process."""
    import multiprocessing
    import threading

    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - always set for a multiprocessing child
        return

    def watch() -> None:
        from multiprocessing.connection import wait

        wait([parent.sentinel])
        os._exit(3)

    threading.Thread(target=watch, name="xlbridge-parent-watch", daemon=True).start()


def _worker_main(conn: Any, scheme_dirs: tuple[str, ...]) -> None:
    """A worker: recompute the files sent to it, one at a time, until told to stop.

    Everything it has to say goes back in its outcomes; its own stdout and stderr go
    nowhere (a forked copy of the parent's progress display must not be written to)."""
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    _die_with_parent()
    _init_worker(scheme_dirs)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, path, options = task
        try:
            outcome = recompute_one(Path(path), options)
        except BaseException as exc:  # the worker must answer for every file
            outcome = FileOutcome(path, "failed", f"{type(exc).__name__}: {exc}")
        conn.send((index, outcome))


class _Pool:
    """Worker processes that each recompute one file at a time, with a time budget per file.

    Unlike a ``ProcessPoolExecutor``, one worker can be killed (a workbook over its budget)
    and replaced without losing the others' work, and the workers die with the parent."""

    def __init__(self, jobs: int, options: Options, timeout: float | None):
        import multiprocessing

        self.ctx = multiprocessing.get_context()
        self.jobs = max(1, jobs)
        self.options = options
        self.timeout = timeout or None
        self.idle: list[tuple[Any, Any]] = []
        self.busy: dict[Any, tuple[Any, int, str, float]] = {}  # conn → (proc, i, path, t0)

    def _start(self) -> tuple[Any, Any]:
        parent_end, child_end = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child_end, self.options.scheme_dirs),
                                name="xlbridge-recompute", daemon=True)
        proc.start()
        child_end.close()
        return proc, parent_end

    def run(self, files: Sequence[Path], progress: Callable[[FileOutcome], None] | None
            ) -> list[FileOutcome]:
        from multiprocessing.connection import wait

        results: dict[int, FileOutcome] = {}
        queue = list(enumerate(files))
        queue.reverse()
        try:
            while queue or self.busy:
                while queue and (self.idle or len(self.busy) < self.jobs):
                    proc, conn = self.idle.pop() if self.idle else self._start()
                    index, path = queue.pop()
                    conn.send((index, str(path), self.options))
                    self.busy[conn] = (proc, index, str(path), time.monotonic())
                waits = [proc.sentinel for proc, *_ in self.busy.values()]
                ready = wait([*self.busy, *waits], timeout=self._next_deadline())
                finished = self._collect(ready, results)
                finished += self._stop_overruns(results)
                for outcome in finished:
                    if progress:
                        progress(outcome)
        finally:
            self._shutdown()
        return [results[i] for i in range(len(files))]

    def _next_deadline(self) -> float | None:
        if self.timeout is None or not self.busy:
            return None
        now = time.monotonic()
        return max(0.0, min(t0 + self.timeout - now for *_, t0 in self.busy.values()))

    def _collect(self, ready: list[Any], results: dict[int, FileOutcome]
                 ) -> list[FileOutcome]:
        done = []
        for conn, (proc, index, path, _t0) in list(self.busy.items()):
            if conn in ready or proc.sentinel in ready:
                try:
                    got_index, outcome = conn.recv()
                except (EOFError, OSError):  # the worker died without answering
                    proc.join(5)
                    outcome = FileOutcome(path, "failed", t(
                        "重算这个文件的进程意外退出（退出码 {code}），文件未改动",
                        code=proc.exitcode))
                    self._retire(conn, proc, path)
                    got_index = index
                else:
                    self.idle.append((proc, conn))
                del self.busy[conn]
                results[got_index] = outcome
                done.append(outcome)
        return done

    def _stop_overruns(self, results: dict[int, FileOutcome]) -> list[FileOutcome]:
        if self.timeout is None:
            return []
        done = []
        now = time.monotonic()
        for conn, (proc, index, path, t0) in list(self.busy.items()):
            if now - t0 < self.timeout:
                continue
            proc.kill()
            proc.join(10)
            self._retire(conn, proc, path)
            del self.busy[conn]
            outcome = FileOutcome(path, "timeout", t(
                "超过每个文件的时间上限 {seconds} 秒，已停止计算；文件没有改动"
                "（可用 --timeout 调整上限）",
                seconds=format(self.timeout, "g")), seconds=now - t0)
            results[index] = outcome
            done.append(outcome)
        return done

    def _retire(self, conn: Any, proc: Any, path: str) -> None:
        """A worker killed or dead while working on ``path``: clean up after it."""
        conn.close()
        targets = [Path(path)]
        frozen = (self.options.frozen or {}).get(path)
        if frozen:
            targets.append(Path(frozen))
        for target in targets:
            release_after(target, proc.pid)

    def _shutdown(self) -> None:
        for _proc, conn in self.idle:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        for conn, (proc, _i, path, _t0) in self.busy.items():  # interrupted: stop them
            proc.kill()
            proc.join(10)
            self._retire(conn, proc, path)
        for proc, _conn in self.idle:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        self.idle.clear()
        self.busy.clear()
