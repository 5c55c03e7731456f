"""A scheme in plain Chinese-and-numbers text: what `xlbridge schemes show` prints."""

from __future__ import annotations

from xlbridge.arith import HUNDRED, fmt
from xlbridge.scheme.inputs import InputSpec, part_periods
from xlbridge.scheme.model import Adjustments, CompositePart, Item, Scheme
from xlbridge.scheme.validate import resolve_parts, tier_span

METHOD_NAMES = {"direct": "直接评分", "ratio": "完成比例", "rate": "比率", "rating": "定性评价",
                "grade": "等次折分", "rank": "组内排名", "deduction": "减分制",
                "composite": "组合"}
PERIOD_NAMES = {"month": "月度", "quarter": "季度", "half_year": "半年", "year": "年度"}
TYPE_NAMES = {"number": "数字", "count": "次数", "bool": "是/否", "label": "选项", "text": "文本"}


def _pct(x) -> str:
    return f"{fmt(x * HUNDRED)}%"


def tier_text(scheme: Scheme) -> list[str]:
    out = []
    for i, tier in enumerate(scheme.tiers):
        s = tier_span(i, tier, scheme.max_score)
        gates = f"；须：{'，'.join(tier.requires)}" if tier.requires else ""
        out.append(f"{tier.label}：{s.text()}{gates}")
    return out


def item_text(item: Item) -> str:
    if item.levels:
        how = "、".join(f"{k}{fmt(v)}" for k, v in item.levels.items())
        if item.highest_only:
            how += "（同一事项取最高）"
    elif item.input == "points":
        how = "按填报分值"
        if item.min is not None or item.max is not None:
            how += f"（{fmt(item.min) if item.min is not None else ''}～" \
                   f"{fmt(item.max) if item.max is not None else ''}）"
    elif item.input == "growth" and item.growth:
        how = f"每满{fmt(item.growth.step)}个百分点 {fmt(item.growth.per_step)}分"
    else:
        how = f"每{item.unit}{fmt(item.amount)}分"
    extras = []
    if item.cap is not None:
        extras.append(f"封顶{fmt(item.cap)}")
    if item.cap_share is not None:
        extras.append(f"不超过{item.cap_share.part}分值的{_pct(item.cap_share.share)}")
    if item.knockout is not None:
        extras.append(f"达{fmt(item.knockout)}{item.unit}该项不得分")
    if item.escalation is not None:
        extras.append(f"{item.escalation.label}×{fmt(item.escalation.factor)}")
    if item.when:
        extras.append(f"条件：{item.when}")
    if item.evidence:
        extras.append("须书面依据")
    return f"{item.title}：{how}" + (f"（{'，'.join(extras)}）" if extras else "")


def _adjustment_lines(adj: Adjustments, word: str, indent: str) -> list[str]:
    head = adj.title or word
    lines = [f"{indent}{head}" + (f"：累计不超过{fmt(adj.cap)}分" if adj.cap is not None
                                  else "：不封顶")]
    for item in adj.items:
        lines.append(f"{indent}  {item_text(item)}")
    for cat in adj.categories:
        lines.append(f"{indent}  {cat.title}" + (f"（封顶{fmt(cat.cap)}）" if cat.cap is not None
                                                else ""))
        for item in cat.items:
            lines.append(f"{indent}    {item_text(item)}")
    return lines


