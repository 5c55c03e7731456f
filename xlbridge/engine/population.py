"""Scoring a population: the pipeline that runs every rule over a whole group of records.

One record is scored on its own (:mod:`xlbridge.engine.record`); what needs the others —
rank parts, quotas, ranks, rank rules, prizes — is run here, in this order, each by its own
module: :mod:`~xlbridge.engine.ranking` (rank parts first, ranks and rank rules after the
grades), :mod:`~xlbridge.engine.quotas`, :mod:`~xlbridge.engine.payout`. If any record of a
group has bad data, that group's quota-dependent results are withheld rather than computed
from a partial population (:mod:`~xlbridge.engine.groups`).

Three entry points: :func:`score_population` (records with their inputs — what ``xlbridge
score``, the ribbon, PERF_RESULTS and recompute use), :func:`grade_totals` (totals computed
elsewhere, with each record's named conditions, groups and tie-key scores) and
:func:`grade_column` (the same rules over a plain column, without a result per record).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlbridge.arith import ZERO, fmt, from_float
from xlbridge.engine.compiled import CompiledScheme
from xlbridge.engine.conditions import changes_grade, decide_grade
from xlbridge.engine.errors import ScoringError
from xlbridge.engine.fastpath import PART_PREFIX
from xlbridge.engine.groups import (
    Group,
    group_of,
    group_values,
    taint_check,
    withheld_reason,
    withheld_text,
)
from xlbridge.engine.needs import TOTAL_ONLY, hidden_gates
from xlbridge.engine.order import count_places
from xlbridge.engine.payout import award_prizes
from xlbridge.engine.quotas import (
    QuotaLine,
    TieReport,
    apply_quotas,
    cut,
    tie_keys,
    tie_needs_keys,
)
from xlbridge.engine.ranking import rank_and_flag, rank_parts
from xlbridge.engine.record import RecordResult, finish, row_numbers, score_values
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError, make_parser, normalize_text
from xlbridge.i18n import t
from xlbridge.scheme.expr import names_in
from xlbridge.scheme.inputs import InputSpec

__all__ = ["PopulationResult", "QuotaLine", "TieReport", "Withheld", "grade_column",
           "grade_totals", "score_population", "tie_keys", "total_reader"]


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
    groups_keys = cs.scheme.groups
    is_tainted = taint_check(parsed, groups_keys)

    if cs.rank_parts:
        rank_parts(cs, parsed, groups_keys, is_tainted)

    results: list[RecordResult] = []
    for row, values, errors in parsed:
        group = group_of(values, groups_keys)
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
                r.withheld = withheld_reason(parsed, group, groups_keys)
            results.append(r)
            continue
        r = score_values(cs, values, row, explain, errors)
        r.group = group
        results.append(r)

    return run_population_stage(cs, PopulationResult(cs.ref, results), explain)


def run_population_stage(cs: CompiledScheme, result: PopulationResult, explain: bool,
                         payout: bool = True, keys_known: bool = True) -> PopulationResult:
    """The population stage shared by records and bare totals: quotas, ranks and rank rules,
    prizes, payouts. Without payouts (a caller that wants grades only) ranks are skipped too:
    rank rules only flag, and prizes pay. ``keys_known=False``: the records carry no scores
    for the quota's tie keys (bare totals without them)."""
    scheme = cs.scheme
    if scheme.quotas:
        apply_quotas(cs, result, explain, keys_known)
    if not payout and not explain:
        return result
    rank_and_flag(cs, result, explain)
    if scheme.payout and scheme.payout.rank_prizes:
        award_prizes(cs, result, explain)
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
    from the parts; without them a tie the keys must decide leaves the records tied with
    the error ``tie_needs_keys`` (their grade cannot be known). Tier gates that read inputs
    cannot be checked from a total and are taken as met, and payout rules that read inputs
    are not applied: callers that cannot carry those must refuse such schemes (the
    worksheet functions do) or use score_population with full records.
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
    parse_total = make_parser(InputSpec("total", t("总分"), "number", "total"))
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
    FieldError of a bad total (or of a tie only the scheme's tie keys can decide), or
    :class:`Withheld`. Returns None for a scheme that needs the general path (tier gates,
    conditions decided by the total, or quotas grouped otherwise than the scheme's groups).
    Conditions that read inputs are taken as not holding: callers that cannot carry them
    refuse such schemes (see :mod:`xlbridge.engine.needs`).
    ``tests/engine/test_grade_column.py`` checks it against grade_totals on random columns.
    """
    quotas = cs.scheme.quotas
    keys = cs.scheme.groups
    by_total = any(changes_grade(c) and names_in(c.when) <= TOTAL_ONLY
                   for c, _w in cs.conditions)
    if any(t.gates for t in cs.tiers) or by_total or (
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
                    "total", t("总分"), "no_tier", t("没有对应的等次"), total)
            total = got
        read.append(total)  # type: ignore[arg-type]
    out: list[Any] = [x if isinstance(x, FieldError) else x[1] for x in read]
    if quotas is None or not cs.tiers:
        return out
    # each record's group, as grade_totals reads the labels (None: a group that is missing)
    if groups is None or not keys:
        group_of_row: list[Group | None] = [None if keys else ()] * len(read)
    else:
        group_of_row = [group_of(group_values(label, keys), keys) for label in groups]
    bad = [(first_row + i, group_of_row[i]) for i, x in enumerate(read)
           if isinstance(x, FieldError)]
    tainted = {g for _row, g in bad}
    members: dict[Group | None, list[int]] = defaultdict(list)
    for i, x in enumerate(read):
        if not isinstance(x, FieldError):
            members[group_of_row[i]].append(i)
    limits = sorted(quotas.limits, key=lambda lim: cs.tier_index[lim.tier])
    for group, rs in members.items():
        if None in tainted or group in tainted:
            withheld = Withheld(withheld_text(bad, group))
            for i in rs:
                out[i] = withheld
            continue
        size = len(rs)
        for limit in limits:
            places = limit.count if limit.count is not None else \
                count_places(limit.share, size, quotas.rounding)  # type: ignore[arg-type]
            candidates = [i for i in rs if out[i] == limit.tier]
            if len(candidates) <= places:
                continue
            c = cut(candidates, places, lambda i: read[i][0], quotas.ties)  # type: ignore[index]
            lower = cs.next_tier_below(limit.tier)
            for i in c.out:
                out[i] = lower
            if c.undecided:
                error = tie_needs_keys(cs, limit.tier, [first_row + i for i in c.undecided])
                for i in c.undecided:
                    out[i] = error
    return out


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
    # conditions that read nothing but the total are decided from it; gates too, unless some
    # gate reads inputs (callers that cannot carry those refuse such schemes, see needs.py)
    evaluable = frozenset(c.id for c, _w in cs.conditions if names_in(c.when) <= TOTAL_ONLY)
    gates = not hidden_gates(cs)
    by_total = bool(evaluable) or (gates and cs.grading.any_gates)
    results: list[RecordResult] = []
    unknown: set[str] = set()
    # a column of thousands of totals holds a few hundred distinct values: look each one's
    # tier up once
    tier_cache: dict[Decimal, str | None] = {}
    for i, raw in enumerate(totals):
        values = group_values(groups[i], keys) if groups is not None and keys else {}
        r = RecordResult(first_row + i, values)
        r.group = group_of(values, keys)
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
            if named or t is not None or by_total:
                decide_grade(cs, r, values, t, gates=gates,
                             holds=lambda cond, when, n=named, v=values: cond.id in n
                             or (cond.id in evaluable and bool(when(v))))
            elif cs.tiers:  # no flags: the tier by score alone
                if total in tier_cache:
                    r.tier = tier_cache[total]
                else:
                    r.tier = tier_cache[total] = cs.tier_for(total, None)
                if r.tier is None:
                    raise ScoringError(FieldError("total", t("总分"), "no_tier",
                                                  t("没有对应的等次"), total))
        except ScoringError as exc:
            r.errors = exc.errors
        r.grade = r.tier
        if t:
            r.steps = t.steps
        results.append(r)
    if unknown:
        names = t("、").join(c.title for c in cs.scheme.conditions) or t("（无）")
        raise FieldError("flags", t("条件"), "unknown_condition",
                         t("方案 {scheme} 没有条件 {unknown}；可用：{names}", scheme=cs.ref,
                           unknown=t("、").join(sorted(unknown)), names=names),
                         "、".join(sorted(unknown)))
    return run_population_stage(cs, PopulationResult(cs.ref, results), explain, payout,
                                keys_known=tie_scores is not None)
