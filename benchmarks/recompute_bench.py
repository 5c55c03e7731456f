"""Headless batch recomputation: xlbridge recompute vs LibreOffice, pycel, formulas and the
bare zip+lxml round trip, measured side by side in one run on the same files.

    python benchmarks/recompute_bench.py                 # everything (about 10 minutes)
    python benchmarks/recompute_bench.py --quick         # no pycel/formulas/50k/1,000 files
    python benchmarks/recompute_bench.py --json out.json # also write every figure as JSON

The workbook is a 白莲镇 appraisal template (``make_template``): a 考核表 sheet with Chinese
headers, five input columns per row (单位, 指标考核, 公众评议, 察访核验扣分(分),
一票否决或书面点名批评) and ten formulas per row — ROUND breakdowns, the total
``PERF_SCORE(参数!$B$1,C5:G5,表头)``, the grade ``PERF_GRADE(K5,参数!$B$1)`` under the shipped
scheme ``bailian-township@1``, RANK, rank within 片区 by COUNTIFS, the coefficient by VLOOKUP
into the 参数 sheet, the bonus, a remark — plus a 汇总 sheet (COUNTIF per grade, shares,
average, maximum, minimum, bonus total). Its *native twin* (``perf=False``) replaces the two
PERF_* columns by native formulas that compute the same — the total
``ROUND(D5*0.8+E5*0.2-IF(F5="",0,MIN(F5,3)),2)`` and a nested IF for the grade — so that
LibreOffice, pycel and formulas can compute it; the twin has no defined names because pycel
1.0b30 fails on openpyxl 3.1's defined-name API. Files are written by openpyxl, so they hold
no cached values: every formula cell gets a new value (the most writing xlbridge can do).

Measured (one run, the same files):

(a) ``xlbridge.batch.recompute_one`` — the CLI's per-file path: lock, recompute with the
    PERF_* functions, atomic write — on the PERF template, in this process (warm: imports and
    the scheme loaded); and the real CLI ``xlbridge recompute FILE`` as a subprocess (cold:
    interpreter start-up, imports, scheme loading, console output);
(b) the same on the native twin;
(c) LibreOffice headless recalculating the twin (recalculation on load forced by a private
    profile, as tests/recompute does) and saving it as .xlsx; raw, and net of soffice start-up
    (a one-formula workbook converted the same way);
(d) pycel: ``ExcelCompiler`` load + ``evaluate`` of every formula cell of the twin (pycel
    cannot write values back to the file; it has no RANK, so a plain RANK plugin is supplied);
(e) formulas: ``ExcelModel().loads().finish()``, ``calculate()``, ``write()`` on the twin — on
    fewer rows (default 200 and 400) and extrapolated linearly to the full size, labelled so;
(f) the floor for any tool that rewrites the file: unzip, lxml-parse and re-serialize every
    worksheet, re-zip (``bare_roundtrip``);
(g) formualizer (PyPI, Rust): ``formualizer.recalculate_xlsx_file(twin, out)`` — recalculates
    and writes the cached values back, the same job — in this process;
(h) IronCalc (PyPI ``ironcalc``, Rust): ``load_from_xlsx`` + ``evaluate`` + ``save_to_xlsx``
    on the twin, in this process.

The target ratios (formualizer ÷ xlbridge, xlbridge ÷ round trip) are also measured *head to
head*: rounds of xlbridge twin, formualizer, round trip, xlbridge PERF, round trip, one after
the other, so that each ratio compares runs a second apart under the same load; the verdicts
use the median of the rounds' own ratios (the machine is shared, and its load drifts).

Before timing, the values are checked: xlbridge on the twin = LibreOffice on the twin (every
formula cell; numbers to 1e-9, text exactly) and xlbridge on the PERF template = xlbridge on
the twin (every formula cell but the PERF_SCHEME caption); pycel's and formulas' values are
compared with xlbridge's and mismatches reported. Then: row scaling (1k, 10k, 50k rows) of
xlbridge and the round trip, peak memory (VmHWM of a fresh process) for 50k rows, and 1,000
workbooks of 200 rows through ``xlbridge recompute DIR --jobs 2`` as a subprocess.

Timings are the best (minimum) and the median of several runs: the machine may be shared.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCHEME = "bailian-township@1"
MAIN, PARAMS, SUMMARY = "考核表", "参数", "汇总"
FIRST = 5  # first data row
AREAS = ["东片", "西片", "南片", "北片", "中心片"]
GRADES = [("优", 1.2), ("良好", 1.0), ("一般", 0.8), ("差", 0)]
HEADERS = ["序号", "片区", "单位", "指标考核", "公众评议", "察访核验扣分(分)",
           "一票否决或书面点名批评", "指标得分", "评议得分", "扣分", "总分", "等级", "名次",
           "片区名次", "系数", "奖金", "备注"]
INPUT_COLS = "CDEFG"      # the scheme's inputs, one contiguous block (named 表头 in the PERF file)
FORMULA_COLS = "HIJKLMNOPQ"
EXTRA_FORMULAS = 13        # the PERF_SCHEME caption and the 汇总 sheet
TARGETS = {"seconds_2000": 0.3, "vs_libreoffice": 4.0, "vs_pycel": 20.0, "vs_roundtrip": 3.0,
           "vs_formualizer": 2.0, "batch_seconds": 60.0, "peak_mb": 300.0}


# --------------------------------------------------------------------------- the workbooks


def make_template(path: Path, rows: int, *, perf: bool = True, shared: bool = False,
                  seed: int = 0) -> None:
    """Write the appraisal template with ``rows`` records (PERF_* or its native twin)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    rnd = random.Random(seed)
    last = FIRST + rows - 1
    scheme = f"{PARAMS}!$B$1"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = MAIN
    ws["A1"] = "白莲镇2024年度村（居）绩效评估表"
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(f"A1:{FORMULA_COLS[-1]}1")
    ws["A2"] = "填报单位：白莲镇党政办　　　日期：2025年1月10日"
    ws["A3"] = f"=PERF_SCHEME({scheme})" if perf else f'="方案："&{scheme}'
    blue, orange = PatternFill("solid", fgColor="DDEBF7"), PatternFill("solid", fgColor="FCE4D6")
    for c, h in enumerate(HEADERS, 1):
        cell = ws.cell(4, c, h)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        cell.fill = orange if c >= 8 else blue
    for col, width in zip("ABCDEFGHIJKLMNOPQ", (6, 8, 12, 9, 9, 10, 12, 9, 9, 7, 9, 7, 7, 9,
                                                   7, 10, 16), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "D5"
    veto = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    ws.add_data_validation(veto)
    veto.add(f"G{FIRST}:G{last}")
    cell = ws.cell
    for i in range(rows):
        r = FIRST + i
        deduction = rnd.choice((0.5, 1, 1.5, 2, 3, 3.5, 4)) if rnd.random() < 0.3 else None
        values = [i + 1, AREAS[i % len(AREAS)], f"第{i + 1}村",
                  rnd.randrange(120, 201) / 2, rnd.randrange(110, 201) / 2, deduction,
                  "是" if rnd.random() < 0.01 else None]
        formulas = [
            f"=ROUND(D{r}*0.8,2)",
            f"=ROUND(E{r}*0.2,2)",
            f'=IF(F{r}="",0,MIN(F{r},3))',
            f"=PERF_SCORE({scheme},C{r}:G{r},表头)" if perf else
            f'=ROUND(D{r}*0.8+E{r}*0.2-IF(F{r}="",0,MIN(F{r},3)),2)',
            f"=PERF_GRADE(K{r},{scheme})" if perf else
            f'=IF(K{r}>=90,"优",IF(K{r}>=85,"良好",IF(K{r}>=75,"一般","差")))',
            f"=RANK(K{r},$K${FIRST}:$K${last})",
            f'=COUNTIFS($B${FIRST}:$B${last},B{r},$K${FIRST}:$K${last},">"&K{r})+1',
            f"=VLOOKUP(L{r},{PARAMS}!$A$4:$B$7,2,FALSE)",
            f'=IF(G{r}="是",0,ROUND(O{r}*{PARAMS}!$E$4,2))',
            f'=IF(G{r}="是","取消评先评优资格","")',
        ]
        for c, v in enumerate(values + formulas, 1):
            if v is not None:
                cell(r, c, v)
    ws.cell(last + 2, 1, "审核人：　　　　　　制表人：")
    p = wb.create_sheet(PARAMS)
    p["A1"], p["B1"] = "方案", SCHEME
    p["A3"], p["B3"], p["D3"], p["E3"] = "等级", "系数", "奖金基数", None
    for k, (grade, coeff) in enumerate(GRADES):
        p.cell(4 + k, 1, grade)
        p.cell(4 + k, 2, coeff)
    p["D4"], p["E4"] = "元", 6000
    s = wb.create_sheet(SUMMARY)
    s.append(["等级", "个数", "占比"])
    total = f"{MAIN}!$K${FIRST}:$K${last}"
    for k, (grade, _coeff) in enumerate(GRADES):
        rr = 2 + k
        s.append([grade, f"=COUNTIF({MAIN}!$L${FIRST}:$L${last},A{rr})",
                  f"=ROUND(B{rr}/SUM($B$2:$B$5),4)"])
    s.append(["平均分", f"=ROUND(AVERAGE({total}),2)"])
    s.append(["最高分", f"=MAX({total})"])
    s.append(["最低分", f"=MIN({total})"])
    s.append(["奖金合计", f"=SUM({MAIN}!$P${FIRST}:$P${last})"])
    if perf:  # the header row PERF_SCORE maps the inputs by (the add-in's convention)
        wb.defined_names["表头"] = DefinedName(
            "表头", attr_text=f"{MAIN}!${INPUT_COLS[0]}$4:${INPUT_COLS[-1]}$4")
    wb.save(path)
    if shared:
        make_shared(path, FIRST, last)


def make_shared(path: Path, first: int, last: int) -> None:
    """Rewrite the formula columns of the first sheet as Excel does: one shared formula each."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    masters: dict[str, int] = {}

    def sub(m: re.Match[str]) -> str:
        col, row, attrs, formula = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        if row < first:
            return m.group(0)
        if col not in masters:
            masters[col] = len(masters)
            return (f'<c r="{col}{row}"{attrs}><f t="shared" ref="{col}{first}:{col}{last}" '
                    f'si="{masters[col]}">{formula}</f><v></v></c>')
        return f'<c r="{col}{row}"{attrs}><f t="shared" si="{masters[col]}"/><v></v></c>'

    sheet = re.sub(r'<c r="([A-Z]+)(\d+)"([^>]*)><f>(.*?)</f><v\s*/?>(?:</v>)?</c>', sub, sheet)
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def formula_cells(path: Path) -> list[tuple[str, str]]:
    """(sheet, cell) of every formula in ``path``."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
                for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    finally:
        wb.close()


def stored_values(path: Path, cells: list[tuple[str, str]],
                  upper_sheets: bool = False) -> dict[str, Any]:
    """The values stored in ``path`` for ``cells``, keyed ``sheet!A1``."""
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for sheet, coord in cells:
        ws = wb[sheet.upper() if upper_sheets else sheet]
        out[f"{sheet}!{coord}"] = ws[coord].value
    wb.close()
    return out


def mismatches(expected: dict[str, Any], got: dict[str, Any],
               tol: float = 1e-9) -> list[tuple[str, Any, Any]]:
    """Cells whose values differ: numbers beyond ``tol`` (relative above 1), text exactly."""
    out = []
    for key, a in expected.items():
        b = got.get(key)
        a = "" if a is None else a
        b = "" if b is None else b
        num = (int, float)
        if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) \
                and not isinstance(b, bool):
            if abs(a - b) <= tol * max(1.0, abs(a)):
                continue
        elif a == b:
            continue
        out.append((key, a, b))
    return out


