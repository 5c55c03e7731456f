"""Dynamic arrays (Excel's Lookup & Reference category): FILTER, SORT, SORTBY, UNIQUE,
TRANSPOSE, TAKE, DROP, CHOOSECOLS/CHOOSEROWS, HSTACK/VSTACK, TOCOL/TOROW, WRAPCOLS/WRAPROWS,
EXPAND. Each returns rows of values; in a file's dynamic-array formula the result fills the
spill range Excel recorded (a result of another size is reported, not written)."""

from __future__ import annotations

from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref
from ..values import NA, VALUE, to_bool, to_number
from .args import to_int
from .registry import registrar

register = registrar("Lookup & Reference")


def calc_empty() -> ExcelError:
    """An array function with nothing to return: #CALC! in Excel 365 (FILTER with no match and
    no if_empty, UNIQUE, TOCOL/TOROW leaving nothing out). Excel stores it as a rich value
    (``errorType`` 13, ``subType`` 3 "empty array"; see ``recompute/richvalues.py``), which an
    older reader sees as #VALUE!."""
    return ExcelError("#CALC!", tr("结果为空"))


def nothing_left() -> ExcelError:
    """TAKE/DROP leaving no row or column: #CALC! in Excel 365 (corpus DROP_TAKE.xlsx C2:L2)."""
    return ExcelError("#CALC!", tr("没有可返回的内容"))


def _grid(ctx: Context, a: Any) -> list[list[Any]]:
    g = ctx.array(a)
    return [[0.0 if v is None else v for v in row] for row in g]


def _sort_key(v: Any) -> tuple:
    """Excel's sort order: numbers, text (case-insensitive), logicals, errors; blanks last."""
    t = type(v)
    if t is float:
        return (0, v)
    if t is str:
        return (1, v.casefold())
    if t is bool:
        return (2, v)
    if t is ExcelError:
        return (3, v.error_type)
    return (4, 0)


@register("TRANSPOSE", 1, 1, "A", ctx=True)
def fn_transpose(ctx: Context, a: Any) -> Any:
    g = _grid(ctx, a)
    return [list(col) for col in zip(*g, strict=True)]


@register("FILTER", 2, 3, "AAS", ctx=True)
def fn_filter(ctx: Context, a: Any, include: Any, if_empty: Any = None) -> Any:
    g = _grid(ctx, a)
    inc = ctx.array(include)
    h, w = len(g), len(g[0])
    ih, iw = len(inc), len(inc[0])

    def truthy(v: Any) -> Any:
        if type(v) is ExcelError:
            return v
        if v is None:
            return False
        b = to_bool(v) if type(v) is not float else v != 0.0
        return ExcelError("#VALUE!", tr("FILTER：include 不是 TRUE/FALSE")) if type(
            b) is ExcelError else b

    if iw == 1 and ih == h:
        flags = [truthy(r[0]) for r in inc]
        for f in flags:
            if type(f) is ExcelError:
                return f
        out = [row for row, f in zip(g, flags, strict=True) if f]
    elif ih == 1 and iw == w:
        flags = [truthy(v) for v in inc[0]]
        for f in flags:
            if type(f) is ExcelError:
                return f
        out = [[v for v, f in zip(row, flags, strict=True) if f] for row in g]
        if out and not out[0]:
            out = []
    else:
        return ExcelError("#VALUE!", tr("FILTER：include 与数组大小不符"))
    if not out:  # Excel 365: #CALC! (corpus FILTER_ERRORS.xlsx E1)
        return calc_empty() if if_empty is None else if_empty
    return out


def _sort_rows(rows: list[list[Any]], keys: list[tuple[list[Any], bool]]) -> list[list[Any]]:
    idx = list(range(len(rows)))
    for vals, desc in reversed(keys):
        blanks = [i for i in idx if vals[i] is None]
        rest = [i for i in idx if vals[i] is not None]
        rest.sort(key=lambda i, v=vals: _sort_key(v[i]), reverse=desc)
        idx = rest + blanks
    return [rows[i] for i in idx]


