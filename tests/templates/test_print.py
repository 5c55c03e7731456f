"""The shipped templates print as a clerk files them: converted to PDF by LibreOffice, every
sheet is landscape, the main sheets one page wide with their header rows repeated, the 汇总
sheet (tables and chart) on one page."""

from __future__ import annotations

import subprocess
from pathlib import Path

import openpyxl

from tests.external_tools import require_tool

TEMPLATES = Path(__file__).resolve().parents[2] / "workbooks" / "templates"


def _pages(pdfinfo: str, pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run([pdfinfo, "-f", "1", "-l", "999", str(pdf)], capture_output=True,
                         text=True, check=True).stdout
    sizes = []
    for line in out.splitlines():
        if line.startswith("Page") and " size:" in line:
            w, _x, h = line.split("size:")[1].split()[:3]
            sizes.append((float(w), float(h)))
    return sizes


def test_templates_print_one_page_wide_landscape_and_the_summary_on_one_page(tmp_path):
    soffice = require_tool("soffice")
    pdfinfo, pdftotext = require_tool("pdfinfo"), require_tool("pdftotext")
    files = sorted(TEMPLATES.glob("*.xlsx"))
    assert len(files) == 4
    proc = subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir",
         str(tmp_path / "pdf"), *map(str, files)],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    for f in files:
        wb = openpyxl.load_workbook(f)
        pdf = tmp_path / "pdf" / f"{f.stem}.pdf"
        sizes = _pages(pdfinfo, pdf)
        # one page per sheet: each main sheet fits one page wide (and its ≤ 32 records one
        # page tall), 汇总 with its chart one page, 参数 one page
        assert len(sizes) == len(wb.sheetnames), (f.name, sizes)
        assert all(w > h for w, h in sizes), (f.name, sizes)          # landscape
        text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout.split("\f")
        summary = text[wb.sheetnames.index("汇总")]
        assert "第 " in summary and "页，共" in summary                 # the footer
        for name in wb.sheetnames:
            ws = wb[name]
            assert ws.print_area, (f.name, name)
            assert ws.page_setup.orientation == "landscape"
            assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
            if name not in ("汇总", "参数"):
                assert ws.print_title_rows, (f.name, name)            # header rows repeat
                main = text[wb.sheetnames.index(name)]
                assert "总分" in main and "计分明细" not in main        # printed; aid left out
        assert wb["汇总"].page_setup.fitToHeight == 1
        assert wb["汇总"]._charts
