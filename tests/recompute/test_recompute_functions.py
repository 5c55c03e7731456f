"""Native functions and operators, evaluated in memory, against hand-computed expectations.

Each case is ``(formula, expected)`` over the fixed cells in ``DATA``; expected values are what
Excel shows (numbers compared to 1e-12 relative, errors by code, text exactly).
"""

from __future__ import annotations

import math

import pytest

from xlbridge.recompute.memory import compute
from xlbridge.recompute.report import WorkbookReport
from xlbridge.xlvalues import ExcelError

E = ExcelError

# A small sheet: A = mixed values, B = scores, C = names, D = departments, G/H = grade table
DATA = {
    "A1": 1, "A2": 2, "A3": "3", "A4": True, "A5": None, "A6": "=\"\"",
    "B1": 90, "B2": 85, "B3": 90, "B4": 70, "B5": 89.95,
    "C1": "张三", "C2": "李四", "C3": "张三丰", "C4": "王五", "C5": "*",
    "D1": "办公室", "D2": "财务科", "D3": "办公室", "D4": "财务科", "D5": "办公室",
    "E1": 1, "E2": "#DIV", "E3": "=1/0",
    "F1": "abc", "F2": "ABC", "F3": 5, "F4": "5", "F5": False,
    "G1": 0, "G2": 60, "G3": 80, "G4": 90,
    "H1": "不合格", "H2": "合格", "H3": "良好", "H4": "优秀",
    "I1": 30, "I2": 20, "I3": 10,
    "Sheet 2!A1": 7, "Sheet 2!B2": "x",
    "考核表!A1": 100,
}

