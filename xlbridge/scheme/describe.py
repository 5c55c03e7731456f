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
from xlbridge.i18n import N_, gettext, t
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

# The names of the format's words, as message ids: translate them with :func:`named`.
METHOD_NAMES = {"direct": N_("直接评分"), "ratio": N_("完成比例"), "rate": N_("比率"),
                "rating": N_("定性评价"), "grade": N_("等次折分"), "rank": N_("组内排名"),
                "deduction": N_("减分制"), "composite": N_("组合")}
PERIOD_NAMES = {"month": N_("月度"), "quarter": N_("季度"), "half_year": N_("半年"),
                "year": N_("年度")}
TYPE_NAMES = {"number": N_("数字"), "count": N_("次数"), "bool": N_("是/否"),
              "label": N_("选项"), "text": N_("文本")}
ROUNDING_NAMES = {"half_up": N_("四舍五入"), "floor": N_("向下取整"), "ceiling": N_("向上取整")}
#: the names the engine gives conditions beside the inputs (xlbridge.scheme.validate)
RESULT_LABELS = {"total": N_("总分"), "subtotal": N_("小计"), "bonus": N_("加分"),
                 "deduction": N_("扣分"), "grade": N_("等次"), "rank": N_("名次"),
                 "group_size": N_("组内人数"), "n": N_("期数")}

_COMPARE_TEXT = {ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">",
                 ast.GtE: "≥", ast.In: N_("为"), ast.NotIn: N_("不为")}
_BINARY_TEXT = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷"}
_FUNC_TEXT = {"min": N_("较小值"), "max": N_("较大值"), "abs": N_("绝对值")}


def named(table: dict, key: str) -> str:
    """``key``'s name from one of the tables above, in the current language."""
    return gettext(table[key]) if key in table else key


def pct(x: Decimal) -> str:
    return f"{fmt(x * HUNDRED)}%"


class Names:
    """What a scheme calls its inputs, parts and results, for people: ``has_office`` →
    承担科室工作, ``total`` → 总分; conditions in words (:meth:`expr`)."""

    def __init__(self, scheme: Scheme, inputs: list[InputSpec] | None = None):
        self.labels: dict[str, str] = {k: gettext(v) for k, v in RESULT_LABELS.items()}
        res = resolve_parts(scheme)
        for part_id, path in res.paths.items():
            self.labels.setdefault(part_id, _title_at(scheme, path))
        for spec in inputs if inputs is not None else scheme_inputs(scheme, res.points):
            self.labels[spec.id] = spec.label

    def __call__(self, name: str) -> str:
        return self.labels.get(name, name)

    def join(self, names: list[str]) -> str:
        return t("、").join(self(n) for n in names)

    def expr(self, text: str) -> str:
        """A condition in words: ``new_staff and workdays < 20`` → 当季新录用或新调入 且
        当季在岗工作日 < 20. A condition that does not parse is shown as written."""
        try:
            return self._node(parse_tree(text))
        except (ExprError, KeyError, TypeError, ValueError):
            return text

    def _node(self, node: ast.expr, parent: type | None = None) -> str:
        if isinstance(node, ast.BoolOp):
            word = t(" 且 ") if isinstance(node.op, ast.And) else t(" 或 ")
            out = word.join(self._node(v, type(node.op)) for v in node.values)
            return out if parent in (None, type(node.op)) else t("（{text}）", text=out)
        if isinstance(node, ast.UnaryOp):
            inner = self._node(node.operand, ast.Not)
            if isinstance(node.op, ast.Not):
                out = t("非{text}", text=inner)
                return out if parent is None else t("（{text}）", text=out)
            return f"−{inner}" if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Compare):
            out = self._node(node.left, ast.Compare)
            for op, right in zip(node.ops, node.comparators, strict=True):
                word = gettext(_COMPARE_TEXT[type(op)])
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.List,
                                                                              ast.Tuple)):
                    out += t(" {op} {values} 之一", op=word,
                             values=self._node(right, ast.Compare))
                else:
                    out += f" {word} {self._node(right, ast.Compare)}"
            return out if parent in (None, ast.And, ast.Or) else t("（{text}）", text=out)
        if isinstance(node, ast.BinOp):
            out = (f"{self._node(node.left, ast.BinOp)} {_BINARY_TEXT[type(node.op)]} "
                   f"{self._node(node.right, ast.BinOp)}")
            return out if parent is not ast.BinOp else t("（{text}）", text=out)
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):
                return t("是") if node.id == "True" else t("否")
            return self(node.id)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return t("是") if node.value else t("否")
            if isinstance(node.value, (int, float)):
                return fmt(Decimal(repr(node.value)))
            return str(node.value)
        if isinstance(node, (ast.List, ast.Tuple)):
            return t("、").join(self._node(e, ast.List) for e in node.elts)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name, args = node.func.id, node.args
            if name == PERCENT_FUNC:
                return f"{args[0].value}%"  # type: ignore[attr-defined]
            if name == "count" and len(args) == 1:
                return t("{what}次数", what=self._node(args[0], ast.Call))
            if name == "blank" and len(args) == 1:
                return t("{what}为空", what=self._node(args[0], ast.Call))
            shown = t("，").join(self._node(a, ast.Call) for a in args)
            return t("{function}（{args}）", function=named(_FUNC_TEXT, name), args=shown)
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
        gates = t("；须：{gates}", gates=t("，").join(names.expr(g) for g in tier.requires)) \
            if tier.requires else ""
        out.append(t("{label}：{bounds}", label=tier.label, bounds=span.text()) + gates)
    return out


