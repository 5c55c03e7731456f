"""Fidelity against Excel: xlbridge and its peers on the same files Excel saved, same rules.

    python benchmarks/fidelity_bench.py                      # the corpus in tests/corpus/excel
    python benchmarks/fidelity_bench.py --all DIR            # every Excel-saved .xlsx under DIR
    python benchmarks/fidelity_bench.py --json out.json      # also every figure as JSON
    python benchmarks/fidelity_bench.py --only xlbridge,ironcalc

Every tool gets the same *blank copy* of each file (``tests/corpus/oracle.py``: the cached
value of every formula cell and of every array/spill range removed), recalculates it and
writes an .xlsx, which the oracle's own lxml reader reads back; each formula cell is then
compared with the value Excel had stored (numbers to 1e-12 relative, text exactly, booleans
and errors by kind). TODAY()/NOW()/RAND() cells are left out for every tool. A tool that
crashes or times out on a file computes none of its cells.

The tools: xlbridge (``recalc_workbook``, with the clock at the file's save time), IronCalc
(PyPI ``ironcalc``: ``load_from_xlsx`` + ``evaluate`` + ``save_to_xlsx``), formualizer (PyPI:
``recalculate_xlsx_file``), LibreOffice (headless, recalculation on load forced, saved as
.xlsx) and ``formulas`` (``ExcelModel().loads().finish()``, ``calculate()``, ``write()``).
Each peer runs in a child process per file with a time limit.

Printed: per tool, files, formula cells, cells given a value ("computed"), cells equal to
Excel's, and the two shares — equal / computed and equal / all formula cells, the one that
matters to a user. docs/fidelity.md holds a run's figures and this command.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "corpus"))

import oracle  # noqa: E402

TOOLS = ("xlbridge", "ironcalc", "formualizer", "libreoffice", "formulas")
TIMEOUT = 60.0

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def excel_saved(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            app = z.read("docProps/app.xml").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile):
        return False
    if "Openpyxl" in app:
        return False
    return ("Microsoft" in app and "Excel" in app) or "Excel Android" in app


# --------------------------------------------------------------------------- the tools

def run_child(tool: str, src: Path, out: Path, clock: str) -> str | None:
    """One peer on one file in a child process; None when it wrote its output."""
    try:
        proc = subprocess.run([sys.executable, __file__, "--child", tool, str(src), str(out),
                               clock], capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        return f"timed out after {TIMEOUT:.0f} s"
    if proc.returncode != 0 or not out.exists():
        return (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1][:200]
    return None


def child(tool: str, src: str, out: str, clock: str) -> None:
    from datetime import datetime

    when = datetime.fromisoformat(clock) if clock else None
    if tool == "xlbridge":
        from xlbridge.recompute import recalc_workbook

        recalc_workbook(src, out_path=out, clock=when)
    elif tool == "ironcalc":
        import ironcalc

        model = ironcalc.load_from_xlsx(src, "en", "UTC")
        model.evaluate()
        model.save_to_xlsx(out)
    elif tool == "formualizer":
        import formualizer

        formualizer.recalculate_xlsx_file(src, out)
    elif tool == "formulas":
        import formulas

        model = formulas.ExcelModel().loads(src).finish()
        sol = model.calculate()
        d = Path(out).parent / (Path(out).stem + "-formulas")
        d.mkdir(exist_ok=True)
        written = model.write(books=None, solution=sol, dirpath=str(d))
        files = [p for p in d.iterdir() if p.suffix.lower() == ".xlsx"]
        if not files:
            raise SystemExit(f"formulas wrote nothing: {written!r}")
        shutil.move(str(files[0]), out)
    else:
        raise SystemExit(f"unknown tool {tool}")


def libreoffice(files: list[Path], outdir: Path, work: Path) -> dict[Path, Path]:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        return {}
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_XCU, encoding="utf-8")
    outdir.mkdir(parents=True, exist_ok=True)
    # several soffice runs of 40 files: one crash costs only its batch
    for i in range(0, len(files), 40):
        batch = files[i:i + 40]
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--nolockcheck", "--calc", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
               "--outdir", str(outdir), *map(str, batch)]
        subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    return {f: outdir / (f.stem + ".xlsx") for f in files if (outdir / (f.stem + ".xlsx")).exists()}


def version(tool: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    if tool == "libreoffice":
        exe = shutil.which("soffice") or shutil.which("libreoffice")
        if not exe:
            return "missing"
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
        return out.stdout.strip().split("\n")[0][:40]
    try:
        return v(tool)
    except PackageNotFoundError:
        return "missing"


# --------------------------------------------------------------------------- the run

def measure(files: list[Path], root: Path, tools: list[str], work: Path) -> dict[str, Any]:
    blanks = {}
    originals = {}
    for i, f in enumerate(files):
        b = work / "blank" / f"{i:04d}-{f.stem}.xlsx"
        b.parent.mkdir(parents=True, exist_ok=True)
        oracle.blank_copy(f, b)
        blanks[f] = b
        originals[f] = oracle.read_cells(f)
    results: dict[str, Any] = {}
    for tool in tools:
        t0 = time.perf_counter()
        outs: dict[Path, Path] = {}
        failures: dict[str, str] = {}
        if tool == "libreoffice":
            got = libreoffice(list(blanks.values()), work / "lo-out", work)
            outs = {f: got[b] for f, b in blanks.items() if b in got}
            failures = {str(f.relative_to(root)): "not converted" for f in files if f not in outs}
        else:
            for f, b in blanks.items():
                out = work / tool / b.name
                out.parent.mkdir(parents=True, exist_ok=True)
                saved = oracle.saved_at(f)
                err = run_child(tool, b, out, saved.isoformat() if saved else "")
                if err is None:
                    outs[f] = out
                else:
                    failures[str(f.relative_to(root))] = err
        seconds = time.perf_counter() - t0
        cells = computed = agree = 0
        per_file = {}
        for f in files:
            res = oracle.read_cells(outs[f]) if f in outs else None
            v = oracle.compare(originals[f], res, str(f.relative_to(root)))
            cells += v.cells
            computed += v.computed
            agree += v.agree
            per_file[v.file] = [v.cells, v.computed, v.agree]
        results[tool] = {"version": version(tool), "files": len(files),
                         "files_failed": len(failures), "cells": cells, "computed": computed,
                         "agree": agree, "seconds": round(seconds, 1),
                         "computed_share": computed / cells if cells else 0.0,
                         "agree_of_computed": agree / computed if computed else 0.0,
                         "agree_of_all": agree / cells if cells else 0.0,
                         "failures": failures, "per_file": per_file}
        r = results[tool]
        print(f"{tool:12} {r['version']:14} files {len(files)} ({len(failures)} failed)  "
              f"cells {cells}  computed {computed} ({r['computed_share']:.2%})  "
              f"equal {agree} ({r['agree_of_computed']:.3%} of computed, "
              f"{r['agree_of_all']:.2%} of all)  {seconds:.0f} s", flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", metavar="DIR", help="every Excel-saved .xlsx under DIR")
    ap.add_argument("--only", help="comma-separated tools (default: all)")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    root = Path(args.all) if args.all else oracle.CORPUS
    files = [f for f in sorted(root.rglob("*.xlsx")) if excel_saved(f)]
    tools = args.only.split(",") if args.only else list(TOOLS)
    print(f"{len(files)} Excel-saved files under {root}; python {platform.python_version()}, "
          f"{platform.machine()}")
    with tempfile.TemporaryDirectory() as td:
        res = measure(files, root, tools, Path(td))
    if args.json:
        Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
