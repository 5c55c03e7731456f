"""Scoring a population: ranks within groups, quotas with declared tie rules, rank rules.

Quotas are where pay is most often decided wrongly by hand: '优秀 at most 25% per category',
'7 towns → 2'. Here the count comes from the declared rounding, candidates are ordered by
total (then declared tie keys), and a tie at the quota line is settled by the declared rule
and reported — never by row order. If any record of a group has bad data, that group's
quota-dependent results are withheld rather than computed from a partial population.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlbridge.arith import HUNDRED, ZERO, fmt, from_float, show
from xlbridge.engine.compiled import (
    PART_PREFIX,
    RANK_KEY,
    CompiledScheme,
    ScoringError,
    _round_count,
)
from xlbridge.engine.record import (
    RecordResult,
    decide_grade,
    finish,
    row_numbers,
    rows_text,
    score_values,
)
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError, make_parser, normalize_text
from xlbridge.scheme.inputs import InputSpec

Group = tuple[str, ...]


@dataclass
class TieReport:
    """Records tied at a quota line, and what the declared rule did with them."""

    group: Group
    tier: str
    places: int
    rows: list[int | None]
    total: Decimal
    decision: str           # all_in | all_out
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"group": list(self.group), "tier": self.tier, "places": self.places,
                "rows": self.rows, "total": fmt(self.total), "decision": self.decision,
                "text": self.text}


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


@dataclass
class PopulationResult:
    scheme_ref: str
    records: list[RecordResult]
    ties: list[TieReport] = field(default_factory=list)
    quotas: list[QuotaLine] = field(default_factory=list)

    @property
    def invalid(self) -> list[RecordResult]:
        return [r for r in self.records if r.errors]

    def grade_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for r in self.records:
            if r.ok and not r.withheld:
                counts[r.grade_text or "—"] += 1
        return dict(counts)

    def payout_total(self) -> Decimal:
        return sum((r.payout or ZERO for r in self.records if r.ok), ZERO)

    def summary(self) -> dict[str, Any]:
        return {"scheme": self.scheme_ref, "records": len(self.records),
                "invalid": len(self.invalid),
                "withheld": sum(1 for r in self.records if r.withheld),
                "grades": self.grade_counts(), "payout_total": fmt(self.payout_total()),
                "ties": len(self.ties)}


def _group_values(label: Any, keys: Sequence[str]) -> dict[str, Any]:
    """A group cell as the record values it stands for: one key's value, or several keys'
    values joined by '/' (``科级干部/社区``)."""
    text = "" if label is None else str(label)
    if len(keys) == 1:
        return {keys[0]: normalize_text(text)}
    return dict(zip(keys, [normalize_text(x) for x in text.split("/")], strict=False))


def _group_of(values: Mapping[str, Any], keys: Sequence[str]) -> Group | None:
    out = []
    for k in keys:
        val = values.get(k)
        if val is None or val == "":
            return None
        out.append(str(val))
    return tuple(out)


def _rank_eq(items: list[tuple[Decimal, Any]], descending: bool = True) -> dict[int, int]:
    """Excel's RANK.EQ: equal values share the best rank. Returns id(obj) → rank."""
    ordered = sorted(items, key=lambda x: x[0], reverse=descending)
    ranks: dict[int, int] = {}
    previous: Decimal | None = None
    rank = 0
    for position, (value, obj) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[id(obj)] = rank
    return ranks


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a population is built.

    Grading 10,000 records allocates some 50,000 objects that all live until the end; each
    allocation burst triggers full collections that walk the whole heap (in Excel's UDF
    server that heap is large) and cost more than the grading itself. The engine creates no
    reference cycles, so nothing is lost by collecting once afterwards instead.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def score_population(cs: CompiledScheme, records: Iterable[Mapping[str, Any]], *,
                     explain: bool = False,
                     first_row: int | Sequence[int] = 1) -> PopulationResult:
    """Score every record, then apply group ranks, quotas, rank rules, prizes, payouts.

    ``first_row`` is the row number of the first record (the rest follow), or a sequence
    with every record's row number; messages name records by it."""
    with _no_gc():
        return _score_population(cs, records, explain, first_row)