def item_text(item: Item, names: Names | None = None) -> str:
    if item.levels:
        how = t("、").join(f"{k}{fmt(v)}" for k, v in item.levels.items())
        if item.highest_only:
            how += t("（同一事项取最高）")
    elif item.input == "points":
        how = t("按填报分值")
        if item.min is not None or item.max is not None:
            how += t("（{low}～{high}）", low=fmt(item.min) if item.min is not None else "",
                     high=fmt(item.max) if item.max is not None else "")
    elif item.input == "growth" and item.growth:
        how = t("每满{step}个百分点 {points}分", step=fmt(item.growth.step),
                points=fmt(item.growth.per_step))
    else:
        how = t("每{unit}{points}分", unit=item.unit, points=fmt(item.amount))
    label = names or (lambda n: n)
    extras = []
    if item.cap is not None:
        extras.append(t("封顶{cap}", cap=fmt(item.cap)))
    if item.cap_share is not None:
        extras.append(t("不超过{part}分值的{share}", part=label(item.cap_share.part),
                        share=pct(item.cap_share.share)))
    if item.knockout is not None:
        extras.append(t("达{n}{unit}该项不得分", n=fmt(item.knockout), unit=item.unit))
    if item.escalation is not None:
        extras.append(f"{item.escalation.label}×{fmt(item.escalation.factor)}")
    if item.when:
        extras.append(t("条件：{when}", when=names.expr(item.when) if names else item.when))
    if item.evidence:
        extras.append(t("须书面依据"))
    return t("{title}：{how}", title=item.title, how=how) + \
        (t("（{text}）", text=t("，").join(extras)) if extras else "")


def cap_text(adj: Adjustments) -> str:
    return t("累计不超过 {cap} 分", cap=fmt(adj.cap)) if adj.cap is not None else t("不封顶")


def _capped_title(cat) -> str:
    return cat.title + (t("（封顶 {cap} 分）", cap=fmt(cat.cap)) if cat.cap is not None else "")


def category_text(cat, names: Names | None = None) -> str:
    return t("{title}：{items}", title=_capped_title(cat),
             items=t("；").join(item_text(i, names) for i in cat.items))


def outcome_text(c: Condition) -> str:
    then = c.then
    return (t("确定为{grade}", grade=then.grade) if then.grade
            else t("不确定等次") if then.no_grade
            else t("最高{grade}", grade=then.at_most) if then.at_most
            else t("标记：{flag}", flag=then.flag))


def condition_text(c: Condition, names: Names) -> str:
    when = names.expr(c.when)
    # a bare yes/no input says it already
    shown = "" if when in c.title else t("（{text}）", text=when)
    text = f"{c.title}{shown} → {outcome_text(c)}"
    return t("一票否决：{text}", text=text) if c.veto else text


def quota_head(scheme: Scheme, names: Names) -> str:
    q = scheme.quotas
    assert q is not None
    group = names.join(q.group_by if q.group_by is not None else scheme.groups) or t("全体")
    return t("名额（按{group}分组）", group=group)


