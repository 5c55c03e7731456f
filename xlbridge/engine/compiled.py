"""A validated scheme turned into closures: the engine's fast, explainable core.

Compiling once per scheme (not per record) is what lets one process score 100,000 records a
second: every part, item and cap becomes a small closure that reads the record's parsed
values; tier bounds, amounts and weights are resolved to Decimals up front. Each closure takes
an optional :class:`Trace`; with ``None`` it only computes, with a Trace it also says what it
did — the same code either way, so the explanation can never disagree with the number.

All amounts are Decimals; every rounding is explicit and declared by the scheme.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from xlbridge.arith import (
    HUNDRED,
    ONE,
    ZERO,
    RoundingMode,
    fmt,
    round_decimal,
    round_declared,
    show,
)
from xlbridge.engine.fastpath import PART_PREFIX, build_fast_compute, item_pairs, plain_item
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError, compile_record_parser, normalize_text
from xlbridge.scheme.expr import Evaluator, compile_expr, names_in
from xlbridge.scheme.inputs import InputSpec, part_periods, scheme_inputs
from xlbridge.scheme.issues import Report, SchemeInvalid
from xlbridge.scheme.load import LoadedScheme, SchemeSource
from xlbridge.scheme.model import (
    Adjustments,
    CompositePart,
    DeductionPart,
    DirectPart,
    GiveTo,
    GradePart,
    Item,
    RankPart,
    RatePart,
    RatingPart,
    RatioPart,
    Rounding,
    Scheme,
)
from xlbridge.scheme.validate import (
    TierSpan,
    reachable_totals,
    resolve_parts,
    tier_span,
    validate,
)

PartFn = Callable[[dict[str, Any], Trace | None], Decimal]
ItemFn = Callable[[dict[str, Any], Trace | None], Decimal]

#: Key under which population scoring hands rank-part results to the record scorer.
RANK_KEY = "__rank__"


_LIST_SPLIT = re.compile(r"[;；\n]+")
_LEVEL_SPLIT = re.compile(r"[,，、/]+")
_EVIDENCE = re.compile(r"^(.*?)[(（\[【](.*)[)）\]】]\s*$")


class ScoringError(Exception):
    """A record that cannot be scored as the scheme says (e.g. a target of 0)."""

    def __init__(self, error: FieldError, *more: FieldError):
        self.error = error                 # the first (what a single cell can show)
        self.errors = [error, *more]       # all of them (what a report lists)
        super().__init__("; ".join(str(e) for e in self.errors))


def _rounder(rounding: Rounding | None) -> Callable[[Decimal], Decimal] | None:
    if rounding is None:
        return None
    digits, mode = rounding.digits, rounding.mode
    return lambda x: round_declared(x, digits, mode)


def _round_count(value: Decimal, mode: str) -> int:
    """share × group size → a whole number of people, by the declared rounding."""
    m = {"half_up": RoundingMode.half_up, "floor": RoundingMode.floor,
         "ceiling": RoundingMode.ceiling}[mode]
    return int(round_declared(value, 0, m))


@dataclass(frozen=True)
class Tier:
    label: str
    span: TierSpan
    gates: tuple[tuple[str, Evaluator], ...]

    def describe(self) -> str:
        s = self.span
        parts = []
        if s.low is not None:
            parts.append(f"{'≥' if s.low_inclusive else '>'}{show(s.low)}")
        if s.high is not None:
            parts.append(f"{'≤' if s.high_inclusive else '<'}{show(s.high)}")
        return " 且 ".join(parts) or "任意分数"


class CompiledScheme:
    """A scheme ready to compute. Build it with :func:`compile_scheme` (which validates)."""

    def __init__(self, scheme: Scheme, report: Report, origin: str = "<scheme>"):
        self.scheme = scheme
        self.report = report
        self.origin = origin
        res = resolve_parts(scheme)
        self.points = res.points
        self.scales = res.scale
        self.inputs: list[InputSpec] = scheme_inputs(scheme, res.points)
        self.input_by_id = {s.id: s for s in self.inputs}
        self._parse = compile_record_parser(self.inputs)
        self._known = set(self.input_by_id)
        self.rank_parts: list[RankPart] = []
        self.part_titles: dict[str, str] = {}
        # every part's and item's closure, for the generated fast path to call
        self.part_fns: dict[str, PartFn] = {}
        self.item_fns: dict[int, ItemFn] = {}
        # Part scores the population stage needs later (tie keys); others are not kept on the
        # fast path, where every dictionary write costs.
        self.kept_parts = set(scheme.quotas.ties.keys) if scheme.quotas else set()
        self._part_rounder = _rounder(scheme.rounding.parts)
        self.round_total = _rounder(scheme.rounding.total)
        self.round_payout = _rounder(scheme.rounding.payout)
        self._parts = self._container(scheme.parts, scheme.max_score, "parts", None, None)
        self.parts_fn = self._parts
        self.top_level_plain = all(p.applies_when is None for p in scheme.parts)
        self._bonus = self._adjustments(scheme.bonuses, "bonuses", "加分") \
            if scheme.bonuses else None
        self._deduct = self._adjustments(scheme.deductions, "deductions", "扣分") \
            if scheme.deductions else None
        result_names = self._known | {"total", "subtotal", "bonus", "deduction"}
        self.tiers = [Tier(t.label, tier_span(i, t, scheme.max_score),
                           tuple((g, compile_expr(g, result_names)) for g in t.requires))
                      for i, t in enumerate(scheme.tiers)]
        self.tier_index = {t.label: i for i, t in enumerate(self.tiers)}
        # flat bounds for the common, gate-free look-up
        self._bounds = [(t.span.low, t.span.low_inclusive, t.span.high, t.span.high_inclusive,
                         t.label) for t in self.tiers]
        self._any_gates = any(t.gates for t in self.tiers)
        self.conditions = [(c, compile_expr(c.when, result_names)) for c in scheme.conditions]
        payout_names = result_names | {"grade"}
        self.payout_rules = [(r, compile_expr(r.when, payout_names), frozenset(names_in(r.when)))
                             for r in (scheme.payout.rules if scheme.payout else [])]
        rank_names = payout_names | {"rank", "group_size"}
        self.rank_rules = [(r, compile_expr(r.when, rank_names) if r.when else None,
                            compile_expr(r.eligible, rank_names) if r.eligible else None)
                           for r in scheme.rank_rules]
        self._fast = build_fast_compute(self)
        # A total given from outside (a template's own score column) must be one the scheme
        # can produce; 0 … max_score is always accepted, whatever the ranges say.
        low, high = reachable_totals(scheme, res)
        self.total_low = min(low, ZERO) if low is not None else None
        self.total_high = max(high, scheme.max_score) if high is not None else None

    def check_total(self, total: Decimal, label: str = "总分") -> Decimal:
        """``total`` if this scheme can produce it, else a FieldError (out_of_range)."""
        low, high = self.total_low, self.total_high
        if (low is not None and total < low) or (high is not None and total > high):
            lo = show(low) if low is not None else "−∞"
            hi = show(high) if high is not None else "+∞"
            raise ScoringError(FieldError(
                "total", label, "out_of_range", f"超出本方案可能的总分范围 {lo} 到 {hi}",
                f"a total this scheme can produce ({lo} to {hi})", show(total)))
        return total

    # ------------------------------------------------------------------ identity

    @property
    def id(self) -> str:
        return self.scheme.id

    @property
    def version(self) -> int:
        return self.scheme.version

    @property
    def ref(self) -> str:
        return self.scheme.ref

    def __repr__(self) -> str:
        return f"<CompiledScheme {self.ref} {self.scheme.title}>"

    # ------------------------------------------------------------------ inputs

    def parse(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
        """Raw values by input id → (typed values, errors). Missing keys read as blank."""
        return self._parse(raw)

    # ------------------------------------------------------------------ parts

    def _container(self, parts: list, scale: Decimal, base: str, title: str | None,
                   composite: CompositePart | None) -> PartFn:
        """Sum of child parts, with not-applicable children's points redistributed."""
        children = []
        for i, part in enumerate(parts):
            fn = self._part(part, f"{base}[{i}]")
            applies = compile_expr(part.applies_when, self._known) if part.applies_when else None
            children.append((part, fn, applies, self.points[part.id]))
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
                raise ScoringError(FieldError(children[0][0].id, title or "考核项目", "none_apply",
                                              "没有一项适用，无法计分", "at least one part to "
                                              "apply", None))
            factors: dict[str, Decimal] = {c[0].id: ONE for c in applicable}
            for part, _fn, applies, pts in children:
                if applies is None or applies(v):
                    continue
                rule = part.not_applicable
                if rule == "zero":
                    if t:
                        t.add("not_applicable", part.id, part.title, ZERO,
                              f"{part.title}：不适用，按0分计")
                    continue
                receivers = ([c for c in applicable if c[0].id in rule.give_to]
                             if isinstance(rule, GiveTo) else applicable)
                if not receivers:
                    if t:
                        t.add("not_applicable", part.id, part.title, ZERO,
                              f"{part.title}：不适用，接收其分值的项目也不适用，按0分计")
                    continue
                base_pts = sum((c[3] for c in receivers), ZERO) or ONE
                for c in receivers:  # each receiver grows in proportion to its own points
                    factors[c[0].id] += pts / base_pts
                if t:
                    names = "、".join(c[0].title for c in receivers)
                    t.add("not_applicable", part.id, part.title, ZERO,
                          f"{part.title}（{show(pts)}分）：不适用，分值按比例计入{names}",
                          points=pts, to=[c[0].id for c in receivers])
            total = ZERO
            for part, fn, _applies, pts in applicable:
                factor = factors[part.id]
                score = fn(v, t)
                if factor != ONE:
                    scaled = score * factor
                    if t:
                        t.add("rescale", part.id, part.title, scaled,
                              f"{part.title}：{show(score)} × {show(pts * factor)}/{show(pts)} = "
                              f"{show(scaled)}（分值扩大到 {show(pts * factor)}）",
                              factor=factor)
                    score = scaled
                total += score
            return total

        return with_applicability

    def part_rounder(self, part: Any) -> Callable[[Decimal], Decimal] | None:
        """The rounding a part's score gets: its own, else the scheme's for parts, else none."""
        return _rounder(part.round) or self._part_rounder

    def _part(self, part: Any, path: str) -> PartFn:
        self.part_titles[part.id] = part.title
        pts, scale = self.points[part.id], self.scales[part.id]
        factor = pts / scale if scale else ZERO
        rounder = self.part_rounder(part)
        head = f"{part.title}（{show(pts)}分）"

        if isinstance(part, CompositePart):
            inner = self._container(part.parts, scale, f"{path}.parts", part.title, part)
            bonus = self._adjustments(part.bonuses, f"{path}.bonuses", "加分") \
                if part.bonuses else None
            deduct = self._adjustments(part.deductions, f"{path}.deductions", "扣分") \
                if part.deductions else None

            def raw(v: dict[str, Any], t: Trace | None) -> Decimal:
                total = inner(v, t)
                if bonus is not None:
                    total += bonus(v, t)
                if deduct is not None:
                    total -= deduct(v, t)
                return total
        else:
            periods = part_periods(self.scheme, part)
            if periods:
                cores = [(p, self._core(part, f"{part.id}_{p.id}",
                                        f"{part.title}·{p.label}", scale)) for p in periods]

                def raw(v: dict[str, Any], t: Trace | None) -> Decimal:
                    total = ZERO
                    for period, core in cores:
                        score = core(v, t)
                        total += score * period.weight
                        if t:
                            t.add("period", f"{part.id}.{period.id}", period.label,
                                  score * period.weight,
                                  f"{period.label}权重 {show(period.weight * HUNDRED)}%："
                                  f"{show(score)} × {show(period.weight * HUNDRED)}% = "
                                  f"{show(score * period.weight)}")
                    return total
            else:
                raw = self._core(part, part.id, part.title, scale)

        keep = part.id in self.kept_parts
        pid = part.id
        part_key = PART_PREFIX + pid
        # Inputs that may be blank because the part may not apply must be filled when it does.
        required = [spec for spec in self.inputs if spec.optional and spec.path == path
                    and not spec.id.endswith("_evidence")]
        if required and not isinstance(part, CompositePart):
            inner_raw = raw

            def raw(v: dict[str, Any], t: Trace | None) -> Decimal:
                missing = [FieldError(spec.id, spec.label, "blank", "该项适用，不能为空",
                                      "a value: this part applies", None)
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
            step = t.add("part", part.id, part.title, None, head)
            with t.nested():
                raw_score = raw(v, t)
            score = raw_score * factor
            text = f"{head}：{show(raw_score)}"
            if factor != ONE:
                text += f"（按{show(scale)}分制）× {show(pts)}/{show(scale)} = {show(score)}"
            if rounder:
                rounded = rounder(score)
                if rounded != score:
                    text += f"，四舍五入为 {show(rounded)}"
                score = rounded
            step.value, step.text = score, text + " 分"
            v[part_key] = score
            return score

        self.part_fns[part.id] = evaluate
        return evaluate

    def _core(self, part: Any, pid: str, title: str, scale: Decimal) -> PartFn:
        """The method of a leaf part: raw score on the part's scale."""

        def bad(field: str, code: str, zh: str, en: str, got: Any) -> ScoringError:
            spec = self.input_by_id.get(field)
            return ScoringError(FieldError(field, spec.label if spec else title, code, zh, en,
                                           got))

        if isinstance(part, DirectPart):
            def direct(v: dict[str, Any], t: Trace | None) -> Decimal:
                value = v[pid]
                if t:
                    t.add("input", pid, title, value,
                          f"{title}：{show(value)}（满分{show(scale)}）")
                return value
            return direct

        if isinstance(part, RatioPart):
            fixed, cap = part.target, part.cap_at_full
            actual_id, target_id = f"{pid}_actual", f"{pid}_target"

            def ratio(v: dict[str, Any], t: Trace | None) -> Decimal:
                actual = v[actual_id]
                target = fixed if fixed is not None else v[target_id]
                if target <= 0:
                    raise bad(target_id, "target_zero", "目标值必须大于0", "a target > 0", target)
                share = actual / target
                capped = ONE if cap and share > ONE else share
                if t:
                    note = "，达到或超过目标计满分" if capped != share else ""
                    t.add("input", pid, title, capped * scale,
                          f"{title}：实际 {show(actual)} ÷ 目标 {show(target)} = "
                          f"{show(round_decimal(share * HUNDRED, 2))}%{note} → "
                          f"{show(capped * scale)}")
                return capped * scale
            return ratio

        if isinstance(part, RatePart):
            num_id, den_id, exc_id = f"{pid}_num", f"{pid}_den", f"{pid}_excused"
            allowance = part.allowance

            def rate(v: dict[str, Any], t: Trace | None) -> Decimal:
                num, den = v[num_id], v[den_id]
                if num > den:
                    raise bad(num_id, "rate_over", f"不能大于{part.denominator}",
                              f"at most the {part.denominator}", num)
                if den == 0:
                    if part.zero_denominator == "error":
                        raise bad(den_id, "zero_denominator", f"{part.denominator}不能为0",
                                  f"a {part.denominator} > 0", den)
                    if t:
                        t.add("input", pid, title, scale,
                              f"{title}：{part.denominator}为0，无应计事项，计满分")
                    return scale
                excused = ZERO
                if allowance is not None:
                    excused = min(v[exc_id], allowance.share * den, den - num)
                share = (num + excused) / den
                if t:
                    extra = (f" + 允许的{allowance.label} {show(excused)}"
                             if allowance is not None else "")
                    t.add("input", pid, title, share * scale,
                          f"{title}：({show(num)}{extra}) ÷ {show(den)} = "
                          f"{show(round_decimal(share * HUNDRED, 2))}% → {show(share * scale)}")
                return share * scale
            return rate

        if isinstance(part, RatingPart):
            shares = dict(part.values)
            if part.votes:
                keys = [(f"{pid}_{label}", label, share) for label, share in shares.items()]

                def votes(v: dict[str, Any], t: Trace | None) -> Decimal:
                    n = sum((v[k] for k, _, _ in keys), ZERO)
                    if n == 0:
                        raise bad(keys[0][0], "no_votes", "至少需要一票", "at least one vote",
                                  0)
                    share = sum((v[k] * s for k, _, s in keys), ZERO) / n
                    if t:
                        terms = " + ".join(f"{lab}{show(v[k])}票×{show(s * HUNDRED)}%"
                                           for k, lab, s in keys)
                        t.add("input", pid, title, share * scale,
                              f"{title}：({terms}) ÷ {show(n)}票 = "
                              f"{show(round_decimal(share * HUNDRED, 2))}% → {show(share * scale)}")
                    return share * scale
                return votes

            def rating(v: dict[str, Any], t: Trace | None) -> Decimal:
                label = v[pid]
                share = shares[label]
                if t:
                    t.add("input", pid, title, share * scale,
                          f"{title}：{label} → {show(share * HUNDRED)}% → {show(share * scale)}")
                return share * scale
            return rating

        if isinstance(part, GradePart):
            table = dict(part.values)

            def grade(v: dict[str, Any], t: Trace | None) -> Decimal:
                label = v[pid]
                if t:
                    t.add("input", pid, title, table[label], f"{title}：{label} → "
                          f"{show(table[label])}")
                return table[label]
            return grade

        if isinstance(part, RankPart):
            self.rank_parts.append(part)

            def ranked(v: dict[str, Any], t: Trace | None) -> Decimal:
                ranks = v.get(RANK_KEY)
                if not ranks or pid not in ranks:
                    raise bad(pid, "needs_population", "按组内排名计分，需对全组一起计算",
                              "the whole group: this part scores by rank within the group "
                              "(score a population, e.g. a CSV file or PERF_GRADES)", v.get(pid))
                score, explanation = ranks[pid]
                if t:
                    t.add("input", pid, title, score, f"{title}：{explanation} → {show(score)}")
                return score
            return ranked

        if isinstance(part, DeductionPart):
            items_sum = self._sum_items(part.items, f"{part.id}.items")
            floor, cap = part.floor, part.cap
            knockouts = [(item, self._count_ids(item)) for item in part.items
                         if item.knockout is not None]

            def deduction(v: dict[str, Any], t: Trace | None) -> Decimal:
                for item, ids in knockouts:
                    n = sum((v[i] for i in ids), ZERO)
                    if n >= item.knockout:  # type: ignore[operator]
                        if t:
                            t.add("knockout", item.id, item.title, floor,
                                  f"{item.title} {show(n)}{item.unit}，达到{show(item.knockout)}"
                                  f"{item.unit}，该项得 {show(floor)} 分", count=n)
                        return floor
                total = items_sum(v, t)
                if cap is not None and total > cap:
                    if t:
                        t.add("cap", part.id, part.title, cap,
                              f"扣分合计 {show(total)}，封顶 {show(cap)}", before=total)
                    total = cap
                score = scale - total
                if score < floor:
                    if t:
                        t.add("floor", part.id, part.title, floor,
                              f"满分{show(scale)} − 扣分{show(total)} = {show(score)}，"
                              f"扣完为止，按 {show(floor)} 分计")
                    return floor
                if t:
                    t.add("input", part.id, part.title, score,
                          f"满分{show(scale)} − 扣分{show(total)} = {show(score)}")
                return score
            return deduction

        raise TypeError(f"unknown part type {type(part).__name__}")  # pragma: no cover

    # ------------------------------------------------------------------ items

    def _sum_items(self, items: list[Item], path: str) -> ItemFn:
        """The sum of several items' points.

        On the fast path, plain per-occurrence items (count × amount, per level or flat, with
        no condition, cap, escalation or evidence) are summed inline from (column, amount)
        pairs, skipping zero counts — most cells of a deduction sheet are empty; the traced
        path calls each item so that each gets its own line. Both are checked equal by a
        differential test over every shipped scheme.
        """
        fns = [self._item(item, f"{path}[{j}]") for j, item in enumerate(items)]
        pairs: list[tuple[str, Decimal]] = []
        others: list[ItemFn] = []
        for item, fn in zip(items, fns, strict=True):
            if plain_item(item):
                pairs.extend(item_pairs(item))
            else:
                others.append(fn)

        def total(v: dict[str, Any], t: Trace | None) -> Decimal:
            result = ZERO
            if t is None:
                for key, amount in pairs:
                    n = v[key]
                    if n:
                        result += n * amount
                for fn in others:
                    result += fn(v, None)
                return result
            for fn in fns:
                result += fn(v, t)
            return result

        return total

    @staticmethod
    def _count_ids(item: Item) -> list[str]:
        if item.levels:
            return [f"{item.reads or item.id}_{level}" for level in item.levels]
        return [item.reads or item.id]

    def _item(self, item: Item, path: str) -> ItemFn:
        """Points one bonus/deduction item gives, after its own cap."""
        fn = self._item_fn(item, path)
        self.item_fns[id(item)] = fn
        return fn

    def _item_fn(self, item: Item, path: str) -> ItemFn:
        title = item.title
        when = compile_expr(item.when, self._known) if item.when else None
        levels = dict(item.levels or {})
        level_order = sorted(levels, key=lambda k: levels[k], reverse=True)
        cap = item.cap
        if item.cap_share is not None:
            share_cap = item.cap_share.share * self.points[item.cap_share.part]
            cap = share_cap if cap is None else min(cap, share_cap)
        col = item.reads or item.id  # the input column(s) it reads
        evidence_id = f"{col}_evidence" if item.evidence else None
        factor = item.escalation.factor if item.escalation else None
        iid = item.id

        if item.input == "count" and levels:
            keys = [(f"{col}_{lv}", lv, levels[lv]) for lv in level_order]
            unrect = [(f"{col}_{lv}_unrectified", lv, levels[lv]) for lv in level_order]

            def base(v: dict[str, Any], t: Trace | None) -> Decimal:
                if item.highest_only:
                    present = [(k, lv, amt) for k, lv, amt in keys if v[k] > 0]
                    if not present:
                        return ZERO
                    _k, best, amt = present[0]
                    if t:
                        t.add("item", iid, title, amt, f"{title}：{best} {show(amt)} 分"
                              f"（同一事项取最高级别）", level=best)
                        for _k2, lv, a2 in present[1:]:
                            t.add("dropped", iid, title, ZERO, f"{title}：{lv} {show(a2)} 分 不计"
                                  f"（同一事项已按{best}计）", level=lv)
                    return amt
                total = ZERO
                for k, lv, amt in keys:
                    n = v[k]
                    if n:
                        total += n * amt
                        if t:
                            t.add("item", iid, title, n * amt, f"{title}·{lv}：{show(n)}{item.unit}"
                                  f" × {show(amt)} = {show(n * amt)}", level=lv, count=n)
                if factor is not None:
                    for k, lv, amt in unrect:
                        n = v[k]
                        if n:
                            total += n * amt * factor
                            if t:
                                t.add("item", iid, title, n * amt * factor,
                                      f"{title}·{lv}·{item.escalation.label}：{show(n)}"  # type: ignore[union-attr]
                                      f"{item.unit} × {show(amt)} × {show(factor)} = "
                                      f"{show(n * amt * factor)}", level=lv, count=n)
                return total

        elif item.input == "count":
            amount = item.amount or ZERO
            unrect_id = f"{col}_unrectified"

            def base(v: dict[str, Any], t: Trace | None) -> Decimal:
                n = v[col]
                total = n * amount
                if t and n:
                    t.add("item", iid, title, total, f"{title}：{show(n)}{item.unit} × "
                          f"{show(amount)} = {show(total)}", count=n)
                if factor is not None:
                    m = v[unrect_id]
                    if m:
                        extra = m * amount * factor
                        total += extra
                        if t:
                            t.add("item", iid, title, extra,
                                  f"{title}·{item.escalation.label}：{show(m)}{item.unit} × "  # type: ignore[union-attr]
                                  f"{show(amount)} × {show(factor)} = {show(extra)}", count=m)
                return total

        elif item.input == "list":
            def base(v: dict[str, Any], t: Trace | None) -> Decimal:
                text = v[col]
                if not text:
                    return ZERO
                total = ZERO
                for entry_no, entry in enumerate(e for e in _LIST_SPLIT.split(text) if e.strip()):
                    entry = entry.strip()
                    ref = ""
                    m = _EVIDENCE.match(entry)
                    if m:
                        entry, ref = m.group(1).strip(), m.group(2).strip()
                    named = [normalize_text(x) for x in _LEVEL_SPLIT.split(entry) if x.strip()]
                    unknown = [x for x in named if x not in levels]
                    if unknown or not named:
                        raise ScoringError(FieldError(
                            iid, title, "unknown_level",
                            f"第{entry_no + 1}项“{entry}”中的级别应为：{'、'.join(level_order)}",
                            f"levels among {', '.join(level_order)} in entry {entry_no + 1}",
                            text))
                    ordered = sorted(named, key=lambda x: levels[x], reverse=True)
                    if item.highest_only:
                        kept, dropped = ordered[:1], ordered[1:]
                    else:
                        kept, dropped = ordered, []
                    for lv in kept:
                        total += levels[lv]
                        if t:
                            t.add("item", iid, title, levels[lv],
                                  f"{title}：{lv} {show(levels[lv])} 分"
                                  + (f"（依据：{ref}）" if ref else ""), level=lv, evidence=ref)
                    for lv in dropped:
                        if t:
                            t.add("dropped", iid, title, ZERO,
                                  f"{title}：{lv} {show(levels[lv])} 分 不计（同一事项取最高级别"
                                  f"{kept[0]}）", level=lv)
                return total

        elif item.input == "points":
            def base(v: dict[str, Any], t: Trace | None) -> Decimal:
                value = v[col]
                if t and value:
                    t.add("item", iid, title, value, f"{title}：{show(value)} 分")
                return value

        else:  # growth
            growth = item.growth
            assert growth is not None

            def base(v: dict[str, Any], t: Trace | None) -> Decimal:
                g = v[col]
                change = -g if growth.decline else g
                steps = (change / growth.step).to_integral_value(rounding=ROUND_FLOOR) \
                    if change > 0 else ZERO
                total = steps * growth.per_step
                if t and steps:
                    word = "减少" if growth.decline else "增长"
                    t.add("item", iid, title, total,
                          f"{title}：{word}{show(abs(g))}%，每{word}{show(growth.step)}个百分点"
                          f"{show(growth.per_step)}分，计{show(steps)}档 = {show(total)}",
                          growth=g)
                return total

        if when is None and evidence_id is None and cap is None:
            return base

        def evaluate(v: dict[str, Any], t: Trace | None) -> Decimal:
            if when is not None and not when(v):
                if t and any(v.get(k) for k in self._count_ids(item) if k in v):
                    t.add("dropped", iid, title, ZERO, f"{title}：条件“{item.when}”不满足，不计")
                return ZERO
            amount = base(v, t)
            if evidence_id is not None and amount and not v.get(evidence_id):
                if t:
                    t.add("dropped", iid, title, ZERO, f"{title}：{show(amount)} 分 不计"
                          f"（缺少书面依据）", before=amount)
                return ZERO
            if cap is not None and amount > cap:
                if t:
                    t.add("cap", iid, title, cap, f"{title}：合计 {show(amount)}，"
                          f"封顶 {show(cap)}", before=amount)
                return cap
            return amount

        return evaluate

    def _adjustments(self, adj: Adjustments, path: str, word: str) -> ItemFn:
        """Bonuses or deductions: items, categories with caps, an overall cap."""
        loose = self._sum_items(adj.items, f"{path}.items")
        cats = [(cat, self._sum_items(cat.items, f"{path}.categories[{c}].items"))
                for c, cat in enumerate(adj.categories)]
        overall = adj.cap
        title = adj.title or word

        def evaluate(v: dict[str, Any], t: Trace | None) -> Decimal:
            step = t.add("adjustments", path, title, None, title) if t else None
            total = ZERO
            if t:
                t.depth += 1
            total += loose(v, t)
            for cat, cat_sum in cats:
                sub = cat_sum(v, t)
                if cat.cap is not None and sub > cat.cap:
                    if t:
                        t.add("cap", cat.id, cat.title, cat.cap,
                              f"{cat.title}：合计 {show(sub)}，封顶 {show(cat.cap)}", before=sub)
                    sub = cat.cap
                total += sub
            if overall is not None and total > overall:
                if t:
                    t.add("cap", path, title, overall,
                          f"{title}合计 {show(total)}，累计不超过 {show(overall)}", before=total)
                total = overall
            if t:
                t.depth -= 1
                assert step is not None
                step.value, step.text = total, f"{title}：{show(total)} 分"
            return total

        return evaluate

    # ------------------------------------------------------------------ the record

    def compute(self, v: dict[str, Any], t: Trace | None) -> Decimal:
        """Parts, bonuses and deductions → rounded total; fills v with the result names."""
        if t is None:
            return self._fast(v)
        subtotal = self._parts(v, t)
        bonus = self._bonus(v, t) if self._bonus else ZERO
        deduct = self._deduct(v, t) if self._deduct else ZERO
        exact = subtotal + bonus - deduct
        total = self.round_total(exact) if self.round_total else exact
        v["subtotal"], v["bonus"], v["deduction"], v["total"] = subtotal, bonus, deduct, total
        if t:
            expr = f"{show(subtotal)}"
            if self._bonus:
                expr += f" + 加分{show(bonus)}"
            if self._deduct:
                expr += f" − 扣分{show(deduct)}"
            digits = self.scheme.rounding.total.digits
            text = f"总分 = {expr}" + (f" = {show(exact)}" if expr != fmt(exact) else "")
            if exact != total:
                text += f"，保留{digits}位小数为 {fmt(total, max(digits, 0))}"
            t.add("total", "total", "总分", total, text, exact=exact)
        return total

    def tier_for(self, total: Decimal, v: Mapping[str, Any] | None,
                 t: Trace | None = None, gates: bool = True) -> str | None:
        """The tier whose bounds hold ``total``; if its gates fail, the next tier down.

        A gate ("优秀须同时符合以下条件", 002:249) takes away that tier only: the record gets
        the best lower tier whose own gates pass, whatever that tier's score range.
        ``v=None`` or ``gates=False`` grades by the total alone (gates taken as met).
        """
        if not gates or v is None or not self._any_gates:
            for low, low_in, high, high_in, label in self._bounds:
                if low is not None and (total < low or (not low_in and total == low)):
                    continue
                if high is not None and (total > high or (not high_in and total == high)):
                    continue
                return label
            return None
        for i, tier in enumerate(self.tiers):
            if not tier.span.contains(total):
                continue
            for lower in self.tiers[i:]:
                failed = [g for g, fn in lower.gates if not fn(v)]
                if not failed:
                    return lower.label
                if t:
                    t.add("gate", lower.label, lower.label, None,
                          f"不满足“{lower.label}”的条件：{'；'.join(failed)}",
                          failed=failed)
            return None
        return None

    def better(self, a: str, b: str) -> bool:
        return self.tier_index[a] < self.tier_index[b]

    def next_tier_below(self, label: str) -> str | None:
        i = self.tier_index[label] + 1
        return self.tiers[i].label if i < len(self.tiers) else None


def compile_scheme(scheme: Scheme | LoadedScheme, source: SchemeSource | None = None
                   ) -> CompiledScheme:
    """Validate a scheme and compile it; raises SchemeInvalid if it has errors."""
    if isinstance(scheme, LoadedScheme):
        source = scheme.source
        scheme = scheme.scheme
    report = validate(scheme, source)
    origin = source.origin if source else scheme.ref
    if not report.ok:
        raise SchemeInvalid(report, origin)
    return CompiledScheme(scheme, report, origin)
