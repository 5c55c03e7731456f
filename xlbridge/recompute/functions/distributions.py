"""Statistical distributions: NORM.*, T.*, CHISQ.*, F.*, BINOM.*, GAMMA.*, BETA.* and the
rest of Excel's probability functions, with their pre-2010 names (NORMDIST, TDIST…).

Excel (since 2010) computes these to double precision, so the aim is the function's value
to the last digits, not an approximation: the normal quantile is Wichura's AS 241 (what
R and LibreOffice use), the regularized incomplete gamma and beta functions are SciPy's
(``scipy.special``: Cephes and Boost), and every quantile is the root of its distribution
function found to the last bit (:func:`_solve`). Why SciPy rather than mpmath or a
hand-written continued fraction — measured on Excel's own files — is in the README's design
section; the kernels are the four functions under "special functions". Where Excel's own
formula loses digits (FISHER, FISHERINV, GAUSS, CONFIDENCE.NORM), it is Excel's formula
that is computed here, so that the cell shows Excel's value.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from ..core import Context
from ..values import DIV0, NA, NUM, to_number
from .args import _number_args, grid_of, numeric
from .registry import registrar

register = registrar("Statistical")

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def _num_error(why: str) -> ExcelError:
    return ExcelError("#NUM!", why)


# --------------------------------------------------------------------------- special functions

def _sp() -> Any:
    """scipy.special, imported on first use (it takes a tenth of a second; a workbook
    without these functions never pays it)."""
    import scipy.special

    return scipy.special


def _gamma_p(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x)."""
    if x <= 0.0:
        return 0.0
    return float(_sp().gammainc(a, x))


def _gamma_q(a: float, x: float) -> float:
    """Q(a, x) = 1 - P(a, x), accurate where P is near 1."""
    if x <= 0.0:
        return 1.0
    return float(_sp().gammaincc(a, x))


def _beta_i(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return float(_sp().betainc(a, b, x))


def _beta_ic(x: float, a: float, b: float) -> float:
    """1 - I_x(a, b), accurate where I is near 1."""
    if x <= 0.0:
        return 1.0
    if x >= 1.0:
        return 0.0
    return float(_sp().betaincc(a, b, x))


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


def _norm_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / _SQRT2PI


# Wichura, "Algorithm AS 241: The percentage points of the normal distribution" (1988), PPND16
_AS241_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427,
            13731.693765509461125, 45921.953931549871457, 67265.770927008700853,
            33430.575583588128105, 2509.0809287301226727)
_AS241_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
            21213.794301586595867, 39307.89580009271061, 28729.085735721942674,
            5226.495278852545925)
_AS241_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055,
            3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
            0.0227238449892691845833, 7.7454501427834140764e-4)
_AS241_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
            0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
            1.05075007164441684324e-9)
_AS241_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358,
            0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
            2.71155556874348757815e-5, 2.01033439929228813265e-7)
_AS241_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
            7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
            2.04426310338993978564e-15)


def _poly(x: float, coefs: tuple[float, ...]) -> float:
    acc = 0.0
    for c in reversed(coefs):
        acc = acc * x + c
    return acc


def _norm_ppf(p: float) -> float:
    """The standard normal quantile (0 < p < 1), AS 241 to about 1e-16."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(r, _AS241_A) / _poly(r, _AS241_B)
    r = p if q < 0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        z = _poly(r, _AS241_C) / _poly(r, _AS241_D)
    else:
        r -= 5.0
        z = _poly(r, _AS241_E) / _poly(r, _AS241_F)
    return -z if q < 0 else z


def _solve(f: Callable[[float], float], target: float, lo: float, hi: float,
           increasing: bool = True) -> float:
    """x in [lo, hi] with f(x) = target for a monotone f, to the last bit (bisection with
    secant steps; hi may be inf: the bracket grows until it holds the root)."""
    sign = 1.0 if increasing else -1.0
    if math.isinf(hi):
        step = max(1.0, lo)
        hi = lo + step
        while sign * (f(hi) - target) < 0:
            lo, hi = hi, hi + step
            step *= 2.0
            if hi > 1e300:
                return math.inf
    flo, fhi = f(lo) - target, f(hi) - target
    for _ in range(400):
        if hi - lo <= 4 * math.ulp(max(abs(lo), abs(hi))):
            break
        x = lo - flo * (hi - lo) / (fhi - flo) if fhi != flo else 0.5 * (lo + hi)
        if not lo < x < hi or _ % 3 == 2:
            x = 0.5 * (lo + hi)  # every third step a bisection: the bracket always halves
        fx = f(x) - target
        if fx == 0.0:
            return x
        if sign * fx < 0:
            lo, flo = x, fx
        else:
            hi, fhi = x, fx
    return lo if abs(flo) < abs(fhi) else hi


def _quantile(cdf: Callable[[float], float], sf: Callable[[float], float], p: float,
              lo: float, hi: float, upper: bool = False) -> float:
    """x in [lo, hi] with cdf(x) = p (sf(x) = p if ``upper``; sf = 1 − cdf, computed as
    such), solved against the other tail where p > ½: there the function is near 1 and its
    last bits are all of 1 − p, which is exact (GAMMA.INV(0.999999,9,2) was 2E-12 off,
    BETA.INV(0.9999999999999962,…) 3E-9)."""
    if p > 0.5:
        p, upper = 1.0 - p, not upper
    return _solve(sf, p, lo, hi, increasing=False) if upper else _solve(cdf, p, lo, hi)


# --------------------------------------------------------------------------- argument helpers

def _dist_args(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`~.args.numeric`, with two of Excel's habits here: a ``cumulative`` argument
    may be the text "TRUE"/"FALSE", and a blank cell given for an optional argument is 0,
    not the default (BETA.DIST(x,2,3,TRUE,A1,B1) with B1 blank has B = 0: #NUM!)."""
    inner = numeric(fn)
    names = list(inspect.signature(fn).parameters)
    flag = names.index("cumulative") if "cumulative" in names else -1

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        xs = [0.0 if a is None else a for a in args]
        if 0 <= flag < len(xs) and type(xs[flag]) is str:
            word = xs[flag].strip().upper()
            if word in ("TRUE", "FALSE"):
                xs[flag] = word == "TRUE"
        return inner(*xs)

    return wrapper


