"""Aggregation over periods: an annual grade from quarterly (or monthly) grades (RULES §10).

'三次及以上优秀 → 年度优秀 within the annual quota; 两次及以上不称职 → 不称职; 一次 → 基本称职'
(004:527). Each record holds its period grades (columns named by the period ids: Q1…Q4) and,
optionally, its period totals (Q1_total…) used to order candidates for the quota.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlbridge.arith import ZERO
from xlbridge.engine.compiled import CompiledScheme
from xlbridge.engine.groups import rows_text
from xlbridge.engine.quotas import cut, places_text
from xlbridge.engine.record import NO_GRADE, row_numbers
from xlbridge.engine.values import FieldError, make_parser
from xlbridge.i18n import t
from xlbridge.scheme.expr import compile_expr
from xlbridge.scheme.inputs import InputSpec
from xlbridge.scheme.model import TieRule


@dataclass
class AggregateResult:
    row: int | None
    values: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)
    grade: str | None = None
    rule: str | None = None
    steps: list[str] = field(default_factory=list)
    withheld: str | None = None        # the quota cannot be decided yet, and why

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "ok": self.ok, "errors": [e.to_dict() for e in self.errors],
                "grade": self.grade, "rule": self.rule, "withheld": self.withheld,
                "explain": self.steps}


@dataclass
class AggregationResult:
    title: str
    records: list[AggregateResult]
    notes: list[str] = field(default_factory=list)

    def grade_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.records:
            if r.ok:
                counts[r.grade or "—"] = counts.get(r.grade or "—", 0) + 1
        return counts


def aggregation_inputs(cs: CompiledScheme) -> list[InputSpec]:
    """Columns of an aggregation sheet: each period's grade, optionally its total."""
    agg = cs.scheme.aggregation
    if agg is None:
        return []
    labels = (*tuple(tier.label for tier in cs.tiers), NO_GRADE)
    specs = []
    for p in agg.periods:
        specs.append(InputSpec(p, f"{p}等次", "label", "aggregation.periods", labels=labels))
        specs.append(InputSpec(f"{p}_total", f"{p}得分", "number", "aggregation.periods",
                               optional=True))
    return specs


def aggregate_periods(cs: CompiledScheme, records: Iterable[Mapping[str, Any]], *,
                      first_row: int | Sequence[int] = 1) -> AggregationResult:
    agg = cs.scheme.aggregation
    if agg is None:
        raise ValueError(t("方案 {scheme} 没有规定跨期汇总（aggregation）", scheme=cs.ref))
    specs = aggregation_inputs(cs)
    parsers = [(s.id, make_parser(s)) for s in specs]
    results: list[AggregateResult] = []
    for row, raw in zip(row_numbers(first_row), records, strict=False):
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        for key, parser in parsers:
            try:
                values[key] = parser(raw.get(key))
            except FieldError as exc:
                errors.append(exc)
        results.append(AggregateResult(row, values, errors))

    def counter(env: Mapping[str, Any], label: str) -> Decimal:
        return Decimal(sum(1 for p in agg.periods if env[p] == label))

    rules = [(r, compile_expr(r.when, {"n"}, {"count": counter})) for r in agg.rules]
    candidates: list[AggregateResult] = []
    for r in results:
        if r.errors:
            continue
        env = dict(r.values)
        env["n"] = Decimal(len(agg.periods))
        grades = t("、").join(f"{p}{r.values[p]}" for p in agg.periods)
        r.steps.append(t("各期等次：{grades}", grades=grades))
        for rule, when in rules:
            if when(env):
                r.rule = rule.when
                if rule.within_quota:
                    candidates.append(r)
                    r.steps.append(t("符合“{when}” → “{grade}”（须在名额内）", when=rule.when,
                                     grade=rule.grade))
                else:
                    r.steps.append(t("符合“{when}” → “{grade}”", when=rule.when,
                                     grade=rule.grade))
                r.grade = rule.grade
                break
        else:
            r.grade = agg.otherwise
            r.steps.append(t("不符合上述条件 → “{grade}”", grade=agg.otherwise))
    result = AggregationResult(agg.title, results)
    if agg.quota and candidates:
        bad = [r.row for r in results if r.errors]
        if bad:
            # the quota counts everyone: with a bad row its size and line are unknown, as
            # in score_population; the candidates wait for the fix, the others keep theirs
            why = t("第 {rows} 行数据有误，名额无法确定", rows=rows_text(bad))
            for r in candidates:
                r.grade, r.withheld = None, why
                r.steps.append(t("暂缓：{reason}", reason=why))
            result.notes.append(t("“{grade}”名额暂缓：{reason}", grade=agg.quota.tier,
                                  reason=why))
        else:
            _quota(cs, result, candidates)
    return result


def _quota(cs: CompiledScheme, result: AggregationResult,
           candidates: list[AggregateResult]) -> None:
    agg = cs.scheme.aggregation
    assert agg is not None and agg.quota is not None
    quota = agg.quota
    n = sum(1 for r in result.records if r.ok)
    places, basis = places_text(quota.share, quota.count, n, quota.rounding)
    top = cs.tiers[0].label if cs.tiers else None

    def totals(r: AggregateResult) -> Decimal:
        return sum((r.values.get(f"{p}_total") or ZERO for p in agg.periods), ZERO)

    if agg.rank_by == "count_top":
        def key(r: AggregateResult) -> Decimal:
            return Decimal(sum(1 for p in agg.periods if r.values[p] == top))

        def then_by(r: AggregateResult) -> tuple:
            return (totals(r),)
        c = cut(candidates, places, key, TieRule(rule="keys", keys=["sum_total"],
                                                 then=_then(quota.ties)), then_by)
    else:
        c = cut(candidates, places, totals, TieRule(rule=_then(quota.ties)))
    kept, out = c.kept, c.out
    if c.tied:
        rows = t("、").join(str(r.row) for r in c.tied)
        how = t("按各期得分合计比较") if c.rule == "keys" else \
            t("按规则全部入选") if c.rule == "all_in" else t("按规则全部不入选")
        got = t("、").join(str(r.row) for r in c.tied if any(r is k for k in kept)) or t("无")
        result.notes.append(t("名额线上并列：第 {rows} 行，{how}：入选 第 {got} 行", rows=rows,
                              how=how, got=got))
    result.notes.append(t("“{grade}”名额：{basis}；候选 {candidates} 人，入选 {kept} 人",
                          grade=quota.tier, basis=basis, candidates=len(candidates),
                          kept=len(kept)))
    for position, r in enumerate(kept, start=1):
        r.steps.append(t("名额 {places}，名列第 {position}，确定为“{grade}”", places=places,
                         position=position, grade=quota.tier))
    for r in out:
        r.grade = quota.fallback
        r.steps.append(t("超出名额 {places}，确定为“{grade}”", places=places,
                         grade=quota.fallback))


def _then(ties: TieRule) -> str:
    """What an annual quota does when candidates still tie: its rule (keys make no sense
    for period grades, so a keys rule falls to its ``then``)."""
    return ties.rule if ties.rule != "keys" else (ties.then or "all_out")