def describe(scheme: Scheme, inputs: list[InputSpec] | None = None) -> str:
    res = resolve_parts(scheme)
    lines = [f"{scheme.ref}  {scheme.title}",
             f"考核对象：{scheme.unit}　周期：{PERIOD_NAMES[scheme.period]}　"
             f"满分：{fmt(scheme.max_score)}"]
    if scheme.source:
        lines.append(f"依据：{scheme.source}")
    if scheme.groups:
        lines.append(f"分组：{'、'.join(scheme.groups)}")
    lines.append("")
    lines.append("考核内容：")

    def walk(parts: list, depth: int) -> None:
        for part in parts:
            pts = res.points.get(part.id)
            scale = res.scale.get(part.id)
            bits = [f"{fmt(pts)}分"]
            if scale is not None and pts is not None and scale != pts:
                bits.append(f"按{fmt(scale)}分制折算")
            bits.append(METHOD_NAMES.get(part.method, part.method))
            periods = part_periods(scheme, part)
            if periods:
                bits.append(" ".join(f"{p.label}{_pct(p.weight)}" for p in periods))
            if part.applies_when:
                bits.append(f"适用：{part.applies_when}")
            lines.append(f"{'  ' * depth}- {part.title}（{'，'.join(bits)}）")
            if isinstance(part, CompositePart):
                walk(part.parts, depth + 1)
                for name, word in (("bonuses", "加分"), ("deductions", "扣分")):
                    adj = getattr(part, name)
                    if adj:
                        lines.extend(_adjustment_lines(adj, word, "  " * (depth + 1)))
            elif part.method == "deduction":
                for item in part.items:  # type: ignore[union-attr]
                    lines.append(f"{'  ' * (depth + 1)}{item_text(item)}")
            elif part.method in ("rating", "grade"):
                values = part.values  # type: ignore[union-attr]
                shown = "、".join(f"{k}→{_pct(v) if part.method == 'rating' else fmt(v)}"
                                 for k, v in values.items())
                lines.append(f"{'  ' * (depth + 1)}{shown}")
            elif part.method == "rank":
                bands = "、".join(f"前{_pct(b.top)}→{fmt(b.score)}" if b.top is not None
                                  else f"其余→{fmt(b.score)}"
                                  for b in part.bands)  # type: ignore[union-attr]
                lines.append(f"{'  ' * (depth + 1)}{bands}")

    walk(scheme.parts, 1)
    for name, word in (("bonuses", "加分"), ("deductions", "扣分")):
        adj = getattr(scheme, name)
        if adj:
            lines.extend(_adjustment_lines(adj, word, ""))
    if scheme.conditions:
        lines.append("否决、门槛与等次条件：")
        for c in scheme.conditions:
            then = c.then
            what = (f"确定为{then.grade}" if then.grade else "不确定等次" if then.no_grade
                    else f"最高{then.at_most}" if then.at_most else then.flag)
            lines.append(f"  {'一票否决：' if c.veto else ''}{c.title}（{c.when}）→ {what}")
    if scheme.tiers:
        lines.append("等次：")
        lines.extend(f"  {t}" for t in tier_text(scheme))
    if scheme.quotas:
        q = scheme.quotas
        limits = "、".join(f"{lim.tier}≤{_pct(lim.share) if lim.share is not None else lim.count}"
                          for lim in q.limits)
        rounding = {"half_up": "四舍五入", "floor": "向下取整", "ceiling": "向上取整"}
        ties = {"all_in": "并列者全部入选", "all_out": "并列者全部不入选",
                "keys": f"依次比较 {', '.join(q.ties.keys)}，仍并列则"
                        f"{'全部入选' if q.ties.then == 'all_in' else '全部不入选'}"}
        group = "、".join(q.group_by if q.group_by is not None else scheme.groups) or "全体"
        lines.append(f"名额（按{group}分组）：{limits}；人数{rounding[q.rounding]}；"
                     f"{ties[q.ties.rule]}")
    if scheme.payout:
        p = scheme.payout
        if p.amounts:
            lines.append("奖金：" + "、".join(f"{k}{fmt(v)}{p.unit}" for k, v in p.amounts.items()))
        if p.base_months:
            lines.append("奖金：" + "、".join(f"{k}{fmt(v)}个月{p.base}"
                                            for k, v in p.base_months.items()))
        for rule in p.rules:
            lines.append(f"  {rule.title}")
        if p.rank_prizes:
            lines.append(f"  {p.rank_prizes.title}：" + "、".join(
                f"第{z.rank}名{fmt(z.amount)}" for z in p.rank_prizes.prizes))
    if scheme.aggregation:
        a = scheme.aggregation
        lines.append(f"{a.title}：" + "；".join(f"{r.when}→{r.grade}" for r in a.rules)
                     + f"；其余→{a.otherwise}")
    if inputs:
        lines.append("")
        lines.append("输入列（CSV 表头可用 id 或中文名）：")
        for spec in inputs:
            bounds = ""
            if spec.labels:
                bounds = f" {'/'.join(spec.labels)}"
            elif spec.min is not None or spec.max is not None:
                lo = fmt(spec.min) if spec.min is not None else ""
                hi = fmt(spec.max) if spec.max is not None else ""
                bounds = f" {lo}～{hi}"
            blank = {"zero": "，空白=0", "false": "，空白=否",
                     "empty": "，可空"}.get(spec.blank, "")
            lines.append(f"  {spec.id:<28} {spec.label}（{TYPE_NAMES[spec.type]}{bounds}{blank}）")
    return "\n".join(lines)
