"""Math & Trig, matrices and series: MUNIT, MDETERM, MINVERSE, SERIESSUM (MMULT is in
:mod:`.mathtrig`). Determinant and inverse by Gaussian elimination with partial pivoting, as
Excel documents (its results agree to about 15 digits)."""

from __future__ import annotations

import math
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context
from ..values import NUM, VALUE, checked, to_number
from .args import _values, number_grid
from .registry import registrar

register = registrar("Math & Trig")


def _square(ctx: Context, a: Any) -> list[list[float]] | ExcelError:
    """A square matrix of numbers; an empty cell or text is #VALUE!, as in Excel."""
    g = number_grid(ctx, a, "the matrix")
    if type(g) is ExcelError:
        return g
    if not g or len(g) != len(g[0]):  # type: ignore[arg-type,index]
        return ExcelError("#VALUE!", tr("矩阵不是方阵"))
    return g


def _eliminate(m: list[list[float]], inverse: bool) -> tuple[float, list[list[float]] | None]:
    """(determinant, inverse or None) by Gauss-Jordan elimination with partial pivoting."""
    n = len(m)
    a = [row[:] + ([1.0 if i == j else 0.0 for j in range(n)] if inverse else [])
         for i, row in enumerate(m)]
    det = 1.0
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(a[r][col]))
        if a[piv][col] == 0.0:
            return 0.0, None
        if piv != col:
            a[col], a[piv] = a[piv], a[col]
            det = -det
        p = a[col][col]
        det *= p
        for r in range(n):
            if r != col and (inverse or r > col):
                f = a[r][col] / p
                if f:
                    a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
    if not inverse:
        return det, None
    return det, [[a[i][n + j] / a[i][i] for j in range(n)] for i in range(n)]


@register("MUNIT", 1, 1)
def fn_munit(dimension: Any) -> Any:
    n = to_number(dimension)
    if type(n) is ExcelError:
        return n
    k = math.trunc(n)  # type: ignore[arg-type]
    if k < 1:
        return ExcelError("#VALUE!", tr("MUNIT 的维数至少为 1"))
    if k > 1048576:
        return NUM
    return [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]


@register("MDETERM", 1, 1, "A", ctx=True)
def fn_mdeterm(ctx: Context, array: Any) -> Any:
    m = _square(ctx, array)
    if type(m) is ExcelError:
        return m
    return checked(_eliminate(m, False)[0])  # type: ignore[arg-type]


@register("MINVERSE", 1, 1, "A", ctx=True)
def fn_minverse(ctx: Context, array: Any) -> Any:
    m = _square(ctx, array)
    if type(m) is ExcelError:
        return m
    det, inv = _eliminate(m, True)  # type: ignore[arg-type]
    if inv is None or det == 0.0:
        return ExcelError("#NUM!", tr("矩阵是奇异矩阵"))
    return [[checked(x) for x in row] for row in inv]


@register("SERIESSUM", 4, 4, "SSSR", ctx=True)
def fn_seriessum(ctx: Context, x: Any, n: Any, m: Any, coefficients: Any) -> Any:
    if type(x) in (bool, str):
        return ExcelError("#VALUE!", tr("SERIESSUM 的 x 必须是数字"))
    xs = []
    for a in (x, n, m):
        v = to_number(a)
        if type(v) is ExcelError:
            return v
        xs.append(v)
    vals = _values(ctx, coefficients)
    if vals is None:
        vals = [coefficients]
    total = 0.0
    for i, c in enumerate(vals):
        if type(c) is ExcelError:
            return c
        if type(c) is not float:
            return VALUE
        power = xs[1] + i * xs[2]  # type: ignore[operator]
        if xs[0] == 0.0 and power <= 0.0:
            return ExcelError("#NUM!", tr("0 的 0 次或负数次幂"))
        try:
            total += c * xs[0] ** power  # type: ignore[operator]
        except ZeroDivisionError:
            return NUM
        except OverflowError:
            return NUM
    if isinstance(total, complex):
        return NUM
    return checked(total)