def _score_population(cs: CompiledScheme, records: Iterable[Mapping[str, Any]],
                      explain: bool, first_row: int | Sequence[int]) -> PopulationResult:
    parsed = []
    for row, raw in zip(row_numbers(first_row), records, strict=False):
        values, errors = cs.parse(raw)
        parsed.append((row, values, errors))
    scheme = cs.scheme
    groups_keys = scheme.groups
    is_tainted = _taint_check(parsed, groups_keys)

    if cs.rank_parts:
        _rank_parts(cs, parsed, groups_keys, is_tainted)

    results: list[RecordResult] = []
    for row, values, errors in parsed:
        group = _group_of(values, groups_keys)
        if not errors and cs.rank_parts and is_tainted(group):
            # Its rank within the group cannot be known, so it is not scored — but its own
            # mistakes (a blank that may not be blank…) are reported now, not after the
            # other record is fixed: score it without the ranks and keep only other errors.
            trial = score_values(cs, dict(values), row, False, errors)
            own = [e for e in trial.errors if e.code != "needs_population"]
            r = RecordResult(row, values)
            r.group = group
            if own:
                r.errors = own
            else:
                r.withheld = _withheld_reason(parsed, group, groups_keys)
            results.append(r)
            continue
        r = score_values(cs, values, row, explain, errors)
        r.group = group
        results.append(r)

    return _rank_quota_pay(cs, PopulationResult(cs.ref, results), explain)


def _rank_quota_pay(cs: CompiledScheme, result: PopulationResult,
                    explain: bool, payout: bool = True) -> PopulationResult:
    """The population stage shared by records and bare totals. Without payouts (a caller
    that wants grades only) ranks are skipped too: rank rules only flag, and prizes pay."""
    scheme = cs.scheme
    if scheme.quotas:
        _apply_quotas(cs, result, explain)
    if not payout and not explain:
        return result
    _rank(cs, result, explain)
    if scheme.payout and scheme.payout.rank_prizes:
        _prizes(cs, result, explain)
    if payout:
        for r in result.records:
            finish(cs, r, explain)
    return result


def grade_totals(cs: CompiledScheme, totals: Sequence[Any], *,
                 groups: Sequence[Any] | None = None,
                 flags: Sequence[Iterable[str]] | None = None,
                 tie_scores: Sequence[Sequence[Any]] | None = None,
                 explain: bool = False, first_row: int = 1,
                 payout: bool = True) -> PopulationResult:
    """Quota-aware grades for totals computed elsewhere (a template's own score column).

    ``groups[i]`` is record i's group (for a scheme grouped by several inputs, their values
    joined by '/'); ``flags[i]`` names the conditions (by id or title) that hold for record i,
    whose outcomes — vetoes, forced grades, no grade — are applied. ``tie_scores[i]`` are
    record i's scores for the quota's declared tie keys (``quotas.ties.keys``, in that
    order), which break a tie on the total at a quota line as :func:`score_population` does
    from the parts; without them such a tie goes to the rule's ``then``. Tier gates that read
    inputs cannot be checked from a total and are taken as met; payout rules that read
    inputs are not applied (use score_population with full records for those).
    ``payout=False`` is for callers that only want grades: payouts, ranks, rank-rule flags
    and prizes are skipped.
    """
    with _no_gc():
        return _grade_totals(cs, totals, groups, flags, tie_scores, explain, first_row,
                             payout)