@register("SORT", 1, 4, "ASSS", ctx=True)
def fn_sort(ctx: Context, a: Any, index: Any = None, order: Any = None,
            by_col: Any = None) -> Any:
    g = [list(r) for r in ctx.array(a)]
    bc = False if by_col is None else to_bool(by_col)
    if type(bc) is ExcelError:
        return bc
    if bc:
        g = [list(c) for c in zip(*g, strict=True)]
    k = 1 if index is None else to_int(index)
    o = 1 if order is None else to_int(order)
    if type(k) is ExcelError:
        return k
    if type(o) is ExcelError:
        return o
    if not 1 <= k <= len(g[0]) or o not in (1, -1):  # type: ignore[operator]
        return VALUE
    out = _sort_rows(g, [([r[k - 1] for r in g], o == -1)])  # type: ignore[operator]
    out = [[0.0 if v is None else v for v in r] for r in out]
    if bc:
        out = [list(c) for c in zip(*out, strict=True)]
    return out


@register("SORTBY", 2, 253, "A", ctx=True)
def fn_sortby(ctx: Context, a: Any, *by: Any) -> Any:
    g = [list(r) for r in ctx.array(a)]
    h, w = len(g), len(g[0])
    keys: list[tuple[list[Any], bool]] = []
    cols = False
    for i in range(0, len(by), 2):
        arr = ctx.array(by[i])
        o = 1 if i + 1 >= len(by) or by[i + 1] is None else to_int(
            by[i + 1] if type(by[i + 1]) is not list else by[i + 1][0][0])
        if type(o) is ExcelError:
            return o
        if o not in (1, -1):
            return VALUE
        if len(arr[0]) == 1 and len(arr) == h:
            keys.append(([r[0] for r in arr], o == -1))
        elif len(arr) == 1 and len(arr[0]) == w:
            cols = True
            keys.append((list(arr[0]), o == -1))
        else:
            return VALUE
    if cols:
        t = [list(c) for c in zip(*g, strict=True)]
        out = _sort_rows(t, keys)
        return [[0.0 if v is None else v for v in r] for r in zip(*out, strict=True)]
    return [[0.0 if v is None else v for v in r] for r in _sort_rows(g, keys)]


def _row_key(row: list[Any]) -> tuple:
    out = []
    for v in row:
        t = type(v)
        if t is str:
            out.append(("s", v.casefold()))
        elif t is float:
            out.append(("n", float(f"{v:.15g}")))
        elif t is ExcelError:
            out.append(("e", v.code))
        else:
            out.append((t.__name__, v))
    return tuple(out)


@register("UNIQUE", 1, 3, "ASS", ctx=True)
def fn_unique(ctx: Context, a: Any, by_col: Any = None, once: Any = None) -> Any:
    g = _grid(ctx, a)
    bc = False if by_col is None else to_bool(by_col)
    eo = False if once is None else to_bool(once)
    if type(bc) is ExcelError:
        return bc
    if type(eo) is ExcelError:
        return eo
    if bc:
        g = [list(c) for c in zip(*g, strict=True)]
    counts: dict[tuple, int] = {}
    first: dict[tuple, list[Any]] = {}
    for row in g:
        k = _row_key(row)
        counts[k] = counts.get(k, 0) + 1
        first.setdefault(k, row)
    out = [first[k] for k in first if not eo or counts[k] == 1]
    if not out:
        return calc_empty()
    if bc:
        out = [list(c) for c in zip(*out, strict=True)]
    return out


def _count(v: Any, default: int) -> int | ExcelError:
    if v is None:
        return default
    return to_int(v)


