"""Lookup & Reference: VLOOKUP, HLOOKUP, MATCH, LOOKUP, INDEX, CHOOSE…"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import (
    MAX_COL,
    MAX_ROW,
    ROW_SHIFT,
    SHEET_SHIFT,
    Context,
    Ref,
    scalar,
    split_key,
)
from ..formula import col_index, col_letters
from ..operators import Fn, const
from ..values import (
    NA,
    OMITTED,
    REF,
    VALUE,
    compare,
    takes_omitted,
    to_bool,
    to_number,
    to_text,
)
from .args import (
    _lookup_scalar,
    to_int,
)
from .criteria import (
    _has_wild,
    _norm,
    _wild_re,
)
from .registry import registrar

register = registrar("Lookup & Reference")
internal = registrar("Internal")


def not_found(function: str, value: str) -> str:
    return tr("{function}：找不到 {value}", function=function, value=value)


def _vector(ctx: Context, a: Any) -> tuple[list[Any], Ref | None, bool] | ExcelError:
    """A one-row or one-column range/array: (values, ref, is_row)."""
    if type(a) is Ref:
        r1, _c1, r2, _c2 = ctx.clamp(a)
        if a.r1 == a.r2 or (a.c1 != a.c2 and r2 == r1):
            return ctx.flat(a), a, True
        if a.c1 == a.c2:
            return ctx.flat(a), a, False
        return ExcelError("#N/A", tr("查找区域必须是一行或一列"))
    if type(a) is list:
        if len(a) == 1:
            return list(a[0]), None, True
        if all(len(r) == 1 for r in a):
            return [r[0] for r in a], None, False
        return ExcelError("#N/A", tr("查找数组必须是一行或一列"))
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
                return ExcelError("#N/A", not_found("VLOOKUP", to_text(x)))
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
        return ExcelError("#VALUE!", tr("{name} 的列号小于 1", name=name))
    ap = to_bool(approx)
    if type(ap) is ExcelError:
        return ap
    if type(table) is Ref:
        width = table.height if _h else table.width
        if idx > width:
            return ExcelError("#REF!", tr("{name} 的列号超出表格", name=name))
        if _h:
            keys_ref = Ref(table.sheet, table.r1, table.c1, table.r1, table.c2)
        else:
            keys_ref = Ref(table.sheet, table.r1, table.c1, table.r2, table.c1)
        keys = ctx.flat(keys_ref)
        rid = _range_id(keys_ref)
        ck = ("vl", *rid) if rid else None  # type: ignore[misc]
        i = _approx_find(ctx, x, keys, False, ck) if ap else _exact_find(ctx, x, keys, ck)
        if i < 0:
            return ExcelError("#N/A", not_found(name, to_text(x)))
        if _h:
            return ctx.cell(table.sheet, table.r1 + idx - 1, table.c1 + i)
        return ctx.cell(table.sheet, table.r1 + i, table.c1 + idx - 1)
    if type(table) is list:
        g = table if not _h else [list(r) for r in zip(*table, strict=True)]
        if idx > len(g[0]):
            return ExcelError("#REF!", tr("{name} 的列号超出表格", name=name))
        keys = [r[0] for r in g]
        i = _approx_find(ctx, x, keys, False, None) if ap else _exact_find(ctx, x, keys, None)
        if i < 0:
            return ExcelError("#N/A", not_found(name, to_text(x)))
        return g[i][idx - 1]
    if type(table) is str:
        return ExcelError("#VALUE!", tr("{name} 需要表格区域", name=name))
    return ExcelError("#N/A", tr("{name} 需要表格区域", name=name))


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
        return ExcelError("#N/A", not_found("MATCH", to_text(x)))
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
            return g[-1][i] if i >= 0 else ExcelError("#N/A", tr("LOOKUP：找不到"))
        keys = [r[0] for r in g]
        i = _approx_find(ctx, x, keys, False, None)
        return g[i][-1] if i >= 0 else ExcelError("#N/A", tr("LOOKUP：找不到"))
    got = _vector(ctx, vec)
    if type(got) is ExcelError:
        return got
    vals, ref, _row = got  # type: ignore[misc]
    rid = _range_id(ref)
    i = _approx_find(ctx, x, vals, False, ("lk", *rid) if rid else None)  # type: ignore[misc]
    if i < 0:
        return ExcelError("#N/A", not_found("LOOKUP", to_text(x)))
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


@register("INDEX", 2, 4, "ASSS", ctx=True, returns_ref=True)
def fn_index(ctx: Context, arr: Any, row: Any = None, col: Any = None,
             area: Any = None) -> Any:
    if area is not None:
        a = to_number(area)
        if type(a) is ExcelError:
            return a
        if int(a) != 1:  # type: ignore[arg-type]
            return ExcelError("#REF!", tr("INDEX：只有一个区域"))
    rn = to_number(_lookup_scalar(ctx, row)) if row is not None else 0.0
    if type(rn) is not float:
        return rn
    cn = to_number(_lookup_scalar(ctx, col)) if col is not None else None
    if cn is not None and type(cn) is not float:
        return cn
    r = int(rn)  # type: ignore[arg-type]
    c = int(cn) if cn is not None else None  # type: ignore[arg-type]
    if r < 0 or (c is not None and c < 0):
        return ExcelError("#VALUE!", tr("INDEX 的位置小于 0"))
    if type(arr) is Ref:
        h, w = arr.height, arr.width
        if c is None:
            if h == 1 and w > 1:  # INDEX(row_vector, n)
                r, c = 1, r
            else:
                c = 0 if w > 1 else 1
        if r > h or c > w:
            return ExcelError("#REF!", tr("INDEX 的位置超出区域"))
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
        return ExcelError("#REF!", tr("INDEX 的位置超出数组"))
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
        return const(ExcelError("#VALUE!", tr("CHOOSE 需要序号和值")))
    fi = comp.compile(args[0], "S")
    options = [comp.branch(a, mode) for a in args[1:]]

    def choose(base: int) -> Any:
        i = to_number(fi(base))
        if type(i) is not float:
            return i
        n = int(i)  # type: ignore[arg-type]
        if not 1 <= n <= len(options):
            return ExcelError("#VALUE!", tr("CHOOSE 的序号超出范围"))
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




# --------------------------------------------------------------------------- references

@register("ROW", 0, 1, "R", ctx=True)
def fn_row(ctx: Context, ref: Any = None) -> Any:
    if type(ref) is ExcelError:
        return ref
    if ref is None:
        return float(split_key(ctx.caller)[1])
    if type(ref) is not Ref:
        return VALUE
    if ref.r1 == ref.r2:
        return float(ref.r1)
    r2 = min(ref.r2, ctx.max_row) if ref.r2 - ref.r1 > 100000 else ref.r2
    return [[float(r)] for r in range(ref.r1, r2 + 1)]


@register("COLUMN", 0, 1, "R", ctx=True)
def fn_column(ctx: Context, ref: Any = None) -> Any:
    if type(ref) is ExcelError:
        return ref
    if ref is None:
        return float(split_key(ctx.caller)[2])
    if type(ref) is not Ref:
        return VALUE
    if ref.c1 == ref.c2:
        return float(ref.c1)
    return [[float(c) for c in range(ref.c1, ref.c2 + 1)]]


@register("ROWS", 1, 1, "A", ctx=True)
def fn_rows(ctx: Context, a: Any) -> Any:
    if type(a) is Ref:
        return float(a.height)
    if type(a) is list:
        return float(len(a))
    return 1.0


@register("COLUMNS", 1, 1, "A", ctx=True)
def fn_columns(ctx: Context, a: Any) -> Any:
    if type(a) is Ref:
        return float(a.width)
    if type(a) is list:
        return float(len(a[0]))
    return 1.0


@register("OFFSET", 3, 5, "RSSSS", ctx=True, returns_ref=True)
def fn_offset(ctx: Context, ref: Any, rows: Any, cols: Any, height: Any = None,
              width: Any = None) -> Any:
    if type(ref) is not Ref:
        return ExcelError("#VALUE!", tr("OFFSET 需要单元格引用"))
    vals = []
    for v, d in ((rows, 0), (cols, 0), (height, ref.height), (width, ref.width)):
        if v is None:
            vals.append(d)
            continue
        x = to_number(v)
        if type(x) is ExcelError:
            return x
        n = int(x)  # type: ignore[arg-type]
        if n == 0 and x != 0 and v is not rows and v is not cols:
            n = 1 if x > 0 else -1  # type: ignore[operator]  # a size below 1 is one cell
        vals.append(n)
    dr, dc, h, w = vals
    if h == 0 or w == 0:
        return REF
    r1, c1 = ref.r1 + dr, ref.c1 + dc  # type: ignore[operator]
    r2, c2 = r1 + h - 1 if h > 0 else r1 + h + 1, c1 + w - 1 if w > 0 else c1 + w + 1  # type: ignore
    if min(r1, r2) < 1 or min(c1, c2) < 1 or max(r1, r2) > MAX_ROW or max(c1, c2) > MAX_COL:
        return ExcelError("#REF!", tr("OFFSET 超出工作表范围"))
    return Ref(ref.sheet, r1, c1, r2, c2)


_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")
_R1C1 = re.compile(r"[Rr](\[-?\d+\]|\d+)?[Cc](\[-?\d+\]|\d+)?")


def parse_reference(ctx: Context, text: str, a1: bool = True) -> Ref | ExcelError:
    """A reference written as text (INDIRECT): ``B5``, ``B5:D9``, ``A:A``, ``3:3``,
    ``'Sheet 2'!B5``, a defined name for a range is not followed; R1C1 when ``a1`` is false.
    The policy: only references inside this workbook; anything else is #REF!."""
    s = text.strip()
    sheet = split_key(ctx.caller)[0]
    if "!" in s:
        name, _, s = s.rpartition("!")
        if name.startswith("'") and name.endswith("'"):
            name = name[1:-1].replace("''", "'")
        if "[" in name:
            return ExcelError("#REF!", tr("INDIRECT 指向其他工作簿，不跟随"))
        idx = ctx.sheet_index.get(name.casefold())
        if idx is None:
            return ExcelError("#REF!", tr("INDIRECT：没有名为 {name} 的工作表", name=name))
        sheet = idx
    parts = s.split(":")
    if len(parts) > 2 or not s:
        return ExcelError("#REF!", tr("INDIRECT：“{text}”不是单元格引用", text=text))
    caller = split_key(ctx.caller)
    cells = []
    for p in parts:
        if a1:
            m = _A1.fullmatch(p)
            if m is not None:
                cells.append((int(m.group(2)), col_index(m.group(1))))
                continue
            if re.fullmatch(r"\$?[A-Za-z]{1,3}", p):
                cells.append((None, col_index(p.replace("$", ""))))
                continue
            if re.fullmatch(r"\$?\d{1,7}", p):
                cells.append((int(p.replace("$", "")), None))
                continue
        else:
            m = _R1C1.fullmatch(p)
            if m is not None:
                def part(g: str | None, here: int) -> int:
                    if g is None:
                        return here
                    if g.startswith("["):
                        return here + int(g[1:-1])
                    return int(g)

                cells.append((part(m.group(1), caller[1]), part(m.group(2), caller[2])))
                continue
        return ExcelError("#REF!", tr("INDIRECT：“{text}”不是单元格引用", text=text))
    (ra, ca), (rb, cb) = cells[0], cells[-1]
    # a whole column or row needs both ends ("H:H", "3:3"): "h" alone is no reference
    if (ra is None) != (rb is None) or (ca is None) != (cb is None) or (
            len(cells) == 1 and (ra is None or ca is None)):
        return ExcelError("#REF!", tr("INDIRECT：“{text}”不是单元格引用", text=text))
    r1, r2 = (1, MAX_ROW) if ra is None else (ra, rb)
    c1, c2 = (1, MAX_COL) if ca is None else (ca, cb)
    if not (min(r1, r2) >= 1 and max(r1, r2) <= MAX_ROW and min(c1, c2) >= 1  # type: ignore
            and max(c1, c2) <= MAX_COL):  # type: ignore[type-var]
        return REF
    return Ref(sheet, r1, c1, r2, c2)  # type: ignore[arg-type]


