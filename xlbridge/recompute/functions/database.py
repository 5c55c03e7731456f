"""Database: DSUM, DCOUNT, DCOUNTA, DAVERAGE, DMAX, DMIN, DGET, DPRODUCT, DSTDEV(P), DVAR(P).

``D*(database, field, criteria)``: ``database`` is a range whose first row holds the column
headers; ``field`` names a column by its header (any case) or by its position (1 = the first
column); ``criteria`` is a range whose first row holds headers of the database and whose
other rows are conditions — the cells of one row must all hold (AND), any row may (OR), an
empty condition cell holds always. A condition is written as for SUMIF (``>=90``,
``<>办公室``, ``张*``), except that text without an operator matches text that *begins* with
it, as in Excel's advanced filter (``张`` matches 张三, ``=张`` only 张).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref
from ..values import (
    DIV0,
    OMITTED,
    VALUE,
    _date_text,
    number_text,
    parse_number,
    takes_omitted,
    to_text,
)
from .criteria import _crit
from .registry import registrar

register = registrar("Database")

_OPS = ("<>", ">=", "<=", "=", ">", "<")


def _condition(c: Any) -> Callable[[Any], bool]:
    """One criteria cell as a test of a database value."""
    if type(c) is not str:
        return _crit(c).match
    s = c.strip()
    op = next((o for o in _OPS if s.startswith(o)), "")
    rest = s[len(op):]
    if rest and parse_number(rest) is None:
        day = _date_text(rest)  # ">=2024-07-01": the date's serial
        if day is not None:
            return _crit(op + number_text(day)).match
    if op == "" and rest and parse_number(rest) is None \
            and rest.upper() not in ("TRUE", "FALSE") and not rest.startswith("#"):
        return _crit(op + rest + ("" if rest.endswith("*") else "*")).match
    return _crit(s).match


def _header(v: Any) -> str | None:
    if v is None or type(v) is ExcelError:
        return None
    t = to_text(v)
    return t.casefold() if type(t) is str else None


def _rows(ctx: Context, database: Any, field: Any, criteria: Any, need_field: bool = True
          ) -> tuple[list[list[Any]], int | None] | ExcelError:
    """The database rows that meet the criteria, and the field's column (None if omitted)."""
    if type(database) is not Ref or type(criteria) is not Ref:
        return ExcelError("#VALUE!", tr("数据库函数的数据库和条件必须是单元格区域"))
    db = ctx.array(database)
    crit = ctx.array(criteria)
    if len(db) < 2 or not crit:
        return ExcelError("#VALUE!", tr("数据库区域的标题行下没有记录"))
    headers = [_header(v) for v in db[0]]
    col: int | None = None
    if field is OMITTED or (field is None and not need_field):
        col = None
    elif type(field) is ExcelError:
        return field
    elif type(field) is float:
        i = math.floor(field)
        if not 1 <= i <= len(headers):
            return ExcelError("#VALUE!", tr("字段 {i} 不是数据库的列", i=i))
        col = i - 1
    elif field is True:
        col = 0
    elif type(field) is str:
        want = field.casefold()
        col = next((i for i, h in enumerate(headers) if h == want), None)
        if col is None:
            return ExcelError("#VALUE!", tr("数据库没有“{field}”列", field=field))
    else:
        return VALUE
    # the criteria columns: (database column or None, conditions by criteria row)
    columns: list[tuple[int | None, list[Callable[[Any], bool] | None]]] = []
    named = 0
    for j, h in enumerate(crit[0]):
        name = _header(h)
        if not name:
            continue
        named += 1
        dbcol = next((i for i, x in enumerate(headers) if x == name), None)
        conds = [None if r[j] is None else _condition(r[j]) for r in crit[1:]]
        columns.append((dbcol, conds))
    records = db[1:]
    if len(crit) < 2:
        return records, col
    if named == 0:
        return [], col
    out = []
    for rec in records:
        for k in range(len(crit) - 1):
            ok = True
            for dbcol, conds in columns:
                cond = conds[k]
                if cond is None:
                    continue
                if dbcol is None or not cond(rec[dbcol]):
                    ok = False
                    break
            if ok:
                out.append(rec)
                break
    return out, col


def _numbers(ctx: Context, database: Any, field: Any, criteria: Any
             ) -> list[float] | ExcelError:
    got = _rows(ctx, database, field, criteria)
    if type(got) is ExcelError:
        return got
    rows, col = got  # type: ignore[misc]
    return [r[col] for r in rows if type(r[col]) is float]


def _aggregate(name: str, fn: Callable[[list[float]], Any]) -> None:
    @register(name, 3, 3, "RSR", ctx=True)
    def impl(ctx: Context, database: Any, field: Any, criteria: Any) -> Any:
        xs = _numbers(ctx, database, field, criteria)
        if type(xs) is ExcelError:
            return xs
        return fn(xs)  # type: ignore[arg-type]

    impl.__name__ = "fn_" + name.lower()


def _average(xs: list[float]) -> Any:
    return sum(xs) / len(xs) if xs else DIV0


def _var(xs: list[float], ddof: int) -> Any:
    n = len(xs)
    if n - ddof <= 0:
        return DIV0
    m = sum(xs) / n
    return sum((x - m) ** 2 for x in xs) / (n - ddof)


def _sqrt(v: Any) -> Any:
    return math.sqrt(v) if type(v) is float else v


_aggregate("DSUM", lambda xs: float(sum(xs)))
_aggregate("DAVERAGE", _average)
_aggregate("DMAX", lambda xs: max(xs) if xs else 0.0)
_aggregate("DMIN", lambda xs: min(xs) if xs else 0.0)
_aggregate("DPRODUCT", lambda xs: math.prod(xs) if xs else 0.0)
_aggregate("DVAR", lambda xs: _var(xs, 1))
_aggregate("DVARP", lambda xs: _var(xs, 0))
_aggregate("DSTDEV", lambda xs: _sqrt(_var(xs, 1)))
_aggregate("DSTDEVP", lambda xs: _sqrt(_var(xs, 0)))


def _count(ctx: Context, database: Any, field: Any, criteria: Any,
           counts: Callable[[Any], bool]) -> Any:
    got = _rows(ctx, database, field, criteria, need_field=False)
    if type(got) is ExcelError:
        return got
    rows, col = got  # type: ignore[misc]
    if col is None:
        return float(len(rows))
    return float(sum(1 for r in rows if counts(r[col])))


@register("DCOUNT", 3, 3, "RSR", ctx=True)
@takes_omitted
def fn_dcount(ctx: Context, database: Any, field: Any, criteria: Any) -> Any:
    return _count(ctx, database, field, criteria, lambda v: type(v) is float)


@register("DCOUNTA", 3, 3, "RSR", ctx=True)
@takes_omitted
def fn_dcounta(ctx: Context, database: Any, field: Any, criteria: Any) -> Any:
    return _count(ctx, database, field, criteria, lambda v: v is not None and v != "")


@register("DGET", 3, 3, "RSR", ctx=True)
def fn_dget(ctx: Context, database: Any, field: Any, criteria: Any) -> Any:
    got = _rows(ctx, database, field, criteria)
    if type(got) is ExcelError:
        return got
    rows, col = got  # type: ignore[misc]
    if not rows:
        return ExcelError("#VALUE!", tr("DGET：没有符合条件的记录"))
    if len(rows) > 1:
        return ExcelError("#NUM!", tr("DGET：符合条件的记录不止一条"))
    v = rows[0][col]
    return 0.0 if v is None else v