def quota_lines(scheme: Scheme, names: Names) -> list[str]:
    """The limits, then how counts are rounded and ties decided."""
    q = scheme.quotas
    assert q is not None
    if q.ties.rule == "keys":
        tie = t("依次比较{keys}，仍并列则全部入选", keys=names.join(q.ties.keys)) \
            if q.ties.then == "all_in" else \
            t("依次比较{keys}，仍并列则全部不入选", keys=names.join(q.ties.keys))
    else:
        tie = t("并列者全部入选") if q.ties.rule == "all_in" else t("并列者全部不入选")
    lines = [t("{tier} 不超过 {limit}", tier=lim.tier,
               limit=pct(lim.share) if lim.share is not None else t("{n} 名", n=lim.count))
             for lim in q.limits]
    lines.append(t("人数{rounding}；{ties}", rounding=named(ROUNDING_NAMES, q.rounding),
                   ties=tie))
    return lines


def rank_rule_text(rule, names: Names) -> str:
    def amount(x) -> str:
        return pct(x) if isinstance(x, Decimal) else t("{n} 名", n=x)

    which = t("前{n}", n=amount(rule.top)) if rule.top is not None else \
        t("后{n}", n=amount(rule.bottom))
    return f"{which}：{rule.flag}" + (t("（{text}）", text=names.expr(rule.when))
                                     if rule.when else "")


def payout_lines(scheme: Scheme, names: Names) -> list[str]:
    p = scheme.payout
    assert p is not None
    lines = []
    if p.amounts:
        lines.append(t("、").join(f"{k} {fmt(v)}{p.unit}" for k, v in p.amounts.items()))
    if p.base_months:
        base = names(p.base) if p.base else ""
        lines.append(t("、").join(t("{grade} {months} 个月{base}", grade=k, months=fmt(v),
                                    base=base) for k, v in p.base_months.items()))
    for rule in p.rules:
        lines.append(rule.title + t("（{text}）", text=names.expr(rule.when)))
    if p.rank_prizes:
        lines.append(t("{title}：{prizes}", title=p.rank_prizes.title, prizes=t("、").join(
            t("第{rank}名 {amount}", rank=z.rank, amount=fmt(z.amount))
            for z in p.rank_prizes.prizes)))
    return lines


def aggregation_lines(scheme: Scheme, names: Names) -> list[str]:
    a = scheme.aggregation
    assert a is not None
    return [f"{names.expr(r.when)} → {r.grade}" for r in a.rules] + \
        [t("其余 → {grade}", grade=a.otherwise)]


def part_terms(scheme: Scheme, part, names: Names) -> list[str]:
    """What a part's line says beside its points: its periods and when it applies."""
    bits = []
    periods = part_periods(scheme, part)
    if periods:
        bits.append(t("、").join(f"{p.label}{pct(p.weight)}" for p in periods))
    if part.applies_when:
        bits.append(t("适用：{when}", when=names.expr(part.applies_when)))
    return bits


def part_scoring(part, names: Names) -> list[str]:
    """How a leaf part scores, where its method has more to say: ratings, bands, items."""
    method = part.method
    if method in ("rating", "grade"):
        return [t("、").join(f"{k}→{pct(v) if method == 'rating' else fmt(v)}"
                             for k, v in part.values.items())]
    if method == "rank":
        return [t("、").join(t("前{share}→{score}", share=pct(b.top), score=fmt(b.score))
                             if b.top is not None else t("其余→{score}", score=fmt(b.score))
                             for b in part.bands)]
    if method == "ratio" and part.target is not None:
        return [t("目标 {target}", target=fmt(part.target))]
    if method == "deduction":
        return [*(item_text(i, names) for i in part.items),
                *([t("最多扣{cap}分", cap=fmt(part.cap))] if part.cap is not None else [])]
    return []


def formula_lines(scheme: Scheme, names: Names | None = None) -> list[str]:
    """How the total is made, from the parts and their weights as the scheme states them:
    ``总分 = 工作考评 × 60% + 党政领导测评 × 40%``, then one line per composite part."""
    names = names or Names(scheme)
    res = resolve_parts(scheme)

    def term(part) -> str:
        scale = res.scale.get(part.id)
        pts = res.points.get(part.id)
        own = t("（{scale}分制）", scale=fmt(scale)) if scale is not None and scale != pts \
            else ""
        if part.weight is not None:
            return f"{part.title}{own}× {pct(part.weight)}" if own else \
                f"{part.title} × {pct(part.weight)}"
        return t("{title} {points}分", title=part.title, points=fmt(part.points)) \
            if own == "" else t("{title}{scale}折合{points}分", title=part.title, scale=own,
                                points=fmt(part.points))

    def adjustments(owner) -> str:
        out = ""
        for name, sign, word in (("bonuses", "+", N_("加分")), ("deductions", "−", N_("扣分"))):
            adj = getattr(owner, name, None)
            if adj:
                out += f" {sign} {adj.title or gettext(word)}" + t("（{text}）",
                                                                   text=cap_text(adj))
        return out

    lines = [t("总分 = {terms}", terms=" + ".join(term(p) for p in scheme.parts))
             + adjustments(scheme)]

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
    lines = [indent + t("{title}：{cap}", title=adj.title or gettext(word), cap=cap_text(adj))]
    for item in adj.items:
        lines.append(f"{indent}  {item_text(item, names)}")
    for cat in adj.categories:
        lines.append(f"{indent}  {_capped_title(cat)}")
        for item in cat.items:
            lines.append(f"{indent}    {item_text(item, names)}")
    return lines


