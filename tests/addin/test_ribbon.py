"""Ribbon handlers run against real xw.Book objects (xlwings' remote engine, built from a
sheet's JSON), asserting on the actions they send back to Excel."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from xlbridge import ribbon
from xlbridge.csvio import FIRST_ROW, read_records
from xlbridge.engine import score_population
from xlbridge.store import REPO_SCHEMES

from .conftest import actions, number, sheet_json

BL = "bailian-township"
ML = "meiling-street-quarterly"


def shipped(scheme_id: str) -> tuple[list[str], list[list[Any]]]:
    path = REPO_SCHEMES / f"{scheme_id}.records.csv"
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    return rows[0], [[number(c) for c in r] for r in rows[1:]]


def engine_results(store, scheme_id: str):
    cs = store.get(scheme_id)
    data = read_records(REPO_SCHEMES / f"{scheme_id}.records.csv", cs.inputs)
    return score_population(cs, data.rows, explain=True, first_row=FIRST_ROW)


def set_values(book) -> list[dict[str, Any]]:
    return actions(book, "setValues")


def cell(a: dict[str, Any]) -> tuple[int, int]:
    return a["start_row"] + 1, a["start_column"] + 1   # the actions count from 0


@pytest.fixture
def meiling_book(make_book):
    header, rows = shipped(ML)
    title = ["梅岭街道2026年第一季度绩效考核"] + [None] * (len(header) + 3)
    values = [title, [*header, "总分", "等次", "奖金", "计分明细"]]
    values += [[*r, None, None, None, None] for r in rows]
    return make_book([sheet_json("一季度", values), sheet_json("说明", [["填表说明"]])])


def test_recompute_sheet_round_trips_the_shipped_records(store, meiling_book):
    result = ribbon.recompute_sheet(meiling_book)
    expected = engine_results(store, ML)
    header, rows = shipped(ML)
    writes = set_values(meiling_book)
    assert len(writes) == 4                      # one write per output column, not per cell
    by_column = {cell(a)[1]: a for a in writes}
    n = len(header)
    total, grade, payout, explain = (by_column[n + 1 + i] for i in range(4))
    assert all(cell(a)[0] == 3 for a in writes)  # first record under the header on row 2
    assert total["values"] == [[float(r.total)] for r in expected.records]
    assert grade["values"] == [[r.grade_text] for r in expected.records]
    assert payout["values"] == [[float(r.payout)] for r in expected.records]
    assert explain["values"][0][0].startswith("工作考评（60分）")
    assert result.records == len(rows) and not result.invalid
    assert result.grades == {k: v for k, v in expected.grade_counts().items()}
    formats = actions(meiling_book, "setNumberFormat")
    assert [f["args"] for f in formats] == [["0.0"], ["0.00"]]   # rounding: 1 place, payout 2
    assert [(f["start_column"] + 1, f["row_count"]) for f in formats] == \
        [(n + 1, len(rows)), (n + 3, len(rows))]
    names = {a["args"][0]: a["args"][1] for a in actions(meiling_book, "namesAdd")}
    assert names[ribbon.SCHEME_NAME] == '="meiling-street-quarterly@1"'
    assert "xlbridge" in names[ribbon.COMPUTED_NAME]
    (alert,) = actions(meiling_book, "alert")
    assert "24 条记录" in alert["args"][0] and "奖金合计" in alert["args"][0]


def test_recompute_appends_outputs_when_the_template_has_none(store, make_book):
    header, rows = shipped(BL)
    book = make_book([sheet_json("白莲", [header, *rows])])
    ribbon.recompute_sheet(book, alert=False)
    head, block = set_values(book)
    assert cell(head) == (1, len(header) + 1)
    assert head["values"] == [[h[0] for h in ribbon.OUTPUT_HEADERS.values()]]
    assert cell(block) == (2, len(header) + 1) and len(block["values"]) == len(rows)
    expected = engine_results(store, BL)
    assert [r[0] for r in block["values"]] == [float(r.total) for r in expected.records]
    assert [r[1] for r in block["values"]] == [r.grade_text for r in expected.records]
    assert block["values"][6][4] == "取消当年评先评优资格或奖金"    # 大坪村: 一票否决 flag
    assert [f["args"] for f in actions(book, "setNumberFormat")] == [["0.00"], ["0.00"], ["0"]]


def test_bad_data_is_reported_not_computed(store, make_book):
    header, rows = shipped(BL)
    rows[2][1] = "九十三"        # 石岭村 指标考核
    rows[4][2] = "#N/A"          # 河西村 公众评议 (an error value, as err_to_str reads it)
    book = make_book([sheet_json("白莲", [[*header, "总分", "等次", "计分明细"],
                                          *[[*r, None, None, None] for r in rows]])])
    result = ribbon.recompute_sheet(book, alert=False)
    assert [row for row, _msg in result.invalid] == [4, 6]
    total, grade, explain = set_values(book)
    assert total["values"][2] == [""] and grade["values"][2] == [""]   # None is written empty
    assert explain["values"][2][0].startswith("数据有误：[指标考核]：应为数字，实际为“九十三”")
    report = ribbon.check_sheet(book, alert=False)
    assert [(a, label) for a, label, _m in report.invalid] == [("B4", "指标考核"),
                                                                 ("C6", "公众评议")]
    assert any(a["func"] == "addSheet" and ribbon.REPORT_SHEET in a["args"]
               for a in book.json()["actions"])
    notes = actions(book, "addNote")
    assert [n["args"][0] for n in notes] == ["$B$4", "$C$6"]
    assert "应为数字" in notes[0]["args"][1]
    written = set_values(book)[-1]["values"]
    assert written[5][:2] == ["B4", "指标考核"] and "白莲" in [r[0] for r in written]


def test_check_sheet_warns_when_a_newer_version_is_published(store, make_book):
    header, rows = shipped(BL)
    text = (REPO_SCHEMES / "bailian-township.yaml").read_text(encoding="utf-8")
    (Path(store.dirs[0]) / "bl2.yaml").write_text(text.replace("version: 1", "version: 2", 1),
                                                  encoding="utf-8")
    names = [{"name": ribbon.SCHEME_NAME, "refers_to": f'="{BL}@1"', "sheet_index": None,
              "address": None, "book_scope": False, "scope_sheet_name": "白莲",
              "scope_sheet_index": 0}]
    book = make_book([sheet_json("白莲", [header, *rows])], names=names)
    report = ribbon.check_sheet(book)
    assert report.scheme == f"{BL}@1" and report.newest == f"{BL}@2" and report.outdated
    alert = actions(book, "alert")[0]["args"][0]
    assert f"已发布新版本 {BL}@2" in alert and "XLBRIDGE_SCHEME" in alert
    assert report.sheets[0][1].startswith(f"{BL}@1") and f"已有新版本 {BL}@2" in report.sheets[0][1]
    # recomputing keeps the version the workbook was computed with
    assert ribbon.recompute_sheet(book, alert=False).scheme == f"{BL}@1"
    assert [a["args"][0] for a in actions(book, "namesAdd")] == [ribbon.COMPUTED_NAME]
    assert not actions(book, "setNameRefersTo")


def test_a_sheet_without_records_says_why(store, make_book):
    book = make_book([sheet_json("说明", [["填表说明"], ["第一行"]])])
    with pytest.raises(ribbon.NoLayout, match="找不到表头行"):
        ribbon.recompute_sheet(book)
    ribbon.run("recompute_sheet", book)           # the button: a message, not a traceback
    (alert,) = actions(book, "alert")
    assert "找不到表头行" in alert["args"][0]
    report = ribbon.check_sheet(book, alert=False)
    assert report.problem and "找不到表头行" in report.problem


def test_run_turns_a_failure_into_a_message(store, make_book, monkeypatch):
    book = make_book([sheet_json("x", [["a"]])])

    def boom(b):
        raise KeyError("oops")

    monkeypatch.setitem(ribbon.ACTIONS, "about", boom)
    ribbon.run("about", book)
    assert actions(book, "alert")[0]["args"][0] == "出错了：KeyError: 'oops'"


def test_recompute_workbook_does_every_sheet_with_records(store, make_book):
    bh, brows = shipped(BL)
    mh, mrows = shipped(ML)
    book = make_book([sheet_json("白莲", [bh, *brows]), sheet_json("说明", [["填表说明"]]),
                      sheet_json("梅岭", [mh, *mrows])])
    results = ribbon.recompute_workbook(book)
    assert [(r.sheet, r.scheme) for r in results] == [("白莲", f"{BL}@1"), ("梅岭", f"{ML}@1")]
    alert = actions(book, "alert")[0]["args"][0]
    assert "未计算的工作表（没有方案的表头）：说明" in alert
    assert {a["sheet_position"] for a in set_values(book)} == {0, 2}


def test_about_lists_versions_schemes_and_functions(store, make_book):
    book = make_book([sheet_json("x", [["a"]])])
    text = ribbon.about(book)
    assert "xlbridge" in text and "xlwings" in text and f"{ML}@1" in text
    assert "PERF_GRADES" in text and actions(book, "alert")[0]["args"][0] == text


TEMPLATES = sorted((Path(__file__).parents[2] / "workbooks" / "templates").glob("*.xlsx"))


def template_book(make_book, path: Path):
    """A shipped template as Excel's client would send it: every sheet's values and the
    workbook's defined names (方案 → 参数!$B$3, 表头 …)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True)
    return book_of(make_book, wb), wb


