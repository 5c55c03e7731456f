"""A scheme in plain Chinese-and-numbers text, generated from its rules: what
`xlbridge schemes show` prints and what the web pages say about a scheme.

One text per rule kind lives here — a tier (its bounds: ``TierSpan.text``), an item, a cap,
a condition, a quota, a payout, a part's details — and both :func:`describe` (the full
text) and the web pages (``server/render.py``) are built from these functions, so no two
places word a rule differently. Names a clerk types (input ids, part ids) are shown by their
labels (:class:`Names`); the id only where it is what gets typed (the list of input columns).
"""

from __future__ import annotations

import ast
from decimal import Decimal

from xlbridge.arith import HUNDRED, fmt
from xlbridge.scheme.expr import PERCENT_FUNC, ExprError, parse_tree
from xlbridge.scheme.inputs import InputSpec, part_periods, scheme_inputs
from xlbridge.scheme.model import (
    Adjustments,
    CompositePart,
    Condition,
    Item,
    Scheme,
)
from xlbridge.scheme.validate import resolve_parts, tier_span

METHOD_NAMES = {"direct": "直接评分", "ratio": "完成比例", "rate": "比率", "rating": "定性评价",
                "grade": "等次折分", "rank": "组内排名", "deduction": "减分制",
                "composite": "组合"}
PERIOD_NAMES = {"month": "月度", "quarter": "季度", "half_year": "半年", "year": "年度"}
TYPE_NAMES = {"number": "数字", "count": "次数", "bool": "是/否", "label": "选项", "text": "文本"}
ROUNDING_NAMES = {"half_up": "四舍五入", "floor": "向下取整", "ceiling": "向上取整"}
#: the names the engine gives conditions beside the inputs (xlbridge.scheme.validate)
RESULT_LABELS = {"total": "总分", "subtotal": "小计", "bonus": "加分", "deduction": "扣分",
                 "grade": "等次", "rank": "名次", "group_size": "组内人数", "n": "期数"}

_COMPARE_TEXT = {ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">",
                 ast.GtE: "≥", ast.In: "为", ast.NotIn: "不为"}
_BINARY_TEXT = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷"}
_FUNC_TEXT = {"min": "较小值", "max": "较大值", "abs": "绝对值"}


def pct(x: Decimal) -> str:
    return f"{fmt(x * HUNDRED)}%"


class Names:
    """What a scheme calls its inputs, parts and results, for people: ``has_office`` →
    承担科室工作, ``total`` → 总分; conditions in words (:meth:`expr`)."""

    def __init__(self, scheme: Scheme, inputs: list[InputSpec] | None = None):
        self.labels: dict[str, str] = dict(RESULT_LABELS)
        res = resolve_parts(scheme)
        for part_id, path in res.paths.items():
            self.labels.setdefault(part_id, _title_at(scheme, path))
        for spec in inputs if inputs is not None else scheme_inputs(scheme, res.points):
            self.labels[spec.id] = spec.label

    def __call__(self, name: str) -> str:
        return self.labels.get(name, name)

    def join(self, names: list[str]) -> str:
        return "、".join(self(n) for n in names)

    def expr(self, text: str) -> str:
        """A condition in words: ``new_staff and workdays < 20`` → 当季新录用或新调入 且
        当季在岗工作日 < 20. A condition that does not parse is shown as written."""
        try:
            return self._node(parse_tree(text))
        except (ExprError, KeyError, TypeError, ValueError):
            return text

    def _node(self, node: ast.expr, parent: type | None = None) -> str:
        if isinstance(node, ast.BoolOp):
            word = " 且 " if isinstance(node.op, ast.And) else " 或 "
            out = word.join(self._node(v, type(node.op)) for v in node.values)
            return out if parent in (None, type(node.op)) else f"（{out}）"
        if isinstance(node, ast.UnaryOp):
            inner = self._node(node.operand, ast.Not)
            if isinstance(node.op, ast.Not):
                return f"非{inner}" if parent is None else f"（非{inner}）"
            return f"−{inner}" if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Compare):
            out = self._node(node.left, ast.Compare)
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.List,
                                                                              ast.Tuple)):
                    out += f" {_COMPARE_TEXT[type(op)]} {self._node(right, ast.Compare)} 之一"
                else:
                    out += f" {_COMPARE_TEXT[type(op)]} {self._node(right, ast.Compare)}"
            return out if parent in (None, ast.And, ast.Or) else f"（{out}）"
        if isinstance(node, ast.BinOp):
            out = (f"{self._node(node.left, ast.BinOp)} {_BINARY_TEXT[type(node.op)]} "
                   f"{self._node(node.right, ast.BinOp)}")
            return out if parent is not ast.BinOp else f"（{out}）"
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):
                return "是" if node.id == "True" else "否"
            return self(node.id)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return "是" if node.value else "否"
            if isinstance(node.value, (int, float)):
                return fmt(Decimal(repr(node.value)))
            return str(node.value)
        if isinstance(node, (ast.List, ast.Tuple)):
            return "、".join(self._node(e, ast.List) for e in node.elts)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name, args = node.func.id, node.args
            if name == PERCENT_FUNC:
                return f"{args[0].value}%"  # type: ignore[attr-defined]
            if name == "count" and len(args) == 1:
                return f"{self._node(args[0], ast.Call)}次数"
            if name == "blank" and len(args) == 1:
                return f"{self._node(args[0], ast.Call)}为空"
            shown = "，".join(self._node(a, ast.Call) for a in args)
            return f"{_FUNC_TEXT.get(name, name)}（{shown}）"
        raise ValueError(ast.dump(node))  # pragma: no cover - parse_tree allows no other node


