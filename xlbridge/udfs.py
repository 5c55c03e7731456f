"""The PERF_* worksheet functions: a thin face over the engine for Excel formulas.

Each function is an ordinary Python function declared with xlwings' decorators
(``@xw.func``, ``@xw.arg``, ``@xw.ret``); the body never touches Excel, so it runs the same
here and inside Excel's xlwings UDF server. The names and argument orders are stable:
templates depend on them.

Arguments arrive the way xlwings hands them over: ranges as lists of lists (``ndim=2``),
empty cells as ``None``, numbers as floats, dates as ``datetime``, Excel error values as
their text (``err_to_str=True`` turns them into ``"#N/A"``) — and :mod:`xlbridge.engine.values`
reads every one of them (``"85"``, ``"85%"``, ``"８５"``, 是/否, …).

**Errors.** A function never raises into Excel (a Python exception would put a traceback in
the cell): every failure becomes an :class:`~xlbridge.xlvalues.ExcelError` with a reason —

* ``#N/A``   the scheme cannot be found or loaded; a score not in the population (like RANK);
  no tier holds the score; a group's quota results are withheld because of bad data;
* ``#VALUE!`` a value of the wrong kind (text where a number belongs, a blank that may not be
  blank, an unknown grade or condition, inputs that do not match the scheme);
* ``#NUM!``  a number outside its allowed range (a score above the maximum, a negative count,
  months beyond the period).

xlwings cannot hand a real error value back to VBA (a Python ``VARIANT(VT_ERROR)`` arrives
as text), so the return converter :class:`ExcelCell` sends an error as the text
``"#VALUE! <reason>"``, and the add-in's VBA wrapper (``xlbridge/addin``) turns exactly those
strings into real errors with ``CVErr`` — ISERROR/IFERROR/IFNA work on them. The reason is
readable with ``PERF_EXPLAIN`` (same arguments) and in the report of the ribbon's
“检查本表 Check sheet”.

**Caching.** Scheme look-ups go through :func:`xlbridge.store.default_store`, which compiles
each scheme once and re-reads the folders only when they change; header mappings and whole
population gradings are memoised per scheme generation, so 3,000 rows × 3 calls neither
re-read nor re-validate anything.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import suppress
from decimal import Decimal
from itertools import chain
from typing import Any

# xlwings (and numpy with it) is imported only where its decorators record anything:
# on Windows (Excel's UDF server), in xlwings' server mode, or when something has loaded it
# already (the add-in build, the tests). Elsewhere they are no-ops, and a headless recompute
# or score run saves the import (see xlbridge/xlwings_stub.py).
if sys.platform.startswith("win") or "xlwings" in sys.modules \
        or os.environ.get("XLWINGS_ON_SERVER") == "true":
    import xlwings as xw
    from xlwings.conversion import Converter
else:
    from xlbridge import xlwings_stub as xw

    Converter = object

from xlbridge.arith import fmt
from xlbridge.csvio import CsvInputError, header_map
from xlbridge.engine import (
    CompiledScheme,
    ErrorKind,
    FieldError,
    grade_totals,
    payout_for,
    score_population,
    score_record,
)
from xlbridge.engine.adjustments import capped_sum, deducted
from xlbridge.engine.columns import DEFAULT_COLUMNS, Column, Unavailable, columns_for, value_of
from xlbridge.engine.conditions import decide_grade
from xlbridge.engine.errors import ScoringError
from xlbridge.engine.needs import (
    Hidden,
    group_labels,
    hidden_conditions,
    hidden_gates,
    hidden_payout_rules,
    quota_group_keys,
)
from xlbridge.engine.population import PopulationResult, Withheld, grade_column
from xlbridge.engine.quotas import tie_keys
from xlbridge.engine.record import NO_GRADE, RecordResult, score_values
from xlbridge.engine.values import make_parser, normalize_text, parse_number_text
from xlbridge.i18n import N_, current_language, gettext, t
from xlbridge.scheme.inputs import InputSpec
from xlbridge.scheme.issues import SchemeInvalid
from xlbridge.store import SchemeNotFound, default_store
from xlbridge.xlvalues import ERROR_CODES, ExcelError, na_error, num_error, value_error

log = logging.getLogger(__name__)

#: The function-wizard category the add-in registers the functions under.
CATEGORY = "绩效考核 xlbridge"

#: Excel's limit on the text of one cell.
MAX_CELL_TEXT = 32767

#: The Excel error each kind of engine error shows as (see :mod:`xlbridge.engine.errors`).
_ERROR_OF_KIND = {ErrorKind.value: "#VALUE!", ErrorKind.num: "#NUM!", ErrorKind.na: "#N/A"}


# --------------------------------------------------------------------------- the wire


def to_wire(value: Any) -> Any:
    """A Python result → what crosses into Excel: Decimal → float, ExcelError → its text.

    An error travels as ``"#CODE reason"``; the add-in's VBA wrapper turns the code into the
    real error value. Lists (spilled results) are converted element by element.
    """
    kind = type(value)
    if kind is Decimal:
        return float(value)
    if kind is ExcelError:
        return f"{value.code} {value.reason}".rstrip()
    if kind is list or kind is tuple:
        return [to_wire(v) for v in value]
    if value is None:
        return ""
    return value


def from_wire(value: Any) -> Any:
    """The inverse of :func:`to_wire` for a cell: ``"#N/A reason"`` → ExcelError (tests, VBA)."""
    if isinstance(value, str) and value.startswith("#"):
        code, _, reason = value.partition(" ")
        if code in ERROR_CODES:
            return ExcelError(code, reason)
    return value


class ExcelCell(Converter):
    """Return converter of every PERF_* function (see :func:`to_wire`)."""

    @staticmethod
    def write_value(value: Any, options: dict[str, Any]) -> Any:
        return to_wire(value)


# --------------------------------------------------------------------------- the edge


class _Fail(Exception):
    """Raised inside a function body; becomes the cell's error value."""

    def __init__(self, error: ExcelError):
        self.error = error
        super().__init__(error.reason)