def _cum(flag: float) -> bool:
    return flag != 0.0


def _legacy(name: str, fn: Callable[..., Any], lo: int, hi: int) -> None:
    """Register a pre-2010 name (NORMDIST…) for the same implementation."""
    register(name, lo, hi, lift=True)(fn)


# --------------------------------------------------------------------------- normal

@register("NORM.DIST", 4, 4, lift=True)
@_dist_args
def fn_norm_dist(x: float, mean: float, sd: float, cumulative: float) -> Any:
    if sd <= 0:
        return _num_error(tr("standard_dev 必须大于 0"))
    z = (x - mean) / sd
    return _norm_cdf(z) if _cum(cumulative) else _norm_pdf(z) / sd


_legacy("NORMDIST", fn_norm_dist, 4, 4)


@register("NORM.INV", 3, 3, lift=True)
@_dist_args
def fn_norm_inv(p: float, mean: float, sd: float) -> Any:
    if not 0 < p < 1 or sd <= 0:
        return _num_error(tr("probability 须在 0 到 1 之间，standard_dev 须大于 0"))
    return mean + sd * _norm_ppf(p)


_legacy("NORMINV", fn_norm_inv, 3, 3)


@register("NORM.S.DIST", 2, 2, lift=True)
@_dist_args
def fn_norm_s_dist(z: float, cumulative: float) -> Any:
    return _norm_cdf(z) if _cum(cumulative) else _norm_pdf(z)


@register("NORMSDIST", 1, 1, lift=True)
@_dist_args
def fn_normsdist(z: float) -> Any:
    return _norm_cdf(z)


@register("NORM.S.INV", 1, 1, lift=True)
@_dist_args
def fn_norm_s_inv(p: float) -> Any:
    if not 0 < p < 1:
        return _num_error(tr("probability 须在 0 到 1 之间"))
    return _norm_ppf(p)


_legacy("NORMSINV", fn_norm_s_inv, 1, 1)


@register("PHI", 1, 1, lift=True)
@_dist_args
def fn_phi(x: float) -> Any:
    return _norm_pdf(x)


@register("GAUSS", 1, 1, lift=True)
@_dist_args
def fn_gauss(z: float) -> Any:
    # NORM.S.DIST(z,TRUE) - 0.5, as Excel computes it (the cancellation included)
    return _norm_cdf(z) - 0.5


@register("LOGNORM.DIST", 4, 4, lift=True)
@_dist_args
def fn_lognorm_dist(x: float, mean: float, sd: float, cumulative: float) -> Any:
    if x <= 0 or sd <= 0:
        return _num_error(tr("x 和 standard_dev 必须大于 0"))
    z = (math.log(x) - mean) / sd
    return _norm_cdf(z) if _cum(cumulative) else _norm_pdf(z) / (x * sd)


@register("LOGNORMDIST", 3, 3, lift=True)
@_dist_args
def fn_lognormdist(x: float, mean: float, sd: float) -> Any:
    return fn_lognorm_dist(x, mean, sd, 1.0)


@register("LOGNORM.INV", 3, 3, lift=True)
@_dist_args
def fn_lognorm_inv(p: float, mean: float, sd: float) -> Any:
    if not 0 < p < 1 or sd <= 0:
        return _num_error(tr("probability 须在 0 到 1 之间，standard_dev 须大于 0"))
    return math.exp(mean + sd * _norm_ppf(p))


_legacy("LOGINV", fn_lognorm_inv, 3, 3)


@register("CONFIDENCE.NORM", 3, 3, lift=True)
@_dist_args
def fn_confidence_norm(alpha: float, sd: float, size: float) -> Any:
    n = math.trunc(size)
    if not 0 < alpha < 1 or sd <= 0 or n < 1:
        return _num_error(tr("alpha 须在 0 到 1 之间，standard_dev 大于 0，size 不小于 1"))
    return _norm_ppf(1.0 - alpha / 2.0) * sd / math.sqrt(n)  # Excel's 1 - alpha/2


_legacy("CONFIDENCE", fn_confidence_norm, 3, 3)