def _title_at(scheme: Scheme, path: str) -> str:
    node: object = scheme
    for chunk in path.replace("]", "").split("."):
        name, *indexes = chunk.split("[")
        node = getattr(node, name)
        for i in indexes:
            node = node[int(i)]  # type: ignore[index]
    return node.title  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- one rule each


def tier_text(scheme: Scheme, names: Names | None = None) -> list[str]:
    names = names or Names(scheme)
    out = []
    for i, tier in enumerate(scheme.tiers):
        span = tier_span(i, tier, scheme.max_score)
        gates = (f"；须：{'，'.join(names.expr(g) for g in tier.requires)}"
                 if tier.requires else "")
        out.append(f"{tier.label}：{span.text()}{gates}")
    return out


def item_text(item: Item, names: Names | None = None) -> str:
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
    label = names or (lambda n: n)
    extras = []
    if item.cap is not None:
        extras.append(f"封顶{fmt(item.cap)}")
    if item.cap_share is not None:
        extras.append(f"不超过{label(item.cap_share.part)}分值的{pct(item.cap_share.share)}")
    if item.knockout is not None:
        extras.append(f"达{fmt(item.knockout)}{item.unit}该项不得分")
    if item.escalation is not None:
        extras.append(f"{item.escalation.label}×{fmt(item.escalation.factor)}")
    if item.when:
        extras.append(f"条件：{names.expr(item.when) if names else item.when}")
    if item.evidence:
        extras.append("须书面依据")
    return f"{item.title}：{how}" + (f"（{'，'.join(extras)}）" if extras else "")


def cap_text(adj: Adjustments) -> str:
    return f"累计不超过 {fmt(adj.cap)} 分" if adj.cap is not None else "不封顶"


def category_text(cat, names: Names | None = None) -> str:
    head = cat.title + (f"（封顶 {fmt(cat.cap)} 分）" if cat.cap is not None else "")
    return head + "：" + "；".join(item_text(i, names) for i in cat.items)


def outcome_text(c: Condition) -> str:
    t = c.then
    return (f"确定为{t.grade}" if t.grade else "不确定等次" if t.no_grade
            else f"最高{t.at_most}" if t.at_most else f"标记：{t.flag}")


def condition_text(c: Condition, names: Names) -> str:
    when = names.expr(c.when)
    shown = "" if when in c.title else f"（{when}）"  # a bare yes/no input says it already
    return f"{'一票否决：' if c.veto else ''}{c.title}{shown} → {outcome_text(c)}"