def total_reader(cs: CompiledScheme) -> Callable[[Any], Decimal | FieldError]:
    """A function reading one total cell as the scheme rounds and bounds totals: the Decimal,
    or the FieldError saying what is wrong. A column of thousands of totals holds a few
    hundred distinct values, so each is read once (cached by the raw value)."""
    parse_total = make_parser(InputSpec("total", "总分", "number", "total"))
    round_total = cs.round_total
    cache: dict[Any, Decimal | FieldError] = {}

    def read(raw: Any) -> Decimal | FieldError:
        try:
            return cache[raw]
        except (KeyError, TypeError):  # TypeError: an unhashable value; read it uncached
            pass
        try:
            # a finite float from Excel, the usual cell: straight to its 15-digit Decimal
            total = from_float(raw) if raw.__class__ is float and -1e15 < raw < 1e15 \
                else parse_total(raw)
            got: Decimal | FieldError = cs.check_total(round_total(total) if round_total
                                                       else total)
        except FieldError as exc:
            got = exc
        except ScoringError as exc:
            got = exc.error
        if type(raw) in (float, int, str, Decimal):
            cache[raw] = got
        return got

    return read


@dataclass(frozen=True)
class Withheld:
    """A grade that cannot be decided yet: another record of the group is bad (the reason)."""

    reason: str


def grade_column(cs: CompiledScheme, totals: Sequence[Any],
                 groups: Sequence[Any] | None = None, *,
                 first_row: int = 1) -> list[str | FieldError | Withheld | None] | None:
    """The final grades of a column of totals — what PERF_GRADES shows — without building a
    result per record.

    The same rules as :func:`grade_totals` without flags, tie scores, explanations or
    payouts (the usual PERF_GRADES call over thousands of rows), done in a few passes over
    plain lists: each entry is the grade label (None: demoted below the last tier), the
    FieldError of a bad total, or :class:`Withheld`. Returns None for a scheme that needs
    the general path (tier gates, or quotas grouped otherwise than the scheme's groups).
    ``tests/test_grade_column.py`` checks it against grade_totals on random columns.
    """
    quotas = cs.scheme.quotas
    keys = cs.scheme.groups
    if any(t.gates for t in cs.tiers) or (
            quotas is not None and quotas.group_by is not None
            and list(quotas.group_by) != list(keys)):
        return None
    read_total = total_reader(cs)
    tiers: dict[Decimal, tuple[Decimal, str] | FieldError] = {}
    read: list[tuple[Decimal, str] | FieldError] = []
    for raw in totals:
        total = read_total(raw)
        if total.__class__ is not FieldError:
            got = tiers.get(total)  # type: ignore[arg-type]
            if got is None:
                tier = cs.tier_for(total, None)  # type: ignore[arg-type]
                got = tiers[total] = (total, tier) if tier is not None else FieldError(  # type: ignore[index]
                    "total", "总分", "no_tier", "没有对应的等次", "a score inside the tiers",
                    total)
            total = got
        read.append(total)  # type: ignore[arg-type]
    out: list[Any] = [x if isinstance(x, FieldError) else x[1] for x in read]
    if quotas is None or not cs.tiers:
        return out
    # each record's group, as grade_totals reads the labels (None: a group that is missing)
    if groups is None or not keys:
        group_of: list[Group | None] = [None if keys else ()] * len(read)
    else:
        group_of = [_group_of(_group_values(label, keys), keys) for label in groups]
    bad = [(first_row + i, group_of[i]) for i, x in enumerate(read) if isinstance(x, FieldError)]
    tainted = {g for _row, g in bad}
    members: dict[Group | None, list[int]] = defaultdict(list)
    for i, x in enumerate(read):
        if not isinstance(x, FieldError):
            members[group_of[i]].append(i)
    limits = sorted(quotas.limits, key=lambda lim: cs.tier_index[lim.tier])
    decision = quotas.ties.rule if quotas.ties.rule != "keys" else quotas.ties.then
    for group, rs in members.items():
        if None in tainted or group in tainted:
            withheld = Withheld(_withheld_text(bad, group))
            for i in rs:
                out[i] = withheld
            continue
        size = len(rs)
        for limit in limits:
            places = limit.count if limit.count is not None else \
                _round_count(limit.share * size, quotas.rounding)  # type: ignore[operator]
            candidates = [i for i in rs if out[i] == limit.tier]
            if len(candidates) <= places:
                continue
            candidates.sort(key=lambda i: read[i][0], reverse=True)  # type: ignore[index]
            line = read[candidates[places]][0]  # type: ignore[index]
            if read[candidates[places - 1]][0] == line if places else False:  # type: ignore[index]
                keep = [i for i in candidates if read[i][0] > line  # type: ignore[index]
                        or (decision == "all_in" and read[i][0] == line)]  # type: ignore[index]
            else:
                keep = candidates[:places]
            kept = set(keep)
            lower = cs.next_tier_below(limit.tier)
            for i in candidates:
                if i not in kept:
                    out[i] = lower
    return out


