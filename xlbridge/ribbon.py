"""The handlers behind the add-in's ribbon tab “绩效考核”.

Each handler takes an ``xw.Book`` — ``xw.Book.caller()`` when a button is clicked in Excel, a
Book built by xlwings' remote engine in the tests — and works through xlwings' Book/Range API
in bulk: one read of a sheet's used range, one write per output column. The add-in's VBA
routes each button to :func:`run` (``RunPython "import xlbridge.ribbon as r;
r.run('recompute_sheet')"``), which finds the calling workbook and shows failures in a message
box instead of a traceback.

**The sheet contract** (what a template must have, and what a handler writes back):

* a header row (within the first 20 rows) naming the scheme's inputs by id or Chinese label,
  as ``xlbridge schemes show`` lists them; records follow it, one per row, up to the first
  row whose input cells are all blank or that is labelled 合计/平均/小计/总计;
* output columns found by their header: 总分, 等次, 奖金, 排名, 标记, 暂缓原因, 计分明细
  (synonyms in :data:`OUTPUT_HEADERS`); a template without any gets all of them appended
  after its last column; a column computed by formulas (e.g. ``=PERF_GRADES(…)``) is never
  overwritten;
* the sheet-scoped defined names ``XLBRIDGE_SCHEME`` (``="id@version"``, the scheme and
  version the sheet computes with) and ``XLBRIDGE_COMPUTED`` (when, with which xlbridge):
  written by “重算”; read by “检查本表” to warn when a newer version has been published.
  A sheet without ``XLBRIDGE_SCHEME`` is pinned by a defined name ``方案`` that points at the
  cell holding ``id@version`` (the shipped templates keep it on their 参数 sheet, and their
  PERF_* formulas read it), else matched to the scheme whose inputs its header names.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlwings as xw

from xlbridge import __version__
from xlbridge.arith import fmt
from xlbridge.audit import audit_table
from xlbridge.engine import CompiledScheme, score_population
from xlbridge.engine.columns import RESULT_COLUMNS, Column, Unavailable, value_of
from xlbridge.i18n import N_, gettext, t
from xlbridge.scheme.issues import SchemeInvalid
from xlbridge.scheme.types import SCHEME_REF_PATTERN
from xlbridge.sheets import NoLayout, RecordTable, find_table
from xlbridge.store import SchemeNotFound, SchemeStore, default_store
from xlbridge.udfs import FUNCTIONS, describe_scheme
from xlbridge.xlvalues import ERROR_CODES

if TYPE_CHECKING:
    from xlbridge.sync import SyncReport

log = logging.getLogger(__name__)

TITLE = "绩效考核 xlbridge"
SCHEME_NAME = "XLBRIDGE_SCHEME"
COMPUTED_NAME = "XLBRIDGE_COMPUTED"
REPORT_SHEET = "xlbridge检查"
#: The defined name the shipped templates keep their pinned scheme under (参数!$B$3).
TEMPLATE_SCHEME_NAME = "方案"
#: Output column kinds, in the order they are appended, with the headers that name them.
OUTPUT_HEADERS = RESULT_COLUMNS


# --------------------------------------------------------------------------- layout


@dataclass
class Layout(RecordTable):
    """Where a sheet keeps its records for one scheme (a :class:`RecordTable` of the xlwings
    sheet it was read from)."""

    sheet_obj: Any = None              # xw.Sheet
    bound: str | None = None           # the XLBRIDGE_SCHEME the sheet names, if any


def _read(sheet: Any) -> tuple[tuple[int, int], list[list[Any]]]:
    """The used range's values: one read."""
    rng = sheet.used_range
    values = rng.options(ndim=2, err_to_str=True).value or [[]]
    return (rng.row, rng.column), [list(r) for r in values]


