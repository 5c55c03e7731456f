"""The breakdown of a score: every part, cap, bonus kept or dropped, gate, veto and quota line.

Offices publish results (公示) and answer appeals, so every number must say where it came
from. The engine records :class:`Step` s only when asked (``explain=True``): the fast path
that scores 100,000 records builds none of them, and both paths run the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlbridge.arith import fmt


@dataclass(slots=True)
class Step:
    """One line of a breakdown.

    ``kind`` is a stable machine name (part, period, item, cap, dropped, rescale,
    not_applicable, knockout, adjustments, total, condition, gate, tier, quota, tie, rank,
    flag, payout, prize, derived); ``text`` is the Chinese sentence shown to people.
    """

    kind: str
    path: str
    title: str
    value: Decimal | None
    text: str
    depth: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "path": self.path, "title": self.title,
                               "value": None if self.value is None else fmt(self.value),
                               "text": self.text}
        if self.data:
            out["data"] = {k: (fmt(v) if isinstance(v, Decimal) else v)
                           for k, v in self.data.items()}
        return out


class Trace:
    """Collects steps; ``depth`` indents nested parts when rendered."""

    __slots__ = ("depth", "steps")

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.depth = 0

    def add(self, kind: str, path: str, title: str, value: Decimal | None, text: str,
            **data: Any) -> Step:
        step = Step(kind, path, title, value, text, self.depth, data)
        self.steps.append(step)
        return step

    def nested(self) -> _Nest:
        return _Nest(self)


class _Nest:
    __slots__ = ("trace",)

    def __init__(self, trace: Trace):
        self.trace = trace

    def __enter__(self) -> None:
        self.trace.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.trace.depth -= 1


def render(steps: list[Step]) -> str:
    """The breakdown as indented Chinese text, one step per line."""
    return "\n".join("  " * s.depth + s.text for s in steps)
