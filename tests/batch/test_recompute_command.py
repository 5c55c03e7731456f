"""`xlbridge recompute` end to end: PERF_* and native formulas, summary, reports, safety."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from xlbridge.cli import main

SCHEME = "bailian-township@1"
HEADER = ["单位", "指标考核", "公众评议", "察访核验扣分(分)", "一票否决或书面点名批评"]
ROWS = [["白莲村", 96, 87.5, 1.5, None], ["桥头村", 85, 80, None, None],
        ["石岭村", 70, 75, 3, "是"]]


def make_book(path: Path, rows=ROWS) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "考核"
    ws.append([*HEADER, "总分", "等次", "排名"])
    for i, r in enumerate(rows, start=2):
        ws.append([*r, f'=PERF_SCORE("{SCHEME}",A{i}:E{i},$A$1:$E$1)',
                   f'=PERF_GRADE(F{i},"{SCHEME}")', f"=RANK(F{i},$F$2:$F${len(rows) + 1})"])
    ws["K1"] = f"=ROUND(SUM(F2:F{len(rows) + 1}),1)"
    wb.save(path)
    return path


def values(path: Path) -> list[list]:
    return [[c.value for c in row] for row in openpyxl.load_workbook(path, data_only=True)
            .active.iter_rows()]


def run(*args: str):
    return CliRunner().invoke(main, ["recompute", *args], catch_exceptions=False)


def test_recompute_stores_perf_and_native_values(tmp_path):
    book = make_book(tmp_path / "a.xlsx")
    out = run(str(tmp_path))
    assert out.exit_code == 0, out.output
    v = values(book)
    # 白莲村: 96 × 80% + 87.5 × 20% − 1.5 = 76.8 + 17.5 − 1.5 = 92.8 → 优
    # 桥头村: 68 + 16 = 84 → 一般 (75 ≤ s < 85); 石岭村: 56 + 15 − 3 = 68 → 差
    assert [row[5:8] for row in v[1:]] == [[92.8, "优", 1], [84, "一般", 2], [68, "差", 3]]
    assert v[0][10] == 244.8
    assert "优:1 一般:1 差:1" in out.output and "bailian-township@1" in out.output
    # a second run changes nothing: same bytes
    before = book.read_bytes()
    assert run(str(book)).exit_code == 0
    assert book.read_bytes() == before


def test_formulas_are_kept_and_other_parts_untouched(tmp_path):
    book = make_book(tmp_path / "a.xlsx")
    original = {i.filename: zipfile.ZipFile(book).read(i) for i in zipfile.ZipFile(book).infolist()}
    run(str(book))
    after = zipfile.ZipFile(book)
    for name, data in original.items():
        if name != "xl/worksheets/sheet1.xml" and name != "xl/workbook.xml":
            assert after.read(name) == data, name
    wb = openpyxl.load_workbook(book)
    assert wb.active["F2"].value.startswith("=PERF_SCORE(")


def test_dry_run_backup_and_values_only(tmp_path):
    (tmp_path / "in").mkdir()
    book = make_book(tmp_path / "in" / "a.xlsx")
    before = book.read_bytes()
    assert run(str(tmp_path / "in"), "--dry-run").exit_code == 0
    assert book.read_bytes() == before
    out = run(str(tmp_path / "in"), "--backup", "--values-only", str(tmp_path / "公示"))
    assert out.exit_code == 0, out.output
    backups = list((tmp_path / "in").glob("a.backup-*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == before
    frozen = openpyxl.load_workbook(tmp_path / "公示" / "a.xlsx")
    ws = frozen.active
    assert ws["F2"].value == 92.8 and ws["G2"].value == "优"      # PERF_* frozen to values
    assert ws["H2"].value.startswith("=RANK(")                    # native formulas kept


def test_bad_files_are_skipped_with_a_reason_and_exit_1(tmp_path):
    make_book(tmp_path / "good.xlsx")
    (tmp_path / "legacy.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    report = tmp_path / "report.csv"
    out = run(str(tmp_path), str(tmp_path / "nope.xlsx"), "--report", str(report))
    assert out.exit_code == 1
    rows = {Path(r["工作簿"]).name: r for r in
            csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig")))}
    assert rows["good.xlsx"]["状态"] == "已重算"
    assert rows["legacy.xls"]["状态"] == "无法打开" and ".xls" in rows["legacy.xls"]["错误"]
    assert rows["broken.xlsx"]["状态"] == "无法打开"
    assert rows["nope.xlsx"]["状态"] == "找不到"
    assert values(tmp_path / "good.xlsx")[1][6] == "优"      # the good file was still done


def test_parallel_jobs_and_html_report(tmp_path):
    for i in range(4):
        make_book(tmp_path / f"b{i}.xlsx")
    report = tmp_path / "r.html"
    out = run(str(tmp_path), "--jobs", "2", "--report", str(report))
    assert out.exit_code == 0, out.output
    assert all(values(tmp_path / f"b{i}.xlsx")[1][5] == 92.8 for i in range(4))
    text = report.read_text(encoding="utf-8")
    assert "4 个文件：4 个已重算，0 个未重算；" in text and "<table>" in text


def test_unknown_scheme_and_bad_input_show_as_cell_errors(tmp_path):
    book = make_book(tmp_path / "a.xlsx", rows=[["白莲村", "九十六", 87.5, None, None]])
    out = run(str(book))
    v = values(book)
    assert v[1][5] == "#VALUE!" and v[1][6] == "#VALUE!"
    # results that are errors are never "ok": counted, listed by cell with the reason the
    # cell's PERF_EXPLAIN would give, and exit status 1 (issue #8)
    assert out.exit_code == 1, out.output
    # K1 (a total of the bad row), F2, G2 (the grade of an error) and H2
    assert "有错误值（4）" in out.output and "结果为错误值的单元格 4 处" in out.output
    assert "F2: #VALUE!" in out.output and "九十六" in out.output


def test_report_suffix_is_checked(tmp_path):
    out = run(str(tmp_path), "--report", str(tmp_path / "r.txt"))
    assert out.exit_code == 2 and "应为 .csv 或 .html 文件" in out.output


def test_schemes_folder_first(tmp_path):
    import shutil

    from tests.conftest import SCHEMES

    mine = tmp_path / "mine"
    mine.mkdir()
    text = (SCHEMES / "bailian-township.yaml").read_text(encoding="utf-8")
    # version 2 raises the bar for 优 from 90 to 93
    (mine / "b.yaml").write_text(text.replace("version: 1", "version: 2")
                                 .replace("{label: 优, at_least: 90", "{label: 优, at_least: 93")
                                 .replace("at_least: 85, below: 90", "at_least: 85, below: 93"),
                                 encoding="utf-8")
    book = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(['=PERF_GRADE(92.8,"bailian-township")'])
    wb.save(book)
    shutil.copy(book, tmp_path / "copy.xlsx")
    assert run(str(book), "--schemes", str(mine)).exit_code == 0
    assert values(book)[0][0] == "良好"          # newest version (2) from the given folder
    assert run(str(tmp_path / "copy.xlsx")).exit_code == 0
    assert values(tmp_path / "copy.xlsx")[0][0] == "优"  # shipped version 1


def test_scheme_versions_noted_per_workbook(tmp_path):
    from xlbridge.batch import Options, recompute_one

    book = make_book(tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    ws["L1"] = '=PERF_GRADE(80,"bailian-township")'      # unversioned: the newest version
    ws["L2"] = '=PERF_GRADE(80,"no-such-scheme@1")'      # a bad reference: a cell error only
    ws["L3"] = '=PERF_GRADE(80,"bailian-township@1x")'   # not a store reference at all
    wb.save(book)
    outcome = recompute_one(book, Options())
    assert outcome.schemes == ["bailian-township@1"]
    assert outcome.grades == {"优": 1, "一般": 2, "差": 1}
    assert values(book)[1][11] == "#N/A" and values(book)[2][11] == "#VALUE!"
    # the two bad references are errors of the workbook, each naming its cell and scheme
    assert not outcome.ok and outcome.status_text == "有错误值（2）"
    assert [e.split(":")[0] for e in outcome.errors] == ["考核!L2", "考核!L3"]
    assert "no-such-scheme" in outcome.errors[0]


def test_perf_functions_get_their_arguments_shaped_as_xlwings_shapes_them(tmp_path):
    """A defined name for one cell (方案 → 参数!$B$1) reaches PERF_* as the cell's value, as
    xlwings passes it in Excel; ranges declared ndim=2 stay rows of cells."""
    book = tmp_path / "named.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "考核"
    ws.append([*HEADER, "总分", "等次"])
    ws.append([*ROWS[0], "=PERF_SCORE(方案,A2:E2,表头)", "=PERF_GRADE(F2,方案)"])
    ws.append([None, None, None, None, None, None, "=PERF_BONUS(G2,方案)"])
    params = wb.create_sheet("参数")
    params["B1"] = SCHEME
    from openpyxl.workbook.defined_name import DefinedName

    wb.defined_names["方案"] = DefinedName("方案", attr_text="参数!$B$1")
    wb.defined_names["表头"] = DefinedName("表头", attr_text="考核!$A$1:$E$1")
    wb.save(book)
    out = run(str(book))
    v = values(book)
    assert v[1][5:7] == [92.8, "优"]         # 96 × 80% + 87.5 × 20% − 1.5 = 92.8 ≥ 90
    assert "bailian-township@1" in out.output
    # 白莲镇 pays no 奖金: that cell is an error, reported by cell with its reason
    assert out.exit_code == 1 and "考核!G3: #N/A" in out.output and "没有规定奖金" in out.output


def test_arguments_are_shaped_like_xlwings():
    from xlbridge.batch import xlwings_shaper

    seen = []

    def PERF_SCORE(scheme, inputs, headers=None):
        seen.append((scheme, inputs, headers))

    shape = xlwings_shaper("PERF_SCORE", PERF_SCORE)

    def call(*args):
        return PERF_SCORE(*shape(args))

    call([["s@1"]], [[1.0, 2.0]], None)            # 1×1 → value; ranges stay 2-D
    call("s@1", 5.0, [["a"]])                       # a scalar for a range → [[scalar]]
    call([["a", "b"]], [[1.0]])                     # one row for a one-value arg → flat list
    call([["a"], ["b"]], [[1.0]])                   # one column → flat list
    call([["a", "b"], ["c", "d"]], [[1.0]])         # larger → rows of cells
    assert seen == [("s@1", [[1.0, 2.0]], None), ("s@1", [[5.0]], [["a"]]),
                    (["a", "b"], [[1.0]], None), (["a", "b"], [[1.0]], None),
                    ([["a", "b"], ["c", "d"]], [[1.0]], None)]


def test_values_only_never_replaces_an_original(tmp_path):
    book = make_book(tmp_path / "a.xlsx")
    before = book.read_bytes()
    out = run(str(book), "--values-only", str(tmp_path))
    assert out.exit_code == 2 and "定值副本会替换原文件" in out.output
    assert book.read_bytes() == before            # nothing computed, nothing written


def test_values_only_keeps_same_named_files_apart(tmp_path):
    for unit in ("白莲村", "桥头村"):
        (tmp_path / unit).mkdir()
        make_book(tmp_path / unit / "考核.xlsx")
    out = run(str(tmp_path / "白莲村" / "考核.xlsx"), str(tmp_path / "桥头村" / "考核.xlsx"),
              "--values-only", str(tmp_path / "公示"))
    assert out.exit_code == 0, out.output
    copies = sorted(p.relative_to(tmp_path / "公示").as_posix()
                    for p in (tmp_path / "公示").rglob("*.xlsx"))
    assert copies == ["桥头村/考核.xlsx", "白莲村/考核.xlsx"]


def test_values_only_folder_inside_the_input_is_not_recomputed_again(tmp_path):
    make_book(tmp_path / "a.xlsx")
    for _ in range(2):
        out = run(str(tmp_path), "--values-only", str(tmp_path / "公示"))
        assert out.exit_code == 0, out.output
    copies = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.xlsx"))
    assert copies == ["a.xlsx", "公示/a.xlsx"]     # no 公示/公示/a.xlsx
    frozen = openpyxl.load_workbook(tmp_path / "公示" / "a.xlsx").active
    assert not any("PERF_" in str(c.value) for row in frozen.iter_rows() for c in row)
