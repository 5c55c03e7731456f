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
from xlbridge.i18n import t, tp
from xlbridge.scheme.describe import (
    METHOD_NAMES,
    PERIOD_NAMES,
    Names,
    aggregation_lines,
    cap_text,
    category_text,
    condition_text,
    describe,
    item_text,
    named,
    part_scoring,
    part_terms,
    payout_lines,
    pct,
    quota_head,
    quota_lines,
    rank_rule_text,
)
from xlbridge.scheme.model import Adjustments, CompositePart, Scheme
from xlbridge.scheme.validate import resolve_parts, tier_span

#: best tier first; distinct in hue so a screenshot can tell them apart
BAND_COLOURS = ("#2e7d32", "#1565c0", "#f9a825", "#ef6c00", "#c62828", "#6a1b9a",
                "#00838f", "#5d4037")


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


def part_rows(scheme: Scheme, names: Names | None = None) -> list[PartRow]:
    res = resolve_parts(scheme)
    names = names or Names(scheme)
    rows: list[PartRow] = []

    def walk(parts: list, depth: int, per_point: Decimal) -> None:
        # per_point: share of the scheme's maximum that one point at this level is worth
        # (a child's points are on its composite parent's scale)
        for part in parts:
            pts = res.points.get(part.id, ZERO)
            scale = res.scale.get(part.id)
            share = pts * per_point * HUNDRED
            written = (t("权重 {weight}", weight=pct(part.weight)) if part.weight is not None
                       else t("{points} 分", points=fmt(part.points))
                       if part.points is not None else "")
            bits = []
            if scale is not None and scale != pts:
                bits.append(t("按{scale}分制折算", scale=fmt(scale)))
            bits.extend(part_terms(scheme, part, names))
            bits.extend(part_scoring(part, names))
            rows.append(PartRow(depth, part.id, part.title,
                                named(METHOD_NAMES, part.method), fmt(pts),
                                f"{fmt(share.quantize(Decimal('0.1')))}%", written,
                                t("；").join(bits), float(min(share, HUNDRED))))
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


def _adjustment_section(adj: Adjustments, word: str, names: Names, where: str = "") -> Section:
    sec = Section(f"{where}{adj.title or word}（{cap_text(adj)}）")
    sec.lines.extend(item_text(i, names) for i in adj.items)
    sec.lines.extend(category_text(cat, names) for cat in adj.categories)
    return sec


def rule_sections(scheme: Scheme, names: Names | None = None) -> list[Section]:
    """Caps, conditions, quotas and payouts, each as a titled list of short lines."""
    names = names or Names(scheme)
    out: list[Section] = []

    def composites(parts: list):
        for p in parts:
            if isinstance(p, CompositePart):
                yield p
                yield from composites(p.parts)

    for part in composites(scheme.parts):
        for name, word in (("bonuses", t("加分")), ("deductions", t("扣分"))):
            adj = getattr(part, name)
            if adj:
                out.append(_adjustment_section(adj, word, names, f"{part.title} · "))
    for name, word in (("bonuses", t("加分")), ("deductions", t("扣分"))):
        adj = getattr(scheme, name)
        if adj:
            out.append(_adjustment_section(adj, word, names))
    if scheme.conditions:
        out.append(Section(t("否决、门槛与等次条件"),
                           [condition_text(c, names) for c in scheme.conditions]))
    gates = [(t.label, t.requires) for t in scheme.tiers if t.requires]
    if gates:
        out.append(Section(t("等次门槛"), [
            t("{tier}须：{conditions}", tier=label,
              conditions=t("，").join(names.expr(r) for r in req)) for label, req in gates]))
    if scheme.quotas:
        out.append(Section(quota_head(scheme, names), quota_lines(scheme, names)))
    for r in scheme.rank_rules:
        out.append(Section(r.title, [rank_rule_text(r, names)]))
    if scheme.payout:
        out.append(Section(tp("web", "奖金"), payout_lines(scheme, names)))
    if scheme.aggregation:
        out.append(Section(scheme.aggregation.title, aggregation_lines(scheme, names)))
    return out


def facts(scheme: Scheme, names: Names | None = None) -> list[tuple[str, str]]:
    names = names or Names(scheme)
    out = [(tp("web", "考核对象"), scheme.unit),
           (tp("web", "周期"), named(PERIOD_NAMES, scheme.period)),
           (t("满分"), fmt(scheme.max_score))]
    if scheme.groups:
        out.append((t("分组"), names.join(scheme.groups)))
    if scheme.source:
        out.append((t("依据"), scheme.source))
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
