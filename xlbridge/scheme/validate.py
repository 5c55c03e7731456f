"""Checks that need the whole scheme: the mistakes real schemes contain (RULES.md).

The written schemes overlap and leave gaps between tiers (001:28 '85分(含80分)'; 002:186
leaves 94 < s < 95 unassigned), weights that do not add up, caps that can never bite. Each
check yields an :class:`Issue` with the path inside the document and what was expected;
errors stop a scheme from being used, warnings are shown to its author.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel

from xlbridge.arith import HUNDRED, ONE, ZERO, fmt
from xlbridge.i18n import N_, t
from xlbridge.scheme.expr import ExprError, compile_expr
from xlbridge.scheme.inputs import InputSpec, part_periods, scheme_inputs
from xlbridge.scheme.issues import Issue, Report
from xlbridge.scheme.load import SchemeSource
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
    Scheme,
    Tier,
)
from xlbridge.scheme.names import known_names

INF = Decimal("Infinity")



@dataclass
class Resolved:
    """Points and scale of every part after weights are turned into points."""

    points: dict[str, Decimal]
    scale: dict[str, Decimal]
    paths: dict[str, str]
    parents: dict[str, str | None]
    siblings: dict[str, list[str]]


@dataclass(frozen=True)
class TierSpan:
    """A tier's interval on the rounded total; None = unbounded."""

    index: int
    label: str
    low: Decimal | None
    low_inclusive: bool
    high: Decimal | None
    high_inclusive: bool

    def contains(self, x: Decimal) -> bool:
        if self.low is not None and (x < self.low or (x == self.low and not self.low_inclusive)):
            return False
        return not (self.high is not None and
                    (x > self.high or (x == self.high and not self.high_inclusive)))

    def text(self) -> str:
        """The bounds as a clerk reads them, ``≥90 且 <95`` — the one text of a tier's bounds
        (explanations, ``schemes show`` and the web pages all show this)."""
        bounds = []
        if self.low is not None:
            bounds.append(f"{'≥' if self.low_inclusive else '>'}{fmt(self.low)}")
        if self.high is not None:
            bounds.append(f"{'≤' if self.high_inclusive else '<'}{fmt(self.high)}")
        return t(" 且 ").join(bounds) or t("任意分数")


def tier_span(index: int, tier: Tier, max_score: Decimal) -> TierSpan:
    low_bound = tier.at_least or tier.above
    high_bound = tier.at_most or tier.below
    return TierSpan(index, tier.label,
                    low_bound.resolve(max_score) if low_bound else None, tier.at_least is not None,
                    high_bound.resolve(max_score) if high_bound else None,
                    tier.at_most is not None)


