"""Statistical distributions (xlbridge/recompute/functions/distributions.py) against Excel.

Excel's function reference gives its examples to a few digits (``REFERENCE``: the result
rounded as the page shows it); the cells of the workbooks Excel saved in IronCalc's calc tests
(``xlsx/tests/calc_tests/STATISTICAL/*.xlsx``, MIT/Apache-2.0) give Excel's doubles
(``SAVED``: equal to 1e-12 relative, as the corpus compares).
"""

from __future__ import annotations

import math

import pytest
from recompute_helpers import compute_formulas as _run

from xlbridge.xlvalues import ExcelError

E = ExcelError

# (formula, the result as Excel's reference page prints it)
REFERENCE: list[tuple[str, object]] = [
    ("=NORM.DIST(42,40,1.5,TRUE)", "0.9087888"), ("=NORM.DIST(42,40,1.5,FALSE)", "0.10934005"),
    ("=NORM.INV(0.908789,40,1.5)", "42.000002"), ("=NORM.S.DIST(1.333333,TRUE)", "0.908788726"),
    ("=NORM.S.DIST(1.333333,FALSE)", "0.164010148"), ("=NORM.S.INV(0.908789)", "1.3333347"),
    ("=LOGNORM.DIST(4,3.5,1.2,TRUE)", "0.0390836"), ("=LOGNORM.DIST(4,3.5,1.2,FALSE)", "0.0176176"),
    ("=LOGNORM.INV(0.039084,3.5,1.2)", "4.0000252"),
    ("=BINOM.DIST(6,10,0.5,FALSE)", "0.2050781"), ("=BINOM.INV(6,0.5,0.75)", "4"),
    ("=BINOM.DIST.RANGE(60,0.75,48)", "0.084"), ("=BINOM.DIST.RANGE(60,0.75,45,50)", "0.524"),
    ("=NEGBINOM.DIST(10,5,0.25,TRUE)", "0.3135141"),
    ("=NEGBINOM.DIST(10,5,0.25,FALSE)", "0.0550487"),
    ("=POISSON.DIST(2,5,TRUE)", "0.124652"), ("=POISSON.DIST(2,5,FALSE)", "0.084224"),
    ("=EXPON.DIST(0.2,10,TRUE)", "0.86466472"), ("=EXPON.DIST(0.2,10,FALSE)", "1.35335283"),
    ("=GAMMA(2.5)", "1.329"), ("=GAMMA(-3.75)", "0.268"),
    ("=GAMMA.DIST(10.00001131,9,2,FALSE)", "0.032639"),
    ("=GAMMA.DIST(10.00001131,9,2,TRUE)", "0.068094"), ("=GAMMA.INV(0.068094,9,2)", "10.0000112"),
    ("=GAMMALN(4)", "1.7917595"), ("=GAMMALN.PRECISE(4)", "1.7917595"),
    ("=BETA.DIST(2,8,10,TRUE,1,3)", "0.6854706"), ("=BETA.DIST(2,8,10,FALSE,1,3)", "1.4837646"),
    ("=BETA.INV(0.685470581,8,10,1,3)", "2"),
    ("=T.DIST(60,1,TRUE)", "0.99469533"), ("=T.DIST(8,3,FALSE)", "0.00073691"),
    ("=T.DIST.2T(1.959999998,60)", "0.054644930"), ("=T.DIST.RT(1.959999998,60)", "0.027322465"),
    ("=T.INV(0.75,2)", "0.8164966"), ("=T.INV.2T(0.546449,60)", "0.606533"),
    ("=CHISQ.DIST(0.5,1,TRUE)", "0.52049988"), ("=CHISQ.DIST(2,3,FALSE)", "0.20755375"),
    ("=CHISQ.DIST.RT(18.307,10)", "0.0500006"), ("=CHISQ.INV(0.93,1)", "3.283020287"),
    ("=CHISQ.INV(0.6,2)", "1.832581464"), ("=CHISQ.INV.RT(0.050001,10)", "18.306973"),
    ("=F.DIST(15.2069,6,4,TRUE)", "0.99"), ("=F.DIST(15.2069,6,4,FALSE)", "0.0012238"),
    ("=F.DIST.RT(15.2069,6,4)", "0.01"), ("=F.INV(0.01,6,4)", "0.10930991"),
    ("=F.INV.RT(0.01,6,4)", "15.20686"),
    ("=WEIBULL.DIST(105,20,100,TRUE)", "0.929581"), ("=WEIBULL.DIST(105,20,100,FALSE)", "0.035589"),
    ("=HYPGEOM.DIST(1,4,8,20,TRUE)", "0.4654"), ("=HYPGEOM.DIST(1,4,8,20,FALSE)", "0.3633"),
    ("=CONFIDENCE.NORM(0.05,2.5,50)", "0.692952"), ("=CONFIDENCE.T(0.05,1,50)", "0.284196855"),
    ("=FISHER(0.75)", "0.9729551"), ("=FISHERINV(0.972955)", "0.75"), ("=PHI(0.75)", "0.301137432"),
    ("=GAUSS(2)", "0.47724987"),
    ("=T.TEST({3,4,5,8,9,1,2,4,5},{6,19,3,2,14,4,5,17,1},2,1)", "0.196016"),
    ("=Z.TEST({3,6,7,8,6,5,4,2,1,9},4)", "0.090574"),
    ("=2*MIN(Z.TEST({3,6,7,8,6,5,4,2,1,9},4),1-Z.TEST({3,6,7,8,6,5,4,2,1,9},4))", "0.181148"),
    ("=Z.TEST({3,6,7,8,6,5,4,2,1,9},6)", "0.863043"),
    ("=F.TEST({6,7,9,15,21},{20,28,31,38,40})", "0.64831785"),
    ("=CHISQ.TEST({58,11,10;35,25,23},{45.35,17.56,16.09;47.65,18.44,16.91})", "0.0003082"),
    # the pre-2010 names, same pages' examples
    ("=NORMDIST(42,40,1.5,TRUE)", "0.9087888"), ("=NORMINV(0.908789,40,1.5)", "42.000002"),
    ("=NORMSDIST(1.333333)", "0.908788726"), ("=NORMSINV(0.908789)", "1.3333347"),
    ("=TDIST(1.959999998,60,2)", "0.054644930"), ("=TDIST(1.959999998,60,1)", "0.027322465"),
    ("=TINV(0.054644930,60)", "1.96"), ("=CHIDIST(18.307,10)", "0.050000589"),
    ("=CHIINV(0.050001,10)", "18.306973"), ("=FDIST(15.2069,6,4)", "0.01"),
    ("=FINV(0.01,6,4)", "15.20686"), ("=BINOMDIST(6,10,0.5,FALSE)", "0.2050781"),
    ("=CRITBINOM(6,0.5,0.75)", "4"), ("=POISSON(2,5,TRUE)", "0.124652"),
    ("=EXPONDIST(0.2,10,TRUE)", "0.86466472"), ("=GAMMADIST(10.00001131,9,2,FALSE)", "0.032639"),
    ("=GAMMAINV(0.068094,9,2)", "10.0000112"), ("=BETADIST(2,8,10,1,3)", "0.6854706"),
    ("=BETAINV(0.685470581,8,10,1,3)", "2"), ("=LOGNORMDIST(4,3.5,1.2)", "0.0390836"),
    ("=LOGINV(0.039084,3.5,1.2)", "4.0000252"), ("=NEGBINOMDIST(10,5,0.25)", "0.0550487"),
    ("=WEIBULL(105,20,100,TRUE)", "0.929581"), ("=HYPGEOMDIST(1,4,8,20)", "0.3633"),
    ("=CONFIDENCE(0.05,2.5,50)", "0.692952"),
    ("=TTEST({3,4,5,8,9,1,2,4,5},{6,19,3,2,14,4,5,17,1},2,1)", "0.196016"),
    ("=ZTEST({3,6,7,8,6,5,4,2,1,9},4)", "0.090574"),
    ("=FTEST({6,7,9,15,21},{20,28,31,38,40})", "0.64831785"),
    ("=CHITEST({58,11,10;35,25,23},{45.35,17.56,16.09;47.65,18.44,16.91})", "0.0003082"),
]