@register("CONFIDENCE.T", 3, 3, lift=True)
@_dist_args
def fn_confidence_t(alpha: float, sd: float, size: float) -> Any:
    n = math.trunc(size)
    if not 0 < alpha < 1 or sd <= 0 or n < 1:
        return _num_error(tr("alpha 须在 0 到 1 之间，standard_dev 大于 0，size 不小于 1"))
    if n == 1:
        return ExcelError("#DIV/0!", tr("CONFIDENCE.T 的样本只有 1 个"))
    return _t_inv_2t(alpha, n - 1.0) * sd / math.sqrt(n)


# --------------------------------------------------------------------------- Student's t

def _t_upper(t: float, df: float) -> float:
    """P(T > t) for t ≥ 0."""
    return 0.5 * _beta_i(df / (df + t * t), df / 2.0, 0.5)


def _t_cdf(t: float, df: float) -> float:
    if t >= 0:
        return 1.0 - _t_upper(t, df) if t * t < df else 0.5 + 0.5 * _beta_i(
            t * t / (df + t * t), 0.5, df / 2.0)
    return _t_upper(-t, df)


def _t_pdf(t: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
                    - (df + 1) / 2 * math.log1p(t * t / df)) / math.sqrt(df * math.pi)


def _t_inv_2t(p: float, df: float) -> float:
    """t ≥ 0 with P(|T| > t) = p."""
    if p >= 1.0:
        return 0.0
    # P(|T| > t) = I_x(df/2, 1/2) with x = df/(df+t²), = 1 − I_y(1/2, df/2) with y = 1 − x:
    # solve for the smaller of x and y, so that 1 − x never rounds away t's digits (near
    # p = 1, x = 1 − 3E-14: CONFIDENCE.T(0.999999,1,50) was 5E-4 off, CONFIDENCE.xlsx E8),
    # and against the smaller of p and 1 − p
    if p >= _beta_i(0.5, df / 2.0, 0.5):  # t ≤ √df: y ≤ ½
        if p > 0.5:
            y = _solve(lambda v: _beta_i(v, 0.5, df / 2.0), 1.0 - p, 0.0, 0.5)
        else:
            y = _solve(lambda v: _beta_ic(v, 0.5, df / 2.0), p, 0.0, 0.5, increasing=False)
        return math.sqrt(df * y / (1.0 - y))
    x = _solve(lambda v: _beta_i(v, df / 2.0, 0.5), p, 0.0, 0.5)
    if x <= 0.0:
        return math.inf
    return math.sqrt(df * (1.0 - x) / x)


@register("T.DIST", 3, 3, lift=True)
@_dist_args
def fn_t_dist(x: float, df: float, cumulative: float) -> Any:
    df = math.trunc(df)  # type: ignore[assignment]  # T.DIST(3,5.2,TRUE) is T.DIST(3,5,TRUE)
    if df < 1:
        return _num_error(tr("deg_freedom 不能小于 1"))
    return _t_cdf(x, df) if _cum(cumulative) else _t_pdf(x, df)


@register("T.DIST.RT", 2, 2, lift=True)
@_dist_args
def fn_t_dist_rt(x: float, df: float) -> Any:
    df = math.trunc(df)  # type: ignore[assignment]
    if df < 1:
        return _num_error(tr("deg_freedom 不能小于 1"))
    return _t_cdf(-x, df)


@register("T.DIST.2T", 2, 2, lift=True)
@_dist_args
def fn_t_dist_2t(x: float, df: float) -> Any:
    df = math.trunc(df)  # type: ignore[assignment]
    if x < 0 or df < 1:
        return _num_error(tr("x 不能小于 0，deg_freedom 不能小于 1"))
    return 2.0 * _t_upper(x, df)


@register("TDIST", 3, 3, lift=True)
@_dist_args
def fn_tdist(x: float, df: float, tails: float) -> Any:
    df, tails = math.trunc(df), math.trunc(tails)  # type: ignore[assignment]
    if x < 0 or df < 1 or tails not in (1, 2):
        return _num_error(tr("x 不能小于 0，deg_freedom 不能小于 1，tails 须为 1 或 2"))
    return tails * _t_upper(x, df)


@register("T.INV", 2, 2, lift=True)
@_dist_args
def fn_t_inv(p: float, df: float) -> Any:
    df = math.trunc(df)  # type: ignore[assignment]
    if not 0 < p < 1 or df < 1:
        return _num_error(tr("probability 须在 0 到 1 之间，deg_freedom 不能小于 1"))
    if p == 0.5:
        return 0.0
    t = _t_inv_2t(2.0 * min(p, 1.0 - p), df)
    return -t if p < 0.5 else t


@register("T.INV.2T", 2, 2, lift=True)
@_dist_args
def fn_t_inv_2t(p: float, df: float) -> Any:
    df = math.trunc(df)  # type: ignore[assignment]
    if not 0 < p <= 1 or df < 1:
        return _num_error(tr("probability 须在 0 到 1 之间，deg_freedom 不能小于 1"))
    return _t_inv_2t(p, df)


@register("TINV", 2, 2, lift=True)
@_dist_args
def fn_tinv(p: float, df: float) -> Any:
    return fn_t_inv_2t(p, df)


