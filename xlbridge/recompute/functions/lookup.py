"""Lookup & Reference: VLOOKUP, HLOOKUP, MATCH, LOOKUP, INDEX, CHOOSE…"""

from __future__ import annotations

from typing import Any

from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref, scalar
from ..operators import Fn, const
from ..values import (
    NA,
    VALUE,
    compare,
    to_bool,
    to_number,
    to_text,
)
from .args import _lookup_scalar
from .criteria import (
    _has_wild,
    _norm,
    _wild_re,
)
from .registry import registrar

register = registrar("Lookup & Reference")
internal = registrar("Internal")


def _vector(ctx: Context, a: Any) -> tuple[list[Any], Ref | None, bool] | ExcelError:
    """A one-row or one-column range/array: (values, ref, is_row)."""
    if type(a) is Ref:
        r1, _c1, r2, _c2 = ctx.clamp(a)
        if a.r1 == a.r2 or (a.c1 != a.c2 and r2 == r1):
            return ctx.flat(a), a, True
        if a.c1 == a.c2:
            return ctx.flat(a), a, False
        return ExcelError("#N/A", "lookup range must be one row or one column")
    if type(a) is list:
        if len(a) == 1:
            return list(a[0]), None, True
        if all(len(r) == 1 for r in a):
            return [r[0] for r in a], None, False
        return ExcelError("#N/A", "lookup array must be one row or one column")
    return [a], None, True


def _exact_find(ctx: Context, x: Any, vals: list[Any], cache_key: tuple | None) -> int:
    """Position of the first value equal to x (text case-insensitive, wildcards), or -1."""
    if type(x) is str and _has_wild(x):
        rx = _wild_re(x).fullmatch
        for i, v in enumerate(vals):
            if type(v) is str and rx(v):
                return i
        return -1
    k = _norm(x)
    if k is None:
        return -1
    if cache_key is not None and len(vals) >= 16:
        def build() -> dict[Any, int]:
            idx: dict[Any, int] = {}
            for i, v in enumerate(vals):
                nk = _norm(v)
                if nk is not None and nk not in idx:
                    idx[nk] = i
            return idx

        return ctx.aux(cache_key, build).get(k, -1)
    for i, v in enumerate(vals):
        if _norm(v) == k:
            return i
    return -1


def _approx_find(ctx: Context, x: Any, vals: list[Any], descending: bool,
                 cache_key: tuple | None) -> int:
    """Excel's sorted lookup: last value ≤ x (ascending) or last value ≥ x (descending),
    among the values of x's type (others are skipped, as Excel's binary search does)."""
    tx = type(x)

    def build() -> tuple[list[int], list[Any]]:
        pos = [i for i, v in enumerate(vals) if type(v) is tx]
        return pos, [vals[i] for i in pos]

    if cache_key is not None and len(vals) >= 16:
        pos, cand = ctx.aux((*cache_key, tx.__name__), build)
    else:
        pos, cand = build()
    lo, hi = 0, len(cand)
    # find the boundary with a binary search using Excel's comparison
    while lo < hi:
        mid = (lo + hi) // 2
        c = compare(cand[mid], x)
        if (c <= 0) if not descending else (c >= 0):  # type: ignore[operator]
            lo = mid + 1
        else:
            hi = mid
    return pos[lo - 1] if lo > 0 else -1


def _range_id(a: Any) -> tuple | None:
    if type(a) is Ref:
        return (a.sheet, a.r1, a.c1, a.r2, a.c2)
    return None


