"""`xlbridge recompute` says loudly when a workbook's results are not the engine's (issue #8):
error cells are counted and listed with their reasons, the sheets' own formulas are audited
against the scheme, ties at quota lines are reported — and the exit status is 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from tests.conftest import SCHEMES
from xlbridge.cli import main

TEMPLATES = Path(__file__).resolve().parents[2] / "workbooks" / "templates"
COUNTY = TEMPLATES / "县直部门绩效评估-2016.xlsx"
MEILING = TEMPLATES / "梅岭街道季度绩效考核.xlsx"


def run(*args: str):
    return CliRunner().invoke(main, ["recompute", *args], catch_exceptions=False)


def _set(path: Path, sheet: str, cell: str, value: object) -> None:
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)


def _header_cell(path: Path, sheet: str, header: str) -> tuple[int, int]:
    ws = openpyxl.load_workbook(path)[sheet]
    return next((c.row, c.column) for row in ws.iter_rows(max_row=20) for c in row
                if c.value == header)


def test_shipped_templates_recompute_clean_and_report_their_ties(tmp_path):
    for f in TEMPLATES.glob("*.xlsx"):
        shutil.copy(f, tmp_path / f.name)
    out = run(str(tmp_path))
    assert out.exit_code == 0, out.output
    assert "errors" not in out.output and "differs" not in out.output
    # 县直部门: 人社局 and 卫生局 tie at 92.4 on the 8th place, also on the declared keys
    assert "“先进”名额线上并列：第 21、28 行同为 92.4 分" in out.output.replace("\n", "")


def test_one_text_cell_makes_the_workbook_an_error_with_the_reason(tmp_path):
    book = tmp_path / COUNTY.name
    shutil.copy(COUNTY, book)
    row, col = _header_cell(book, "评估表", "指标评估·中期评估·实际完成")
    ws_cell = openpyxl.utils.get_column_letter(col) + str(row + 3)
    _set(book, "评估表", ws_cell, "八十六")
    out = run(str(book))
    assert out.exit_code == 1
    status = next(line for line in out.output.splitlines() if "有错误值（" in line)
    count = int(status.split("有错误值（")[1].split("）")[0])
    assert count >= 62                       # every 等次 and 奖金 of the withheld group
    text = out.output.replace("\n", "")
    assert "八十六" in text and "组内排名/名额无法确定" in text


def test_a_misspelt_scheme_id_is_an_error_naming_the_cell(tmp_path):
    book = tmp_path / COUNTY.name
    shutil.copy(COUNTY, book)
    _set(book, "参数", "B3", "county-dept-2061@1")
    out = run(str(book))
    assert out.exit_code == 1
    text = out.output.replace("\n", "")
    assert "county-dept-2061" in text and "评估表!" in text and "#N/A" in text


def test_own_formulas_computing_another_version_are_listed(tmp_path):
    # 梅岭 version 2 weighs 工作考评 70% and 党政领导测评 30%; the template's own 考评得分
    # formula still adds 60% + 40%: every row where that changes the total is listed
    schemes = tmp_path / "schemes"
    schemes.mkdir()
    text = (SCHEMES / "meiling-street-quarterly.yaml").read_text(encoding="utf-8")
    v2 = text.replace("version: 1", "version: 2", 1).replace(
        "weight: 60%", "weight: 70%", 1).replace("weight: 40%", "weight: 30%", 1)
    (schemes / "ml2.yaml").write_text(v2, encoding="utf-8")
    book = tmp_path / MEILING.name
    shutil.copy(MEILING, book)
    _set(book, "参数", "B3", "meiling-street-quarterly@2")
    out = run(str(book), "--schemes", str(schemes))
    assert out.exit_code == 1, out.output
    assert "与方案不一致（" in out.output
    text = out.output.replace("\n", "")
    assert "本表自算结果与方案不一致" in text
    assert "考评得分（表内公式）" in text and "方案 meiling-street-quarterly@2 算得" in text
    # and the same sheet under the version it was made for agrees
    shutil.copy(MEILING, book)
    assert run(str(book)).exit_code == 0


def test_the_report_lists_errors_and_differences(tmp_path):
    book = tmp_path / COUNTY.name
    shutil.copy(COUNTY, book)
    _set(book, "参数", "B3", "no-such-scheme@1")
    report = tmp_path / "r.csv"
    out = run(str(book), "--report", str(report))
    assert out.exit_code == 1
    import csv

    rows = list(csv.DictReader(report.open(encoding="utf-8-sig")))
    assert rows[0]["状态"].startswith("有错误值（") and "no-such-scheme" in rows[0]["错误值单元格"]
    html = tmp_path / "r.html"
    run(str(book), "--report", str(html))
    assert "no-such-scheme" in html.read_text(encoding="utf-8")


def test_error_cells_of_one_cause_in_one_column_read_as_one_line():
    from xlbridge.batch import runs_of_cells

    lines = [f"表!C{r}: #N/A: 同组第 8 行数据有误" for r in range(6, 10)]
    lines += ["表!D6: #N/A: 同组第 8 行数据有误", "表!C11: #N/A: 同组第 8 行数据有误",
              "表!C12: #VALUE!: 应为数字"]
    assert runs_of_cells(lines) == [
        "表!C6:C9（4 处）: #N/A: 同组第 8 行数据有误", "表!C11: #N/A: 同组第 8 行数据有误",
        "表!C12: #VALUE!: 应为数字", "表!D6: #N/A: 同组第 8 行数据有误"]
    # rows interleaved as a sheet lists them (row by row) still group by column
    mixed = [f"表!{c}{r}: #N/A: 暂缓" for r in range(6, 9) for c in "AB"]
    assert runs_of_cells(mixed) == ["表!A6:A8（3 处）: #N/A: 暂缓", "表!B6:B8（3 处）: #N/A: 暂缓"]
