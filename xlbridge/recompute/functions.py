"""Worksheet functions of the recalculator: Excel's natives, and a registry for more.

Adding a function
=================

Another module adds a worksheet function by name::

    from xlbridge.recompute.functions import register_function, current_caller

    def perf_grade(score, table=None):
        if isinstance(score, ExcelError):
            return score                       # errors arrive as values; pass them on
        ...
        return "优秀"

    register_function("PERF_GRADE", perf_grade, min_args=1, max_args=2)

Calling convention of a registered function ``fn(*args)``:

* Arguments are evaluated (Excel evaluates every argument of a UDF).
  - a number is a Python ``float`` (an IEEE double, like Excel; use :func:`to_decimal` to get
    the ``Decimal`` Excel displays, to 15 significant digits), text is ``str``, TRUE/FALSE are
    ``bool``, an Excel error is an :class:`~xlbridge.xlvalues.ExcelError` (not raised: passed
    as a value, the function decides), an empty cell is ``None``, an omitted argument
    (``F(A1,,2)``) is ``None`` too;
  - a reference to a single cell written as such (``B5``, ``Sheet2!$B$5``) is that cell's
    value as above;
  - any other reference (``B5:D5``, ``A:A``, a defined name for a range) and any array
    (``{1,2;3,4}``) is a 2-D ``list`` of rows, e.g. ``[[90.0, None], ["张三", True]]``, blanks as
    ``None``; whole columns are cut to the workbook's used rows.
* Return a scalar (``float``/``int``/``Decimal`` → number, ``str``, ``bool``), ``None`` (shown
  as 0, like an empty VBA result), an ``ExcelError``, or a 2-D list of such scalars. A 2-D list
  fills an array formula's range; in an ordinary formula cell only its top-left value is kept.
* An exception raised by the function becomes ``#VALUE!`` in the cell and an entry in the
  recompute report (cell, function, message).
* :func:`current_caller` tells which cell is being computed (``"考核表!F12"``), for messages.
* Functions must be pure: the scheduler may call a function more than once for the same cell
  (when an argument turns out not to be computed yet, the evaluation is retried).

``FUNCTIONS`` maps each registered (external) name to its :class:`FunctionSpec`;
``NATIVE_FUNCTIONS`` is the set of Excel functions the recalculator computes itself.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any, NamedTuple

from xlbridge.xlvalues import ExcelError

from .core import Context, Ref, Unsupported, split_key
from .formula import col_letters
from .values import (
    ERRORS,
    NA,
    NUM,
    VALUE,
    approx_equal,
    checked,
    compare,
    dec15,
    number_text,
    parse_number,
    to_bool,
    to_number,
    to_text,
    xl_floor15,
    xl_round,
)

__all__ = [
    "FUNCTIONS",
    "NATIVE_FUNCTIONS",
    "CallerCell",
    "FunctionSpec",
    "current_caller",
    "is_supported",
    "register_function",
    "to_decimal",
    "unregister_function",
]


@dataclass(frozen=True)
class FunctionSpec:
    """How to compile a call: argument modes, arity and the implementation.

    ``modes`` gives one letter per argument, the last one repeating: ``S`` a single value
    (a range is implicitly intersected), ``R`` a reference or value (ranges stay ranges),
    ``A`` an array (operators inside act element-wise, as in SUMPRODUCT).
    """

    name: str
    impl: Callable[..., Any]
    min_args: int = 0
    max_args: int | None = None
    modes: str = "S"
    lift: bool = False          # scalar function: maps over arrays in array context
    ctx: bool = False           # impl takes the evaluation Context first
    external: bool = False      # registered from outside (calling convention above)
    returns_ref: bool = False   # may return a Ref/array even in a single-value context

    def mode(self, i: int) -> str:
        return self.modes[i] if i < len(self.modes) else self.modes[-1]


# --------------------------------------------------------------------------- registry

#: External (registered) functions by upper-case name.
FUNCTIONS: dict[str, FunctionSpec] = {}


def register_function(name: str, fn: Callable[..., Any], *, min_args: int = 0,
                      max_args: int | None = None, replace: bool = False) -> FunctionSpec:
    """Make ``fn`` callable from formulas as ``name`` (case-insensitive).

    Registering a name twice, or a name Excel already has and the recalculator computes,
    needs ``replace=True``.
    """
    up = name.upper()
    if not re.fullmatch(r"[A-Z_\\][A-Z0-9_.]*", up):
        raise ValueError(f"not a valid function name: {name!r}")
    if not replace and (up in FUNCTIONS or up in NATIVE):
        raise ValueError(f"function {up} is already defined (pass replace=True)")
    spec = FunctionSpec(up, fn, min_args, max_args, "X", external=True, returns_ref=True)
    FUNCTIONS[up] = spec
    return spec


def unregister_function(name: str) -> None:
    FUNCTIONS.pop(name.upper(), None)


def external_spec(name: str, fn: Callable[..., Any]) -> FunctionSpec:
    """A spec for a function passed to one recompute call (``functions=`` argument)."""
    return FunctionSpec(name.upper(), fn, 0, None, "X", external=True, returns_ref=True)


def lookup(name: str, extra: Mapping[str, FunctionSpec] | None = None) -> FunctionSpec | None:
    if extra:
        spec = extra.get(name)
        if spec is not None:
            return spec
    spec = FUNCTIONS.get(name)
    if spec is not None:
        return spec
    return NATIVE.get(name)


def is_supported(name: str) -> bool:
    from .formula import function_name

    n = function_name(name)
    return n in NATIVE or n in FUNCTIONS or n in SPECIAL_FORMS


class CallerCell(NamedTuple):
    """The formula cell whose evaluation called a registered function."""

    sheet: str
    cell: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


_CALLER: ContextVar[tuple[Context, int] | None] = ContextVar("xlbridge_recompute_caller",
                                                            default=None)


def current_caller() -> CallerCell | None:
    """The cell being computed, inside a registered function; None elsewhere."""
    cur = _CALLER.get()
    if cur is None:
        return None
    ctx, key = cur
    s, r, c = split_key(key)
    return CallerCell(ctx.sheet_names[s], f"{col_letters(c)}{r}")


def to_decimal(x: float) -> Decimal:
    """A number argument as the Decimal Excel displays (15 significant digits)."""
    if x == 0:
        return Decimal(0)
    if float(x).is_integer() and abs(x) < 1e15:
        return Decimal(int(x))
    return Decimal(f"{x:.15g}").normalize()


def _to_external(ctx: Context, v: Any) -> Any:
    t = type(v)
    if t is Ref:
        return [list(r) for r in ctx.array(v)]
    if t is list:
        return [list(r) for r in v]
    return v


def _from_external(v: Any) -> Any:
    t = type(v)
    if t is float:
        return checked(v)
    if t is str or t is bool or t is ExcelError:
        if t is str and len(v) > 32767:
            return ExcelError("#VALUE!", "text longer than 32767 characters")
        return v
    if v is None:
        return 0.0
    if t is int or (isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)):
        try:
            return checked(float(v))
        except (OverflowError, ValueError):
            return NUM
    if isinstance(v, str):
        return str(v)
    if isinstance(v, (list, tuple)):
        rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in v]
        if not rows or not rows[0] or len({len(r) for r in rows}) != 1:
            return ExcelError("#VALUE!", "function returned a ragged or empty array")
        return [[_from_external(x) if not isinstance(x, list) else VALUE for x in r]
                for r in rows]
    return ExcelError("#VALUE!", f"function returned {type(v).__name__}")


def call_external(ctx: Context, spec: FunctionSpec, args: list[Any], base: int) -> Any:
    conv = [_to_external(ctx, a) for a in args]
    token = _CALLER.set((ctx, base))
    try:
        result = spec.impl(*conv)
    except Exception as exc:  # a bug or a refusal in the registered function
        msg = f"{spec.name}: {type(exc).__name__}: {exc}"
        ctx.function_errors.append((base, spec.name, msg))
        return ExcelError("#VALUE!", msg)
    finally:
        _CALLER.reset(token)
    return _from_external(result)


# --------------------------------------------------------------------------- helpers

def _err(v: Any) -> bool:
    return type(v) is ExcelError


def _values(ctx: Context, a: Any) -> list[Any] | None:
    """Values of a Ref/array argument as a flat list; None for a direct scalar."""
    t = type(a)
    if t is Ref:
        return ctx.flat(a)
    if t is list:
        return [v for row in a for v in row]
    return None


def _number_args(ctx: Context, args: Iterable[Any]) -> list[float] | ExcelError:
    """Numbers as SUM/AVERAGE/MIN/MAX see them: from ranges only real numbers, direct
    arguments coerced ("3" and TRUE count, "abc" is #VALUE!)."""
    out: list[float] = []
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            if a is None:  # an omitted argument counts as 0 for SUM/AVERAGE... like Excel
                out.append(0.0)
                continue
            x = to_number(a)
            if type(x) is not float:
                return x  # type: ignore[return-value]
            out.append(x)
            continue
        for v in vals:
            tv = type(v)
            if tv is float:
                out.append(v)
            elif tv is ExcelError:
                return v
    return out


# --------------------------------------------------------------------------- math

def fn_sum(ctx: Context, *args: Any) -> Any:
    total = 0.0
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            if a is None:
                continue
            x = to_number(a)
            if type(x) is not float:
                return x
            total += x
            continue
        for v in vals:
            if type(v) is float:
                total += v
            elif type(v) is ExcelError:
                return v
    return checked(total)


def fn_average(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return ExcelError("#DIV/0!", "AVERAGE of no numbers")
    return sum(nums) / len(nums)  # type: ignore[arg-type]


def fn_min(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    return min(nums) if nums else 0.0  # type: ignore[type-var]


def fn_max(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    return max(nums) if nums else 0.0  # type: ignore[type-var]


def _round_family(mode: str) -> Callable[..., Any]:
    def f(x: Any, digits: Any = None) -> Any:
        x = to_number(x)
        if type(x) is not float:
            return x
        d = to_number(digits)
        if type(d) is not float:
            return d
        return xl_round(x, d, mode)  # type: ignore[arg-type]

    return f


fn_round = _round_family(ROUND_HALF_UP)
fn_roundup = _round_family(ROUND_UP)
fn_rounddown = _round_family(ROUND_DOWN)


def fn_round_required(x: Any, digits: Any) -> Any:
    return fn_round(x, digits)


def fn_int(x: Any) -> Any:
    x = to_number(x)
    if type(x) is not float:
        return x
    return xl_floor15(x)  # type: ignore[arg-type]


def fn_abs(x: Any) -> Any:
    x = to_number(x)
    if type(x) is not float:
        return x
    return abs(x)  # type: ignore[arg-type]


def fn_mod(n: Any, d: Any) -> Any:
    n = to_number(n)
    if type(n) is not float:
        return n
    d = to_number(d)
    if type(d) is not float:
        return d
    if d == 0.0:
        return ExcelError("#DIV/0!", "MOD by zero")
    r = n - d * math.floor(n / d)  # type: ignore[operator]
    if r and approx_equal(abs(r), abs(d)):  # type: ignore[arg-type]
        r = 0.0
    return r


def fn_power(x: Any, y: Any) -> Any:
    from .compiler import arith_pow

    return arith_pow(x, y)


def fn_sqrt(x: Any) -> Any:
    x = to_number(x)
    if type(x) is not float:
        return x
    if x < 0:  # type: ignore[operator]
        return ExcelError("#NUM!", "square root of a negative number")
    return math.sqrt(x)  # type: ignore[arg-type]


def fn_sumproduct(ctx: Context, *args: Any) -> Any:
    grids = []
    shape = None
    for a in args:
        g = ctx.array(a)
        s = (len(g), len(g[0]))
        if shape is None:
            shape = s
        elif s != shape:
            return ExcelError("#VALUE!", "SUMPRODUCT arrays differ in size")
        grids.append(g)
    if not grids:
        return VALUE
    # errors anywhere propagate
    for g in grids:
        for row in g:
            for v in row:
                if type(v) is ExcelError:
                    return v
    total = 0.0
    h, w = shape  # type: ignore[misc]
    if len(grids) == 1:
        for row in grids[0]:
            for v in row:
                if type(v) is float:
                    total += v
        return total
    for i in range(h):
        rows = [g[i] for g in grids]
        for j in range(w):
            p = 1.0
            for r in rows:
                v = r[j]
                if type(v) is float:
                    p *= v
                else:
                    p = 0.0
                    break
            total += p
    return checked(total)


# --------------------------------------------------------------------------- logic

def _logic_values(ctx: Context, args: Iterable[Any]) -> list[bool] | ExcelError:
    out: list[bool] = []
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            if a is None:
                out.append(False)
                continue
            b = to_bool(a)
            if type(b) is not bool:
                return b  # type: ignore[return-value]
            out.append(b)  # type: ignore[arg-type]
            continue
        for v in vals:
            tv = type(v)
            if tv is bool:
                out.append(v)
            elif tv is float:
                out.append(v != 0.0)
            elif tv is ExcelError:
                return v
    return out


def fn_and(ctx: Context, *args: Any) -> Any:
    vals = _logic_values(ctx, args)
    if type(vals) is ExcelError:
        return vals
    if not vals:
        return ExcelError("#VALUE!", "AND of no logical values")
    return all(vals)  # type: ignore[arg-type]


def fn_or(ctx: Context, *args: Any) -> Any:
    vals = _logic_values(ctx, args)
    if type(vals) is ExcelError:
        return vals
    if not vals:
        return ExcelError("#VALUE!", "OR of no logical values")
    return any(vals)  # type: ignore[arg-type]


def fn_not(x: Any) -> Any:
    b = to_bool(x)
    if type(b) is not bool:
        return b
    return not b


def fn_true() -> Any:
    return True


def fn_false() -> Any:
    return False


def fn_na() -> Any:
    return NA


# --------------------------------------------------------------------------- info

def fn_isblank(x: Any) -> Any:
    return x is None


def fn_isnumber(x: Any) -> Any:
    return type(x) is float


def fn_istext(x: Any) -> Any:
    return type(x) is str


def fn_iserror(x: Any) -> Any:
    return type(x) is ExcelError


def fn_isna(x: Any) -> Any:
    return type(x) is ExcelError and x.code == "#N/A"


# --------------------------------------------------------------------------- counting

def fn_count(ctx: Context, *args: Any) -> Any:
    n = 0
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            t = type(a)
            if t is float or t is bool or (t is str and parse_number(a) is not None):
                n += 1
            continue
        for v in vals:
            if type(v) is float:
                n += 1
    return float(n)


def fn_counta(ctx: Context, *args: Any) -> Any:
    n = 0
    for a in args:
        vals = _values(ctx, a)
        if vals is None:
            n += 1  # a direct value (even an error or "") counts
            continue
        for v in vals:
            if v is not None:
                n += 1
    return float(n)


def fn_countblank(ctx: Context, rng: Any) -> Any:
    if type(rng) is not Ref:
        return ExcelError("#VALUE!", "COUNTBLANK needs a range")
    filled = 0
    for v in ctx.flat(rng):
        if v is not None and v != "":
            filled += 1
    return float(rng.height * rng.width - filled)


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
                self._compare(op, "")
            return
        x = parse_number(s)
        if x is not None:
            if op in ("", "="):
                self._equal_value(x)
            elif op == "<>":
                self._equal_value(x)
                m = self.match
                self.match = lambda v: not m(v)
                self.eq_key = None
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
        for i, v in enumerate(ctx.flat(ref)):
            k = _norm(v)
            if k is None:
                continue
            idx.setdefault(k, []).append(i)
            if type(v) is str:
                y = parse_number(v)
                if y is not None:
                    idx.setdefault(_norm(y), []).append(i)
        return idx

    return ctx.aux(("eqidx", ref.sheet, *ctx.clamp(ref)), build)


def _crit_range(ctx: Context, rng: Any) -> tuple[list[Any], int, int] | ExcelError:
    """Values and (height, width) of a criteria range argument."""
    if type(rng) is Ref:
        r1, c1, r2, c2 = ctx.clamp(rng)
        return ctx.flat(rng), max(r2 - r1 + 1, 0), max(c2 - c1 + 1, 0)
    if type(rng) is list:
        return [v for row in rng for v in row], len(rng), len(rng[0])
    return ExcelError("#VALUE!", "criteria range must be a range")


def fn_countif(ctx: Context, rng: Any, crit: Any) -> Any:
    if type(crit) is Ref:
        crit = ctx.intersect(crit, ctx.caller)
    c = _crit(crit)
    if type(rng) is Ref and c.eq_key is not None:
        return float(len(_eq_index(ctx, rng).get(c.eq_key, ())))
    got = _crit_range(ctx, rng)
    if type(got) is ExcelError:
        return got
    m = c.match
    return float(sum(1 for v in got[0] if m(v)))  # type: ignore[index]


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
            return ExcelError("#VALUE!", "ranges differ in size")
        return [v for row in ref for v in row]
    return ExcelError("#VALUE!", "sum range must be a range")


def fn_sumif(ctx: Context, rng: Any, crit: Any, sum_rng: Any = None) -> Any:
    if type(crit) is Ref:
        crit = ctx.intersect(crit, ctx.caller)
    got = _crit_range(ctx, rng)
    if type(got) is ExcelError:
        return got
    vals, h, w = got  # type: ignore[misc]
    if sum_rng is None:
        svals = vals
    else:
        svals = _aligned(ctx, sum_rng, h, w)
        if type(svals) is ExcelError:
            return svals
    c = _crit(crit)
    total = 0.0
    if type(rng) is Ref and c.eq_key is not None:
        for i in _eq_index(ctx, rng).get(c.eq_key, ()):
            v = svals[i]
            if type(v) is float:
                total += v
            elif type(v) is ExcelError:
                return v
        return total
    m = c.match
    for i, v in enumerate(vals):
        if m(v):
            s = svals[i]
            if type(s) is float:
                total += s
            elif type(s) is ExcelError:
                return s
    return total


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
            return ExcelError("#VALUE!", "criteria range must be a range")
        if shape is None:
            shape = sh
        elif sh != shape:
            return ExcelError("#VALUE!", "criteria ranges differ in size")
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
    for i in range(n):
        key = []
        for col in cols:
            v = col[i]
            if type(v) is str and parse_number(v) is not None:
                ctx.aux_cache[ck] = "multi"
                return None
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


def fn_countifs(ctx: Context, *args: Any) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", "COUNTIFS needs range/criteria pairs")
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    return float(len(got[0]))  # type: ignore[index]


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
        return ExcelError("#VALUE!", "sum range must be a range")
    if sh != (h, w):
        return ExcelError("#VALUE!", "ranges differ in size")
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
            return ExcelError("#DIV/0!", "no numbers matched")
        return total / n
    return total


def fn_sumifs(ctx: Context, sum_rng: Any, *args: Any) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", "SUMIFS needs range/criteria pairs")
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    return _sum_at(ctx, sum_rng, got[1], got[2], got[0], False)  # type: ignore[index]


def fn_averageifs(ctx: Context, avg_rng: Any, *args: Any) -> Any:
    pairs = _pairs(args)
    if not pairs:
        return ExcelError("#VALUE!", "AVERAGEIFS needs range/criteria pairs")
    got = _ifs_select(ctx, pairs)
    if type(got) is ExcelError:
        return got
    return _sum_at(ctx, avg_rng, got[1], got[2], got[0], True)  # type: ignore[index]


def fn_averageif(ctx: Context, rng: Any, crit: Any, avg_rng: Any = None) -> Any:
    if type(crit) is Ref:
        crit = ctx.intersect(crit, ctx.caller)
    got = _crit_range(ctx, rng)
    if type(got) is ExcelError:
        return got
    vals, h, w = got  # type: ignore[misc]
    svals = vals if avg_rng is None else _aligned(ctx, avg_rng, h, w)
    if type(svals) is ExcelError:
        return svals
    m = _crit(crit).match
    total, n = 0.0, 0
    for i, v in enumerate(vals):
        if m(v):
            s = svals[i]
            if type(s) is float:
                total += s
                n += 1
            elif type(s) is ExcelError:
                return s
    if not n:
        return ExcelError("#DIV/0!", "AVERAGEIF matched no numbers")
    return total / n


# --------------------------------------------------------------------------- lookup

def _lookup_scalar(ctx: Context, v: Any) -> Any:
    if type(v) is Ref:
        return ctx.intersect(v, ctx.caller)
    if type(v) is list:
        return v[0][0]
    return v


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


def fn_hlookup(ctx: Context, x: Any, table: Any, row: Any, approx: Any = True) -> Any:
    return fn_vlookup(ctx, x, table, row, approx, _h=True)


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


def _sorted_numbers(ctx: Context, ref: Any) -> list[float] | ExcelError:
    if type(ref) is Ref:
        def build() -> list[float] | ExcelError:
            out = []
            for v in ctx.flat(ref):
                if type(v) is float:
                    out.append(v)
            out.sort()
            return out

        return ctx.aux(("sorted", ref.key), build)
    if type(ref) is list:
        return sorted(v for row in ref for v in row if type(v) is float)
    return ExcelError("#VALUE!", "RANK needs a range")


def fn_rank(ctx: Context, x: Any, ref: Any, order: Any = None) -> Any:
    if type(x) is Ref:
        x = ctx.intersect(x, ctx.caller)
    x = to_number(x)
    if type(x) is not float:
        return x
    nums = _sorted_numbers(ctx, ref)
    if type(nums) is ExcelError:
        return nums
    o = to_number(order) if order is not None else 0.0
    if type(o) is not float:
        return o
    lo = bisect.bisect_left(nums, x)  # type: ignore[arg-type]
    hi = bisect.bisect_right(nums, x)  # type: ignore[arg-type]
    if lo == hi:
        return ExcelError("#N/A", f"RANK: {number_text(x)} not in the list")  # type: ignore[arg-type]
    if o == 0.0:
        return float(len(nums) - hi + 1)  # type: ignore[arg-type]
    return float(lo + 1)


# --------------------------------------------------------------------------- text

def fn_concat(*args: Any) -> Any:
    parts = []
    for a in args:
        s = to_text(a)
        if type(s) is ExcelError:
            return s
        parts.append(s)
    out = "".join(parts)  # type: ignore[arg-type]
    if len(out) > 32767:
        return ExcelError("#VALUE!", "text longer than 32767 characters")
    return out


def fn_len(x: Any) -> Any:
    s = to_text(x)
    if type(s) is ExcelError:
        return s
    return float(len(s))  # type: ignore[arg-type]


def _text_arg(x: Any) -> Any:
    return to_text(x)


def _count_arg(n: Any, default: float) -> Any:
    if n is None:
        return default
    k = to_number(n)
    if type(k) is not float:
        return k
    if k < 0:  # type: ignore[operator]
        return ExcelError("#VALUE!", "negative character count")
    return k


def fn_left(text: Any, n: Any = 1.0) -> Any:
    s = _text_arg(text)
    if type(s) is ExcelError:
        return s
    k = _count_arg(n, 1.0)
    if type(k) is not float:
        return k
    return s[:int(k)]  # type: ignore[index]


def fn_right(text: Any, n: Any = 1.0) -> Any:
    s = _text_arg(text)
    if type(s) is ExcelError:
        return s
    k = _count_arg(n, 1.0)
    if type(k) is not float:
        return k
    k = int(k)  # type: ignore[assignment]
    return s[len(s) - k:] if k else ""  # type: ignore[arg-type, index]


def fn_mid(text: Any, start: Any, n: Any) -> Any:
    s = _text_arg(text)
    if type(s) is ExcelError:
        return s
    st = to_number(start)
    if type(st) is not float:
        return st
    if st < 1:  # type: ignore[operator]
        return ExcelError("#VALUE!", "MID start below 1")
    k = _count_arg(n, 0.0)
    if type(k) is not float:
        return k
    i = int(st) - 1  # type: ignore[arg-type]
    return s[i:i + int(k)]  # type: ignore[index]


def fn_trim(text: Any) -> Any:
    s = _text_arg(text)
    if type(s) is ExcelError:
        return s
    return " ".join(p for p in s.split(" ") if p)  # type: ignore[union-attr]


def fn_median(ctx: Context, *args: Any) -> Any:
    nums = _number_args(ctx, args)
    if type(nums) is ExcelError:
        return nums
    if not nums:
        return ExcelError("#NUM!", "MEDIAN of no numbers")
    v = sorted(nums)  # type: ignore[arg-type]
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2.0


def fn_value(x: Any) -> Any:
    if type(x) is float or type(x) is ExcelError:
        return x
    if x is None:
        return 0.0
    if type(x) is bool:
        return ExcelError("#VALUE!", "VALUE of a logical value")
    y = parse_number(str(x))
    if y is None:
        return ExcelError("#VALUE!", f"“{x}” is not a number")
    return y


_DATE_CODES = re.compile(r"[yYdDhHsS]|\b[mM]{1,4}\b|AM/PM|am/pm|\[")


def _split_sections(fmt: str) -> list[str]:
    out, cur, i, quote = [], [], 0, False
    while i < len(fmt):
        ch = fmt[i]
        if ch == '"':
            quote = not quote
        elif ch == "\\" and not quote and i + 1 < len(fmt):
            cur.append(fmt[i:i + 2])
            i += 2
            continue
        elif ch == ";" and not quote:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _format_number(x: float, section: str) -> str:
    """Format with a simple numeric section: 0 # . , % and literal text."""
    # tokenize literals vs placeholders
    literal_before: list[str] = []
    literal_after: list[str] = []
    placeholders = []
    i = 0
    seen_digit = False
    percent = 0
    while i < len(section):
        ch = section[i]
        if ch == '"':
            j = section.find('"', i + 1)
            if j < 0:
                j = len(section)
            (literal_after if seen_digit else literal_before).append(section[i + 1:j])
            i = j + 1
            continue
        if ch == "\\" and i + 1 < len(section):
            (literal_after if seen_digit else literal_before).append(section[i + 1])
            i += 2
            continue
        if ch in "0#?.,":
            if literal_after and ch in "0#?":
                raise Unsupported(f"TEXT format {section!r}")
            placeholders.append(ch)
            if ch in "0#?":
                seen_digit = True
            i += 1
            continue
        if ch == "%":
            percent += 1
            (literal_after if seen_digit else literal_before).append("%")
            i += 1
            continue
        if ch in "_*":
            raise Unsupported(f"TEXT format {section!r}")
        if ch.isalpha() and ch not in "元角分万":
            raise Unsupported(f"TEXT format {section!r}")
        (literal_after if seen_digit else literal_before).append(ch)
        i += 1
    ph = "".join(placeholders)
    if "." in ph:
        int_part, _, frac_part = ph.partition(".")
    else:
        int_part, frac_part = ph, ""
    # trailing commas scale by 1000
    scale = 0
    while int_part.endswith(","):
        scale += 1
        int_part = int_part[:-1]
    thousands = "," in int_part
    int_part = int_part.replace(",", "")
    frac_part = frac_part.replace(",", "")
    for _ in range(percent):
        x *= 100.0
    for _ in range(scale):
        x /= 1000.0
    d = dec15(x) if x else Decimal(0)
    nfrac = len(frac_part)
    q = d.quantize(Decimal(1).scaleb(-nfrac), rounding=ROUND_HALF_UP)
    text = format(abs(q), "f")
    ipart, _, fpart = text.partition(".")
    # fraction: '0' forces digits, '#' drops trailing zeros, '?' pads with spaces
    if nfrac:
        fl = list(fpart.ljust(nfrac, "0"))
        k = nfrac - 1
        while k >= 0 and frac_part[k] != "0" and fl[k] == "0":
            fl[k] = " " if frac_part[k] == "?" else ""
            k -= 1
        fpart = "".join(fl)
    min_int = int_part.count("0")
    if ipart == "0" and min_int == 0:
        ipart = ""
    ipart = ipart.rjust(min_int, "0")
    if thousands and ipart:
        ipart = f"{int(ipart):,}".rjust(len(ipart), "0") if ipart.strip("0") else ipart
    out = ipart
    if "." in ph:
        out += "." + fpart if fpart or frac_part else "."
    return "".join(literal_before) + out + "".join(literal_after), q


def fn_text(value: Any, fmt: Any) -> Any:
    if type(value) is ExcelError:
        return value
    f = to_text(fmt)
    if type(f) is ExcelError:
        return f
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    if value is None:
        value = 0.0
    if type(value) is str:
        y = parse_number(value)
        if y is None:
            return value
        value = y
    x: float = value  # type: ignore[assignment]
    # General, also as a Chinese Excel writes it (G/通用格式)
    if f == "" or f.upper() in ("GENERAL", "G/通用格式"):  # type: ignore[union-attr]
        return number_text(x) if f else ""
    if f == "@":
        return number_text(x)
    sections = _split_sections(f)  # type: ignore[arg-type]
    if any(_DATE_CODES.search(re.sub(r'"[^"]*"|\\.', "", s)) for s in sections):
        raise Unsupported(f"TEXT format {f!r}")
    if len(sections) > 3:
        sections = sections[:3]
    if x < 0 and len(sections) >= 2:
        text, _ = _format_number(-x, sections[1])
        return text
    if x == 0 and len(sections) >= 3:
        text, _ = _format_number(0.0, sections[2])
        return text
    text, q = _format_number(abs(x), sections[0])
    if x < 0 and q != 0:
        text = "-" + text
    return text


# --------------------------------------------------------------------------- table

def _n(impl: Callable[..., Any], lo: int, hi: int | None, modes: str = "S", *,
       lift: bool = False, ctx: bool = False, returns_ref: bool = False,
       name: str = "") -> FunctionSpec:
    return FunctionSpec(name, impl, lo, hi, modes, lift=lift, ctx=ctx, returns_ref=returns_ref)


_TABLE: dict[str, FunctionSpec] = {
    "SUM": _n(fn_sum, 1, 255, "R", ctx=True),
    "AVERAGE": _n(fn_average, 1, 255, "R", ctx=True),
    "MIN": _n(fn_min, 1, 255, "R", ctx=True),
    "MAX": _n(fn_max, 1, 255, "R", ctx=True),
    "COUNT": _n(fn_count, 1, 255, "R", ctx=True),
    "COUNTA": _n(fn_counta, 1, 255, "R", ctx=True),
    "COUNTBLANK": _n(fn_countblank, 1, 1, "R", ctx=True),
    "COUNTIF": _n(fn_countif, 2, 2, "R", ctx=True),
    "COUNTIFS": _n(fn_countifs, 2, 254, "R", ctx=True),
    "SUMIF": _n(fn_sumif, 2, 3, "R", ctx=True),
    "SUMIFS": _n(fn_sumifs, 3, 255, "R", ctx=True),
    "AVERAGEIF": _n(fn_averageif, 2, 3, "R", ctx=True),
    "AVERAGEIFS": _n(fn_averageifs, 3, 255, "R", ctx=True),
    "SUMPRODUCT": _n(fn_sumproduct, 1, 255, "A", ctx=True),
    "ROUND": _n(fn_round_required, 2, 2, lift=True),
    "ROUNDUP": _n(fn_roundup, 2, 2, lift=True),
    "ROUNDDOWN": _n(fn_rounddown, 2, 2, lift=True),
    "TRUNC": _n(fn_rounddown, 1, 2, lift=True),
    "INT": _n(fn_int, 1, 1, lift=True),
    "ABS": _n(fn_abs, 1, 1, lift=True),
    "MOD": _n(fn_mod, 2, 2, lift=True),
    "POWER": _n(fn_power, 2, 2, lift=True),
    "SQRT": _n(fn_sqrt, 1, 1, lift=True),
    "AND": _n(fn_and, 1, 255, "R", ctx=True),
    "OR": _n(fn_or, 1, 255, "R", ctx=True),
    "NOT": _n(fn_not, 1, 1, lift=True),
    "TRUE": _n(fn_true, 0, 0),
    "FALSE": _n(fn_false, 0, 0),
    "NA": _n(fn_na, 0, 0),
    "ISBLANK": _n(fn_isblank, 1, 1, lift=True),
    "ISNUMBER": _n(fn_isnumber, 1, 1, lift=True),
    "ISTEXT": _n(fn_istext, 1, 1, lift=True),
    "ISERROR": _n(fn_iserror, 1, 1, lift=True),
    "ISNA": _n(fn_isna, 1, 1, lift=True),
    "VLOOKUP": _n(fn_vlookup, 3, 4, "SRSS", ctx=True),
    "HLOOKUP": _n(fn_hlookup, 3, 4, "SRSS", ctx=True),
    "MATCH": _n(fn_match, 2, 3, "SAS", ctx=True),
    "LOOKUP": _n(fn_lookup, 2, 3, "SAA", ctx=True),
    "INDEX": _n(fn_index, 2, 3, "ASS", ctx=True, returns_ref=True),
    "RANK": _n(fn_rank, 2, 3, "SRS", ctx=True),
    "RANK.EQ": _n(fn_rank, 2, 3, "SRS", ctx=True),
    "CONCATENATE": _n(fn_concat, 1, 255, lift=True),
    "LEN": _n(fn_len, 1, 1, lift=True),
    "LEFT": _n(fn_left, 1, 2, lift=True),
    "RIGHT": _n(fn_right, 1, 2, lift=True),
    "MID": _n(fn_mid, 3, 3, lift=True),
    "TRIM": _n(fn_trim, 1, 1, lift=True),
    "MEDIAN": _n(fn_median, 1, 255, "R", ctx=True),
    "VALUE": _n(fn_value, 1, 1, lift=True),
    "TEXT": _n(fn_text, 2, 2, lift=True),
}

#: Native functions by name.
NATIVE: dict[str, FunctionSpec] = {
    name: FunctionSpec(name, s.impl, s.min_args, s.max_args, s.modes, s.lift, s.ctx,
                       False, s.returns_ref)
    for name, s in _TABLE.items()
}

#: Functions compiled specially (lazy arguments): the compiler implements them.
SPECIAL_FORMS = frozenset(("IF", "IFS", "IFERROR", "IFNA", "CHOOSE", "SINGLE"))

#: Every Excel function name the recalculator computes itself.
NATIVE_FUNCTIONS = frozenset(NATIVE) | SPECIAL_FORMS



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