@register("VLOOKUP", 3, 4, "SRSS", ctx=True)
def fn_vlookup(ctx: Context, x: Any, table: Any, col: Any, approx: Any = True,
               _h: bool = False) -> Any:
    tx = type(x)
    if (not _h and type(table) is Ref and type(col) is float and (approx is False or (
            type(approx) is float and approx == 0.0)) and (tx is float or (
            tx is str and not _has_wild(x)))):
        # the usual exact lookup: a hash index of the first column, built once
        idx = int(col)
        if 1 <= idx <= table.c2 - table.c1 + 1:
            ck = ("vx", table.key)
            index = ctx.aux_cache.get(ck)
            if index is None:
                keys = ctx.flat(Ref(table.sheet, table.r1, table.c1, table.r2, table.c1))
                index = {}
                for i, v in enumerate(keys):
                    nk = _norm(v)
                    if nk is not None and nk not in index:
                        index[nk] = i
                ctx.aux_cache[ck] = index
            i = index.get(_norm(x))
            if i is None:
                return ExcelError("#N/A", f"VLOOKUP: {to_text(x)} not found")
            return ctx.cell(table.sheet, table.r1 + i, table.c1 + idx - 1)
    name = "HLOOKUP" if _h else "VLOOKUP"
    x = _lookup_scalar(ctx, x)
    if type(x) is ExcelError:
        return x
    if x is None:
        x = 0.0
    n = to_number(col)
    if type(n) is not float:
        return n
    idx = int(n)  # type: ignore[arg-type]
    if idx < 1:
        return ExcelError("#VALUE!", f"{name} column index below 1")
    ap = to_bool(approx)
    if type(ap) is ExcelError:
        return ap
    if type(table) is Ref:
        width = table.height if _h else table.width
        if idx > width:
            return ExcelError("#REF!", f"{name} index beyond the table")
        if _h:
            keys_ref = Ref(table.sheet, table.r1, table.c1, table.r1, table.c2)
        else:
            keys_ref = Ref(table.sheet, table.r1, table.c1, table.r2, table.c1)
        keys = ctx.flat(keys_ref)
        rid = _range_id(keys_ref)
        ck = ("vl", *rid) if rid else None  # type: ignore[misc]
        i = _approx_find(ctx, x, keys, False, ck) if ap else _exact_find(ctx, x, keys, ck)
        if i < 0:
            return ExcelError("#N/A", f"{name}: {to_text(x)} not found")
        if _h:
            return ctx.cell(table.sheet, table.r1 + idx - 1, table.c1 + i)
        return ctx.cell(table.sheet, table.r1 + i, table.c1 + idx - 1)
    if type(table) is list:
        g = table if not _h else [list(r) for r in zip(*table, strict=True)]
        if idx > len(g[0]):
            return ExcelError("#REF!", f"{name} index beyond the table")
        keys = [r[0] for r in g]
        i = _approx_find(ctx, x, keys, False, None) if ap else _exact_find(ctx, x, keys, None)
        if i < 0:
            return ExcelError("#N/A", f"{name}: {to_text(x)} not found")
        return g[i][idx - 1]
    return ExcelError("#N/A", f"{name} needs a table")


@register("HLOOKUP", 3, 4, "SRSS", ctx=True)
def fn_hlookup(ctx: Context, x: Any, table: Any, row: Any, approx: Any = True) -> Any:
    return fn_vlookup(ctx, x, table, row, approx, _h=True)


@register("MATCH", 2, 3, "SAS", ctx=True)
def fn_match(ctx: Context, x: Any, arr: Any, kind: Any = 1.0) -> Any:
    x = _lookup_scalar(ctx, x)
    if type(x) is ExcelError:
        return x
    if x is None:
        x = 0.0
    k = to_number(kind)
    if type(k) is not float:
        return k
    got = _vector(ctx, arr)
    if type(got) is ExcelError:
        return got
    vals, ref, _row = got  # type: ignore[misc]
    rid = _range_id(ref)
    ck = ("m", *rid) if rid else None  # type: ignore[misc]
    if k == 0:
        i = _exact_find(ctx, x, vals, ck)
    elif k > 0:
        i = _approx_find(ctx, x, vals, False, ck)
    else:
        i = _approx_find(ctx, x, vals, True, ("md", *rid) if rid else None)  # type: ignore[misc]
    if i < 0:
        return ExcelError("#N/A", f"MATCH: {to_text(x)} not found")
    return float(i + 1)


