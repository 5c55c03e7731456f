"""Scoring one record: total, grade (or "no grade" with the reason), payout, breakdown."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlbridge.arith import HUNDRED, ONE, ZERO, fmt, show
from xlbridge.engine.compiled import PART_PREFIX, CompiledScheme, ScoringError
from xlbridge.engine.trace import Step, Trace, render
from xlbridge.engine.values import FieldError

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
            return "\n".join(f"数据有误：{e}" for e in self.errors)
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


def decide_grade(cs: CompiledScheme, r: RecordResult, v: dict[str, Any],
                 t: Trace | None, holds: Callable[[Any, Any], bool] | None = None,
                 gates: bool = True) -> None:
    """Conditions (vetoes, forced grades, no grade), tiers and gates → r.tier.

    ``holds(condition, compiled_when)`` decides whether a condition applies (default: evaluate
    it on ``v``); ``gates=False`` takes tier gates as met (grading bare totals).
    """
    if not cs.tiers:
        return
    forced: str | None = None
    no_grade: str | None = None
    ceiling: str | None = None
    for cond, when in cs.conditions:
        if not (holds(cond, when) if holds is not None else when(v)):
            continue
        r.conditions = [*r.conditions, cond.id]
        then = cond.then
        veto = "一票否决：" if cond.veto else ""
        if then.grade is not None or then.no_grade:
            if forced is None and no_grade is None:
                if then.no_grade:
                    no_grade = cond.title
                    if t:
                        t.add("condition", cond.id, cond.title, None,
                              f"{veto}{cond.title} → 不确定等次")
                else:
                    forced = then.grade
                    if t:
                        t.add("condition", cond.id, cond.title, None,
                              f"{veto}{cond.title} → 确定为“{forced}”")
                r.decided_by = cond.id
            elif t:
                t.add("condition", cond.id, cond.title, None,
                      f"{cond.title}（同时符合，但等次已由前一条件确定）")
        elif then.at_most is not None:
            if ceiling is None or cs.better(ceiling, then.at_most):
                ceiling = then.at_most
            if t:
                t.add("condition", cond.id, cond.title, None,
                      f"{veto}{cond.title} → 最高只能评为“{then.at_most}”")
        else:
            r.flags = [*r.flags, then.flag or cond.title]
            if t:
                t.add("flag", cond.id, cond.title, None, f"{veto}{cond.title} → {then.flag}")
    if no_grade is not None:
        r.no_grade = no_grade
        return
    if forced is not None:
        r.tier = forced
        return
    tier = cs.tier_for(r.total, v, t, gates)  # type: ignore[arg-type]
    if tier is None:
        raise ScoringError(FieldError("total", "总分", "no_tier", "没有对应的等次",
                                      "a score inside the tiers", r.total))
    if t:
        span = cs.tiers[cs.tier_index[tier]]
        by_score = span.span.contains(r.total)  # type: ignore[arg-type]
        t.add("tier", tier, tier, r.total, f"等次：{show(r.total)} 分 → “{tier}”"
              + (f"（{span.describe()}）" if by_score else "（因不满足上一等次的条件而降档）"))
    if ceiling is not None and cs.better(tier, ceiling):
        if t:
            t.add("tier", ceiling, ceiling, r.total, f"受否决/门槛限制，由“{tier}”降为“{ceiling}”")
        tier = ceiling
    r.tier = tier


def compute_payout(cs: CompiledScheme, r: RecordResult, v: dict[str, Any],
                   t: Trace | None) -> None:
    """Payout of the record's final grade, with the scheme's payout rules; also derived."""
    payout = cs.scheme.payout
    if payout is not None:
        grade = r.grade
        v["grade"] = grade
        paid_as: str | None = grade
        factor = ONE
        factor_text = ""
        for rule, when, needs in cs.payout_rules:
            if rule.grades is not None and grade not in rule.grades:
                continue
            if not needs <= v.keys():
                # grading bare totals: the facts this rule reads were not given
                if t:
                    t.add("payout", rule.id, rule.title, None,
                          f"{rule.title}：缺少所需数据（{'、'.join(sorted(needs - v.keys()))}），"
                          "未应用")
                continue
            if not when(v):
                continue
            if rule.pay_as is not None:
                paid_as = None if rule.pay_as == "none" else rule.pay_as
                if t:
                    t.add("payout", rule.id, rule.title, None,
                          f"{rule.title}：按“{paid_as}”标准发放" if paid_as
                          else f"{rule.title}：不发放")
            if rule.pro_rata is not None:
                months = v[rule.pro_rata.months]
                share = min(months / rule.pro_rata.of, ONE)
                factor *= share
                served = min(months, Decimal(rule.pro_rata.of))
                factor_text += f" × {show(served)}/{rule.pro_rata.of}"
                if t:
                    t.add("payout", rule.id, rule.title, None,
                          f"{rule.title}：按在职 {show(months)}/{rule.pro_rata.of} 个月折算")
        base_amount = _amount_for(cs, paid_as, v)
        amount = base_amount * factor
        if r.prize:
            amount += r.prize
        rounded = cs.round_payout(amount) if cs.round_payout else amount
        r.payout = rounded
        if t:
            what = f"“{paid_as}”" if paid_as else ("不定等次" if grade is None else "不发放")
            detail = f"{show(base_amount)}"
            if payout.base_months is not None and paid_as is not None:
                months = payout.base_months.get(paid_as, ZERO)
                detail = f"{show(months)}个月 × {show(v[payout.base])} = {detail}"
            detail += factor_text
            if r.prize:
                detail += f" + 名次奖 {show(r.prize)}"
            t.add("payout", "payout", "奖金", rounded,
                  f"奖金：{what} {detail} = {show(rounded)} {payout.unit}")
    for d in cs.scheme.derived:
        source = {"deductions": r.deduction, "bonuses": r.bonus, "payout": r.payout,
                  "total": r.total}[d.of]
        if source is None:
            continue
        value = source * d.share
        rounder = cs.round_payout if d.of == "payout" else cs.round_total
        value = rounder(value) if rounder else value
        r.derived = {**r.derived, d.id: value}
        if t:
            t.add("derived", d.id, d.title, value,
                  f"{d.title}：{show(source)} × {show(d.share * HUNDRED)}% = {show(value)}")


def _amount_for(cs: CompiledScheme, grade: str | None, v: Mapping[str, Any]) -> Decimal:
    payout = cs.scheme.payout
    if grade is None or payout is None:
        return ZERO
    if payout.amounts is not None:
        return payout.amounts.get(grade, ZERO)
    if payout.base_months is not None and payout.base is not None:
        return payout.base_months.get(grade, ZERO) * v[payout.base]
    return ZERO


PERIOD_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def payout_for(cs: CompiledScheme, grade: str | None, base: Decimal | None = None,
               months: Decimal | None = None) -> Decimal:
    """The payout of a grade alone: amount (or months × base), pro rata by months served.

    For worksheet functions that pay a grade computed elsewhere; the scheme's payout rules
    read a record's inputs and are applied by score_record/score_population instead.
    """
    payout = cs.scheme.payout
    if payout is None:
        raise ValueError(f"scheme {cs.ref} defines no payout")
    if grade is not None and grade not in cs.tier_index:
        raise ValueError(f"'{grade}' is not a grade of {cs.ref}: "
                         f"{'、'.join(t.label for t in cs.tiers)}")
    if payout.base_months is not None:
        if base is None:
            raise ValueError(f"scheme {cs.ref} pays months of base salary: give the base")
        amount = payout.base_months.get(grade, ZERO) * base if grade else ZERO
    else:
        amount = (payout.amounts or {}).get(grade, ZERO) if grade else ZERO
    if months is not None:
        period = Decimal(PERIOD_MONTHS[cs.scheme.period])
        if months < 0 or months > period:
            raise ValueError(f"months served must be between 0 and {period}")
        amount = amount * months / period
    return cs.round_payout(amount) if cs.round_payout else amount


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
    """The payout stage, once the grade is final."""
    if r.errors or r.withheld:
        return
    t: Trace | None = None
    if explain:
        t = Trace()
        t.steps = r.steps if r.steps is not None else []
    compute_payout(cs, r, r.values, t)


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


def rows_text(rows: Sequence[int | None]) -> str:
    """Row numbers for a message: ``2、5、9``, the first five and ``…`` for more."""
    return "、".join(str(r) for r in rows[:5]) + ("…" if len(rows) > 5 else "")