def book_of(make_book, wb, edit=None):
    """An openpyxl workbook's values and defined names as an xw.Book; ``edit(sheets)`` may
    change the sheets' values first."""
    sheets = [sheet_json(ws.title, [list(r) for r in ws.iter_rows(values_only=True)] or [[]])
              for ws in wb.worksheets]
    if edit is not None:
        edit(sheets)
    names = []
    for name, dn in wb.defined_names.items():
        (sheet, address), = dn.destinations
        names.append({"name": name, "sheet_index": wb.sheetnames.index(sheet),
                      "address": address, "book_scope": True, "scope_sheet_name": None,
                      "scope_sheet_index": None, "refers_to": f"={dn.attr_text}"})
    return make_book(sheets, names=names)


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_shipped_templates_recompute(store, make_book, template):
    """重算全部 on every shipped template computes each demo record with the scheme the
    template pins (方案 on its 参数 sheet), stops at the 合计/平均 rows, finds no bad data, and
    agrees with xlbridge score on the same records."""
    book, wb = template_book(make_book, template)
    pinned = wb["参数"]["B3"].value
    results = ribbon.recompute_workbook(book, alert=False)
    assert results, "no sheet recomputed"
    assert {r.scheme for r in results} == {pinned}
    assert all(not r.invalid and not r.withheld for r in results), \
        [r.summary() for r in results]
    expected = engine_results(store, pinned.split("@")[0])
    assert sum(r.records for r in results) == len(expected.records)
    if len(results) == 1:       # one table: the same grades as xlbridge score
        assert results[0].grades == {k: v for k, v in expected.grade_counts().items()}
    # each sheet is pinned to the template's version, not to the newest one
    names = {a["args"][0]: a["args"][1] for a in actions(book, "namesAdd")}
    assert names.get(ribbon.SCHEME_NAME) == f'="{pinned}"'
    # values and formats written back: the 总分 column holds what the template's own
    # PERF_SCORE cells hold (the committed file's stored values), formatted as the scheme
    # rounds totals; one write per column
    cs = store.get(pinned)
    digits = cs.scheme.rounding.total.digits
    for r in results:
        ws = wb[r.sheet]
        header_row, col = next((c.row, c.column) for row in ws.iter_rows(max_row=20)
                               for c in row if c.value == "总分")
        stored = [ws.cell(header_row + 1 + i, col).value for i in range(r.records)]
        writes = [a for a in set_values(book)
                  if cell(a) == (header_row + 1, col) and len(a["values"]) == r.records]
        assert len(writes) == 1, r.sheet
        assert [v[0] for v in writes[0]["values"]] == pytest.approx(stored), r.sheet
        formats = [f["args"] for f in actions(book, "setNumberFormat")
                   if (f["start_row"] + 1, f["start_column"] + 1) == (header_row + 1, col)]
        assert formats == [["0" if digits <= 0 else "0." + "0" * digits]], r.sheet