def bound_scheme(sheet: Any) -> str | None:
    """The scheme (id@version) a sheet is pinned to, if any: its XLBRIDGE_SCHEME name, else
    the cell a defined name 方案 points at (sheet-scoped first) — the cell the shipped
    templates' PERF_* formulas read their scheme from."""
    name = _sheet_name(sheet, SCHEME_NAME)
    if name is not None:
        return _name_text(name.refers_to)
    for scope in (sheet.names, sheet.book.names):
        for n in scope:
            if n.name.split("!")[-1] == TEMPLATE_SCHEME_NAME:
                ref = _name_text(n.refers_to)            # ="id@1", or 参数!$B$3
                if not (ref and SCHEME_REF_PATTERN.match(ref)):
                    ref = _named_cell_value(n)
                if ref and SCHEME_REF_PATTERN.match(ref):
                    return ref
    return None


def _named_cell_value(name: Any) -> str | None:
    """The text in the one cell a defined name points at (None: not a cell, not text)."""
    try:
        value = name.refers_to_range.value
    except Exception:  # a name for a constant, a formula or several areas
        return None
    return value.strip() if isinstance(value, str) else None


def _sheet_name(sheet: Any, name: str) -> Any:
    for n in sheet.names:
        if n.name.split("!")[-1] == name:
            return n
    return None


def _name_text(refers_to: str | None) -> str | None:
    if not refers_to:
        return None
    text = refers_to.lstrip("=").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text or None


def _set_name(sheet: Any, name: str, text: str) -> None:
    value = '="' + text.replace('"', '""') + '"'
    existing = _sheet_name(sheet, name)
    if existing is None:
        sheet.names.add(name, value)
    elif existing.refers_to != value:
        existing.refers_to = value


def _candidates(store: SchemeStore, bound: str | None) -> list[CompiledScheme]:
    if bound:
        return [store.get(bound)]
    newest: dict[str, Any] = {}
    for e in store.entries():
        if e.id not in newest or e.version > newest[e.id].version:
            newest[e.id] = e
    out = []
    for e in newest.values():
        try:
            out.append(store.get(e.ref))
        except SchemeInvalid:
            continue
    return out


def find_layout(sheet: Any, store: SchemeStore | None = None,
                read: tuple[tuple[int, int], list[list[Any]]] | None = None) -> Layout:
    """The scheme a sheet holds records of, and where; raises NoLayout saying why not."""
    store = store or default_store()
    bound = bound_scheme(sheet)
    try:
        candidates = _candidates(store, bound)
    except (SchemeNotFound, SchemeInvalid, ValueError) as exc:
        raise NoLayout(t("工作表“{sheet}”指定的方案 {scheme} 无法使用：{reason}", sheet=sheet.name,
                         scheme=bound, reason=exc)) from None
    origin, values = read or _read(sheet)
    table = find_table(sheet.name, origin, values, candidates, bound)
    return Layout(**{f.name: getattr(table, f.name) for f in fields(RecordTable)},
                  sheet_obj=sheet, bound=bound)


# --------------------------------------------------------------------------- recompute


@dataclass
class SheetResult:
    sheet: str
    scheme: str
    records: int
    invalid: list[tuple[int, str]] = field(default_factory=list)    # (row, message)
    withheld: int = 0
    grades: dict[str, int] = field(default_factory=dict)
    ties: list[str] = field(default_factory=list)
    skipped_columns: list[str] = field(default_factory=list)        # computed by formulas
    payout_total: str | None = None

    def summary(self) -> str:
        lines = [t("工作表“{sheet}”：按 {scheme} 计算 {n} 条记录", sheet=self.sheet,
                   scheme=self.scheme, n=self.records)]
        if self.grades:
            lines.append(t("等次：{grades}", grades="  ".join(f"{g} {n}"
                                                          for g, n in self.grades.items())))
        if self.payout_total is not None:
            lines.append(t("奖金合计：{amount}", amount=self.payout_total))
        lines.extend(self.ties)
        if self.invalid:
            lines.append(t("{n} 条数据有误（未计算）：", n=len(self.invalid)))
            lines.extend("  " + t("第 {row} 行：{message}", row=row, message=msg)
                         for row, msg in self.invalid[:10])
            if len(self.invalid) > 10:
                lines.append("  " + t("…… 另有 {n} 条，见“检查本表”", n=len(self.invalid) - 10))
        if self.withheld:
            lines.append(t("{n} 条因同组数据有误暂缓定等次", n=self.withheld))
        if self.skipped_columns:
            lines.append(t("由公式计算、未覆盖的列：{columns}",
                           columns=t("、").join(self.skipped_columns)))
        return "\n".join(lines)