def tie_keys(cs: CompiledScheme) -> list[str]:
    """The part ids that break a tie at a quota line, in order (empty: the total only)."""
    quotas = cs.scheme.quotas
    return list(quotas.ties.keys or []) if quotas and quotas.ties else []


def _grade_totals(cs: CompiledScheme, totals: Sequence[Any], groups: Sequence[Any] | None,
                  flags: Sequence[Iterable[str]] | None,
                  tie_scores: Sequence[Sequence[Any]] | None, explain: bool, first_row: int,
                  payout: bool) -> PopulationResult:
    keys = cs.scheme.groups
    read_total = total_reader(cs)
    tie_parsers: list[tuple[str, Callable[[Any], Any]]] = []
    if tie_scores is not None:
        for k in tie_keys(cs):
            title = cs.part_titles.get(k, k)
            tie_parsers.append((PART_PREFIX + k, make_parser(InputSpec(k, title, "number", k))))
    # condition names, normalised once: flag text → condition id
    by_name: dict[str, str] = {}
    for cond in cs.scheme.conditions:
        by_name[normalize_text(cond.id)] = cond.id
        by_name[normalize_text(cond.title)] = cond.id
    results: list[RecordResult] = []
    unknown: set[str] = set()
    # a column of thousands of totals holds a few hundred distinct values: look each one's
    # tier up once
    tier_cache: dict[Decimal, str | None] = {}
    for i, raw in enumerate(totals):
        values = _group_values(groups[i], keys) if groups is not None and keys else {}
        r = RecordResult(first_row + i, values)
        r.group = _group_of(values, keys)
        total = read_total(raw)
        if isinstance(total, FieldError):
            r.errors = [total]
            results.append(r)
            continue
        if tie_parsers:
            try:
                for (key, parse), raw_key in zip(tie_parsers, tie_scores[i], strict=True):
                    values[key] = parse(raw_key)
            except FieldError as exc:
                r.errors = [exc]
                results.append(r)
                continue
        r.total = total
        values["total"] = values["subtotal"] = total
        values["bonus"] = values["deduction"] = ZERO
        named: set[str] = set()
        for f in (flags[i] if flags is not None else ()):
            if f:
                key = normalize_text(str(f))
                if key in by_name:
                    named.add(by_name[key])
                else:
                    unknown.add(key)
        t = Trace() if explain else None
        try:
            if named or t is not None:
                decide_grade(cs, r, values, t, holds=lambda cond, _when, n=named: cond.id in n,
                             gates=False)
            elif cs.tiers:  # no flags: the tier by score alone
                if total in tier_cache:
                    r.tier = tier_cache[total]
                else:
                    r.tier = tier_cache[total] = cs.tier_for(total, None)
                if r.tier is None:
                    raise ScoringError(FieldError("total", "总分", "no_tier", "没有对应的等次",
                                                  "a score inside the tiers", total))
        except ScoringError as exc:
            r.errors = exc.errors
        r.grade = r.tier
        if t:
            r.steps = t.steps
        results.append(r)
    if unknown:
        names = "、".join(c.id for c in cs.scheme.conditions) or "(none)"
        raise ValueError(f"unknown condition(s) {', '.join(sorted(unknown))} in flags; "
                         f"{cs.ref} has: {names}")
    return _rank_quota_pay(cs, PopulationResult(cs.ref, results), explain, payout)


