"""Scored records as the columns every output shows: CSV, workbook, 公示 report.

Nothing here computes: every value is a field of the engine's
:class:`~xlbridge.engine.RecordResult` (total, grade, payout, rank, flags, withheld, the
breakdown's steps), rounded for display as the scheme rounds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xlbridge.arith import fmt
from xlbridge.engine import CompiledScheme, RecordResult
from xlbridge.engine.trace import render
from xlbridge.i18n import N_, gettext
from xlbridge.scheme.inputs import InputSpec

#: The result columns, in order: (key, header). Headers are Chinese by default.
RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("total", N_("总分")), ("grade", N_("等次")), ("payout", N_("奖金")),
    ("rank", N_("排名")), ("flags", N_("标记")), ("withheld", N_("暂缓原因")),
    ("explain", N_("计分明细")),
)


def result_headers() -> list[str]:
    return [gettext(h) for _k, h in RESULT_COLUMNS]


def data_errors(r: RecordResult) -> str:
    """A bad record's errors, one sentence per line."""
    return "\n".join(str(e) for e in r.errors)


def result_texts(cs: CompiledScheme, r: RecordResult) -> list[str]:
    """One record's result columns as text (CSV), in :data:`RESULT_COLUMNS` order."""
    rounding = cs.scheme.rounding
    return [fmt(r.total, rounding.total.digits) if r.total is not None else "", r.grade_text,
            fmt(r.payout, rounding.payout.digits) if r.payout is not None else "",
            str(r.rank or ""), "；".join(r.flags), r.withheld or "",
            data_errors(r) if r.errors else render(r.steps or [])]


def number_format(digits: int | None) -> str:
    """The Excel number format that shows ``digits`` places (as the scheme rounds)."""
    if digits is None:
        return "General"
    return "0" if digits <= 0 else "0." + "0" * digits


def name_input(cs: CompiledScheme) -> InputSpec | None:
    """The input that names a record (单位/姓名/科室): the first text input."""
    return next((s for s in cs.inputs if s.type == "text"), None)


#: The kinds of breakdown steps that say why a record's grade is not its score's tier.
REASON_STEPS = ("condition", "quota", "tie")


def reason(r: RecordResult) -> str:
    """Why a record's grade is what it is when not by its score alone: a veto or forced
    grade, a quota move, a tie at a quota line, no grade, withheld results, bad data. The
    engine's own sentences (scored with explain=True); empty when the score decided."""
    if r.errors:
        return data_errors(r).replace("\n", "；")
    if r.withheld:
        return r.withheld
    texts = [s.text for s in (r.steps or []) if s.kind in ("condition", "tie")]
    if r.tier and r.grade and r.tier != r.grade:
        # the quota lines the record did not stay within (a "kept" line names its grade)
        texts += [s.text for s in (r.steps or []) if s.kind == "quota" and s.path != r.grade]
    if r.no_grade and not texts:
        texts.append(r.no_grade)
    return "；".join(dict.fromkeys(texts))


def group_label(r: RecordResult, keys: Sequence[str]) -> str:
    """The record's group as the clerk reads it (``科级干部``, ``部门/社区``)."""
    if r.group:
        return "/".join(r.group)
    return "/".join(str(r.values.get(k) or "") for k in keys)


def group_title(cs: CompiledScheme) -> str:
    """The groups' Chinese name (the labels of the group inputs: ``考核类别``)."""
    labels = [cs.input_by_id[k].label if k in cs.input_by_id else k
              for k in cs.scheme.groups]
    return "/".join(labels)


def as_cell(value: Any) -> Any:
    """A Decimal as a float for a workbook cell (exact to 15 digits, as Excel keeps it)."""
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value