def _formulas(rng: Any) -> list[list[Any]] | None:
    """A range's formulas (one read) where the engine can tell; None where it cannot."""
    try:
        f = rng.options(ndim=2).formula
    except NotImplementedError:  # xlwings' remote engine reads formulas only asynchronously
        return None
    if not isinstance(f, (list, tuple)):
        return [[f]]
    return [list(r) if isinstance(r, (list, tuple)) else [r] for r in f]


def _has_formula(column: list[list[Any]] | None) -> bool:
    return bool(column) and any(isinstance(r[0], str) and r[0].startswith("=")
                                for r in column)  # type: ignore[union-attr]


def recompute_sheet(book: Any, sheet: Any = None, store: SchemeStore | None = None,
                    alert: bool = True) -> SheetResult:
    """Score every record of a sheet with its scheme and write the results back."""
    sheet = sheet if sheet is not None else book.sheets.active
    layout = find_layout(sheet, store)
    cs = layout.scheme
    explain = "explain" in layout.outputs or not layout.outputs
    pop = score_population(cs, layout.rows(), explain=explain, first_row=layout.first_row)
    result = SheetResult(sheet.name, cs.ref, len(pop.records))
    result.invalid = [(r.row or 0, t("；").join(str(e) for e in r.errors)) for r in pop.invalid]
    result.withheld = sum(1 for r in pop.records if r.withheld)
    order = [t.label for t in cs.tiers] + ["不定等次"]
    counts = pop.grade_counts()
    result.grades = {g: counts[g] for g in order if g in counts}
    result.ties = [t.text for t in pop.ties]
    if cs.scheme.payout:
        result.payout_total = f"{fmt(pop.payout_total())} {cs.scheme.payout.unit}"

    columns = {kind: [_output(cs, kind, r) for r in pop.records] for kind in OUTPUT_HEADERS}
    outputs = dict(layout.outputs)
    n = len(pop.records)
    if not outputs:  # append every output after the used range
        start = layout.origin[1] + max(len(r) for r in layout.values)
        kinds = list(OUTPUT_HEADERS)
        sheet.range((layout.header_row, start)).value = [[OUTPUT_HEADERS[k][0] for k in kinds]]
        if n:
            block = [[columns[k][i] for k in kinds] for i in range(n)]
            sheet.range((layout.first_row, start)).value = block
        outputs = {k: start - layout.origin[1] + j for j, k in enumerate(kinds)}
    else:
        for kind, col in outputs.items():
            if not n:
                continue
            target = sheet.range((layout.first_row, layout.origin[1] + col)).resize(n, 1)
            if _has_formula(_formulas(target)):
                result.skipped_columns.append(str(layout.values[layout.header_index][col]))
                continue
            target.value = [[v] for v in columns[kind]]
    _formats(sheet, layout, outputs, n, result)
    _set_name(sheet, SCHEME_NAME, cs.ref)
    _set_name(sheet, COMPUTED_NAME, f"{_now()} · xlbridge {__version__}")
    if alert:
        book.app.alert(result.summary(), TITLE)
    return result


def _output(cs: CompiledScheme, kind: str, r: Any) -> Any:
    """A result cell as the ribbon writes it: the value of :func:`value_of`, a number as a
    float, and nothing where the result cannot be given (the summary says why)."""
    value = value_of(cs, r, Column(kind))
    if value.__class__ is Unavailable:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value if value != "" else None


