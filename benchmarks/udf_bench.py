"""Python-side cost of the worksheet functions, against nested IF formulas in LibreOffice.

    python benchmarks/udf_bench.py [--skip-libreoffice]   # a Markdown table for docs/benchmarks.md

* ``PERF_GRADE`` — one call with a cached scheme, no population (grade by score);
* ``PERF_GRADES`` — one call over 10,000 rows (quota-aware grades);
* the same tiers as nested IF formulas (``=IF(A2>=90,"优秀",IF(A2>=75,…))``) evaluated by
  LibreOffice headless on a 10,000-row sheet: ``calculateAll()`` timed inside soffice
  (``lo_calc.py``, run by the system Python with Debian's python3-uno), best of 7 — the
  calculation alone, without LibreOffice's start-up or file conversion.

Nested IFs compute tiers only; quotas, ties and conditions (what PERF_GRADES adds) cannot be
written as a fill-down formula, so the ratio flatters the formulas.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xlbridge import __version__
from xlbridge.udfs import PERF_GRADE, PERF_GRADES

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"    # Debian's, where python3-uno lives
SCHEME = "meiling-street-quarterly"
ROWS = 10_000


def scores(n: int = ROWS, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(50, 100), 1) for _ in range(n)]   # one decimal: ties happen


def bench_grade(calls: int = 50_000) -> float:
    """µs per PERF_GRADE call (scheme cached, grade by score)."""
    values = scores(1000)
    PERF_GRADE(values[0], SCHEME)  # compile the scheme once
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for i in range(calls):
            PERF_GRADE(values[i % 1000], SCHEME)
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


def bench_grades(n: int = ROWS, distinct: bool = False) -> float:
    """ms for one PERF_GRADES call over n rows (median of 5)."""
    if distinct:  # no two totals equal: no tie at a quota line
        values = [50 + i * 50 / n for i in range(n)]
        random.Random(3).shuffle(values)
    else:
        values = scores(n)
    column = [[v] for v in values]
    PERF_GRADES(SCHEME, column[:10])
    times = []
    for _ in range(5):
        start = time.perf_counter()
        out = PERF_GRADES(SCHEME, column)
        times.append((time.perf_counter() - start) * 1e3)
    assert len(out) == n
    return statistics.median(times)


def _sheet(path: Path, values: list[float], formulas: bool) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["总分", "等次"])
    for r, v in enumerate(values, start=2):
        grade = (f'=IF(A{r}>=90,"优秀",IF(A{r}>=75,"良好",IF(A{r}>=60,"称职","不称职")))'
                 if formulas else ("优秀" if v >= 90 else "良好" if v >= 75 else
                                   "称职" if v >= 60 else "不称职"))
        ws.append([v, grade])
    wb.save(path)


def bench_libreoffice(repeat: int = 7) -> tuple[float, str] | None:
    """ms LibreOffice's calculation engine takes for the 10,000 nested-IF formulas
    (``calculateAll()`` inside soffice, best of ``repeat``; see lo_calc.py), and its version."""
    if shutil.which("soffice") is None or subprocess.run(
            [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode != 0:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "formulas.xlsx"
        _sheet(path, scores(), True)
        done = subprocess.run([SYSTEM_PYTHON, str(HERE / "lo_calc.py"), str(path),
                               "--repeat", str(repeat)],
                              capture_output=True, text=True, timeout=600, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["formulas"] == ROWS, result
    return min(result["seconds"]) * 1e3, result["version"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-libreoffice", action="store_true",
                        help="leave out the nested-IF comparison (needs soffice and the "
                             "system Python's python3-uno)")
    args = parser.parse_args()
    grade_us = bench_grade()
    grades_ms = bench_grades()
    grades_distinct_ms = bench_grades(distinct=True)
    lo = None if args.skip_libreoffice else bench_libreoffice()
    print("# Worksheet functions: Python-side cost\n")
    print(f"xlbridge {__version__}, Python {sys.version.split()[0]}, {platform.machine()}, "
          f"`python benchmarks/udf_bench.py`.\n")
    print("| what | time | target |\n| --- | --- | --- |")
    print(f"| one `PERF_GRADE` call, cached scheme | {grade_us:.1f} µs | < 20 µs |")
    print(f"| `PERF_GRADES` over {ROWS:,} rows (one-decimal scores, ties at quota lines) | "
          f"{grades_ms:.0f} ms | < 50 ms |")
    print(f"| `PERF_GRADES` over {ROWS:,} rows (all totals distinct) | "
          f"{grades_distinct_ms:.0f} ms | < 50 ms |")
    if lo is not None:
        lo_ms, version = lo
        print(f"| {ROWS:,} nested-IF formulas, LibreOffice headless ({version}) | "
              f"{lo_ms:.0f} ms | — |")
        if lo_ms > 0:
            print(f"\nRatio PERF_GRADES / nested IFs: {grades_ms / lo_ms:.1f}× "
                  f"({grades_distinct_ms / lo_ms:.1f}× without ties). ")
    elif not args.skip_libreoffice:
        print("\nLibreOffice (soffice) or python3-uno is not installed: no comparison.")


if __name__ == "__main__":
    main()