# --------------------------------------------------------------------------- chi-squared

def _chisq_args(x: float, df: float) -> float | ExcelError:
    n = math.trunc(df)
    if x < 0 or n < 1 or n > 1e10:
        return _num_error(tr("x 不能小于 0，deg_freedom 须在 1 到 10^10 之间"))
    return float(n)


def _gamma_pdf(x: float, a: float, scale: float) -> float:
    if x == 0.0:
        if a == 1.0:
            return 1.0 / scale
        return 0.0 if a > 1.0 else math.inf
    y = x / scale
    return math.exp((a - 1.0) * math.log(y) - y - math.lgamma(a)) / scale


@register("CHISQ.DIST", 3, 3, lift=True)
@_dist_args
def fn_chisq_dist(x: float, df: float, cumulative: float) -> Any:
    n = _chisq_args(x, df)
    if type(n) is ExcelError:
        return n
    if _cum(cumulative):
        return _gamma_p(n / 2.0, x / 2.0)
    return _gamma_pdf(x, n / 2.0, 2.0)


@register("CHISQ.DIST.RT", 2, 2, lift=True)
@_dist_args
def fn_chisq_dist_rt(x: float, df: float) -> Any:
    n = _chisq_args(x, df)
    if type(n) is ExcelError:
        return n
    return _gamma_q(n / 2.0, x / 2.0)


_legacy("CHIDIST", fn_chisq_dist_rt, 2, 2)


@register("CHISQ.INV", 2, 2, lift=True)
@_dist_args
def fn_chisq_inv(p: float, df: float) -> Any:
    n = math.trunc(df)
    if not 0 <= p < 1 or n < 1 or n > 1e10:
        return _num_error(tr("probability 须在 0 到 1 之间，deg_freedom 须在 1 到 10^10 之间"))
    if p == 0.0:
        return 0.0
    return 2.0 * _quantile(lambda v: _gamma_p(n / 2.0, v), lambda v: _gamma_q(n / 2.0, v), p,
                           0.0, math.inf)


@register("CHISQ.INV.RT", 2, 2, lift=True)
@_dist_args
def fn_chisq_inv_rt(p: float, df: float) -> Any:
    n = math.trunc(df)
    if not 0 < p <= 1 or n < 1 or n > 1e10:
        return _num_error(tr("probability 须在 0 到 1 之间，deg_freedom 须在 1 到 10^10 之间"))
    if p == 1.0:
        return 0.0
    return 2.0 * _quantile(lambda v: _gamma_p(n / 2.0, v), lambda v: _gamma_q(n / 2.0, v), p,
                           0.0, math.inf, upper=True)


_legacy("CHIINV", fn_chisq_inv_rt, 2, 2)


# --------------------------------------------------------------------------- F

def _f_args(x: float, d1: float, d2: float) -> tuple[float, float] | ExcelError:
    a, b = math.trunc(d1), math.trunc(d2)
    if x < 0 or a < 1 or b < 1 or a >= 1e10 or b >= 1e10:
        return _num_error(tr("x 不能小于 0，自由度须在 1 到 10^10 之间"))
    return float(a), float(b)


def _f_cdf(x: float, a: float, b: float) -> float:
    return _beta_i(a * x / (a * x + b), a / 2.0, b / 2.0)


def _f_sf(x: float, a: float, b: float) -> float:
    return _beta_i(b / (a * x + b), b / 2.0, a / 2.0)


@register("F.DIST", 4, 4, lift=True)
@_dist_args
def fn_f_dist(x: float, d1: float, d2: float, cumulative: float) -> Any:
    ab = _f_args(x, d1, d2)
    if type(ab) is ExcelError:
        return ab
    a, b = ab  # type: ignore[misc]
    if _cum(cumulative):
        return _f_cdf(x, a, b)
    if x == 0.0:
        return 0.0 if a > 2 else (1.0 if a == 2 else math.inf)
    return math.exp(0.5 * (a * math.log(a * x) + b * math.log(b) - (a + b) * math.log(a * x + b))
                    - _log_beta(a / 2.0, b / 2.0)) / x


@register("F.DIST.RT", 3, 3, lift=True)
@_dist_args
def fn_f_dist_rt(x: float, d1: float, d2: float) -> Any:
    ab = _f_args(x, d1, d2)
    if type(ab) is ExcelError:
        return ab
    return _f_sf(x, *ab)  # type: ignore[misc]


_legacy("FDIST", fn_f_dist_rt, 3, 3)


def _f_inv(p: float, d1: float, d2: float, right: bool) -> Any:
    ab = _f_args(0.0, d1, d2)
    if type(ab) is ExcelError:
        return ab
    a, b = ab  # type: ignore[misc]
    if not 0 <= p <= 1:
        return _num_error(tr("probability 须在 0 到 1 之间（含）"))
    q = 1.0 - p if right else p
    if q == 0.0:
        return 0.0
    if q == 1.0:
        return _num_error(tr("概率为 1 时 F 分布的分位数为无穷大"))
    # solve for the beta variable y = a·x/(a·x+b), then x = b·y/(a·(1-y))
    if right:
        y = 1.0 - _quantile(lambda v: _beta_i(v, b / 2.0, a / 2.0),
                            lambda v: _beta_ic(v, b / 2.0, a / 2.0), p, 0.0, 1.0)
    else:
        y = _quantile(lambda v: _beta_i(v, a / 2.0, b / 2.0),
                      lambda v: _beta_ic(v, a / 2.0, b / 2.0), p, 0.0, 1.0)
    return b * y / (a * (1.0 - y))