def _formats(sheet: Any, layout: Layout, outputs: dict[str, int], n: int,
             result: SheetResult) -> None:
    """Number formats of the numeric outputs, as the scheme rounds them (one call each)."""
    if not n:
        return
    skipped = set(result.skipped_columns)
    rounding = layout.scheme.scheme.rounding
    formats = {"total": _number_format(rounding.total.digits if rounding.total else None),
               "payout": _number_format(rounding.payout.digits if rounding.payout else 2),
               "rank": "0"}
    for kind, number_format in formats.items():
        col = outputs.get(kind)
        if col is None or str(_header_at(layout, col)) in skipped:
            continue
        sheet.range((layout.first_row, layout.origin[1] + col)).resize(n, 1).number_format = \
            number_format


def _header_at(layout: Layout, col: int) -> Any:
    header = layout.values[layout.header_index]
    return header[col] if col < len(header) else None


def _number_format(digits: int | None) -> str:
    if digits is None:
        return "General"
    return "0" if digits <= 0 else "0." + "0" * digits


def _now() -> str:
    return _dt.datetime.now().strftime("%Y-%m-%d %H:%M")


def recompute_workbook(book: Any, store: SchemeStore | None = None,
                       alert: bool = True) -> list[SheetResult]:
    """Recompute every sheet that holds records of a scheme; others are left alone."""
    results = []
    skipped = []
    for sheet in book.sheets:
        if sheet.name == REPORT_SHEET:
            continue
        try:
            results.append(recompute_sheet(book, sheet, store, alert=False))
        except NoLayout:
            skipped.append(sheet.name)
    if alert:
        text = "\n\n".join(r.summary() for r in results) or t("没有找到含考核数据的工作表。")
        if skipped:
            text += "\n\n" + t("未计算的工作表（没有方案的表头）：{sheets}",
                               sheets=t("、").join(skipped))
        book.app.alert(text, TITLE)
    return results


# --------------------------------------------------------------------------- check


@dataclass
class CheckReport:
    sheet: str
    scheme: str | None
    newest: str | None
    invalid: list[tuple[str, str, str]] = field(default_factory=list)  # address, label, msg
    sheets: list[tuple[str, str]] = field(default_factory=list)        # sheet, scheme info
    problem: str | None = None
    error_cells: list[tuple[str, str]] = field(default_factory=list)   # address, error
    differences: list[str] = field(default_factory=list)               # the audit's rows

    @property
    def outdated(self) -> bool:
        return bool(self.scheme and self.newest and self.scheme != self.newest)

    def rows(self) -> list[list[Any]]:
        out: list[list[Any]] = [[t("xlbridge 检查"), f"{_now()} · xlbridge {__version__}", ""],
                                [t("工作表"), self.sheet, ""],
                                [t("方案"), self.scheme or "—", ""]]
        if self.outdated:
            out.append([t("提示"), t("已发布新版本 {newest}；本表仍按 {scheme} 计算",
                                     newest=self.newest, scheme=self.scheme), ""])
        if self.problem:
            out.append([t("问题"), self.problem, ""])
        out.append(["", "", ""])
        out.append([t("单元格"), t("输入"), t("问题")])
        out.extend([list(x) for x in self.invalid] or [["—", "", t("没有发现数据问题")]])
        out.append(["", "", ""])
        out.append([t("错误值单元格"), t("错误"), t("原因见该行的计分明细（PERF_EXPLAIN）或上表")])
        out.extend([[a, code, ""] for a, code in self.error_cells] or [["—", "", t("没有")]])
        out.append(["", "", ""])
        out.append([t("本表自算结果与方案不一致"), "", ""])
        out.extend([[d, "", ""] for d in self.differences] or [["—", t("没有"), ""]])
        out.append(["", "", ""])
        out.append([t("各工作表"), t("所用方案"), ""])
        out.extend([[name, info, ""] for name, info in self.sheets])
        return out

    def summary(self) -> str:
        lines = [t("工作表“{sheet}”：方案 {scheme}", sheet=self.sheet,
                   scheme=self.scheme or t("未确定"))]
        if self.problem:
            lines.append(self.problem)
        if self.outdated:
            lines.append(
                t("注意：已发布新版本 {newest}，本表仍按 {scheme} 计算。如需改用新版本，请在"
                           "“公式 › 名称管理器”中删除本表的 XLBRIDGE_SCHEME，再点“重算本表”。",
                           newest=self.newest, scheme=self.scheme))
        if self.invalid:
            lines.append(t("{n} 个单元格数据有误：", n=len(self.invalid)))
            lines.extend("  " + t("{cell} {label}：{message}", cell=a, label=label, message=msg)
                         for a, label, msg in self.invalid[:10])
        elif not self.problem:
            lines.append(t("没有发现数据问题。"))
        if self.error_cells:
            lines.append(t("{n} 个单元格的结果是错误值：", n=len(self.error_cells))
                         + t("、").join(f"{a} {code}" for a, code in self.error_cells[:10])
                         + ("……" if len(self.error_cells) > 10 else ""))
        if self.differences:
            lines.append(t("{n} 处本表自算结果与方案不一致：", n=len(self.differences)))
            lines.extend(f"  {d}" for d in self.differences[:10])
        lines.append(t("详见工作表“{sheet}”。", sheet=REPORT_SHEET))
        return "\n".join(lines)


