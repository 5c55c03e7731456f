"""Bonus points (加分, RULES §3) and deductions (扣分, RULES §4): items, categories and caps.

An item counts occurrences (per level or flat, with escalation for the unrectified), reads a
list of achievements (highest level only for the same work), takes points directly, or scores
growth in steps; it may need a document reference or hold only under a condition. Caps sit on
an item (points, or a share of a part's points), on a category, and on the whole; a deduction
never takes a part below its floor (扣完为止). :func:`capped`, :func:`capped_sum` and
:func:`deducted` are the one implementation of a cap and a floor — the scheme's own items use
them, and so do the worksheet functions PERF_CAP and PERF_DEDUCT.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from xlbridge.arith import ZERO, show
from xlbridge.engine.errors import ScoringError
from xlbridge.engine.fastpath import item_pairs, plain_item
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError, normalize_text
from xlbridge.i18n import t as tr  # t is a trace here
from xlbridge.scheme.expr import compile_expr
from xlbridge.scheme.model import Adjustments, Item

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme

ItemFn = Callable[[dict[str, Any], Trace | None], Decimal]

_LIST_SPLIT = re.compile(r"[;；\n]+")
_LEVEL_SPLIT = re.compile(r"[,，、/]+")
_EVIDENCE = re.compile(r"^(.*?)[(（\[【](.*)[)）\]】]\s*$")


# --------------------------------------------------------------------------- caps and floors


def capped(value: Decimal, cap: Decimal | None) -> Decimal:
    """``value``, at most ``cap`` (封顶 / 累计不超过); no cap: ``value``."""
    return cap if cap is not None and value > cap else value


def capped_sum(values: Iterable[Decimal], cap: Decimal | None = None,
               per_item_cap: Decimal | None = None) -> Decimal:
    """Items added, each at most ``per_item_cap``, all together at most ``cap``."""
    return capped(sum((capped(x, per_item_cap) for x in values), ZERO), cap)


def deducted(full: Decimal, deduction: Decimal, floor: Decimal = ZERO) -> Decimal:
    """``full`` minus ``deduction``, never below ``floor`` (扣完为止)."""
    score = full - deduction
    return floor if score < floor else score


# --------------------------------------------------------------------------- items


def build_items_sum(cs: CompiledScheme, items: list[Item], path: str) -> ItemFn:
    """The sum of several items' points.

    On the fast path, plain per-occurrence items (count × amount, per level or flat, with
    no condition, cap, escalation or evidence) are summed inline from (column, amount)
    pairs, skipping zero counts — most cells of a deduction sheet are empty; the traced
    path calls each item so that each gets its own line. Both are checked equal by a
    differential test over every shipped scheme.
    """
    fns = [build_item(cs, it, f"{path}[{j}]") for j, it in enumerate(items)]
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


def count_ids(item: Item) -> list[str]:
    if item.levels:
        return [f"{item.reads or item.id}_{level}" for level in item.levels]
    return [item.reads or item.id]


def build_item(cs: CompiledScheme, item: Item, path: str) -> ItemFn:
    """Points one bonus/deduction item gives, after its own cap."""
    fn = _item_fn(cs, item, path)
    cs.item_fns[id(item)] = fn
    return fn


def _item_fn(cs: CompiledScheme, item: Item, path: str) -> ItemFn:
    title = item.title
    when = compile_expr(item.when, cs._known) if item.when else None
    levels = dict(item.levels or {})
    level_order = sorted(levels, key=lambda k: levels[k], reverse=True)
    cap = item.cap
    if item.cap_share is not None:
        share_cap = item.cap_share.share * cs.points[item.cap_share.part]
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
                    t.add("item", iid, title, amt,
                          tr("{title}：{level} {points} 分（同一事项取最高级别）", title=title,
                             level=best, points=show(amt)), level=best)
                    for _k2, lv, a2 in present[1:]:
                        t.add("dropped", iid, title, ZERO,
                              tr("{title}：{level} {points} 分 不计（同一事项已按{best}计）",
                                 title=title, level=lv, points=show(a2), best=best), level=lv)
                return amt
            total = ZERO
            for k, lv, amt in keys:
                n = v[k]
                if n:
                    total += n * amt
                    if t:
                        t.add("item", iid, title, n * amt,
                              tr("{title}·{level}：{n}{unit} × {amount} = {points}", title=title,
                                 level=lv, n=show(n), unit=item.unit, amount=show(amt),
                                 points=show(n * amt)), level=lv, count=n)
            if factor is not None:
                for k, lv, amt in unrect:
                    n = v[k]
                    if n:
                        total += n * amt * factor
                        if t:
                            t.add("item", iid, title, n * amt * factor,
                                  tr("{title}·{level}·{escalation}：{n}{unit} × {amount} × "
                                     "{factor} = {points}", title=title, level=lv,
                                     escalation=item.escalation.label,  # type: ignore[union-attr]
                                     n=show(n), unit=item.unit, amount=show(amt),
                                     factor=show(factor), points=show(n * amt * factor)),
                                  level=lv, count=n)
            return total

    elif item.input == "count":
        amount = item.amount or ZERO
        unrect_id = f"{col}_unrectified"

        def base(v: dict[str, Any], t: Trace | None) -> Decimal:
            n = v[col]
            total = n * amount
            if t and n:
                t.add("item", iid, title, total,
                      tr("{title}：{n}{unit} × {amount} = {points}", title=title, n=show(n),
                         unit=item.unit, amount=show(amount), points=show(total)), count=n)
            if factor is not None:
                m = v[unrect_id]
                if m:
                    extra = m * amount * factor
                    total += extra
                    if t:
                        t.add("item", iid, title, extra,
                              tr("{title}·{escalation}：{n}{unit} × {amount} × {factor} = "
                                 "{points}", title=title,
                                 escalation=item.escalation.label,  # type: ignore[union-attr]
                                 n=show(m), unit=item.unit, amount=show(amount),
                                 factor=show(factor), points=show(extra)), count=m)
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
                        tr("第{n}项“{entry}”中的级别应为：{levels}", n=entry_no + 1, entry=entry,
                           levels=tr("、").join(level_order)), text))
                ordered = sorted(named, key=lambda x: levels[x], reverse=True)
                if item.highest_only:
                    kept, dropped = ordered[:1], ordered[1:]
                else:
                    kept, dropped = ordered, []
                for lv in kept:
                    total += levels[lv]
                    if t:
                        t.add("item", iid, title, levels[lv],
                              tr("{title}：{level} {points} 分", title=title, level=lv,
                                 points=show(levels[lv]))
                              + (tr("（依据：{ref}）", ref=ref) if ref else ""), level=lv,
                              evidence=ref)
                for lv in dropped:
                    if t:
                        t.add("dropped", iid, title, ZERO,
                              tr("{title}：{level} {points} 分 不计（同一事项取最高级别{best}）",
                                 title=title, level=lv, points=show(levels[lv]), best=kept[0]),
                              level=lv)
            return total

    elif item.input == "points":
        def base(v: dict[str, Any], t: Trace | None) -> Decimal:
            value = v[col]
            if t and value:
                t.add("item", iid, title, value,
                      tr("{title}：{points} 分", title=title, points=show(value)))
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
                t.add("item", iid, title, total,
                      (tr("{title}：减少{change}%，每减少{step}个百分点{per_step}分，"
                          "计{steps}档 = {points}", title=title, change=show(abs(g)),
                          step=show(growth.step), per_step=show(growth.per_step),
                          steps=show(steps), points=show(total)) if growth.decline else
                       tr("{title}：增长{change}%，每增长{step}个百分点{per_step}分，"
                          "计{steps}档 = {points}", title=title, change=show(abs(g)),
                          step=show(growth.step), per_step=show(growth.per_step),
                          steps=show(steps), points=show(total))), growth=g)
            return total

    if when is None and evidence_id is None and cap is None:
        return base

    def evaluate(v: dict[str, Any], t: Trace | None) -> Decimal:
        if when is not None and not when(v):
            if t and any(v.get(k) for k in count_ids(item) if k in v):
                t.add("dropped", iid, title, ZERO,
                      tr("{title}：条件“{when}”不满足，不计", title=title, when=item.when))
            return ZERO
        amount = base(v, t)
        if evidence_id is not None and amount and not v.get(evidence_id):
            if t:
                t.add("dropped", iid, title, ZERO,
                      tr("{title}：{points} 分 不计（缺少书面依据）", title=title,
                         points=show(amount)), before=amount)
            return ZERO
        kept = capped(amount, cap)
        if t and kept != amount:
            t.add("cap", iid, title, kept,
                  tr("{title}：合计 {sum}，封顶 {cap}", title=title, sum=show(amount),
                     cap=show(kept)), before=amount)
        return kept

    return evaluate


def build_adjustments(cs: CompiledScheme, adj: Adjustments, path: str, word: str) -> ItemFn:
    """Bonuses or deductions: items, categories with caps, an overall cap."""
    loose = build_items_sum(cs, adj.items, f"{path}.items")
    cats = [(cat, build_items_sum(cs, cat.items, f"{path}.categories[{c}].items"))
            for c, cat in enumerate(adj.categories)]
    overall = adj.cap

    def evaluate(v: dict[str, Any], t: Trace | None) -> Decimal:
        title = (adj.title or tr(word)) if t else ""    # word: 加分 or 扣分, a message id
        step = t.add("adjustments", path, title, None, title) if t else None
        total = ZERO
        if t:
            t.depth += 1
        total += loose(v, t)
        for cat, cat_sum in cats:
            sub = cat_sum(v, t)
            kept = capped(sub, cat.cap)
            if t and kept != sub:
                t.add("cap", cat.id, cat.title, kept,
                      tr("{title}：合计 {sum}，封顶 {cap}", title=cat.title, sum=show(sub),
                         cap=show(kept)), before=sub)
            total += kept
        kept = capped(total, overall)
        if t and kept != total:
            t.add("cap", path, title, kept,
                  tr("{title}合计 {sum}，累计不超过 {cap}", title=title, sum=show(total),
                     cap=show(kept)), before=total)
        total = kept
        if t:
            t.depth -= 1
            assert step is not None
            step.value, step.text = total, tr("{title}：{points} 分", title=title,
                                              points=show(total))
        return total

    return evaluate
