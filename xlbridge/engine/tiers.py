"""Grade tiers (等次, RULES §6): which tier holds a rounded total, and the gates on a tier.

Every bound states inclusive or exclusive and the total is rounded first (RULES §8), so 89.95
and 90.0 land where the scheme says. A gate (``requires``: "优秀须同时符合…", 002:249) takes
away its tier only: a record that fails it gets the best lower tier whose own gates pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlbridge.engine.trace import Trace
from xlbridge.i18n import t as tr  # t is a trace here
from xlbridge.scheme.expr import Evaluator, compile_expr, names_in
from xlbridge.scheme.model import Scheme
from xlbridge.scheme.names import input_names
from xlbridge.scheme.validate import TierSpan, tier_span


@dataclass(frozen=True)
class Tier:
    label: str
    span: TierSpan
    gates: tuple[tuple[str, Evaluator], ...]

    def describe(self) -> str:
        """The tier's bounds as a clerk reads them (``≥90 且 <95``)."""
        return self.span.text()


class Tiers:
    """A scheme's tiers, best first, ready to look up."""

    def __init__(self, scheme: Scheme, names: frozenset[str]):
        self.list = [Tier(t.label, tier_span(i, t, scheme.max_score),
                          tuple((g, compile_expr(g, names)) for g in t.requires))
                     for i, t in enumerate(scheme.tiers)]
        self.index = {t.label: i for i, t in enumerate(self.list)}
        # flat bounds for the common, gate-free look-up
        self._bounds = [(t.span.low, t.span.low_inclusive, t.span.high, t.span.high_inclusive,
                         t.label) for t in self.list]
        self.any_gates = any(t.gates for t in self.list)
        #: tier label → the inputs its gates read (a total alone cannot tell whether they hold)
        self.gate_inputs: dict[str, frozenset[str]] = {
            t.label: input_names(n for g, _fn in t.gates for n in names_in(g))
            for t in self.list if t.gates}

    def by_score(self, total: Decimal) -> str | None:
        """The tier whose bounds hold ``total``, gates not considered."""
        for low, low_in, high, high_in, label in self._bounds:
            if low is not None and (total < low or (not low_in and total == low)):
                continue
            if high is not None and (total > high or (not high_in and total == high)):
                continue
            return label
        return None

    def for_record(self, total: Decimal, v: Mapping[str, Any] | None,
                   t: Trace | None = None, gates: bool = True) -> str | None:
        """The tier whose bounds hold ``total``; if its gates fail, the next tier down.

        ``v=None`` or ``gates=False`` grades by the total alone (gates taken as met).
        """
        if not gates or v is None or not self.any_gates:
            return self.by_score(total)
        for i, tier in enumerate(self.list):
            if not tier.span.contains(total):
                continue
            for lower in self.list[i:]:
                failed = [g for g, fn in lower.gates if not fn(v)]
                if not failed:
                    return lower.label
                if t:
                    t.add("gate", lower.label, lower.label, None,
                          tr("不满足“{grade}”的条件：{failed}", grade=lower.label,
                             failed=tr("；").join(failed)),
                          failed=failed)
            return None
        return None

    def better(self, a: str, b: str) -> bool:
        """Is tier ``a`` better than tier ``b``?"""
        return self.index[a] < self.index[b]

    def below(self, label: str) -> str | None:
        """The tier right below ``label`` (None below the last)."""
        i = self.index[label] + 1
        return self.list[i].label if i < len(self.list) else None

    def demote(self, label: str, v: Mapping[str, Any]) -> str | None:
        """The best tier below ``label`` whose gates ``v`` passes (a quota moving a record
        down may not land it in a tier it is not eligible for)."""
        lower = self.below(label)
        while lower is not None:
            if all(fn(v) for _g, fn in self.list[self.index[lower]].gates):
                return lower
            lower = self.below(lower)
        return lower
