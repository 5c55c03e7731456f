"""Scored records as the columns every output shows: CSV, workbook, 公示 report.

Nothing here computes: every value is a field of the engine's
:class:`~xlbridge.engine.RecordResult` (total, grade, payout, rank, flags, withheld, the
breakdown's steps), rounded for display as the scheme rounds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from xlbridge.arith import fmt
from xlbridge.engine import CompiledScheme, RecordResult
from xlbridge.engine.columns import RESULT_COLUMNS, Column, Unavailable, value_of
from xlbridge.i18n import current_language, t
from xlbridge.scheme.inputs import InputSpec

#: The result columns every file output writes, in order (the engine's vocabulary).
RESULT_KINDS: tuple[str, ...] = tuple(RESULT_COLUMNS)


def result_headers(kinds: Sequence[str] = RESULT_KINDS) -> list[str]:
    """The result columns' headers: the Chinese ones (总分, 等次 …), or in English the
    engine's English names (total, grade …); both are read back by every face."""
    pick = -1 if current_language() == "en" else 0
    return [RESULT_COLUMNS[k][pick] for k in kinds]


def data_errors(r: RecordResult) -> str:
    """A bad record's errors, one sentence per line."""
    return "\n".join(str(e) for e in r.errors)


def cell_value(cs: CompiledScheme, r: RecordResult, kind: str) -> Any:
    """The engine's value of one result column (:func:`xlbridge.engine.columns.value_of`);
    a value that cannot be given (bad data, withheld, no payouts) is blank (None)."""
    value = value_of(cs, r, Column(kind))
    return None if isinstance(value, Unavailable) or value == "" else value


def result_texts(cs: CompiledScheme, r: RecordResult,
                 kinds: Sequence[str] = RESULT_KINDS) -> list[str]:
    """One record's result columns as text (CSV), numbers rounded as the scheme rounds."""
    rounding = cs.scheme.rounding
    digits = {"total": rounding.total.digits if rounding.total else None,
              "payout": rounding.payout.digits if rounding.payout else 2, "rank": 0}
    out = []
    for kind in kinds:
        value = cell_value(cs, r, kind)
        if isinstance(value, Decimal):
            out.append(fmt(value, digits.get(kind)))
        else:
            out.append("" if value is None else str(value))
    return out


def number_format(digits: int | None) -> str:
    """The Excel number format that shows ``digits`` places (as the scheme rounds)."""
    if digits is None:
        return "General"
    return "0" if digits <= 0 else "0." + "0" * digits


def name_input(cs: CompiledScheme) -> InputSpec | None:
    """The input that names a record (单位/姓名/科室): the first text input."""
    return next((s for s in cs.inputs if s.type == "text"), None)




def reason(r: RecordResult) -> str:
    """Why a record's grade is what it is when not by its score alone: a veto or forced
    grade, a quota move, a tie at a quota line, no grade, withheld results, bad data. The
    engine's own sentences (scored with explain=True); empty when the score decided."""
    if r.errors:
        return data_errors(r).replace("\n", t("；"))
    if r.withheld:
        return r.withheld
    texts = [s.text for s in (r.steps or []) if s.kind in ("condition", "tie")]
    if r.tier and r.grade and r.tier != r.grade:
        # the quota lines the record did not stay within (a "kept" line names its grade)
        texts += [s.text for s in (r.steps or []) if s.kind == "quota" and s.path != r.grade]
    if r.no_grade and not texts:
        texts.append(r.no_grade)
    return t("；").join(dict.fromkeys(texts))


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
    return float(value) if isinstance(value, Decimal) else value
