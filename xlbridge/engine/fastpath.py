"""Straight-line Python for the common shapes of a scheme: the engine's fast path.

Scoring 100,000 records a second leaves about ten microseconds a record, and a tree of
closures spends much of that calling closures. For the shapes that make up most schemes —
direct scores, deduction-based parts of per-occurrence items, composites without
applicability rules, bonus and deduction groups with category and overall caps — this module
writes one Python function per scheme that does the arithmetic inline, the way a programmer
would write it by hand for that scheme. Any other node (ratios, ratings, ranks, periods,
parts that may not apply, list/growth/conditional items…) is called through the same closure
the traced path uses, so nothing is implemented twice beyond plain sums and caps.

The traced path (``explain=True``) never uses this code; ``tests/engine/test_fast_vs_traced.py``
checks the two agree on random records of every shipped scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlbridge.arith import ONE, ZERO
from xlbridge.scheme.model import Adjustments, CompositePart, DeductionPart, DirectPart, Item

if TYPE_CHECKING:
    from xlbridge.engine.compiled import CompiledScheme

#: Prefix of the keys under which part scores are kept in a record's values (for tie keys,
#: and all of them when explaining): values["part:attendance"]. Flat keys, not a nested dict,
#: so that keeping a score allocates nothing.
PART_PREFIX = "part:"


def plain_item(item: Item) -> bool:
    """count × amount (per level or flat), no condition, cap, escalation or evidence."""
    return (item.input == "count" and not item.highest_only and item.escalation is None
            and item.when is None and not item.evidence and item.cap is None
            and item.cap_share is None)


def item_columns(item: Item) -> list[str]:
    """Every input column an item reads."""
    column = item.reads or item.id
    if item.input != "count":
        return [column]
    columns = [c for c, _ in item_pairs(item)]
    if item.escalation is not None:
        columns += [f"{c}_unrectified" for c in columns]
    return columns


def item_pairs(item: Item) -> list[tuple[str, Decimal]]:
    column = item.reads or item.id
    if item.levels:
        return [(f"{column}_{lv}", amount) for lv, amount in item.levels.items()]
    return [(column, item.amount or ZERO)]


class _Writer:
    def __init__(self, cs: CompiledScheme):
        self.cs = cs
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {"ZERO": ZERO}
        self.counter = 0

    def var(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: Any, prefix: str = "K") -> str:
        name = self.var(prefix)
        self.consts[name] = value
        return name

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)

    # ------------------------------------------------------------------ items

    def items_sum(self, items: list[Item]) -> str:
        total = self.var("s")
        self.emit(f"{total} = ZERO")
        for item in items:
            if plain_item(item):
                for column, amount in item_pairs(item):
                    n = self.var("n")
                    self.emit(f"{n} = v[{column!r}]")
                    self.emit(f"if {n}:")
                    self.emit(f"    {total} += {n} * {self.const(amount, 'A')}")
            else:
                # an item whose cells are all empty or 0 gives nothing, whatever its
                # condition, cap or evidence: skip the call for the common empty record
                fn = self.const(self.cs.item_fns[id(item)], "I")
                guard = " or ".join(f"v[{c!r}]" for c in item_columns(item))
                self.emit(f"if {guard}:")
                self.emit(f"    {total} += {fn}(v, None)")
        return total

    def capped(self, value: str, cap: Decimal | None) -> None:
        if cap is not None:
            c = self.const(cap, "C")
            self.emit(f"if {value} > {c}:")
            self.emit(f"    {value} = {c}")

    def adjustments(self, adj: Adjustments) -> str:
        total = self.items_sum(adj.items)
        for cat in adj.categories:
            sub = self.items_sum(cat.items)
            self.capped(sub, cat.cap)
            self.emit(f"{total} += {sub}")
        self.capped(total, adj.cap)
        return total

    # ------------------------------------------------------------------ parts

    def generatable(self, part: Any) -> bool:
        if part.periods is not None or part.applies_when is not None:
            return False
        if isinstance(part, DirectPart):
            return True
        if isinstance(part, DeductionPart):
            return True
        if isinstance(part, CompositePart):
            return all(self.generatable(c) for c in part.parts)
        return False

    def part(self, part: Any) -> str:
        """Emit code for one part; returns the variable holding its contribution."""
        cs = self.cs
        out = self.var("p")
        if not self.generatable(part):
            fn = self.const(cs.part_fns[part.id], "P")
            self.emit(f"{out} = {fn}(v, None)")
            return out  # the closure rounds and keeps the score itself
        scale = cs.scales[part.id]
        if isinstance(part, DirectPart):
            self.emit(f"{out} = v[{part.id!r}]")
        elif isinstance(part, DeductionPart):
            self.deduction(part, out, scale)
        else:
            assert isinstance(part, CompositePart)
            children = [self.part(c) for c in part.parts]
            self.emit(f"{out} = {' + '.join(children)}")
            if part.bonuses:
                self.emit(f"{out} += {self.adjustments(part.bonuses)}")
            if part.deductions:
                self.emit(f"{out} -= {self.adjustments(part.deductions)}")
        points = cs.points[part.id]
        factor = points / scale if scale else ZERO
        if factor != ONE:
            self.emit(f"{out} = {out} * {self.const(factor, 'F')}")
        rounder = cs.part_rounder(part)
        if rounder is not None:
            self.emit(f"{out} = {self.const(rounder, 'R')}({out})")
        if part.id in cs.kept_parts:
            self.emit(f"v[{PART_PREFIX + part.id!r}] = {out}")
        return out

    def deduction(self, part: DeductionPart, out: str, scale: Decimal) -> None:
        floor = self.const(part.floor, "L")
        knockouts = [item for item in part.items if item.knockout is not None]
        indent = 1
        if knockouts:
            checks = []
            for item in knockouts:
                columns = [c for c, _ in item_pairs(item)]
                total = " + ".join(f"v[{c!r}]" for c in columns)
                checks.append(f"({total}) >= {self.const(item.knockout, 'N')}")
            self.emit(f"if {' or '.join(checks)}:")
            self.emit(f"    {out} = {floor}")
            self.emit("else:")
            indent = 2
        start = len(self.lines)
        total = self.items_sum(part.items)
        self.capped(total, part.cap)
        self.emit(f"{out} = {self.const(scale, 'S')} - {total}")
        self.emit(f"if {out} < {floor}:")
        self.emit(f"    {out} = {floor}")
        if indent == 2:  # indent the body under the else
            self.lines[start:] = ["    " + line for line in self.lines[start:]]


def build_fast_compute(cs: CompiledScheme) -> Callable[[dict[str, Any]], Decimal]:
    """``fn(values) -> total`` for the fast path; fills values like CompiledScheme.compute."""
    w = _Writer(cs)
    scheme = cs.scheme
    parts = [w.part(p) for p in scheme.parts] if cs.top_level_plain else None
    if parts is None:
        fn = w.const(cs.parts_fn, "T")
        w.emit(f"sub = {fn}(v, None)")
    else:
        w.emit(f"sub = {' + '.join(parts)}")
    bonus = w.adjustments(scheme.bonuses) if scheme.bonuses else "ZERO"
    deduct = w.adjustments(scheme.deductions) if scheme.deductions else "ZERO"
    w.emit(f"exact = sub + {bonus} - {deduct}")
    if cs.round_total is not None:
        w.emit(f"total = {w.const(cs.round_total, 'R')}(exact)")
    else:
        w.emit("total = exact")
    w.emit(f"v['subtotal'] = sub; v['bonus'] = {bonus}; v['deduction'] = {deduct}; "
           "v['total'] = total")
    w.emit("return total")
    source = "def compute(v):\n" + "\n".join(w.lines) + "\n"
    namespace = dict(w.consts)
    exec(compile(source, f"<xlbridge fast path {scheme.ref}>", "exec"), namespace)
    compute = namespace["compute"]
    compute.source = source  # for debugging: print(cs._fast.source)
    return compute
