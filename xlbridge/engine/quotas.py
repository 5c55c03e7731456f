"""Quotas (名额/比例, RULES §7): at most a share or a count of a group in a tier.

Quotas are where pay is most often decided wrongly by hand: '优秀 at most 25% per category',
'7 towns → 2'. The count comes from the declared rounding (:func:`count_places`, used for
every "share of a group → whole people" in the engine, :mod:`~xlbridge.engine.order`),
candidates are ordered by total, and :func:`cut` — the one fill/cut of the
engine, used by population scoring, the column grader behind PERF_GRADES and the annual
aggregation — keeps the best. A tie on the total at the quota line is settled by the declared
rule (secondary keys, all in, all out) and *always* reported, whichever rule decided it —
never by row order. Records over the quota fall to the best lower tier they are eligible for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from xlbridge.arith import HUNDRED, ZERO, fmt, show
from xlbridge.engine.groups import Group, group_of, taint_check, withheld_reason
from xlbridge.engine.order import count_places, rank_eq
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError
from xlbridge.i18n import N_, gettext, tn
from xlbridge.i18n import t as tr  # t is a trace here
from xlbridge.scheme.model import TieRule

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme
    from xlbridge.engine.population import PopulationResult
    from xlbridge.engine.record import RecordResult

T = TypeVar("T")

def places_text(share: Decimal | None, count: int | None, size: int, rounding: str
                ) -> tuple[int, str]:
    """The places of a limit given as a share or a count, and how they were counted."""
    if count is not None:
        return count, tn("{n}名", "{n}名", count)
    assert share is not None
    places = count_places(share, size, rounding)
    return places, tn("{share}% × {size}人 = {exact} → {n}名",
                      "{share}% × {size}人 = {exact} → {n}名", places,
                      share=show(share * HUNDRED), size=size, exact=show(share * size))


@dataclass
class Cut(Generic[T]):
    """What :func:`cut` decided for one quota line."""

    kept: list[T]
    out: list[T]
    #: every candidate whose total equals the total at the line, when the line falls between
    #: two of them (empty when there is no tie at the line)
    tied: list[T] = field(default_factory=list)
    #: what decided the tie: ``keys`` (the secondary keys), ``all_in`` / ``all_out`` (the rule,
    #: or the keys' ``then`` when the keys tie too); None without a tie
    rule: str | None = None
    #: tied candidates the declared keys must decide but whose key values were not given
    #: (neither kept nor out: their grade cannot be known)
    undecided: list[T] = field(default_factory=list)
    #: the candidates that tie on the keys as well (decided by ``then``)
    key_tied: list[T] = field(default_factory=list)


def cut(candidates: Sequence[T], places: int, total: Callable[[T], Decimal],
        ties: TieRule, keys: Callable[[T], tuple] | None = None) -> Cut[T]:
    """Keep the best ``places`` of ``candidates`` by total; settle a tie at the line by
    ``ties``. ``keys(c)`` gives a candidate's secondary keys (``ties.keys``, higher first);
    without it a ``keys`` rule cannot be applied and the tied candidates are ``undecided``."""
    full = (lambda c: (total(c), *keys(c))) if keys is not None else (lambda c: (total(c),))
    order = sorted(candidates, key=full, reverse=True)
    if len(order) <= places:
        return Cut(order, [])
    line = total(order[places])                 # the first candidate past the line
    if places == 0 or total(order[places - 1]) != line:
        return Cut(order[:places], order[places:])
    better = [c for c in order if total(c) > line]
    tied = [c for c in order if total(c) == line]
    rest = [c for c in order if total(c) < line]
    if ties.rule != "keys":
        kept = better + tied if ties.rule == "all_in" else better
        out = ([] if ties.rule == "all_in" else tied) + rest
        return Cut(kept, out, tied, ties.rule)
    if keys is None:
        return Cut(better, rest, tied, "keys", undecided=tied)
    room = places - len(better)                 # ≥ 1: the last place inside is at the line
    last_in, first_out = full(tied[room - 1]), full(tied[room])
    if last_in != first_out:
        return Cut(better + tied[:room], tied[room:] + rest, tied, "keys")
    same = [c for c in tied if full(c) == first_out]
    above = [c for c in tied if full(c) > first_out]
    below = [c for c in tied if full(c) < first_out]
    if ties.then == "all_in":
        return Cut(better + above + same, below + rest, tied, "all_in", key_tied=same)
    return Cut(better + above, same + below + rest, tied, "all_out", key_tied=same)


def tie_keys(cs: CompiledScheme) -> list[str]:
    """The part ids that break a tie at a quota line, in order (empty: the total only)."""
    quotas = cs.scheme.quotas
    return list(quotas.ties.keys or []) if quotas and quotas.ties else []


def tie_needs_keys(cs: CompiledScheme, tier: str, rows: Sequence[int | None]) -> FieldError:
    """The error of records tied at a quota line that the declared keys must decide, when
    their key scores were not given."""
    names = tr("、").join(cs.part_titles.get(k, k) for k in tie_keys(cs))
    return FieldError("total", tr("总分"), "tie_needs_keys",
                      tr("与第 {rows} 行在“{grade}”名额线上同分并列，方案规定依次比较 {names} "
                         "决定，需提供这些分项得分（PERF_GRADES 的 tiebreak，或用 PERF_RESULTS）",
                         rows=tr("、").join(map(str, rows)), grade=tier, names=names), None)


# --------------------------------------------------------------------------- reports


@dataclass
class TieReport:
    """Records tied at a quota (or rank-rule) line, and what the declared rule did."""

    group: Group
    tier: str
    places: int
    rows: list[int | None]
    total: Decimal
    decision: str           # keys | all_in | all_out
    text: str
    kept: list[int | None] = field(default_factory=list)
    out: list[int | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"group": list(self.group), "tier": self.tier, "places": self.places,
                "rows": self.rows, "total": fmt(self.total), "decision": self.decision,
                "kept": self.kept, "out": self.out, "text": self.text}


@dataclass
class QuotaLine:
    group: Group
    tier: str
    group_size: int
    places: int
    candidates: int
    kept: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"group": list(self.group), "tier": self.tier, "group_size": self.group_size,
                "places": self.places, "candidates": self.candidates, "kept": self.kept,
                "text": self.text}


_DECIDED = {"all_in": N_("全部入选"), "all_out": N_("全部不入选")}


def tie_text(cs: CompiledScheme, tier: str, places: int, c: Cut[RecordResult]) -> str:
    """One sentence on a tie at a quota line: who, the rule, who got the places."""
    rows = tr("、").join(str(r.row) for r in c.tied)
    text = tr("“{grade}”名额线上并列：第 {rows} 行同为 {total} 分，", grade=tier, rows=rows,
              total=show(c.tied[0].total))
    if c.rule == "keys" or c.key_tied:
        keys = cs.scheme.quotas.ties.keys  # type: ignore[union-attr]
        names = tr("、").join(cs.part_titles.get(k, cs.input_by_id[k].label
                                                  if k in cs.input_by_id else k) for k in keys)
        values = tr("；").join(
            tr("第 {row} 行 ", row=r.row) + "/".join(show(v) for v in sort_keys(cs, r)[1:])
            for r in c.tied)
        text += tr("按规则依次比较 {names}（{values}）", names=names, values=values)
        if c.key_tied:
            same = tr("、").join(str(r.row) for r in c.key_tied)
            text += tr("，第 {rows} 行仍并列，按规则{decided}", rows=same,
                       decided=gettext(_DECIDED[c.rule or "all_out"]))
    else:
        text += tr("按规则{decided}", decided=gettext(_DECIDED[c.rule or "all_out"]))
    kept_ids = {id(r) for r in c.kept}
    kept = tr("、").join(str(r.row) for r in c.tied if id(r) in kept_ids)
    out = tr("、").join(str(r.row) for r in c.tied if id(r) not in kept_ids)
    outcome = tr("；").join(x for x in (kept and tr("第 {rows} 行入选", rows=kept),
                                       out and tr("第 {rows} 行未入选", rows=out)) if x)
    return tr("{text}：{outcome}（名额 {places}）", text=text, outcome=outcome, places=places)


def sort_keys(cs: CompiledScheme, r: RecordResult) -> tuple:
    """A record's quota order: its total, then the declared tie keys' scores."""
    keys = cs.scheme.quotas.ties.keys if cs.scheme.quotas else []
    out: list[Any] = [r.total]
    for k in keys:
        value = r.part(k)
        if value is None:
            value = r.values.get(k)
        out.append(value if value is not None else ZERO)
    return tuple(out)


def _trace(r: RecordResult, explain: bool) -> Trace | None:
    if not explain or r.steps is None:
        return None
    t = Trace()
    t.steps = r.steps
    return t


def apply_quotas(cs: CompiledScheme, result: PopulationResult, explain: bool,
                 keys_known: bool = True) -> None:
    """The quota stage of a population: per group and tier (best first), cut at the line;
    over-quota records fall a tier (and may be cut again by the next tier's quota).
    ``keys_known=False``: the records carry no scores for the tie keys, so a tie the keys
    must decide leaves those records without a grade (error ``tie_needs_keys``)."""
    quotas = cs.scheme.quotas
    assert quotas is not None
    keys = quotas.group_by if quotas.group_by is not None else cs.scheme.groups
    same_keys = cs.scheme.groups  # records carry their group under these keys already
    everyone = [(x.row, x.values, x.errors) for x in result.records]
    is_tainted = taint_check(everyone, keys)
    members: dict[Group | None, list[RecordResult]] = {}
    for r in result.records:
        if r.ok and not r.withheld:
            g = r.group if keys is same_keys else group_of(r.values, keys)
            members.setdefault(g, []).append(r)
    limits = sorted(quotas.limits, key=lambda lim: cs.tier_index[lim.tier])
    with_keys = bool(quotas.ties.keys) and keys_known
    for group, rs in members.items():
        g = group or ()
        if is_tainted(group):
            for r in rs:
                r.withheld = withheld_reason(everyone, group, keys)
                r.grade = None
            continue
        size = len(rs) if quotas.base == "all" else sum(1 for r in rs if r.tier)
        where = tr("{group}组", group="/".join(g)) if g else tr("全体")
        for limit in limits:
            places, basis = places_text(limit.share, limit.count, size, quotas.rounding)
            candidates = [r for r in rs if r.grade == limit.tier and r.decided_by is None]
            order = {id(r): sort_keys(cs, r) for r in candidates}
            c = cut(candidates, places, _total, quotas.ties,
                    (lambda r, order=order: order[id(r)][1:]) if with_keys else None)
            line_text = tr("{where}“{grade}”名额：{basis}；候选 {candidates} 人，入选 {kept} 人",
                           where=where, grade=limit.tier, basis=basis,
                           candidates=len(candidates), kept=len(c.kept))
            result.quotas.append(QuotaLine(g, limit.tier, size, places, len(candidates),
                                           len(c.kept), line_text))
            if c.undecided:
                error = tie_needs_keys(cs, limit.tier, [r.row for r in c.undecided])
                for r in c.undecided:
                    r.errors, r.grade = [error], None
            kept_ids = {id(r) for r in c.kept}
            tied_ids = {id(r) for r in c.tied}
            if c.tied and not c.undecided:
                c.tied.sort(key=lambda r: (r.row is None, r.row or 0))  # report in row order
                text = tie_text(cs, limit.tier, places, c)
                result.ties.append(TieReport(
                    g, limit.tier, places, [r.row for r in c.tied], c.tied[0].total,  # type: ignore[arg-type]
                    c.rule or "", text, [r.row for r in c.tied if id(r) in kept_ids],
                    [r.row for r in c.tied if id(r) not in kept_ids]))
                for r in c.tied:
                    t = _trace(r, explain)
                    if t:
                        t.add("tie", limit.tier, limit.tier, r.total, text)
            # a place as RANK.EQ gives it, on the quota's order (total, then the tie keys)
            position = rank_eq((order[id(r)], r) for r in candidates)
            for r in c.kept:
                if id(r) in tied_ids:
                    r.flags = [*r.flags, tr("“{grade}”名额线并列，入选（名额{places}）",
                                            grade=limit.tier, places=places)]
                t = _trace(r, explain)
                if t:
                    t.add("quota", limit.tier, limit.tier, r.total,
                          tr("{line}；本人名列第 {position}，保持“{grade}”", line=line_text,
                             position=position[id(r)], grade=limit.tier))
            for r in c.out:
                lower = cs.grading.demote(limit.tier, r.values)
                if id(r) in tied_ids:
                    r.flags = [*r.flags, tr("“{grade}”名额线并列，未入选（名额{places}）",
                                            grade=limit.tier, places=places)]
                else:
                    r.flags = [*r.flags, tr("超出“{grade}”名额（第{position}名，名额{places}）",
                                            grade=limit.tier, position=position[id(r)],
                                            places=places)]
                t = _trace(r, explain)
                if t:
                    t.add("quota", limit.tier, limit.tier, r.total,
                          tr("{line}；本人名列第 {position}，{why}，由“{grade}”降为“{lower}”",
                             line=line_text, position=position[id(r)],
                             why=tr("并列未入选") if id(r) in tied_ids else tr("超出名额"),
                             grade=limit.tier, lower=lower or tr("无等次")))
                r.grade = lower


def _total(r: RecordResult) -> Decimal:
    return r.total  # type: ignore[return-value]