def _guard(body: Callable[[], Any]) -> Any:
    """Run a function body; any failure becomes an ExcelError, never a traceback."""
    try:
        return body()
    except _Fail as exc:
        return exc.error
    except Exception as exc:  # a bug: keep it out of the cell, but say what it was
        log.exception("worksheet function failed")
        return value_error(t("内部错误：{kind}: {error}", kind=type(exc).__name__, error=exc))


def _cell(value: Any) -> Any:
    """One cell as the engine reads it: Excel's error text → ExcelError, '' → None."""
    if isinstance(value, str):
        if value.startswith("#"):
            code = value.strip().upper()
            if code in ERROR_CODES:
                return ExcelError(code)
        if not value.strip():
            return None
    return value


def _cells(value: Any) -> list[Any]:
    """A one-row or one-column range (or a scalar) → a flat list of cells."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [_cell(value)]
    rows = [r if isinstance(r, (list, tuple)) else [r] for r in value]
    if len(rows) > 1 and any(len(r) > 1 for r in rows):
        raise _Fail(value_error(t("应为一行或一列单元格，实际为 {rows} 行 × {columns} 列",
                                  rows=len(rows), columns=max(len(r) for r in rows))))
    return [_cell(c) for r in rows for c in r]


def _rows(value: Any) -> list[list[Any]]:
    """A range as rows of cells (a single column gives one cell per row)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [[_cell(value)]]
    # numbers and empty cells pass as they are; only text can hide an error value or a blank
    return [[c if c is None or c.__class__ is float else _cell(c)
             for c in (r if isinstance(r, (list, tuple)) else [r])] for r in value]


def _text_arg(value: Any, what: str) -> str:
    value = _cell(value)
    if isinstance(value, ExcelError):
        raise _Fail(ExcelError(value.code, t("{what}是错误值 {code}", what=what,
                                             code=value.code)))
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Fail(value_error(t("未指定{what}", what=what)))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalize_text(str(value))


# --------------------------------------------------------------------------- schemes


def scheme_for(ref: Any) -> CompiledScheme:
    """The compiled scheme for a cell's reference (id, id@version or file); cached."""
    text = _text_arg(ref, t("方案"))
    try:
        return default_store().get(text)
    except SchemeNotFound as exc:
        raise _Fail(na_error(str(exc))) from None     # 找不到方案“…”；是不是：…？
    except SchemeInvalid as exc:
        first = exc.report.errors[0] if exc.report.errors else None
        why = (t("{path}：{message}", path=first.path, message=first.message) if first.path
               else first.message) if first else _first_line(str(exc))
        more = len(exc.report.errors) - 1
        raise _Fail(na_error(t("方案“{scheme}”有错误，无法使用：{why}", scheme=text, why=why)
                             + (t("（另有 {n} 处错误，见 xlbridge schemes validate）", n=more)
                                if more > 0 else ""))) from None
    except ValueError as exc:
        raise _Fail(value_error(t("方案引用“{scheme}”有误：{reason}", scheme=text,
                                  reason=exc))) from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


class _Memo:
    """A small LRU cache whose entries die when the scheme store changes."""

    def __init__(self, size: int):
        self.size = size
        self.generation = -1
        self.items: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        generation = default_store().generation
        if generation != self.generation:
            self.items.clear()
            self.generation = generation
        try:
            self.items.move_to_end(key)
            return self.items[key]
        except KeyError:
            pass
        value = make()
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


_headers_memo = _Memo(64)
_population_memo = _Memo(16)


def _record(cs: CompiledScheme, inputs: Any, headers: Any) -> dict[str, Any]:
    """A row of cells → raw values by input id, by header names or by position."""
    cells = _cells(inputs)
    if headers is None or headers == [] or headers == [[]]:
        specs = cs.inputs
        if len(cells) != len(specs):
            order = t("、").join(s.label for s in specs)
            raise _Fail(value_error(t(
                "按位置对应时应有 {n} 个单元格（{order}），实际 {got} 个；或给出表头行 headers",
                n=len(specs), order=order, got=len(cells))))
        return {s.id: c for s, c in zip(specs, cells, strict=True)}
    names = tuple("" if h is None else str(h) for h in _cells(headers))
    if len(names) != len(cells):
        raise _Fail(value_error(t("表头有 {headers} 个单元格，数据有 {cells} 个，应一样多",
                                  headers=len(names), cells=len(cells))))

    def make() -> dict[int, str] | ExcelError:
        try:
            return header_map(names, cs.inputs, t("表头 headers"))[0]
        except CsvInputError as exc:
            return value_error(str(exc))

    mapping = _headers_memo.get((cs.ref, names, current_language()), make)
    if isinstance(mapping, ExcelError):
        raise _Fail(mapping)
    return {key: cells[i] for i, key in mapping.items()}


def _field_error(error: FieldError) -> ExcelError:
    """An engine error as the cell's error value: the code by the error's kind, never by
    its text."""
    return ExcelError(_ERROR_OF_KIND[error.kind], str(error))


def _unavailable(value: Any) -> Any:
    """A result-column value as a cell shows it (an Unavailable becomes its error)."""
    if value.__class__ is Unavailable:
        return ExcelError(_ERROR_OF_KIND[value.kind], value.reason)
    return "" if value is None else value


_parsers: dict[str, Callable[[Any], Any]] = {}


def _number(value: Any, label: str, *, blank_ok: bool = False) -> Decimal | None:
    """A number argument read like an input cell ("85", "85%", full-width digits…)."""
    value = _cell(value)
    if value is None and blank_ok:
        return None
    parser = _parsers.get(label)
    if parser is None:
        parser = _parsers[label] = make_parser(InputSpec("value", label, "number", "value"))
    try:
        return parser(value)
    except FieldError as exc:
        raise _Fail(_field_error(exc)) from None


