"""The 公示 report and the blank input template, read back with tools we did not write:
poppler (pdftotext, pdftoppm, pdffonts, pdfinfo) and openpyxl."""

from __future__ import annotations

import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import SCHEMES
from tests.external_tools import require_tool
from xlbridge import udfs
from xlbridge.cli import main
from xlbridge.csvio import read_records
from xlbridge.engine import score_population
from xlbridge.store import SchemeStore

MEILING = SCHEMES / "meiling-street-quarterly.records.csv"
COUNTY = SCHEMES / "county-dept-2016.records.csv"


def _scored(scheme: str, csv_path: Path):
    cs = SchemeStore([SCHEMES]).get(scheme)
    data = read_records(csv_path, cs.inputs)
    return cs, data, score_population(cs, data.rows, first_row=data.row_numbers)


def _pdf(tmp_path: Path, scheme: str, csv_path: Path, *extra: str) -> Path:
    target = tmp_path / "公示.pdf"
    done = CliRunner().invoke(main, ["report", "--scheme", scheme, "--input", str(csv_path),
                                     "-o", str(target), *extra])
    assert done.exit_code == 0, done.output
    return target


def test_report_pdf_lists_every_name_and_grade_on_a4_portrait(tmp_path):
    pdftotext = require_tool("pdftotext")
    target = _pdf(tmp_path, "meiling-street-quarterly", MEILING, "--period", "2016年第二季度")
    text = subprocess.run([pdftotext, "-layout", str(target), "-"], capture_output=True,
                          text=True, check=True).stdout
    _cs, data, pop = _scored("meiling-street-quarterly", MEILING)
    lines = text.splitlines()
    for raw, r in zip(data.rows, pop.records, strict=True):
        line = next(x for x in lines if f" {raw['name']} " in f" {x} ")
        assert r.grade_text in line and f"{r.total:.1f}" in line, (raw["name"], line)
    assert "梅岭街道机关事业单位工作人员季度绩效考核结果公示" in text
    assert "考核期：2016年第二季度" in text and "meiling-street-" in text
    for group in ("考核类别：科级干部", "考核类别：中层干部", "考核类别：一般工作人员"):
        assert group in text
    flowing = "".join(subprocess.run([pdftotext, str(target), "-"], capture_output=True,
                                     text=True, check=True).stdout.split())
    assert "超出名额，由“良好”降为“称职”" in flowing           # a quota move, said why
    assert "当季旷工累计超过2个工作日→确定为“不称职”" in flowing  # a forced grade
    assert "等次分布" in text
    info = subprocess.run([require_tool("pdfinfo"), str(target)], capture_output=True,
                          text=True, check=True).stdout
    pages = int(next(x for x in info.splitlines() if x.startswith("Pages:")).split()[1])
    assert "595.276 x 841.89 pts (A4)" in info and pages >= 2
    # the table header is repeated at the top of every page that continues a table
    page_texts = text.split("\f")
    assert all("名次" in p for p in page_texts[:pages - 1])     # (the last: the chart)
    fonts = subprocess.run([require_tool("pdffonts"), str(target)], capture_output=True,
                           text=True, check=True).stdout
    cjk = [x for x in fonts.splitlines() if "CJK" in x]
    assert cjk and all(" yes yes " in x for x in cjk)                # embedded, subset


