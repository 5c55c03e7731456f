"""Vetoes, gates, forced grades and "no grade" (RULES §5), applied before the tiers.

Conditions are checked in order: the first that decides the grade (``grade`` or ``no_grade``)
wins and later deciding ones are reported as overridden; every ``at_most`` (一票否决 / gate:
no better than …) caps the tier; a ``flag`` is only reported. "No grade" is a result of its
own (不确定等次), distinct from the lowest grade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xlbridge.arith import show
from xlbridge.engine.errors import ScoringError
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError
from xlbridge.i18n import t as tr  # t is a trace here
from xlbridge.scheme.expr import Evaluator, compile_expr, names_in
from xlbridge.scheme.model import Condition, Scheme
from xlbridge.scheme.names import input_names

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme
    from xlbridge.engine.record import RecordResult


def compile_conditions(scheme: Scheme, names: frozenset[str]
                       ) -> list[tuple[Condition, Evaluator]]:
    return [(c, compile_expr(c.when, names)) for c in scheme.conditions]


def changes_grade(cond: Condition) -> bool:
    """Does this condition's outcome change a grade (not only flag it)?"""
    return cond.then.flag is None


def condition_inputs(cond: Condition) -> frozenset[str]:
    """The record inputs a condition reads (a total alone cannot tell whether it holds)."""
    return input_names(names_in(cond.when))


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
        veto = tr("一票否决：") if cond.veto and t else ""
        if then.grade is not None or then.no_grade:
            if forced is None and no_grade is None:
                if then.no_grade:
                    no_grade = cond.title
                    if t:
                        t.add("condition", cond.id, cond.title, None,
                              veto + tr("{title} → 不确定等次", title=cond.title))
                else:
                    forced = then.grade
                    if t:
                        t.add("condition", cond.id, cond.title, None,
                              veto + tr("{title} → 确定为“{grade}”", title=cond.title,
                                        grade=forced))
                r.decided_by = cond.id
            elif t:
                t.add("condition", cond.id, cond.title, None,
                      tr("{title}（同时符合，但等次已由前一条件确定）", title=cond.title))
        elif then.at_most is not None:
            if ceiling is None or cs.better(ceiling, then.at_most):
                ceiling = then.at_most
            if t:
                t.add("condition", cond.id, cond.title, None,
                      veto + tr("{title} → 最高只能评为“{grade}”", title=cond.title,
                                grade=then.at_most))
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
        raise ScoringError(FieldError("total", tr("总分"), "no_tier", tr("没有对应的等次"),
                                      r.total))
    if t:
        span = cs.tiers[cs.tier_index[tier]]
        by_score = span.span.contains(r.total)  # type: ignore[arg-type]
        t.add("tier", tier, tier, r.total,
              tr("等次：{total} 分 → “{grade}”", total=show(r.total), grade=tier)
              + (tr("（{text}）", text=span.describe()) if by_score
                 else tr("（因不满足上一等次的条件而降档）")))
    if ceiling is not None and cs.better(tier, ceiling):
        if t:
            t.add("tier", ceiling, ceiling, r.total,
                  tr("受否决/门槛限制，由“{grade}”降为“{ceiling}”", grade=tier, ceiling=ceiling))
        tier = ceiling
    r.tier = tier