def _limit(value: Any, label: str, *, blank_ok: bool = True) -> Decimal | None:
    """A cap or a full mark: a number ≥ 0 (a negative cap would add points)."""
    x = _number(value, label, blank_ok=blank_ok)
    if x is not None and x < 0:
        raise _Fail(num_error(t("{label}不能为负：{value}", label=label, value=fmt(x))))
    return x


def _total(cs: CompiledScheme, value: Any) -> Decimal:
    """A score given to grade or pay: a number that, rounded as the scheme rounds totals, the
    scheme can produce (else #NUM!) — the check grade_totals makes. Returned as given: the
    callers round it themselves, or look it up among a population's unrounded cells."""
    total = _number(value, t("分数"))
    try:
        cs.check_total(cs.round_total(total) if cs.round_total else total)  # type: ignore[arg-type]
    except ScoringError as exc:
        raise _Fail(_field_error(exc.error)) from None
    return total  # type: ignore[return-value]


_FLAG_SPLIT = re.compile(r"[,，、;；\n]+")
_FLAG_GAP = re.compile(r"[,，、;；\s]+")    # what may stand between two named conditions


def _flags_of(cs: CompiledScheme, value: Any) -> list[str]:
    """Condition ids/titles named in one record's cells (separated by 、 , ; or lines).

    A title may itself contain 、 or ，(“当季新录用或新调入，工作不满20个工作日”): the
    scheme's own names are matched whole first, longest first, and only the rest is split."""
    names = _condition_names(cs)
    out: list[str] = []
    for cell in _all_cells(value):
        if cell is None or cell is False:
            continue
        if isinstance(cell, ExcelError):
            raise _Fail(_upstream(cell, t("条件单元格")))
        text = normalize_text(str(cell))
        at = 0
        while at < len(text):
            m = _FLAG_GAP.match(text, at)
            if m:
                at = m.end()
                continue
            name = next((n for n in names if text.startswith(n, at) and (
                at + len(n) == len(text) or _FLAG_GAP.match(text, at + len(n)))), None)
            if name is None:     # not one of the scheme's names: up to the next separator
                m = _FLAG_SPLIT.search(text, at)
                name = text[at:m.start() if m else len(text)].strip()
            out.append(name)
            at += len(name)
    return out


def _condition_names(cs: CompiledScheme) -> list[str]:
    """The scheme's condition ids and titles, normalised, longest first."""
    names = {normalize_text(c.id) for c in cs.scheme.conditions} | \
        {normalize_text(c.title) for c in cs.scheme.conditions}
    return sorted(names, key=len, reverse=True)


def _upstream(error: ExcelError, what: str) -> ExcelError:
    """An argument cell that holds an error: the same error, saying which argument, and —
    where the error carries one (recompute hands its cells' reasons along) — why."""
    why = t("（{reason}）", reason=error.reason) if error.reason else ""
    return ExcelError(error.code, t("{what}是错误值 {code}", what=what, code=error.code) + why)


def _check_flags(cs: CompiledScheme, flags: Iterable[str]) -> None:
    known = {normalize_text(c.id) for c in cs.scheme.conditions} | \
        {normalize_text(c.title) for c in cs.scheme.conditions}
    unknown = [f for f in flags if f not in known]
    if unknown:
        names = t("、").join(c.title for c in cs.scheme.conditions) or t("（无）")
        raise _Fail(value_error(t("方案 {scheme} 没有条件 {unknown}；可用：{names}",
                                  scheme=cs.ref, unknown=t("、").join(unknown), names=names)))


def _grade_value(r: Any) -> Any:
    """One graded record → what its cell shows."""
    if r.errors:
        return _field_error(r.errors[0])
    if r.withheld:
        return na_error(r.withheld)
    return r.grade_text


# --------------------------------------------------------------------------- functions
# No type annotations on the parameters: xlwings reads annotations as converters.


#: Per function, the arguments declared as ranges (``ndim=2``, see :func:`range_arg`).
#: xlwings hands those over as lists of lists; every other argument takes one value, and
#: xlwings passes a scalar for it even when the formula gives a one-cell range or a defined
#: name (``=PERF_GRADE(F5, 方案)``). ``xlbridge recompute`` calls the functions the same way.
RANGE_ARGS: dict[str, frozenset[str]] = {}