# --------------------------------------------------------------------------- the floor


def bare_roundtrip(src: Path, dst: Path) -> float:
    """Unzip, lxml-parse + serialize every worksheet, re-zip everything; seconds taken."""
    t0 = time.perf_counter()
    with zipfile.ZipFile(src) as zin:
        members = [(i, zin.read(i)) for i in zin.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in members:
            if info.filename.startswith("xl/worksheets/"):
                data = etree.tostring(etree.fromstring(data), xml_declaration=True,
                                      encoding="UTF-8", standalone=True)
            zout.writestr(info, data, zipfile.ZIP_DEFLATED)
    dst.write_bytes(out.getvalue())
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- timing helpers


def best_median(times: list[float]) -> dict[str, float]:
    return {"best": min(times), "median": statistics.median(times), "runs": len(times)}


def time_runs(prepare: Callable[[], Any], run: Callable[[Any], Any], repeat: int) -> list[float]:
    """``run(prepare())`` ``repeat`` times; only ``run`` is timed."""
    times = []
    for _ in range(repeat):
        arg = prepare()
        gc.collect()
        t0 = time.perf_counter()
        run(arg)
        times.append(time.perf_counter() - t0)
    return times


def xlbridge_inprocess(src: Path, work: Path, repeat: int) -> list[float]:
    """``recompute_one`` (the CLI's per-file path) on a fresh copy of ``src`` each time."""
    from xlbridge.batch import Options, recompute_one

    target = work / f"inproc-{src.name}"

    def prepare() -> Path:
        shutil.copy(src, target)
        return target

    def run(path: Path) -> None:
        outcome = recompute_one(path, Options())
        if not outcome.ok or outcome.issues:
            raise SystemExit(f"xlbridge failed on {src}: {outcome.error} {outcome.issues[:3]}")

    return time_runs(prepare, run, repeat)


def head_to_head(perf: Path, twin: Path, work: Path, repeat: int) -> dict[str, Any]:
    """The target ratios, measured in rounds: each round times xlbridge on the twin,
    formualizer on the twin, the twin's round trip, xlbridge on the PERF template and its
    round trip, one after the other — so that every ratio compares runs a second apart, under
    the same load — and the figures are the medians over the rounds (of the times, and of
    each round's own ratio)."""
    from xlbridge.batch import Options, recompute_one

    try:
        import formualizer  # noqa: F401
        have_fz = True
    except ImportError:
        have_fz = False

    cpu: dict[str, list[float]] = {"twin": [], "formualizer": []}

    def ours(src: Path, cpu_of: str = "") -> float:
        target = work / f"h2h-{src.name}"
        shutil.copy(src, target)
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        outcome = recompute_one(target, Options())
        dt = time.perf_counter() - t0
        if cpu_of:
            cpu[cpu_of].append(time.process_time() - c0)
        if not outcome.ok or outcome.issues:
            raise SystemExit(f"xlbridge failed on {src}: {outcome.error} {outcome.issues[:3]}")
        return dt

    def timed(fn: Callable[[], Any], cpu_of: str = "") -> float:
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        if cpu_of:  # CPU time of every thread of this process: formualizer uses several
            cpu[cpu_of].append(time.process_time() - c0)
        return dt

    fz_out = work / "h2h-formualizer.xlsx"
    times: dict[str, list[float]] = {"twin": [], "formualizer": [], "roundtrip_twin": [],
                                     "perf": [], "roundtrip_perf": []}
    ours(twin), ours(perf)  # warm: lazy imports, the scheme loaded (not timed)
    if have_fz:
        peer_formualizer(twin, fz_out)
    for _ in range(repeat):
        times["twin"].append(ours(twin, "twin"))
        if have_fz:
            fz_out.unlink(missing_ok=True)
            times["formualizer"].append(timed(lambda: peer_formualizer(twin, fz_out),
                                              "formualizer"))
        times["roundtrip_twin"].append(bare_roundtrip(twin, work / "bare.xlsx"))
        times["perf"].append(ours(perf))
        times["roundtrip_perf"].append(bare_roundtrip(perf, work / "bare.xlsx"))
    out: dict[str, Any] = {k: best_median(v) for k, v in times.items() if v}
    out["cpu"] = {k: best_median(v) for k, v in cpu.items() if v}
    ratios = {"twin_vs_roundtrip": [a / b for a, b in zip(times["twin"],
                                                            times["roundtrip_twin"],
                                                            strict=True)],
              "perf_vs_roundtrip": [a / b for a, b in zip(times["perf"],
                                                            times["roundtrip_perf"],
                                                            strict=True)]}
    if have_fz:
        ratios["formualizer_vs_twin"] = [a / b for a, b in zip(times["formualizer"],
                                                                 times["twin"], strict=True)]
        ratios["formualizer_vs_twin_cpu"] = [a / b for a, b in zip(
            cpu["formualizer"], cpu["twin"], strict=True)]
    out["ratios"] = {k: {"median": statistics.median(v), "min": min(v), "max": max(v)}
                     for k, v in ratios.items()}
    return out


def xlbridge_phases(src: Path, work: Path, repeat: int) -> dict[str, float]:
    """Best time of each phase of ``recalc_workbook`` (read, compile, evaluate, plan, write)."""
    from xlbridge.batch import perf_functions
    from xlbridge.recompute import recalc_workbook

    target = work / f"phases-{src.name}"
    best: dict[str, float] = {}
    for _ in range(repeat):
        shutil.copy(src, target)
        rep = recalc_workbook(target, functions=perf_functions())
        for k, v in rep.timings.items():
            best[k] = min(best.get(k, v), v)
    return best


def xlbridge_exe() -> list[str]:
    exe = Path(sys.executable).with_name("xlbridge")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "xlbridge.cli"]


