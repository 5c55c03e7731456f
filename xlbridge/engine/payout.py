"""Payouts (奖金, RULES §9): a fixed amount or months of base salary by the final grade, the
scheme's payout rules (pay at another grade, pro rata by months served, nothing), prizes by
rank within a group, and figures derived from a result (the head charged 60%, 002:239).

The payout always follows the *final* grade — after conditions and quotas.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlbridge.arith import HUNDRED, ONE, ZERO, fmt, show
from xlbridge.engine.groups import Group, group_of
from xlbridge.engine.order import rank_eq
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError
from xlbridge.i18n import t as tr  # t is a trace here

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme
    from xlbridge.engine.population import PopulationResult
    from xlbridge.engine.record import RecordResult

#: Months in each kind of period (pro rata by months served).
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


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
                          tr("{title}：缺少所需数据（{missing}），未应用", title=rule.title,
                             missing=tr("、").join(sorted(needs - v.keys()))))
                continue
            if not when(v):
                continue
            if rule.pay_as is not None:
                paid_as = None if rule.pay_as == "none" else rule.pay_as
                if t:
                    t.add("payout", rule.id, rule.title, None,
                          tr("{title}：按“{grade}”标准发放", title=rule.title, grade=paid_as)
                          if paid_as else tr("{title}：不发放", title=rule.title))
            if rule.pro_rata is not None:
                months = v[rule.pro_rata.months]
                share = min(months / rule.pro_rata.of, ONE)
                factor *= share
                served = min(months, Decimal(rule.pro_rata.of))
                factor_text += f" × {show(served)}/{rule.pro_rata.of}"
                if t:
                    t.add("payout", rule.id, rule.title, None,
                          tr("{title}：按在职 {months}/{of} 个月折算", title=rule.title,
                             months=show(months), of=rule.pro_rata.of))
        base_amount = amount_for(cs, paid_as, v)
        amount = base_amount * factor
        if r.prize:
            amount += r.prize
        rounded = cs.round_payout(amount) if cs.round_payout else amount
        r.payout = rounded
        if t:
            what = f"“{paid_as}”" if paid_as else (tr("不定等次") if grade is None
                                                   else tr("不发放"))
            detail = f"{show(base_amount)}"
            if payout.base_months is not None and paid_as is not None:
                months = payout.base_months.get(paid_as, ZERO)
                detail = tr("{months}个月 × {base} = {amount}", months=show(months),
                            base=show(v[payout.base]), amount=detail)
            detail += factor_text
            if r.prize:
                detail += tr(" + 名次奖 {prize}", prize=show(r.prize))
            t.add("payout", "payout", tr("奖金"), rounded,
                  tr("奖金：{what} {detail} = {amount} {unit}", what=what, detail=detail,
                     amount=show(rounded), unit=payout.unit))
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
                  tr("{title}：{source} × {share}% = {value}", title=d.title,
                     source=show(source), share=show(d.share * HUNDRED), value=show(value)))


def amount_for(cs: CompiledScheme, grade: str | None, v: Mapping[str, Any]) -> Decimal:
    """The amount a grade pays (before pro rata and prizes)."""
    payout = cs.scheme.payout
    if grade is None or payout is None:
        return ZERO
    if payout.amounts is not None:
        return payout.amounts.get(grade, ZERO)
    if payout.base_months is not None and payout.base is not None:
        return payout.base_months.get(grade, ZERO) * v[payout.base]
    return ZERO


def payout_for(cs: CompiledScheme, grade: str | None, base: Decimal | None = None,
               months: Decimal | None = None) -> Decimal:
    """The payout of a grade alone: amount (or months × base), pro rata by months served.

    For worksheet functions that pay a grade decided elsewhere; the scheme's payout rules
    read a record's inputs and are applied by score_record/score_population instead (a
    caller must check :func:`xlbridge.engine.needs.hidden_payout_rules` first). Raises
    FieldError (coded).
    """
    payout = cs.scheme.payout
    if payout is None:
        raise FieldError("payout", tr("奖金"), "no_payout",
                         tr("方案 {scheme} 没有规定奖金", scheme=cs.ref), None)
    if grade is not None and grade not in cs.tier_index:
        labels = tr("、").join(tier.label for tier in cs.tiers)
        raise FieldError("grade", tr("等次"), "unknown_grade",
                         tr("不是方案 {scheme} 的等次；应为：{labels}", scheme=cs.ref,
                            labels=labels), grade)
    if payout.base_months is not None:
        if base is None:
            raise FieldError("base", tr("月基本工资"), "blank",
                             tr("方案 {scheme} 按月基本工资发放，需给出月基本工资", scheme=cs.ref),
                             None)
        amount = payout.base_months.get(grade, ZERO) * base if grade else ZERO
    else:
        amount = (payout.amounts or {}).get(grade, ZERO) if grade else ZERO
    if months is not None:
        period = Decimal(PERIOD_MONTHS[cs.scheme.period])
        if months < 0 or months > period:
            raise FieldError("months", tr("在职月数"), "months_range",
                             tr("应在 0 到 {high} 之间", high=fmt(period)), months)
        amount = amount * months / period
    return cs.round_payout(amount) if cs.round_payout else amount


def award_prizes(cs: CompiledScheme, result: PopulationResult, explain: bool) -> None:
    """Prizes by rank within a group (002:123), for records at ``min_grade`` or better."""
    prizes = cs.scheme.payout.rank_prizes  # type: ignore[union-attr]
    assert prizes is not None
    keys = prizes.group_by if prizes.group_by is not None else cs.scheme.groups
    same_keys = cs.scheme.groups
    members: dict[Group | None, list[RecordResult]] = defaultdict(list)
    for r in result.records:
        if not r.ok or r.withheld or r.grade is None:
            continue
        if prizes.min_grade and cs.better(prizes.min_grade, r.grade):
            continue
        members[r.group if keys is same_keys else group_of(r.values, keys)].append(r)
    by_rank = {p.rank: p for p in prizes.prizes}
    for rs in members.values():
        ranks = rank_eq([(r.total, r) for r in rs])
        for r in rs:
            prize = by_rank.get(ranks[id(r)])
            if prize is None:
                continue
            r.prize = prize.amount
            if explain and r.steps is not None:
                t = Trace()
                t.steps = r.steps
                t.add("prize", "rank_prizes", prizes.title, prize.amount,
                      tr("{title}：组内第{rank}名，{amount} 元", title=prize.title or prizes.title,
                         rank=ranks[id(r)], amount=show(prize.amount)))