def range_arg(name: str, doc: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@xw.arg(name, ndim=2, err_to_str=True, doc=doc)``, remembered in RANGE_ARGS."""

    def declare(f: Callable[..., Any]) -> Callable[..., Any]:
        RANGE_ARGS[f.__name__] = RANGE_ARGS.get(f.__name__, frozenset()) | {name}
        # ``xw.arg`` is looked up now, not at import: the add-in's registry swaps in
        # xlwings' desktop decorators before it runs this module again
        return xw.arg(name, ndim=2, err_to_str=True, doc=doc)(f)

    return declare


@xw.func(category=CATEGORY)
@xw.arg("scheme", err_to_str=True,
        doc="方案：id、id@版本 或 文件路径，如 \"bailian-township@1\"。"
        "Scheme: id, id@version or a file path.")
@range_arg("inputs",
           doc="一条记录的输入单元格（一行）。The record's input cells (one row).")
@range_arg("headers",
           doc="可选：与输入对齐的表头行（输入的 id 或中文名）；省略时按方案的输入顺序对应。"
           "Optional header row naming each input by id or label; omitted: scheme order.")
@xw.ret(ExcelCell)
def PERF_SCORE(scheme, inputs, headers=None):
    """一条记录的总分（按方案计分）。Total score of one record under the scheme."""

    def body() -> Any:
        cs = scheme_for(scheme)
        r = score_record(cs, _record(cs, inputs, headers))
        if r.errors:
            return _field_error(r.errors[0])
        return r.total

    return _guard(body)


# --------------------------------------------------------------------------- what a call lacks

#: The form that always gives the engine's result for a record: the whole population.
RESULTS_FORM = N_("PERF_RESULTS(方案, 记录区域, 表头)")


def _omitted(value: Any) -> bool:
    """An optional argument left out (a blank *cell* given for it is not omitted)."""
    return value is None or value == [] or value == [[]]


def _refuse(cs: CompiledScheme, hidden: list[Hidden], how: str) -> None:
    """#VALUE! naming what this call cannot see, if anything, and how to pass it."""
    if hidden:
        raise _Fail(value_error(t("方案 {scheme} 的结果还取决于 {rules}，{how}", scheme=cs.ref,
                                  rules=_hidden_text(hidden), how=how)))


def _hidden_text(hidden: list[Hidden]) -> str:
    """The rules a call cannot see: the first three in full, then how many more."""
    text = t("；").join(h.text() for h in hidden[:3])
    return text + (t(" 等 {n} 项", n=len(hidden)) if len(hidden) > 3 else "")


def _refuse_gates(cs: CompiledScheme) -> None:
    _refuse(cs, hidden_gates(cs), t("仅凭总分无法判断；请改用 {form} 按整条记录计算",
                                    form=gettext(RESULTS_FORM)))


def _refuse_conditions(cs: CompiledScheme, argument: str) -> None:
    _refuse(cs, hidden_conditions(cs),
            t("仅凭总分无法判断是否适用；请在 {argument} 中写明适用的条件"
              "（都不适用时引用空白单元格），或改用 {form}", argument=argument,
              form=gettext(RESULTS_FORM)))


def _holds(cs: CompiledScheme, named: Iterable[str], total: Decimal) -> Callable[..., bool]:
    """Which conditions hold for a record known by its total and its named conditions: the
    named ones, and those that read nothing but the total and hold for it."""
    names = set(named)
    env = {"total": total}
    hidden = {h.id for h in hidden_conditions(cs)}

    def holds(cond: Any, when: Any) -> bool:
        if normalize_text(cond.id) in names or normalize_text(cond.title) in names:
            return True
        return cond.id not in hidden and cond.then.flag is None and bool(when(env))

    return holds


# --------------------------------------------------------------------------- grades


@xw.func(category=CATEGORY)
@xw.arg("score", err_to_str=True, doc="总分。The total score.")
@xw.arg("scheme", err_to_str=True,
        doc="方案：id 或 id@版本。Scheme: id or id@version.")
@range_arg("population",
           doc="可选：全体总分（含本人），按方案的名额和并列规则定等次，如 RANK 的引用；名额分组"
           "计算或有否决条件的方案请用 PERF_GRADES 或 PERF_RESULTS。"
           "Optional: every total (this one included) to apply the scheme's quotas.")
@range_arg("flags",
           doc="本人适用的条件（id 或标题，用、分隔），如一票否决；"
           "方案有读取其他数据的条件时必须给出"
           "（都不适用时引用空白单元格）。Conditions that hold for this record (ids or titles); "
           "required where the scheme has conditions on other inputs (a blank cell: none hold).")
@xw.ret(ExcelCell)
def PERF_GRADE(score, scheme, population=None, flags=None):
    """等次：按分数定等次（给出全体总分时计名额）。
    Grade tier of a score; with a population, after the scheme's quotas."""

    def body() -> Any:
        cs = scheme_for(scheme)
        flags_given = not _omitted(flags)
        named = _flags_of(cs, flags) if flags_given else []
        if named:
            _check_flags(cs, named)
        total = _total(cs, score)
        _refuse_gates(cs)
        if not flags_given:
            _refuse_conditions(cs, "flags")   # the argument's name, as typed
        if _omitted(population):
            return _grade_alone(cs, total, named)
        if cs.scheme.quotas is not None:
            keys = quota_group_keys(cs)
            if keys:
                raise _Fail(value_error(t(
                    "方案 {scheme} 的名额按“{groups}”分组计算，逐行的 PERF_GRADE 不知道各条记录的"
                    "分组；请改用 PERF_GRADES(方案, 总分列, 条件列, 分组列) 或 {form}",
                    scheme=cs.ref, groups=group_labels(cs, keys), form=gettext(RESULTS_FORM))))
            others = hidden_conditions(cs)
            if others:
                raise _Fail(value_error(t(
                    "方案 {scheme} 中其他记录是否符合 {rules} 也影响名额，逐行的 PERF_GRADE "
                    "无法得知；请改用 PERF_GRADES(方案, 总分列, 条件列) 或 {form}",
                    scheme=cs.ref, rules=_hidden_text(others), form=gettext(RESULTS_FORM))))
        return _grade_in(cs, score, population, named)

    return _guard(body)


def _grade_alone(cs: CompiledScheme, total: Decimal, named: list[str]) -> Any:
    """The tier of a score with its conditions, before quotas (there is no population)."""
    rounded = cs.round_total(total) if cs.round_total else total
    r = RecordResult(None, {})
    r.total = rounded
    try:
        decide_grade(cs, r, {"total": rounded}, None, holds=_holds(cs, named, rounded))
    except ScoringError as exc:
        return _field_error(exc.error)
    r.grade = r.tier
    return r.grade_text


def _flat(value: Any) -> tuple[Any, ...]:
    """A range's cells as one tuple, at C speed (the memo key of a population)."""
    if not isinstance(value, (list, tuple)):
        return (value,)
    if value and isinstance(value[0], (list, tuple)):
        return tuple(chain.from_iterable(value))
    return tuple(value)


class _Population:
    """A population range graded once: its records, where each total first appears, and the
    grades without flags. Shared by every PERF_GRADE call that passes the same range."""

    def __init__(self, cs: CompiledScheme, raw: tuple[Any, ...]):
        self.totals = [c for c in (_cell(x) for x in raw) if c is not None]
        self.index: dict[Decimal, int] = {}
        for i, c in enumerate(self.totals):
            with suppress(_Fail):
                self.index.setdefault(_number(c, t("分数")), i)  # type: ignore[arg-type]
        self.grades = [_grade_value(r) for r in grade_totals(cs, self.totals, payout=False).records]


def _grade_in(cs: CompiledScheme, score: Any, population: Any, named: list[str]) -> Any:
    raw = _flat(population)
    pop: _Population = _population_memo.get((cs.ref, raw), lambda: _Population(cs, raw))
    total = _total(cs, score)
    index = pop.index.get(total)  # type: ignore[arg-type]
    if index is None:
        return na_error(t("{total} 不在全体总分中", total=fmt(total)))
    if not named:
        return pop.grades[index]

    def make() -> Any:
        flags: list[list[str]] = [[] for _ in pop.totals]
        flags[index] = named
        return _grade_value(grade_totals(cs, pop.totals, flags=flags, payout=False).records[index])

    return _population_memo.get((cs.ref, raw, index, tuple(named)), make)


@xw.func(category=CATEGORY)
@xw.arg("scheme", err_to_str=True,
        doc="方案：id 或 id@版本。Scheme: id or id@version.")
@range_arg("scores",
           doc="一列总分（空行不计）。A column of totals (blank rows are not records).")
@range_arg("flags",
           doc="与总分对齐的一列（或几列）条件；方案有读取其他数据的条件时必须给出。"
           "Conditions per row, aligned; required where the scheme has conditions on inputs.")
@range_arg("groups",
           doc="与总分对齐的分组（如考核类别），名额按组计算；名额分组计算的方案必须给出。"
           "Each row's group (e.g. category); required where quotas apply per group.")
@range_arg("tiebreak",
           doc="可选：名额线上总分并列时依次比较的分项得分，每项一列，按方案并列规则"
           "（ties.keys）的顺序；缺少时这类并列显示 #VALUE!。Optional: the part scores that break "
           "a tie at a quota line, one column per tie key, in the scheme's order.")
@xw.ret(ExcelCell)
def PERF_GRADES(scheme, scores, flags=None, groups=None, tiebreak=None):
    """一列等次（按名额和并列规则），作为动态数组溢出。
    A column of quota-aware grades, returned as a spilled array."""

    def body() -> Any:
        cs = scheme_for(scheme)
        rows = _rows(scores)
        if rows and len(rows[0]) > 1 and len(rows) == 1:
            rows = [[c] for c in rows[0]]  # a row of scores: one record per cell
        if any(len(r) != 1 for r in rows):
            raise _Fail(value_error(t("总分应为一列")))
        cells = [r[0] for r in rows]
        flag_rows = _aligned(flags, len(cells), t("flags 条件"))
        group_rows = _aligned(groups, len(cells), t("groups 分组"))
        _refuse_gates(cs)
        if flag_rows is None:
            _refuse_conditions(cs, t("flags（条件列）"))
        keys = quota_group_keys(cs)
        if keys and group_rows is None:
            raise _Fail(value_error(t(
                "方案 {scheme} 的名额按“{groups}”分组计算，请给出与总分对齐的分组列 groups，"
                "或改用 {form}", scheme=cs.ref, groups=group_labels(cs, keys),
                form=gettext(RESULTS_FORM))))
        if keys and cs.scheme.groups and keys != list(cs.scheme.groups):
            raise _Fail(value_error(t(
                "方案 {scheme} 的名额分组（{quota_groups}）与排名分组（{rank_groups}）不同，"
                "一列分组无法同时表示；请改用 {form}", scheme=cs.ref,
                quota_groups=group_labels(cs, keys),
                rank_groups=group_labels(cs, list(cs.scheme.groups)),
                form=gettext(RESULTS_FORM))))
        present = [i for i, c in enumerate(cells) if c is not None]
        totals = [cells[i] for i in present]
        named = [_flags_of(cs, flag_rows[i]) for i in present] if flag_rows else None
        if named:
            _check_flags(cs, {f for fs in named for f in fs})
        grouped = [_group_text(group_rows[i]) for i in present] if group_rows else None
        ties = _tie_scores(cs, tiebreak, len(cells))
        out: list[list[Any]] = [[""] for _ in cells]
        column = grade_column(cs, totals, grouped) if not named and not ties else None
        if column is not None:   # the common call, without a result object per row
            for i, g in zip(present, column, strict=True):
                out[i][0] = g if g.__class__ is str else _column_value(g)
            return out
        result = grade_totals(cs, totals, groups=grouped, flags=named,
                              tie_scores=[ties[i] for i in present] if ties else None,
                              first_row=1, payout=False)
        for i, r in zip(present, result.records, strict=True):
            out[i][0] = _grade_value(r)
        return out

    result = _guard(body)
    return result if isinstance(result, list) else [[result]]


def _column_value(g: Any) -> Any:
    """A grade_column entry that is not a label → what its cell shows."""
    if g is None:
        return ""
    if isinstance(g, Withheld):
        return na_error(g.reason)
    return _field_error(g)


def _tie_scores(cs: CompiledScheme, value: Any, n: int) -> list[list[Any]] | None:
    """The tiebreak range: one row per score, one column per declared tie key."""
    rows = _aligned(value, n, t("tiebreak 并列比较分"))
    if rows is None:
        return None
    keys = tie_keys(cs)
    if not keys:
        raise _Fail(value_error(t("方案 {scheme} 没有声明并列比较项（ties.keys），不需要 tiebreak",
                                  scheme=cs.ref)))
    if any(len(r) != len(keys) for r in rows):
        names = t("、").join(cs.part_titles.get(k, k) for k in keys)
        raise _Fail(value_error(t("tiebreak 应有 {n} 列，依次为 {names}", n=len(keys),
                                  names=names)))
    return rows


def _aligned(value: Any, n: int, what: str) -> list[list[Any]] | None:
    if _omitted(value):
        return None
    rows = _rows(value)
    if len(rows) == 1 and n > 1 and len(rows[0]) == n:
        rows = [[c] for c in rows[0]]
    if len(rows) != n:
        raise _Fail(value_error(t("{what}有 {rows} 行，总分有 {n} 行，应一样多", what=what,
                                  rows=len(rows), n=n)))
    return rows


def _group_text(row: list[Any]) -> str:
    parts = []
    for c in row:
        if isinstance(c, ExcelError):
            raise _Fail(_upstream(c, t("分组单元格")))
        if c is not None:
            parts.append(fmt(Decimal(str(c))) if isinstance(c, float) else str(c))
    return "/".join(parts)


# --------------------------------------------------------------------------- whole records


@xw.func(category=CATEGORY)
@xw.arg("scheme", err_to_str=True,
        doc="方案：id 或 id@版本。Scheme: id or id@version.")
@range_arg("records",
           doc="全部记录的输入区域，每行一条记录（与方案的输入列对应）；空白行不计。"
           "Every record's input cells, one row per record; blank rows are not records.")
@range_arg("headers",
           doc="可选：记录区域上方的表头行（输入的 id 或中文名）；省略时按方案的输入顺序对应。"
           "Optional header row over the records; omitted: the scheme's input order.")
@range_arg("columns",
           doc="可选：要返回的结果列及顺序，如 \"总分,等次,奖金\" 或结果列的表头单元格；"
           "可用 总分、等次、奖金、排名、标记、暂缓原因、计分明细 或考核项目名称；"
           "默认 总分、等次、奖金、排名、标记。Optional: the result columns wanted, in order "
           "(default total, grade, pay, rank, flags).")
@xw.arg("first_row", err_to_str=True,
        doc="可选：首条记录所在的行号（用于提示中的行号），如 ROW(B6)；"
        "省略时按区域内的顺序编号。"
        "Optional: the sheet row of the first record, for messages.")
@xw.ret(ExcelCell)
def PERF_RESULTS(scheme, records, headers=None, columns=None, first_row=None):
    """整表结果：每条记录的总分、等次、奖金、排名、标记（计名额、分组、条件、门槛和并列），
    与 xlbridge score 完全一致；作为动态数组溢出，每条记录一行。
    Every record's results, exactly as xlbridge score gives them (quotas, groups,
    conditions, gates, ties), spilled one row per record."""

    def body() -> Any:
        cs = scheme_for(scheme)
        rows = _rows(records)
        wanted = _result_columns(cs, columns)
        start = _first_row(first_row)
        explain = any(c.kind in ("explain", "part") for c in wanted)
        graded = _results(cs, rows, records, headers, start, explain)
        if isinstance(graded, ExcelError):
            return graded
        out: list[list[Any]] = []
        for r in graded.rows:
            if r is None:
                out.append([""] * len(wanted))
            else:
                out.append([_unavailable(value_of(cs, r, c)) for c in wanted])
        return out or [[""] * len(wanted)]

    result = _guard(body)
    return result if isinstance(result, list) else [[result]]


class _Scored:
    """A records range scored once: each row's result (None: a blank row) and the
    population result (ties, quota lines) — shared by every PERF_RESULTS call over it."""

    def __init__(self, rows: list[Any], population: PopulationResult):
        self.rows = rows
        self.population = population


def _results(cs: CompiledScheme, rows: list[list[Any]], records: Any, headers: Any,
             start: int, explain: bool) -> _Scored | ExcelError:
    key = (cs.ref, _flat(records), _flat(headers) if not _omitted(headers) else (), start,
           explain)
    return _population_memo.get(key, lambda: _score_rows(cs, rows, headers, start, explain))


def results_population(scheme: Any, records: Any, headers: Any = None,
                       first_row: Any = None) -> PopulationResult | None:
    """The population result behind a PERF_RESULTS call with these arguments (its ties and
    quota lines, for ``xlbridge recompute``'s report); None if the call gives an error."""
    try:
        cs = scheme_for(scheme)
        got = _results(cs, _rows(records), records, headers, _first_row(first_row), False)
    except _Fail:
        return None
    return got.population if isinstance(got, _Scored) else None


def results_grade_column(scheme: Any, columns: Any) -> int | None:
    """Which column of a PERF_RESULTS call's result holds the grade (None: none does)."""
    try:
        wanted = _result_columns(scheme_for(scheme), columns)
    except _Fail:
        return None
    return next((i for i, c in enumerate(wanted) if c.kind == "grade"), None)


def _result_columns(cs: CompiledScheme, value: Any) -> list[Column]:
    if _omitted(value):
        names = [c for c in DEFAULT_COLUMNS]
        return [Column(k) for k in names]
    names = [x for cell in _all_cells(value) if cell is not None
             for x in _FLAG_SPLIT.split(str(cell).replace(" ", "、")) if x.strip()]
    try:
        return columns_for(cs, names)
    except ValueError as exc:
        raise _Fail(value_error(str(exc))) from None


def _first_row(value: Any) -> int:
    number = _number(value, t("首行行号"), blank_ok=True)
    if number is None:
        return 1
    if number != number.to_integral_value() or number < 1:
        raise _Fail(num_error(t("首行行号应为正整数，实际为 {value}", value=fmt(number))))
    return int(number)


def _score_rows(cs: CompiledScheme, rows: list[list[Any]], headers: Any, start: int,
                explain: bool) -> _Scored | ExcelError:
    """Score every non-blank row of a records range as one population (None: a blank row)."""
    width = max((len(r) for r in rows), default=0)
    if _omitted(headers):
        specs = cs.inputs
        if width != len(specs):
            order = t("、").join(s.label for s in specs)
            return value_error(t("按位置对应时记录区域应有 {n} 列（{order}），实际 {got} 列；"
                                 "或给出表头行 headers", n=len(specs), order=order, got=width))
        mapping = {i: s.id for i, s in enumerate(specs)}
    else:
        names = tuple("" if h is None else str(h) for h in _cells(headers))
        if len(names) != width:
            return value_error(t("表头有 {headers} 个单元格，记录区域有 {width} 列，应一样多",
                                 headers=len(names), width=width))
        try:
            mapping = header_map(names, cs.inputs, t("表头 headers"))[0]
        except CsvInputError as exc:
            return value_error(str(exc))
    present: list[int] = []
    raws: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        rec = {key: row[j] if j < len(row) else None for j, key in mapping.items()}
        if all(v is None for v in rec.values()):
            continue
        present.append(i)
        raws.append(rec)
    pop = score_population(cs, raws, explain=explain, first_row=[start + i for i in present])
    out: list[Any] = [None] * len(rows)
    for i, r in zip(present, pop.records, strict=True):
        out[i] = r
    return _Scored(out, pop)


# --------------------------------------------------------------------------- payouts


@xw.func(category=CATEGORY)
@xw.arg("grade_or_score", err_to_str=True,
        doc="等次（如“优秀”）或总分（按分数定等次）。A grade label, or a score to grade.")
@xw.arg("scheme", err_to_str=True,
        doc="方案：id 或 id@版本。Scheme: id or id@version.")
@xw.arg("base", err_to_str=True,
        doc="可选：月基本工资（按月数发放的方案需要）。Optional: monthly base salary.")
@xw.arg("months", err_to_str=True,
        doc="可选：在职月数，按比例发放。Optional: months served in the period (pro rata).")
@xw.ret(ExcelCell)
def PERF_BONUS(grade_or_score, scheme, base=None, months=None):
    """奖金：按等次（或分数）计发。Payout for a grade (or a score) under the scheme."""

    def body() -> Any:
        cs = scheme_for(scheme)
        payout = cs.scheme.payout
        if payout is None:
            return na_error(t("方案 {scheme} 没有规定奖金", scheme=cs.ref))
        value = _cell(grade_or_score)
        if isinstance(value, ExcelError):
            return _upstream(value, t("等次单元格"))
        grade: str | None
        if (isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)) or (
                isinstance(value, str) and parse_number_text(value) is not None):
            total = _total(cs, value)
            if cs.scheme.quotas is not None:
                return value_error(t("方案 {scheme} 有名额限制，按分数无法确定最终等次；请给出最终"
                                     "等次（PERF_GRADES 的结果），或改用 {form}", scheme=cs.ref,
                                     form=gettext(RESULTS_FORM)))
            _refuse_gates(cs)
            _refuse_conditions(cs, t("等次（先用 PERF_GRADE 定等次）"))
            rounded = cs.round_total(total) if cs.round_total else total
            grade = cs.tier_for(rounded, {"total": rounded})
            if grade is None:
                return na_error(t("{total} 分没有对应的等次", total=fmt(rounded)))
        elif value is None or normalize_text(str(value)) == NO_GRADE:
            grade = None
        else:
            grade = normalize_text(str(value))
            if grade not in cs.tier_index:
                labels = t("、").join(tier.label for tier in cs.tiers)
                return value_error(t("“{grade}”不是方案 {scheme} 的等次；应为：{labels}",
                                     grade=grade, scheme=cs.ref, labels=labels))
        if payout.rank_prizes is not None:
            return value_error(t("方案 {scheme} 另按组内名次发奖（{prizes}），仅凭等次无法确定；"
                                 "请改用 {form}", scheme=cs.ref, prizes=payout.rank_prizes.title,
                                 form=gettext(RESULTS_FORM)))
        _refuse(cs, hidden_payout_rules(cs, grade),
                t("仅凭等次无法判断是否适用；请改用 PERF_RESULTS(方案, 记录区域, 表头, \"奖金\")"))
        base_value = _number(base, t("月基本工资"), blank_ok=True)
        months_value = _number(months, t("在职月数"), blank_ok=True)
        try:
            return payout_for(cs, grade, base_value, months_value)
        except FieldError as exc:
            return _field_error(exc)

    return _guard(body)