@register("LOOKUP", 2, 3, "SAA", ctx=True)
def fn_lookup(ctx: Context, x: Any, vec: Any, result: Any = None) -> Any:
    x = _lookup_scalar(ctx, x)
    if type(x) is ExcelError:
        return x
    if x is None:
        x = 0.0
    if result is None and ((type(vec) is Ref and vec.height > 1 and vec.width > 1)
                           or (type(vec) is list and len(vec) > 1 and len(vec[0]) > 1)):
        # array form: search the first row or column, return from the last
        g = ctx.array(vec)
        h, w = len(g), len(g[0])
        if w > h:
            keys = list(g[0])
            i = _approx_find(ctx, x, keys, False, None)
            return g[-1][i] if i >= 0 else ExcelError("#N/A", "LOOKUP: not found")
        keys = [r[0] for r in g]
        i = _approx_find(ctx, x, keys, False, None)
        return g[i][-1] if i >= 0 else ExcelError("#N/A", "LOOKUP: not found")
    got = _vector(ctx, vec)
    if type(got) is ExcelError:
        return got
    vals, ref, _row = got  # type: ignore[misc]
    rid = _range_id(ref)
    i = _approx_find(ctx, x, vals, False, ("lk", *rid) if rid else None)  # type: ignore[misc]
    if i < 0:
        return ExcelError("#N/A", f"LOOKUP: {to_text(x)} not found")
    if result is None:
        return vals[i]
    rg = _vector(ctx, result)
    if type(rg) is ExcelError:
        return rg
    rvals, rref, _ = rg  # type: ignore[misc]
    if rref is not None:
        # the result vector may be shorter in data but is addressed by position
        if rref.r1 == rref.r2:
            return ctx.cell(rref.sheet, rref.r1, rref.c1 + i)
        return ctx.cell(rref.sheet, rref.r1 + i, rref.c1)
    if i >= len(rvals):
        return NA
    return rvals[i]


@register("INDEX", 2, 3, "ASS", ctx=True, returns_ref=True)
def fn_index(ctx: Context, arr: Any, row: Any = None, col: Any = None) -> Any:
    rn = to_number(_lookup_scalar(ctx, row)) if row is not None else 0.0
    if type(rn) is not float:
        return rn
    cn = to_number(_lookup_scalar(ctx, col)) if col is not None else None
    if cn is not None and type(cn) is not float:
        return cn
    r = int(rn)  # type: ignore[arg-type]
    c = int(cn) if cn is not None else None  # type: ignore[arg-type]
    if r < 0 or (c is not None and c < 0):
        return ExcelError("#VALUE!", "INDEX position below 0")
    if type(arr) is Ref:
        h, w = arr.height, arr.width
        if c is None:
            if h == 1 and w > 1:  # INDEX(row_vector, n)
                r, c = 1, r
            else:
                c = 0 if w > 1 else 1
        if r > h or c > w:
            return ExcelError("#REF!", "INDEX position outside the range")
        r1, r2 = (arr.r1, arr.r2) if r == 0 else (arr.r1 + r - 1, arr.r1 + r - 1)
        c1, c2 = (arr.c1, arr.c2) if c == 0 else (arr.c1 + c - 1, arr.c1 + c - 1)
        return Ref(arr.sheet, r1, c1, r2, c2)
    g = ctx.array(arr)
    h, w = len(g), len(g[0])
    if c is None:
        if h == 1 and w > 1:
            r, c = 1, r
        else:
            c = 0 if w > 1 else 1
    if r > h or c > w:
        return ExcelError("#REF!", "INDEX position outside the array")
    if r == 0 and c == 0:
        return g
    if r == 0:
        return [[row_[c - 1]] for row_ in g]
    if c == 0:
        return [list(g[r - 1])]
    return g[r - 1][c - 1]




# --------------------------------------------------------------------------- forms

@register("CHOOSE", 2, 255, form=True)
def form_choose(comp: Any, args: list[tuple], mode: str) -> Fn:
    if len(args) < 2:
        return const(ExcelError("#VALUE!", "CHOOSE needs an index and values"))
    fi = comp.compile(args[0], "S")
    options = [comp.branch(a, mode) for a in args[1:]]

    def choose(base: int) -> Any:
        i = to_number(fi(base))
        if type(i) is not float:
            return i
        n = int(i)  # type: ignore[arg-type]
        if not 1 <= n <= len(options):
            return ExcelError("#VALUE!", "CHOOSE index out of range")
        return options[n - 1](base)

    return choose


#: ``@x`` (implicit intersection): the parser writes it as a call of SINGLE
@internal("SINGLE", 1, 1, form=True)
def form_single(comp: Any, args: list[tuple], mode: str) -> Fn:
    if len(args) != 1:
        return const(VALUE)
    f = comp.compile(args[0], "R")
    ctx = comp.ctx

    def single(base: int) -> Any:
        return scalar(ctx, f(base), base)

    return single


