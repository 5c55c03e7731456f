"""Per-phase timing of ``xlbridge.recompute`` against a bare zip/lxml round trip.

    python benchmarks/recompute_scaling.py [ROWS ...]

For each row count the appraisal template of ``recompute_bench.py`` (PERF_SCORE/PERF_GRADE,
ROUND, nested IF, RANK, COUNTIFS by 片区, VLOOKUP into 参数, a 汇总 sheet) is generated as
openpyxl writes it and with its formula columns as Excel's shared formulas, then timed:

* ``bare``: unzip every member, lxml-parse + serialize the sheet XML, re-zip everything;
* ``recompute``: :func:`xlbridge.recompute.recalc_workbook` with the PERF_* functions, end to
  end (read, compile, evaluate, write the file), best of 3 on a fresh copy each time, with
  the time of each phase.

Peak memory (VmHWM of a fresh process running the CLI's per-file path) is reported for the
largest size. The side-by-side comparison with LibreOffice, pycel and formulas, the CLI and
the 1,000-workbook run are in ``recompute_bench.py``, which holds the generator and the round
trip used here.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recompute_bench import bare_roundtrip, make_template, worker


def time_recompute(src: Path, work: Path, repeat: int = 3) -> tuple[float, dict[str, float]]:
    from xlbridge.batch import perf_functions
    from xlbridge.recompute import recalc_workbook

    best = float("inf")
    timings: dict[str, float] = {}
    for k in range(repeat):
        f = work / f"run{k}.xlsx"
        shutil.copy(src, f)
        t0 = time.perf_counter()
        rep = recalc_workbook(f, functions=perf_functions())
        dt = time.perf_counter() - t0
        if rep.unsupported or rep.circular or rep.function_errors:
            raise SystemExit(f"unexpected issues: {rep.summary()}")
        if dt < best:
            best, timings = dt, dict(rep.timings)
    return best, timings


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if a.isdigit()] or [500, 2000, 8000, 50000]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for rows in sizes:
            for shared in (False, True):
                src = work / f"t{rows}{'s' if shared else ''}.xlsx"
                make_template(src, rows, shared=shared)
                bare = min(bare_roundtrip(src, work / "bare.xlsx") for _ in range(3))
                rec, timings = time_recompute(src, work)
                row = {"rows": rows, "shared": shared, "bare_s": round(bare, 4),
                       "recompute_s": round(rec, 4), "ratio": round(rec / bare, 2),
                       "phases": {k: round(v, 4) for k, v in timings.items()}}
                if rows == max(sizes) and not shared:
                    shutil.copy(src, work / "peak.xlsx")
                    peak = worker("peak", str(work / "peak.xlsx"))
                    row["peak_rss_mb"] = round(peak["peak_mb"], 1) if peak else None
                print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