def xlbridge_cli(src: Path, work: Path, repeat: int) -> list[float]:
    target = work / f"cli-{src.name}"

    def prepare() -> Path:
        shutil.copy(src, target)
        return target

    def run(path: Path) -> None:
        proc = subprocess.run([*xlbridge_exe(), "recompute", str(path)], capture_output=True,
                              text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"xlbridge recompute failed: {proc.stdout}\n{proc.stderr}")

    return time_runs(prepare, run, repeat)


def worker(kind: str, *args: str, timeout: float | None = None) -> dict[str, Any] | None:
    """Run ``--worker kind args`` in a fresh interpreter; its JSON answer (None on timeout)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise SystemExit(f"worker {kind} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- LibreOffice

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOffice:
    """``soffice --headless --convert-to xlsx`` with recalculation on load always on (the
    private profile of tests/recompute/test_recompute_libreoffice.py)."""

    def __init__(self, work: Path):
        self.exe = shutil.which("soffice") or shutil.which("libreoffice")
        self.profile = work / "lo-profile"
        (self.profile / "user").mkdir(parents=True, exist_ok=True)
        (self.profile / "user" / "registrymodifications.xcu").write_text(_XCU, "utf-8")
        self.outdir = work / "lo-out"
        self.outdir.mkdir(exist_ok=True)

    def version(self) -> str:
        if not self.exe:
            return "not installed"
        out = subprocess.run([self.exe, "--version"], capture_output=True, text=True)
        return out.stdout.strip()

    def convert(self, src: Path) -> tuple[float, Path]:
        out = self.outdir / (src.stem + ".xlsx")
        out.unlink(missing_ok=True)
        cmd = [self.exe, f"-env:UserInstallation={self.profile.as_uri()}", "--headless",
               "--norestore", "--nolockcheck", "--calc", "--convert-to",
               "xlsx:Calc MS Excel 2007 XML", "--outdir", str(self.outdir), str(src)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
        dt = time.perf_counter() - t0
        if not out.exists():
            raise SystemExit(f"soffice did not convert {src}: {proc.stdout}\n{proc.stderr}")
        return dt, out


def peer_formualizer(src: Path, out: Path) -> None:
    import formualizer

    formualizer.recalculate_xlsx_file(str(src), str(out))


def peer_ironcalc(src: Path, out: Path) -> None:
    import ironcalc

    model = ironcalc.load_from_xlsx(str(src), "en", "UTC")
    model.evaluate()
    model.save_to_xlsx(str(out))


def trivial_workbook(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.active["A2"] = "=A1+1"
    wb.save(path)


# --------------------------------------------------------------------------- workers


def _pycel_plugin() -> str:
    """pycel 1.0b30 has no RANK: a module with a plain one (what a developer would add)."""
    from pycel.excelutil import flatten

    def rank(number: Any, ref: Any, order: Any = 0) -> Any:
        if isinstance(number, str):
            return number  # an error value travels on
        values = [v for v in flatten(ref) if isinstance(v, (int, float))
                  and not isinstance(v, bool)]
        if order:
            return 1 + sum(1 for v in values if v < number)
        return 1 + sum(1 for v in values if v > number)

    module = types.ModuleType("recompute_bench_pycel")
    module.rank = rank  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    return module.__name__


def run_worker(kind: str, args: list[str]) -> None:
    if kind == "pycel":
        src, values_out = Path(args[0]), Path(args[1])
        cells = formula_cells(src)  # which cells to evaluate: not timed
        plugin = _pycel_plugin()
        from pycel import ExcelCompiler

        t0 = time.perf_counter()
        xl = ExcelCompiler(filename=str(src), plugins=[plugin])
        t1 = time.perf_counter()
        values = {f"{s}!{c}": xl.evaluate(f"{s}!{c}") for s, c in cells}
        t2 = time.perf_counter()
        values_out.write_text(json.dumps(values, ensure_ascii=False, default=str), "utf-8")
        print(json.dumps({"load": t1 - t0, "evaluate": t2 - t1, "total": t2 - t0,
                          "cells": len(cells)}))
    elif kind == "formulas":
        src, outdir, values_out = Path(args[0]), Path(args[1]), Path(args[2])
        import formulas

        t0 = time.perf_counter()
        model = formulas.ExcelModel().loads(str(src)).finish()
        t1 = time.perf_counter()
        model.calculate()
        t2 = time.perf_counter()
        model.write(dirpath=str(outdir))
        t3 = time.perf_counter()
        written = outdir / src.name.upper()
        values = stored_values(written, formula_cells(src), upper_sheets=True)
        values_out.write_text(json.dumps(values, ensure_ascii=False, default=str), "utf-8")
        print(json.dumps({"load": t1 - t0, "calculate": t2 - t1, "write": t3 - t2,
                          "total": t3 - t0}))
    elif kind == "cold":
        # a fresh process: imports, then the first file (scheme loading, lazy imports), then
        # the same file again (warm)
        src, work = Path(args[0]), Path(args[1])
        t0 = time.perf_counter()
        from xlbridge.batch import Options, recompute_one

        t1 = time.perf_counter()
        times = []
        for k in range(2):
            f = work / f"cold{k}-{src.name}"
            shutil.copy(src, f)
            ts = time.perf_counter()
            recompute_one(f, Options())
            times.append(time.perf_counter() - ts)
        print(json.dumps({"imports": t1 - t0, "first_file": times[0], "second_file": times[1]}))
    elif kind == "peak":
        src = Path(args[0])
        from xlbridge.batch import Options, recompute_one

        def hwm() -> float:
            with open("/proc/self/status") as fh:
                line = next(ln for ln in fh if ln.startswith("VmHWM"))
            return int(line.split()[1]) / 1024.0

        before = hwm()
        t0 = time.perf_counter()
        outcome = recompute_one(src, Options())
        dt = time.perf_counter() - t0
        print(json.dumps({"after_imports_mb": before, "peak_mb": hwm(), "seconds": dt,
                          "status": outcome.status, "formulas": outcome.formulas}))
    else:
        raise SystemExit(f"unknown worker {kind}")


# --------------------------------------------------------------------------- the benchmark


def machine() -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    versions = {}
    for mod in ("pycel", "formulas", "openpyxl", "lxml"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[mod] = version(mod)
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), **versions}


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def check_agreement(perf: Path, twin: Path, lo_twin: Path, work: Path) -> dict[str, Any]:
    """xlbridge(twin) = LibreOffice(twin); xlbridge(PERF) = xlbridge(twin). Raises on a miss."""
    from xlbridge.batch import Options, recompute_one

    out = {}
    for name, src in (("perf", perf), ("twin", twin)):
        f = work / f"agree-{name}.xlsx"
        shutil.copy(src, f)
        outcome = recompute_one(f, Options())
        if not outcome.ok or outcome.issues:
            raise SystemExit(f"xlbridge: {outcome.status} {outcome.error} {outcome.issues[:5]}")
        out[name] = f
    cells = formula_cells(twin)
    ours_twin = stored_values(out["twin"], cells)
    lo = stored_values(lo_twin, cells)
    bad = mismatches(lo, ours_twin)
    if bad:
        raise SystemExit(f"xlbridge and LibreOffice disagree on {len(bad)} of {len(cells)} "
                         f"cells, e.g. {bad[:5]}")
    ours_perf = stored_values(out["perf"], cells)
    caption = f"{MAIN}!A3"
    bad = mismatches({k: v for k, v in ours_twin.items() if k != caption}, ours_perf)
    if bad:
        raise SystemExit(f"PERF_* and the native twin disagree on {len(bad)} cells, "
                         f"e.g. {bad[:5]}")
    grades = {g: sum(1 for k, v in ours_perf.items() if k.startswith(f"{MAIN}!L") and v == g)
              for g, _ in GRADES}
    return {"cells": len(cells), "values_twin": ours_twin, "grades": grades,
            "caption": ours_perf[caption]}


def check_same_values(a: Path, b: Path, work: Path) -> None:
    """xlbridge gives the same values for two layouts of one workbook (plain/shared)."""
    from xlbridge.batch import Options, recompute_one

    got = []
    for src in (a, b):
        f = work / f"same-{src.name}"
        shutil.copy(src, f)
        outcome = recompute_one(f, Options())
        if not outcome.ok or outcome.issues:
            raise SystemExit(f"xlbridge: {outcome.status} {outcome.error} {outcome.issues[:5]}")
        got.append(f)
    cells = formula_cells(a)
    bad = mismatches(stored_values(got[0], cells), stored_values(got[1], cells), tol=0.0)
    if bad:
        raise SystemExit(f"shared-formula layout differs on {len(bad)} cells: {bad[:5]}")


def fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x * 1000:.0f} ms" if x < 10 else f"{x:.1f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=9, help="in-process runs (best and median)")
    ap.add_argument("--cli-repeat", type=int, default=5)
    ap.add_argument("--lo-repeat", type=int, default=5)
    ap.add_argument("--pycel-timeout", type=float, default=1800.0)
    ap.add_argument("--formulas-rows", default="200,400",
                    help="formulas is timed on these sizes and extrapolated linearly")
    ap.add_argument("--formulas-full", action="store_true",
                    help="also run formulas on the full --rows (slow), to check extrapolation")
    ap.add_argument("--scaling", default="1000,10000,50000")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--batch-rows", type=int, default=200)
    ap.add_argument("--batch-variants", type=int, default=20,
                    help="distinct input sets among the batch files (each copied evenly)")
    ap.add_argument("--batch-repeat", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true",
                    help="skip pycel, formulas, the 50k-row size, memory and the batch")
    ap.add_argument("--skip", default="", help="comma list of: lo,pycel,formulas,scaling,"
                                               "memory,batch,cli")
    ap.add_argument("--work", help="keep the generated files in this folder")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args, rest = ap.parse_known_args()
    if args.worker:
        run_worker(args.worker, rest)
        return
    skip = set(filter(None, args.skip.split(",")))
    scaling = [int(x) for x in args.scaling.split(",") if x]
    if args.quick:
        skip |= {"pycel", "formulas", "memory", "batch"}
        scaling = [s for s in scaling if s <= 10000]

    with contextlib.ExitStack() as stack:
        if args.work:
            work = Path(args.work)
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rbench-")))
        run(args, skip, scaling, work)


def run(args: argparse.Namespace, skip: set[str], scaling: list[int], work: Path) -> None:
    res: dict[str, Any] = {"machine": machine(), "rows": args.rows,
                           "load_average_start": load_average()}
    lo = LibreOffice(work)
    res["machine"]["libreoffice"] = lo.version()
    print(json.dumps(res["machine"], ensure_ascii=False))
    n = args.rows
    perf, twin = work / f"perf-{n}.xlsx", work / f"twin-{n}.xlsx"
    t0 = time.perf_counter()
    make_template(perf, n, perf=True)
    make_template(twin, n, perf=False)
    print(f"generated {n}-row PERF template and native twin in {time.perf_counter() - t0:.1f} s "
          f"({perf.stat().st_size:,} / {twin.stat().st_size:,} bytes)")

    # ---- agreement before timing
    lo_out = None
    if "lo" not in skip and lo.exe:
        trivial_workbook(work / "trivial.xlsx")
        lo.convert(work / "trivial.xlsx")  # the first run of a new profile sets it up
        _, lo_out = lo.convert(twin)
        agree = check_agreement(perf, twin, lo_out, work)
        print(f"agreement: xlbridge = LibreOffice on all {agree['cells']:,} formula cells of "
              f"the twin (numbers to 1e-9, text exactly); PERF_SCORE/PERF_GRADE = the native "
              f"total and grade on every row; grades {agree['grades']}")
        res["agreement"] = {"cells": agree["cells"], "grades": agree["grades"]}
        reference = agree["values_twin"]
    else:
        reference = None

    # ---- (a), (b), (f): in this process
    inproc_perf = xlbridge_inprocess(perf, work, args.repeat)
    inproc_twin = xlbridge_inprocess(twin, work, args.repeat)
    bare = [bare_roundtrip(perf, work / "bare.xlsx") for _ in range(args.repeat)]
    res["xlbridge_perf"] = best_median(inproc_perf)
    res["xlbridge_twin"] = best_median(inproc_twin)
    res["roundtrip"] = best_median(bare)
    res["roundtrip_twin"] = best_median(
        [bare_roundtrip(twin, work / "bare.xlsx") for _ in range(args.repeat)])
    res["phases_perf"] = xlbridge_phases(perf, work, args.repeat)
    res["phases_twin"] = xlbridge_phases(twin, work, args.repeat)
    # the same PERF template with its formula columns as Excel saves filled-down formulas
    shared = work / f"perf-shared-{n}.xlsx"
    make_template(shared, n, perf=True, shared=True)
    check_same_values(perf, shared, work)
    res["xlbridge_shared"] = best_median(xlbridge_inprocess(shared, work, args.repeat))
    res["roundtrip_shared"] = best_median(
        [bare_roundtrip(shared, work / "bare.xlsx") for _ in range(args.repeat)])
    print(f"xlbridge in-process: PERF {fmt_s(min(inproc_perf))}, twin {fmt_s(min(inproc_twin))}"
          f"; round trip {fmt_s(min(bare))}")

    # ---- the target ratios, interleaved round by round
    res["head_to_head"] = h2h = head_to_head(perf, twin, work, args.repeat)
    print("head to head (medians of the rounds): " + ", ".join(
        f"{k} {v['median']:.2f}×" for k, v in h2h["ratios"].items()))

    # ---- (g) formualizer, (h) IronCalc: the Rust engines, same file, same process
    for name, fn in (("formualizer", peer_formualizer), ("ironcalc", peer_ironcalc)):
        try:
            times, out = [], work / f"{name}-out.xlsx"
            for _ in range(args.repeat):
                out.unlink(missing_ok=True)
                t0 = time.perf_counter()
                fn(twin, out)
                times.append(time.perf_counter() - t0)
        except ImportError as exc:
            print(f"{name}: not installed ({exc})")
            continue
        res[name] = best_median(times)
        if reference is not None:
            bad = mismatches(reference, stored_values(out, formula_cells(twin)))
            res[name]["mismatches"] = len(bad)
            res[name]["mismatch_examples"] = [list(map(str, b)) for b in bad[:5]]
        print(f"{name}: {fmt_s(min(times))}; {res[name].get('mismatches', '?')} cells differ "
              "from xlbridge")

    # ---- (a) the real CLI, cold
    if "cli" not in skip:
        res["cli_perf"] = best_median(xlbridge_cli(perf, work, args.cli_repeat))
        res["cli_twin"] = best_median(xlbridge_cli(twin, work, args.cli_repeat))
        start = time_runs(lambda: None, lambda _: subprocess.run(
            [sys.executable, "-c", "pass"], check=True), args.cli_repeat)
        res["python_startup"] = best_median(start)
        colds = [worker("cold", str(perf), str(work)) for _ in range(args.cli_repeat)]
        res["cold"] = {k: min(c[k] for c in colds if c) for k in colds[0] or {}}
        print(f"xlbridge CLI: PERF {fmt_s(res['cli_perf']['best'])}, twin "
              f"{fmt_s(res['cli_twin']['best'])}; cold process {res['cold']}")

    # ---- (c) LibreOffice
    if "lo" not in skip and lo.exe:
        raw, trivial = [], []
        for _ in range(args.lo_repeat):
            trivial.append(lo.convert(work / "trivial.xlsx")[0])
            raw.append(lo.convert(twin)[0])
        res["lo_raw"] = best_median(raw)
        res["lo_startup"] = best_median(trivial)
        res["lo_net"] = {"best": min(raw) - min(trivial),
                         "median": statistics.median(raw) - statistics.median(trivial)}
        print(f"LibreOffice: raw {fmt_s(min(raw))}, start-up {fmt_s(min(trivial))}, net "
              f"{fmt_s(res['lo_net']['best'])}")

    # ---- (d) pycel
    if "pycel" not in skip:
        got = worker("pycel", str(twin), str(work / "pycel.json"), timeout=args.pycel_timeout)
        if got is None:
            res["pycel"] = {"timeout": args.pycel_timeout}
            print(f"pycel: did not finish in {args.pycel_timeout:.0f} s")
        else:
            res["pycel"] = got
            if reference is not None:
                vals = json.loads((work / "pycel.json").read_text("utf-8"))
                bad = mismatches(reference, vals)
                res["pycel"]["mismatches"] = len(bad)
                res["pycel"]["mismatch_examples"] = [list(map(str, b)) for b in bad[:5]]
            print(f"pycel: load {fmt_s(got['load'])} + evaluate {fmt_s(got['evaluate'])}; "
                  f"{res['pycel'].get('mismatches', '?')} cells differ from xlbridge")

    # ---- (e) formulas, on fewer rows
    if "formulas" not in skip:
        sizes = [int(x) for x in args.formulas_rows.split(",")]
        if args.formulas_full:
            sizes.append(n)
        fres = {}
        for rows in sizes:
            src = work / f"ftwin-{rows}.xlsx"
            if rows == n:
                shutil.copy(twin, src)
            else:
                make_template(src, rows, perf=False)
            outdir = work / f"formulas-out-{rows}"
            outdir.mkdir(exist_ok=True)
            got = worker("formulas", str(src), str(outdir), str(work / f"formulas-{rows}.json"),
                         timeout=args.pycel_timeout)
            if got is None:
                fres[rows] = {"timeout": args.pycel_timeout}
                continue
            check = work / f"xlb-ftwin-{rows}.xlsx"
            shutil.copy(src, check)
            from xlbridge.batch import Options, recompute_one

            recompute_one(check, Options())
            cells = formula_cells(src)
            bad = mismatches(stored_values(check, cells),
                             json.loads((work / f"formulas-{rows}.json").read_text("utf-8")))
            got["mismatches"] = len(bad)
            got["mismatch_examples"] = [list(map(str, b)) for b in bad[:5]]
            fres[rows] = got
            print(f"formulas {rows} rows: {got}")
        a, b = sizes[0], sizes[1]
        ta, tb = fres[a].get("total"), fres[b].get("total")
        if ta is not None and tb is not None:
            slope = (tb - ta) / (b - a)
            fres["extrapolated"] = {"rows": n, "total": tb + slope * (n - b),
                                    "from": [a, b], "per_row": slope}
        res["formulas"] = fres

    # ---- scaling
    if "scaling" not in skip:
        rows_out = []
        for rows in scaling:
            src = work / f"scale-{rows}.xlsx"
            t0 = time.perf_counter()
            make_template(src, rows, perf=True)
            gen = time.perf_counter() - t0
            reps = args.repeat if rows <= 2000 else (5 if rows <= 10000 else 3)
            rec = xlbridge_inprocess(src, work, reps)
            br = [bare_roundtrip(src, work / "bare.xlsx") for _ in range(reps)]
            row = {"rows": rows, "formulas": rows * len(FORMULA_COLS) + EXTRA_FORMULAS,
                   "xlbridge": best_median(rec), "roundtrip": best_median(br),
                   "bytes": src.stat().st_size, "generate_s": gen}
            rows_out.append(row)
            print(f"scaling {rows}: xlbridge {fmt_s(min(rec))}, round trip {fmt_s(min(br))}")
            if rows == max(scaling) and "memory" not in skip:
                peaks = [worker("peak", str(src)) for _ in range(2)]
                res["memory"] = min((p for p in peaks if p), key=lambda p: p["peak_mb"])
                res["memory"]["rows"] = rows
                print(f"peak memory at {rows} rows: {res['memory']}")
        res["scaling"] = rows_out

    # ---- 1,000 workbooks
    if "batch" not in skip:
        res["batch"] = run_batch(args, work)

    res["load_average_end"] = load_average()
    report(res, args)
    if args.json:
        Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=1), "utf-8")


def run_batch(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    pristine = work / "batch-src"
    if not pristine.exists():
        variants = []
        for v in range(args.batch_variants):
            f = work / f"variant-{v}.xlsx"
            make_template(f, args.batch_rows, perf=True, seed=1000 + v)
            variants.append(f)
        pristine.mkdir()
        for k in range(args.batch):
            shutil.copy(variants[k % len(variants)], pristine / f"第{k + 1:04d}村考核表.xlsx")
    out: dict[str, Any] = {"files": args.batch, "rows": args.batch_rows,
                           "variants": args.batch_variants}
    for jobs, repeat in ((args.jobs, args.batch_repeat), (1, 1)):
        times = []
        for _ in range(repeat):
            target = work / "batch-run"
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(pristine, target)
            t0 = time.perf_counter()
            proc = subprocess.run([*xlbridge_exe(), "recompute", str(target), "--jobs",
                                   str(jobs)], capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - t0)
            tail = proc.stdout.strip().splitlines()[-3:]
            summary = next((ln for ln in proc.stdout.splitlines() if " files: " in ln), "")
            if proc.returncode != 0 or f"{args.batch} recomputed" not in summary:
                raise SystemExit(f"batch run failed ({proc.returncode}): {tail}\n"
                                 f"{proc.stderr[-2000:]}")
        out[f"jobs{jobs}"] = best_median(times)
        out[f"jobs{jobs}_summary"] = summary.strip()
        print(f"{args.batch} workbooks, --jobs {jobs}: {fmt_s(min(times))} ({summary.strip()})")
    return out


def report(res: dict[str, Any], args: argparse.Namespace) -> None:
    n = res["rows"]
    ours = res["xlbridge_perf"]["best"]
    cells = n * len(FORMULA_COLS) + EXTRA_FORMULAS
    print(f"\n=== {n}-row template ({cells:,} formula cells); best of runs"
          " (median in brackets); load average "
          f"{res['load_average_start']} → {res['load_average_end']}")
    lines: list[tuple[str, dict[str, float] | None, str, str]] = []

    def ratio(x: float | None, y: float | None) -> str:
        return f"{x / y:.1f}×" if x and y else "—"

    def add(name: str, fig: dict[str, float] | None, vs: str = "", target: str = "") -> None:
        lines.append((name, fig, vs, target))

    add("(a) xlbridge, PERF template, in-process", res["xlbridge_perf"], "1.0×",
        f"< {TARGETS['seconds_2000']} s")
    if "cli_perf" in res:
        add("(a) xlbridge CLI subprocess, PERF template", res["cli_perf"],
            ratio(res["cli_perf"]["best"], ours), f"< {TARGETS['seconds_2000']} s")
    add("(a') xlbridge, PERF template, shared formulas", res["xlbridge_shared"],
        ratio(res["xlbridge_shared"]["best"], ours))
    add("(b) xlbridge, native twin, in-process", res["xlbridge_twin"],
        ratio(res["xlbridge_twin"]["best"], ours))
    if "cli_twin" in res:
        add("(b) xlbridge CLI subprocess, native twin", res["cli_twin"],
            ratio(res["cli_twin"]["best"], ours))
    if "lo_raw" in res:
        add("(c) LibreOffice, twin, raw (incl. start-up)", res["lo_raw"],
            ratio(res["lo_raw"]["best"], ours), "")
        add("(c) LibreOffice start-up (1-formula file)", res["lo_startup"], "", "")
        add("(c) LibreOffice, twin, net of start-up", res["lo_net"],
            ratio(res["lo_net"]["best"], ours), f"≥ {TARGETS['vs_libreoffice']:.0f}×")
    if "pycel" in res:
        p = res["pycel"]
        if "timeout" in p:
            add(f"(d) pycel load+evaluate: > {p['timeout']:.0f} s", None, "", "")
        else:
            add("(d) pycel load + evaluate (no write)", {"best": p["total"]},
                ratio(p["total"], ours), f"≥ {TARGETS['vs_pycel']:.0f}×")
    if "formulas" in res and "extrapolated" in res["formulas"]:
        e = res["formulas"]["extrapolated"]
        add(f"(e) formulas, extrapolated from {e['from'][0]}/{e['from'][1]} rows",
            {"best": e["total"]}, ratio(e["total"], ours), "")
        if n in res["formulas"] and "total" in res["formulas"][n]:
            add("(e) formulas, measured on the full size", {"best": res["formulas"][n]["total"]},
                ratio(res["formulas"][n]["total"], ours), "")
    twin_best = res["xlbridge_twin"]["best"]
    for name, label in (("formualizer", "(g) formualizer.recalculate_xlsx_file, twin"),
                        ("ironcalc", "(h) IronCalc load + evaluate + save, twin")):
        if name in res:
            add(label + " (÷ xlbridge twin)", res[name], ratio(res[name]["best"], twin_best),
                f"≥ {TARGETS['vs_formualizer']:.0f}× xlbridge twin" if name == "formualizer"
                else "")
    add("(f) zip + lxml round trip (floor)", res["roundtrip"],
        ratio(res["roundtrip"]["best"], ours), f"xlbridge ≤ {TARGETS['vs_roundtrip']:.0f}× this")
    add("(f') round trip of the shared-formula file", res["roundtrip_shared"],
        ratio(res["roundtrip_shared"]["best"], ours))
    print(f"{'':50}{'best':>9}{'median':>10}   {'time / xlbridge':>15}   target")
    for name, fig, vs, target in lines:
        best = fmt_s(fig["best"]) if fig else ""
        med = f"({fmt_s(fig['median'])})" if fig and "median" in fig else ""
        print(f"{name:50}{best:>9}{med:>10}   {vs:>15}   {target}")
    print("phases (best, s): PERF " + ", ".join(f"{k} {v:.3f}" for k, v in
                                                 res["phases_perf"].items())
          + " | twin " + ", ".join(f"{k} {v:.3f}" for k, v in res["phases_twin"].items()))
    if "cold" in res:
        print(f"cold CLI pieces (best): python start-up {res['python_startup']['best']:.3f} s, "
              f"imports {res['cold']['imports']:.3f} s, first file {res['cold']['first_file']:.3f}"
              f" s, same file again {res['cold']['second_file']:.3f} s")
    for name, key in (("pycel", "pycel"),):
        if key in res and "mismatches" in res[key]:
            print(f"{name}: {res[key]['mismatches']} formula cells differ from xlbridge "
                  f"{res[key]['mismatch_examples'][:2]}")
    if "formulas" in res:
        for rows, f in res["formulas"].items():
            if rows != "extrapolated":
                print(f"formulas at {rows} rows: {f}")

    if "scaling" in res:
        print(f"\n{'rows':>8}{'formulas':>10}{'xlbridge':>11}{'round trip':>12}{'ratio':>7}"
              f"{'xlbridge ms/1k rows':>21}")
        for s in res["scaling"]:
            x, b = s["xlbridge"]["best"], s["roundtrip"]["best"]
            print(f"{s['rows']:>8,}{s['formulas']:>10,}{fmt_s(x):>11}{fmt_s(b):>12}"
                  f"{x / b:>6.1f}×{x / s['rows'] * 1e6:>21.0f}")
    if "memory" in res:
        m = res["memory"]
        print(f"peak memory, {m['rows']:,} rows, fresh process: {m['peak_mb']:.0f} MB "
              f"(after imports {m['after_imports_mb']:.0f} MB) — target < {TARGETS['peak_mb']:.0f}")
    if "batch" in res:
        b = res["batch"]
        print(f"{b['files']:,} workbooks of {b['rows']} rows: --jobs {args.jobs} "
              f"{fmt_s(b[f'jobs{args.jobs}']['best'])}, --jobs 1 {fmt_s(b['jobs1']['best'])} — "
              f"target < {TARGETS['batch_seconds']:.0f} s")

    if "head_to_head" in res:
        h = res["head_to_head"]
        print(f"\nhead to head, {h['twin']['runs']} interleaved rounds (median of the rounds; "
              "ratio = the median of each round's own ratio, [min–max]):")
        for k, label in (("twin", "xlbridge, native twin (recompute_one)"),
                         ("formualizer", "formualizer, twin"),
                         ("roundtrip_twin", "round trip, twin"),
                         ("perf", "xlbridge, PERF template (recompute_one)"),
                         ("roundtrip_perf", "round trip, PERF template")):
            if k in h:
                print(f"  {label:45}{fmt_s(h[k]['median']):>9}  (best {fmt_s(h[k]['best'])})")
        for k, label in (("twin", "CPU time: xlbridge, native twin"),
                         ("formualizer", "CPU time: formualizer, twin (all its threads)")):
            if k in h.get("cpu", {}):
                c = h["cpu"][k]
                print(f"  {label:45}{fmt_s(c['median']):>9}  (best {fmt_s(c['best'])})")
        for k, label in (("formualizer_vs_twin", "formualizer ÷ xlbridge twin"),
                         ("formualizer_vs_twin_cpu", "the same in CPU time"),
                         ("twin_vs_roundtrip", "xlbridge twin ÷ its round trip"),
                         ("perf_vs_roundtrip", "xlbridge PERF ÷ its round trip")):
            if k in h["ratios"]:
                r = h["ratios"][k]
                print(f"  {label:45}{r['median']:>8.2f}×  [{r['min']:.2f}–{r['max']:.2f}]")

    # ---- verdicts
    print("\ntargets:")

    def verdict(ok: bool | None, text: str) -> None:
        mark = "n/a " if ok is None else ("MET " if ok else "MISS")
        print(f"  [{mark}] {text}")

    verdict(ours < TARGETS["seconds_2000"],
            f"{n}-row template < 0.3 s: in-process {ours:.3f} s")
    if "cli_perf" in res:
        cli = res["cli_perf"]["best"]
        verdict(cli < TARGETS["seconds_2000"],
                f"{n}-row template < 0.3 s as a CLI run (with interpreter start-up): {cli:.3f} s")
    if "lo_net" in res:
        r_net = res["lo_net"]["best"] / ours
        r_raw = res["lo_raw"]["best"] / res.get("cli_perf", {}).get("best", ours)
        verdict(r_net >= TARGETS["vs_libreoffice"],
                f"≥ 4× faster than LibreOffice: {r_net:.1f}× (net of start-up, in-process "
                f"xlbridge); {r_raw:.1f}× raw (LibreOffice and the xlbridge CLI, both with "
                "start-up)")
    if "pycel" in res and "total" in res["pycel"]:
        r = res["pycel"]["total"] / ours
        verdict(r >= TARGETS["vs_pycel"], f"≥ 20× faster than pycel: {r:.0f}×")
    h2h = res.get("head_to_head", {}).get("ratios", {})
    if "formualizer_vs_twin" in h2h:
        r = h2h["formualizer_vs_twin"]["median"]
        verdict(r >= TARGETS["vs_formualizer"], f"≥ 2× faster than formualizer on the "
                f"{n}-row native twin, interleaved rounds: {r:.2f}× (median of the rounds)")
    if "twin_vs_roundtrip" in h2h:
        r = h2h["twin_vs_roundtrip"]["median"]
        verdict(r <= TARGETS["vs_roundtrip"], f"twin within 3× of its round trip, interleaved "
                f"rounds: {r:.2f}× (median of the rounds)")
        r = h2h["perf_vs_roundtrip"]["median"]
        verdict(r <= TARGETS["vs_roundtrip"], f"PERF template within 3× of its round trip, "
                f"interleaved rounds: {r:.2f}× (median of the rounds)")
    if "formualizer" in res:
        r = res["formualizer"]["best"] / res["xlbridge_twin"]["best"]
        verdict(r >= TARGETS["vs_formualizer"], f"≥ 2× faster than formualizer on the "
                f"{n}-row native twin: {r:.2f}× (formualizer "
                f"{res['formualizer']['best']:.3f} s, xlbridge {res['xlbridge_twin']['best']:.3f}"
                f" s); IronCalc {res.get('ironcalc', {}).get('best', float('nan')):.3f} s")
        r = res["xlbridge_twin"]["best"] / res["roundtrip_twin"]["best"]
        verdict(r <= TARGETS["vs_roundtrip"], f"twin within 3× of its round trip: {r:.1f}× "
                f"(round trip {res['roundtrip_twin']['best']:.3f} s)")
    r = ours / res["roundtrip"]["best"]
    r_shared = res["xlbridge_shared"]["best"] / res["roundtrip_shared"]["best"]
    verdict(r <= TARGETS["vs_roundtrip"], f"within 3× of the round trip: {r:.1f}× "
            f"({r_shared:.1f}× on the shared-formula layout)")
    if "batch" in res:
        t = res["batch"][f"jobs{args.jobs}"]["best"]
        verdict(t < TARGETS["batch_seconds"],
                f"{res['batch']['files']:,} × {res['batch']['rows']} rows, --jobs {args.jobs} "
                f"< 60 s: {t:.1f} s")
    if "memory" in res:
        m = res["memory"]
        verdict(m["peak_mb"] < TARGETS["peak_mb"],
                f"peak < 300 MB at {m['rows']:,} rows: {m['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
