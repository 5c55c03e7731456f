"""The indexed fast paths (COUNTIFS/SUMIFS groups, conditional SUMPRODUCT, exact VLOOKUP,
RANK) must give exactly what the general element-by-element evaluation gives."""

from __future__ import annotations

import math
import random

import pytest

from xlbridge.recompute import compiler as compiler_mod
from xlbridge.recompute.functions import criteria as criteria_mod
from xlbridge.recompute.functions import lookup as lookup_mod
from xlbridge.recompute.functions import mathtrig as mathtrig_mod
from xlbridge.recompute.functions import statistical as statistical_mod
from xlbridge.recompute.memory import compute
from xlbridge.xlvalues import ExcelError

DEPTS = ["办公室", "财务科", "人事科", "OFFICE", "office", "", "0"]


def _random_sheet(rng: random.Random, n: int) -> dict[str, object]:
    cells: dict[str, object] = {}
    for r in range(1, n + 1):
        d = rng.random()
        if d < 0.08:
            dept: object = None
        elif d < 0.12:
            dept = 0.0
        elif d < 0.14:
            dept = True
        else:
            dept = rng.choice(DEPTS)
        if dept is not None:
            cells[f"A{r}"] = dept
        s = rng.random()
        if s < 0.07:
            score: object = None
        elif s < 0.10:
            score = "缺考"
        elif s < 0.12:
            score = False
        else:
            score = rng.choice([round(rng.uniform(-5, 100), rng.choice([0, 1, 2])), 89.95, 0.0,
                                90.0, 0.1 + 0.2, 0.3])
        if score is not None:
            cells[f"B{r}"] = score
        cells[f"C{r}"] = round(rng.uniform(0, 1000), 2)
    return cells


def _formulas(n: int, rng: random.Random) -> list[str]:
    a, b, c = f"$A$1:$A${n}", f"$B$1:$B${n}", f"$C$1:$C${n}"
    out = []
    for r in rng.sample(range(1, n + 1), 25):
        out += [
            f"SUMPRODUCT(({a}=A{r})*({b}>B{r}))",
            f"SUMPRODUCT(({a}=A{r})*({b}>=B{r}))",
            f"SUMPRODUCT(({b}<B{r})*1)",
            f"SUMPRODUCT(({b}<=B{r})*({a}=A{r}))",
            f"SUMPRODUCT(--({a}=A{r}),--({b}>50))",
            f"SUMPRODUCT(({a}=A{r})*{c})",
            f"SUMPRODUCT(--({a}=A{r}),{c})",
            f'SUMPRODUCT(({a}="")*1)',
            f"SUMPRODUCT(({a}=0)*1)",
            f"SUMPRODUCT(({a}=Z1)*1)",            # Z1 is blank
            f"SUMPRODUCT((B{r}<{b})*({a}=A{r}))",  # range on the right
            f'COUNTIFS({a},A{r},{b},">"&B{r})',
            f'COUNTIFS({a},A{r})',
            f'COUNTIFS({b},">="&B{r})',
            f'COUNTIFS({a},A{r},{b},"<"&B{r},{c},">100")',
            f'SUMIFS({c},{a},A{r})',
            f'SUMIFS({c},{a},A{r},{b},">"&B{r})',
            f'AVERAGEIFS({c},{a},A{r})',
            f'COUNTIF({a},A{r})',
            f'SUMIF({a},A{r},{c})',
            f"IFERROR(VLOOKUP(A{r},{a.replace('$A$1', '$A$1').replace(':$A', ':$C')},3,FALSE),-1)",
            f"IFERROR(RANK(B{r},{b}),-1)",
            f"IFERROR(MATCH(B{r},{b},0),-1)",
        ]
    return out


def _same(x: object, y: object) -> bool:
    if isinstance(x, ExcelError) or isinstance(y, ExcelError):
        return isinstance(x, ExcelError) and isinstance(y, ExcelError) and x.code == y.code
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9)
    return type(x) is type(y) and x == y


@pytest.mark.parametrize("seed", range(6))
def test_indexed_paths_match_general_evaluation(seed: int, monkeypatch) -> None:
    rng = random.Random(seed)
    n = 120
    sheet = _random_sheet(rng, n)
    formulas = _formulas(n, rng)
    cells = dict(sheet)
    for i, f in enumerate(formulas):
        cells[f"E{i + 1}"] = "=" + f
    fast = compute(cells)
    # the same with every index disabled
    monkeypatch.setattr(compiler_mod.Compiler, "_sumproduct_fast", lambda self, args: None)
    # the indexes live in functions.criteria; the category modules import them by name
    for mod in (criteria_mod, mathtrig_mod, statistical_mod, lookup_mod):
        for name, stub in (("_ifs_fast", lambda ctx, pairs: None),
                           ("_group_index", lambda ctx, a, b: None),
                           ("_eq_index", _no_eq_index)):
            if hasattr(mod, name):
                monkeypatch.setattr(mod, name, stub)
    monkeypatch.setattr(criteria_mod.Context, "aux", lambda self, key, build: build())
    slow = compute(cells)
    bad = [f"{formulas[int(k[1:]) - 1]}: fast {fast[k]!r}, general {slow[k]!r}"
           for k in fast if not _same(fast[k], slow[k])]
    assert not bad, "\n".join(bad[:20])


def _no_eq_index(ctx, ref):
    out: dict = {}
    for i, v in enumerate(ctx.flat(ref)):
        k = criteria_mod._norm(v)
        if k is not None:
            out.setdefault(k, []).append(i)
        if type(v) is str:
            y = criteria_mod.parse_number(v)
            if y is not None:
                out.setdefault(criteria_mod._norm(y), []).append(i)
    return out


def test_sumproduct_ranking_is_fast_enough() -> None:
    """2,000 rows of SUMPRODUCT ranking must not be quadratic (was 35 s)."""
    import time

    n = 2000
    cells: dict[str, object] = {}
    for r in range(1, n + 1):
        cells[f"A{r}"] = DEPTS[r % 3]
        cells[f"B{r}"] = float((r * 37) % 1000) / 10
        cells[f"C{r}"] = f"=SUMPRODUCT(($A$1:$A${n}=A{r})*($B$1:$B${n}>B{r}))+1"
    t = time.process_time()
    out = compute(cells)
    assert time.process_time() - t < 10  # generous: quadratic would take minutes
    assert sorted(out.values())[0] == 1.0
