"""COUNTIF-style criteria and the indexes behind the *IF/*IFS functions (hash indexes for
equality, per-group sorted values for one numeric comparison)."""

from __future__ import annotations

import bisect
import re
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref
from ..values import (
    ERRORS,
    approx_equal,
    compare,
    parse_number,
)

# --------------------------------------------------------------------------- criteria

_OPS = ("<=", ">=", "<>", "<", ">", "=")


def _norm(v: Any) -> Any:
    """A hashable key under which equal values (as criteria/lookups see them) collide."""
    t = type(v)
    if t is float:
        if v.is_integer():
            return v + 0.0  # -0.0 → 0.0
        return float(f"{v:.15g}")
    if t is str:
        return v.casefold()
    if t is bool:
        return (v,)
    if t is ExcelError:
        return ("#", v.code)
    return None


def _wild_re(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern) and pattern[i + 1] in "*?~":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _has_wild(s: str) -> bool:
    return "*" in s or "?" in s or "~" in s


class Criterion:
    """A COUNTIF-style criterion: ``90``, ``">=90"``, ``"<>"``, ``"张*"``…

    ``eq_key`` is set for plain equality, so callers can use a hash index.
    """

    __slots__ = ("cmp", "eq_key", "kind", "match")

    def __init__(self, crit: Any):
        self.eq_key: Any = None
        self.cmp: tuple[str, float] | None = None  # a numeric comparison, for sorted indexes
        t = type(crit)
        if t is ExcelError:
            code = crit.code
            self.match = lambda v: type(v) is ExcelError and v.code == code
            self.eq_key = ("#", code)
            return
        if t is float or t is bool:
            self._equal_value(crit)
            return
        if crit is None:
            # an empty criteria cell matches empty cells... as 0 in Excel
            self._equal_value(0.0)
            return
        s = str(crit)
        op = ""
        for o in _OPS:
            if s.startswith(o):
                op, s = o, s[len(o):]
                break
        if s == "":
            if op == "":
                self.match = lambda v: v is None or v == ""
            elif op == "=":
                self.match = lambda v: v is None
            elif op == "<>":
                self.match = lambda v: v is not None
            else:
                self.match = lambda v: False  # "<" with nothing after it matches nothing
            return
        x = parse_number(s)
        if x is not None:
            if op in ("", "="):
                self._equal_value(x)
            elif op == "<>":
                # only the number itself is excluded: the text "23" is not equal to 23
                self.match = lambda v: not (type(v) is float and approx_equal(v, x))
            else:
                self._compare(op, x)
            return
        up = s.upper()
        if up in ("TRUE", "FALSE"):
            b = up == "TRUE"
            if op in ("", "="):
                self._equal_value(b)
            elif op == "<>":
                self.match = lambda v: not (type(v) is bool and v is b)
            else:
                self._compare(op, b)
            return
        if up in ERRORS:
            err = ERRORS[up]
            if op in ("", "="):
                self.match = lambda v: type(v) is ExcelError and v.code == err.code
                self.eq_key = ("#", err.code)
            elif op == "<>":
                self.match = lambda v: not (type(v) is ExcelError and v.code == err.code)
            else:
                self.match = lambda v: False
            return
        # text
        if op in ("", "=", "<>"):
            if _has_wild(s):
                rx = _wild_re(s).fullmatch
                def m(v: Any) -> bool:
                    return type(v) is str and rx(v) is not None
            else:
                cf = s.casefold()
                def m(v: Any) -> bool:
                    return type(v) is str and v.casefold() == cf
                if op != "<>":
                    self.eq_key = cf
            self.match = m if op != "<>" else (lambda v: not m(v))
            return
        self._compare(op, s)

    def _equal_value(self, x: Any) -> None:
        if type(x) is bool:
            self.match = lambda v: type(v) is bool and v is x
            self.eq_key = (x,)
            return
        def m(v: Any) -> bool:
            tv = type(v)
            if tv is float:
                return approx_equal(v, x)
            if tv is str:  # Excel matches numbers stored as text too
                y = parse_number(v)
                return y is not None and approx_equal(y, x)
            return False
        self.match = m
        self.eq_key = _norm(x)

    def _compare(self, op: str, x: Any) -> None:
        tx = type(x)
        if tx is float:
            self.cmp = (op, x)
            if op == "<":
                self.match = lambda v: type(v) is float and v < x
            elif op == ">":
                self.match = lambda v: type(v) is float and v > x
            elif op == "<=":
                self.match = lambda v: type(v) is float and v <= x
            else:
                self.match = lambda v: type(v) is float and v >= x
            return

        def m(v: Any) -> bool:
            if type(v) is not tx:
                return False
            c = compare(v, x)
            if op == "<":
                return c < 0  # type: ignore[operator]
            if op == ">":
                return c > 0  # type: ignore[operator]
            if op == "<=":
                return c <= 0  # type: ignore[operator]
            return c >= 0  # type: ignore[operator]

        self.match = m


