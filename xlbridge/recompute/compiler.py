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

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from .core import (
    COL_MASK,
    LAMBDA_KEY,
    MAX_COL,
    MAX_ROW,
    PENDING,
    ROW_MASK,
    ROW_SHIFT,
    SHEET_SHIFT,
    Context,
    NeedCells,
    Ref,
    RefList,
    Unsupported,
    scalar,
)
from .formula import FormulaSyntaxError, parse_key, relative_key
from .functions import NOFAST, FunctionSpec, call_external, lookup, sumproduct_conditional
from .operators import (
    CMP_OPS,
    FLIP,
    SCALAR_OPS,
    array_binop,
    array_scalars,
    const,
    fast_binop,
    lift_apply,
    neg,
    pct,
)
from .report import unsupported_function
from .values import ERRORS, OMITTED, VALUE

Fn = Callable[[int], Any]

# --------------------------------------------------------------------------- names

def no_sheet(name: str) -> str:
    return tr("没有名为 {name} 的工作表", name=name)


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
                    raise Unsupported(tr("名称 {name}：{reason}", name=name, reason=got))
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
        #: LET's names, innermost last: NAME → closure reading the bound value
        self.scopes: list[dict[str, Callable[[str], Fn]]] = []

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
        if node[0] == "fn":
            # an array result in a single cell (not an array formula): its top-left value,
            # as Excel shows it there
            def root_single(base: int) -> Any:
                v = f(base)
                if type(v) is list:
                    return v[0][0] if v and v[0] else VALUE
                return v

            return root_single
        return f

    # ---------------------------------------------------------------- literals

    def c_n(self, node: tuple, mode: str) -> Fn:
        v = float(node[1])
        return const(v)

    def c_s(self, node: tuple, mode: str) -> Fn:
        return const(node[1])

    def c_b(self, node: tuple, mode: str) -> Fn:
        return const(bool(node[1]))

    def c_e(self, node: tuple, mode: str) -> Fn:
        return const(ERRORS[node[1]])

    def c_miss(self, node: tuple, mode: str) -> Fn:
        return const(None)

    def c_arr(self, node: tuple, mode: str) -> Fn:
        rows = [[ERRORS[v[1]] if isinstance(v, tuple) else v for v in r] for r in node[1]]
        if mode == "S":
            return const(rows[0][0])
        return const(rows)

    # ---------------------------------------------------------------- references

    def _sheet_of(self, name: str | None) -> int | None:
        if name is None:
            return self.sheet
        return self.ctx.sheet_index.get(name.casefold())

    def c_cell(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, (ra, r), (ca, c) = node
        sheet = self._sheet_of(sheet_name)
        if sheet is None:
            return const(ExcelError("#REF!", no_sheet(sheet_name)))
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
            return const(ExcelError("#REF!", no_sheet(sheet_name)))
        if ra1 and ca1 and ra2 and ca2:
            ref = Ref(sheet, r1, c1, r2, c2)
            if mode == "S":
                return self._wrap_area(lambda base: ref, mode)
            return const(ref)
        area = self._area_fn(sheet, _coord(ra1, r1, ROW_SHIFT, ROW_MASK),
                             _coord(ca1, c1, 0, COL_MASK),
                             _coord(ra2, r2, ROW_SHIFT, ROW_MASK),
                             _coord(ca2, c2, 0, COL_MASK))
        return self._wrap_area(area, mode)

    def c_cols(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, (a1, c1), (a2, c2) = node
        sheet = self._sheet_of(sheet_name)
        if sheet is None:
            return const(ExcelError("#REF!", no_sheet(sheet_name)))
        one = const(1)
        last = const(MAX_ROW)
        area = self._area_fn(sheet, one, _coord(a1, c1, 0, COL_MASK), last,
                             _coord(a2, c2, 0, COL_MASK))
        return self._wrap_area(area, mode)

    def c_rows(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, (a1, r1), (a2, r2) = node
        sheet = self._sheet_of(sheet_name)
        if sheet is None:
            return const(ExcelError("#REF!", no_sheet(sheet_name)))
        area = self._area_fn(sheet, _coord(a1, r1, ROW_SHIFT, ROW_MASK), const(1),
                             _coord(a2, r2, ROW_SHIFT, ROW_MASK), const(MAX_COL))
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
                return ExcelError("#VALUE!", tr("冒号运算符需要两个单元格引用"))
            return Ref(a.sheet, min(a.r1, b.r1), min(a.c1, b.c1), max(a.r2, b.r2),
                       max(a.c2, b.c2))

        if mode == "S":
            def range_scalar(base: int) -> Any:
                v = range_op(base)
                return ctx.intersect(v, base) if type(v) is Ref else v

            return range_scalar
        return range_op

    def c_3d(self, node: tuple, mode: str) -> Fn:
        _, first, last, inner = node
        a, b = self._sheet_of(first), self._sheet_of(last)
        if a is None or b is None:
            return const(ExcelError("#REF!", no_sheet(first if a is None else last)))
        names = self.ctx.sheet_names
        parts = [self.compile((inner[0], names[s], *inner[2:]), "R")
                 for s in range(min(a, b), max(a, b) + 1)]
        if mode == "S":
            return const(ExcelError("#VALUE!", tr("此处应为单个值，不是三维引用")))

        def three_d(base: int) -> Any:
            return RefList(f(base) for f in parts)

        return three_d

    def c_name(self, node: tuple, mode: str) -> Fn:
        _, sheet_name, name = node
        if sheet_name is None and self.scopes:
            up = name.upper()
            for scope in reversed(self.scopes):
                if up in scope:
                    return scope[up](mode)
        explicit = None
        if sheet_name is not None:
            explicit = self._sheet_of(sheet_name)
            if explicit is None:
                return const(ExcelError("#REF!", no_sheet(sheet_name)))
        try:
            tree = self.names.find(name, self.sheet, explicit)
        except Unsupported as exc:
            self.unsupported.append(str(exc))
            return _raiser(str(exc))
        if tree is None:
            return const(ExcelError("#NAME?", tr("未定义的名称 {name}", name=name)))
        if name.upper() in self._name_stack:
            return const(ExcelError("#NAME?", tr("名称 {name} 引用了自身", name=name)))
        self._name_stack.append(name.upper())
        try:
            return self.compile(tree, mode)
        finally:
            self._name_stack.pop()

    # ---------------------------------------------------------------- operators

    def c_op(self, node: tuple, mode: str) -> Fn:
        _, op, a, b = node
        chain = _left_chain(node)
        if len(chain) > _CHAIN_MIN:
            return self._chain(chain, mode)
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
        return fast_binop(op, fa, fb, a, b, scalar_op)

    def _chain(self, chain: list[tuple[str | None, tuple]], mode: str) -> Fn:
        """``A1+A2+…+A600``: a long run of operators of one precedence, compiled and
        evaluated in a loop, left to right as Excel does, instead of 600 nested closures
        (which would exhaust Python's recursion limit)."""
        m = "A" if mode == "A" else "S"
        first = self.compile(chain[0][1], m)
        rest = [(SCALAR_OPS[op], op, self.compile(n, m)) for op, n in chain[1:]]  # type: ignore
        ctx = self.ctx

        def chained(base: int) -> Any:
            v = first(base)
            for slow, op, f in rest:
                w = f(base)
                if m == "A" and (type(v) in (Ref, list) or type(w) in (Ref, list)):
                    v = array_binop(ctx, op, slow, v, w)
                else:
                    v = slow(v, w)
            return v

        return chained

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
        spec = lookup(name, self.extra)
        if spec is None:
            named = self._named_lambda(name, args, mode)
            if named is not None:
                return named
            self.unknown.append(name)
            return _raiser(unsupported_function(name))
        n = len(args)
        if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
            return const(ExcelError("#VALUE!", tr("{name} 需要 {arity} 个参数，实际为 {n} 个",
                                                  name=name, arity=spec.arity, n=n)))
        if spec.form:
            return spec.impl(self, args, mode)
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
        omitted = getattr(spec.impl, "takes_omitted", False)
        for i, a in enumerate(args):
            m = spec.mode(i)
            if m == "S":
                am = "A" if (mode == "A" and spec.lift) else "S"
            elif m == "R":
                am = "A" if mode == "A" else "R"
            elif m == "A":
                am = "A"
            elif m == "L":  # one value; in an array formula, each value of an array
                am = "A" if mode == "A" else "S"
            else:  # external: single cells as values, everything else as references
                am = "S" if a[0] in ("cell", "n", "s", "b", "e", "miss", "op", "neg",
                                     "pct", "pos") else ("A" if mode == "A" else "R")
            if a[0] == "miss" and omitted:
                fs.append(const(OMITTED))
            else:
                fs.append(self.compile(a, am))
        impl = spec.impl
        lifted_at = [i for i in range(len(args)) if spec.mode(i) == "L"]
        if mode == "A" and lifted_at and not spec.external:
            return self._lift_some(spec, fs, lifted_at)
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
        # in an array context a reference a function returns stays a reference, as a written
        # range does: ROWS(OFFSET(A1,0,0,100)) is 100 past the used rows, CELL and ROW of
        # INDIRECT see the cell (the consumers read a Ref's values themselves)
        return call

    def _lift_some(self, spec: FunctionSpec, fs: list[Fn], at: list[int]) -> Fn:
        """A function called once per value of its ``L`` arguments when they are arrays
        (``SUM(SUMIF(A:A, E1:E3, C:C))`` in an array formula: three criteria, three sums)."""
        ctx = self.ctx
        impl = spec.impl

        def lift_some(base: int) -> Any:
            vals = [f(base) for f in fs]
            grids = {}
            for i in at:
                v = vals[i]
                if (type(v) is Ref and not v.is_cell) or type(v) is list:
                    grids[i] = ctx.array(v)
                elif type(v) is Ref:
                    vals[i] = ctx.cell(v.sheet, v.r1, v.c1)
            if not grids:
                return impl(ctx, *vals) if spec.ctx else impl(*vals)
            h = max(len(g) for g in grids.values())
            w = max(len(g[0]) for g in grids.values())
            out = []
            for r in range(h):
                row = []
                for c in range(w):
                    call = list(vals)
                    for i, g in grids.items():
                        call[i] = g[r if len(g) > 1 else 0][c if len(g[0]) > 1 else 0]
                    row.append(impl(ctx, *call) if spec.ctx else impl(*call))
                out.append(row)
            return out

        return lift_some

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
                if inner is not None and inner[0] == "op" and inner[1] in CMP_OPS:
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
            if f[0] == "op" and f[1] in CMP_OPS:
                op, a, b = f[1], f[2], f[3]
                if self._is_range(a) and self._is_scalar(b):
                    rng, sc = a, b
                elif self._is_range(b) and self._is_scalar(a):
                    rng, sc = b, a
                    op = FLIP.get(op, op)
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

    def _named_lambda(self, name: str, args: list[tuple], mode: str) -> Fn | None:
        """A call of a defined name that holds a LAMBDA (``=cal_month(1)`` with cal_month
        defined as ``LAMBDA(mo, …)``), or of a LET name bound to one: the arguments bound to
        the parameters, like LET."""
        tree = None
        for scope in reversed(self.scopes):
            tree = scope.get(LAMBDA_KEY + name.upper())  # type: ignore[assignment]
            if tree is not None:
                break
        if tree is None:
            try:
                tree = self.names.find(name, self.sheet, None)
            except Unsupported:
                return None
        if tree is None or tree[0] != "fn" or tree[1] != "LAMBDA" or not tree[2]:
            return None
        if name.upper() in self._name_stack:
            return const(ExcelError("#NUM!", tr("{name} 调用了自身", name=name)))
        return self._apply_lambda(name, tree, args, mode)

    def c_lcall(self, node: tuple, mode: str) -> Fn:
        """``LAMBDA(x, x+1)(5)``: a LAMBDA called where it is written."""
        _, tree, args = node
        if tree[0] != "fn" or tree[1] != "LAMBDA" or not tree[2]:
            return const(ExcelError("#VALUE!", tr("LAMBDA 缺少计算式")))
        return self._apply_lambda("LAMBDA", tree, args, mode)

    def _apply_lambda(self, name: str, tree: tuple, args: list[tuple], mode: str) -> Fn:
        """The arguments bound to the LAMBDA's parameters, like LET. A parameter Excel wrote
        as optional (``_xlop.b``) may be left out; an omitted argument is OMITTED, which
        ISOMITTED tells."""
        params, body = tree[2][:-1], tree[2][-1]
        required = sum(1 for p in params if p[0] == "name"
                       and not p[2].upper().startswith("_XLOP."))
        if any(p[0] != "name" for p in params) or not required <= len(args) <= len(params):
            return const(ExcelError("#VALUE!", tr("{name}：参数个数不对", name=name)))
        argf = [const(OMITTED) if a[0] == "miss" else self.compile(a, "A" if mode == "A" else "R")
                for a in args]
        argf += [const(OMITTED)] * (len(params) - len(args))
        slots: list[list[Any]] = [[None] for _ in params]
        scope = {_param(p[2]): _slot_reader(self.ctx, s) for p, s in zip(params, slots,
                                                                       strict=True)}
        self.scopes.append(scope)
        self._name_stack.append(name.upper())
        try:
            fbody = self.compile(body, mode)
        finally:
            self._name_stack.pop()
            self.scopes.pop()
        pairs = list(zip(slots, argf, strict=False))

        def named_lambda(base: int) -> Any:
            for slot, f in pairs:
                slot[0] = f(base)
            return fbody(base)

        return named_lambda

    # ---------------------------------------------------------------- for forms

    def slot_reader(self, slot: list[Any]) -> Callable[[str], Fn]:
        """For LET: how a name reads the value bound in ``slot``."""
        return _slot_reader(self.ctx, slot)

    def cond(self, node: tuple) -> Fn:
        """A condition argument of IF/IFS: one value."""
        return self.compile(node, "S")

    def branch(self, node: tuple, mode: str) -> Fn:
        """A value argument of a form; an omitted one is 0, as in Excel."""
        if node[0] == "miss":
            return const(0.0)
        return self.compile(node, mode)


# --------------------------------------------------------------------------- helpers

_CHAIN_MIN = 32
_LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "&": 3}


def _left_chain(node: tuple) -> list[tuple[str | None, tuple]]:
    """The operands of a left-nested run of operators of one precedence level, walked
    without recursion: ((a+b)-c)+d → [(None, a), ("+", b), ("-", c), ("+", d)]."""
    level = _LEVEL.get(node[1])
    if level is None:
        return [(None, node)]
    out: list[tuple[str | None, tuple]] = []
    while node[0] == "op" and _LEVEL.get(node[1]) == level:
        out.append((node[1], node[3]))
        node = node[2]
    out.append((None, node))
    out.reverse()
    return out


def _param(name: str) -> str:
    """A LAMBDA parameter as the body names it: ``_xlop.b`` (optional) is read as ``_xlpm.b``."""
    up = name.upper()
    return "_XLPM." + up[6:] if up.startswith("_XLOP.") else up


def _slot_reader(ctx: Context, slot: list[Any]) -> Callable[[str], Fn]:
    """How a LET/LAMBDA name reads its bound value in each compile mode."""
    def read(mode: str) -> Fn:
        if mode == "S":
            return lambda base: scalar(ctx, slot[0], base)
        if mode == "A":
            return lambda base: array_scalars(ctx, slot[0])
        return lambda base: slot[0]

    return read


def _raiser(msg: str) -> Fn:
    def unsupported(base: int) -> Any:
        raise Unsupported(msg)

    return unsupported


def _coord(absolute: bool, n: int, shift: int, mask: int) -> Fn:
    if absolute:
        return const(n)
    if shift:
        def rel_row(base: int) -> int:
            return ((base >> shift) & mask) + n

        return rel_row

    def rel_col(base: int) -> int:
        return (base & mask) + n

    return rel_col


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