def test_check_sheet_warns_about_a_template_pinned_to_an_older_version(store, make_book):
    """A newer published version: 检查本表 says the template still computes with its pinned
    one (the 方案 cell), and 重算本表 keeps computing with it."""
    template = next(t for t in TEMPLATES if "梅岭" in t.name)
    text = (REPO_SCHEMES / f"{ML}.yaml").read_text(encoding="utf-8")
    (Path(store.dirs[0]) / "ml2.yaml").write_text(text.replace("version: 1", "version: 2", 1),
                                                  encoding="utf-8")
    book, _wb = template_book(make_book, template)
    report = ribbon.check_sheet(book, alert=False)
    assert report.scheme == f"{ML}@1" and report.newest == f"{ML}@2" and report.outdated
    assert not report.invalid, report.invalid
    assert ribbon.recompute_sheet(book, alert=False).scheme == f"{ML}@1"


def test_check_sheet_audits_the_sheets_own_results_and_lists_error_cells(store, make_book):
    """检查本表 compares each row's own 总分/等次/奖金/排名 with the scheme's result: a template
    whose 方案 cell now names a version with other weights lists every row that differs, and
    cells showing an error value are listed by address."""
    template = next(t for t in TEMPLATES if "梅岭" in t.name)
    text = (REPO_SCHEMES / f"{ML}.yaml").read_text(encoding="utf-8")
    v2 = text.replace("version: 1", "version: 2", 1).replace(
        "weight: 60%", "weight: 70%", 1).replace("weight: 40%", "weight: 30%", 1)
    (Path(store.dirs[0]) / "ml2.yaml").write_text(v2, encoding="utf-8")
    book, wb = template_book(make_book, template)
    report = ribbon.check_sheet(book, alert=False)
    assert report.scheme == f"{ML}@1" and not report.differences, report.differences
    # the same sheet pinned to version 2: its stored results are version 1's
    wb["参数"]["B3"] = f"{ML}@2"

    def error_cell(sheets):                                    # a cell showing an error
        first = sheets[0]["values"]
        header_row = next(i for i, r in enumerate(first) if "考评得分（表内公式）" in r)
        first[header_row + 1][first[header_row].index("奖金标准(元)")] = "#VALUE!"

    report = ribbon.check_sheet(book_of(make_book, wb, error_cell), alert=False)
    assert report.scheme == f"{ML}@2"
    assert any("考评得分（表内公式）" in d and f"方案 {ML}@2 算得" in d
               for d in report.differences), report.differences
    assert any(code == "#VALUE!" for _a, code in report.error_cells)
    assert "处本表自算结果与方案不一致" in report.summary()


def test_export_report_writes_the_sheets_notice_as_pdf_and_html(store, meiling_book, tmp_path):
    from tests.external_tools import require_tool

    pdftotext = require_tool("pdftotext")
    written = ribbon.export_report(meiling_book, store=store, alert=False, out_dir=tmp_path)
    assert [p.suffix for p in written] == [".pdf", ".html"]
    assert written[0].name == "考核表-一季度-公示.pdf"
    import subprocess

    text = subprocess.run([pdftotext, "-layout", str(written[0]), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "梅岭街道2026年第一季度绩效考核结果公示" in text       # the sheet's own title
    expected = engine_results(store, ML)
    header, rows = shipped(ML)
    names = [r[header.index("姓名")] for r in rows]
    for name, r in zip(names, expected.records, strict=True):
        line = next(x for x in text.splitlines() if f" {name} " in f" {x} ")
        assert r.grade_text in line, line