# cells of IronCalc's Excel-saved files: (file and cell, the formula with its inputs, Excel's value)
SAVED: list[tuple[str, str, object]] = [
    ("BINOM.xlsx BINOM.DIST!E3", "=BINOM.DIST(3,17,0.2,FALSE)", 0.23925373020405763),
    ("BINOM.xlsx BINOM.DIST!E18", "=BINOM.DIST(0,10,0.3,TRUE)", 0.028247524899999994),
    ("BINOM.xlsx BINOM.DIST!E57", "=BINOM.DIST(7,8,0.7,\"TRUE\")", 0.94235199),
    ("BINOM.xlsx BINOM.DIST.RANGE!E3", "=BINOM.DIST.RANGE(17,0.2,3,10)", 0.6903019185006181),
    ("BINOM.xlsx BINOM.DIST.RANGE!E12", "=BINOM.DIST.RANGE(2,0.1,2,Y1)", E("#NUM!")),
    ("BINOM.xlsx BINOM.INV!D2", "=BINOM.INV(10,0.7,0.8)", 8.0),
    ("BINOM.xlsx BINOM.INV!D13", "=BINOM.INV(100000,0.7,0.8)", 70122.0),
    ("BINOM.xlsx BINOM.INV!D25", "=BINOM.INV(10,1,0.8)", E("#NUM!")),
    ("BINOM.xlsx NEGBINOM.DIST!E3", "=NEGBINOM.DIST(3,17,0.2,FALSE)", 6.50284892159999e-10),
    ("BINOM.xlsx NEGBINOM.DIST!E32", "=NEGBINOM.DIST(2,10,0,TRUE)", E("#NUM!")),
    ("BINOM.xlsx NEGBINOM.DIST!E61", "=NEGBINOM.DIST(7,8,0.7,\"TRUE\")", 0.949987459946224),
    ("POISSON.xlsx POISSON.DIST!D26", "=POISSON.DIST(-1E-6,5,TRUE)", E("#NUM!")),
    ("POISSON.xlsx POISSON.DIST!D47", "=POISSON.DIST(2,5,\"TRUE\")", 0.12465201948308113),
    ("T_DIST.xlsx Sheet1!F2", "=T.DIST(3,5.2,TRUE)", 0.9849503760512687),   # df truncated
    ("T_DIST.xlsx Sheet1!G2", "=T.DIST.2T(3,5.2)", 0.030099247897462586),
    ("T_DIST.xlsx Sheet1!H2", "=T.DIST.RT(3,5.2)", 0.015049623948731293),
    ("T_DIST.xlsx Sheet1!I2", "=T.INV(0.9849503760512687,5.2)", 2.9999999999999973),
    ("T_DIST.xlsx Sheet1!G3", "=T.DIST.2T(-2,5.2)", E("#NUM!")),
    ("T_DIST.xlsx Sheet1!F3", "=T.DIST(-2,5.2,FALSE)", 0.0650903103262165),
    ("CHISQ.xlsx Sheet1!E2", "=CHISQ.DIST(12.3,4,TRUE)", 0.9847456053442304),
    ("CHISQ.xlsx Sheet1!G2", "=CHISQ.DIST.RT(12.3,4)", 0.015254394655769613),
    ("CHISQ.xlsx Sheet1!J2", "=CHISQ.INV.RT(0.015254394655769613,4)", 12.3),
    ("F_DIST.xlsx Sheet1!F2", "=F.DIST(0.8,2.4,3,TRUE)", 0.4733220523344033),
    ("F_DIST.xlsx Sheet1!H2", "=F.DIST.RT(0.8,2.4,3)", 0.5266779476655967),
    ("F_DIST.xlsx Sheet1!J2", "=F.INV(0.4733220523344033,2.4,3)", 0.8000000000000002),
    ("HYPERGEOM_DIST.xlsx Sheet1!F2", "=HYPGEOM.DIST(1.8,4.2,8.2,22,TRUE)", 0.5349282296650714),
    ("WEIBULL_DIST.xlsx Sheet1!E2", "=WEIBULL.DIST(0.8,1,9,TRUE)", 0.08505277126996899),
    ("BETADIST_BETAINV.xlsx Sheet1!G48", "=BETA.DIST(0.234,2,2.5,\"TRUE\",0.15,1.2)",
     0.02579396768034742),
    ("BETADIST_BETAINV.xlsx Sheet1!H7", "=BETA.INV(0,2,2.5,0.234,1.2)", E("#NUM!")),
    ("BETADIST_BETAINV.xlsx Sheet1!H24", "=BETA.INV(0.9998394357956406,0.0001,2,0.15,1.2)",
     0.23400000000003063),
    ("CONFIDENCE.xlsx CONFIDENCE.NORM CONFIDENCE.T!D5", "=CONFIDENCE.NORM(1E-6,1,50)",
     0.6917821474581894),
    ("CONFIDENCE.xlsx CONFIDENCE.NORM CONFIDENCE.T!D8", "=CONFIDENCE.NORM(0.999999,1,50)",
     1.7724538511537302e-07),
    ("CONFIDENCE.xlsx CONFIDENCE.NORM CONFIDENCE.T!E5", "=CONFIDENCE.T(1E-6,1,50)",
     0.7903688771303455),
    ("CONFIDENCE.xlsx CONFIDENCE.NORM CONFIDENCE.T!E49", "=CONFIDENCE.T(0.05,1,46023)",
     0.00913633574213239),
    ("FISHER_FISHERINV.xlsx FISHER FISHERINV!C40", "=FISHERINV(1E-7)", 1.0000000005039292e-07),
    ("NORM_DIST.xlsx NORM.DIST NORM.INV!E20", "=NORM.DIST(1E-6,0,1,TRUE)", 0.5000003989422803),
    ("GAMMA.xlsx GAMMA!B3", "=GAMMA(-3.75)", 0.26786612886141664),
    # GAMMALN where it crosses 0: C's lgamma is 1E-16 off absolutely there (7E-9 relatively)
    ("GAMMALN_GAMMALNPRECISE.xlsx GAMMALN GAMMALN.PRECISE!B23", "=GAMMALN(1.0000001)",
     -5.772155829918508e-08),
    ("GAMMALN_GAMMALNPRECISE.xlsx GAMMALN GAMMALN.PRECISE!C24", "=GAMMALN.PRECISE(0.9999999)",
     5.7721574684441944e-08),
    ("GAMMALN_GAMMALNPRECISE.xlsx GAMMALN GAMMALN.PRECISE!B9", "=GAMMALN(1.5)",
     -0.12078223763524523),
    ("GAMMALN_GAMMALNPRECISE.xlsx GAMMALN GAMMALN.PRECISE!B10", "=GAMMALN(2.5)",
     0.2846828704729192),
    ("GAMMALN_GAMMALNPRECISE.xlsx GAMMALN GAMMALN.PRECISE!B21", "=GAMMALN(4.0000001)",
     1.7917595948398235),
    ("GAMMALN_GAMMALNPRECISE.xlsx GAMMALN GAMMALN.PRECISE!B13", "=GAMMALN(1E-7)",
     16.118095593236763),
    # quantiles near p = 1, solved against the other tail (1 − p is exact)
    ("CONFIDENCE.xlsx CONFIDENCE.NORM CONFIDENCE.T!E8", "=CONFIDENCE.T(0.999999,1,50)",
     1.781519460717496e-07),
    ("GAMMA.xlsx GAMMA.DIST GAMMA.INV!F74", "=GAMMA.INV(0.999999,9,2)", 61.91422671617931),
    ("GAMMA.xlsx GAMMA.DIST GAMMA.INV!F75", "=GAMMA.INV(0.5,1,1)", 0.6931471805599453),
    ("BETADIST_BETAINV.xlsx Sheet1!H10", "=BETA.INV(0.9999999999999962,2,2.5,0.234,1.2)",
     1.199999004352299),
    # BINOM.DIST refuses what Excel refuses: 1E30 trials (1E6 it computes)
    ("BINOM.xlsx BINOM.DIST!E37", "=BINOM.DIST(1E10,1E30,0.3,TRUE)", E("#NUM!")),
    ("BINOM.xlsx BINOM.DIST!E15", "=BINOM.DIST(1,1E6,1E-5,TRUE)", 0.0004993787976951216),
]