CASES: list[tuple[str, object]] = [
    # arithmetic, precedence, coercion
    ("=1+2*3", 7.0),
    ("=(1+2)*3", 9.0),
    ("=2^3^2", 64.0),
    ("=-2^2", 4.0),
    ("=2*-3", -6.0),
    ("=10-2-3", 5.0),
    ("=7/2", 3.5),
    ("=50%", 0.5),
    ("=B1*10%", 9.0),
    ("=1/0", E("#DIV/0!")),
    ("=0^0", E("#NUM!")),
    ("=0^-1", E("#DIV/0!")),
    ("=(-8)^(1/3)", E("#NUM!")),
    ("=(-2)^3", -8.0),
    ('="3"+1', 4.0),
    ('=" 3 "*2', 6.0),
    ('="1,000"+1', 1001.0),
    ('="50%"*2', 1.0),
    ('="abc"+1', E("#VALUE!")),
    ("=TRUE+1", 2.0),
    ("=A5+1", 1.0),           # blank is 0
    ("=A5", 0.0),             # a formula showing a blank cell shows 0
    ("=A6", ""),              # ... but an empty string stays one
    ("=-A3", -3.0),
    ("=#N/A+1", E("#N/A")),
    ('="a"+#N/A', E("#N/A")),            # errors win over conversion failures
    ('=#DIV/0!+#N/A', E("#DIV/0!")),
    ("=0.1+0.2-0.3", 0.0),
    ("=1-0.9-0.1", 0.0),
    ("=0.1+0.2", 0.30000000000000004),
    ("=1E+300*1E+300", E("#NUM!")),
    # text
    ('=A1&B5', "189.95"),
    ('=A5&"x"', "x"),
    ('=A4&"x"', "TRUEx"),
    ('=1/3&""', "0.333333333333333"),
    ('=C1&"-"&D1', "张三-办公室"),
    ('=CONCATENATE("a",1,TRUE)', "a1TRUE"),
    ('=LEN(C3)', 3.0),
    ('=LEFT("110101199001011234",6)', "110101"),
    ('=MID("110101199001011234",7,8)', "19900101"),
    ('=MID("abc",5,2)', ""),
    ('=MID("abc",0,2)', E("#VALUE!")),
    ('=RIGHT(C3,2)', "三丰"),
    ('=RIGHT(12345)', "5"),
    ('=LEFT(C1)', "张"),
    ('=LEFT("abc",-1)', E("#VALUE!")),
    ('=TRIM("  张  三 ")', "张 三"),
    ("=MEDIAN(B1:B5)", 89.95),
    ("=MEDIAN(B1:B4)", 87.5),
    ("=MEDIAN(F1:F2)", E("#NUM!")),
    # comparison
    ('=1<"a"', True),
    ('="a"<TRUE', True),
    ('="abc"="ABC"', True),
    ('=F1=F2', True),
    ("=A5=0", True),
    ('=A5=""', True),
    ('="2">"10"', True),
    ("=2>10", False),
    ("=TRUE>1", True),
    ("=(0.1+0.2)=0.3", True),
    ("=#N/A=1", E("#N/A")),
    ("=F3=F4", False),        # 5 and "5" are different values
    ("=B1<>B3", False),
    ("=B2>=85", True),
    # SUM family over ranges and direct arguments
    ("=SUM(A1:A6)", 3.0),                 # "3", TRUE, blank and "" ignored in ranges
    ('=SUM("3",TRUE,1)', 5.0),            # ... but counted as direct arguments
    ('=SUM("abc")', E("#VALUE!")),
    ("=SUM(E1:E3)", E("#DIV/0!")),
    ("=SUM(B:B)", 424.95),
    ("=SUM(B1:B5,I1:I3)", 484.95),
    ("=AVERAGE(A1:A6)", 1.5),
    ("=AVERAGE(B1:B4)", 83.75),
    ("=AVERAGE(F1:F2)", E("#DIV/0!")),
    ("=MIN(B1:B5)", 70.0),
    ("=MAX(B1:B5)", 90.0),
    ("=MAX(F1:F2)", 0.0),
    ("=MIN(B1:B5,60)", 60.0),
    ("=COUNT(A1:A6)", 2.0),
    ('=COUNT(1,"2","x",TRUE)', 3.0),
    ("=COUNTA(A1:A6)", 5.0),
    ("=COUNTBLANK(A1:A6)", 2.0),
    ("=SUMPRODUCT(B1:B3,I1:I3)", 90 * 30 + 85 * 20 + 90 * 10.0),
    ("=SUMPRODUCT((B1:B5>=89.95)*1)", 3.0),
    ('=SUMPRODUCT((D1:D5="办公室")*(B1:B5>80))', 3.0),
    ('=SUMPRODUCT((D1:D5=D2)*B1:B5)', 155.0),
    ("=SUMPRODUCT(B1:B3,I1:I2)", E("#VALUE!")),
    ("=SUMPRODUCT(A1:A4)", 3.0),          # text and booleans in arrays are 0
    ("=SUMPRODUCT(E1:E3)", E("#DIV/0!")),
    # rounding (decimal, half away from zero, 15 significant digits)
    ("=ROUND(2.675,2)", 2.68),
    ("=ROUND(1.005,2)", 1.01),
    ("=ROUND(0.285,2)", 0.29),
    ("=ROUND(89.95,1)", 90.0),
    ("=ROUND(B5,0)", 90.0),
    ("=ROUND(-2.5,0)", -3.0),
    ("=ROUND(2.5,0)", 3.0),
    ("=ROUND(1234.5,-2)", 1200.0),
    ("=ROUND(-0.005,2)", -0.01),
    ('=ROUND("2.5",0)', 3.0),
    ("=ROUND(A5,0)", 0.0),
    ("=ROUND(0.1+0.2,1)", 0.3),
    ("=ROUND(1/3,10)", 0.3333333333),
    ("=ROUNDUP(1.21,1)", 1.3),
    ("=ROUNDUP(-1.21,1)", -1.3),
    ("=ROUNDUP(3.000000001,0)", 4.0),
    ("=ROUNDDOWN(1.29,1)", 1.2),
    ("=ROUNDDOWN(-1.29,1)", -1.2),
    ("=ROUNDDOWN(1234.5,-2)", 1200.0),
    ("=INT(1.9)", 1.0),
    ("=INT(-1.5)", -2.0),
    ("=INT(0.29*100)", 29.0),
    ("=TRUNC(-1.9)", -1.0),
    ("=TRUNC(1.567,2)", 1.56),
    ("=ABS(-3.5)", 3.5),
    ('=ABS("x")', E("#VALUE!")),
    ("=MOD(10,3)", 1.0),
    ("=MOD(-10,3)", 2.0),
    ("=MOD(1,0)", E("#DIV/0!")),
    # logic
    ('=IF(B1>=90,"优秀","其他")', "优秀"),
    ('=IF(B4>=90,"优秀","其他")', "其他"),
    ("=IF(A5,1,2)", 2.0),
    ("=IF(TRUE,)", 0.0),
    ("=IF(FALSE,1)", False),
    ('=IF("TRUE",1,2)', 1.0),
    ('=IF("x",1,2)', E("#VALUE!")),
    ("=IF(#N/A,1,2)", E("#N/A")),
    ("=IF(TRUE,1,1/0)", 1.0),
    ('=_xlfn.IFS(B4>=90,"A",B4>=60,"B")', "B"),
    ('=_xlfn.IFS(B4>100,"A")', E("#N/A")),
    ('=IFERROR(1/0,"除零")', "除零"),
    ("=IFERROR(5,0)", 5.0),
    ("=IFERROR(E3,A5)", 0.0),
    ("=_xlfn.IFNA(NA(),0)", 0.0),
    ("=_xlfn.IFNA(1/0,0)", E("#DIV/0!")),
    ("=NA()", E("#N/A")),
    ("=AND(TRUE,1)", True),
    ("=AND(A1:A6)", True),                # text and blanks in ranges ignored
    ("=AND(F1:F2)", E("#VALUE!")),        # no logical values at all
    ('=AND("abc")', E("#VALUE!")),
    ("=OR(FALSE,0)", False),
    ("=OR(F5,B1>89)", True),
    ("=NOT(0)", True),
    ("=NOT(B1)", False),
    ("=ISBLANK(A5)", True),
    ("=ISBLANK(A6)", False),
    ("=ISNUMBER(A3)", False),
    ("=ISTEXT(A3)", True),
    ("=ISERROR(E3)", True),
    ("=ISNA(E3)", False),
    # lookups
    ('=VLOOKUP("李四",C1:D5,2,FALSE)', "财务科"),
    ('=VLOOKUP("张*",C1:D5,2,FALSE)', "办公室"),
    ('=VLOOKUP("张?丰",C1:D5,2,0)', "办公室"),
    ('=VLOOKUP("~*",C1:D5,2,FALSE)', "办公室"),
    ('=VLOOKUP("赵六",C1:D5,2,FALSE)', E("#N/A")),
    ('=VLOOKUP("李四",C1:D5,3,FALSE)', E("#REF!")),
    ('=VLOOKUP("李四",C1:D5,0,FALSE)', E("#VALUE!")),
    ("=VLOOKUP(85,G1:H4,2)", "良好"),
    ("=VLOOKUP(90,G1:H4,2,TRUE)", "优秀"),
    ("=VLOOKUP(59.9,G1:H4,2)", "不合格"),
    ("=VLOOKUP(-1,G1:H4,2)", E("#N/A")),
    ("=VLOOKUP(B1,B1:C5,2,FALSE)", "张三"),
    ('=VLOOKUP("abc",F1:F4,1,FALSE)', "abc"),
    ("=VLOOKUP(5,F1:F4,1,FALSE)", 5.0),
    ('=VLOOKUP("5",F1:F4,1,FALSE)', "5"),
    ("=HLOOKUP(2,A1:B2,2,FALSE)", E("#N/A")),
    ("=HLOOKUP(1,A1:B2,2,FALSE)", 2.0),
    ("=INDEX(G1:H4,3,2)", "良好"),
    ("=INDEX(B1:B5,2)", 85.0),
    ("=INDEX(G4:H4,2)", "优秀"),
    ("=INDEX(G1:H4,5,1)", E("#REF!")),
    ("=SUM(INDEX(G1:I4,0,1))", 230.0),
    ("=SUM(INDEX(G1:I3,2,0))", 80.0),
    ('=MATCH("王五",C1:C5,0)', 4.0),
    ('=MATCH("王*",C1:C5,0)', 4.0),
    ("=MATCH(75,G1:G4,1)", 2.0),
    ("=MATCH(75,G1:G4)", 2.0),
    ("=MATCH(-5,G1:G4,1)", E("#N/A")),
    ("=MATCH(15,I1:I3,-1)", 2.0),
    ("=MATCH(90,B1:B5,0)", 1.0),
    ("=MATCH(1,A1:A6,0)", 1.0),
    ('=MATCH("x",C1:C5,0)', E("#N/A")),
    ("=LOOKUP(85,G1:G4,H1:H4)", "良好"),
    ("=LOOKUP(85,G1:G4)", 80.0),
    ('=LOOKUP(2,1/(D1:D5="办公室"),C1:C5)', "*"),
    ('=LOOKUP(2,1/(D1:D5="财务科"),B1:B5)', 70.0),
    ("=INDEX(C1:C5,MATCH(MAX(B1:B5),B1:B5,0))", "张三"),
    ("=RANK(B1,B1:B5)", 1.0),
    ("=RANK(B2,B1:B5)", 4.0),
    ("=RANK(B5,B1:B5)", 3.0),
    ("=RANK(B4,B1:B5,1)", 1.0),
    ("=RANK(B1,B1:B5,1)", 4.0),
    ("=RANK(55,B1:B5)", E("#N/A")),
    ("=_xlfn.RANK.EQ(B2,$B$1:$B$5)", 4.0),
    ("=RANK.EQ(B3,B:B)", 1.0),
    # criteria
    ('=COUNTIF(B1:B5,">=90")', 2.0),
    ('=COUNTIF(B1:B5,">89.9")', 3.0),
    ("=COUNTIF(B1:B5,90)", 2.0),
    ('=COUNTIF(B1:B5,"90")', 2.0),
    ('=COUNTIF(A1:A6,"<>")', 5.0),
    ('=COUNTIF(A1:A6,"")', 2.0),
    ('=COUNTIF(A1:A6,"=")', 1.0),
    ('=COUNTIF(C1:C5,"张*")', 2.0),
    ('=COUNTIF(C1:C5,"??")', 3.0),
    ('=COUNTIF(C1:C5,"~*")', 1.0),
    ('=COUNTIF(C1:C5,"*")', 5.0),
    ('=COUNTIF(F1:F5,"abc")', 2.0),
    ("=COUNTIF(F1:F5,5)", 2.0),           # Excel: numbers stored as text match too
    ('=COUNTIF(F1:F5,"<>abc")', 3.0),
    ("=COUNTIF(F1:F5,FALSE)", 1.0),
    ('=COUNTIF(E1:E3,"#DIV/0!")', 1.0),
    ('=COUNTIF(D1:D5,D1)', 3.0),
    ('=COUNTIF(B1:B5,"<"&B2)', 1.0),
    ('=COUNTIFS(D1:D5,"办公室",B1:B5,">=90")', 2.0),
    ('=COUNTIFS(D1:D5,D2,B1:B5,">"&B4)', 1.0),
    ('=COUNTIFS(D1:D5,"办公室",B1:B4,">=90")', E("#VALUE!")),
    ('=SUMIF(D1:D5,"财务科",B1:B5)', 155.0),
    ('=SUMIF(B1:B5,">85")', 269.95),
    ('=SUMIF(D1:D5,"办公室",B1)', 269.95),  # sum range grows to the criteria range's size
    ('=SUMIFS(B1:B5,D1:D5,"办公室",B1:B5,"<90")', 89.95),
    ('=SUMIFS(B1:B5,D1:D5,"无")', 0.0),
    ('=AVERAGEIF(D1:D5,"财务科",B1:B5)', 77.5),
    ('=AVERAGEIF(D1:D5,"无",B1:B5)', E("#DIV/0!")),
    ('=AVERAGEIFS(B1:B5,D1:D5,"办公室")', 89.98333333333333),
    # TEXT with number formats
    ('=TEXT(1234.567,"#,##0")', "1,235"),
    ('=TEXT(1234.567,"#,##0.00")', "1,234.57"),
    ('=TEXT(0.125,"0.0%")', "12.5%"),
    ('=TEXT(0.5,"0%")', "50%"),
    ('=TEXT(3.14159,"0.00")', "3.14"),
    ('=TEXT(2.675,"0.00")', "2.68"),
    ('=TEXT(5,"0")', "5"),
    ('=TEXT(85.5,"G/通用格式")', "85.5"),        # General as Chinese Excel writes it
    ('=TEXT(2.5,"0")', "3"),
    ('=TEXT(-1234.5,"#,##0.0")', "-1,234.5"),
    ('=TEXT(0,"0.0")', "0.0"),
    ('=TEXT(12,"000")', "012"),
    ('=TEXT(89.95,"0.0")', "90.0"),
    ('=TEXT(1234567,"#,##0")', "1,234,567"),
    ('=TEXT("abc","0")', "abc"),
    ('=TEXT("3.14159","0.0")', "3.1"),
    ('=TEXT(B1,"0.0")&"分"', "90.0分"),
    ('=VALUE("1,234.5")', 1234.5),
    ('=VALUE("x")', E("#VALUE!")),
    ('=CHOOSE(2,"a","b","c")', "b"),
    ('=CHOOSE(4,"a","b","c")', E("#VALUE!")),
    # references to other sheets and sizes
    ("='Sheet 2'!A1*2", 14.0),
    ("=考核表!A1/4", 25.0),
    ("=SUM('Sheet 2'!A1:B2)", 7.0),
    ("=Nosheet!A1", E("#REF!")),
    ("=B1:B5", 85.0),                     # implicit intersection with row 2 (the formula cell)
    ("=B:B", 85.0),
    ("={1,2;3,4}", 1.0),
    ("=SUM({1,2;3,4})", 10.0),
    ('=SUMPRODUCT({1,2}*{3,4})', 11.0),
    ("=INDEX({10,20,30},2)", 20.0),
]


