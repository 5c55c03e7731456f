"""Excel's operators: ``+ - * / ^ & = <> < > <= >=``, unary minus and ``%``, on values and on
arrays, and the closures the compiler builds for them.

Scalar operators take two evaluated values (``arith_add(a, b)``) and follow Excel's
coercions (``values.py``). On arrays and ranges they act element-wise with broadcasting
(:func:`array_binop`, :func:`lift_apply`), with float fast paths for the common
conditional-sum idioms. :func:`fast_binop` builds the closure of a scalar operator between two
compiled operands, with a float fast path and no per-call dispatch. Both the compiler and the
function library use this module; neither imports the other.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from .core import Context, Ref
from .values import NA, checked, compare, to_bool, to_number, to_text

Fn = Callable[[int], Any]

_EPS48 = 2.0 ** -48
_BIG = 1.7976931348623157e308
CMP_OPS = frozenset(("=", "<>", "<", ">", "<=", ">="))
FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


# --------------------------------------------------------------------------- scalar operators

def _snap(r: float, a: float) -> float:
    # LibreOffice's approxAdd/approxSub (and what Excel shows): a difference that is only
    # representation noise, like 0.1+0.2-0.3, is zero.
    if r and abs(r) < abs(a) * _EPS48:
        return 0.0
    return r


def arith_add(a: Any, b: Any) -> Any:
    if type(a) is ExcelError:
        return a
    if type(b) is ExcelError:
        return b
    x = to_number(a)
    if type(x) is not float:
        return x
    y = to_number(b)
    if type(y) is not float:
        return y
    return checked(_snap(x + y, x))  # type: ignore[operator]


def arith_sub(a: Any, b: Any) -> Any:
    if type(a) is ExcelError:
        return a
    if type(b) is ExcelError:
        return b
    x = to_number(a)
    if type(x) is not float:
        return x
    y = to_number(b)
    if type(y) is not float:
        return y
    return checked(_snap(x - y, x))  # type: ignore[operator]


def arith_mul(a: Any, b: Any) -> Any:
    if type(a) is ExcelError:
        return a
    if type(b) is ExcelError:
        return b
    x = to_number(a)
    if type(x) is not float:
        return x
    y = to_number(b)
    if type(y) is not float:
        return y
    return checked(x * y)  # type: ignore[operator]


def arith_div(a: Any, b: Any) -> Any:
    if type(a) is ExcelError:
        return a
    if type(b) is ExcelError:
        return b
    x = to_number(a)
    if type(x) is not float:
        return x
    y = to_number(b)
    if type(y) is not float:
        return y
    if y == 0.0:
        return ExcelError("#DIV/0!", tr("除数为零"))
    return checked(x / y)  # type: ignore[operator]


def arith_pow(a: Any, b: Any) -> Any:
    if type(a) is ExcelError:
        return a
    if type(b) is ExcelError:
        return b
    x = to_number(a)
    if type(x) is not float:
        return x
    y = to_number(b)
    if type(y) is not float:
        return y
    if x == 0.0:
        if y == 0.0:
            return ExcelError("#NUM!", "0^0")
        if y < 0.0:  # type: ignore[operator]
            return ExcelError("#DIV/0!", tr("0 的负数次幂"))
        return 0.0
    if x < 0.0 and not float(y).is_integer():  # type: ignore[operator]
        return ExcelError("#NUM!", tr("负数的分数次幂"))
    try:
        r = x ** y  # type: ignore[operator]
    except OverflowError:
        return ExcelError("#NUM!", tr("数字太大"))
    if type(r) is complex:  # pragma: no cover - guarded above
        return ExcelError("#NUM!", tr("结果为复数"))
    return checked(r)


def op_concat(a: Any, b: Any) -> Any:
    if type(b) is ExcelError and type(a) is not ExcelError:
        return b
    x = to_text(a)
    if type(x) is not str:
        return x
    y = to_text(b)
    if type(y) is not str:
        return y
    s = x + y
    if len(s) > 32767:
        return ExcelError("#VALUE!", tr("文字超过 32767 个字符"))
    return s


def _cmp(test: Callable[[int], bool]) -> Callable[[Any, Any], Any]:
    def f(a: Any, b: Any) -> Any:
        c = compare(a, b)
        if type(c) is ExcelError:
            return c
        return test(c)  # type: ignore[arg-type]

    return f


SCALAR_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": arith_add,
    "-": arith_sub,
    "*": arith_mul,
    "/": arith_div,
    "^": arith_pow,
    "&": op_concat,
    "=": _cmp(lambda c: c == 0),
    "<>": _cmp(lambda c: c != 0),
    "<": _cmp(lambda c: c < 0),
    ">": _cmp(lambda c: c > 0),
    "<=": _cmp(lambda c: c <= 0),
    ">=": _cmp(lambda c: c >= 0),
}


def neg(a: Any) -> Any:
    x = to_number(a)
    if type(x) is not float:
        return x
    return -x  # type: ignore[operator]


def pct(a: Any) -> Any:
    x = to_number(a)
    if type(x) is not float:
        return x
    return x / 100.0  # type: ignore[operator]


# --------------------------------------------------------------------------- arrays

def _pick(g: list[list[Any]], i: int, j: int) -> Any:
    h, w = len(g), len(g[0])
    ii = 0 if h == 1 else i
    jj = 0 if w == 1 else j
    if ii >= h or jj >= w:
        return NA
    return g[ii][jj]


def lift_apply(ctx: Context, impl: Callable[..., Any], args: list[Any]) -> Any:
    """Apply a scalar function element-wise when some argument is an array or range."""
    grids: list[list[list[Any]] | None] = []
    any_array = False
    for a in args:
        t = type(a)
        if t is Ref or t is list:
            grids.append(ctx.array(a))
            any_array = True
        else:
            grids.append(None)
    if not any_array:
        return impl(*args)
    h = max(len(g) for g in grids if g is not None)
    w = max(len(g[0]) for g in grids if g is not None)
    out = []
    for i in range(h):
        row = []
        for j in range(w):
            vals = [a if g is None else _pick(g, i, j) for a, g in zip(args, grids, strict=True)]
            row.append(impl(*vals))
        out.append(row)
    return out


def _flat_shape(ctx: Context, v: Any) -> tuple[list[Any], int, int] | None:
    if type(v) is Ref:
        r1, c1, r2, c2 = ctx.clamp(v)
        if r2 < r1 or c2 < c1:
            return [None], 1, 1
        return ctx.flat(v), r2 - r1 + 1, c2 - c1 + 1
    if type(v) is list:
        h, w = len(v), len(v[0])
        return ([r[0] for r in v] if w == 1 else [x for r in v for x in r]), h, w
    return None


def _shape(vals: list[Any], h: int, w: int) -> list[list[Any]]:
    if w == 1:
        return [[x] for x in vals]
    return [vals[i * w:(i + 1) * w] for i in range(h)]


def _vec_scalar(op: str, xs: list[Any], y: Any, slow: Callable[[Any, Any], Any],
                flip: bool) -> list[Any]:
    """``xs[i] op y`` (or ``y op xs[i]`` when flip) for every i, with float fast paths."""
    if flip:
        def sl(v: Any) -> Any:
            return slow(y, v)
    else:
        def sl(v: Any) -> Any:
            return slow(v, y)
    ty = type(y)
    if ty is float:
        if op in CMP_OPS:
            if flip:
                op = FLIP.get(op, op)
            t = abs(y) * _EPS48
            if op == "=":
                return [(abs(v - y) <= t) if type(v) is float else sl(v) for v in xs]
            if op == "<>":
                return [(abs(v - y) > t) if type(v) is float else sl(v) for v in xs]
            if op == ">":
                return [(v - y > t) if type(v) is float else sl(v) for v in xs]
            if op == "<":
                return [(y - v > t) if type(v) is float else sl(v) for v in xs]
            if op == ">=":
                return [(y - v <= t) if type(v) is float else sl(v) for v in xs]
            return [(v - y <= t) if type(v) is float else sl(v) for v in xs]
        if op == "*":
            return [v * y if type(v) is float or type(v) is bool else sl(v) for v in xs]
        if op == "/" and y != 0.0 and not flip:
            return [v / y if type(v) is float else sl(v) for v in xs]
        if op == "+":
            return [v + y if type(v) is float else sl(v) for v in xs]
    elif ty is str and op in ("=", "<>"):
        yc = y.casefold()
        if op == "=":
            return [(v.casefold() == yc) if type(v) is str else sl(v) for v in xs]
        return [(v.casefold() != yc) if type(v) is str else sl(v) for v in xs]
    return [sl(v) for v in xs]


def _one(ctx: Context, v: Any) -> Any:
    """A single-cell reference or 1×1 array is just a value (it broadcasts)."""
    t = type(v)
    if t is Ref and v.r1 == v.r2 and v.c1 == v.c2:
        return ctx.cell(v.sheet, v.r1, v.c1)
    if t is list and len(v) == 1 and len(v[0]) == 1:
        return v[0][0]
    return v


def _num_or_bool(v: Any) -> bool:
    t = type(v)
    return t is float or t is bool


def array_binop(ctx: Context, op: str, slow: Callable[[Any, Any], Any], x: Any, y: Any) -> Any:
    """An operator between arrays/ranges (and scalars), element-wise as Excel does."""
    x = _one(ctx, x)
    y = _one(ctx, y)
    fx = _flat_shape(ctx, x)
    fy = _flat_shape(ctx, y)
    if fx is not None and fy is None:
        vals, h, w = fx
        res = _vec_scalar(op, vals, y, slow, False)
    elif fx is None and fy is not None:
        vals, h, w = fy
        res = _vec_scalar(op, vals, x, slow, True)
    elif fx is None:
        return slow(x, y)
    elif fx is not None and fy is not None and fx[1:] == fy[1:]:
        xs, h, w = fx
        ys = fy[0]
        if op == "*":
            res = [(a * b) + 0.0 if _num_or_bool(a) and _num_or_bool(b) else slow(a, b)
                   for a, b in zip(xs, ys, strict=True)]
        elif op == "+":
            res = [a + b if type(a) is float and type(b) is float else slow(a, b)
                   for a, b in zip(xs, ys, strict=True)]
        else:
            res = [slow(a, b) for a, b in zip(xs, ys, strict=True)]
    else:
        return lift_apply(ctx, slow, [x, y])
    return _shape(res, h, w)


def array_scalars(ctx: Context, v: Any) -> Any:
    """In an array context: a Ref becomes its array, other values stay."""
    if type(v) is Ref:
        return ctx.array(v)
    return v



# --------------------------------------------------------------------------- helpers

def const(v: Any) -> Fn:
    def const(base: int) -> Any:
        return v

    const.value = v  # type: ignore[attr-defined]
    return const



def truth(c: Any) -> Any:
    t = type(c)
    if t is bool:
        return c
    if t is float:
        return c != 0.0
    if c is None:
        return False
    return to_bool(c)


def select(c: Any, a: Any, b: Any) -> Any:
    t = truth(c)
    if type(t) is ExcelError:
        return t
    return a if t else b



def fast_binop(op: str, fa: Fn, fb: Fn, na: tuple, nb: tuple,
                slow: Callable[[Any, Any], Any]) -> Fn:
    """Closures for a scalar binary operator with a float fast path."""
    cb = nb[1] if nb[0] == "n" else None
    if op == "+":
        if cb is not None:
            k = float(cb)

            def add_const(base: int) -> Any:
                a = fa(base)
                if type(a) is float:
                    r = a + k
                    if r and abs(r) < abs(a) * _EPS48:
                        return 0.0
                    return r
                return slow(a, k)

            return add_const

        def add(base: int) -> Any:
            a = fa(base)
            b = fb(base)
            if type(a) is float and type(b) is float:
                r = a + b
                if r and abs(r) < abs(a) * _EPS48:
                    return 0.0
                return r
            return slow(a, b)

        return add
    if op == "-":
        def sub(base: int) -> Any:
            a = fa(base)
            b = fb(base)
            if type(a) is float and type(b) is float:
                r = a - b
                if r and abs(r) < abs(a) * _EPS48:
                    return 0.0
                return r
            return slow(a, b)

        return sub
    if op == "*":
        if cb is not None:
            k = float(cb)

            def mul_const(base: int) -> Any:
                a = fa(base)
                if type(a) is float:
                    r = a * k
                    if -_BIG <= r <= _BIG:
                        return r
                return slow(a, k)

            return mul_const

        def mul(base: int) -> Any:
            a = fa(base)
            b = fb(base)
            if type(a) is float and type(b) is float:
                r = a * b
                if -_BIG <= r <= _BIG:
                    return r
            return slow(a, b)

        return mul
    if op == "/":
        def div(base: int) -> Any:
            a = fa(base)
            b = fb(base)
            if type(a) is float and type(b) is float and b != 0.0:
                r = a / b
                if -_BIG <= r <= _BIG:
                    return r
            return slow(a, b)

        return div
    if op in ("=", "<>") and nb[0] == "s":
        # x="text", x="" (IF(G5="是",…), IF(F5="",…)): what compare() decides, without it —
        # text against text case-insensitively, a blank as "", a number or a boolean never
        # equal to text; anything else (errors) goes the general way
        text = nb[1]
        folded = text.casefold()
        blank = folded == ""  # what "" (a blank) against the text gives
        eq = op == "="

        def cmp_text(base: int) -> Any:
            a = fa(base)
            t = type(a)
            if t is str:
                return (a.casefold() == folded) is eq
            if a is None:
                return blank is eq
            if t is float or t is bool:
                return not eq
            return slow(a, fb(base))

        return cmp_text
    if op in ("=", "<>", "<", ">", "<=", ">="):
        pyop = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge,
                "=": operator.eq, "<>": operator.ne}[op]

        def cmp(base: int) -> Any:
            a = fa(base)
            b = fb(base)
            if type(a) is float and type(b) is float and (a == b or not _near(a, b)):
                return pyop(a, b)
            return slow(a, b)

        return cmp

    def binop(base: int) -> Any:
        return slow(fa(base), fb(base))

    return binop


def _near(a: float, b: float) -> bool:
    d = abs(a - b)
    return d < abs(a) * _EPS48 and d < abs(b) * _EPS48

