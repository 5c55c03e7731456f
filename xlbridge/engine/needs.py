"""What a result needs besides a total: the facts a grade or a payout depends on.

A worksheet function given only a score (``PERF_GRADE(88, 方案)``) or only a grade
(``PERF_BONUS("优秀", 方案)``) can give exactly the engine's result only if nothing else the
scheme reads could change it. This module says, from the scheme alone, what else could: tier
gates and conditions that read a record's inputs, payout rules that read them, quotas counted
per group. The faces refuse (with these descriptions) instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xlbridge.engine.conditions import changes_grade
from xlbridge.i18n import N_, gettext, t
from xlbridge.scheme.expr import names_in

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme

#: What the engine knows of a record when only its total is given.
TOTAL_ONLY = frozenset({"total"})


@dataclass(frozen=True)
class Hidden:
    """One rule whose outcome a total (or a grade) alone cannot tell."""

    kind: str                 # gate | condition | payout_rule
    id: str                   # tier label, condition id or payout rule id
    title: str                # what a clerk calls it
    reads: tuple[str, ...]    # the labels of what it reads besides the total

    def text(self) -> str:
        return t("{title}（读取：{reads}）", title=self.title, reads=t("、").join(self.reads))


#: the result names a rule may read beside the inputs, as message ids
_RESULT_WORDS = {"subtotal": N_("各项小计"), "bonus": N_("加分"), "deduction": N_("扣分"),
                 "grade": N_("等次"), "rank": N_("排名"), "group_size": N_("组内人数")}


def _labels(cs: CompiledScheme, names: set[str]) -> tuple[str, ...]:
    return tuple(sorted(cs.input_by_id[n].label if n in cs.input_by_id
                        else gettext(_RESULT_WORDS[n]) if n in _RESULT_WORDS else n
                        for n in names))


def hidden_gates(cs: CompiledScheme) -> list[Hidden]:
    """Tier gates (``requires``) that read more than the total."""
    out = []
    for tier in cs.tiers:
        reads = {n for g, _fn in tier.gates for n in names_in(g)} - TOTAL_ONLY
        if reads:
            out.append(Hidden("gate", tier.label,
                              t("“{grade}”须满足 {gates}", grade=tier.label,
                                gates=t("、").join(g for g, _ in tier.gates)),
                              _labels(cs, reads)))
    return out


def hidden_conditions(cs: CompiledScheme) -> list[Hidden]:
    """Conditions that change a grade (veto, forced grade, no grade) and read more than the
    total: whether they hold must be told (``flags``) or read from the record."""
    out = []
    for cond, _when in cs.conditions:
        reads = names_in(cond.when) - TOTAL_ONLY
        if changes_grade(cond) and reads:
            out.append(Hidden("condition", cond.id, cond.title, _labels(cs, reads)))
    return out


def hidden_payout_rules(cs: CompiledScheme, grade: str | None) -> list[Hidden]:
    """Payout rules that may change what ``grade`` pays and read more than the grade."""
    out = []
    for rule, _when, needs in cs.payout_rules:
        reads = set(needs) - {"grade"} - TOTAL_ONLY
        if rule.pro_rata is not None:       # months served: an input the rule reads too
            reads.add(rule.pro_rata.months)
        if (rule.grades is None or grade in rule.grades) and reads:
            out.append(Hidden("payout_rule", rule.id, rule.title, _labels(cs, reads)))
    return out


def quota_group_keys(cs: CompiledScheme) -> list[str]:
    """The inputs a scheme's quotas are counted within (empty: the whole population)."""
    quotas = cs.scheme.quotas
    if quotas is None:
        return []
    return list(quotas.group_by if quotas.group_by is not None else cs.scheme.groups)


def group_labels(cs: CompiledScheme, keys: list[str]) -> str:
    return t("、").join(cs.input_by_id[k].label if k in cs.input_by_id else k for k in keys)
