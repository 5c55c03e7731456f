"""Statistical, least squares: LINEST, LOGEST, TREND, GROWTH.

``known_y`` is one column (or one row) of n values; ``known_x`` holds k variables as k
columns of n rows (or k rows of n columns), {1, 2, …, n} when omitted. The coefficients solve
the normal equations (XᵀX)·b = Xᵀy by Gaussian elimination; with ``const`` FALSE the line goes
through the origin. LINEST's ``stats`` rows are Excel's: coefficients (m_k … m_1, b), their
standard errors, r² and the standard error of y, F and the degrees of freedom, the regression
and residual sums of squares — cells with nothing to show are #N/A. LOGEST and GROWTH fit
ln(y) (every y must be positive) and give exp of the results.
"""

from __future__ import annotations

import math
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context
from ..values import NA, NUM, OMITTED, VALUE, takes_omitted, to_bool
from .args import number_grid
from .registry import registrar

register = registrar("Statistical")

Matrix = list[list[float]]


def _numbers(ctx: Context, a: Any) -> Matrix | ExcelError:
    return number_grid(ctx, a, "the regression's range")


def _design(ctx: Context, ys: Any, xs: Any) -> tuple[list[float], Matrix] | ExcelError:
    """y as a list of n values and X as n rows of k variables."""
    gy = _numbers(ctx, ys)
    if type(gy) is ExcelError:
        return gy
    by_rows = len(gy[0]) == 1  # type: ignore[index]
    if not by_rows and len(gy) != 1:  # type: ignore[arg-type]
        return ExcelError("#REF!", tr("known_y's 必须是一行或一列"))
    y = [r[0] for r in gy] if by_rows else list(gy[0])  # type: ignore[index]
    n = len(y)
    if xs is OMITTED or xs is None:
        return y, [[float(i + 1)] for i in range(n)]
    gx = _numbers(ctx, xs)
    if type(gx) is ExcelError:
        return gx
    if by_rows and len(gx) == n:  # type: ignore[arg-type]
        x = [list(r) for r in gx]  # type: ignore[union-attr]
    elif not by_rows and len(gx[0]) == n:  # type: ignore[index]
        x = [[gx[j][i] for j in range(len(gx))] for i in range(n)]  # type: ignore[index,arg-type]
    elif len(gx) * len(gx[0]) == n and (len(gx) == 1 or len(gx[0]) == 1):  # type: ignore
        x = [[v] for row in gx for v in row]  # type: ignore[union-attr]
    else:
        return ExcelError("#REF!", tr("known_x's 与 known_y's 不匹配"))
    return y, x


def _solve(a: Matrix, b: list[float]) -> list[float] | None:
    n = len(a)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[piv][col]) < 1e-300:
            return None
        m[col], m[piv] = m[piv], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                if f:
                    m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def _inverse(a: Matrix) -> Matrix | None:
    n = len(a)
    cols = []
    for j in range(n):
        c = _solve(a, [1.0 if i == j else 0.0 for i in range(n)])
        if c is None:
            return None
        cols.append(c)
    return [[cols[j][i] for j in range(n)] for i in range(n)]


def fit(y: list[float], x: Matrix, const: bool) -> tuple[list[float], float, Matrix] | ExcelError:
    """(coefficients b_0 (intercept, 0 without const), b_1…b_k; residual sum of squares;
    (XᵀX)⁻¹ of the design used)."""
    rows = [([1.0] if const else []) + r for r in x]
    p = len(rows[0])
    if len(y) < p or p == 0:
        return ExcelError("#NUM!", tr("回归的数据点太少"))
    xtx = [[math.fsum(r[i] * r[j] for r in rows) for j in range(p)] for i in range(p)]
    xty = [math.fsum(r[i] * v for r, v in zip(rows, y, strict=True)) for i in range(p)]
    b = _solve(xtx, xty)
    inv = _inverse(xtx)
    if b is None or inv is None:
        return ExcelError("#NUM!", tr("回归的自变量共线"))
    coef = b if const else [0.0, *b]
    resid = math.fsum((v - math.fsum(c * w for c, w in zip(b, r, strict=True))) ** 2
                      for r, v in zip(rows, y, strict=True))
    return coef, resid, inv