def _taint_check(parsed: list, keys: Sequence[str]):
    """Groups (under ``keys``) holding a bad record cannot have ranks or quotas decided.

    A bad record whose group itself cannot be read taints every group.
    """
    tainted = {_group_of(values, keys) for _row, values, errors in parsed if errors}
    taint_all = None in tainted
    return lambda g: taint_all or g in tainted


def _withheld_reason(parsed: list, group: Group | None, keys: Sequence[str]) -> str:
    return _withheld_text([(row, _group_of(values, keys)) for row, values, errors in parsed
                           if errors], group)


def _withheld_text(bad: Sequence[tuple[int | None, Group | None]], group: Group | None) -> str:
    """Why ``group``'s results wait: the rows of the bad records in it (or in no group)."""
    return f"同组第 {rows_text([row for row, g in bad if g in (group, None)])} 行数据有误，" \
        "组内排名/名额无法确定"


def _trace_for(r: RecordResult, explain: bool) -> Trace | None:
    if not explain or r.steps is None:
        return None
    t = Trace()
    t.steps = r.steps
    return t


def _rank_parts(cs: CompiledScheme, parsed: list, keys: Sequence[str], is_tainted) -> None:
    """Rank-percentile parts: each record's band within its group (004:497)."""
    for part in cs.rank_parts:
        pid = part.id
        by_group: dict[Group | None, list[dict[str, Any]]] = defaultdict(list)
        for _row, values, errors in parsed:
            if not errors:
                by_group[_group_of(values, keys)].append(values)
        for group, members in by_group.items():
            if is_tainted(group):
                continue
            n = len(members)
            ranks = _rank_eq([(v[pid], v) for v in members], part.higher_is_better)
            cutoffs = [(_round_count(b.top * n, part.band_rounding), b) if b.top is not None
                       else (n, b) for b in part.bands]
            for v in members:
                rank = ranks[id(v)]
                count, band = next((c for c in cutoffs if rank <= c[0]), cutoffs[-1])
                where = f"组内第{rank}名/共{n}人"
                if band.top is not None:
                    why = f"前{show(band.top * HUNDRED)}%（{count}人）"
                else:
                    why = "其余"
                v.setdefault(RANK_KEY, {})[pid] = (band.score, f"{where}，{why}")


def _sort_key(cs: CompiledScheme, r: RecordResult) -> tuple:
    keys = cs.scheme.quotas.ties.keys if cs.scheme.quotas else []
    if not keys:
        return (r.total,)
    out = [r.total]
    for k in keys:
        value = r.values.get(PART_PREFIX + k, r.values.get(k))
        out.append(value if value is not None else ZERO)
    return tuple(out)