@register("F.INV", 3, 3, lift=True)
@_dist_args
def fn_f_inv(p: float, d1: float, d2: float) -> Any:
    return _f_inv(p, d1, d2, False)


@register("F.INV.RT", 3, 3, lift=True)
@_dist_args
def fn_f_inv_rt(p: float, d1: float, d2: float) -> Any:
    return _f_inv(p, d1, d2, True)


_legacy("FINV", fn_f_inv_rt, 3, 3)


# --------------------------------------------------------------------------- gamma, beta

@register("GAMMA", 1, 1, lift=True)
@_dist_args
def fn_gamma(x: float) -> Any:
    if x <= 0 and x.is_integer():
        return _num_error(tr("GAMMA 的参数为 0 或负整数"))
    return math.gamma(x)


@functools.cache
def _lgamma1_coefficients() -> tuple[float, ...]:
    """(−1)ᵏ·ζ(k)/k for k = 2…60: ln Γ(1+z) = −γz + Σ (−1)ᵏ·ζ(k)/k·zᵏ (|z| < 1)."""
    zeta = _sp().zeta
    return tuple((-1.0) ** k * float(zeta(k)) / k for k in range(2, 61))


def _lgamma1(z: float) -> float:
    """ln Γ(1+z) for |z| ≤ ½ from its Taylor series, to a few ulps."""
    terms, p = [], z * z
    for c in _lgamma1_coefficients():
        terms.append(c * p)
        p *= z
        if abs(p) < 1e-18 * abs(z):
            break
    acc = 0.0
    for term in reversed(terms):
        acc += term
    return acc - 0.5772156649015329 * z


def _lgamma(x: float) -> float:
    """ln Γ(x), x > 0, to the last digits also where it crosses 0 at 1 and 2: C's lgamma is
    1E-16 off there in absolute terms, so GAMMALN(1.0000001) came out 7E-9 off relatively;
    Excel's value, -5.772155829918508E-08, is the function's (GAMMALN_GAMMALNPRECISE.xlsx)."""
    if 0.5 <= x <= 1.5:
        return _lgamma1(x - 1.0)
    if 1.5 < x <= 2.5:
        return math.log1p(x - 2.0) + _lgamma1(x - 2.0)
    return math.lgamma(x)


@register("GAMMALN", 1, 1, lift=True)
@register("GAMMALN.PRECISE", 1, 1, lift=True)
@_dist_args
def fn_gammaln(x: float) -> Any:
    if x <= 0:
        return _num_error(tr("GAMMALN 需要 x 大于 0"))
    return _lgamma(x)


@register("GAMMA.DIST", 4, 4, lift=True)
@_dist_args
def fn_gamma_dist(x: float, alpha: float, beta: float, cumulative: float) -> Any:
    if x < 0 or alpha <= 0 or beta <= 0:
        return _num_error(tr("x 不能小于 0，alpha 和 beta 必须大于 0"))
    return _gamma_p(alpha, x / beta) if _cum(cumulative) else _gamma_pdf(x, alpha, beta)


_legacy("GAMMADIST", fn_gamma_dist, 4, 4)


@register("GAMMA.INV", 3, 3, lift=True)
@_dist_args
def fn_gamma_inv(p: float, alpha: float, beta: float) -> Any:
    if not 0 <= p < 1 or alpha <= 0 or beta <= 0:
        return _num_error(tr("probability 须在 0 到 1 之间，alpha 和 beta 必须大于 0"))
    if p == 0.0:
        return 0.0
    return beta * _quantile(lambda v: _gamma_p(alpha, v), lambda v: _gamma_q(alpha, v), p,
                            0.0, math.inf)


_legacy("GAMMAINV", fn_gamma_inv, 3, 3)


def _beta_bounds(x: float, lo: float, hi: float) -> float | ExcelError:
    if lo >= hi or x < lo or x > hi:
        return _num_error(tr("x 须在 A 和 B 之间"))
    return (x - lo) / (hi - lo)


@register("BETA.DIST", 4, 6, lift=True)
@_dist_args
def fn_beta_dist(x: float, alpha: float, beta: float, cumulative: float, lo: float = 0.0,
                 hi: float = 1.0) -> Any:
    if alpha <= 0 or beta <= 0:
        return _num_error(tr("alpha 和 beta 必须大于 0"))
    y = _beta_bounds(x, lo, hi)
    if type(y) is ExcelError:
        return y
    if _cum(cumulative):
        return _beta_i(y, alpha, beta)  # type: ignore[arg-type]
    if y in (0.0, 1.0):
        edge = alpha if y == 0.0 else beta
        if edge < 1:
            return _num_error(tr("该处的概率密度为无穷大"))
        if edge > 1:
            return 0.0
        return math.exp(-_log_beta(alpha, beta)) / (hi - lo)
    return math.exp((alpha - 1) * math.log(y) + (beta - 1) * math.log1p(-y)  # type: ignore[arg-type]
                    - _log_beta(alpha, beta)) / (hi - lo)


