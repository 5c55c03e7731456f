"""Statistical, probability outside the named distributions: PERMUTATIONA and PROB. The
distributions themselves (NORM.DIST, T.DIST, PHI, GAUSS…) are in :mod:`.distributions`."""

from __future__ import annotations

import math
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context
from ..values import NUM, OMITTED, takes_omitted, to_number
from .args import _values, numeric
from .registry import registrar

register = registrar("Statistical")


@register("PERMUTATIONA", 2, 2, lift=True)
@numeric
def fn_permutationa(number: float, chosen: float) -> Any:
    n, k = math.trunc(number), math.trunc(chosen)
    if n < 0 or k < 0:
        return NUM
    return float(n) ** k


@register("PROB", 3, 4, "RRSS", ctx=True)
@takes_omitted
def fn_prob(ctx: Context, xs: Any, probs: Any, lower: Any, upper: Any = OMITTED) -> Any:
    """The probability that a value lies in [lower, upper] (= lower without upper); the
    ranges must have as many cells, the probabilities be in [0, 1] and add up to 1."""
    xv, pv = _values(ctx, xs), _values(ctx, probs)
    if xv is None:
        xv = [xs]
    if pv is None:
        pv = [probs]
    if len(xv) != len(pv):
        return ExcelError("#N/A", tr("x_range 与 prob_range 大小不同"))
    lo = to_number(lower)
    if type(lo) is ExcelError:
        return lo
    hi = lo if upper is OMITTED or upper is None else to_number(upper)
    if type(hi) is ExcelError:
        return hi
    total = 0.0
    got = 0.0
    for x, p in zip(xv, pv, strict=True):
        if type(p) is ExcelError:
            return p
        if type(x) is ExcelError:
            return x
        if type(p) is not float or type(x) is not float:
            continue
        if not 0.0 <= p <= 1.0:
            return NUM
        total += p
        if lo <= x <= hi:  # type: ignore[operator]
            got += p
    if total == 0.0:
        return ExcelError("#DIV/0!", tr("prob_range 中没有概率"))
    if abs(total - 1.0) > 1e-9:
        return ExcelError("#NUM!", tr("概率之和不是 1"))
    return got
