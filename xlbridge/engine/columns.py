"""A record's results as the columns of a sheet or a file — one vocabulary for every face.

``xlbridge score --output``, the ribbon's 重算本表, PERF_RESULTS and recompute's audit all
name result columns the same way (总分, 等次, 奖金, 排名, 标记, 暂缓原因, 计分明细 — and a
part's title for that part's score) and take each cell's value from :func:`value_of`, so a
cell shows the same thing whichever face wrote it. A value that cannot be given (bad data,
results withheld for another record, a scheme without payouts) is an :class:`Unavailable`
with its kind and reason; each face shows it its own way (an Excel error, a blank, text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlbridge.engine.errors import ErrorKind
from xlbridge.engine.values import normalize_text
from xlbridge.i18n import t

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme
    from xlbridge.engine.record import RecordResult

#: Result column kinds, in the order they are written, with the headers that name them (the
#: first is the one xlbridge writes).
RESULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "total": ("总分", "得分", "考核得分", "综合得分", "考评得分", "绩效得分", "total"),
    "grade": ("等次", "考核等次", "档次", "格次", "评定等次", "grade"),
    "payout": ("奖金", "绩效奖金", "奖励金额", "payout"),
    "rank": ("排名", "名次", "rank"),
    "flags": ("标记", "备注标记", "flags"),
    "withheld": ("暂缓原因", "withheld"),
    "explain": ("计分明细", "明细", "计分说明", "explain"),
}
#: What PERF_RESULTS returns when no columns are named.
DEFAULT_COLUMNS = ("total", "grade", "payout", "rank", "flags")
#: The kinds whose value is a number, and how each is rounded (for number formats).
NUMERIC = ("total", "payout", "rank")

_BY_HEADER = {normalize_text(h).lower(): kind for kind, hs in RESULT_COLUMNS.items()
              for h in hs}
#: Excel's limit on the text of one cell.
MAX_CELL_TEXT = 32767


#: A trailing remark in a header: 总分（百分制）, 考评得分(表内公式).
_REMARK = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def kind_of_header(header: Any) -> str | None:
    """The result kind a header names (总分 → total; 总分（百分制） too), or None."""
    if header is None:
        return None
    text = normalize_text(str(header)).lower()
    return _BY_HEADER.get(text) or _BY_HEADER.get(_REMARK.sub("", text))


@dataclass(frozen=True)
class Column:
    """One result column: a kind, or ``part`` with the part's id."""

    kind: str
    part: str | None = None

    @property
    def header(self) -> str:
        return RESULT_COLUMNS[self.kind][0] if self.part is None else self.part


def columns_for(cs: CompiledScheme, names: Iterable[str]) -> list[Column]:
    """Columns named by headers, kind ids or part titles/ids; ValueError naming the unknown."""
    parts = {normalize_text(t): pid for pid, t in cs.part_titles.items()}
    parts.update({normalize_text(pid): pid for pid in cs.part_titles})
    out: list[Column] = []
    unknown = []
    for name in names:
        kind = kind_of_header(name)
        if kind is not None:
            out.append(Column(kind))
        elif normalize_text(name) in parts:
            out.append(Column("part", parts[normalize_text(name)]))
        else:
            unknown.append(name)
    if unknown:
        allowed = t("、").join(hs[0] for hs in RESULT_COLUMNS.values())
        raise ValueError(t("不认识的结果列 {unknown}；可用：{allowed}，或某一考核项目的名称",
                           unknown=t("、").join(unknown), allowed=allowed))
    return out


@dataclass(frozen=True)
class Unavailable:
    """A result cell that cannot be given, and why."""

    kind: ErrorKind
    reason: str


def value_of(cs: CompiledScheme, r: RecordResult, column: Column) -> Any:
    """What the cell of ``column`` shows for ``r``: a Decimal, an int, text, None (blank), or
    :class:`Unavailable`. Bad data makes every column but the breakdown Unavailable; results
    withheld for another record's bad data keep the record's own total and breakdown."""
    kind = column.kind
    if kind == "explain":
        text = r.explain()
        if r.withheld:
            text += "\n" + t("暂缓：{reason}", reason=r.withheld)
        return text[:MAX_CELL_TEXT]
    if kind == "withheld":
        return r.withheld
    if r.errors:
        first = r.errors[0]
        return Unavailable(first.kind, str(first))
    if kind == "total":
        if r.total is None:   # a rank part waits for its group
            return Unavailable(ErrorKind.na, r.withheld or "")
        return r.total
    if kind == "part":
        score: Decimal | None = r.part(column.part)  # type: ignore[arg-type]
        return score  # None: the part does not apply to this record (blank)
    if r.withheld:
        return Unavailable(ErrorKind.na, r.withheld)
    if kind == "grade":
        return r.grade_text
    if kind == "payout":
        if cs.scheme.payout is None:
            return Unavailable(ErrorKind.na, t("方案 {scheme} 没有规定奖金", scheme=cs.ref))
        return r.payout
    if kind == "rank":
        return r.rank
    if kind == "flags":
        return t("；").join(r.flags) or None
    raise ValueError(kind)  # pragma: no cover
