"""What the web pages show, computed from a :class:`Scheme` without any HTML: the parts and
their weights as table rows, the tiers as bands on a bar from 0 to the maximum score, caps,
conditions, quotas and payouts as short lines, and a side-by-side diff of two versions.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from xlbridge.arith import HUNDRED, ONE, ZERO, fmt
from xlbridge.scheme.describe import METHOD_NAMES, PERIOD_NAMES, describe, item_text
from xlbridge.scheme.inputs import part_periods
from xlbridge.scheme.model import Adjustments, CompositePart, Scheme
from xlbridge.scheme.validate import resolve_parts, tier_span

#: best tier first; distinct in hue so a screenshot can tell them apart
BAND_COLOURS = ("#2e7d32", "#1565c0", "#f9a825", "#ef6c00", "#c62828", "#6a1b9a",
                "#00838f", "#5d4037")


def pct(x: Decimal) -> str:
    return f"{fmt(x * HUNDRED)}%"


@dataclass
class PartRow:
    depth: int
    id: str
    title: str
    method: str
    points: str
    share: str  # of the scheme's maximum, through the parents' scales
    weight: str  # as written: 80% of the parent, or points
    detail: str
    bar: float  # 0…100, width of the little share bar


def part_rows(scheme: Scheme) -> list[PartRow]:
    res = resolve_parts(scheme)
    rows: list[PartRow] = []

    def walk(parts: list, depth: int, per_point: Decimal) -> None:
        # per_point: share of the scheme's maximum that one point at this level is worth
        # (a child's points are on its composite parent's scale)
        for part in parts:
            pts = res.points.get(part.id, ZERO)
            scale = res.scale.get(part.id)
            share = pts * per_point * HUNDRED
            written = (f"权重 {pct(part.weight)}" if part.weight is not None
                       else f"{fmt(part.points)} 分" if part.points is not None else "")
            bits = []
            if scale is not None and scale != pts:
                bits.append(f"按{fmt(scale)}分制折算")
            periods = part_periods(scheme, part)
            if periods:
                bits.append("、".join(f"{p.label}{pct(p.weight)}" for p in periods))
            if part.applies_when:
                bits.append(f"适用：{part.applies_when}")
            method = part.method
            if method in ("rating", "grade"):
                bits.append("、".join(f"{k}→{pct(v) if method == 'rating' else fmt(v)}"
                                     for k, v in part.values.items()))
            elif method == "rank":
                bits.append("、".join(f"前{pct(b.top)}→{fmt(b.score)}" if b.top is not None
                                     else f"其余→{fmt(b.score)}" for b in part.bands))
            elif method == "ratio" and part.target is not None:
                bits.append(f"目标 {fmt(part.target)}")
            elif method == "deduction":
                bits.extend(item_text(i) for i in part.items)
                if part.cap is not None:
                    bits.append(f"最多扣{fmt(part.cap)}分")
            rows.append(PartRow(depth, part.id, part.title, METHOD_NAMES.get(method, method),
                                fmt(pts), f"{fmt(share.quantize(Decimal('0.1')))}%", written,
                                "；".join(bits), float(min(share, HUNDRED))))
            if isinstance(part, CompositePart):
                inner = scale if scale else pts
                walk(part.parts, depth + 1, pts * per_point / inner if inner else ZERO)

    walk(scheme.parts, 0, ONE / scheme.max_score)
    return rows


@dataclass
class Band:
    index: int
    label: str
    bounds: str
    left: float  # percent of the bar
    width: float  # percent of the bar
    colour: str
    gated: bool


def tier_bands(scheme: Scheme) -> list[Band]:
    """Each tier as a band on [0, max_score], best first; open ends stop at 0 and the max."""
    top = scheme.max_score
    bands = []
    for i, tier in enumerate(scheme.tiers):
        span = tier_span(i, tier, top)
        low = ZERO if span.low is None else max(ZERO, min(top, span.low))
        high = top if span.high is None else max(ZERO, min(top, span.high))
        left = float(low / top * HUNDRED)
        width = float(max(ZERO, high - low) / top * HUNDRED)
        bands.append(Band(i, tier.label, span.text(), round(left, 4),
                          round(width, 4), BAND_COLOURS[i % len(BAND_COLOURS)],
                          bool(tier.requires)))
    return bands


def bar_ticks(scheme: Scheme, bands: list[Band]) -> list[tuple[float, str]]:
    """Positions (percent) and labels of the bounds shown under the bar."""
    top = scheme.max_score
    values = {ZERO, top}
    for i, tier in enumerate(scheme.tiers):
        span = tier_span(i, tier, top)
        values.update(v for v in (span.low, span.high) if v is not None and ZERO <= v <= top)
    return [(round(float(v / top * HUNDRED), 4), fmt(v)) for v in sorted(values)]


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)


def _adjustment_section(adj: Adjustments, word: str, where: str = "") -> Section:
    cap = f"累计不超过 {fmt(adj.cap)} 分" if adj.cap is not None else "不封顶"
    sec = Section(f"{where}{adj.title or word}（{cap}）")
    sec.lines.extend(item_text(i) for i in adj.items)
    for cat in adj.categories:
        head = f"{cat.title}" + (f"（封顶 {fmt(cat.cap)} 分）" if cat.cap is not None else "")
        sec.lines.append(head + "：" + "；".join(item_text(i) for i in cat.items))
    return sec


def rule_sections(scheme: Scheme) -> list[Section]:
    """Caps, conditions, quotas and payouts, each as a titled list of short lines."""
    out: list[Section] = []

    def composites(parts: list):
        for p in parts:
            if isinstance(p, CompositePart):
                yield p
                yield from composites(p.parts)

    for part in composites(scheme.parts):
        for name, word in (("bonuses", "加分"), ("deductions", "扣分")):
            adj = getattr(part, name)
            if adj:
                out.append(_adjustment_section(adj, word, f"{part.title} · "))
    for name, word in (("bonuses", "加分"), ("deductions", "扣分")):
        adj = getattr(scheme, name)
        if adj:
            out.append(_adjustment_section(adj, word))
    if scheme.conditions:
        sec = Section("否决、门槛与等次条件")
        for c in scheme.conditions:
            t = c.then
            what = (f"确定为{t.grade}" if t.grade else "不确定等次" if t.no_grade
                    else f"最高{t.at_most}" if t.at_most else f"标记：{t.flag}")
            sec.lines.append(f"{'一票否决：' if c.veto else ''}{c.title}（{c.when}）→ {what}")
        out.append(sec)
    gates = [(t.label, t.requires) for t in scheme.tiers if t.requires]
    if gates:
        out.append(Section("等次门槛", [f"{label}须：{'，'.join(req)}" for label, req in gates]))
    if scheme.quotas:
        q = scheme.quotas
        rounding = {"half_up": "四舍五入", "floor": "向下取整", "ceiling": "向上取整"}
        ties = {"all_in": "并列者全部入选", "all_out": "并列者全部不入选",
                "keys": f"依次比较 {', '.join(q.ties.keys)}，仍并列则"
                        f"{'全部入选' if q.ties.then == 'all_in' else '全部不入选'}"}
        group = "、".join(q.group_by if q.group_by is not None else scheme.groups) or "全体"
        sec = Section(f"名额（按{group}分组）")
        sec.lines.extend(f"{lim.tier} 不超过 "
                         f"{pct(lim.share) if lim.share is not None else f'{lim.count} 名'}"
                         for lim in q.limits)
        sec.lines.append(f"人数{rounding[q.rounding]}；{ties[q.ties.rule]}")
        out.append(sec)
    for r in scheme.rank_rules:
        which = (f"前{pct(r.top) if isinstance(r.top, Decimal) else r.top}" if r.top is not None
                 else f"后{pct(r.bottom) if isinstance(r.bottom, Decimal) else r.bottom}")
        out.append(Section(r.title, [f"{which}：{r.flag}" + (f"（{r.when}）" if r.when else "")]))
    if scheme.payout:
        p = scheme.payout
        sec = Section("奖金")
        if p.amounts:
            sec.lines.append("、".join(f"{k} {fmt(v)}{p.unit}" for k, v in p.amounts.items()))
        if p.base_months:
            sec.lines.append("、".join(f"{k} {fmt(v)} 个月{p.base}"
                                      for k, v in p.base_months.items()))
        sec.lines.extend(f"{rule.title}（{rule.when}）" for rule in p.rules)
        if p.rank_prizes:
            sec.lines.append(f"{p.rank_prizes.title}：" + "、".join(
                f"第{z.rank}名 {fmt(z.amount)}" for z in p.rank_prizes.prizes))
        out.append(sec)
    if scheme.aggregation:
        a = scheme.aggregation
        out.append(Section(a.title, [f"{r.when} → {r.grade}" for r in a.rules]
                           + [f"其余 → {a.otherwise}"]))
    return out


def facts(scheme: Scheme) -> list[tuple[str, str]]:
    out = [("考核对象", scheme.unit), ("周期", PERIOD_NAMES.get(scheme.period, scheme.period)),
           ("满分", fmt(scheme.max_score))]
    if scheme.groups:
        out.append(("分组", "、".join(scheme.groups)))
    if scheme.source:
        out.append(("依据", scheme.source))
    return out


# --------------------------------------------------------------------------- diff


@dataclass
class DiffRow:
    kind: str  # equal, replace, delete, insert
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(a: list[str], b: list[str], context: int | None = None) -> list[DiffRow]:
    """Rows of a two-column diff; ``context`` lines around changes (None: everything)."""
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    groups = ([matcher.get_opcodes()] if context is None
              else list(matcher.get_grouped_opcodes(context)))
    for g, opcodes in enumerate(groups):
        if g:
            rows.append(DiffRow("skip", None, "…", None, "…"))
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                rows.extend(DiffRow("equal", i + 1, a[i], j + 1, b[j])
                            for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
                continue
            n = max(i2 - i1, j2 - j1)
            for k in range(n):
                i, j = i1 + k, j1 + k
                left = a[i] if i < i2 else None
                right = b[j] if j < j2 else None
                kind = ("replace" if left is not None and right is not None
                        else "delete" if left is not None else "insert")
                rows.append(DiffRow(kind, i + 1 if left is not None else None, left or "",
                                    j + 1 if right is not None else None, right or ""))
    return rows


def document_lines(body: bytes) -> list[str]:
    return json.dumps(json.loads(body), ensure_ascii=False, indent=2).splitlines()


def rules_lines(scheme: Scheme) -> list[str]:
    # The version number differs between any two versions; leave it out of the rules view.
    return describe(scheme.model_copy(update={"version": 1})).splitlines()[1:]