def _apply_quotas(cs: CompiledScheme, result: PopulationResult, explain: bool) -> None:
    quotas = cs.scheme.quotas
    assert quotas is not None
    keys = quotas.group_by if quotas.group_by is not None else cs.scheme.groups
    same_keys = cs.scheme.groups  # records carry their group under these keys already
    everyone = [(x.row, x.values, x.errors) for x in result.records]
    is_tainted = _taint_check(everyone, keys)
    members: dict[Group | None, list[RecordResult]] = defaultdict(list)
    for r in result.records:
        if r.ok and not r.withheld:
            members[r.group if keys is same_keys else _group_of(r.values, keys)].append(r)
    limits = sorted(quotas.limits, key=lambda lim: cs.tier_index[lim.tier])
    for group, rs in members.items():
        g = group or ()
        if is_tainted(group):
            for r in rs:
                r.withheld = _withheld_reason(everyone, group, keys)
                r.grade = None
            continue
        size = len(rs) if quotas.base == "all" else sum(1 for r in rs if r.tier)
        for limit in limits:
            if limit.count is not None:
                places = limit.count
                basis = f"{limit.count}名"
            else:
                exact = limit.share * size  # type: ignore[operator]
                places = _round_count(exact, quotas.rounding)
                basis = (f"{show(limit.share * HUNDRED)}% × {size}人 = {show(exact)}"  # type: ignore[operator]
                         f" → {places}名")
            candidates = [r for r in rs if r.grade == limit.tier and r.decided_by is None]
            sort_keys = {id(r): _sort_key(cs, r) for r in candidates}
            candidates.sort(key=lambda r: sort_keys[id(r)], reverse=True)
            kept = candidates[:places]
            out = candidates[places:]
            if kept and out and sort_keys[id(kept[-1])] == sort_keys[id(out[0])]:
                line_key = sort_keys[id(out[0])]
                tied = [r for r in candidates if sort_keys[id(r)] == line_key]
                decision = quotas.ties.rule if quotas.ties.rule != "keys" else quotas.ties.then
                better = [r for r in candidates if sort_keys[id(r)] > line_key]
                kept = better + tied if decision == "all_in" else better
                kept_ids = {id(r) for r in kept}  # identity: records may compare equal
                out = [r for r in candidates if id(r) not in kept_ids]
                rows = [r.row for r in tied]
                text = (f"“{limit.tier}”名额线上并列：第 {'、'.join(map(str, rows))} 行同为 "
                        f"{show(line_key[0])} 分，按规则"
                        f"{'全部入选' if decision == 'all_in' else '全部不入选'}"
                        f"（名额 {places}，实际 {len(kept)}）")
                result.ties.append(TieReport(g, limit.tier, places, rows, line_key[0],
                                             decision or "", text))
                for r in tied:
                    t = _trace_for(r, explain)
                    if t:
                        t.add("tie", limit.tier, limit.tier, r.total, text)
            where = f"{'/'.join(g)}组" if g else "全体"
            line_text = (f"{where}“{limit.tier}”名额：{basis}；候选 {len(candidates)} 人，"
                         f"入选 {len(kept)} 人")
            result.quotas.append(QuotaLine(g, limit.tier, size, places, len(candidates),
                                           len(kept), line_text))
            for position, r in enumerate(kept, start=1):
                t = _trace_for(r, explain)
                if t:
                    t.add("quota", limit.tier, limit.tier, r.total,
                          f"{line_text}；本人名列第 {position}，保持“{limit.tier}”")
            for r in out:
                lower = _demote(cs, r, limit.tier)
                t = _trace_for(r, explain)
                if t:
                    t.add("quota", limit.tier, limit.tier, r.total,
                          f"{line_text}；本人超出名额，由“{limit.tier}”降为“{lower}”")
                r.grade = lower


def _demote(cs: CompiledScheme, r: RecordResult, label: str) -> str | None:
    """The best tier below ``label`` whose gates the record passes."""
    lower = cs.next_tier_below(label)
    while lower is not None:
        tier = cs.tiers[cs.tier_index[lower]]
        if all(fn(r.values) for _g, fn in tier.gates):
            return lower
        lower = cs.next_tier_below(lower)
    return lower


def _rank(cs: CompiledScheme, result: PopulationResult, explain: bool) -> None:
    keys = same_keys = cs.scheme.groups
    members: dict[Group | None, list[RecordResult]] = defaultdict(list)
    for r in result.records:
        if r.ok and not r.withheld and r.total is not None:
            members[r.group if keys is same_keys else _group_of(r.values, keys)].append(r)
    for rs in members.values():
        ranks = _rank_eq([(r.total, r) for r in rs])
        for r in rs:
            r.rank, r.group_size = ranks[id(r)], len(rs)
    for rule, when, eligible in cs.rank_rules:
        rkeys = rule.group_by if rule.group_by is not None else keys
        grouped: dict[Group | None, list[RecordResult]] = defaultdict(list)
        for rs in members.values():
            for r in rs:
                grouped[_group_of(r.values, rkeys)].append(r)
        for group, everyone in grouped.items():
            rs = everyone
            if eligible is not None:
                rs = [r for r in everyone if eligible(_rank_env(r))]
                for r in everyone:
                    t = _trace_for(r, explain)
                    if t and r not in rs:
                        t.add("flag", rule.id, rule.title, None,
                              f"{rule.title}：不符合“{rule.eligible}”，不参加此项排名")
            _apply_rank_rule(cs, result, rule, when, group or (), rs, explain)