# --------------------------------------------------------------------------- building blocks


@xw.func(category=CATEGORY)
@range_arg("values",
           doc="各项加分（空白按0）。The items' points (blank = 0).")
@xw.arg("cap", err_to_str=True, doc="合计封顶分值（累计不超过）。Cap on the total.")
@xw.arg("per_item_cap", err_to_str=True,
        doc="可选：每项封顶分值。Optional: cap on each item.")
@xw.ret(ExcelCell)
def PERF_CAP(values, cap, per_item_cap=None):
    """封顶求和：每项不超过单项上限，合计不超过上限。Capped sum of items."""

    def body() -> Any:
        limit = _limit(cap, t("封顶分值"))
        item_limit = _limit(per_item_cap, t("单项封顶"))
        items = [_number(c, t("加分")) for c in _all_cells(values) if c is not None]
        return capped_sum(items, limit, item_limit)  # type: ignore[arg-type]

    return _guard(body)


@xw.func(category=CATEGORY)
@xw.arg("full", err_to_str=True, doc="满分（该项分值）。The part's full points.")
@range_arg("deductions",
           doc="各项扣分（空白按0）。The deductions (blank = 0).")
@xw.arg("cap", err_to_str=True,
        doc="可选：扣分合计上限（扣满为止）。Optional: cap on the total deduction.")
