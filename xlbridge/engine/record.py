"""Scoring one record: total, grade (or "no grade" with the reason), payout, breakdown."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlbridge.arith import fmt, show
from xlbridge.engine.compiled import CompiledScheme
from xlbridge.engine.conditions import decide_grade
from xlbridge.engine.errors import ScoringError
from xlbridge.engine.fastpath import PART_PREFIX
from xlbridge.engine.payout import compute_payout
from xlbridge.engine.trace import Step, Trace, render
from xlbridge.engine.values import FieldError
from xlbridge.i18n import t
from xlbridge.i18n import t as tr  # in the functions where t is a trace

NO_GRADE = "不定等次"


class _SharedEmptyList(list):
    """The one empty list every result starts with: reassign, never mutate.

    A result of 100,000 is built per second; four fresh empty containers each would be
    400,000 allocations a second for the garbage collector to track, for lists that stay
    empty for nearly every record.
    """

    __slots__ = ()

    def __hash__(self) -> int:  # (dataclasses refuse unhashable defaults)
        return 0

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a shared empty default: assign a new list instead of changing it")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse


class _SharedEmptyDict(dict):
    __slots__ = ()

    def __hash__(self) -> int:
        return 0

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a shared empty default: assign a new dict instead of changing it")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _refuse


NONE_YET: list[Any] = _SharedEmptyList()
NONE_YET_MAP: dict[str, Any] = _SharedEmptyDict()


@dataclass(slots=True)
class RecordResult:
    """What the engine says about one record.

    The list and dict fields start as shared empty containers and are replaced, not changed
    in place, when something is added (``r.flags = [*r.flags, flag]``).
    """

    row: int | None
    values: dict[str, Any]
    errors: list[FieldError] = NONE_YET
    subtotal: Decimal | None = None
    bonus: Decimal | None = None
    deduction: Decimal | None = None
    total: Decimal | None = None
    tier: str | None = None            # grade by score, gates and vetoes, before quotas
    grade: str | None = None           # final grade (after quotas in a population)
    no_grade: str | None = None        # why there is no grade (不确定等次), if so
    decided_by: str | None = None      # id of the condition that forced the grade
    conditions: list[str] = NONE_YET
    flags: list[str] = NONE_YET
    payout: Decimal | None = None
    prize: Decimal | None = None
    derived: dict[str, Decimal] = NONE_YET_MAP
    rank: int | None = None
    group: tuple[str, ...] | None = None
    group_size: int | None = None
    withheld: str | None = None        # population results withheld, and why
    steps: list[Step] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def part(self, part_id: str) -> Decimal | None:
        """A part's score, when it was kept (tie keys; every part when explaining)."""
        return self.values.get(PART_PREFIX + part_id)

    @property
    def grade_text(self) -> str:
        """The grade as a cell shows it: the label, 不定等次, or empty."""
        if self.grade:
            return self.grade
        return NO_GRADE if self.no_grade else ""

    def explain(self) -> str:
        """The breakdown in Chinese (requires explain=True when scoring)."""
        if self.errors:
            return "\n".join(t("数据有误：{error}", error=e) for e in self.errors)
        return render(self.steps or [])

    def to_dict(self) -> dict[str, Any]:
        def num(x: Decimal | None) -> str | None:
            return None if x is None else fmt(x)

        return {
            "row": self.row, "ok": self.ok,
            "errors": [e.to_dict() for e in self.errors],
            "subtotal": num(self.subtotal), "bonus": num(self.bonus),
            "deduction": num(self.deduction), "total": num(self.total),
            "tier": self.tier, "grade": self.grade, "no_grade": self.no_grade,
            "decided_by": self.decided_by, "conditions": self.conditions, "flags": self.flags,
            "payout": num(self.payout), "prize": num(self.prize),
            "derived": {k: fmt(v) for k, v in self.derived.items()},
            "rank": self.rank, "group": list(self.group) if self.group else None,
            "group_size": self.group_size, "withheld": self.withheld,
            "breakdown": [s.to_dict() for s in self.steps] if self.steps is not None else None,
        }


def score_values(cs: CompiledScheme, v: dict[str, Any], row: int | None,
                 explain: bool, errors: list[FieldError] | None = None) -> RecordResult:
    """Score parsed values (single-record stage: no quotas). Errors end up in the result."""
    r = RecordResult(row, v)
    if errors:
        r.errors = errors
        return r
    t = Trace() if explain else None
    try:
        r.total = cs.compute(v, t)
        r.subtotal, r.bonus, r.deduction = v["subtotal"], v["bonus"], v["deduction"]
        decide_grade(cs, r, v, t)
    except ScoringError as exc:
        r.errors = exc.errors
        r.total = None
        return r
    r.grade = r.tier
    if t:
        r.steps = t.steps
    return r


def finish(cs: CompiledScheme, r: RecordResult, explain: bool) -> None:
    """The payout stage, once the grade is final; an explanation ends with the result."""
    if r.errors or r.withheld:
        return
    t: Trace | None = None
    if explain:
        t = Trace()
        t.steps = r.steps if r.steps is not None else []
    compute_payout(cs, r, r.values, t)
    if t is not None:
        t.add("result", "result", tr("结果"), r.payout, result_text(cs, r))


def result_text(cs: CompiledScheme, r: RecordResult) -> str:
    """The last line of a breakdown: the final grade (after conditions and quotas), the
    payout of that grade, the rank and the flags — what the record's cells show."""
    parts = [t("总分 {total}", total=show(r.total))]
    if cs.tiers:
        parts.append(t("等次“{grade}”", grade=r.grade) if r.grade else
                     t("{no_grade}（{why}）", no_grade=NO_GRADE, why=r.no_grade) if r.no_grade
                     else t("无等次"))
    payout = cs.scheme.payout
    if payout is not None and r.payout is not None:
        parts.append(t("奖金 {amount} {unit}", amount=show(r.payout), unit=payout.unit))
    if r.rank is not None and r.group_size is not None:
        parts.append(t("组内第 {rank} 名/共 {n} 人", rank=r.rank, n=r.group_size)
                     if cs.scheme.groups else
                     t("第 {rank} 名/共 {n} 人", rank=r.rank, n=r.group_size))
    text = t("结果：{parts}", parts=t("，").join(parts))
    return text + (t("；标记：{flags}", flags=t("；").join(r.flags)) if r.flags else "")


def score_record(cs: CompiledScheme, raw: Mapping[str, Any], *, row: int | None = None,
                 explain: bool = False) -> RecordResult:
    """One record, on its own: quotas need the population (see score_population)."""
    values, errors = cs.parse(raw)
    r = score_values(cs, values, row, explain, errors)
    finish(cs, r, explain)
    return r


def row_numbers(first_row: int | Sequence[int]) -> Iterator[int]:
    """Each record's row: consecutive from ``first_row``, or given one by one (a CSV file
    whose blank lines keep their numbers)."""
    if isinstance(first_row, int):
        return itertools.count(first_row)
    return iter(first_row)
