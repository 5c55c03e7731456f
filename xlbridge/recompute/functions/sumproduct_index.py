"""The conditional SUMPRODUCT idiom ``SUMPRODUCT((r1=x)*(r2>y)[*values])`` answered from
hash and sorted indexes (the compiler's fast path for SUMPRODUCT)."""

from __future__ import annotations

import bisect
from typing import Any

from ..core import Context, Ref

# --------------------------------------------------------------------------- SUMPRODUCT index

_BLANK = ("blank",)
NOFAST = object()  # the fast path cannot answer: evaluate the formula the general way


def _cmp_key(v: Any) -> Any:
    """Key under which cells equal by the ``=`` operator collide (blank separately)."""
    t = type(v)
    if t is float:
        return v + 0.0 if v.is_integer() else float(f"{v:.15g}")
    if t is str:
        return ("s", v.casefold())
    if t is bool:
        return ("b", v)
    if v is None:
        return _BLANK
    return None  # an error


def _eq_candidates(x: Any) -> list[Any] | None:
    """Keys of the cells that ``= x`` matches (a blank cell equals 0, "" and FALSE)."""
    t = type(x)
    if t is float:
        return [_cmp_key(x), _BLANK] if x == 0.0 else [_cmp_key(x)]
    if t is str:
        return [("s", x.casefold()), _BLANK] if x == "" else [("s", x.casefold())]
    if t is bool:
        return [("b", x), _BLANK] if x is False else [("b", x)]
    if x is None:
        return [_BLANK, 0.0, ("s", ""), ("b", False)]
    return None


class _SPGroup:
    """One group of rows of a conditional SUMPRODUCT index."""

    __slots__ = ("blanks", "count", "nums", "others", "total")

    def __init__(self) -> None:
        self.count = 0
        self.nums: list[float] = []   # numbers of the ordering range, sorted
        self.others = 0               # text and booleans there (they sort above numbers)
        self.blanks = 0
        self.total = 0.0              # sum of the value range


def sumproduct_conditional(ctx: Context, eq: list[tuple[Ref, Any]],
                           order: tuple[Ref, str, Any] | None, value: Ref | None,
                           multi: bool) -> Any:
    """SUMPRODUCT((r1=x1)*(r2=x2)*…*(rk op y)[*values]) with hash and sorted indexes.

    Returns NOFAST when the index does not apply (errors in the ranges, shapes that differ,
    comparisons with text…); the caller then evaluates element-wise.
    """
    refs = [r for r, _ in eq] + ([order[0]] if order else []) + ([value] if value else [])
    shape = None
    for r in refs:
        r1, c1, r2, c2 = ctx.clamp(r)
        sh = (r2 - r1, c2 - c1)
        if shape is None:
            shape = sh
        elif sh != shape:
            return NOFAST
    if shape is None or shape[0] < 0 or shape[1] < 0 or (shape[0] + 1) * (shape[1] + 1) < 32:
        return NOFAST
    y = None
    if order is not None:
        y = order[2]
        if type(y) is not float:
            return NOFAST
    ck = ("spidx", tuple(r.key for r, _ in eq), order[0].key if order else None,
          value.key if value else None, multi)
    index = ctx.aux_cache.get(ck)
    if index is None:
        index = ctx.aux_cache[ck] = _sp_index(ctx, [r for r, _ in eq],
                                              order[0] if order else None, value, multi)
    if index is False:
        return NOFAST
    cands = [_eq_candidates(x) for _, x in eq]
    if any(c is None for c in cands):
        return NOFAST
    keys: list[tuple] = [()]
    for c in cands:
        keys = [(*k, one) for k in keys for one in c]  # type: ignore[union-attr]
    total: Any = 0.0
    for k in keys:
        g = index.get(k)
        if g is None:
            continue
        if order is None:
            total += g.count if value is None else g.total
            continue
        op = order[1]
        t = abs(y) * _EPS48  # type: ignore[arg-type]
        nums = g.nums
        if op == ">":
            n = len(nums) - bisect.bisect_right(nums, y + t) + g.others + (
                g.blanks if -y > t else 0)  # type: ignore[operator]
        elif op == ">=":
            n = len(nums) - bisect.bisect_left(nums, y - t) + g.others + (
                g.blanks if y <= t else 0)  # type: ignore[operator]
        elif op == "<":
            n = bisect.bisect_left(nums, y - t) + (g.blanks if y > t else 0)  # type: ignore
        else:  # "<="
            n = bisect.bisect_right(nums, y + t) + (g.blanks if -y <= t else 0)  # type: ignore
        total += n
    return float(total)


_EPS48 = 2.0 ** -48


def _sp_index(ctx: Context, eq_refs: list[Ref], order_ref: Ref | None, value_ref: Ref | None,
              multi: bool) -> dict[tuple, _SPGroup] | bool:
    cols = [ctx.flat(r) for r in eq_refs]
    ords = ctx.flat(order_ref) if order_ref is not None else None
    vals = ctx.flat(value_ref) if value_ref is not None else None
    n = len(cols[0]) if cols else len(ords if ords is not None else vals)  # type: ignore[arg-type]
    if value_ref is not None and order_ref is not None:
        return False  # sums over an ordering: not indexed
    groups: dict[tuple, _SPGroup] = {}
    for i in range(n):
        key = []
        for col in cols:
            k = _cmp_key(col[i] if i < len(col) else None)
            if k is None:
                return False  # an error in a range: the general path reports it
            key.append(k)
        tk = tuple(key)
        g = groups.get(tk)
        if g is None:
            g = groups[tk] = _SPGroup()
        g.count += 1
        if ords is not None:
            v = ords[i] if i < len(ords) else None
            tv = type(v)
            if tv is float:
                g.nums.append(v)
            elif v is None:
                g.blanks += 1
            elif tv is str or tv is bool:
                g.others += 1
            else:
                return False
        if vals is not None:
            v = vals[i] if i < len(vals) else None
            tv = type(v)
            if tv is float:
                g.total += v
            elif v is None:
                pass
            elif tv is bool:
                if not multi:
                    g.total += 1.0 if v else 0.0
            elif tv is str:
                if not multi:
                    return False  # "x"*… is #VALUE! in every row: the general path says so
            else:
                return False
    for g in groups.values():
        g.nums.sort()
    return groups