def test_report_pdf_renders_to_pixels(tmp_path):
    pdftoppm = require_tool("pdftoppm")
    from PIL import Image

    target = _pdf(tmp_path, "county-dept-2016", COUNTY)
    subprocess.run([pdftoppm, "-r", "40", "-png", "-f", "1", "-l", "1", str(target),
                    str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    assert image.width < image.height                                # portrait
    dark = sum(image.histogram()[:128])
    assert dark > image.width * image.height * 0.01                  # text was drawn


def test_report_names_vetoes_and_the_html_is_self_contained(tmp_path):
    html = tmp_path / "公示.html"
    done = CliRunner().invoke(main, ["report", "--scheme", "county-dept-2016", "--input",
                                     str(COUNTY), "-o", str(html), "--title",
                                     "2016年度考核结果公示"])
    assert done.exit_code == 0, done.output
    page = html.read_text(encoding="utf-8")
    assert "<h1>2016年度考核结果公示</h1>" in page and "<svg" in page and "<thead>" in page
    _cs, data, pop = _scored("county-dept-2016", COUNTY)
    for raw, r in zip(data.rows, pop.records, strict=True):
        assert raw["unit_name"] in page and r.grade_text in page
    assert "@page" in page and "A4 portrait" in page
    done = CliRunner().invoke(main, ["report", "--scheme", "county-dept-2016", "--input",
                                     str(COUNTY), "-o", str(tmp_path / "x.xlsx")])
    assert done.exit_code == 2 and "公示表应为 .pdf 或 .html 文件" in done.output


# ----------------------------------------------------------------------------- blank template


def test_blank_template_has_validation_prompts_and_the_results_formula(tmp_path):
    target = tmp_path / "新表.xlsx"
    done = CliRunner().invoke(main, ["template", "--scheme", "梅岭", "-o", str(target),
                                     "--rows", "30"])
    assert done.exit_code == 0, done.output
    cs = SchemeStore([SCHEMES]).get("meiling-street-quarterly")
    wb = openpyxl.load_workbook(target)
    ws = wb["录入表"]
    header = [c.value for c in ws[4]]
    n = len(cs.inputs)
    assert header[:n] == [s.label for s in cs.inputs]
    assert header[n:] == ["总分", "等次", "奖金", "排名", "标记"]
    assert ws["B2"].value == "meiling-street-quarterly@1"            # pinned
    assert wb.defined_names["方案"].attr_text == "录入表!$B$2"
    formula = ws.cell(5, n + 1).value
    assert formula.text.startswith("=PERF_RESULTS(方案,$A$5:$")
    assert formula.ref.endswith("34")
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    for j, spec in enumerate(cs.inputs, start=1):
        letter = openpyxl.utils.get_column_letter(j)
        dv = validations[f"{letter}5:{letter}34"]
        assert dv.prompt and dv.showInputMessage, spec.id
        if spec.type == "bool":
            assert dv.formula1 == '"是,否"'
        elif spec.type == "label":
            assert dv.type == "list" and all(x in dv.formula1 for x in spec.labels)
        elif spec.type == "count":
            assert dv.type == "whole" and dv.formula1 == "0"
        elif spec.type == "number" and spec.max is not None:
            assert dv.type == "decimal" and dv.formula2 is not None
    late = validations[f"{openpyxl.utils.get_column_letter(_col(cs, 'late'))}5:" +
                       f"{openpyxl.utils.get_column_letter(_col(cs, 'late'))}34"]
    assert "004:" in late.prompt                                     # the seed line
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$4:$4"


def _col(cs, input_id: str) -> int:
    return [s.id for s in cs.inputs].index(input_id) + 1


@pytest.mark.skipif("PERF_RESULTS" not in udfs.FUNCTIONS,
                    reason="PERF_RESULTS (issue #8) has not landed yet")
def test_a_filled_blank_template_recomputes_with_no_errors(tmp_path):
    target = tmp_path / "新表.xlsx"
    cs, data, pop = _scored("meiling-street-quarterly", MEILING)
    done = CliRunner().invoke(main, ["template", "--scheme", "meiling-street-quarterly",
                                     "-o", str(target), "--rows", str(len(data.rows))])
    assert done.exit_code == 0
    wb = openpyxl.load_workbook(target)
    ws = wb["录入表"]
    for i, row in enumerate(data.rows):
        for j, spec in enumerate(cs.inputs, start=1):
            value = row.get(spec.id, "")
            ws.cell(5 + i, j, float(value) if spec.type in ("number", "count") and value
                    else (value or None))
    wb.save(target)
    done = CliRunner().invoke(main, ["recompute", str(target)])
    assert done.exit_code == 0, done.output
    assert "1 个已重算，0 个未重算" in done.output and "unsupported" not in done.output
    assert "录入表!" not in done.output                  # no cell reported
    values = openpyxl.load_workbook(target, data_only=True)["录入表"]
    n = len(cs.inputs)
    for i, r in enumerate(pop.records):
        assert values.cell(5 + i, n + 1).value == float(r.total)
        assert values.cell(5 + i, n + 2).value == (r.grade_text or None)
        assert values.cell(5 + i, n + 3).value == float(r.payout)
        assert values.cell(5 + i, n + 4).value == r.rank


def test_report_headings_in_chinese_and_in_english(tmp_path):
    """The same report rendered by the real CLI in each language: the headings, column names
    and notes come from the catalogue (the names, grades and group titles are the scheme's
    and the records' own, and stay as they are)."""
    import sys

    pdftotext = require_tool("pdftotext")
    texts = {}
    for lang in ("zh", "en"):
        target = tmp_path / f"report-{lang}.pdf"
        done = subprocess.run([sys.executable, "-m", "xlbridge.cli", "--lang", lang, "report",
                               "--scheme", "meiling-street-quarterly", "--input", str(MEILING),
                               "--period", "2016Q2", "-o", str(target)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        texts[lang] = subprocess.run([pdftotext, "-layout", str(target), "-"],
                                     capture_output=True, text=True, check=True).stdout
    zh, en = texts["zh"], texts["en"]
    # the text as it flows, spaces and line breaks taken out (a long line wraps)
    flat_zh, flat_en = ("".join(texts[lang].split()) for lang in ("zh", "en"))
    title = "梅岭街道机关事业单位工作人员季度绩效考核"
    assert f"{title}结果公示" in flat_zh and "考核期：2016Q2" in flat_zh
    assert f"方案：{title}（meiling-street-quarterly@1）" in flat_zh and "生成时间：" in flat_zh
    for heading in ("名次", "总分", "等次", "说明（名额调整、否决等）", "等次分布", "公示期："):
        assert heading in flat_zh, heading
    assert "第1页，共3页" in flat_zh
    assert f"{title}:results" in flat_en and "Period:2016Q2" in flat_en and "Made:" in flat_en
    assert f"Scheme:{title}(meiling-street-quarterly@1)" in flat_en
    for heading in ("Rank", "Total", "Grade", "Notes(quotamoves,vetoes…)",
                    "Gradedistribution", "page1of3"):
        assert heading in flat_en, heading
    for chinese in ("名次", "总分", "等次分布", "考核期", "生成时间", "公示期", "第1页"):
        assert chinese not in flat_en, chinese
    # the data is the same in both: every record's name and grade
    _cs, data, pop = _scored("meiling-street-quarterly", MEILING)
    for raw, r in zip(data.rows, pop.records, strict=True):
        for text in (zh, en):
            line = next(x for x in text.splitlines() if f" {raw['name']} " in f" {x} ")
            assert r.grade_text in line, (raw["name"], line)
