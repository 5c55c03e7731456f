"""Helpers shared by the category modules: arguments as Excel reads them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from xlbridge.xlvalues import ExcelError

from ..core import Context, Ref
from ..values import (
    to_number,
)

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





def _lookup_scalar(ctx: Context, v: Any) -> Any:
    if type(v) is Ref:
        return ctx.intersect(v, ctx.caller)
    if type(v) is list:
        return v[0][0]
    return v