def _run(formula: str, extra: dict | None = None) -> object:
    cells = dict(DATA)
    cells.update(extra or {})
    cells["Z2"] = formula  # row 2: implicit intersection tests rely on it
    return compute(cells)["Z2"]


def _same(got: object, want: object) -> bool:
    if isinstance(want, ExcelError):
        return isinstance(got, ExcelError) and got.code == want.code
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, float):
        return type(got) is float and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15)
    return type(got) is type(want) and got == want


@pytest.mark.parametrize(("formula", "expected"),
                         [c for c in CASES if c[1] is not None], ids=lambda x: str(x))
def test_function(formula: str, expected: object) -> None:
    got = _run(formula)
    assert _same(got, expected), f"{formula}: got {got!r}, want {expected!r}"


def test_unsupported_function_is_reported_and_keeps_value() -> None:
    rep = WorkbookReport("mem")
    out = compute({"A1": 1, "B1": "=FOO(A1)+1", "C1": "=B1*2"}, report=rep)
    assert out["B1"] is None            # no stored value in memory: nothing to keep
    assert [str(i) for i in rep.unsupported] == ["Sheet1!B1: 不支持的函数 FOO"]
    assert out["C1"] == 0.0             # dependents read the kept (blank) value


def test_circular_reference_reported() -> None:
    rep = WorkbookReport("mem")
    out = compute({"A1": "=B1+1", "B1": "=A1+1", "C1": "=5"}, report=rep)
    assert {i.cell for i in rep.circular} == {"A1", "B1"}
    assert out["C1"] == 5.0
    assert "A1" in str(rep.circular[0]) and "→" in str(rep.circular[0])