@xw.ret(ExcelCell)
def PERF_DEDUCT(full, deductions, cap=None):
    """减分制：满分减去扣分，扣分可封顶，扣完为止（不低于0）。
    Full points minus deductions (optionally capped), floored at zero."""

    def body() -> Any:
        top = _limit(full, t("满分"), blank_ok=False)
        limit = _limit(cap, t("扣分上限"))
        items = []
        for c in _all_cells(deductions):
            if c is None:
                continue
            x = _number(c, t("扣分"))
            assert x is not None
            if x < 0:
                return num_error(t("{label}不能为负：{value}", label=t("扣分"), value=fmt(x)))
            items.append(x)
        return deducted(top, capped_sum(items, limit))  # type: ignore[arg-type]

    return _guard(body)


def _all_cells(value: Any) -> list[Any]:
    return [c for row in _rows(value) for c in row]


# --------------------------------------------------------------------------- explanations


@xw.func(category=CATEGORY)
@xw.arg("scheme", err_to_str=True,
        doc="方案：id、id@版本 或 文件路径。Scheme: id, id@version or a file.")
@range_arg("inputs",
           doc="一条记录的输入单元格（一行）。The record's input cells (one row).")
@range_arg("headers",
           doc="可选：与输入对齐的表头行。Optional header row naming each input.")