@register("TAKE", 2, 3, "ASS", ctx=True)
def fn_take(ctx: Context, a: Any, rows: Any, cols: Any = None) -> Any:
    g = _grid(ctx, a)
    r, c = _count(rows, len(g)), _count(cols, len(g[0]))
    if type(r) is ExcelError:
        return r
    if type(c) is ExcelError:
        return c
    if r == 0 or c == 0:
        return nothing_left()
    g = g[:r] if r > 0 else g[r:]  # type: ignore[operator]
    return [row[:c] if c > 0 else row[c:] for row in g]  # type: ignore[operator]


@register("DROP", 2, 3, "ASS", ctx=True)
def fn_drop(ctx: Context, a: Any, rows: Any, cols: Any = None) -> Any:
    g = _grid(ctx, a)
    r, c = _count(rows, 0), _count(cols, 0)
    if type(r) is ExcelError:
        return r
    if type(c) is ExcelError:
        return c
    g = g[r:] if r >= 0 else g[:r]  # type: ignore[operator]
    g = [row[c:] if c >= 0 else row[:c] for row in g]  # type: ignore[operator]
    if not g or not g[0]:
        return nothing_left()
    return g


def _choose(ctx: Context, a: Any, picks: tuple[Any, ...], cols: bool) -> Any:
    g = _grid(ctx, a)
    if cols:
        g = [list(c) for c in zip(*g, strict=True)]
    out = []
    for p in picks:
        vals = [v for row in p for v in row] if type(p) is list else [p]
        for v in vals:
            n = to_int(v)
            if type(n) is ExcelError:
                return n
            if n == 0 or abs(n) > len(g):  # type: ignore[arg-type]
                return VALUE
            out.append(g[n - 1] if n > 0 else g[n])  # type: ignore[operator, index]
    if cols:
        out = [list(c) for c in zip(*out, strict=True)]
    return out


@register("CHOOSECOLS", 2, 254, "AS", ctx=True)
def fn_choosecols(ctx: Context, a: Any, *cols: Any) -> Any:
    return _choose(ctx, a, cols, True)


@register("CHOOSEROWS", 2, 254, "AS", ctx=True)
def fn_chooserows(ctx: Context, a: Any, *rows: Any) -> Any:
    return _choose(ctx, a, rows, False)


@register("VSTACK", 1, 254, "A", ctx=True)
def fn_vstack(ctx: Context, *arrays: Any) -> Any:
    grids = [_grid(ctx, a) for a in arrays]
    w = max(len(g[0]) for g in grids)
    return [[*row, *([NA] * (w - len(row)))] for g in grids for row in g]


@register("HSTACK", 1, 254, "A", ctx=True)
def fn_hstack(ctx: Context, *arrays: Any) -> Any:
    grids = [_grid(ctx, a) for a in arrays]
    h = max(len(g) for g in grids)
    out = []
    for i in range(h):
        row: list[Any] = []
        for g in grids:
            row.extend(g[i] if i < len(g) else [NA] * len(g[0]))
        out.append(row)
    return out


def _flatten(ctx: Context, a: Any, ignore: Any, by_col: Any) -> list[Any] | ExcelError:
    g = ctx.array(a)
    ig = 0 if ignore is None else to_int(ignore)
    bc = False if by_col is None else to_bool(by_col)
    if type(ig) is ExcelError:
        return ig
    if type(bc) is ExcelError:
        return bc
    if ig not in (0, 1, 2, 3):
        return VALUE
    if bc:
        g = [list(c) for c in zip(*g, strict=True)]
    out = []
    for row in g:
        for v in row:
            if v is None and ig in (1, 3):
                continue
            if type(v) is ExcelError and ig in (2, 3):
                continue
            out.append(0.0 if v is None else v)
    return out


@register("TOCOL", 1, 3, "ASS", ctx=True)
def fn_tocol(ctx: Context, a: Any, ignore: Any = None, by_col: Any = None) -> Any:
    vals = _flatten(ctx, a, ignore, by_col)
    if type(vals) is ExcelError:
        return vals
    return [[v] for v in vals] if vals else calc_empty()  # type: ignore[union-attr]