@register("HYPERLINK", 1, 2, lift=True)
@takes_omitted
def fn_hyperlink(link: Any, friendly: Any = OMITTED) -> Any:
    """The cell shows the friendly name (the link itself without one; an empty cell as the
    name shows 0); following the link is Excel's business, not the value's."""
    shown = link if friendly is OMITTED else friendly
    if type(shown) is ExcelError:
        return shown
    if type(link) is ExcelError:
        return link
    return 0.0 if shown is None else shown


@register("INDIRECT", 1, 2, ctx=True, returns_ref=True, volatile=True)
def fn_indirect(ctx: Context, text: Any, a1: Any = None) -> Any:
    if type(text) is ExcelError:
        return text
    if type(text) is not str:
        return REF
    style = True if a1 is None else to_bool(a1)
    if type(style) is ExcelError:
        return style
    return parse_reference(ctx, text, bool(style))


@register("ADDRESS", 2, 5, lift=True)
def fn_address(row: Any, col: Any, kind: Any = None, a1: Any = None, sheet: Any = None) -> Any:
    r, c = to_int(row), to_int(col)
    if type(r) is ExcelError:
        return r
    if type(c) is ExcelError:
        return c
    k = 1 if kind is None else to_int(kind)
    if type(k) is ExcelError:
        return k
    style = True if a1 is None else to_bool(a1)
    if type(style) is ExcelError:
        return style
    if not (1 <= r <= MAX_ROW and 1 <= c <= MAX_COL and 1 <= k <= 4):  # type: ignore
        return VALUE
    ar, ac = k in (1, 2), k in (1, 3)
    if style:
        out = f"{'$' if ac else ''}{col_letters(c)}{'$' if ar else ''}{r}"  # type: ignore
    else:
        out = (f"R{r}" if ar else f"R[{r}]") + (f"C{c}" if ac else f"C[{c}]")
    if sheet is not None:
        sn = to_text(sheet)
        if type(sn) is ExcelError:
            return sn
        if sn:
            if not re.fullmatch(r"[A-Za-z_][\w.]*", sn):  # type: ignore[arg-type]
                sn = "'" + sn.replace("'", "''") + "'"  # type: ignore[union-attr]
            out = f"{sn}!{out}"
    return out


