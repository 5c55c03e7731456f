"""A validated scheme turned into closures: the engine's fast, explainable core.

Compiling once per scheme (not per record) is what lets one process score 100,000 records a
second: every part, item and cap becomes a small closure that reads the record's parsed
values; tier bounds, amounts and weights are resolved to Decimals up front. Each closure takes
an optional :class:`Trace`; with ``None`` it only computes, with a Trace it also says what it
did — the same code either way, so the explanation can never disagree with the number.

This module only assembles: each kind of rule is built by its own module, as RULES.md lists
them — :mod:`~xlbridge.engine.parts` (§1 composition), :mod:`~xlbridge.engine.methods`
(§2 one part), :mod:`~xlbridge.engine.adjustments` (§3 bonuses, §4 deductions, every cap),
:mod:`~xlbridge.engine.conditions` (§5), :mod:`~xlbridge.engine.tiers` (§6),
:mod:`~xlbridge.engine.quotas` and :mod:`~xlbridge.engine.ranking` (§7),
:mod:`~xlbridge.engine.payout` (§9), :mod:`~xlbridge.engine.periods` (§10); rounding (§8) is
:mod:`xlbridge.arith`.

All amounts are Decimals; every rounding is explicit and declared by the scheme.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from xlbridge.arith import ZERO, fmt, round_declared, show
from xlbridge.engine.adjustments import ItemFn, build_adjustments
from xlbridge.engine.conditions import compile_conditions
from xlbridge.engine.errors import ScoringError
from xlbridge.engine.fastpath import build_fast_compute
from xlbridge.engine.methods import RANK_KEY, PartFn
from xlbridge.engine.parts import build_container
from xlbridge.engine.tiers import Tier, Tiers
from xlbridge.engine.trace import Trace
from xlbridge.engine.values import FieldError, compile_record_parser
from xlbridge.i18n import N_
from xlbridge.i18n import t as tr  # t is a trace here
from xlbridge.scheme.expr import compile_expr, names_in
from xlbridge.scheme.inputs import InputSpec, scheme_inputs
from xlbridge.scheme.issues import Report, SchemeInvalid
from xlbridge.scheme.load import LoadedScheme, SchemeSource
from xlbridge.scheme.model import RankPart, Rounding, Scheme
from xlbridge.scheme.names import known_names
from xlbridge.scheme.validate import reachable_totals, resolve_parts, validate

__all__ = ["RANK_KEY", "CompiledScheme", "ItemFn", "PartFn", "ScoringError", "Tier",
           "compile_scheme"]


def _rounder(rounding: Rounding | None) -> Callable[[Decimal], Decimal] | None:
    if rounding is None:
        return None
    digits, mode = rounding.digits, rounding.mode
    return lambda x: round_declared(x, digits, mode)


class CompiledScheme:
    """A scheme ready to compute. Build it with :func:`compile_scheme` (which validates)."""

    def __init__(self, scheme: Scheme, report: Report, origin: str = "<scheme>"):
        self.scheme = scheme
        self.report = report
        self.origin = origin
        res = resolve_parts(scheme)
        self.points = res.points
        self.scales = res.scale
        self.inputs: list[InputSpec] = scheme_inputs(scheme, res.points)
        self.input_by_id = {s.id: s for s in self.inputs}
        self._parse = compile_record_parser(self.inputs)
        self._known = known_names("inputs", self.input_by_id)
        self.rank_parts: list[RankPart] = []
        self.part_titles: dict[str, str] = {}
        # every part's and item's closure, for the generated fast path to call
        self.part_fns: dict[str, PartFn] = {}
        self.item_fns: dict[int, ItemFn] = {}
        # Part scores the population stage needs later (tie keys); others are not kept on the
        # fast path, where every dictionary write costs.
        self.kept_parts = set(scheme.quotas.ties.keys) if scheme.quotas else set()
        self._part_rounder = _rounder(scheme.rounding.parts)
        self.round_total = _rounder(scheme.rounding.total)
        self.round_payout = _rounder(scheme.rounding.payout)
        self._parts = build_container(self, scheme.parts, scheme.max_score, "parts", None, None)
        self.parts_fn = self._parts
        self.top_level_plain = all(p.applies_when is None for p in scheme.parts)
        self._bonus = build_adjustments(self, scheme.bonuses, "bonuses", N_("加分")) \
            if scheme.bonuses else None
        self._deduct = build_adjustments(self, scheme.deductions, "deductions", N_("扣分")) \
            if scheme.deductions else None
        inputs = self.input_by_id
        self.grading = Tiers(scheme, known_names("result", inputs))
        self.tiers: list[Tier] = self.grading.list
        self.tier_index = self.grading.index
        self.conditions = compile_conditions(scheme, known_names("result", inputs))
        self.payout_rules = [(r, compile_expr(r.when, known_names("payout", inputs)),
                              frozenset(names_in(r.when)))
                             for r in (scheme.payout.rules if scheme.payout else [])]
        rank_names = known_names("rank", inputs)
        self.rank_rules = [(r, compile_expr(r.when, rank_names) if r.when else None,
                            compile_expr(r.eligible, rank_names) if r.eligible else None)
                           for r in scheme.rank_rules]
        self._fast = build_fast_compute(self)
        # A total given from outside (a template's own score column) must be one the scheme
        # can produce; 0 … max_score is always accepted, whatever the ranges say.
        low, high = reachable_totals(scheme, res)
        self.total_low = min(low, ZERO) if low is not None else None
        self.total_high = max(high, scheme.max_score) if high is not None else None

    def check_total(self, total: Decimal, label: str | None = None) -> Decimal:
        """``total`` if this scheme can produce it, else a FieldError (out_of_range)."""
        low, high = self.total_low, self.total_high
        if (low is not None and total < low) or (high is not None and total > high):
            lo = show(low) if low is not None else "−∞"
            hi = show(high) if high is not None else "+∞"
            raise ScoringError(FieldError(
                "total", label or tr("总分"), "out_of_range",
                tr("超出本方案可能的总分范围 {low} 到 {high}", low=lo, high=hi), show(total)))
        return total

    # ------------------------------------------------------------------ identity

    @property
    def id(self) -> str:
        return self.scheme.id

    @property
    def version(self) -> int:
        return self.scheme.version

    @property
    def ref(self) -> str:
        return self.scheme.ref

    def __repr__(self) -> str:
        return f"<CompiledScheme {self.ref} {self.scheme.title}>"

    # ------------------------------------------------------------------ inputs

    def parse(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
        """Raw values by input id → (typed values, errors). Missing keys read as blank."""
        return self._parse(raw)

    def part_rounder(self, part: Any) -> Callable[[Decimal], Decimal] | None:
        """The rounding a part's score gets: its own, else the scheme's for parts, else none."""
        return _rounder(part.round) or self._part_rounder

    # ------------------------------------------------------------------ the record

    def compute(self, v: dict[str, Any], t: Trace | None) -> Decimal:
        """Parts, bonuses and deductions → rounded total; fills v with the result names."""
        if t is None:
            return self._fast(v)
        subtotal = self._parts(v, t)
        bonus = self._bonus(v, t) if self._bonus else ZERO
        deduct = self._deduct(v, t) if self._deduct else ZERO
        exact = subtotal + bonus - deduct
        total = self.round_total(exact) if self.round_total else exact
        v["subtotal"], v["bonus"], v["deduction"], v["total"] = subtotal, bonus, deduct, total
        expr = f"{show(subtotal)}"
        if self._bonus:
            expr += tr(" + 加分{points}", points=show(bonus))
        if self._deduct:
            expr += tr(" − 扣分{points}", points=show(deduct))
        digits = self.scheme.rounding.total.digits
        text = tr("总分 = {terms}", terms=expr) + (f" = {show(exact)}" if expr != fmt(exact)
                                                  else "")
        if exact != total:
            text += tr("，保留{digits}位小数为 {total}", digits=digits,
                       total=fmt(total, max(digits, 0)))
        t.add("total", "total", tr("总分"), total, text, exact=exact)
        return total

    # ------------------------------------------------------------------ tiers (§6)

    def tier_for(self, total: Decimal, v: Mapping[str, Any] | None,
                 t: Trace | None = None, gates: bool = True) -> str | None:
        """The tier of ``total`` (see :meth:`Tiers.for_record`)."""
        return self.grading.for_record(total, v, t, gates)

    def better(self, a: str, b: str) -> bool:
        return self.grading.better(a, b)

    def next_tier_below(self, label: str) -> str | None:
        return self.grading.below(label)


def compile_scheme(scheme: Scheme | LoadedScheme, source: SchemeSource | None = None
                   ) -> CompiledScheme:
    """Validate a scheme and compile it; raises SchemeInvalid if it has errors."""
    if isinstance(scheme, LoadedScheme):
        source = scheme.source
        scheme = scheme.scheme
    report = validate(scheme, source)
    origin = source.origin if source else scheme.ref
    if not report.ok:
        raise SchemeInvalid(report, origin)
    return CompiledScheme(scheme, report, origin)