@register("BETADIST", 3, 5, lift=True)
@_dist_args
def fn_betadist(x: float, alpha: float, beta: float, lo: float = 0.0, hi: float = 1.0) -> Any:
    if alpha <= 0 or beta <= 0:
        return _num_error(tr("alpha 和 beta 必须大于 0"))
    y = _beta_bounds(x, lo, hi)
    if type(y) is ExcelError:
        return y
    return _beta_i(y, alpha, beta)  # type: ignore[arg-type]


@register("BETA.INV", 3, 5, lift=True)
@_dist_args
def fn_beta_inv(p: float, alpha: float, beta: float, lo: float = 0.0, hi: float = 1.0) -> Any:
    if not 0 < p < 1 or alpha <= 0 or beta <= 0 or lo >= hi:
        return _num_error(tr("probability 须在 0 到 1 之间，alpha 和 beta 必须大于 0，A 须小于 B"))
    return lo + (hi - lo) * _quantile(lambda v: _beta_i(v, alpha, beta),
                                      lambda v: _beta_ic(v, alpha, beta), p, 0.0, 1.0)


_legacy("BETAINV", fn_beta_inv, 3, 5)


# --------------------------------------------------------------------------- discrete

#: a sum of more terms than this is not run term by term
_MAX_TERMS = 1_000_000
#: BINOM.DIST's largest number of trials
_MAX_TRIALS = 2.0 ** 53


def _binom_pmf(k: int, n: int, p: float) -> float:
    if p == 0.0:
        return 1.0 if k == 0 else 0.0
    if p == 1.0:
        return 1.0 if k == n else 0.0
    if n < 1030:
        try:
            return math.comb(n, k) * p ** k * (1.0 - p) ** (n - k)
        except OverflowError:
            pass
    return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                    + k * math.log(p) + (n - k) * math.log1p(-p))


def _binom_cdf(k: int, n: int, p: float) -> float:
    if k >= n:
        return 1.0
    if p == 0.0:
        return 1.0
    if p == 1.0:
        return 0.0
    return _beta_ic(p, k + 1.0, float(n - k))


@register("BINOM.DIST", 4, 4, lift=True)
@_dist_args
def fn_binom_dist(s: float, n: float, p: float, cumulative: float) -> Any:
    k, m = math.trunc(s), math.trunc(n)
    if s < 0 or k > m or not 0 <= p <= 1:
        return _num_error(tr("须 0 ≤ number_s ≤ trials 且 0 ≤ probability_s ≤ 1"))
    if n > _MAX_TRIALS:
        # Excel refuses 1E30 trials (BINOM.xlsx E37) and computes 1E6; its limit is not
        # documented. Past 2^53 a double no longer holds every whole number of trials.
        return _num_error(tr("trials 超过 2^53（9007199254740992）"))
    return _binom_cdf(k, m, p) if _cum(cumulative) else _binom_pmf(k, m, p)


_legacy("BINOMDIST", fn_binom_dist, 4, 4)


@register("BINOM.DIST.RANGE", 3, 4, lift=True)
@_dist_args
def fn_binom_dist_range(n: float, p: float, s: float, s2: float | None = None) -> Any:
    m, k1 = math.trunc(n), math.trunc(s)
    k2 = k1 if s2 is None else math.trunc(s2)
    if m < 0 or not 0 <= p <= 1 or k1 < 0 or k1 > m or k2 < k1 or k2 > m:
        return _num_error(tr("须 0 ≤ number_s ≤ number_s2 ≤ trials 且 0 ≤ probability_s ≤ 1"))
    if k2 - k1 > _MAX_TERMS:  # a long range: the difference of the distribution function
        return _binom_cdf(k2, m, p) - (_binom_cdf(k1 - 1, m, p) if k1 > 0 else 0.0)
    return math.fsum(_binom_pmf(k, m, p) for k in range(k1, k2 + 1))


@register("BINOM.INV", 3, 3, lift=True)
@_dist_args
def fn_binom_inv(n: float, p: float, alpha: float) -> Any:
    m = math.trunc(n)
    if m < 0 or not 0 < p < 1 or not 0 < alpha < 1:
        return _num_error(tr("trials 不能小于 0，probability_s 和 alpha 须在 0 到 1 之间"))
    # the smallest k whose cumulative probability reaches alpha (bisection over k)
    lo, hi = 0, m
    while lo < hi:
        mid = (lo + hi) // 2
        if _binom_cdf(mid, m, p) >= alpha:
            hi = mid
        else:
            lo = mid + 1
    return float(lo)


_legacy("CRITBINOM", fn_binom_inv, 3, 3)


@register("NEGBINOM.DIST", 4, 4, lift=True)
@_dist_args
def fn_negbinom_dist(f: float, s: float, p: float, cumulative: float) -> Any:
    k, r = math.trunc(f), math.trunc(s)
    if f < 0 or r < 1 or not 0 < p < 1:
        return _num_error(tr("须 number_f ≥ 0、number_s ≥ 1、0 < probability_s < 1"))
    if _cum(cumulative):
        return _beta_i(p, float(r), k + 1.0)
    return _negbinom_pmf(k, r, p)