_CRIT_CACHE: dict[tuple[type, Any], Criterion] = {}


def _crit(c: Any) -> Criterion:
    """A parsed criterion; parsing is cached (a criteria column repeats few values)."""
    k = (type(c), c)
    got = _CRIT_CACHE.get(k)
    if got is None:
        if len(_CRIT_CACHE) > 4096:
            _CRIT_CACHE.clear()
        got = Criterion(c)
        # how *IFS can use it: 1 hash index, 2 sorted numbers, 0 scan
        got.kind = 1 if got.eq_key is not None else (2 if got.cmp is not None else 0)
        _CRIT_CACHE[k] = got  # complete before other threads can see it
    return got


def _eq_index(ctx: Context, ref: Ref) -> dict[Any, list[int]]:
    """value key → positions in the flattened range (numbers stored as text under both)."""

    def build() -> dict[Any, list[int]]:
        idx: dict[Any, list[int]] = {}
        texts: dict[str, tuple[Any, Any]] = {}  # a text's keys, worked out once per text
        for i, v in enumerate(ctx.flat(ref)):
            if type(v) is str:
                keys = texts.get(v)
                if keys is None:
                    y = parse_number(v)
                    keys = texts[v] = (_norm(v), None if y is None else _norm(y))
                idx.setdefault(keys[0], []).append(i)
                if keys[1] is not None:
                    idx.setdefault(keys[1], []).append(i)
                continue
            k = _norm(v)
            if k is None:
                continue
            idx.setdefault(k, []).append(i)
        return idx

    return ctx.aux(("eqidx", ref.sheet, *ctx.clamp(ref)), build)


def _crit_range(ctx: Context, rng: Any) -> tuple[list[Any], int, int] | ExcelError:
    """Values and (height, width) of a criteria range argument."""
    if type(rng) is Ref:
        r1, c1, r2, c2 = ctx.clamp(rng)
        return ctx.flat(rng), max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0)
    if type(rng) is list:
        return [v for row in rng for v in row], len(rng), len(rng[0])
    return ExcelError("#VALUE!", tr("条件区域必须是单元格区域"))


def _aligned(ctx: Context, ref: Any, h: int, w: int) -> list[Any] | ExcelError:
    """The values of a sum range of shape (h, w) starting at ref's top-left corner."""
    if type(ref) is Ref:
        r = Ref(ref.sheet, ref.r1, ref.c1, ref.r1 + max(h, 1) - 1, ref.c1 + max(w, 1) - 1)
        vals = ctx.flat(r) if h and w else []
        need = h * w
        if len(vals) < need:
            vals = vals + [None] * (need - len(vals))
        return vals
    if type(ref) is list:
        if len(ref) != h or len(ref[0]) != w:
            return ExcelError("#VALUE!", tr("各区域大小不同"))
        return [v for row in ref for v in row]
    return ExcelError("#VALUE!", tr("求和区域必须是单元格区域"))


