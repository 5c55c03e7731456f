"""The functions of issue #12, by Excel category, against Excel's documented results; and the
features that need a real file: hidden rows for SUBTOTAL/AGGREGATE, Excel tables, 3-D
references, dynamic arrays with spills, TODAY/NOW on a fixed clock, LAMBDA in a name.

(The Excel corpus, tests/corpus, checks the same functions against files Excel saved.)
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from recompute_helpers import cells_of, handmade

from xlbridge.recompute import recalc_workbook
from xlbridge.recompute.functions import NATIVE, NATIVE_FUNCTIONS, natives_by_category
from xlbridge.recompute.memory import compute
from xlbridge.recompute.report import WorkbookReport
from xlbridge.xlvalues import ExcelError

REPO = Path(__file__).resolve().parents[2]
E = ExcelError
DATA = {
    "A1": 10, "A2": 20, "A3": 30, "A4": 40, "A5": 50,
    "B1": "办公室", "B2": "财务科", "B3": "办公室", "B4": "财务科", "B5": "办公室",
    "C1": 3, "C2": 1, "C3": 3, "C4": 2, "C5": 3,
    "D1": "apple", "D2": "Banana", "D3": "cherry",
    "E1": 45000, "E2": 45031.75,
}

CASES: list[tuple[str, object]] = [
    # Math & Trig
    ("=PRODUCT(A1:A3)", 6000.0), ("=SUMSQ(1,2,3)", 14.0), ("=MROUND(10,3)", 9.0),
    ("=CEILING(4.2,0.5)", 4.5), ("=FLOOR(-4.2,-1)", -4.0), ("=CEILING.MATH(-4.2)", -4.0),
    ("=GCD(24,36)", 12.0), ("=LCM(4,6)", 12.0), ("=QUOTIENT(-7,2)", -3.0),
    ("=EVEN(1.5)", 2.0), ("=ODD(-2)", -3.0), ("=SIGN(-0.1)", -1.0), ("=FACT(5)", 120.0),
    ("=COMBIN(5,2)", 10.0), ("=ROUND(PI(),4)", 3.1416), ("=LOG(8,2)", 3.0),
    ("=SUMPRODUCT(SEQUENCE(3))", 6.0), ("=SUM(MMULT({1,2},{3;4}))", 11.0),
    # Statistical
    ("=LARGE(A1:A5,2)", 40.0), ("=SMALL(A1:A5,2)", 20.0), ("=MODE(C1:C5)", 3.0),
    ("=MINIFS(A1:A5,B1:B5,\"办公室\")", 10.0), ("=MAXIFS(A1:A5,B1:B5,\"财务科\")", 40.0),
    ("=PERCENTILE(A1:A5,0.25)", 20.0), ("=QUARTILE(A1:A5,3)", 40.0),
    ("=PERCENTILE.EXC(A1:A5,0.25)", 15.0), ("=MEDIAN(A1:A4)", 25.0),
    ("=RANK.AVG(3,C1:C5)", 2.0), ("=ROUND(STDEV(A1:A5),6)", 15.811388),
    ("=VAR.P(A1:A5)", 200.0), ("=AVERAGEA(A1:A2,TRUE)", 31 / 3),
    ("=COUNTIF(C1:C5,\"<>3\")", 2.0), ("=TRIMMEAN(A1:A5,0.4)", 30.0),
    # Logical
    ("=SWITCH(C2,1,\"一\",2,\"二\",\"其他\")", "一"), ("=SWITCH(9,1,\"一\")", E("#N/A")),
    ("=XOR(TRUE,TRUE,FALSE)", False), ("=LET(x,A1*2,y,x+1,x*y)", 420.0),
    ("=OR(\"\",TRUE)", True), ("=IFS(A1>100,\"大\",A1>5,\"中\")", "中"),
    # Text
    ("=CONCAT(D1:D3)", "appleBananacherry"), ("=TEXTJOIN(\"、\",TRUE,D1:D3,\"\")",
                                               "apple、Banana、cherry"),
    ("=SUBSTITUTE(\"a-b-c\",\"-\",\"+\",2)", "a-b+c"), ("=FIND(\"n\",D2)", 3.0),
    ("=SEARCH(\"N\",D2)", 3.0), ("=REPLACE(\"abcdef\",2,3,\"X\")", "aXef"),
    ("=UPPER(D1)&LOWER(D2)&PROPER(\"hello wORLD\")", "APPLEbananaHello World"),
    ("=REPT(\"★\",3)", "★★★"), ("=NUMBERVALUE(\"1.234,5\",\",\",\".\")", 1234.5),
    ("=LEFT(\"abc\",0)", ""), ("=TEXT(1234.5,\"#,##0.00\")", "1,234.50"),
    ("=TEXT(0.285,\"0.0%\")", "28.5%"), ("=TEXT(E1,\"yyyy年m月d日\")", "2023年3月15日"),
    ("=TEXT(E2,\"hh:mm\")", "18:00"), ("=TEXT(1/3,\"General\")", "0.333333333"),
    ("=TEXT(123456789012,\"General\")", "1.23457E+11"), ("=TEXT(-5,\"0;(0)\")", "(5)"),
    ("=TEXTBEFORE(\"a-b-c\",\"-\",-1)", "a-b"), ("=TEXTAFTER(\"a-b-c\",\"-\")", "b-c"),
    # Lookup & Reference
    ("=XLOOKUP(\"财务科\",B1:B5,A1:A5)", 20.0), ("=XLOOKUP(\"无\",B1:B5,A1:A5,\"-\")", "-"),
    ("=XLOOKUP(25,A1:A5,B1:B5,,-1)", "财务科"), ("=XMATCH(30,A1:A5)", 3.0),
    ("=XLOOKUP(\"办公室\",B1:B5,A1:A5,,0,-1)", 50.0),
    ("=SUM(OFFSET(A1,1,0,3,1))", 90.0), ("=INDIRECT(\"A\"&3)", 30.0),
    ("=ROW(A7)+COLUMN(C1)", 10.0), ("=ROWS(A1:A5)*COLUMNS(A1:C1)", 15.0),
    ("=SUM(CHOOSECOLS({1,2,3;4,5,6},1,3))", 14.0), ("=ADDRESS(2,3)", "$C$2"),
    ("=SUM(FILTER(A1:A5,B1:B5=\"办公室\"))", 90.0), ("=INDEX(SORT(A1:A5,1,-1),1)", 50.0),
    ("=COUNTA(UNIQUE(B1:B5))", 2.0), ("=SUM(TAKE(A1:A5,2))", 30.0),
    ("=INDEX(SORTBY(B1:B5,A1:A5,-1),1)", "办公室"),
    # Information
    ("=N(TRUE)+N(\"7\")", 1.0), ("=T(D1)&T(5)", "apple"), ("=ISERR(NA())", False),
    ("=ISEVEN(4)", True), ("=ISODD(4)", False), ("=ISFORMULA(A1)", False),
    # Date & Time
    ("=DATE(2024,2,29)", 45351.0), ("=YEAR(E1)*10000+MONTH(E1)*100+DAY(E1)", 20230315.0),
    ("=EDATE(DATE(2024,1,31),1)", 45351.0), ("=EOMONTH(DATE(2024,1,15),1)", 45351.0),
    ("=DATEDIF(DATE(2020,5,10),DATE(2024,3,9),\"Y\")", 3.0),
    ("=DATEDIF(DATE(2020,5,10),DATE(2024,3,9),\"YM\")", 9.0),
    ("=NETWORKDAYS(DATE(2024,3,1),DATE(2024,3,31))", 21.0),
    ("=WORKDAY(DATE(2024,3,1),5)", 45359.0), ("=WEEKDAY(DATE(2024,3,1))", 6.0),
    ("=WEEKDAY(DATE(2024,3,1),2)", 5.0), ("=ISOWEEKNUM(DATE(2024,1,1))", 1.0),
    ("=HOUR(E2)*100+MINUTE(E2)", 1800.0), ("=TIME(25,30,0)", 1.5 / 24),
    ("=DATEVALUE(\"2024-03-01\")", 45352.0), ("=DATE(1900,2,29)", 60.0),
    ("=\"2024-01-10\"+1", 45302.0),
    # examples from Excel's own function reference
    ("=CEILING.PRECISE(-4.3)", -4.0), ("=FLOOR.MATH(-5.5,2,-1)", -4.0),
    ("=FLOOR.PRECISE(-3.2,-1)", -4.0), ("=ISO.CEILING(4.3)", 5.0),
    ("=CLEAN(CHAR(9)&\"abc\"&CHAR(10))", "abc"), ("=CODE(\"A\")", 65.0),
    ("=UNICHAR(66)", "B"), ("=COVAR({3,2,4,5,6},{9,7,12,15,17})", 5.2),
    ("=ROUND(GEOMEAN(4,5,8,7,11,4,3),6)", 5.476987),
    ("=NETWORKDAYS.INTL(DATE(2006,1,1),DATE(2006,1,31))", 22.0),
    ("=NETWORKDAYS.INTL(DATE(2006,2,28),DATE(2006,1,31))", -21.0),
    ("=PERCENTRANK({1,2,3,4,5,6,7,8,9,10},4)", 0.333), ("=PERMUT(100,3)", 970200.0),
    ("=ROUND(STDEVP(A1:A5),6)", 14.142136), ("=VAR(A1:A5)", 250.0), ("=VARP(A1:A5)", 200.0),
    ("=INDEX(TOROW({1,2;3,4}),3)", 3.0), ("=WEEKNUM(DATE(2012,3,9))", 10.0),
    ("=WEEKNUM(DATE(2012,3,9),2)", 11.0), ("=WORKDAY.INTL(DATE(2012,1,1),30,0)", E("#NUM!")),
    ("=WORKDAY.INTL(DATE(2012,1,1),90,11)", 41013.0),
]


def _same(got: object, want: object) -> bool:
    if isinstance(want, float):
        return isinstance(got, float) and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)
    return got == want


def test_category_cases() -> None:
    cells: dict[str, object] = dict(DATA)
    for i, (f, _w) in enumerate(CASES):
        cells[f"Z{i + 1}"] = f
    rep = WorkbookReport("mem")
    got = compute(cells, report=rep)
    assert not rep.unsupported, rep.unsupported
    bad = [f"{f}: got {got[f'Z{i + 1}']!r}, Excel {w!r}" for i, (f, w) in enumerate(CASES)
           if not _same(got[f"Z{i + 1}"], w)]
    assert not bad, "\n".join(bad)


def test_every_registered_function_is_used_by_some_test() -> None:
    """A function registered but never exercised here or in the corpus is suspect."""
    corpus = (REPO / "tests" / "corpus" / "excel")
    used = set()
    for text in [f for f, _ in CASES]:
        used.update(re.findall(r"([A-Z][A-Z0-9.]*)\(", text))
    tested = (REPO / "tests" / "recompute").glob("test_*.py")
    for p in tested:
        used.update(re.findall(r"([A-Z][A-Z0-9.]{1,})\(", p.read_text("utf-8")))
    sys.path.insert(0, str(corpus.parent))
    import oracle

    for f in oracle.corpus_files():
        for cell in oracle.read_cells(f).values():
            if cell.formula:
                used.update(n.replace("_xlfn.", "").replace("_xlws.", "") for n in
                            re.findall(r"((?:_xl\w+\.)*[A-Z][A-Z0-9.]*)\(", cell.formula))
    missing = sorted(n for n in NATIVE_FUNCTIONS if n not in used and not NATIVE[n].volatile)
    assert not missing, missing


# ------------------------------------------------------------------------- with a file


def test_subtotal_and_aggregate_leave_out_hidden_rows(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><v>10</v></c></row>'
            '<row r="2" hidden="1"><c r="A2"><v>20</v></c></row>'
            '<row r="3"><c r="A3"><v>30</v></c></row>'
            '<row r="4" hidden="true"><c r="A4"><f>1/0</f></c></row>'
            '<row r="5"><c r="B5"><f>SUBTOTAL(9,A1:A3)</f></c><c r="C5"><f>SUBTOTAL(109,A1:A3)</f>'
            '</c><c r="D5"><f>SUBTOTAL(102,A1:A4)</f></c><c r="E5"><f>AGGREGATE(9,7,A1:A4)</f>'
            '</c><c r="F5"><f>AGGREGATE(9,6,A1:A4)</f></c><c r="G5"><f>AGGREGATE(4,3,A1:B5)</f>'
            '</c><c r="H5"><f>SUBTOTAL(9,A1:A3,B5)</f></c>'
            '<c r="I5"><f>AGGREGATE(14,6,A1:A4/(A1:A4&gt;15),1)</f></c></row>')
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(handmade(tmp_path / "h.xlsx", rows), out_path=out)
    assert not rep.unsupported
    got = cells_of(out)
    assert got["B5"] == 60 and got["C5"] == 40 and got["D5"] == 2
    assert got["E5"] == 40 and got["F5"] == 60 and got["G5"] == 30
    assert got["H5"] == 60  # a SUBTOTAL inside the range is not counted twice
    assert got["I5"] == 30


def test_structured_references_to_a_table(tmp_path: Path) -> None:
    import openpyxl
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "明细"
    ws.append(["姓名", "得分", "系数", "合计"])
    for n, s, k in [("张三", 90, 1.2), ("李四", 80, 1.0), ("王五", 70, 0.8)]:
        ws.append([n, s, k, "=表1[[#This Row],[得分]]*表1[[#This Row],[系数]]"])
    ws["F1"], ws["F2"], ws["F3"] = "=SUM(表1[合计])", "=COUNTA(表1[#Data])", "=ROWS(表1[#All])"
    ws["F4"], ws["F5"] = "=SUM(表1[[得分]:[系数]])", "=表1[[#Headers],[系数]]"
    ws.add_table(Table(displayName="表1", ref="A1:D4"))
    other = wb.create_sheet("汇总")
    other["A1"], other["A2"] = "=AVERAGE(表1[得分])", "=SUM(表1[不存在])"
    src, out = tmp_path / "t.xlsx", tmp_path / "o.xlsx"
    wb.save(src)
    rep = recalc_workbook(src, out_path=out)
    assert [i.cell for i in rep.unsupported] == ["A2"]  # the unknown column is reported
    got = cells_of(out)
    assert (got["D2"], got["D3"], got["D4"]) == (108, 80, 56)
    assert (got["F1"], got["F2"], got["F3"], got["F4"], got["F5"]) == (244, 12, 4, 243, "系数")
    assert cells_of(out, "汇总")["A1"] == 80
    assert rep.recomputed == 9  # the calculated column is one compiled formula


def test_three_d_references(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "一月"
    for i, name in enumerate(["一月", "二月", "三 月"], 1):
        ws = wb[name] if name in wb.sheetnames else wb.create_sheet(name)
        ws["B2"], ws["B3"] = i, i * 10
    s = wb.create_sheet("汇总")
    s["A1"], s["A2"] = "=SUM('一月:三 月'!B2)", "=AVERAGE(一月:二月!B2:B3)"
    s["A3"], s["A4"] = "=COUNT('一月:三 月'!B:B)", "=MAX('二月:三 月'!B2:B3)"
    src, out = tmp_path / "d.xlsx", tmp_path / "o.xlsx"
    wb.save(src)
    rep = recalc_workbook(src, out_path=out)
    assert not rep.unsupported, rep.unsupported
    got = cells_of(out, "汇总")
    assert (got["A1"], got["A2"], got["A3"], got["A4"]) == (6, 8.25, 6, 30)


def test_dynamic_arrays_spill_into_their_range(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><v>30</v></c><c r="B1" cm="1"><f t="array" ref="B1:B3">'
            '_xlfn._xlws.SORT(A1:A3)</f><v>0</v></c><c r="C1" cm="1"><f t="array" ref="C1:C2">'
            '_xlfn.UNIQUE(A1:A3&gt;15)</f><v>0</v></c><c r="D1"><f>SUM(_xlfn.ANCHORARRAY(B1))'
            '</f></c></row><row r="2"><c r="A2"><v>10</v></c><c r="B2"><v>0</v></c>'
            '<c r="C2"><v>0</v></c></row><row r="3"><c r="A3"><v>20</v></c><c r="B3"><v>0</v>'
            '</c></row>')
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(handmade(tmp_path / "h.xlsx", rows), out_path=out)
    assert not rep.unsupported, rep.unsupported
    got = cells_of(out)
    assert (got["B1"], got["B2"], got["B3"], got["D1"]) == (10, 20, 30, 60)
    assert (got["C1"], got["C2"]) == (True, False)


def test_today_and_now_on_a_fixed_clock(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><f>TODAY()</f></c><c r="B1"><f>NOW()</f></c>'
            '<c r="C1"><f>DATEDIF(DATE(2000,1,1),TODAY(),"Y")</f></c></row>')
    out = tmp_path / "o.xlsx"
    recalc_workbook(handmade(tmp_path / "h.xlsx", rows), out_path=out,
                    clock=datetime(2025, 1, 10, 18, 0))
    got = cells_of(out)
    assert got["A1"] == 45667  # 2025-01-10 as Excel's serial
    assert got["B1"] == 45667.75
    assert got["C1"] == 25


def test_lambda_held_in_a_defined_name(tmp_path: Path) -> None:
    names = ('<definedNames><definedName name="加权">_xlfn.LAMBDA(_xlpm.x,_xlpm.w,'
             '_xlpm.x*_xlpm.w)</definedName></definedNames>')
    rows = ('<row r="1"><c r="A1"><v>80</v></c><c r="B1"><f>加权(A1,0.6)+加权(10,2)</f></c>'
            '</row>')
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(handmade(tmp_path / "h.xlsx", rows, names=names), out_path=out)
    assert not rep.unsupported
    assert cells_of(out)["B1"] == 68


# ------------------------------------------------------------------------- the list


def test_cli_lists_the_functions_from_the_registry() -> None:
    out = subprocess.run([sys.executable, "-m", "xlbridge.cli", "recompute", "--functions"],
                         capture_output=True, text=True, check=True, cwd=REPO).stdout
    for cat, specs in natives_by_category().items():
        if cat == "Internal":
            continue
        assert f"{cat} ({len(specs)}):" in out
        for s in specs:
            assert re.search(rf"(?<![\w.]){re.escape(s.name)}\(", out), s.name
    assert "SINGLE(" not in out


def test_readme_lists_exactly_what_the_registry_computes() -> None:
    text = (REPO / "README.md").read_text("utf-8")
    block = text.split("<!-- functions:begin -->")[1].split("<!-- functions:end -->")[0]
    listed = {}
    for line in block.splitlines():
        m = re.match(r"\s*[-*]\s*\*\*([^*]+)\*\*\s*\((\d+)\):\s*(.*)", line)
        if m:
            listed[m.group(1).strip()] = (int(m.group(2)), set(m.group(3).split()))
    reg = {c: {s.name for s in v} for c, v in natives_by_category().items() if c != "Internal"}
    assert {c: names for c, (_n, names) in listed.items()} == reg
    assert all(n == len(names) for n, names in listed.values())


@pytest.mark.parametrize("name", sorted(NATIVE_FUNCTIONS))
def test_every_function_is_registered_with_its_arity(name: str) -> None:
    spec = NATIVE[name]
    assert spec.category and spec.name == name
    assert spec.max_args is None or spec.max_args >= spec.min_args