def test_self_reference_in_range() -> None:
    rep = WorkbookReport("mem")
    compute({"A1": 1, "A2": 2, "A3": "=SUM(A1:A3)"}, report=rep)
    assert [i.cell for i in rep.circular] == ["A3"]


def test_long_dependency_chain_needs_no_recursion() -> None:
    n = 30000
    cells: dict[str, object] = {"A1": 1}
    # evaluated bottom-up: each cell needs the one below it first
    for r in range(2, n + 1):
        cells[f"B{r}"] = f"=B{r + 1}+1" if r < n else "=A1"
    out = compute(cells)
    assert out["B2"] == float(n - 1)


def test_forward_references_and_ranking_column() -> None:
    cells: dict[str, object] = {}
    for r in range(1, 51):
        cells[f"A{r}"] = f"=B{r}*2"        # reads a later column
        cells[f"C{r}"] = f"=RANK(A{r},$A$1:$A$50)"
        cells[f"B{r}"] = float((r * 37) % 50)
    out = compute(cells)
    ranks = sorted(out[f"C{r}"] for r in range(1, 51))
    assert ranks == [float(i) for i in range(1, 51)]


def test_defined_names() -> None:
    out = compute({"A1": 0.8, "B1": 90, "C1": "=B1*Weight", "C2": "=SUM(Scores)",
                   "C3": "=Missing+1"},
                  names={"Weight": "Sheet1!$A$1", "Scores": "Sheet1!$B$1:$B$3"})
    assert out["C1"] == pytest.approx(72.0)
    assert out["C2"] == 90.0
    assert isinstance(out["C3"], ExcelError) and out["C3"].code == "#NAME?"