def _ifs_select(ctx: Context, pairs: list[tuple[Any, Any]]
                ) -> tuple[list[int], int, int] | ExcelError:
    """Positions (in the flattened ranges) matching every criterion of a *IFS call.

    Equality criteria use a hash index of the ranges (built once per set of ranges); one
    numeric comparison on top of them uses per-group sorted values and a binary search,
    so a COUNTIFS ranking column costs O(log n) a row, not O(n).
    """
    got = _ifs_fast(ctx, pairs)
    if got is not None:
        return got
    shape = None
    crits: list[Criterion] = []
    refs: list[Any] = []
    for rng, crit in pairs:
        if type(crit) is Ref:
            crit = ctx.intersect(crit, ctx.caller)
        if type(rng) is Ref:
            r1, c1, r2, c2 = ctx.clamp(rng)
            sh = (max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0))
        elif type(rng) is list:
            sh = (len(rng), len(rng[0]))
        else:
            return ExcelError("#VALUE!", tr("条件区域必须是单元格区域"))
        if shape is None:
            shape = sh
        elif sh != shape:
            return ExcelError("#VALUE!", tr("各条件区域大小不同"))
        crits.append(_crit(crit))
        refs.append(rng)
    assert shape is not None
    h, w = shape
    eq = [i for i, c in enumerate(crits) if c.eq_key is not None]
    cmp = [i for i, c in enumerate(crits) if c.eq_key is None and c.cmp is not None]
    rest = [i for i in range(len(crits)) if i not in eq and i not in cmp]
    if all(type(r) is Ref for r in refs) and h * w >= 32 and (eq or cmp):
        eq_refs = [refs[i] for i in eq]
        grp = _group_index(ctx, eq_refs, refs[cmp[0]] if cmp else None)
        if grp is not None:
            gkey = tuple(crits[i].eq_key for i in eq)
            got = grp.get(gkey)
            if got is None:
                return [], h, w
            vals, pos = got
            lo, hi = 0, len(pos)
            if cmp:
                op, x = crits[cmp[0]].cmp  # type: ignore[misc]
                if op == ">":
                    lo = bisect.bisect_right(vals, x)
                elif op == ">=":
                    lo = bisect.bisect_left(vals, x)
                elif op == "<":
                    hi = bisect.bisect_left(vals, x)
                else:
                    hi = bisect.bisect_right(vals, x)
                more = cmp[1:] + rest
            else:
                more = rest
            if more:
                cols = [(ctx.flat(refs[i]), crits[i].match) for i in more]
                return [p for p in pos[lo:hi] if all(m(v[p]) for v, m in cols)], h, w
            gid = None if cmp else (id(grp), gkey)
            return _Slice(pos, lo, hi, gid), h, w
    mask: list[bool] | None = None
    for rng, c in zip(refs, crits, strict=True):
        vals = ctx.flat(rng) if type(rng) is Ref else [v for row in rng for v in row]
        m = c.match
        if mask is None:
            mask = [m(v) for v in vals]
        else:
            mask = [ok and m(v) for ok, v in zip(mask, vals, strict=False)]
    assert mask is not None
    return [i for i, ok in enumerate(mask) if ok], h, w


def _ifs_fast(ctx: Context, pairs: list[tuple[Any, Any]]
              ) -> tuple[Any, int, int] | ExcelError | None:
    """The usual *IFS call — ranges are references, criteria are equality tests and at most
    one numeric comparison — with its plan (which index to use) cached per call shape."""
    crits = []
    rkeys = []
    for rng, crit in pairs:
        if type(rng) is not Ref:
            return None
        if type(crit) is Ref:
            crit = ctx.intersect(crit, ctx.caller)
        c = _crit(crit)
        crits.append(c)
        rkeys.append(rng.key)
        rkeys.append(c.kind)
    pk = ("ifsplan", *rkeys)
    plan = ctx.aux_cache.get(pk)
    if plan is None:
        plan = ctx.aux_cache[pk] = _ifs_plan(ctx, pairs, crits)
    if plan is False:
        return None
    h, w, eq, cmp, grp = plan
    got = grp.get(tuple([crits[i].eq_key for i in eq]))
    if got is None:
        return [], h, w
    vals, pos = got
    if cmp < 0:
        return _Slice(pos, 0, len(pos), (id(grp), tuple([crits[i].eq_key for i in eq]))), h, w
    op, x = crits[cmp].cmp  # type: ignore[misc]
    if op == ">":
        return _Slice(pos, bisect.bisect_right(vals, x), len(pos), None), h, w
    if op == ">=":
        return _Slice(pos, bisect.bisect_left(vals, x), len(pos), None), h, w
    if op == "<":
        return _Slice(pos, 0, bisect.bisect_left(vals, x), None), h, w
    return _Slice(pos, 0, bisect.bisect_right(vals, x), None), h, w


def _ifs_plan(ctx: Context, pairs: list[tuple[Any, Any]], crits: list[Criterion]) -> Any:
    shape = None
    for rng, _c in pairs:
        r1, c1, r2, c2 = ctx.clamp(rng)
        sh = (max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0))
        if shape is None:
            shape = sh
        elif sh != shape:
            return False
    assert shape is not None
    if shape[0] * shape[1] < 32:
        return False
    eq = [i for i, c in enumerate(crits) if c.kind == 1]
    cmp = [i for i, c in enumerate(crits) if c.kind == 2]
    if len(eq) + len(cmp) != len(crits) or len(cmp) > 1:
        return False
    grp = _group_index(ctx, [pairs[i][0] for i in eq], pairs[cmp[0]][0] if cmp else None)
    if grp is None:
        return False
    return shape[0], shape[1], eq, cmp[0] if cmp else -1, grp