_PERF_REF = re.compile(r"PERF_[A-Z]+\(\s*\"([^\"]+)\"", re.IGNORECASE)


def scheme_in_use(sheet: Any, store: SchemeStore) -> str:
    """Which scheme (and version) a sheet computes with: its name, or its PERF_* formulas."""
    bound = bound_scheme(sheet)
    refs = {bound} if bound else set()
    if not refs:
        formulas = _formulas(sheet.used_range)
        for row in formulas or []:
            for f in row:
                if isinstance(f, str) and "PERF_" in f.upper():
                    refs.update(_PERF_REF.findall(f))
    if not refs:
        return "—"
    out = []
    for ref in sorted(refs):
        try:
            out.append(describe_scheme(store.get(ref)))
        except (SchemeNotFound, SchemeInvalid, ValueError):
            out.append(t("{scheme}（找不到此方案）", scheme=ref))
    return t("；").join(out)


def check_sheet(book: Any, sheet: Any = None, store: SchemeStore | None = None,
                alert: bool = True) -> CheckReport:
    """List the cells whose inputs are invalid and the scheme version each sheet uses."""
    store = store or default_store()
    sheet = sheet if sheet is not None else book.sheets.active
    report = CheckReport(sheet.name, bound_scheme(sheet), None)
    try:
        layout = find_layout(sheet, store)
    except NoLayout as exc:
        report.problem = str(exc)
        layout = None
    if layout is not None:
        cs = layout.scheme
        report.scheme = cs.ref
        try:
            report.newest = store.entry(cs.id).ref
        except SchemeNotFound:
            report.newest = None
        column_of = {key: i for i, key in layout.inputs.items()}
        formulas = _formulas(sheet.used_range)
        computed = None if formulas is None else (
            lambda i, c: i < len(formulas) and c < len(formulas[i])
            and isinstance(formulas[i][c], str) and formulas[i][c].startswith("="))
        report.differences = [str(d) for d in audit_table(layout, computed)]
        for i, row in enumerate(layout.values):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.strip().upper() in ERROR_CODES:
                    report.error_cells.append((layout.address(i, c), value.strip().upper()))
        pop = score_population(cs, layout.rows(), first_row=layout.first_row)
        for r in pop.invalid:
            index = (r.row or layout.first_row) - layout.origin[0]
            for e in r.errors:
                col = column_of.get(e.field)
                address = layout.address(index, col) if col is not None \
                    else t("第 {row} 行", row=r.row)
                report.invalid.append((address, e.label, str(e)))
    for other in book.sheets:
        if other.name != REPORT_SHEET:
            report.sheets.append((other.name, scheme_in_use(other, store)))
    _write_report(book, report)
    sheet.activate()  # adding the report sheet activated it; stay on the checked sheet
    if layout is not None:
        _notes(sheet, report)
    if alert:
        book.app.alert(report.summary(), TITLE)
    return report