@register("TOROW", 1, 3, "ASS", ctx=True)
def fn_torow(ctx: Context, a: Any, ignore: Any = None, by_col: Any = None) -> Any:
    vals = _flatten(ctx, a, ignore, by_col)
    if type(vals) is ExcelError:
        return vals
    return [list(vals)] if vals else calc_empty()  # type: ignore[arg-type]


def _wrap(ctx: Context, v: Any, n: Any, pad: Any, cols: bool) -> Any:
    g = _grid(ctx, v)
    if len(g) > 1 and len(g[0]) > 1:
        return VALUE
    vals = [x for row in g for x in row]
    k = to_int(n)
    if type(k) is ExcelError:
        return k
    if k < 1:  # type: ignore[operator]
        return ExcelError("#NUM!", tr("换行数小于 1"))
    fill = NA if pad is None else pad
    chunks = [vals[i:i + k] for i in range(0, len(vals), k)]  # type: ignore[misc]
    chunks[-1] = chunks[-1] + [fill] * (k - len(chunks[-1]))  # type: ignore[operator]
    if cols:
        return [list(c) for c in zip(*chunks, strict=True)]
    return chunks


@register("WRAPROWS", 2, 3, "ASS", ctx=True)
def fn_wraprows(ctx: Context, v: Any, n: Any, pad: Any = None) -> Any:
    return _wrap(ctx, v, n, pad, False)


@register("WRAPCOLS", 2, 3, "ASS", ctx=True)
def fn_wrapcols(ctx: Context, v: Any, n: Any, pad: Any = None) -> Any:
    return _wrap(ctx, v, n, pad, True)


@register("EXPAND", 2, 4, "ASSS", ctx=True)
def fn_expand(ctx: Context, a: Any, rows: Any, cols: Any = None, pad: Any = None) -> Any:
    g = _grid(ctx, a)
    r = len(g) if rows is None else to_int(rows)
    c = len(g[0]) if cols is None else to_int(cols)
    if type(r) is ExcelError:
        return r
    if type(c) is ExcelError:
        return c
    if r < len(g) or c < len(g[0]):  # type: ignore[operator]
        return VALUE
    fill = NA if pad is None else pad
    out = [[*row, *([fill] * (c - len(row)))] for row in g]  # type: ignore[operator]
    out += [[fill] * c for _ in range(r - len(g))]  # type: ignore[operator]
    return out




@register("TRIMRANGE", 1, 3, "RSS", ctx=True, returns_ref=True)
def fn_trimrange(ctx: Context, ref: Any, rows: Any = None, cols: Any = None) -> Any:
    """The reference without its empty outer rows and columns: trim_rows/trim_cols 0 none,
    1 leading, 2 trailing, 3 both (the default). A cell holding "" is not empty."""
    if type(ref) is ExcelError:
        return ref
    if type(ref) is not Ref:
        return ExcelError("#VALUE!", tr("TRIMRANGE 需要单元格引用"))
    modes = []
    for a in (rows, cols):
        m = 3.0 if a is None else to_number(a)
        if type(m) is ExcelError:
            return m
        if m not in (0.0, 1.0, 2.0, 3.0):
            return VALUE
        modes.append(int(m))  # type: ignore[arg-type]
    r1, c1, r2, c2 = ctx.clamp(ref)
    filled = [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
              if ctx.cell(ref.sheet, r, c) is not None]
    if not filled:
        return ExcelError("#REF!", tr("TRIMRANGE：区域是空的"))
    lo_r, hi_r = min(r for r, _ in filled), max(r for r, _ in filled)
    lo_c, hi_c = min(c for _, c in filled), max(c for _, c in filled)
    rm, cm = modes
    return Ref(ref.sheet, lo_r if rm in (1, 3) else ref.r1, lo_c if cm in (1, 3) else ref.c1,
               hi_r if rm in (2, 3) else ref.r2, hi_c if cm in (2, 3) else ref.c2)