class _Slice:
    """Positions ``pos[lo:hi]`` of a group index, without copying them (COUNTIFS needs only
    the length). ``gid`` identifies a whole equality group, whose sums can be cached."""

    __slots__ = ("gid", "hi", "lo", "pos")

    def __init__(self, pos: list[int], lo: int, hi: int, gid: tuple | None):
        self.pos = pos
        self.lo = lo
        self.hi = hi
        self.gid = gid

    def __len__(self) -> int:
        return max(self.hi - self.lo, 0)

    def __iter__(self) -> Any:
        return iter(self.pos[self.lo:self.hi])


def _group_index(ctx: Context, eq_refs: list[Ref], cmp_ref: Ref | None
                 ) -> dict[tuple, tuple[list[float], list[int]]] | None:
    """Equality keys of ``eq_refs`` → (sorted numbers of ``cmp_ref``, their positions).

    Without ``cmp_ref`` the value list is empty and positions are in range order. None when
    some cell has two keys (a number stored as text matches both 5 and "5"): the caller
    then scans.
    """
    ck = ("grp", *[(r.sheet, r.r1, r.c1, r.r2, r.c2) for r in eq_refs],
          (cmp_ref.sheet, cmp_ref.r1, cmp_ref.c1, cmp_ref.r2, cmp_ref.c2)
          if cmp_ref is not None else None)
    got = ctx.aux_cache.get(ck)
    if got is not None:
        return got if got != "multi" else None
    cols = [ctx.flat(r) for r in eq_refs]
    nums = ctx.flat(cmp_ref) if cmp_ref is not None else None
    n = len(cols[0]) if cols else len(nums)  # type: ignore[arg-type]
    groups: dict[tuple, list[tuple[float, int]] | list[int]] = {}
    texts: dict[str, Any] = {}  # a criteria column repeats few texts: each is looked at once
    for i in range(n):
        key = []
        for col in cols:
            v = col[i]
            if type(v) is str:
                k = texts.get(v)
                if k is None:
                    if parse_number(v) is not None:
                        ctx.aux_cache[ck] = "multi"
                        return None
                    k = texts[v] = v.casefold()  # what _norm gives a text
                key.append(k)
                continue
            key.append(_norm(v))
        k = tuple(key)
        if nums is None:
            groups.setdefault(k, []).append(i)  # type: ignore[arg-type]
            continue
        v = nums[i] if i < len(nums) else None
        if type(v) is float:
            groups.setdefault(k, []).append((v, i))  # type: ignore[arg-type]
    out: dict[tuple, tuple[list[float], list[int]]] = {}
    for k, items in groups.items():
        if nums is None:
            out[k] = ([], items)  # type: ignore[assignment]
        else:
            items.sort()  # type: ignore[call-arg]
            out[k] = ([v for v, _ in items], [i for _, i in items])  # type: ignore[misc]
    ctx.aux_cache[ck] = out
    return out


def _pairs(args: tuple[Any, ...]) -> list[tuple[Any, Any]] | None:
    if len(args) % 2:
        return None
    return [(args[i], args[i + 1]) for i in range(0, len(args), 2)]


def _sum_at(ctx: Context, sum_rng: Any, h: int, w: int, positions: Any,
            average: bool) -> Any:
    gid = positions.gid if type(positions) is _Slice else None
    if gid is not None and type(sum_rng) is Ref:
        ck = ("sumat", gid, sum_rng.sheet, sum_rng.r1, sum_rng.c1, sum_rng.r2, sum_rng.c2,
              average)
        got = ctx.aux_cache.get(ck)
        if got is None:
            got = ctx.aux_cache[ck] = _sum_at_uncached(ctx, sum_rng, h, w, positions, average)
        return got
    return _sum_at_uncached(ctx, sum_rng, h, w, positions, average)


def _sum_at_uncached(ctx: Context, sum_rng: Any, h: int, w: int, positions: Any,
                     average: bool) -> Any:
    if type(sum_rng) is Ref:
        r1, c1, r2, c2 = ctx.clamp(sum_rng)
        sh = (max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0))
        svals = ctx.flat(sum_rng)
    elif type(sum_rng) is list:
        sh = (len(sum_rng), len(sum_rng[0]))
        svals = [v for row in sum_rng for v in row]
    else:
        return ExcelError("#VALUE!", tr("求和区域必须是单元格区域"))
    if sh != (h, w):
        return ExcelError("#VALUE!", tr("各区域大小不同"))
    total, n = 0.0, 0
    for i in sorted(positions):
        v = svals[i] if i < len(svals) else None
        if type(v) is float:
            total += v
            n += 1
        elif type(v) is ExcelError:
            return v
    if average:
        if not n:
            return ExcelError("#DIV/0!", tr("没有符合条件的数字"))
        return total / n
    return total


