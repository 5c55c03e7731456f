"""Syntax tree → Python closures.

Each node becomes a closure ``f(base) -> value`` where ``base`` is the key of the formula's
own cell (see ``core.py``). Compiling once per distinct relative formula and calling the
closure with a different ``base`` for each cell is what makes a column of copied formulas
cheap: no tree walking, no per-cell parsing, one ``dict.get`` per cell reference.

Nodes are compiled in one of three modes, as Excel evaluates them:

* ``S`` — a single value. A range in this position is implicitly intersected with the
  formula's row or column (``=B:B*2`` in row 5 reads B5).
* ``R`` — a reference or a value: ranges stay :class:`~.core.Ref` objects, for the functions
  that take ranges (SUM, COUNTIF, VLOOKUP…).
* ``A`` — an array: ranges become arrays and operators/scalar functions act element-wise
  (arguments of SUMPRODUCT, the lookup vector of LOOKUP/MATCH, array formulas).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from xlbridge.xlvalues import ExcelError

from .core import (
    COL_MASK,
    MAX_COL,
    MAX_ROW,
    PENDING,
    ROW_MASK,
    ROW_SHIFT,
    SHEET_SHIFT,
    Context,
    NeedCells,
    Ref,
    Unsupported,
    scalar,
)
from .formula import FormulaSyntaxError, parse_key, relative_key
from .functions import (
    NOFAST,
    SPECIAL_FORMS,
    FunctionSpec,
    call_external,
    lookup,
    sumproduct_conditional,
)
from .values import (
    ERRORS,
    NA,
    VALUE,
    checked,
    compare,
    to_bool,
    to_number,
    to_text,
)

Fn = Callable[[int], Any]

_EPS48 = 2.0 ** -48
_BIG = 1.7976931348623157e308
_CMP_OPS = frozenset(("=", "<>", "<", ">", "<=", ">="))
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


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
        return ExcelError("#DIV/0!", "division by zero")
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
            return ExcelError("#DIV/0!", "0 to a negative power")
        return 0.0
    if x < 0.0 and not float(y).is_integer():  # type: ignore[operator]
        return ExcelError("#NUM!", "negative number to a fractional power")
    try:
        r = x ** y  # type: ignore[operator]
    except OverflowError:
        return ExcelError("#NUM!", "number too large")
    if type(r) is complex:  # pragma: no cover - guarded above
        return ExcelError("#NUM!", "complex result")
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
        return ExcelError("#VALUE!", "text longer than 32767 characters")
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
        if op in _CMP_OPS:
            if flip:
                op = _FLIP.get(op, op)
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


def _array_scalars(ctx: Context, v: Any) -> Any:
    """In an array context: a Ref becomes its array, other values stay."""
    if type(v) is Ref:
        return ctx.array(v)
    return v


# --------------------------------------------------------------------------- names

class NameTable:
    """Defined names: ``(scope, NAME)`` → formula text; scope is a sheet index or None."""

    def __init__(self, names: Mapping[tuple[int | None, str], str] | None = None):
        self.text: dict[tuple[int | None, str], str] = {}
        for (scope, name), text in (names or {}).items():
            self.text[(scope, name.upper())] = text
        self._parsed: dict[tuple[int | None, str], tuple | Exception] = {}

    def find(self, name: str, sheet: int, explicit_sheet: int | None) -> tuple | None:
        up = name.upper()
        keys = [(explicit_sheet, up)] if explicit_sheet is not None else [(sheet, up), (None, up)]
        if explicit_sheet is not None:
            keys.append((None, up))
        for k in keys:
            if k in self.text:
                got = self._parsed.get(k)
                if got is None:
                    try:
                        got = parse_key(relative_key(self.text[k].removeprefix("="), 1, 1))
                    except FormulaSyntaxError as exc:
                        got = exc
                    self._parsed[k] = got
                if isinstance(got, Exception):
                    raise Unsupported(f"defined name {name}: {got}")
                return got
        return None


# --------------------------------------------------------------------------- compiler

class Compiler:
    """Compiles syntax trees of one sheet's formulas against one workbook context."""

    def __init__(self, ctx: Context, sheet: int, names: NameTable,
                 extra: Mapping[str, FunctionSpec] | None = None):
        self.ctx = ctx
        self.sheet = sheet
        self.names = names
        self.extra = extra
        self.unknown: list[str] = []    # unsupported functions met while compiling
        self.unsupported: list[str] = []  # other unsupported features
        self._name_stack: list[str] = []

    # ---------------------------------------------------------------- entry points

    def compile(self, node: tuple, mode: str = "S") -> Fn:
        kind = node[0]
        meth = getattr(self, "c_" + kind)
        return meth(node, mode)

    def compile_root(self, node: tuple, array: bool = False) -> Fn:
        """A formula cell's closure: a single value (or an array for array formulas)."""
        self.unknown = []
        self.unsupported = []
        f = self.compile(node, "A" if array else "S")
        if array:
            ctx = self.ctx

            def root_array(base: int) -> Any:
                v = f(base)
                if type(v) is Ref:
                    return [list(r) for r in ctx.array(v)]
                return v

            return root_array
        return f

    # ---------------------------------------------------------------- literals

    def c_n(self, node: tuple, mode: str) -> Fn:
        v = float(node[1])
        return _const(v)

    def c_s(self, node: tuple, mode: str) -> Fn:
        return _const(node[1])

    def c_b(self, node: tuple, mode: str) -> Fn:
        return _const(bool(node[1]))

    def c_e(self, node: tuple, mode: str) -> Fn:
        return _const(ERRORS[node[1]])

    def c_miss(self, node: tuple, mode: str) -> Fn:
        return _const(None)

    def c_arr(self, node: tuple, mode: str) -> Fn:
        rows = [[ERRORS[v[1]] if isinstance(v, tuple) else v for v in r] for r in node[1]]
        if mode == "S":
            return _const(rows[0][0])
        return _const(rows)

    # ---------------------------------------------------------------- references

    def _sheet_of(self, name: str | None) -> int | None:
        if name is None:
            return self.sheet
        return self.ctx.sheet_index.get(name.casefold())

    def c_cell(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, (ra, r), (ca, c) = node
        sheet = self._sheet_of(sheet_name)
        if sheet is None:
            return _const(ExcelError("#REF!", f"no sheet named {sheet_name}"))
        values = self.ctx.values
        get = values.get
        own = self.sheet
        if mode == "S":
            if ra and ca:
                k = (sheet << SHEET_SHIFT) | (r << ROW_SHIFT) | c

                def cell_abs(base: int) -> Any:
                    v = get(k)
                    if v is PENDING:
                        raise NeedCells((k,))
                    return v

                return cell_abs
            if not ra and not ca:
                off = ((sheet - own) << SHEET_SHIFT) + (r << ROW_SHIFT) + c

                def cell_rel(base: int) -> Any:
                    k = base + off
                    v = get(k)
                    if v is PENDING:
                        raise NeedCells((k,))
                    return v

                return cell_rel
            keyf = self._mixed_key(sheet, ra, r, ca, c)

            def cell_mixed(base: int) -> Any:
                k = keyf(base)
                v = get(k)
                if v is PENDING:
                    raise NeedCells((k,))
                return v

            return cell_mixed
        rowf = _coord(ra, r, ROW_SHIFT, ROW_MASK)
        colf = _coord(ca, c, 0, COL_MASK)

        def cell_ref(base: int) -> Ref:
            rr, cc = rowf(base), colf(base)
            return Ref(sheet, rr, cc, rr, cc)

        return cell_ref

    def _mixed_key(self, sheet: int, ra: bool, r: int, ca: bool, c: int) -> Fn:
        sb = sheet << SHEET_SHIFT
        if ra:
            rpart = r << ROW_SHIFT

            def key_abs_row(base: int) -> int:
                return sb | rpart | ((base & COL_MASK) + c)

            return key_abs_row
        cpart = c

        def key_abs_col(base: int) -> int:
            return sb | ((((base >> ROW_SHIFT) & ROW_MASK) + r) << ROW_SHIFT) | cpart

        return key_abs_col

    def _area_fn(self, sheet: int, r1: Fn, c1: Fn, r2: Fn, c2: Fn) -> Fn:
        def area(base: int) -> Ref:
            return Ref(sheet, r1(base), c1(base), r2(base), c2(base))

        return area

    def _wrap_area(self, area: Fn, mode: str) -> Fn:
        if mode != "S":
            return area
        ctx = self.ctx

        def area_scalar(base: int) -> Any:
            return ctx.intersect(area(base), base)

        return area_scalar

    def c_area(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, (ra1, r1), (ca1, c1), (ra2, r2), (ca2, c2) = node
        sheet = self._sheet_of(sheet_name)
        if sheet is None:
            return _const(ExcelError("#REF!", f"no sheet named {sheet_name}"))
        if ra1 and ca1 and ra2 and ca2:
            ref = Ref(sheet, r1, c1, r2, c2)
            if mode == "S":
                return self._wrap_area(lambda base: ref, mode)
            return _const(ref)
        area = self._area_fn(sheet, _coord(ra1, r1, ROW_SHIFT, ROW_MASK),
                             _coord(ca1, c1, 0, COL_MASK),
                             _coord(ra2, r2, ROW_SHIFT, ROW_MASK),
                             _coord(ca2, c2, 0, COL_MASK))
        return self._wrap_area(area, mode)

    def c_cols(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, (a1, c1), (a2, c2) = node
        sheet = self._sheet_of(sheet_name)
        if sheet is None:
            return _const(ExcelError("#REF!", f"no sheet named {sheet_name}"))
        one = _const(1)
        last = _const(MAX_ROW)
        area = self._area_fn(sheet, one, _coord(a1, c1, 0, COL_MASK), last,
                             _coord(a2, c2, 0, COL_MASK))
        return self._wrap_area(area, mode)

    def c_rows(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, (a1, r1), (a2, r2) = node
        sheet = self._sheet_of(sheet_name)
        if sheet is None:
            return _const(ExcelError("#REF!", f"no sheet named {sheet_name}"))
        area = self._area_fn(sheet, _coord(a1, r1, ROW_SHIFT, ROW_MASK), _const(1),
                             _coord(a2, r2, ROW_SHIFT, ROW_MASK), _const(MAX_COL))
        return self._wrap_area(area, mode)

    def c_range(self, node: tuple, mode: str) -> Fn:
        fa = self.compile(node[1], "R")
        fb = self.compile(node[2], "R")
        ctx = self.ctx

        def range_op(base: int) -> Any:
            a, b = fa(base), fb(base)
            if type(a) is ExcelError:
                return a
            if type(b) is ExcelError:
                return b
            if type(a) is not Ref or type(b) is not Ref or a.sheet != b.sheet:
                return ExcelError("#VALUE!", "the : operator needs two references")
            return Ref(a.sheet, min(a.r1, b.r1), min(a.c1, b.c1), max(a.r2, b.r2),
                       max(a.c2, b.c2))

        if mode == "S":
            def range_scalar(base: int) -> Any:
                v = range_op(base)
                return ctx.intersect(v, base) if type(v) is Ref else v

            return range_scalar
        return range_op

    def c_name(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, name = node
        explicit = None
        if sheet_name is not None:
            explicit = self._sheet_of(sheet_name)
            if explicit is None:
                return _const(ExcelError("#REF!", f"no sheet named {sheet_name}"))
        try:
            tree = self.names.find(name, self.sheet, explicit)
        except Unsupported as exc:
            self.unsupported.append(str(exc))
            return _raiser(str(exc))
        if tree is None:
            return _const(ExcelError("#NAME?", f"unknown name {name}"))
        if name.upper() in self._name_stack:
            return _const(ExcelError("#NAME?", f"name {name} refers to itself"))
        self._name_stack.append(name.upper())
        try:
            return self.compile(tree, mode)
        finally:
            self._name_stack.pop()

    # ---------------------------------------------------------------- operators

    def c_op(self, node: tuple, mode: str) -> Fn:
        _, op, a, b = node
        scalar_op = SCALAR_OPS[op]
        if mode == "A":
            fa = self.compile(a, "A")
            fb = self.compile(b, "A")
            ctx = self.ctx

            def op_array(base: int) -> Any:
                x, y = fa(base), fb(base)
                tx, ty = type(x), type(y)
                if tx is Ref or tx is list or ty is Ref or ty is list:
                    return array_binop(ctx, op, scalar_op, x, y)
                return scalar_op(x, y)

            return op_array
        fa = self.compile(a, "S")
        fb = self.compile(b, "S")
        return _fast_binop(op, fa, fb, a, b, scalar_op)

    def c_neg(self, node: tuple, mode: str) -> Fn:
        return self._unary(node[1], mode, neg)

    def c_pos(self, node: tuple, mode: str) -> Fn:
        return self.compile(node[1], mode if mode != "R" else "S")

    def c_pct(self, node: tuple, mode: str) -> Fn:
        return self._unary(node[1], mode, pct)

    def _unary(self, inner: tuple, mode: str, fn: Callable[[Any], Any]) -> Fn:
        if mode == "A":
            f = self.compile(inner, "A")
            ctx = self.ctx

            def unary_array(base: int) -> Any:
                x = f(base)
                if type(x) is Ref or type(x) is list:
                    return lift_apply(ctx, fn, [x])
                return fn(x)

            return unary_array
        f = self.compile(inner, "S")

        def unary(base: int) -> Any:
            x = f(base)
            if type(x) is float:
                return fn(x)
            return fn(x)

        if fn is neg:
            def negate(base: int) -> Any:
                x = f(base)
                if type(x) is float:
                    return -x
                return neg(x)

            return negate
        return unary

    # ---------------------------------------------------------------- functions

    def c_fn(self, node: tuple, mode: str) -> Fn:
        _, name, args, _written = node
        if name in SPECIAL_FORMS and not (self.extra and name in self.extra):
            return getattr(self, "s_" + name)(args, mode)
        spec = lookup(name, self.extra)
        if spec is None:
            self.unknown.append(name)
            return _raiser(f"unsupported function {name}")
        n = len(args)
        if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
            return _const(ExcelError("#VALUE!", f"{name} takes {spec.min_args}"
                                     f"–{spec.max_args or 'any'} arguments, got {n}"))
        if name == "SUMPRODUCT" and not spec.external:
            fast = self._sumproduct_fast(args)
            if fast is not None:
                general = self._call(spec, args, mode)

                def sumproduct(base: int) -> Any:
                    r = fast(base)
                    return general(base) if r is NOFAST else r

                return sumproduct
        return self._call(spec, args, mode)

    def _call(self, spec: FunctionSpec, args: list[tuple], mode: str) -> Fn:
        ctx = self.ctx
        fs: list[Fn] = []
        for i, a in enumerate(args):
            m = spec.mode(i)
            if m == "S":
                am = "A" if (mode == "A" and spec.lift) else "S"
            elif m == "R":
                am = "A" if mode == "A" else "R"
            elif m == "A":
                am = "A"
            else:  # external: single cells as values, everything else as references
                am = "S" if a[0] in ("cell", "n", "s", "b", "e", "miss", "op", "neg",
                                     "pct", "pos") else ("A" if mode == "A" else "R")
            fs.append(self.compile(a, am))
        impl = spec.impl
        if spec.external:
            def ext(base: int) -> Any:
                return call_external(ctx, spec, [f(base) for f in fs], base)

            call: Fn = ext
        elif mode == "A" and spec.lift:
            if spec.ctx:
                def lifted(base: int) -> Any:
                    return lift_apply(ctx, lambda *xs: impl(ctx, *xs), [f(base) for f in fs])
            else:
                def lifted(base: int) -> Any:
                    return lift_apply(ctx, impl, [f(base) for f in fs])

            call = lifted
        else:
            call = _direct_call(impl, fs, ctx if spec.ctx else None)
        if spec.returns_ref and mode == "S":
            inner = call

            def to_scalar(base: int) -> Any:
                return scalar(ctx, inner(base), base)

            return to_scalar
        if spec.returns_ref and mode == "A":
            inner2 = call

            def to_array(base: int) -> Any:
                return _array_scalars(ctx, inner2(base))

            return to_array
        return call

    # ---------------------------------------------------------------- SUMPRODUCT fast path

    def _is_range(self, node: tuple) -> bool:
        if node[0] in ("area", "cols", "rows"):
            return True
        if node[0] == "name":
            try:
                explicit = self._sheet_of(node[1]) if node[1] is not None else None
                tree = self.names.find(node[2], self.sheet, explicit)
            except Unsupported:
                return False
            return tree is not None and tree[0] in ("area", "cols", "rows")
        return False

    def _is_scalar(self, node: tuple) -> bool:
        k = node[0]
        if k in ("n", "s", "b", "e", "cell", "miss"):
            return True
        if k == "op":
            return self._is_scalar(node[2]) and self._is_scalar(node[3])
        if k in ("neg", "pos", "pct"):
            return self._is_scalar(node[1])
        if k == "fn":
            spec = lookup(node[1], self.extra)
            return (spec is not None and spec.lift and not spec.external
                    and all(self._is_scalar(a) for a in node[2]))
        return False

    def _sumproduct_fast(self, args: list[tuple]) -> Fn | None:
        """SUMPRODUCT of products of comparisons ``(range op value)`` (and at most one range
        of values): the conditional count/sum idiom, answered from indexes."""
        multi = len(args) > 1
        factors: list[tuple] = []
        if multi:
            for a in args:
                inner = a[1][1] if a[0] == "neg" and a[1][0] == "neg" else None
                if inner is not None and inner[0] == "op" and inner[1] in _CMP_OPS:
                    factors.append(inner)
                elif self._is_range(a):
                    factors.append(a)
                else:
                    return None
        else:
            stack = [args[0]]
            while stack:
                n = stack.pop()
                if n[0] == "op" and n[1] == "*":
                    stack.extend((n[2], n[3]))
                elif n[0] == "neg" and n[1][0] == "neg":
                    stack.append(n[1][1])
                elif n[0] == "pos":
                    stack.append(n[1])
                elif n == ("n", 1.0):
                    continue
                else:
                    factors.append(n)
        eq: list[tuple[Fn, Fn]] = []
        order: tuple[Fn, str, Fn] | None = None
        value: Fn | None = None
        for f in factors:
            if f[0] == "op" and f[1] in _CMP_OPS:
                op, a, b = f[1], f[2], f[3]
                if self._is_range(a) and self._is_scalar(b):
                    rng, sc = a, b
                elif self._is_range(b) and self._is_scalar(a):
                    rng, sc = b, a
                    op = _FLIP.get(op, op)
                else:
                    return None
                if op == "=":
                    eq.append((self.compile(rng, "R"), self.compile(sc, "S")))
                elif op == "<>" or order is not None:
                    return None
                else:
                    order = (self.compile(rng, "R"), op, self.compile(sc, "S"))
            elif self._is_range(f) and value is None:
                value = self.compile(f, "R")
            else:
                return None
        if not eq and order is None:
            return None
        ctx = self.ctx

        def sumproduct_fast(base: int) -> Any:
            pairs = []
            for rf, xf in eq:
                r = rf(base)
                if type(r) is not Ref:
                    return NOFAST
                pairs.append((r, xf(base)))
            o = None
            if order is not None:
                r = order[0](base)
                if type(r) is not Ref:
                    return NOFAST
                o = (r, order[1], order[2](base))
            v = None
            if value is not None:
                v = value(base)
                if type(v) is not Ref:
                    return NOFAST
            return sumproduct_conditional(ctx, pairs, o, v, multi)

        return sumproduct_fast

    # ---------------------------------------------------------------- special forms

    def _cond(self, node: tuple) -> Fn:
        return self.compile(node, "S")

    def s_IF(self, args: list[tuple], mode: str) -> Fn:
        if not 1 <= len(args) <= 3:
            return _const(ExcelError("#VALUE!", "IF takes 2 or 3 arguments"))
        bmode = mode
        then_node = args[1] if len(args) > 1 else ("b", True)
        else_node = args[2] if len(args) > 2 else ("b", False)
        fthen = self._branch(then_node, bmode)
        felse = self._branch(else_node, bmode)
        if mode == "A":
            fc = self.compile(args[0], "A")
            ctx = self.ctx

            def if_array(base: int) -> Any:
                c = fc(base)
                if type(c) is Ref or type(c) is list:
                    return lift_apply(ctx, _select, [c, fthen(base), felse(base)])
                b = _truth(c)
                if type(b) is ExcelError:
                    return b
                return fthen(base) if b else felse(base)

            return if_array
        fc = self._cond(args[0])

        def if_(base: int) -> Any:
            c = fc(base)
            t = type(c)
            if t is bool:
                return fthen(base) if c else felse(base)
            if t is float:
                return fthen(base) if c != 0.0 else felse(base)
            if c is None:
                return felse(base)
            b = to_bool(c)
            if type(b) is ExcelError:
                return b
            return fthen(base) if b else felse(base)

        return if_

    def _branch(self, node: tuple, mode: str) -> Fn:
        if node[0] == "miss":
            return _const(0.0)
        return self.compile(node, mode)

    def s_IFERROR(self, args: list[tuple], mode: str) -> Fn:
        return self._iferror(args, mode, None)

    def s_IFNA(self, args: list[tuple], mode: str) -> Fn:
        return self._iferror(args, mode, "#N/A")

    def _iferror(self, args: list[tuple], mode: str, only: str | None) -> Fn:
        if len(args) != 2:
            return _const(ExcelError("#VALUE!", "IFERROR takes 2 arguments"))
        fv = self.compile(args[0], mode)
        falt = self._branch(args[1], mode)
        ctx = self.ctx

        def is_err(v: Any) -> bool:
            return type(v) is ExcelError and (only is None or v.code == only)

        if mode == "A":
            def iferror_array(base: int) -> Any:
                v = fv(base)
                if type(v) is Ref or type(v) is list:
                    g = ctx.array(v)
                    if not any(is_err(x) for row in g for x in row):
                        return v
                    alt = falt(base)
                    return lift_apply(ctx, lambda x, y: y if is_err(x) else x, [g, alt])
                return falt(base) if is_err(v) else v

            return iferror_array

        def iferror(base: int) -> Any:
            v = fv(base)
            if type(v) is ExcelError and (only is None or v.code == only):
                return falt(base)
            return v

        return iferror

    def s_IFS(self, args: list[tuple], mode: str) -> Fn:
        if len(args) < 2 or len(args) % 2:
            return _const(ExcelError("#VALUE!", "IFS needs condition/value pairs"))
        vmode = "S" if mode == "A" else mode
        pairs = [(self._cond(args[i]), self._branch(args[i + 1], vmode))
                 for i in range(0, len(args), 2)]

        def ifs(base: int) -> Any:
            for fc, fv in pairs:
                c = fc(base)
                b = _truth(c)
                if type(b) is ExcelError:
                    return b
                if b:
                    return fv(base)
            return ExcelError("#N/A", "IFS: no condition was TRUE")

        return ifs

    def s_CHOOSE(self, args: list[tuple], mode: str) -> Fn:
        if len(args) < 2:
            return _const(ExcelError("#VALUE!", "CHOOSE needs an index and values"))
        fi = self.compile(args[0], "S")
        options = [self._branch(a, mode) for a in args[1:]]

        def choose(base: int) -> Any:
            i = to_number(fi(base))
            if type(i) is not float:
                return i
            n = int(i)  # type: ignore[arg-type]
            if not 1 <= n <= len(options):
                return ExcelError("#VALUE!", "CHOOSE index out of range")
            return options[n - 1](base)

        return choose

    def s_SINGLE(self, args: list[tuple], mode: str) -> Fn:
        if len(args) != 1:
            return _const(VALUE)
        f = self.compile(args[0], "R")
        ctx = self.ctx

        def single(base: int) -> Any:
            return scalar(ctx, f(base), base)

        return single


# --------------------------------------------------------------------------- helpers

def _const(v: Any) -> Fn:
    def const(base: int) -> Any:
        return v

    const.value = v  # type: ignore[attr-defined]
    return const


def _raiser(msg: str) -> Fn:
    def unsupported(base: int) -> Any:
        raise Unsupported(msg)

    return unsupported


def _coord(absolute: bool, n: int, shift: int, mask: int) -> Fn:
    if absolute:
        return _const(n)
    if shift:
        def rel_row(base: int) -> int:
            return ((base >> shift) & mask) + n

        return rel_row

    def rel_col(base: int) -> int:
        return (base & mask) + n

    return rel_col


def _truth(c: Any) -> Any:
    t = type(c)
    if t is bool:
        return c
    if t is float:
        return c != 0.0
    if c is None:
        return False
    return to_bool(c)


def _select(c: Any, a: Any, b: Any) -> Any:
    t = _truth(c)
    if type(t) is ExcelError:
        return t
    return a if t else b


def _direct_call(impl: Callable[..., Any], fs: list[Fn], ctx: Context | None) -> Fn:
    n = len(fs)
    if ctx is None:
        if n == 0:
            return lambda base: impl()
        if n == 1:
            f0 = fs[0]
            return lambda base: impl(f0(base))
        if n == 2:
            f0, f1 = fs
            return lambda base: impl(f0(base), f1(base))
        if n == 3:
            f0, f1, f2 = fs
            return lambda base: impl(f0(base), f1(base), f2(base))
        return lambda base: impl(*[f(base) for f in fs])
    if n == 1:
        f0 = fs[0]
        return lambda base: impl(ctx, f0(base))
    if n == 2:
        f0, f1 = fs
        return lambda base: impl(ctx, f0(base), f1(base))
    if n == 3:
        f0, f1, f2 = fs
        return lambda base: impl(ctx, f0(base), f1(base), f2(base))
    if n == 4:
        f0, f1, f2, f3 = fs
        return lambda base: impl(ctx, f0(base), f1(base), f2(base), f3(base))
    return lambda base: impl(ctx, *[f(base) for f in fs])


def _fast_binop(op: str, fa: Fn, fb: Fn, na: tuple, nb: tuple,
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
    if op in ("=", "<>", "<", ">", "<=", ">="):
        import operator

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