@register("ANCHORARRAY", 1, 1, "R", ctx=True, returns_ref=True)
def fn_anchorarray(ctx: Context, ref: Any) -> Any:
    """``A1#``: the range the dynamic array anchored at A1 spills into."""
    if type(ref) is not Ref:
        return REF
    key = (ref.sheet << SHEET_SHIFT) | (ref.r1 << ROW_SHIFT) | ref.c1
    rng = ctx.spills.get(key)
    if rng is None:
        return ExcelError("#REF!", tr("该处没有动态数组"))
    return Ref(ref.sheet, *rng)


@register("FORMULATEXT", 1, 1, "R", ctx=True)
def fn_formulatext(ctx: Context, ref: Any) -> Any:
    if type(ref) is not Ref:
        return NA
    key = (ref.sheet << SHEET_SHIFT) | (ref.r1 << ROW_SHIFT) | ref.c1
    text = ctx.formula_text(key)
    if text is None:
        return ExcelError("#N/A", tr("不是公式单元格"))
    return "=" + re.sub(r"_xlfn\.(?:_xlws\.)?|_xlws\.", "", text)


# --------------------------------------------------------------------------- XLOOKUP

def _xfind(ctx: Context, x: Any, vals: list[Any], match: int, search: int,
           cache_key: tuple | None, blank_beyond: bool = False) -> int:
    """XMATCH/XLOOKUP: the position of x in vals, or -1."""
    if x is None:  # an empty lookup value finds the first empty cell
        i = next((i for i, v in enumerate(vals) if v is None), -1)
        return i if i >= 0 or not blank_beyond else len(vals)
    if search in (2, -2):
        # binary search over a sorted array (descending: the reversed array ascending, so
        # among equal values the last one is found, as in Excel)
        cand = [i for i, v in enumerate(vals) if v is not None and type(v) is not ExcelError]
        if search == -2:
            cand.reverse()
        keys = [vals[i] for i in cand]
        lo, hi = 0, len(keys)
        while lo < hi:
            mid = (lo + hi) // 2
            if compare(keys[mid], x) < 0:  # type: ignore[operator]
                lo = mid + 1
            else:
                hi = mid
        if lo < len(keys) and compare(keys[lo], x) == 0:
            return cand[lo]
        if match == 0:
            return -1
        smaller, larger = lo - 1, lo
        j = smaller if match == -1 else larger
        return cand[j] if 0 <= j < len(cand) else -1
    order = range(len(vals)) if search >= 0 else range(len(vals) - 1, -1, -1)
    if match == 3:  # a regular expression (Excel 365), case-sensitive, anywhere in the text
        if type(x) is not str:
            return -1
        try:
            rs = re.compile(x).search
        except re.error:
            return -1
        for i in order:
            v = vals[i]
            if type(v) is str and rs(v):
                return i
        return -1
    if match == 2 and type(x) is str:
        rx = _wild_re(x).fullmatch
        for i in order:
            v = vals[i]
            if type(v) is str and rx(v):
                return i
        return -1
    if match in (0, 2):
        if search >= 0 and cache_key is not None:
            return _exact_find(ctx, x, vals, cache_key) if not (
                type(x) is str and _has_wild(x)) else _plain_find(x, vals, order)
        return _plain_find(x, vals, order)
    best, best_v = -1, None
    for i in order:
        v = vals[i]
        if v is None or type(v) is ExcelError:
            continue
        c = compare(v, x)  # across types too: numbers < text < logicals
        if c == 0:
            return i
        if (match == -1 and c < 0 and (best_v is None or compare(v, best_v) > 0)) or (
                match == 1 and c > 0 and (best_v is None or compare(v, best_v) < 0)):
            best, best_v = i, v
    return best