def _negbinom_pmf(k: int, r: int, p: float) -> float:
    if p in (0.0, 1.0):
        return float(p == 1.0 and k == 0)
    if k + r < 1030:
        return math.comb(k + r - 1, r - 1) * p ** r * (1.0 - p) ** k
    return math.exp(math.lgamma(k + r) - math.lgamma(k + 1) - math.lgamma(r)
                    + r * math.log(p) + k * math.log1p(-p))


@register("NEGBINOMDIST", 3, 3, lift=True)
@_dist_args
def fn_negbinomdist(f: float, s: float, p: float) -> Any:
    return fn_negbinom_dist(f, s, p, 0.0)


@register("POISSON.DIST", 3, 3, lift=True)
@_dist_args
def fn_poisson_dist(x: float, mean: float, cumulative: float) -> Any:
    k = math.trunc(x)
    if x < 0 or mean < 0:
        return _num_error(tr("x 和 mean 不能小于 0"))
    if mean == 0.0:
        return 1.0 if _cum(cumulative) or k == 0 else 0.0
    if _cum(cumulative):
        return _gamma_q(k + 1.0, mean)
    return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))


_legacy("POISSON", fn_poisson_dist, 3, 3)


@register("HYPGEOM.DIST", 5, 5, lift=True)
@_dist_args
def fn_hypgeom_dist(s: float, n: float, big_k: float, big_n: float, cumulative: float) -> Any:
    k, m, kk, nn = (math.trunc(v) for v in (s, n, big_k, big_n))
    if (k < 0 or k > min(m, kk) or k < max(0, m - nn + kk) or m <= 0 or m > nn or kk <= 0
            or kk > nn or nn <= 0):
        return _num_error(tr("样本与总体的大小互相矛盾"))
    if nn < 1030:
        denom = math.comb(nn, m)

        def pmf(j: int) -> float:
            return math.comb(kk, j) * math.comb(nn - kk, m - j) / denom
    else:
        def lcomb(a: int, b: int) -> float:
            return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)

        ldenom = lcomb(nn, m)

        def pmf(j: int) -> float:
            return math.exp(lcomb(kk, j) + lcomb(nn - kk, m - j) - ldenom)

    if _cum(cumulative):
        lo = max(0, m - nn + kk)
        if k - lo > _MAX_TERMS:
            return _num_error(tr("要相加的项超过 {n} 个", n=_MAX_TERMS))
        return min(1.0, math.fsum(pmf(j) for j in range(lo, k + 1)))
    return pmf(k)


@register("HYPGEOMDIST", 4, 4, lift=True)
@_dist_args
def fn_hypgeomdist(s: float, n: float, big_k: float, big_n: float) -> Any:
    return fn_hypgeom_dist(s, n, big_k, big_n, 0.0)


# --------------------------------------------------------------------------- exponential, Weibull

@register("EXPON.DIST", 3, 3, lift=True)
@_dist_args
def fn_expon_dist(x: float, lam: float, cumulative: float) -> Any:
    if x < 0 or lam <= 0:
        return _num_error(tr("x 不能小于 0，lambda 必须大于 0"))
    return -math.expm1(-lam * x) if _cum(cumulative) else lam * math.exp(-lam * x)


_legacy("EXPONDIST", fn_expon_dist, 3, 3)


@register("WEIBULL.DIST", 4, 4, lift=True)
@_dist_args
def fn_weibull_dist(x: float, alpha: float, beta: float, cumulative: float) -> Any:
    if x < 0 or alpha <= 0 or beta <= 0:
        return _num_error(tr("x 不能小于 0，alpha 和 beta 必须大于 0"))
    y = (x / beta) ** alpha
    if _cum(cumulative):
        return -math.expm1(-y)
    return alpha / beta ** alpha * x ** (alpha - 1) * math.exp(-y)


_legacy("WEIBULL", fn_weibull_dist, 4, 4)


# --------------------------------------------------------------------------- Fisher

@register("FISHER", 1, 1, lift=True)
@_dist_args
def fn_fisher(x: float) -> Any:
    if not -1 < x < 1:
        return _num_error(tr("FISHER 需要 -1 < x < 1"))
    # Excel's formula, digit for digit: FISHER(1E-10) is 1.000000082640371E-10 there
    return 0.5 * math.log((1.0 + x) / (1.0 - x))


@register("FISHERINV", 1, 1, lift=True)
@_dist_args
def fn_fisherinv(y: float) -> Any:
    if y > 350.0:
        return 1.0
    e = math.exp(2.0 * y)  # Excel's formula (FISHERINV(1E-7) is 1.0000000005039292E-7)
    return (e - 1.0) / (e + 1.0)


# --------------------------------------------------------------------------- tests

def _sample(ctx: Context, a: Any) -> list[float] | ExcelError:
    return _number_args(ctx, [a])


def _mean_var(xs: list[float]) -> tuple[float, float]:
    m = math.fsum(xs) / len(xs)
    return m, math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1)


