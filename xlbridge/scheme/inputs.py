"""The inputs a scheme reads — the columns a clerk fills in — derived from its rules.

Parts, bonus and deduction items declare their inputs implicitly (a ratio part reads an
actual value and a target; a per-level bonus reads one count per level); this module spells
them out once, in document order, with an id (stable, used in CSV headers and conditions), a
Chinese label (what a template's header says), a type and bounds. The validator checks them
for clashes, the engine parses records by them, the CLI and worksheet functions map columns
to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from xlbridge.scheme.model import (
    Adjustments,
    CompositePart,
    DeductionPart,
    DirectPart,
    GradePart,
    InputField,
    Item,
    Period,
    RankPart,
    RatePart,
    RatingPart,
    RatioPart,
    Scheme,
)


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input column: what it is called, what it holds, which rule reads it."""

    id: str
    label: str
    type: str                 # number | count | bool | label | text
    path: str                 # where in the scheme it comes from, e.g. parts[0].parts[2]
    min: Decimal | None = None
    max: Decimal | None = None
    labels: tuple[str, ...] | None = None
    blank: str = "error"      # error | zero | false | empty
    optional: bool = False    # may be blank when the rule does not apply (targets, evidence)
    conditional: bool = False  # read by a part that may not apply: a sheet for records it
    #                            never applies to (another kind of unit) may lack the column

    @property
    def header(self) -> str:
        return self.label


def part_periods(scheme: Scheme, part: object) -> list[Period]:
    periods = getattr(part, "periods", None)
    if periods is None:
        return []
    if isinstance(periods, str):
        return list(scheme.period_sets.get(periods, []))
    return list(periods)


def part_scale(part: object, points: Decimal) -> Decimal:
    scale = getattr(part, "scale", None)
    return scale if scale is not None else points


def scheme_inputs(scheme: Scheme, resolved_points: dict[str, Decimal] | None = None
                  ) -> list[InputSpec]:
    """Every input of the scheme, in the order a template would lay them out."""
    specs: list[InputSpec] = []
    points = resolved_points or {}
    count_blank = "zero" if scheme.blank_counts == "zero" else "error"

    def walk(parts: list, base: str, conditional: bool = False) -> None:
        for i, part in enumerate(parts):
            path = f"{base}[{i}]"
            # Inputs of a part that may not apply may be left blank; the engine insists on
            # them only when the part applies.
            cond = conditional or part.applies_when is not None
            if isinstance(part, CompositePart):
                walk(part.parts, f"{path}.parts", cond)
                for name in ("bonuses", "deductions"):
                    adj = getattr(part, name)
                    if adj:
                        specs.extend(replace(spec, conditional=True) if cond else spec
                                     for spec in _adjustment_inputs(adj, f"{path}.{name}",
                                                                    count_blank))
                continue
            periods = part_periods(scheme, part) or [None]
            scale = part_scale(part, points.get(part.id, part.points or Decimal(0)))
            for period in periods:
                pid = part.id if period is None else f"{part.id}_{period.id}"
                title = part.title if period is None else f"{part.title}·{period.label}"
                for spec in _leaf_inputs(part, pid, title, path, scale, count_blank):
                    if cond:
                        spec = replace(spec, optional=spec.optional or spec.blank == "error",
                                       conditional=True)
                    specs.append(spec)

    # Declared inputs first: they hold who the record is (name, category) and the facts
    # conditions read, which is how templates lay out their left-hand columns.
    for i, field in enumerate(scheme.inputs):
        specs.append(_declared(field, f"inputs[{i}]"))
    walk(scheme.parts, "parts")
    for name in ("bonuses", "deductions"):
        adj = getattr(scheme, name)
        if adj:
            specs.extend(_adjustment_inputs(adj, name, count_blank))
    return specs


def _declared(field: InputField, path: str) -> InputSpec:
    return InputSpec(field.id, field.label, field.type, path, field.min, field.max,
                     tuple(field.labels) if field.labels else None, field.blank)


def _leaf_inputs(part: object, pid: str, title: str, path: str, scale: Decimal,
                 count_blank: str) -> Iterator[InputSpec]:
    if isinstance(part, DirectPart):
        low = part.min if part.min is not None else Decimal(0)
        yield InputSpec(pid, title, "number", path, low, scale)
    elif isinstance(part, RatioPart):
        yield InputSpec(f"{pid}_actual", f"{title}·实际完成", "number", path, Decimal(0))
        if part.target is None:
            yield InputSpec(f"{pid}_target", f"{title}·目标值", "number", path, Decimal(0))
    elif isinstance(part, RatePart):
        yield InputSpec(f"{pid}_num", f"{title}·{part.numerator}", "count", path)
        yield InputSpec(f"{pid}_den", f"{title}·{part.denominator}", "count", path)
        if part.allowance:
            yield InputSpec(f"{pid}_excused", f"{title}·{part.allowance.label}", "count", path,
                            blank=count_blank)
    elif isinstance(part, RatingPart):
        if part.votes:
            for label in part.values:
                yield InputSpec(f"{pid}_{label}", f"{title}·{label}(票)", "count", path,
                                blank=count_blank)
        else:
            yield InputSpec(pid, title, "label", path, labels=tuple(part.values))
    elif isinstance(part, GradePart):
        yield InputSpec(pid, title, "label", path, labels=tuple(part.values))
    elif isinstance(part, RankPart):
        yield InputSpec(pid, f"{title}(原始分)", "number", path)
    elif isinstance(part, DeductionPart):
        for j, item in enumerate(part.items):
            yield from item_inputs(item, f"{path}.items[{j}]", count_blank)


def _adjustment_inputs(adj: Adjustments, path: str, count_blank: str) -> Iterator[InputSpec]:
    for j, item in enumerate(adj.items):
        yield from item_inputs(item, f"{path}.items[{j}]", count_blank)
    for c, cat in enumerate(adj.categories):
        for j, item in enumerate(cat.items):
            yield from item_inputs(item, f"{path}.categories[{c}].items[{j}]", count_blank)


def item_inputs(item: Item, path: str, count_blank: str) -> Iterator[InputSpec]:
    if item.reads is not None:
        return  # shares another item's column
    if item.input == "count":
        # with an escalation, the plain column holds the rectified occurrences only
        done = "·已整改" if item.escalation else ""
        if item.levels:
            for level in item.levels:
                yield InputSpec(f"{item.id}_{level}", f"{item.title}·{level}{done}({item.unit})",
                                "count", path, blank=count_blank)
        else:
            yield InputSpec(item.id, f"{item.title}{done}({item.unit})", "count", path,
                            blank=count_blank)
        if item.escalation:
            # one extra count per level (or one for a flat amount): occurrences not rectified
            for level in item.levels or [None]:
                suffix = f"_{level}" if level else ""
                title = f"·{level}" if level else ""
                yield InputSpec(f"{item.id}{suffix}_unrectified",
                                f"{item.title}{title}·{item.escalation.label}({item.unit})",
                                "count", path, blank=count_blank)
    elif item.input == "list":
        yield InputSpec(item.id, item.title, "text", path, blank="empty")
    elif item.input == "points":
        yield InputSpec(item.id, f"{item.title}(分)", "number", path,
                        item.min if item.min is not None else Decimal(0), item.max,
                        blank="zero" if count_blank == "zero" else "error")
    else:  # growth
        yield InputSpec(item.id, f"{item.title}(增长%，下降为负)", "number", path, None, None,
                        blank="zero" if count_blank == "zero" else "error")
    if item.evidence:
        yield InputSpec(f"{item.id}_evidence", f"{item.title}·书面依据", "text", path,
                        blank="empty", optional=True)