@xw.ret(ExcelCell)
def PERF_EXPLAIN(scheme, inputs, headers=None):
    """计分明细（文字），用于公示和复核；数据有误时说明原因。
    The breakdown as text, for publication and appeals; says why when data is bad."""

    def body() -> Any:
        cs = scheme_for(scheme)
        record = _record(cs, inputs, headers)
        lines = [f"{cs.ref} {cs.scheme.title}"]
        if _needs_population(cs):
            # one record cannot know its place: the grade by score only, no payout
            values, errors = cs.parse(record)
            r = score_values(cs, values, None, True, errors)
            lines.append(r.explain())
            if r.ok:
                lines.append(t("（以上为单条记录按分数的等次，未计名额和排名；最终等次、奖金须与全组"
                               "一起计算：{form} 的“计分明细”列，或“重算本表”）",
                               form=gettext(RESULTS_FORM)))
        else:
            r = score_record(cs, record, explain=True)
            lines.append(r.explain())
        lines.extend(_how_to_pass(cs))
        return "\n".join(lines)

    result = _guard(body)
    if isinstance(result, ExcelError):
        return f"{result.code} {result.reason}"[:MAX_CELL_TEXT]
    return result[:MAX_CELL_TEXT]


def _needs_population(cs: CompiledScheme) -> bool:
    """Does a record's final grade or payout depend on the other records?"""
    payout = cs.scheme.payout
    return bool(cs.scheme.quotas or cs.rank_parts or (payout and payout.rank_prizes))