def _plain_find(x: Any, vals: list[Any], order: Iterable[int]) -> int:
    k = _norm(x)
    for i in order:
        if _norm(vals[i]) == k:
            return i
    return -1


def _x_modes(match: Any, search: Any) -> tuple[int, int] | ExcelError:
    m = 0 if match is None else to_int(match)
    s = 1 if search is None else to_int(search)
    if type(m) is ExcelError:
        return m
    if type(s) is ExcelError:
        return s
    if m not in (-1, 0, 1, 2, 3) or s not in (-2, -1, 1, 2) or (m >= 2 and s in (-2, 2)):
        return VALUE  # wildcards cannot be searched for by bisection
    return m, s  # type: ignore[return-value]


@register("XMATCH", 2, 4, "AASS", ctx=True)
def fn_xmatch(ctx: Context, x: Any, arr: Any, match: Any = None, search: Any = None) -> Any:
    modes = _x_modes(match, search)
    if type(modes) is ExcelError:
        return modes
    got = _vector(ctx, arr)
    if type(got) is ExcelError:
        return got
    vals, ref, _row = got  # type: ignore[misc]
    rid = _range_id(ref)

    def one(v: Any) -> Any:
        if type(v) is ExcelError:
            return v
        i = _xfind(ctx, v, vals, *modes, ("xm", *rid) if rid else None)  # type: ignore
        return float(i + 1) if i >= 0 else ExcelError("#N/A", tr("XMATCH：找不到"))

    if type(x) is Ref:
        x = ctx.array(x) if not x.is_cell else ctx.cell(x.sheet, x.r1, x.c1)
    if type(x) is list:
        return [[one(v) for v in row] for row in x]
    return one(x)