def quota_head(scheme: Scheme, names: Names) -> str:
    q = scheme.quotas
    assert q is not None
    group = names.join(q.group_by if q.group_by is not None else scheme.groups) or "全体"
    return f"名额（按{group}分组）"


def quota_lines(scheme: Scheme, names: Names) -> list[str]:
    """The limits, then how counts are rounded and ties decided."""
    q = scheme.quotas
    assert q is not None
    ties = {"all_in": "并列者全部入选", "all_out": "并列者全部不入选",
            "keys": f"依次比较{names.join(q.ties.keys)}，仍并列则"
                    f"{'全部入选' if q.ties.then == 'all_in' else '全部不入选'}"}
    lines = [f"{lim.tier} 不超过 {pct(lim.share) if lim.share is not None else f'{lim.count} 名'}"
             for lim in q.limits]
    lines.append(f"人数{ROUNDING_NAMES[q.rounding]}；{ties[q.ties.rule]}")
    return lines


def rank_rule_text(rule, names: Names) -> str:
    def amount(x) -> str:
        return pct(x) if isinstance(x, Decimal) else f"{x} 名"

    which = f"前{amount(rule.top)}" if rule.top is not None else f"后{amount(rule.bottom)}"
    return f"{which}：{rule.flag}" + (f"（{names.expr(rule.when)}）" if rule.when else "")


def payout_lines(scheme: Scheme, names: Names) -> list[str]:
    p = scheme.payout
    assert p is not None
    lines = []
    if p.amounts:
        lines.append("、".join(f"{k} {fmt(v)}{p.unit}" for k, v in p.amounts.items()))
    if p.base_months:
        base = names(p.base) if p.base else ""
        lines.append("、".join(f"{k} {fmt(v)} 个月{base}" for k, v in p.base_months.items()))
    for rule in p.rules:
        lines.append(f"{rule.title}（{names.expr(rule.when)}）")
    if p.rank_prizes:
        lines.append(f"{p.rank_prizes.title}：" + "、".join(
            f"第{z.rank}名 {fmt(z.amount)}" for z in p.rank_prizes.prizes))
    return lines


def aggregation_lines(scheme: Scheme, names: Names) -> list[str]:
    a = scheme.aggregation
    assert a is not None
    return [f"{names.expr(r.when)} → {r.grade}" for r in a.rules] + [f"其余 → {a.otherwise}"]


def part_terms(scheme: Scheme, part, names: Names) -> list[str]:
    """What a part's line says beside its points: its periods and when it applies."""
    bits = []
    periods = part_periods(scheme, part)
    if periods:
        bits.append("、".join(f"{p.label}{pct(p.weight)}" for p in periods))
    if part.applies_when:
        bits.append(f"适用：{names.expr(part.applies_when)}")
    return bits


def part_scoring(part, names: Names) -> list[str]:
    """How a leaf part scores, where its method has more to say: ratings, bands, items."""
    method = part.method
    if method in ("rating", "grade"):
        return ["、".join(f"{k}→{pct(v) if method == 'rating' else fmt(v)}"
                         for k, v in part.values.items())]
    if method == "rank":
        return ["、".join(f"前{pct(b.top)}→{fmt(b.score)}" if b.top is not None
                         else f"其余→{fmt(b.score)}" for b in part.bands)]
    if method == "ratio" and part.target is not None:
        return [f"目标 {fmt(part.target)}"]
    if method == "deduction":
        return [*(item_text(i, names) for i in part.items),
                *([f"最多扣{fmt(part.cap)}分"] if part.cap is not None else [])]
    return []