def test_text_with_date_formats() -> None:
    out = compute({"A1": 45000.75, "B1": '=TEXT(A1,"yyyy-mm-dd")',
                   "B2": '=TEXT(A1,"yyyy年m月d日 hh:mm AM/PM")', "B3": '=TEXT(A1,"dddd, mmm d")',
                   "B4": '=TEXT(1.5,"[h]:mm")', "B5": '=TEXT(1/3,"General")'})
    assert out == {"B1": "2023-03-15", "B2": "2023年3月15日 06:00 PM",
                   "B3": "Wednesday, Mar 15", "B4": "36:00", "B5": "0.333333333"}


def test_text_format_outside_the_supported_set_is_reported() -> None:
    rep = WorkbookReport("mem")
    compute({"A1": 1.25, "B1": '=TEXT(A1,"# ?/?")'}, report=rep)
    assert rep.unsupported and rep.unsupported[0].message == "TEXT 格式中的分数"


def test_unsupported_function_inside_supported_ones() -> None:
    rep = WorkbookReport("mem")
    compute({"B1": "=IFNA(CUBEVALUE(A1,1),0)", "B2": "=IFERROR(CUBEVALUE(A1,1),0)"}, report=rep)
    assert rep.unsupported_functions == {"CUBEVALUE": 2}
