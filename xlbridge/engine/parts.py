"""Weighted composition (RULES §1): parts nested to any depth, weights, periods, parts that
may not apply.

A part contributes ``raw score × points / scale`` to its parent: a 百分制 sub-score weighted
80% has scale 100 and points 80. A composite part is the sum of its children (plus its own
bonuses and deductions, 梅岭 奖惩附加分 004:497); a part scored per period weights each
period's score (中期 50% / 年终 50%, 002:536). A part that does not apply (``applies_when``)
gives its points to its siblings in proportion, to named siblings, or scores 0 — declared,
never a silent zero (004:497). The leaf methods are in :mod:`xlbridge.engine.methods`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlbridge.arith import HUNDRED, ONE, ZERO, show
from xlbridge.engine.adjustments import build_adjustments
from xlbridge.engine.errors import ScoringError
from xlbridge.engine.fastpath import PART_PREFIX
from xlbridge.engine.methods import PartFn, build_method
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError
from xlbridge.i18n import N_
from xlbridge.i18n import t as tr  # t is a trace here
from xlbridge.scheme.expr import compile_expr
from xlbridge.scheme.inputs import part_periods
from xlbridge.scheme.model import CompositePart, GiveTo

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme


def build_container(cs: CompiledScheme, parts: list, scale: Decimal, base: str,
                    title: str | None, composite: CompositePart | None) -> PartFn:
    """Sum of child parts, with not-applicable children's points redistributed."""
    children = []
    for i, part in enumerate(parts):
        fn = build_part(cs, part, f"{base}[{i}]")
        applies = compile_expr(part.applies_when, cs._known) if part.applies_when else None
        children.append((part, fn, applies, cs.points[part.id]))
    if not any(c[2] for c in children):
        fns = [c[1] for c in children]
        if len(fns) == 1:
            return fns[0]

        def simple_sum(v: dict[str, Any], t: Trace | None) -> Decimal:
            total = ZERO
            for fn in fns:
                total += fn(v, t)
            return total

        return simple_sum

    def with_applicability(v: dict[str, Any], t: Trace | None) -> Decimal:
        applicable = [c for c in children if c[2] is None or c[2](v)]
        if not applicable:
            raise ScoringError(FieldError(children[0][0].id, title or tr("考核项目"),
                                          "none_apply", tr("没有一项适用，无法计分"), None))
        factors: dict[str, Decimal] = {c[0].id: ONE for c in applicable}
        for part, _fn, applies, pts in children:
            if applies is None or applies(v):
                continue
            rule = part.not_applicable
            if rule == "zero":
                if t:
                    t.add("not_applicable", part.id, part.title, ZERO,
                          tr("{title}：不适用，按0分计", title=part.title))
                continue
            receivers = ([c for c in applicable if c[0].id in rule.give_to]
                         if isinstance(rule, GiveTo) else applicable)
            if not receivers:
                if t:
                    t.add("not_applicable", part.id, part.title, ZERO,
                          tr("{title}：不适用，接收其分值的项目也不适用，按0分计",
                             title=part.title))
                continue
            base_pts = sum((c[3] for c in receivers), ZERO) or ONE
            for c in receivers:  # each receiver grows in proportion to its own points
                factors[c[0].id] += pts / base_pts
            if t:
                names = tr("、").join(c[0].title for c in receivers)
                t.add("not_applicable", part.id, part.title, ZERO,
                      tr("{title}（{points}分）：不适用，分值按比例计入{names}", title=part.title,
                         points=show(pts), names=names),
                      points=pts, to=[c[0].id for c in receivers])
        total = ZERO
        for part, fn, _applies, pts in applicable:
            factor = factors[part.id]
            score = fn(v, t)
            if factor != ONE:
                scaled = score * factor
                if t:
                    t.add("rescale", part.id, part.title, scaled,
                          tr("{title}：{score} × {grown}/{points} = {scaled}（分值扩大到 {grown}）",
                             title=part.title, score=show(score), grown=show(pts * factor),
                             points=show(pts), scaled=show(scaled)),
                          factor=factor)
                score = scaled
            total += score
        return total

    return with_applicability


def build_part(cs: CompiledScheme, part: Any, path: str) -> PartFn:
    cs.part_titles[part.id] = part.title
    pts, scale = cs.points[part.id], cs.scales[part.id]
    factor = pts / scale if scale else ZERO
    rounder = cs.part_rounder(part)

    if isinstance(part, CompositePart):
        inner = build_container(cs, part.parts, scale, f"{path}.parts", part.title, part)
        bonus = build_adjustments(cs, part.bonuses, f"{path}.bonuses", N_("加分")) \
            if part.bonuses else None
        deduct = build_adjustments(cs, part.deductions, f"{path}.deductions", N_("扣分")) \
            if part.deductions else None

        def raw(v: dict[str, Any], t: Trace | None) -> Decimal:
            total = inner(v, t)
            if bonus is not None:
                total += bonus(v, t)
            if deduct is not None:
                total -= deduct(v, t)
            return total
    else:
        periods = part_periods(cs.scheme, part)
        if periods:
            cores = [(p, build_method(cs, part, f"{part.id}_{p.id}",
                                    f"{part.title}·{p.label}", scale)) for p in periods]

            def raw(v: dict[str, Any], t: Trace | None) -> Decimal:
                total = ZERO
                for period, core in cores:
                    score = core(v, t)
                    total += score * period.weight
                    if t:
                        t.add("period", f"{part.id}.{period.id}", period.label,
                              score * period.weight,
                              tr("{period}权重 {weight}%：{score} × {weight}% = {points}",
                                 period=period.label, weight=show(period.weight * HUNDRED),
                                 score=show(score), points=show(score * period.weight)))
                return total
        else:
            raw = build_method(cs, part, part.id, part.title, scale)

    keep = part.id in cs.kept_parts
    pid = part.id
    part_key = PART_PREFIX + pid
    # Inputs that may be blank because the part may not apply must be filled when it does.
    required = [spec for spec in cs.inputs if spec.optional and spec.path == path
                and not spec.id.endswith("_evidence")]
    if required and not isinstance(part, CompositePart):
        inner_raw = raw

        def raw(v: dict[str, Any], t: Trace | None) -> Decimal:
            missing = [FieldError(spec.id, spec.label, "blank", tr("该项适用，不能为空"), None)
                       for spec in required if v[spec.id] is None]
            if missing:
                raise ScoringError(*missing)
            return inner_raw(v, t)

    def evaluate(v: dict[str, Any], t: Trace | None) -> Decimal:
        if t is None:
            score = raw(v, None) * factor
            if rounder:
                score = rounder(score)
            if keep:
                v[part_key] = score
            return score
        head = tr("{title}（{points}分）", title=part.title, points=show(pts))
        step = t.add("part", part.id, part.title, None, head)
        with t.nested():
            raw_score = raw(v, t)
        score = raw_score * factor
        text = tr("{head}：{score}", head=head, score=show(raw_score))
        if factor != ONE:
            text += tr("（按{scale}分制）× {points}/{scale} = {score}", scale=show(scale),
                       points=show(pts), score=show(score))
        if rounder:
            rounded = rounder(score)
            if rounded != score:
                text += tr("，四舍五入为 {score}", score=show(rounded))
            score = rounded
        step.value, step.text = score, text + tr(" 分")
        v[part_key] = score
        return score

    cs.part_fns[part.id] = evaluate
    return evaluate