def _how_to_pass(cs: CompiledScheme) -> list[str]:
    """For the grade functions: what they need besides a total, and how to pass it."""
    lines = []
    conditions = hidden_conditions(cs)
    if conditions:
        lines.append(t("PERF_GRADE/PERF_GRADES 须在 flags 中写明适用的条件：{rules}",
                       rules=t("；").join(h.text() for h in conditions)))
    gates = hidden_gates(cs)
    if gates:
        lines.append(t("等次门槛 {rules} 仅凭总分无法判断：请用 {form}",
                       rules=t("；").join(h.text() for h in gates), form=gettext(RESULTS_FORM)))
    keys = quota_group_keys(cs)
    if keys:
        lines.append(t("名额按“{groups}”分组计算：PERF_GRADES 须给出分组列 groups",
                       groups=group_labels(cs, keys)))
    if tie_keys(cs):
        names = t("、").join(cs.part_titles.get(k, k) for k in tie_keys(cs))
        lines.append(t("名额线上同分时依次比较 {names}：PERF_GRADES 须给出 tiebreak", names=names))
    return lines


@xw.func(category=CATEGORY)
@xw.arg("scheme", err_to_str=True,
        doc="方案：id 或 id@版本。Scheme: id or id@version.")
@xw.ret(ExcelCell)
def PERF_SCHEME(scheme):
    """本表所用方案：id@版本、标题、同步时间，以及是否有新版本。
    Which scheme and version the sheet computes with, and when it was synced."""

    def body() -> Any:
        cs = scheme_for(scheme)
        return describe_scheme(cs)

    return _guard(body)


def describe_scheme(cs: CompiledScheme) -> str:
    """'id@version 标题 · 同步于 … · 已有新版本 @n' for PERF_SCHEME and the ribbon."""
    store = default_store()
    parts = [f"{cs.ref} {cs.scheme.title}"]
    try:
        entry = store.entry(cs.ref)
        newest = store.entry(cs.id)
    except (SchemeNotFound, ValueError):
        entry = newest = None
    if entry is not None:
        from xlbridge.store import REPO_SCHEMES
        from xlbridge.sync import synced_at

        if entry.path.parent == REPO_SCHEMES:
            # no time here: the cell must read the same on every PC that has this release
            parts.append(t("随软件提供"))
        else:
            # when a sync last confirmed it (the sync's own record), else when the file came
            synced = synced_at(cs.id, entry.path.parent.parent) or \
                _dt.datetime.fromtimestamp(entry.path.stat().st_mtime)
            parts.append(t("同步于 {time}", time=synced.strftime("%Y-%m-%d %H:%M")))
        if newest is not None and newest.version > cs.version:
            parts.append(t("已有新版本 {scheme}", scheme=newest.ref))
    else:
        parts.append(t("文件 {path}", path=cs.origin))
    return " · ".join(parts)


#: Every worksheet function, by name: what the add-in registers.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (PERF_SCORE, PERF_GRADE, PERF_GRADES, PERF_RESULTS, PERF_BONUS,
                            PERF_CAP, PERF_DEDUCT, PERF_EXPLAIN, PERF_SCHEME)
}