def _as_printed(got: object, printed: str) -> bool:
    """``got`` shown with as many decimals as Excel's page prints is what it prints."""
    if not isinstance(got, float):
        return False
    decimals = len(printed.partition(".")[2])
    return math.isclose(round(got, decimals), float(printed), rel_tol=0, abs_tol=1e-12)


def test_excel_reference_examples() -> None:
    got = _run([f for f, _ in REFERENCE])
    bad = [f"{f}: got {g!r}, Excel prints {w}" for (f, w), g in zip(REFERENCE, got, strict=True)
           if not _as_printed(g, w)]  # type: ignore[arg-type]
    assert not bad, "\n".join(bad)


def test_cells_excel_saved() -> None:
    got = _run([f for _, f, _ in SAVED])
    bad = []
    for (where, f, w), g in zip(SAVED, got, strict=True):
        if isinstance(w, ExcelError):
            ok = isinstance(g, ExcelError) and g.code == w.code
        else:
            ok = isinstance(g, float) and math.isclose(g, w, rel_tol=1e-12)  # type: ignore[arg-type]
        if not ok:
            bad.append(f"{where} {f}: got {g!r}, Excel {w!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(("formula", "code"), [
    ("=NORM.DIST(1,0,0,TRUE)", "#NUM!"), ("=NORM.INV(0,0,1)", "#NUM!"),
    ("=NORM.INV(1,0,1)", "#NUM!"),
    ("=NORM.S.INV(1.5)", "#NUM!"), ("=LOGNORM.DIST(0,0,1,TRUE)", "#NUM!"),
    ("=BINOM.DIST(11,10,0.5,TRUE)", "#NUM!"), ("=BINOM.DIST(1,10,1.5,TRUE)", "#NUM!"),
    ("=BINOM.INV(10,0.5,0)", "#NUM!"), ("=BINOM.DIST.RANGE(10,0.5,6,5)", "#NUM!"),
    ("=POISSON.DIST(1,-1,TRUE)", "#NUM!"), ("=EXPON.DIST(1,0,TRUE)", "#NUM!"),
    ("=GAMMA(0)", "#NUM!"), ("=GAMMA(-2)", "#NUM!"), ("=GAMMALN(0)", "#NUM!"),
    ("=GAMMA.DIST(-1,2,2,TRUE)", "#NUM!"), ("=GAMMA.INV(1,2,2)", "#NUM!"),
    ("=BETA.DIST(4,8,10,TRUE,1,3)", "#NUM!"), ("=BETA.INV(0.5,8,10,3,1)", "#NUM!"),
    ("=T.DIST(1,0,TRUE)", "#NUM!"), ("=T.INV(0,10)", "#NUM!"), ("=TDIST(1,10,3)", "#NUM!"),
    ("=CHISQ.DIST(-1,2,TRUE)", "#NUM!"), ("=CHISQ.INV(1,2)", "#NUM!"),
    ("=F.DIST(1,0,4,TRUE)", "#NUM!"), ("=F.INV(1.5,6,4)", "#NUM!"),
    ("=WEIBULL.DIST(-1,1,1,TRUE)", "#NUM!"), ("=HYPGEOM.DIST(5,4,8,20,TRUE)", "#NUM!"),
    ("=CONFIDENCE.NORM(1,1,10)", "#NUM!"), ("=CONFIDENCE.T(0.05,1,1)", "#DIV/0!"),
    ("=FISHER(1)", "#NUM!"), ("=NORM.DIST(\"a\",0,1,TRUE)", "#VALUE!"),
    ("=NORM.DIST(1,0,1,\"yes\")", "#VALUE!"), ("=T.TEST({1,2},{1,2,3},2,1)", "#N/A"),
    ("=T.TEST({1,2,3},{4,5,6},3,2)", "#NUM!"), ("=CHISQ.TEST({1,2},{1,2,3})", "#N/A"),
    ("=F.TEST({1},{1,2})", "#DIV/0!"),
])
def test_errors_as_excel(formula: str, code: str) -> None:
    (got,) = _run([formula])
    assert isinstance(got, ExcelError) and got.code == code, (formula, got)