class _Checker:
    def __init__(self, scheme: Scheme, source: SchemeSource | None):
        self.scheme = scheme
        self.source = source or SchemeSource("<scheme>")
        self.issues: list[Issue] = []

    def add(self, severity: str, path: str, message: str, code: str) -> None:
        self.issues.append(Issue(severity, path, message, code, self.source.origin,  # type: ignore[arg-type]
                                 self.source.line_of(_split_path(path))))

    def error(self, path: str, message: str, code: str = "invalid") -> None:
        self.add("error", path, message, code)

    def warning(self, path: str, message: str, code: str = "warning") -> None:
        self.add("warning", path, message, code)

    # ------------------------------------------------------------------ parts and weights

    def resolve(self) -> Resolved:
        res = Resolved({}, {}, {}, {}, {})
        seen: dict[str, str] = {}

        def walk(parts: list, base: str, parent_scale: Decimal, parent: str | None,
                 parent_path: str) -> None:
            total = ZERO
            weights_only = True
            for i, part in enumerate(parts):
                path = f"{base}[{i}]"
                if part.id in seen:
                    self.error(f"{path}.id", t("部分编号“{id}”已在 {where} 用过；编号不能重复",
                                               id=part.id, where=seen[part.id]), "duplicate")
                seen[part.id] = path
                if (part.points is None) == (part.weight is None):
                    self.error(path, t("`points`（分值）和 `weight`（权重 %）应写且只写一个"),
                               "points_or_weight")
                    pts = ZERO
                elif part.points is not None:
                    pts = part.points
                    weights_only = False
                else:
                    pts = part.weight * parent_scale  # type: ignore[operator]
                scale = part.scale if part.scale is not None else pts
                res.points[part.id], res.scale[part.id] = pts, scale
                res.paths[part.id], res.parents[part.id] = path, parent
                res.siblings[part.id] = [p.id for p in parts if p.id != part.id]
                total += pts
                if isinstance(part, CompositePart):
                    if part.periods is not None:
                        self.error(f"{path}.periods", t("periods 应写在按期计分的末级部分上，"
                                                        "不能写在组合部分（composite）上"),
                                   "periods")
                    walk(part.parts, f"{path}.parts", scale, part.id, path)
            if total != parent_scale and parts:
                where = t("“{parent}”的分制", parent=parent) if parent else "max_score"
                if weights_only and parent_scale:
                    message = t("这些部分的权重合计为 {got}，应为 100%（{where}）",
                                got=_percent(total / parent_scale), where=where)
                else:
                    message = t("这些部分的分值合计为 {got}，应为 {expected}（{where}）",
                                got=fmt(total), expected=fmt(parent_scale), where=where)
                self.error(base, message, "weights_sum")

        walk(self.scheme.parts, "parts", self.scheme.max_score, None, "")
        return res

    def check_parts(self, res: Resolved) -> None:
        for part_id, path in res.paths.items():
            part = self._part_at(path)
            periods = part_periods(self.scheme, part)
            if isinstance(part.periods, str) and part.periods not in self.scheme.period_sets:
                self.error(f"{path}.periods", t("没有名为“{name}”的期别设置；已有：{known}",
                                                name=part.periods,
                                                known=_listed(self.scheme.period_sets)),
                           "unknown_ref")
            if periods:
                total = sum((p.weight for p in periods), ZERO)
                if total != ONE:
                    self.error(f"{path}.periods", t("各期权重合计为 {got}，应为 100%",
                                                    got=_percent(total)),
                               "weights_sum")
                ids = [p.id for p in periods]
                if len(set(ids)) != len(ids):
                    self.error(f"{path}.periods", t("各期的编号不能重复"), "duplicate")
            if isinstance(part.not_applicable, GiveTo):
                for j, target in enumerate(part.not_applicable.give_to):
                    if target not in res.siblings[part_id]:
                        self.error(f"{path}.not_applicable.give_to[{j}]",
                                   t("“{target}”不是“{part}”的同级部分；应为其中之一：{known}",
                                     target=target, part=part_id,
                                     known=_listed(res.siblings[part_id])),
                                   "unknown_ref")
            if part.not_applicable != "rescale" and part.applies_when is None:
                self.warning(f"{path}.not_applicable", t("没有 `applies_when` 时不起作用"),
                             "no_effect")
            if isinstance(part, (RatingPart, GradePart)):
                self._check_label_map(part, path)
            if isinstance(part, RankPart):
                tops = [b.top for b in part.bands]
                if tops[-1] is not None or any(top is None for top in tops[:-1]):
                    self.error(f"{path}.bands", t("除最后一档外每档都要写 `top`；最后一档"
                                                  "（其余所有人）不写"), "bands")
                elif tops[:-1] != sorted(tops[:-1]) or any(top > ONE for top in tops[:-1]):
                    self.error(f"{path}.bands", t("各档的 `top` 比例应逐档增大，且不超过 100%"),
                               "bands")
                for j, band in enumerate(part.bands):
                    if band.score > res.scale[part_id]:
                        self.error(f"{path}.bands[{j}].score",
                                   t("{score} 高于该部分的分制 {scale}", score=fmt(band.score),
                                     scale=fmt(res.scale[part_id])), "range")
            if isinstance(part, DirectPart) and part.min is not None \
                    and part.min >= res.scale[part_id]:
                self.error(f"{path}.min", t("允许输入的最低分应低于分制"), "range")
            if isinstance(part, DeductionPart):
                if part.floor >= res.scale[part_id]:
                    self.error(f"{path}.floor", t("最低得分（floor）应低于该部分的分制"),
                               "range")
                self.check_items(part.items, f"{path}.items", res, in_deduction_part=True)
                if part.cap is not None and part.cap >= res.scale[part_id] - part.floor:
                    self.warning(f"{path}.cap", t("这个上限永远用不上：该部分最低为 {floor} 分"
                                                  "（扣完为止），最多扣 {most} 分",
                                                  floor=fmt(part.floor),
                                                  most=fmt(res.scale[part_id] - part.floor)),
                                 "cap_never_bites")
            if isinstance(part, CompositePart):
                for name in ("bonuses", "deductions"):
                    adj = getattr(part, name)
                    if adj:
                        self.check_adjustments(adj, f"{path}.{name}", res)

    def _check_label_map(self, part: RatingPart | GradePart, path: str) -> None:
        for label in part.values:
            if not label.strip():
                self.error(f"{path}.values", t("评价等级的名称不能为空"), "label")

    def _part_at(self, path: str):
        node: object = self.scheme
        for step in _split_path(path):
            node = node[step] if isinstance(step, int) else getattr(node, step)  # type: ignore[index]
        return node

    # ------------------------------------------------------------------ bonuses and deductions

    def check_adjustments(self, adj: Adjustments, path: str, res: Resolved) -> None:
        self.check_items(adj.items, f"{path}.items", res)
        maxima: list[Decimal] = [self.item_max(i, res) for i in adj.items]
        for c, cat in enumerate(adj.categories):
            cpath = f"{path}.categories[{c}]"
            self.check_items(cat.items, f"{cpath}.items", res)
            item_max = sum((self.item_max(i, res) for i in cat.items), ZERO)
            if cat.cap is not None and item_max <= cat.cap:
                self.warning(f"{cpath}.cap", t("这个上限永远用不上：其中各项最多合计 {most} 分",
                                               most=fmt(item_max)), "cap_never_bites")
            maxima.append(min(item_max, cat.cap) if cat.cap is not None else item_max)
        reachable = sum(maxima, ZERO)
        if adj.cap is not None and reachable <= adj.cap:
            self.warning(f"{path}.cap", t("这个上限永远用不上：各项及各类的上限合计最多 {most} 分",
                                          most=fmt(reachable)), "cap_never_bites")

    def item_max(self, item: Item, res: Resolved) -> Decimal:
        """The most an item can give (INF when occurrences are unbounded)."""
        if item.input == "points":
            best = item.max if item.max is not None else INF
        elif item.input == "growth":
            best = INF
        elif item.highest_only and item.input == "count" and not item.escalation:
            best = max(item.levels.values()) if item.levels else (item.amount or ZERO)
        else:
            best = INF
        caps = [best]
        if item.cap is not None:
            caps.append(item.cap)
        if item.cap_share is not None and item.cap_share.part in res.points:
            caps.append(item.cap_share.share * res.points[item.cap_share.part])
        return min(caps)

    def check_items(self, items: list[Item], path: str, res: Resolved,
                    in_deduction_part: bool = False) -> None:
        for j, item in enumerate(items):
            ipath = f"{path}[{j}]"
            if item.knockout is not None and not in_deduction_part:
                self.error(f"{ipath}.knockout", t("knockout 只能用在扣分制部分（deduction）中"
                                                  "（它使该部分得最低分）"), "knockout")
            if item.cap_share is not None and item.cap_share.part not in res.points:
                self.error(f"{ipath}.cap_share.part", t("没有编号为“{part}”的部分；已有：{known}",
                                                        part=item.cap_share.part,
                                                        known=_listed(res.points)),
                           "unknown_ref")
            if item.levels:
                for level in item.levels:
                    if not _identifier_safe(level):
                        self.error(f"{ipath}.levels", t("级别“{level}”会成为列编号的一部分；"
                                                        "只能用字母或汉字（不能有空格、括号）",
                                                        level=level), "level_name")
            if item.highest_only and not item.levels:
                self.warning(f"{ipath}.highest_only", t("没有 `levels` 时不起作用"),
                             "no_effect")
            uncapped_max = self.item_max(item.model_copy(update={"cap": None,
                                                                 "cap_share": None}), res)
            if item.cap is not None and uncapped_max <= item.cap:
                self.warning(f"{ipath}.cap", t("这个上限永远用不上：该项最多 {most} 分",
                                               most=fmt(uncapped_max)), "cap_never_bites")

    # ------------------------------------------------------------------ tiers

    def check_tiers(self, inputs: list[InputSpec], res: Resolved) -> list[TierSpan]:
        scheme = self.scheme
        spans = [tier_span(i, t, scheme.max_score) for i, t in enumerate(scheme.tiers)]
        if not spans:
            return spans
        labels = [tier.label for tier in scheme.tiers]
        for i, label in enumerate(labels):
            if labels.index(label) != i:
                self.error(f"tiers[{i}].label", t("等次名称“{label}”用了两次", label=label),
                           "duplicate")
        digits = scheme.rounding.total.digits
        step = Decimal(1).scaleb(-digits)
        for span in spans:
            for side, value in (("low", span.low), ("high", span.high)):
                if value is not None and digits >= 0 and value != value.quantize(step):
                    key = _bound_key(scheme.tiers[span.index], side)
                    self.warning(f"tiers[{span.index}].{key}",
                                 t("{value} 的小数位多于总分保留的位数（{digits} 位）：没有哪个"
                                   "总分恰好等于它，读者看不清分界", value=fmt(value),
                                   digits=digits), "ambiguous_boundary")
            if span.low is not None and span.high is not None and (
                    span.low > span.high or (span.low == span.high and not (
                    span.low_inclusive and span.high_inclusive))):
                self.error(f"tiers[{span.index}]", t("等次“{label}”是空的：下限不低于上限",
                                                     label=span.label), "empty_tier")
        low, high = self.reachable(res)
        bounds = sorted({b for s in spans for b in (s.low, s.high) if b is not None})
        probes: set[Decimal] = set(bounds)
        for a, b in itertools.pairwise(bounds):
            between = (a + step).quantize(step) if digits >= 0 else a + step
            if between >= b:
                between = (a + b) / 2 if digits < 0 else None  # type: ignore[assignment]
            if between is not None and a < between < b:
                probes.add(between)
        probes.add(bounds[0] - step)
        probes.add(bounds[-1] + step)
        probes = {p for p in probes if (low is None or p >= low) and (high is None or p <= high)}
        if low is not None:
            probes.add(low)
        if high is not None:
            probes.add(high)
        reported_gap: set[tuple[Decimal | None, Decimal | None]] = set()
        reported_overlap: set[tuple[int, ...]] = set()
        for x in sorted(probes):
            inside = [s for s in spans if s.contains(x)]
            if not inside:
                below = max((b for b in bounds if b < x), default=None)
                above = min((b for b in bounds if b > x), default=None)
                if x in bounds:
                    below = above = x
                if (below, above) in reported_gap:
                    continue
                reported_gap.add((below, above))
                if below == above:
                    where = t("恰为 {x} 分的总分", x=fmt(x))
                elif below is None:
                    where = t("低于 {above} 分的总分", above=fmt(above))
                elif above is None:
                    where = t("高于 {below} 分的总分", below=fmt(below))
                else:
                    where = t("介于 {below} 分与 {above} 分之间的总分（如 {x}）", below=fmt(below),
                              above=fmt(above), x=fmt(x))
                self.error("tiers", t("{where}不属于任何等次；总分保留 {digits} 位小数，"
                                      "可能的范围为 {low} 到 {high}", where=where, digits=digits,
                                      low=fmt(low) if low is not None else "−∞",
                                      high=fmt(high) if high is not None else "+∞"),
                           "tier_gap")
            elif len(inside) > 1:
                key = tuple(s.index for s in inside)
                if key in reported_overlap:
                    continue
                reported_overlap.add(key)
                names = t(" 和 ").join(f"tiers[{s.index}]“{s.label}”" for s in inside)
                self.error(f"tiers[{inside[1].index}]", t("{x} 分同时属于 {names}；请写明分界分数"
                                                          "归哪个等次", x=fmt(x), names=names),
                           "tier_overlap")
        for a, b in itertools.pairwise(spans):
            if a.low is not None and b.low is not None and a.low < b.low:
                self.warning(f"tiers[{b.index}]", t("等次应从高到低排列：“{lower}”的起点高于"
                                                    "“{upper}”", lower=b.label, upper=a.label),
                             "tier_order")
        return spans

    def reachable(self, res: Resolved) -> tuple[Decimal | None, Decimal | None]:
        """The lowest and highest total the scheme can produce (None = unbounded)."""
        low, high = self._parts_range(self.scheme.parts, res)
        b_low, b_high = self._adjustment_range(self.scheme.bonuses, res)
        d_low, d_high = self._adjustment_range(self.scheme.deductions, res)
        lo = low + b_low - d_high
        hi = high + b_high - d_low
        return (None if lo == -INF else lo, None if hi == INF else hi)

    def _parts_range(self, parts: list, res: Resolved, adjustments: bool = True
                     ) -> tuple[Decimal, Decimal]:
        """The range of the parts' points; ``adjustments=False`` leaves out the bonuses and
        deductions inside composite parts."""
        lo = hi = ZERO
        for part in parts:
            pts, scale = res.points.get(part.id, ZERO), res.scale.get(part.id, ONE)
            factor = pts / scale if scale else ZERO
            if isinstance(part, CompositePart):
                c_lo, c_hi = self._parts_range(part.parts, res, adjustments)
                b_lo, b_hi = self._adjustment_range(part.bonuses if adjustments else None, res)
                d_lo, d_hi = self._adjustment_range(part.deductions if adjustments else None,
                                                    res)
                p_lo, p_hi = (c_lo + b_lo - d_hi) * factor, (c_hi + b_hi - d_lo) * factor
            elif isinstance(part, DirectPart):
                p_lo, p_hi = (part.min or ZERO) * factor, pts
            elif isinstance(part, RatioPart):
                p_lo, p_hi = ZERO, pts if part.cap_at_full else INF
            elif isinstance(part, RatePart):
                p_lo, p_hi = ZERO, pts
            elif isinstance(part, RatingPart):
                p_lo, p_hi = min(part.values.values()) * pts, max(part.values.values()) * pts
            elif isinstance(part, GradePart):
                p_lo = min(part.values.values()) * factor
                p_hi = max(part.values.values()) * factor
            elif isinstance(part, RankPart):
                p_lo = min(b.score for b in part.bands) * factor
                p_hi = max(b.score for b in part.bands) * factor
            elif isinstance(part, DeductionPart):
                p_lo, p_hi = part.floor * factor, pts
            else:  # pragma: no cover
                p_lo, p_hi = ZERO, pts
            if part.applies_when is not None:
                # when it does not apply, its points move to siblings: the range stays
                p_lo = min(p_lo, ZERO)
            if not factor:  # a part worth 0 points adds nothing, however it scores
                p_lo = p_hi = ZERO
            lo += p_lo
            hi += p_hi
        return lo, hi

    def _adjustment_range(self, adj: Adjustments | None, res: Resolved
                          ) -> tuple[Decimal, Decimal]:
        if adj is None:
            return ZERO, ZERO
        low = ZERO
        maxima = []
        for item in adj.items:
            maxima.append(self.item_max(item, res))
            if item.input == "points" and item.min is not None and item.min < 0:
                low += item.min
            if item.input == "growth":
                low = -INF
        for cat in adj.categories:
            m = sum((self.item_max(i, res) for i in cat.items), ZERO)
            maxima.append(min(m, cat.cap) if cat.cap is not None else m)
        high = sum(maxima, ZERO)
        if adj.cap is not None:
            high = min(high, adj.cap)
        return low, high

    # ------------------------------------------------------------------ full marks

    def check_within_max(self, res: Resolved) -> None:
        """The parts themselves (bonuses aside) may not score above max_score, unless the
        scheme declares ``bonus_headroom``: weights or values adding up to more than full
        marks are a mistake, and a total of 120 against 满分100 would be paid as computed."""
        if any(i.code == "weights_sum" for i in self.issues):
            return  # weights that do not add up are reported already; this would repeat it
        scheme = self.scheme
        _low, high = self._parts_range(scheme.parts, res, adjustments=False)
        headroom = scheme.bonus_headroom or ZERO
        ceiling = scheme.max_score + headroom
        if high <= ceiling:
            return
        full = fmt(scheme.max_score)
        if high == INF:
            self.error("parts", t("各部分（不含加分）的得分没有上限（如 ratio 部分的 "
                                  "cap_at_full: false），可能超过满分 {full}；请为它们设上限，"
                                  "或改用 bonuses 写加分", full=full), "above_max")
            return
        declared = (t("声明的 bonus_headroom {headroom} 不够", headroom=fmt(headroom))
                    if scheme.bonus_headroom is not None else t("方案没有声明 bonus_headroom"))
        self.error("parts", t("各部分（不含加分）最高可得 {high} 分，超过满分 max_score "
                              "{full}，{declared}：请改正权重或分值；如果方案确实允许超出满分，"
                              "请写 bonus_headroom: {needed}", high=fmt(high), full=full,
                              declared=declared, needed=fmt(high - scheme.max_score)),
                   "above_max")

    # ------------------------------------------------------------------ references

    def check_references(self, inputs: list[InputSpec], res: Resolved) -> None:
        scheme = self.scheme
        tiers = [tier.label for tier in scheme.tiers]
        by_id: dict[str, InputSpec] = {}
        for spec in inputs:
            if spec.id in by_id:
                self.error(spec.path, t("输入编号“{id}”出现两次（另一次在 {other}）；请给其中"
                                        "一项或一个部分改名", id=spec.id,
                                        other=by_id[spec.id].path), "duplicate_input")
            by_id[spec.id] = spec
        names = set(by_id)
        for i, group in enumerate(scheme.groups):
            self._check_group_field(group, f"groups[{i}]", by_id)

        def expr(text: str, path: str, known: set[str], functions: tuple[str, ...] = ()) -> None:
            try:
                compile_expr(text, known, {f: lambda env, *a: None for f in functions})
            except ExprError as exc:
                self.error(path, str(exc), "expression")

        def tier_ref(label: str | None, path: str, allowed: list[str] | None = None) -> None:
            allowed = tiers if allowed is None else allowed
            if label is not None and label not in allowed:
                self.error(path, t("没有等次“{label}”；应为其中之一：{known}", label=label,
                                   known="、".join(allowed) or t("（方案没有定义等次）")),
                           "unknown_ref")

        for _part_id, path in res.paths.items():
            part = self._part_at(path)
            if part.applies_when:
                expr(part.applies_when, f"{path}.applies_when", known_names("inputs", by_id))
        items_by_id = {item.id: item for _path, item in self._all_items()}
        for path, item in self._all_items():
            if item.when:
                expr(item.when, f"{path}.when", known_names("inputs", by_id))
            if item.reads is not None:
                source = items_by_id.get(item.reads)
                if source is None or source.reads is not None:
                    self.error(f"{path}.reads", t("“{item}”不是有自己一列的项目", item=item.reads),
                               "unknown_ref")
                elif (source.input, list(source.levels or ())) != (item.input,
                                                                   list(item.levels or ())):
                    self.error(f"{path}.reads", t("“{item}”读的是另一种列（{kind}）；共用一列的"
                                                  "项目必须以同样方式读它", item=item.reads,
                                                  kind=source.input), "reads")
        for i, tier in enumerate(scheme.tiers):
            for j, gate in enumerate(tier.requires):
                expr(gate, f"tiers[{i}].requires[{j}]", known_names("result", names))
        for i, cond in enumerate(scheme.conditions):
            expr(cond.when, f"conditions[{i}].when", known_names("result", names))
            tier_ref(cond.then.grade, f"conditions[{i}].then.grade")
            tier_ref(cond.then.at_most, f"conditions[{i}].then.at_most")
            if (cond.then.grade or cond.then.no_grade or cond.then.at_most) and not tiers:
                self.error(f"conditions[{i}].then", t("设定了等次，但方案没有定义等次"),
                           "unknown_ref")
        if scheme.quotas:
            q = scheme.quotas
            total_share = ZERO
            for j, limit in enumerate(q.limits):
                tier_ref(limit.tier, f"quotas.limits[{j}].tier")
                if limit.share is not None:
                    if limit.share > ONE:
                        self.error(f"quotas.limits[{j}].share",
                                   t("{share} 超过 100%", share=_percent(limit.share)),
                                   "quota_over_100")
                    total_share += limit.share
                if limit.tier in tiers and tiers.index(limit.tier) == len(tiers) - 1:
                    self.error(f"quotas.limits[{j}].tier", t("最低的等次不能限额：超出名额的人"
                                                             "没有更低的等次可去"), "quota_tier")
            if total_share > ONE:
                self.error("quotas.limits", t("各比例合计为 {share}，超过组内人数的 100%",
                                              share=_percent(total_share)),
                           "quota_over_100")
            for j, group in enumerate(q.group_by or []):
                self._check_group_field(group, f"quotas.group_by[{j}]", by_id)
            for j, key in enumerate(q.ties.keys):
                if key not in names and key not in res.points:
                    self.error(f"quotas.ties.keys[{j}]",
                               t("没有编号为“{key}”的部分或输入", key=key), "unknown_ref")
        for i, rule in enumerate(scheme.rank_rules):
            if rule.when:
                expr(rule.when, f"rank_rules[{i}].when", known_names("rank", names))
            if rule.eligible:
                expr(rule.eligible, f"rank_rules[{i}].eligible", known_names("rank", names))
            for j, group in enumerate(rule.group_by or []):
                self._check_group_field(group, f"rank_rules[{i}].group_by[{j}]", by_id)
        if scheme.payout:
            self._check_payout(by_id, names, tiers, expr, tier_ref)
        if scheme.aggregation:
            agg = scheme.aggregation
            for j, rule in enumerate(agg.rules):
                expr(rule.when, f"aggregation.rules[{j}].when", {"n"}, ("count",))
                tier_ref(rule.grade, f"aggregation.rules[{j}].grade", agg.grades)
            tier_ref(agg.otherwise, "aggregation.otherwise", agg.grades)
            if agg.quota:
                tier_ref(agg.quota.tier, "aggregation.quota.tier", agg.grades)
                tier_ref(agg.quota.fallback, "aggregation.quota.fallback", agg.grades)
                if (agg.quota.share is None) == (agg.quota.count is None):
                    self.error("aggregation.quota", t("`share` 和 `count` 应写且只写一个"),
                               "quota")
            if any(r.within_quota for r in agg.rules) and not agg.quota:
                self.error("aggregation.quota",
                           t("有规则写了 `within_quota`，但没有声明名额（quota）"), "quota")
        if any(isinstance(self._part_at(p), RankPart) for p in res.paths.values()) \
                and not scheme.groups:
            self.warning("groups", t("排名部分在组内排名；没有 `groups` 时全体为一组"),
                         "groups")

    def _check_payout(self, by_id, names, tiers, expr, tier_ref) -> None:
        payout = self.scheme.payout
        assert payout is not None
        table = payout.amounts if payout.amounts is not None else payout.base_months
        if table is not None:
            key = "amounts" if payout.amounts is not None else "base_months"
            for label in table:
                tier_ref(label, f"payout.{key}.{label}")
            for label in tiers:
                if label not in table:
                    self.warning(f"payout.{key}", t("等次“{label}”没有金额：发 0", label=label),
                                 "payout_missing")
        if payout.base is not None:
            spec = by_id.get(payout.base)
            if spec is None or spec.type != "number":
                self.error("payout.base", t("“{base}”应为在 `inputs` 中声明的数值输入",
                                            base=payout.base), "unknown_ref")
        for j, rule in enumerate(payout.rules):
            expr(rule.when, f"payout.rules[{j}].when", known_names("payout", names))
            for k, g in enumerate(rule.grades or []):
                tier_ref(g, f"payout.rules[{j}].grades[{k}]")
            if rule.pay_as not in (None, "none"):
                tier_ref(rule.pay_as, f"payout.rules[{j}].pay_as")
            if rule.pro_rata and rule.pro_rata.months not in by_id:
                self.error(f"payout.rules[{j}].pro_rata.months",
                           t("没有输入“{input}”", input=rule.pro_rata.months), "unknown_ref")
            if rule.pay_as is None and rule.pro_rata is None:
                self.error(f"payout.rules[{j}]", t("奖金规则需要 `pay_as` 或 `pro_rata`"),
                           "no_effect")
        if payout.rank_prizes:
            tier_ref(payout.rank_prizes.min_grade, "payout.rank_prizes.min_grade")
            for j, group in enumerate(payout.rank_prizes.group_by or []):
                self._check_group_field(group, f"payout.rank_prizes.group_by[{j}]", by_id)

    def _check_group_field(self, group: str, path: str, by_id: dict[str, InputSpec]) -> None:
        spec = by_id.get(group)
        if spec is None:
            self.error(path, t("没有输入“{input}”；请在 `inputs` 中声明它（类型为 text 或 label）",
                               input=group), "unknown_ref")
        elif spec.type not in ("text", "label"):
            self.error(path, t("输入“{input}”的类型是 {type}；分组要用 text 或 label 类型的输入"
                               "（科级/中层/一般）", input=group, type=spec.type), "group_type")

    def _all_items(self) -> Iterator[tuple[str, Item]]:
        def from_adj(adj: Adjustments | None, path: str) -> Iterator[tuple[str, Item]]:
            if adj is None:
                return
            for j, item in enumerate(adj.items):
                yield f"{path}.items[{j}]", item
            for c, cat in enumerate(adj.categories):
                for j, item in enumerate(cat.items):
                    yield f"{path}.categories[{c}].items[{j}]", item

        def from_parts(parts: list, base: str) -> Iterator[tuple[str, Item]]:
            for i, part in enumerate(parts):
                path = f"{base}[{i}]"
                if isinstance(part, DeductionPart):
                    for j, item in enumerate(part.items):
                        yield f"{path}.items[{j}]", item
                if isinstance(part, CompositePart):
                    yield from from_parts(part.parts, f"{path}.parts")
                    yield from from_adj(part.bonuses, f"{path}.bonuses")
                    yield from from_adj(part.deductions, f"{path}.deductions")

        yield from from_parts(self.scheme.parts, "parts")
        yield from from_adj(self.scheme.bonuses, "bonuses")
        yield from from_adj(self.scheme.deductions, "deductions")


