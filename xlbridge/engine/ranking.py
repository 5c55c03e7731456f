"""Ranking within groups (RULES §7): ranks as Excel's RANK.EQ gives them, rank-percentile
parts (top 25% → 90, 004:497), and rank rules (bottom 20% not recommended, 004:303; last
place under 75 fined, 002:133; top 5 rewarded, 002:186).

Ties share the better rank, as RANK.EQ does; a rank rule's cut-off that falls in a tie is
decided by the rule's declared ``ties`` and reported.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from xlbridge.arith import HUNDRED, show
from xlbridge.engine.groups import Group, group_of
from xlbridge.engine.methods import RANK_KEY
from xlbridge.engine.order import count_places, rank_eq
from xlbridge.engine.quotas import TieReport
from xlbridge.engine.trace import Trace
from xlbridge.i18n import t as tr  # t is a trace here

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme
    from xlbridge.engine.population import PopulationResult
    from xlbridge.engine.record import RecordResult


def _trace(r: RecordResult, explain: bool) -> Trace | None:
    if not explain or r.steps is None:
        return None
    t = Trace()
    t.steps = r.steps
    return t


def rank_parts(cs: CompiledScheme, parsed: list, keys: list[str], is_tainted) -> None:
    """Rank-percentile parts: each record's band within its group (004:497), handed to the
    record scorer under ``values[RANK_KEY]``."""
    for part in cs.rank_parts:
        pid = part.id
        by_group: dict[Group | None, list[dict[str, Any]]] = defaultdict(list)
        for _row, values, errors in parsed:
            if not errors:
                by_group[group_of(values, keys)].append(values)
        for group, members in by_group.items():
            if is_tainted(group):
                continue
            n = len(members)
            ranks = rank_eq([(v[pid], v) for v in members], part.higher_is_better)
            cutoffs = [(count_places(b.top, n, part.band_rounding), b) if b.top is not None
                       else (n, b) for b in part.bands]
            for v in members:
                rank = ranks[id(v)]
                count, band = next((c for c in cutoffs if rank <= c[0]), cutoffs[-1])
                where = tr("组内第{rank}名/共{n}人", rank=rank, n=n)
                if band.top is not None:
                    why = tr("前{share}%（{count}人）", share=show(band.top * HUNDRED),
                             count=count)
                else:
                    why = tr("其余")
                v.setdefault(RANK_KEY, {})[pid] = (band.score, tr("{where}，{why}", where=where,
                                                                  why=why))


def rank_and_flag(cs: CompiledScheme, result: PopulationResult, explain: bool) -> None:
    """Each record's rank within its group, then the scheme's rank rules."""
    keys = same_keys = cs.scheme.groups
    members: dict[Group | None, list[RecordResult]] = defaultdict(list)
    for r in result.records:
        if r.ok and not r.withheld and r.total is not None:
            members[r.group if keys is same_keys else group_of(r.values, keys)].append(r)
    for rs in members.values():
        ranks = rank_eq([(r.total, r) for r in rs])
        for r in rs:
            r.rank, r.group_size = ranks[id(r)], len(rs)
    for rule, when, eligible in cs.rank_rules:
        rkeys = rule.group_by if rule.group_by is not None else keys
        grouped: dict[Group | None, list[RecordResult]] = defaultdict(list)
        for rs in members.values():
            for r in rs:
                grouped[group_of(r.values, rkeys)].append(r)
        for group, everyone in grouped.items():
            rs = everyone
            if eligible is not None:
                rs = [r for r in everyone if eligible(_rank_env(r))]
                ranked = {id(r) for r in rs}
                for r in everyone:
                    t = _trace(r, explain)
                    if t and id(r) not in ranked:
                        t.add("flag", rule.id, rule.title, None,
                              tr("{title}：不符合“{rule}”，不参加此项排名", title=rule.title,
                                 rule=rule.eligible))
            _apply_rank_rule(result, rule, when, group or (), rs, explain)


def _rank_env_at(r: RecordResult, from_top: dict[int, int], n: int) -> dict[str, Any]:
    v = r.values
    v["rank"], v["group_size"], v["grade"] = from_top[id(r)], n, r.grade
    return v


def _rank_env(r: RecordResult) -> dict[str, Any]:
    v = r.values
    v["rank"], v["group_size"], v["grade"] = r.rank, r.group_size, r.grade
    return v


def _apply_rank_rule(result: PopulationResult, rule: Any, when: Any, group: Group,
                     rs: list[RecordResult], explain: bool) -> None:
    """Flag the top/bottom ``count`` of ``rs``; ties across the cut-off by the rule's ``ties``."""
    n = len(rs)
    if not n:
        return
    share = rule.top if rule.top is not None else rule.bottom
    count = share if isinstance(share, int) else count_places(share, n, rule.rounding)
    from_top = rank_eq([(r.total, r) for r in rs])
    position = from_top if rule.top is not None else rank_eq([(r.total, r) for r in rs],
                                                            descending=False)
    inside = [r for r in rs if position[id(r)] <= count]
    last = max((position[id(r)] for r in inside), default=0)
    tied = [r for r in inside if position[id(r)] == last]
    if when is not None:  # a tie matters only if the rule's condition holds for one of them
        tied = [r for r in tied if when(_rank_env_at(r, from_top, n))]
    if len(inside) > count and len(tied) > 1:
        # records sharing the last place inside: the cut-off falls in a tie
        rows = [r.row for r in tied]
        decision = rule.ties
        if decision == "all_out":
            inside = [r for r in inside if position[id(r)] != last]
        # (with all_in everyone at the shared last place stays inside)
        text = tr("{title}：第 {rows} 行同为 {total} 分，并列在第{count}名界线上，按规则{decided}",
                  title=rule.title, rows=tr("、").join(map(str, rows)),
                  total=show(tied[0].total), count=count,
                  decided=tr("全部计入") if decision == "all_in" else tr("全部不计入"))
        inside_ids = {id(r) for r in inside}
        result.ties.append(TieReport(group, rule.id, count, rows, tied[0].total,  # type: ignore[arg-type]
                                     decision, text,
                                     [r.row for r in tied if id(r) in inside_ids],
                                     [r.row for r in tied if id(r) not in inside_ids]))
        for r in tied:
            t = _trace(r, explain)
            if t:
                t.add("tie", rule.id, rule.title, r.total, text)
    for r in inside:
        v = r.values
        v["rank"], v["group_size"], v["grade"] = from_top[id(r)], n, r.grade
        t = _trace(r, explain)
        where = (tr("组内前{count}名（本人第{rank}名/共{n}人）", count=count,
                    rank=from_top[id(r)], n=n) if rule.top is not None else
                 tr("组内后{count}名（本人第{rank}名/共{n}人）", count=count,
                    rank=from_top[id(r)], n=n))
        if when is not None and not when(v):
            if t:
                t.add("flag", rule.id, rule.title, None,
                      tr("{title}：{where}，但不满足“{rule}”，不标记", title=rule.title,
                         where=where, rule=rule.when))
            continue
        r.flags = [*r.flags, rule.flag]
        if t:
            t.add("flag", rule.id, rule.title, None,
                  tr("{title}：{where} → {flag}", title=rule.title, where=where, flag=rule.flag))
