"""Timing of ``xlbridge.recompute`` against a bare zip/lxml round trip.

    python benchmarks/recompute_scaling.py [ROWS ...]

For each row count a typical appraisal template is generated (7 inputs and 6 formulas a row:
weighted total with ROUND, grade with nested IF, RANK, rank within department with COUNTIFS,
coefficient with VLOOKUP into a second sheet, bonus with a defined name), then timed:

* ``bare``: unzip every member, lxml-parse + serialize the sheet XML, re-zip everything;
* ``recompute``: :func:`xlbridge.recompute.recalc_workbook` end to end (read, compile,
  evaluate, write the file), best of 3, on a fresh copy each time.

Peak memory (``ru_maxrss``) of a separate child process is reported for the largest size.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from lxml import etree

DEPTS = ["办公室", "财务科", "人事科", "业务一科", "业务二科", "信息中心", "后勤科", "法规科"]


def make_template(path: Path, rows: int, shared: bool = False) -> None:
    import openpyxl
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "考核表"
    ws.append(["2024年度绩效考核"])
    ws.append([])
    ws.append([])
    ws.append(["工号", "姓名", "部门", "出勤", "业绩", "能力", "态度",
               "总分", "等级", "名次", "科室名次", "系数", "奖金"])
    first, last = 5, 4 + rows
    for i in range(rows):
        r = first + i
        ws.append([
            1000 + i, f"员工{i}", DEPTS[i % len(DEPTS)],
            60 + (i * 7) % 41, 55 + (i * 13) % 46, 50 + (i * 17) % 51, 70 + (i * 3) % 31,
            f"=ROUND(D{r}*0.2+E{r}*0.4+F{r}*0.2+G{r}*0.2,1)",
            f'=IF(H{r}>=90,"优秀",IF(H{r}>=80,"良好",IF(H{r}>=60,"合格","不合格")))',
            f"=RANK(H{r},$H${first}:$H${last})",
            f'=COUNTIFS($C${first}:$C${last},C{r},$H${first}:$H${last},">"&H{r})+1',
            f"=VLOOKUP(I{r},等级表!$A$2:$B$5,2,FALSE)",
            f"=ROUND(L{r}*奖金基数,2)",
        ])
    t = wb.create_sheet("等级表")
    t.append(["等级", "系数"])
    for g, k in [("优秀", 1.2), ("良好", 1.0), ("合格", 0.8), ("不合格", 0)]:
        t.append([g, k])
    t["D1"] = "基数"
    t["E1"] = 5000
    wb.defined_names["奖金基数"] = DefinedName("奖金基数", attr_text="等级表!$E$1")
    wb.save(path)
    if shared:
        _make_shared(path, first, last)


def _make_shared(path: Path, first: int, last: int) -> None:
    """Rewrite the formula columns as Excel does: one shared formula per column."""
    import re

    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    masters: dict[str, int] = {}

    def sub(m: re.Match[str]) -> str:
        col, row, formula = m.group(1), int(m.group(2)), m.group(3)
        if row < first:
            return m.group(0)
        if col not in masters:
            masters[col] = len(masters)
            return (f'<c r="{col}{row}"><f t="shared" ref="{col}{first}:{col}{last}" '
                    f'si="{masters[col]}">{formula}</f><v></v></c>')
        return f'<c r="{col}{row}"><f t="shared" si="{masters[col]}"/><v></v></c>'

    sheet = re.sub(r'<c r="([A-Z]+)(\d+)"><f>(.*?)</f><v\s*/?>(?:</v>)?</c>', sub, sheet)
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def bare_roundtrip(src: Path, dst: Path) -> float:
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


def time_recompute(src: Path, work: Path, repeat: int = 3) -> tuple[float, dict[str, float]]:
    from xlbridge.recompute import recalc_workbook

    best = float("inf")
    timings: dict[str, float] = {}
    for k in range(repeat):
        f = work / f"run{k}.xlsx"
        shutil.copy(src, f)
        t0 = time.perf_counter()
        rep = recalc_workbook(f)
        dt = time.perf_counter() - t0
        if rep.unsupported or rep.circular:
            raise SystemExit(f"unexpected issues: {rep.summary()}")
        if dt < best:
            best, timings = dt, dict(rep.timings)
    return best, timings


def child_peak(path: Path) -> float:
    """Peak RSS (MB) of a fresh process recomputing ``path``.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent."""
    code = ("import sys;from xlbridge.recompute import recalc_workbook;"
            "recalc_workbook(sys.argv[1]);"
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True)
    return int(out.stdout.strip()) / 1024.0


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if a.isdigit()] or [500, 2000, 8000, 50000]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for rows in sizes:
            for shared in (False, True):
                src = work / f"t{rows}{'s' if shared else ''}.xlsx"
                make_template(src, rows, shared)
                bare = min(bare_roundtrip(src, work / "bare.xlsx") for _ in range(3))
                rec, timings = time_recompute(src, work)
                row = {"rows": rows, "shared": shared, "formulas": rows * 6,
                       "bare_s": round(bare, 4), "recompute_s": round(rec, 4),
                       "ratio": round(rec / bare, 2),
                       "phases": {k: round(v, 4) for k, v in timings.items()}}
                if rows == max(sizes) and not shared:
                    shutil.copy(src, work / "peak.xlsx")
                    row["peak_rss_mb"] = round(child_peak(work / "peak.xlsx"), 1)
                results.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