@register("T.TEST", 4, 4, "RRSS", ctx=True)
@register("TTEST", 4, 4, "RRSS", ctx=True)
def fn_t_test(ctx: Context, a1: Any, a2: Any, tails: Any, kind: Any) -> Any:
    tk = _tails_kind(tails, kind)
    if type(tk) is ExcelError:
        return tk
    t, k = tk
    if t not in (1, 2) or k not in (1, 2, 3):
        return _num_error(tr("tails 须为 1 或 2，type 须为 1、2 或 3"))
    if k == 1:
        g1 = [v for row in grid_of(ctx, a1) for v in row]
        g2 = [v for row in grid_of(ctx, a2) for v in row]
        if len(g1) != len(g2):
            return NA
        d = [x - y for x, y in zip(g1, g2, strict=True) if type(x) is float and type(y) is float]
        if len(d) < 2:
            return DIV0
        m, v = _mean_var(d)
        if v == 0:
            return DIV0
        stat, df = m / math.sqrt(v / len(d)), len(d) - 1.0
    else:
        x, y = _sample(ctx, a1), _sample(ctx, a2)
        if type(x) is ExcelError:
            return x
        if type(y) is ExcelError:
            return y
        n1, n2 = len(x), len(y)  # type: ignore[arg-type]
        if n1 < 2 or n2 < 2:
            return DIV0
        m1, v1 = _mean_var(x)  # type: ignore[arg-type]
        m2, v2 = _mean_var(y)  # type: ignore[arg-type]
        if k == 2:
            df = n1 + n2 - 2.0
            pooled = ((n1 - 1) * v1 + (n2 - 1) * v2) / df
            se = math.sqrt(pooled * (1.0 / n1 + 1.0 / n2))
        else:
            s1, s2 = v1 / n1, v2 / n2
            se = math.sqrt(s1 + s2)
            df = (s1 + s2) ** 2 / (s1 * s1 / (n1 - 1) + s2 * s2 / (n2 - 1))
        if se == 0:
            return DIV0
        stat = (m1 - m2) / se
    return t * _t_upper(abs(stat), df)


@numeric
def _tails_kind(tails: float, kind: float) -> Any:
    return (math.trunc(tails), math.trunc(kind))


@register("Z.TEST", 2, 3, "RSS", ctx=True)
@register("ZTEST", 2, 3, "RSS", ctx=True)
def fn_z_test(ctx: Context, arr: Any, x: Any, sigma: Any = None) -> Any:
    xs = _sample(ctx, arr)
    if type(xs) is ExcelError:
        return xs
    args = _zargs(x, sigma)
    if type(args) is ExcelError:
        return args
    mu, sd = args
    n = len(xs)  # type: ignore[arg-type]
    if n == 0:
        return NA
    m = math.fsum(xs) / n  # type: ignore[arg-type]
    if sd is None:
        if n < 2:
            return DIV0
        sd = math.sqrt(_mean_var(xs)[1])  # type: ignore[arg-type]
    if sd == 0:
        return DIV0
    return 1.0 - _norm_cdf((m - mu) / (sd / math.sqrt(n)))


def _zargs(x: Any, sigma: Any) -> Any:
    mu = to_number(x)
    if type(mu) is ExcelError:
        return mu
    if sigma is None:
        return mu, None
    sd = to_number(sigma)
    if type(sd) is ExcelError:
        return sd
    return mu, sd


@register("CHISQ.TEST", 2, 2, "RR", ctx=True)
@register("CHITEST", 2, 2, "RR", ctx=True)
def fn_chisq_test(ctx: Context, actual: Any, expected: Any) -> Any:
    ga, ge = grid_of(ctx, actual), grid_of(ctx, expected)
    rows, cols = len(ga), len(ga[0]) if ga else 0
    if rows != len(ge) or any(len(r) != cols for r in ge) or rows * cols < 2:
        return NA
    stat = 0.0
    for ra, re_ in zip(ga, ge, strict=True):
        for a, e in zip(ra, re_, strict=True):
            if type(a) is float and type(e) is float:
                if e == 0:
                    return DIV0
                if e < 0:
                    return NUM
                stat += (a - e) ** 2 / e
    df = (rows - 1) * (cols - 1) if rows > 1 and cols > 1 else rows * cols - 1
    return _gamma_q(df / 2.0, stat / 2.0)


@register("F.TEST", 2, 2, "RR", ctx=True)
@register("FTEST", 2, 2, "RR", ctx=True)
def fn_f_test(ctx: Context, a1: Any, a2: Any) -> Any:
    x, y = _sample(ctx, a1), _sample(ctx, a2)
    if type(x) is ExcelError:
        return x
    if type(y) is ExcelError:
        return y
    if len(x) < 2 or len(y) < 2:  # type: ignore[arg-type]
        return DIV0
    v1, v2 = _mean_var(x)[1], _mean_var(y)[1]  # type: ignore[arg-type]
    if v1 == 0 or v2 == 0:
        return DIV0
    d1, d2 = len(x) - 1.0, len(y) - 1.0  # type: ignore[arg-type]
    f = v1 / v2
    p = _f_sf(f, d1, d2)
    return 2.0 * min(p, 1.0 - p)
