"""Scoring a single part (RULES §2): one builder per method.

Each builder turns a leaf part into ``fn(values, trace) -> raw score on the part's scale``;
:mod:`xlbridge.engine.parts` weights it into its parent. The methods: ``direct`` (an entered
score), ``ratio`` (completion against a target, 002:530), ``rate`` (numerator ÷ denominator
with an allowance, 003:207), ``rating`` (a label or vote counts mapped to a share, 002:160),
``grade`` (a sub-assessment's grade mapped to points, 002:676), ``rank`` (band by rank within
the group, 004:497) and ``deduction`` (full marks minus deductions, knock-outs, floored,
002:36; 004:211-243).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlbridge.arith import HUNDRED, ONE, ZERO, round_decimal, show
from xlbridge.engine.adjustments import build_items_sum, capped, count_ids, deducted
from xlbridge.engine.errors import ScoringError
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError
from xlbridge.i18n import t as tr  # t is a trace here
from xlbridge.scheme.model import (
    DeductionPart,
    DirectPart,
    GradePart,
    RankPart,
    RatePart,
    RatingPart,
    RatioPart,
)

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme

PartFn = Callable[[dict[str, Any], Trace | None], Decimal]

#: Key under which population scoring hands rank-part results to the record scorer:
#: values[RANK_KEY][part_id] = (score, explanation).
RANK_KEY = "__rank__"


def _pct(share: Decimal) -> str:
    """A share as an explanation shows it: ``92.31%`` (two places, for reading only)."""
    return f"{show(round_decimal(share * HUNDRED, 2))}%"


def _bad(cs: CompiledScheme, title: str, field: str, code: str, expected: str,
         got: Any) -> ScoringError:
    spec = cs.input_by_id.get(field)
    return ScoringError(FieldError(field, spec.label if spec else title, code, expected, got))


def build_direct(cs: CompiledScheme, part: DirectPart, pid: str, title: str,
                 scale: Decimal) -> PartFn:
    def direct(v: dict[str, Any], t: Trace | None) -> Decimal:
        value = v[pid]
        if t:
            t.add("input", pid, title, value,
                  tr("{title}：{value}（满分{scale}）", title=title, value=show(value),
                     scale=show(scale)))
        return value
    return direct


def build_ratio(cs: CompiledScheme, part: RatioPart, pid: str, title: str,
                scale: Decimal) -> PartFn:
    fixed, cap = part.target, part.cap_at_full
    actual_id, target_id = f"{pid}_actual", f"{pid}_target"

    def ratio(v: dict[str, Any], t: Trace | None) -> Decimal:
        actual = v[actual_id]
        target = fixed if fixed is not None else v[target_id]
        if target <= 0:
            raise _bad(cs, title, target_id, "target_zero", tr("目标值必须大于0"), target)
        share = actual / target
        kept = ONE if cap and share > ONE else share
        if t:
            note = tr("，达到或超过目标计满分") if kept != share else ""
            t.add("input", pid, title, kept * scale,
                  tr("{title}：实际 {actual} ÷ 目标 {target} = {share}{note} → {score}",
                     title=title, actual=show(actual), target=show(target), share=_pct(share),
                     note=note, score=show(kept * scale)))
        return kept * scale
    return ratio


def build_rate(cs: CompiledScheme, part: RatePart, pid: str, title: str,
               scale: Decimal) -> PartFn:
    num_id, den_id, exc_id = f"{pid}_num", f"{pid}_den", f"{pid}_excused"
    allowance = part.allowance

    def rate(v: dict[str, Any], t: Trace | None) -> Decimal:
        num, den = v[num_id], v[den_id]
        if num > den:
            raise _bad(cs, title, num_id, "rate_over",
                       tr("不能大于{denominator}", denominator=part.denominator), num)
        if den == 0:
            if part.zero_denominator == "error":
                raise _bad(cs, title, den_id, "zero_denominator",
                           tr("{denominator}不能为0", denominator=part.denominator), den)
            if t:
                t.add("input", pid, title, scale,
                      tr("{title}：{denominator}为0，无应计事项，计满分", title=title,
                         denominator=part.denominator))
            return scale
        excused = ZERO
        if allowance is not None:
            excused = min(v[exc_id], allowance.share * den, den - num)
        share = (num + excused) / den
        if t:
            extra = (tr(" + 允许的{allowance} {excused}", allowance=allowance.label,
                        excused=show(excused)) if allowance is not None else "")
            t.add("input", pid, title, share * scale,
                  tr("{title}：({num}{extra}) ÷ {den} = {share} → {score}", title=title,
                     num=show(num), extra=extra, den=show(den), share=_pct(share),
                     score=show(share * scale)))
        return share * scale
    return rate


def build_rating(cs: CompiledScheme, part: RatingPart, pid: str, title: str,
                 scale: Decimal) -> PartFn:
    shares = dict(part.values)
    if part.votes:
        keys = [(f"{pid}_{label}", label, share) for label, share in shares.items()]

        def votes(v: dict[str, Any], t: Trace | None) -> Decimal:
            n = sum((v[k] for k, _, _ in keys), ZERO)
            if n == 0:
                raise _bad(cs, title, keys[0][0], "no_votes", tr("至少需要一票"), 0)
            share = sum((v[k] * s for k, _, s in keys), ZERO) / n
            if t:
                terms = " + ".join(tr("{label}{n}票×{share}%", label=lab, n=show(v[k]),
                                      share=show(s * HUNDRED)) for k, lab, s in keys)
                t.add("input", pid, title, share * scale,
                      tr("{title}：({terms}) ÷ {n}票 = {share} → {score}", title=title,
                         terms=terms, n=show(n), share=_pct(share),
                         score=show(share * scale)))
            return share * scale
        return votes

    def rating(v: dict[str, Any], t: Trace | None) -> Decimal:
        label = v[pid]
        share = shares[label]
        if t:
            t.add("input", pid, title, share * scale,
                  tr("{title}：{label} → {share}% → {score}", title=title, label=label,
                     share=show(share * HUNDRED), score=show(share * scale)))
        return share * scale
    return rating


def build_grade(cs: CompiledScheme, part: GradePart, pid: str, title: str,
                scale: Decimal) -> PartFn:
    table = dict(part.values)

    def grade(v: dict[str, Any], t: Trace | None) -> Decimal:
        label = v[pid]
        if t:
            t.add("input", pid, title, table[label],
                  tr("{title}：{label} → {score}", title=title, label=label,
                     score=show(table[label])))
        return table[label]
    return grade


def build_rank(cs: CompiledScheme, part: RankPart, pid: str, title: str,
               scale: Decimal) -> PartFn:
    cs.rank_parts.append(part)

    def ranked(v: dict[str, Any], t: Trace | None) -> Decimal:
        ranks = v.get(RANK_KEY)
        if not ranks or pid not in ranks:
            raise _bad(cs, title, pid, "needs_population",
                       tr("按组内排名计分，需对全组一起计算"
                          "（PERF_RESULTS、重算本表或 xlbridge score）"), v.get(pid))
        score, explanation = ranks[pid]
        if t:
            t.add("input", pid, title, score,
                  tr("{title}：{label} → {score}", title=title, label=explanation,
                     score=show(score)))
        return score
    return ranked


def build_deduction(cs: CompiledScheme, part: DeductionPart, pid: str, title: str,
                    scale: Decimal) -> PartFn:
    items_sum = build_items_sum(cs, part.items, f"{part.id}.items")
    floor, cap = part.floor, part.cap
    knockouts = [(item, count_ids(item)) for item in part.items if item.knockout is not None]

    def deduction(v: dict[str, Any], t: Trace | None) -> Decimal:
        for item, ids in knockouts:
            n = sum((v[i] for i in ids), ZERO)
            if n >= item.knockout:  # type: ignore[operator]
                if t:
                    t.add("knockout", item.id, item.title, floor,
                          tr("{title} {n}{unit}，达到{knockout}{unit}，该项得 {floor} 分",
                             title=item.title, n=show(n), unit=item.unit,
                             knockout=show(item.knockout), floor=show(floor)), count=n)
                return floor
        summed = items_sum(v, t)
        total = capped(summed, cap)
        if t and total != summed:
            t.add("cap", part.id, part.title, total,
                  tr("扣分合计 {sum}，封顶 {cap}", sum=show(summed), cap=show(total)),
                  before=summed)
        score = deducted(scale, total, floor)
        if t:
            if score != scale - total:
                t.add("floor", part.id, part.title, score,
                      tr("满分{scale} − 扣分{deducted} = {left}，扣完为止，按 {score} 分计",
                         scale=show(scale), deducted=show(total), left=show(scale - total),
                         score=show(score)))
            else:
                t.add("input", part.id, part.title, score,
                      tr("满分{scale} − 扣分{deducted} = {score}", scale=show(scale),
                         deducted=show(total), score=show(score)))
        return score
    return deduction


BUILDERS: dict[type, Callable[..., PartFn]] = {
    DirectPart: build_direct, RatioPart: build_ratio, RatePart: build_rate,
    RatingPart: build_rating, GradePart: build_grade, RankPart: build_rank,
    DeductionPart: build_deduction,
}


def build_method(cs: CompiledScheme, part: Any, pid: str, title: str, scale: Decimal) -> PartFn:
    """The method of a leaf part: raw score on the part's scale. ``pid`` names the inputs
    (the part's id, or ``<id>_<period>`` for one period of a part scored per period)."""
    return BUILDERS[type(part)](cs, part, pid, title, scale)