def _bound_key(tier: Tier, side: str) -> str:
    if side == "low":
        return "at_least" if tier.at_least is not None else "above"
    return "at_most" if tier.at_most is not None else "below"


def _percent(share: Decimal) -> str:
    return f"{fmt(share * HUNDRED)}%"


def _listed(names: object) -> str:
    """Known names for a message: ``a、b、c``, or （无）."""
    return "、".join(names) or t("（无）")  # type: ignore[call-overload]


def _identifier_safe(text: str) -> bool:
    return text.replace("_", "a").isidentifier() if text else False


def _split_path(path: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for chunk in path.replace("]", "").split("."):
        if not chunk:
            continue
        name, *indexes = chunk.split("[")
        if name:
            out.append(name)
        out.extend(int(i) for i in indexes)
    return tuple(out)


#: what a free-text description usually restates, in the words of the warning below
RULE_ASPECTS = (N_("权重"), N_("等次"), N_("封顶"), N_("名额"), N_("奖金"))


def _aspects(scheme: Scheme) -> dict[str, object]:
    def parts(items: list) -> list:
        return [(p.id, p.points, p.weight, p.scale,
                 parts(p.parts) if isinstance(p, CompositePart) else None) for p in items]

    def caps(obj: object, path: str = "") -> list:
        found = []
        if isinstance(obj, list):
            for i, x in enumerate(obj):
                found += caps(x, f"{path}[{i}]")
        elif isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                value = getattr(obj, name)
                if name in ("cap", "cap_share", "floor") and value is not None:
                    found.append((f"{path}.{name}", str(value)))
                elif isinstance(value, (list, BaseModel)):
                    found += caps(value, f"{path}.{name}")
        return found

    quiet = {"source", "note"}
    payout = scheme.payout
    return {
        "权重": parts(scheme.parts),
        "等次": [tier.model_dump(mode="json", exclude=quiet) for tier in scheme.tiers],
        "封顶": caps([scheme.parts, scheme.bonuses, scheme.deductions]),
        "名额": scheme.quotas.model_dump(mode="json", exclude=quiet) if scheme.quotas else None,
        "奖金": (payout.amounts, payout.base_months) if payout else None,
    }


def rule_changes(old: Scheme, new: Scheme) -> list[str]:
    """Which of the rules a description restates (:data:`RULE_ASPECTS`) differ between two
    versions of a scheme."""
    a, b = _aspects(old), _aspects(new)
    return [k for k in RULE_ASPECTS if a[k] != b[k]]


def _same_text(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and " ".join(a.split()) == " ".join(b.split())


def validate(scheme: Scheme, source: SchemeSource | None = None,
             previous: Scheme | None = None) -> Report:
    """All semantic checks of one scheme; ``previous``, when given, is the published version
    it would replace (a description kept from it while the rules changed is stale)."""
    checker = _Checker(scheme, source)
    res = checker.resolve()
    checker.check_parts(res)
    checker.check_within_max(res)
    inputs = scheme_inputs(scheme, res.points)
    checker.check_references(inputs, res)
    for path, adj in (("bonuses", scheme.bonuses), ("deductions", scheme.deductions)):
        if adj:
            checker.check_adjustments(adj, path, res)
    checker.check_tiers(inputs, res)
    if previous is not None and _same_text(scheme.description, previous.description):
        changed = rule_changes(previous, scheme)
        if changed:
            checker.warning("description", t("说明文字沿用第 {version} 版的原文，但{changed}"
                                             "已改变：请按新规则改写说明，否则读者看到的说明与"
                                             "规则不符", version=previous.version,
                                             changed=t("、").join(t(c) for c in changed)),
                            "stale_description")
    return Report(checker.issues)


def reachable_totals(scheme: Scheme, resolved: Resolved | None = None
                     ) -> tuple[Decimal | None, Decimal | None]:
    """The lowest and highest total a (validated) scheme can produce; None = unbounded.
    ``resolved``: the scheme's :func:`resolve_parts`, where the caller has it already."""
    checker = _Checker(scheme, None)
    return checker.reachable(resolved if resolved is not None else checker.resolve())


def resolve_parts(scheme: Scheme) -> Resolved:
    """Points and scale of every part (for the engine; assumes a validated scheme)."""
    return _Checker(scheme, None).resolve()