def formula_lines(scheme: Scheme, names: Names | None = None) -> list[str]:
    """How the total is made, from the parts and their weights as the scheme states them:
    ``总分 = 工作考评 × 60% + 党政领导测评 × 40%``, then one line per composite part."""
    names = names or Names(scheme)
    res = resolve_parts(scheme)

    def term(part) -> str:
        scale = res.scale.get(part.id)
        pts = res.points.get(part.id)
        own = f"（{fmt(scale)}分制）" if scale is not None and scale != pts else ""
        if part.weight is not None:
            return f"{part.title}{own}× {pct(part.weight)}" if own else \
                f"{part.title} × {pct(part.weight)}"
        return f"{part.title}{own} {fmt(part.points)}分" if own == "" else \
            f"{part.title}{own}折合{fmt(part.points)}分"

    def adjustments(owner) -> str:
        out = ""
        for name, sign, word in (("bonuses", "+", "加分"), ("deductions", "−", "扣分")):
            adj = getattr(owner, name, None)
            if adj:
                out += f" {sign} {adj.title or word}（{cap_text(adj)}）"
        return out

    lines = [f"总分 = {' + '.join(term(p) for p in scheme.parts)}{adjustments(scheme)}"]

    def walk(parts: list) -> None:
        for part in parts:
            if isinstance(part, CompositePart):
                lines.append(f"{part.title} = {' + '.join(term(p) for p in part.parts)}"
                             f"{adjustments(part)}")
                walk(part.parts)

    walk(scheme.parts)
    return lines


# --------------------------------------------------------------------------- the whole text


def _adjustment_lines(adj: Adjustments, word: str, indent: str, names: Names) -> list[str]:
    lines = [f"{indent}{adj.title or word}：{cap_text(adj)}"]
    for item in adj.items:
        lines.append(f"{indent}  {item_text(item, names)}")
    for cat in adj.categories:
        lines.append(f"{indent}  {cat.title}" + (f"（封顶 {fmt(cat.cap)} 分）"
                                                if cat.cap is not None else ""))
        for item in cat.items:
            lines.append(f"{indent}    {item_text(item, names)}")
    return lines


def describe(scheme: Scheme, inputs: list[InputSpec] | None = None) -> str:
    res = resolve_parts(scheme)
    names = Names(scheme, inputs)
    lines = [f"{scheme.ref}  {scheme.title}",
             f"考核对象：{scheme.unit}　周期：{PERIOD_NAMES[scheme.period]}　"
             f"满分：{fmt(scheme.max_score)}"]
    if scheme.source:
        lines.append(f"依据：{scheme.source}")
    if scheme.groups:
        lines.append(f"分组：{names.join(scheme.groups)}")
    lines.append("")
    lines.extend(formula_lines(scheme, names))
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
            bits.extend(part_terms(scheme, part, names))
            lines.append(f"{'  ' * depth}- {part.title}（{'，'.join(bits)}）")
            if isinstance(part, CompositePart):
                walk(part.parts, depth + 1)
                for name, word in (("bonuses", "加分"), ("deductions", "扣分")):
                    adj = getattr(part, name)
                    if adj:
                        lines.extend(_adjustment_lines(adj, word, "  " * (depth + 1), names))
            else:
                lines.extend(f"{'  ' * (depth + 1)}{d}" for d in part_scoring(part, names))

    walk(scheme.parts, 1)
    for name, word in (("bonuses", "加分"), ("deductions", "扣分")):
        adj = getattr(scheme, name)
        if adj:
            lines.extend(_adjustment_lines(adj, word, "", names))
    if scheme.conditions:
        lines.append("否决、门槛与等次条件：")
        lines.extend(f"  {condition_text(c, names)}" for c in scheme.conditions)
    if scheme.tiers:
        lines.append("等次：")
        lines.extend(f"  {t}" for t in tier_text(scheme, names))
    if scheme.quotas:
        lines.append(f"{quota_head(scheme, names)}：{'；'.join(quota_lines(scheme, names))}")
    for rule in scheme.rank_rules:
        lines.append(f"{rule.title}：{rank_rule_text(rule, names)}")
    if scheme.payout:
        first, *rest = payout_lines(scheme, names) or [""]
        lines.append(f"奖金：{first}")
        lines.extend(f"  {line}" for line in rest)
    if scheme.aggregation:
        lines.append(f"{scheme.aggregation.title}：" + "；".join(aggregation_lines(scheme,
                                                                              names)))
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