def _write_report(book: Any, report: CheckReport) -> None:
    names = [s.name for s in book.sheets]
    if REPORT_SHEET in names:
        target = book.sheets[REPORT_SHEET]
        target.used_range.clear_contents()
    else:
        target = book.sheets.add(REPORT_SHEET, after=book.sheets[len(names) - 1])
    target.range("A1").value = report.rows()


def _notes(sheet: Any, report: CheckReport) -> None:
    """A note on each invalid cell, where the engine can add notes."""
    for address, _label, message in report.invalid:
        if not re.fullmatch(r"[A-Z]+\d+", address):
            continue
        cell = sheet.range(address)
        try:
            cell.add_note(f"xlbridge：{message}")
        except NotImplementedError:
            return


# --------------------------------------------------------------------------- 公示 report


def _sheet_title(layout: Layout) -> str | None:
    """The text of the first cell above the header row (a sheet's merged title), if any."""
    for row in layout.values[:layout.header_index]:
        for value in row:
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def export_report(book: Any, sheet: Any = None, store: SchemeStore | None = None,
                  alert: bool = True, out_dir: str | Path | None = None) -> list[Path]:
    """导出公示表: the sheet's records scored as 重算本表 scores them, written as a printable
    公示 list — PDF (A4) and HTML — beside the workbook; returns the files written."""
    from xlbridge.atomic import write_atomic
    from xlbridge.publish import PublishError, build_report, report_html, report_pdf

    sheet = sheet if sheet is not None else book.sheets.active
    layout = find_layout(sheet, store)
    cs = layout.scheme
    rows = layout.rows()
    pop = score_population(cs, rows, explain=True, first_row=layout.first_row)
    heading = _sheet_title(layout)
    report = build_report(cs, pop, rows, title=t("{title}结果公示", title=heading) if heading
                          else None)
    folder = Path(out_dir) if out_dir is not None else Path(book.fullname).resolve().parent
    stem = f"{Path(book.name).stem}-{sheet.name}-" + t("公示")
    html_path, pdf_path = folder / f"{stem}.html", folder / f"{stem}.pdf"
    write_atomic(html_path, report_html(report), encoding="utf-8")
    written = [html_path]
    problem = None
    try:
        write_atomic(pdf_path, report_pdf(report))
        written.insert(0, pdf_path)
    except PublishError as exc:
        problem = str(exc)
    if alert:
        lines = [t("公示表已导出（{n} 条记录）：",
                   n=len(pop.records)), *[f"  {p}" for p in written]]
        if pop.invalid:
            lines.append(t("注意：{n} 条记录数据有误，未计分（见“检查本表”）。",
                           n=len(pop.invalid)))
        if problem:
            lines.append(problem)
        book.app.alert("\n".join(lines), TITLE)
        if sys.platform == "win32":   # open it for printing
            import contextlib
            import os

            with contextlib.suppress(OSError):
                os.startfile(written[0])  # type: ignore[attr-defined]
    return written


# --------------------------------------------------------------------------- sync, about


def _sync() -> SyncReport:
    """The sync client with the settings of the last ``xlbridge sync`` (server, kept token)."""
    from xlbridge.sync import sync

    return sync()


#: Text of the message when no server has been set up on this PC.
NO_SERVER = N_("同步失败：本机还没有设置方案服务器。请在命令提示符中运行一次 xlbridge sync "
               "--server <服务器地址> --token <令牌> --remember（或设置环境变量 XLBRIDGE_SERVER），"
               "以后点“同步方案”即可。")


