"""The function registry: every worksheet function, native or added, by name.

A native function is registered beside its code, in the module of its Excel category, by
the :func:`registrar` decorator, which records its name, arity and argument kinds (as pycel's
``excelfunc`` and ``formulas``' ``FUNCTIONS`` table do)::

    register = registrar("Math & Trig")

    @register("ROUND", 2, 2, lift=True)
    def fn_round(x, digits): ...

External functions (the PERF_* worksheet functions, a tool's own) are added with
:func:`register_function`; their calling convention is in :mod:`xlbridge.recompute.functions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref, split_key
from ..formula import col_letters
from ..values import NUM, VALUE, checked

#: Excel's function categories, in the order Excel's Insert Function dialog lists them.
CATEGORIES = ("Math & Trig", "Statistical", "Logical", "Text", "Lookup & Reference",
              "Information", "Date & Time", "Financial", "Database", "Engineering",
              "Dynamic arrays", "Internal")


@dataclass(frozen=True)
class FunctionSpec:
    """How to compile a call: argument kinds, arity and the implementation.

    ``modes`` gives one letter per argument, the last one repeating: ``S`` a single value
    (a range is implicitly intersected), ``R`` a reference or value (ranges stay ranges),
    ``A`` an array (operators inside act element-wise, as in SUMPRODUCT), ``L`` one value that
    in an array formula may be an array, the function then called once per value (SUMIF's
    criteria); ``X`` is the external calling convention. A *form* (``form=True``: IF,
    IFERROR, CHOOSE, LET…) gets its arguments unevaluated: ``impl(compiler, args, mode)``
    returns the call's closure, so that only the branch taken is evaluated, as in Excel.
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
    category: str = ""
    form: bool = False          # compiled specially (lazy arguments), see above
    volatile: bool = False      # TODAY, NOW, RAND…: a new value on every recompute

    def mode(self, i: int) -> str:
        return self.modes[i] if i < len(self.modes) else self.modes[-1]

    @property
    def arity(self) -> str:
        """``"2"``, ``"1–3"``, ``"1+"``: how many arguments it takes, for listings."""
        hi = self.max_args
        if hi == self.min_args:
            return str(hi)
        if hi is None or hi >= 250:
            return f"{self.min_args}+"
        return f"{self.min_args}–{hi}"


#: Native functions by upper-case name (filled by the category modules' decorators).
NATIVE: dict[str, FunctionSpec] = {}


def registrar(category: str) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """The decorator factory of one category module: ``register(name, min, max, modes…)``."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")

    def register(name: str, min_args: int = 0, max_args: int | None = None, modes: str = "S",
                 *, lift: bool = False, ctx: bool = False, returns_ref: bool = False,
                 form: bool = False, volatile: bool = False
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            if name in NATIVE:
                raise ValueError(f"function {name} is registered twice")
            NATIVE[name] = FunctionSpec(name, fn, min_args, max_args, modes, lift, ctx, False,
                                        returns_ref, category, form, volatile)
            return fn

        return deco

    return register


def natives_by_category() -> dict[str, list[FunctionSpec]]:
    """Every native function, by Excel category, sorted by name (``--functions``)."""
    out: dict[str, list[FunctionSpec]] = {c: [] for c in CATEGORIES}
    for spec in NATIVE.values():
        out[spec.category].append(spec)
    return {c: sorted(v, key=lambda s: s.name) for c, v in out.items() if v}


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
    from ..formula import function_name

    n = function_name(name)
    spec = NATIVE.get(n)
    return (spec is not None and spec.category != "Internal") or n in FUNCTIONS


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
            return ExcelError("#VALUE!", tr("文字超过 32767 个字符"))
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
            return ExcelError("#VALUE!", tr("函数返回了不规则或空的数组"))
        return [[_from_external(x) if not isinstance(x, list) else VALUE for x in r]
                for r in rows]
    return ExcelError("#VALUE!", tr("函数返回了 {kind}", kind=type(v).__name__))


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