@pytest.mark.parametrize(("p", "df"), [(0.001, 1), (0.05, 3), (0.5, 10), (0.975, 30),
                                       (1e-10, 5), (0.999999, 200)])
def test_quantiles_invert_their_distribution(p: float, df: int) -> None:
    """Each INV is the root of its DIST to the last digits (CHISQ, T, F, GAMMA, BETA)."""
    fs = [f"=CHISQ.DIST(CHISQ.INV({p},{df}),{df},TRUE)", f"=T.DIST(T.INV({p},{df}),{df},TRUE)",
          f"=F.DIST(F.INV({p},{df},7),{df},7,TRUE)",
          f"=GAMMA.DIST(GAMMA.INV({p},{df},2),{df},2,TRUE)",
          f"=BETA.DIST(BETA.INV({p},{df},3),{df},3,TRUE)", f"=NORM.S.DIST(NORM.S.INV({p}),TRUE)"]
    for f, g in zip(fs, _run(fs), strict=True):
        assert isinstance(g, float) and math.isclose(g, p, rel_tol=1e-11), (f, g)


@pytest.mark.parametrize(("p", "df", "t"), [
    # T.INV.2T against t's value to double precision (mpmath, 150 bits): near p = 1 the
    # variable df/(df+t²) is 1 − t²/df, which a double cannot hold to t's digits
    (0.999999, 49, 1.2597244914891425e-06), (0.999999999999, 5, 1.3171236243853763e-12),
    (0.5, 10, 0.6998120613124317), (0.05, 60, 2.0002978220142604), (1e-6, 49, 5.588751926576646),
])
def test_t_inv_2t_to_the_last_digits(p: float, df: int, t: float) -> None:
    (got,) = _run([f"=T.INV.2T({p},{df})"])
    assert isinstance(got, float) and math.isclose(got, t, rel_tol=1e-13), got


def test_long_sums_answer_at_once() -> None:
    import time

    t0 = time.perf_counter()
    got = _run(["=BINOM.DIST.RANGE(1E8,0.5,0,1E8)", "=HYPGEOM.DIST(1,10,5000,100000,FALSE)",
                "=HYPGEOM.DIST(1E7,1E9,1E9,1E12,TRUE)", "=BINOM.INV(1E9,0.3,0.5)"])
    assert time.perf_counter() - t0 < 5
    assert got[0] == 1.0
    assert math.isclose(got[1], 0.3151470969450, rel_tol=1e-9)  # type: ignore[arg-type]
    assert isinstance(got[2], ExcelError) and got[2].code == "#NUM!"
    assert got[3] == 300000000.0