def sync_text(report: SyncReport) -> list[str]:
    """What a sync did, in the clerk's words."""
    if report.offline:
        reason = report.errors[0] if report.errors else t("没有响应")
        return [t("无法连接方案服务器 {server}：{reason}", server=report.server, reason=reason),
                t("继续使用上次同步的方案（{path}）。", path=report.store)]
    lines = [t("已从 {server} 同步方案。", server=report.server)]
    lines.append(t("新下载的方案/版本：{schemes}", schemes=t("、").join(report.downloaded))
                 if report.downloaded else t("没有新的方案或版本。"))
    if report.deprecated:
        lines.append(t("服务器上已停用的方案：{schemes}", schemes=t("、").join(report.deprecated)))
    if report.errors:
        lines.append(t("{n} 个问题：", n=len(report.errors)))
        lines.extend(f"  {e}" for e in report.errors[:10])
    return lines


def sync_schemes(book: Any, store: SchemeStore | None = None, alert: bool = True) -> list[str]:
    """Fetch published schemes (:func:`xlbridge.sync.sync`), then say what was downloaded
    and which sheets compute with an older version than the newest. Returns the versions
    downloaded."""
    store = store or default_store()
    try:
        report = _sync()
    except ValueError:   # no server given, none remembered
        if alert:
            book.app.alert(gettext(NO_SERVER), TITLE)
        return []
    store.refresh(force=True)
    lines = sync_text(report)
    for sheet in book.sheets:
        bound = bound_scheme(sheet)
        if not bound:
            continue
        try:
            newest = store.entry(bound.partition("@")[0]).ref
        except (SchemeNotFound, ValueError):
            continue
        if newest != bound:
            lines.append(t("工作表“{sheet}”按 {scheme} 计算，已有 {newest}。", sheet=sheet.name,
                           scheme=bound, newest=newest))
    if alert:
        book.app.alert("\n".join(lines), TITLE)
    return list(report.downloaded)


#: Where a clerk reads what happens on a PC without the add-in (关于, README, templates).
WITHOUT_ADDIN = N_("在没有安装本加载项的电脑上（或在 WPS 中）打开计算过的工作簿，单元格显示保存时的"
                   "结果；一旦修改输入、引起重算，PERF_* 单元格会显示 #NAME?。对外发布或报送请用 "
                   "xlbridge recompute <工作簿> --values-only <文件夹> 生成的纯数值副本。")


def about(book: Any, store: SchemeStore | None = None, alert: bool = True) -> str:
    """Versions, where schemes come from, and which schemes and functions are available."""
    store = store or default_store()
    lines = [f"xlbridge {__version__} · xlwings {xw.__version__} · Python "
             f"{sys.version.split()[0]}", t("Python：{path}", path=sys.executable),
             t("方案目录：")]
    lines.extend(f"  {d}" for d in store.dirs)
    lines.append(t("方案："))
    lines.extend(f"  {e.ref} {e.title}" for e in store.entries())
    lines.append(t("工作表函数：{functions}", functions=t("、").join(FUNCTIONS)))
    lines.append(gettext(WITHOUT_ADDIN))
    text = "\n".join(lines)
    if alert:
        book.app.alert(text, TITLE)
    return text


# --------------------------------------------------------------------------- Excel entry

#: Ribbon actions by the name the VBA passes to :func:`run`.
ACTIONS: dict[str, Callable[..., Any]] = {
    "recompute_sheet": recompute_sheet,
    "recompute_workbook": recompute_workbook,
    "sync_schemes": sync_schemes,
    "check_sheet": check_sheet,
    "export_report": export_report,
    "about": about,
}


def run(action: str, book: Any = None) -> None:
    """Entry point of every ribbon button (called from VBA through RunPython)."""
    book = book if book is not None else xw.Book.caller()
    try:
        ACTIONS[action](book)
    except NoLayout as exc:
        book.app.alert(str(exc), TITLE)
    except Exception as exc:  # shown to the clerk in words, logged in full
        log.exception("ribbon action %s failed", action)
        book.app.alert(t("出错了：{kind}: {error}", kind=type(exc).__name__, error=exc), TITLE)


__all__: Sequence[str] = ["ACTIONS", "about", "check_sheet", "export_report", "recompute_sheet",
                          "recompute_workbook", "run", "sync_schemes"]