def _fitted(ctx: Context, ys: Any, xs: Any, const: Any, log: bool) -> Any:
    """(y — ln y for LOGEST/GROWTH —, X, const, the fit) or the error."""
    got = _design(ctx, ys, xs)
    if type(got) is ExcelError:
        return got
    y, x = got  # type: ignore[misc]
    if log:
        if any(v <= 0 for v in y):
            return NUM
        y = [math.log(v) for v in y]
    c = True if const is OMITTED or const is None else to_bool(const)
    if type(c) is ExcelError:
        return c
    f = fit(y, x, bool(c))
    if type(f) is ExcelError:
        return f
    return y, x, bool(c), f


def _linest(ctx: Context, ys: Any, xs: Any, const: Any, stats: Any, log: bool) -> Any:
    s = False if stats is OMITTED or stats is None else to_bool(stats)
    if type(s) is ExcelError:
        return s
    got = _fitted(ctx, ys, xs, const, log)
    if type(got) is ExcelError:
        return got
    y, x, c, (coef, ssresid, inv) = got
    k = len(x[0])
    first = [*reversed(coef[1:]), coef[0]]
    out = [[math.exp(v) for v in first] if log else first]
    if not s:
        return out
    n = len(y)
    df = n - k - (1 if c else 0)
    yhat = [coef[0] + math.fsum(cf * w for cf, w in zip(coef[1:], r, strict=True)) for r in x]
    mean = math.fsum(y) / n if c else 0.0
    ssreg = math.fsum((v - mean) ** 2 for v in yhat)
    if df <= 0:
        return VALUE if df < 0 else [*out, *([NA] * (k + 1) for _ in range(4))]
    sigma2 = ssresid / df
    se = [math.sqrt(max(sigma2 * inv[i][i], 0.0)) for i in range(len(inv))]
    se_b = se[0] if c else NA
    se_m = se[1:] if c else se
    total = ssreg + ssresid
    r2 = ssreg / total if total else 1.0
    fstat = (ssreg / k) / sigma2 if sigma2 else NUM
    pad = [NA] * (k - 1)
    return [*out, [*reversed(se_m), se_b], [r2, math.sqrt(sigma2), *pad],
            [fstat, float(df), *pad], [ssreg, ssresid, *pad]]


@register("LINEST", 1, 4, "RRSS", ctx=True)
@takes_omitted
def fn_linest(ctx: Context, ys: Any, xs: Any = OMITTED, const: Any = OMITTED,
              stats: Any = OMITTED) -> Any:
    return _linest(ctx, ys, xs, const, stats, False)


@register("LOGEST", 1, 4, "RRSS", ctx=True)
@takes_omitted
def fn_logest(ctx: Context, ys: Any, xs: Any = OMITTED, const: Any = OMITTED,
              stats: Any = OMITTED) -> Any:
    return _linest(ctx, ys, xs, const, stats, True)


def _trend(ctx: Context, ys: Any, xs: Any, new: Any, const: Any, log: bool) -> Any:
    got = _fitted(ctx, ys, xs, const, log)
    if type(got) is ExcelError:
        return got
    _y, x, _c, (coef, _ss, _inv) = got
    k = len(x[0])
    if new is OMITTED or new is None:
        points, shape = x, (len(x), 1)
    else:
        g = _numbers(ctx, new)
        if type(g) is ExcelError:
            return g
        h, w = len(g), len(g[0])  # type: ignore[arg-type,index]
        if k == 1:
            points, shape = [[v] for row in g for v in row], (h, w)  # type: ignore[union-attr]
        elif w == k:
            points, shape = [list(r) for r in g], (h, 1)  # type: ignore[union-attr]
        elif h == k:
            points = [[g[j][i] for j in range(k)] for i in range(w)]  # type: ignore[index]
            shape = (1, w)
        else:
            return ExcelError("#REF!", tr("new_x's 与 known_x's 不匹配"))
    vals = [coef[0] + math.fsum(cf * v for cf, v in zip(coef[1:], p, strict=True))
            for p in points]
    if log:
        vals = [math.exp(v) for v in vals]
    h, w = shape
    return [[vals[i * w + j] for j in range(w)] for i in range(h)]


@register("TREND", 1, 4, "RRRS", ctx=True)
@takes_omitted
def fn_trend(ctx: Context, ys: Any, xs: Any = OMITTED, new: Any = OMITTED,
             const: Any = OMITTED) -> Any:
    return _trend(ctx, ys, xs, new, const, False)


@register("GROWTH", 1, 4, "RRRS", ctx=True)
@takes_omitted
def fn_growth(ctx: Context, ys: Any, xs: Any = OMITTED, new: Any = OMITTED,
              const: Any = OMITTED) -> Any:
    return _trend(ctx, ys, xs, new, const, True)