@register("XLOOKUP", 3, 6, "AAASSS", ctx=True, returns_ref=True)
def fn_xlookup(ctx: Context, x: Any, look: Any, ret: Any, if_not_found: Any = None,
               match: Any = None, search: Any = None) -> Any:
    modes = _x_modes(match, search)
    if type(modes) is ExcelError:
        return modes
    got = _vector(ctx, look)
    if type(got) is ExcelError:
        return ExcelError("#VALUE!", tr("XLOOKUP：查找数组必须是一行或一列"))
    vals, ref, is_row = got  # type: ignore[misc]
    n = len(vals)
    if type(ret) is Ref:
        r1, c1, r2, c2 = ctx.clamp(ret)  # whole columns are cut to the used rows, as look
        rh, rw = max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0)
    elif type(ret) is list:
        rh, rw = len(ret), len(ret[0])
    else:
        rh = rw = 1
    if ((is_row and rw != n) or (not is_row and rh != n)) and not (n == 1 and rh == rw == 1):
        return ExcelError("#VALUE!", tr("XLOOKUP：各数组大小不同"))
    rid = _range_id(ref)
    beyond = type(look) is Ref and ctx.clamp(look)[2] < look.r2

    def pick(i: int) -> Any:
        if type(ret) is Ref:
            if is_row:
                return Ref(ret.sheet, ret.r1, ret.c1 + i, ret.r2, ret.c1 + i)
            return Ref(ret.sheet, ret.r1 + i, ret.c1, ret.r1 + i, ret.c2)
        if type(ret) is list:
            if is_row:
                col = [[r[i]] for r in ret]
                return col if len(col) > 1 else col[0][0]
            row = ret[i]
            return [list(row)] if len(row) > 1 else row[0]
        return ret

    def one(v: Any) -> Any:
        if type(v) is ExcelError:
            return v
        i = _xfind(ctx, v, vals, *modes, ("xm", *rid) if rid else None,  # type: ignore
                   beyond)
        if i < 0:
            return if_not_found if if_not_found is not None else ExcelError(
                "#N/A", tr("XLOOKUP：找不到"))
        return pick(i)

    if type(x) is Ref:
        x = ctx.array(x) if not x.is_cell else ctx.cell(x.sheet, x.r1, x.c1)
    if type(x) is list:
        if len(x) == 1 and len(x[0]) == 1:
            return one(x[0][0])
        out = []
        for row in x:
            line = []
            for v in row:
                r = one(v)
                if type(r) is Ref:
                    r = ctx.cell(r.sheet, r.r1, r.c1) if r.is_cell else ctx.array(r)[0][0]
                elif type(r) is list:
                    r = r[0][0]
                line.append(r)
            out.append(line)
        return out
    return one(x)