def _rank_env_at(r: RecordResult, from_top: dict[int, int], n: int) -> dict[str, Any]:
    v = r.values
    v["rank"], v["group_size"], v["grade"] = from_top[id(r)], n, r.grade
    return v


def _rank_env(r: RecordResult) -> dict[str, Any]:
    v = r.values
    v["rank"], v["group_size"], v["grade"] = r.rank, r.group_size, r.grade
    return v


def _apply_rank_rule(cs: CompiledScheme, result: PopulationResult, rule: Any, when: Any,
                     group: Group, rs: list[RecordResult], explain: bool) -> None:
    """Flag the top/bottom ``count`` of ``rs``; ties across the cut-off by the rule's ``ties``."""
    n = len(rs)
    if not n:
        return
    share = rule.top if rule.top is not None else rule.bottom
    count = share if isinstance(share, int) else _round_count(share * n, rule.rounding)
    from_top = _rank_eq([(r.total, r) for r in rs])
    position = from_top if rule.top is not None else _rank_eq([(r.total, r) for r in rs],
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
        text = (f"{rule.title}：第 {'、'.join(map(str, rows))} 行同为 {show(tied[0].total)} 分，"
                f"并列在第{count}名界线上，按规则"
                f"{'全部计入' if decision == 'all_in' else '全部不计入'}")
        result.ties.append(TieReport(group, rule.id, count, rows, tied[0].total, decision, text))
        for r in tied:
            t = _trace_for(r, explain)
            if t:
                t.add("tie", rule.id, rule.title, r.total, text)
    side = "前" if rule.top is not None else "后"
    for r in inside:
        v = r.values
        v["rank"], v["group_size"], v["grade"] = from_top[id(r)], n, r.grade
        t = _trace_for(r, explain)
        where = f"组内{side}{count}名（本人第{from_top[id(r)]}名/共{n}人）"
        if when is not None and not when(v):
            if t:
                t.add("flag", rule.id, rule.title, None,
                      f"{rule.title}：{where}，但不满足“{rule.when}”，不标记")
            continue
        r.flags = [*r.flags, rule.flag]
        if t:
            t.add("flag", rule.id, rule.title, None, f"{rule.title}：{where} → {rule.flag}")


def _prizes(cs: CompiledScheme, result: PopulationResult, explain: bool) -> None:
    prizes = cs.scheme.payout.rank_prizes  # type: ignore[union-attr]
    assert prizes is not None
    keys = prizes.group_by if prizes.group_by is not None else cs.scheme.groups
    same_keys = cs.scheme.groups
    members: dict[Group | None, list[RecordResult]] = defaultdict(list)
    for r in result.records:
        if not r.ok or r.withheld or r.grade is None:
            continue
        if prizes.min_grade and cs.better(prizes.min_grade, r.grade):
            continue
        members[r.group if keys is same_keys else _group_of(r.values, keys)].append(r)
    by_rank = {p.rank: p for p in prizes.prizes}
    for rs in members.values():
        ranks = _rank_eq([(r.total, r) for r in rs])
        for r in rs:
            prize = by_rank.get(ranks[id(r)])
            if prize is None:
                continue
            r.prize = prize.amount
            t = _trace_for(r, explain)
            if t:
                t.add("prize", "rank_prizes", prizes.title, prize.amount,
                      f"{prize.title or prizes.title}：组内第{ranks[id(r)]}名，"
                      f"{show(prize.amount)} 元")