def describe(scheme: Scheme, inputs: list[InputSpec] | None = None) -> str:
    res = resolve_parts(scheme)
    names = Names(scheme, inputs)
    lines = [f"{scheme.ref}  {scheme.title}",
             t("考核对象：{unit}　周期：{period}　满分：{max_score}", unit=scheme.unit,
               period=named(PERIOD_NAMES, scheme.period), max_score=fmt(scheme.max_score))]
    if scheme.source:
        lines.append(t("依据：{source}", source=scheme.source))
    if scheme.groups:
        lines.append(t("分组：{groups}", groups=names.join(scheme.groups)))
    lines.append("")
    lines.extend(formula_lines(scheme, names))
    lines.append("")
    lines.append(t("考核内容："))

    def walk(parts: list, depth: int) -> None:
        for part in parts:
            pts = res.points.get(part.id)
            scale = res.scale.get(part.id)
            bits = [t("{points}分", points=fmt(pts))]
            if scale is not None and pts is not None and scale != pts:
                bits.append(t("按{scale}分制折算", scale=fmt(scale)))
            bits.append(named(METHOD_NAMES, part.method))
            bits.extend(part_terms(scheme, part, names))
            lines.append(f"{'  ' * depth}- {part.title}" + t("（{text}）", text=t("，").join(bits)))
            if isinstance(part, CompositePart):
                walk(part.parts, depth + 1)
                for name, word in (("bonuses", N_("加分")), ("deductions", N_("扣分"))):
                    adj = getattr(part, name)
                    if adj:
                        lines.extend(_adjustment_lines(adj, word, "  " * (depth + 1), names))
            else:
                lines.extend(f"{'  ' * (depth + 1)}{d}" for d in part_scoring(part, names))

    walk(scheme.parts, 1)
    for name, word in (("bonuses", N_("加分")), ("deductions", N_("扣分"))):
        adj = getattr(scheme, name)
        if adj:
            lines.extend(_adjustment_lines(adj, word, "", names))
    if scheme.conditions:
        lines.append(t("否决、门槛与等次条件："))
        lines.extend(f"  {condition_text(c, names)}" for c in scheme.conditions)
    if scheme.tiers:
        lines.append(t("等次："))
        lines.extend(f"  {line}" for line in tier_text(scheme, names))
    if scheme.quotas:
        lines.append(t("{head}：{lines}", head=quota_head(scheme, names),
                       lines=t("；").join(quota_lines(scheme, names))))
    for rule in scheme.rank_rules:
        lines.append(t("{title}：{text}", title=rule.title, text=rank_rule_text(rule, names)))
    if scheme.payout:
        first, *rest = payout_lines(scheme, names) or [""]
        lines.append(t("奖金：{text}", text=first))
        lines.extend(f"  {line}" for line in rest)
    if scheme.aggregation:
        lines.append(t("{title}：{text}", title=scheme.aggregation.title,
                       text=t("；").join(aggregation_lines(scheme, names))))
    if inputs:
        lines.append("")
        lines.append(t("输入列（CSV 表头可用 id 或中文名）："))
        for spec in inputs:
            bounds = ""
            if spec.labels:
                bounds = f" {'/'.join(spec.labels)}"
            elif spec.min is not None or spec.max is not None:
                lo = fmt(spec.min) if spec.min is not None else ""
                hi = fmt(spec.max) if spec.max is not None else ""
                bounds = f" {lo}～{hi}"
            blank = {"zero": t("，空白=0"), "false": t("，空白=否"),
                     "empty": t("，可空")}.get(spec.blank, "")
            lines.append(f"  {spec.id:<28} {spec.label}" + t(
                "（{type}{bounds}{blank}）", type=named(TYPE_NAMES, spec.type), bounds=bounds,
                blank=blank))
    return "\n".join(lines)
