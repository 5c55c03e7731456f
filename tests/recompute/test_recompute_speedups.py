"""The compiled parts (xlbridge/recompute/_speedups.c) do exactly what the Python code does.

The scan: it reads a sheet exactly as the scan in Python.

The compiled path takes the usual layouts of ``<sheetData>`` and gives up — before changing
anything — on everything else, which the Python scan then reads (or refuses, with its
message). Every test here reads the same XML both ways and compares all the scan records:
the values, every column of the formula table, the counts, the hidden rows; for XML the scan
refuses, the same message. A spy on the compiled function says which path was taken, so
that a test cannot pass because the compiled path quietly never runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from external_tools import missing
from hypothesis import given, settings
from hypothesis import strategies as st

from xlbridge.recompute import FileRejected, sheetxml
from xlbridge.recompute.book import load_book

ROOT = Path(__file__).resolve().parents[2]
SST = ["共享", "二", "&amp; stays"]


@pytest.fixture(autouse=True)
def _built() -> None:
    if sheetxml._speedups is None:
        missing("the compiled scan (xlbridge/recompute/_speedups.c)",
                ": pip install needs a C compiler and Python's headers to build it")


class Spy:
    """Wraps _speedups.scan: how many times it read a region (not None) and gave up (None)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.taken = self.declined = 0
        real = sheetxml._speedups.scan

        def scan(*args: Any) -> Any:
            got = real(*args)
            if got is None:
                self.declined += 1
            else:
                self.taken += 1
            return got

        monkeypatch.setattr(sheetxml._speedups, "scan", scan)


def records(xml: bytes, compiled: bool, monkeypatch: pytest.MonkeyPatch,
            sst: list[str] | None = None) -> tuple[Any, ...]:
    """Everything one scan of ``xml`` records — or the message it refuses the sheet with."""
    monkeypatch.setattr(sheetxml, "_COMPILED", compiled)
    table = sheetxml.FormulaTable()
    values: dict[int, Any] = {}
    try:
        scan = sheetxml.scan_sheet(xml, 2, values, SST if sst is None else sst, table,
                                   "h.xlsx", "sheet3.xml", "表")
    except (FileRejected, ValueError) as exc:
        return ("refused", type(exc), str(exc))
    return (list(values.items()), [type(v) for v in values.values()], table.keys,
            list(table.start), list(table.size), list(table.si), table.cached,
            [type(v) for v in table.cached], bytes(table.meta), list(table.spans),
            table.spans.typecode, table.refs, table.dynamic, table.vm_rows, scan.max_row,
            scan.max_col, scan.cells, scan.hidden_rows, scan.filter_rows, scan.lo, scan.hi)


def sheet(inner: str, tail: str = "") -> bytes:
    return ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{inner}</sheetData>{tail}</worksheet>").encode()


def same_both_ways(xml: bytes, monkeypatch: pytest.MonkeyPatch,
                   sst: list[str] | None = None) -> tuple[Any, ...]:
    compiled = records(xml, True, monkeypatch, sst)
    assert compiled == records(xml, False, monkeypatch, sst)
    return compiled


# the layouts the compiled path reads itself
TAKEN = {
    "numbers": '<row r="1"><c r="A1"><v>1</v></c><c r="B1" s="2"><v>-2.5E-3</v></c>'
               '<c r="C1" t="n"><v>.5</v></c><c r="D1"><v>1e308</v></c><c r="E1"><v></v></c>'
               '<c r="F1"><v>1E+400</v></c></row>',
    "shared strings": '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" s="1" t="s"><v>2</v>'
                      '</c><c r="C2" t="s"><v></v></c></row>',
    "booleans, errors, texts": '<row r="3"><c r="A3" t="b"><v>1</v></c><c r="B3" t="b"><v>0</v>'
                               '</c><c r="C3" t="b"><v> true </v></c><c r="D3" t="e"><v>#N/A</v>'
                               '</c><c r="E3" t="e"><v> #div/0! </v></c><c r="F3" t="e"><v>#WHAT'
                               '</v></c><c r="G3" t="str"><v></v></c><c r="H3" t="str"><v>a&amp;b'
                               '</v></c><c r="I3" t="inlineStr"><v>x</v></c></row>',
    "inline strings": '<row r="4"><c r="A4" t="inlineStr"><is><t>&#20013;&#x5FC3;片</t></is></c>'
                      '<c r="B4" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>'
                      '<c r="C4" t="inlineStr"><is><t>a&lt;b&amp;c&quot;</t></is></c>'
                      '<c r="D4" t="inlineStr"><is><t>_x000D_&#38;lt;</t></is></c>'
                      '<c r="E4" t="inlineStr"><is><t>&#95;x0041_</t></is></c>'
                      '<c r="F4" t="inlineStr"><is><t></t></is></c>'
                      '<c r="G4"><is><t>&#65536;&#xD7FF;</t></is></c></row>',
    "formulas": '<row r="5" spans="1:9" ht="20" customHeight="1" x14ac:dyDescent="0.25">'
                '<c r="A5"><f>B5*2</f><v></v></c><c r="B5" s="3"><f>1+1</f><v>2</v></c>'
                '<c r="C5" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'
                '<c r="D5" t="b"><f>TRUE</f><v>1</v></c><c r="E5" t="e"><f>1/0</f>'
                '<v>#DIV/0!</v></c><c r="F5"><f>A5</f><v/></c><c r="G5"><f>A5</f></c>'
                '<c r="H5" t="str"><f>""</f><v/></c><c r="I5"><f ca="1">NOW()</f><v>4</v></c>'
                '<c r="J5"><f></f><v>4</v></c><c r="K5"><f/></c><c r="L5" t="str"><f/><v>x</v>'
                '</c></row>',
    "shared and array formulas": '<row r="6"><c r="A6"><f t="shared" ref="A6:A8" si="0">B6+1</f>'
                                 '<v>3</v></c><c r="B6"><f t="array" ref="B6:B7">C6:C7</f><v>1'
                                 '</v></c><c r="C6"><f t="normal">1</f><v>1</v></c></row>'
                                 '<row r="7"><c r="A7"><f t="shared" si="0"/><v>4</v></c>'
                                 '<c r="C7"><f t="shared" ca="1" si="12"/></c></row>'
                                 '<row r="8"><c r="A8"><f t="shared" si="0"/></c>'
                                 '<c r="B8"><f t="dataTable" ref="B8:B9" dt2D="0"/></c></row>',
    "empty and formatted cells": '<row r="9"/><row r="10" s="4" customFormat="1">'
                                 '<c r="A10" s="1"/><c r="B10"></c><c r="XFD10" s="2"/></row>',
    "rows without r, hidden rows": '<row><c r="A1"><v>1</v></c></row><row hidden="1">'
                                   '<c r="A2"><v>2</v></c></row><row r="9" hidden="true"/>'
                                   '<row r="11" hidden="0"><c r="B11"><v>3</v></c></row>',
    "whitespace between elements": '\n  <row r="1">\n    <c r="A1"><v>1</v></c>\n  </row>\r\n',
    "a long formula": '<row r="1"><c r="A1"><f>' + "+".join(["B1"] * 12000) +
                      '</f><v>0</v></c></row>',
    "the last row and column": '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    # decoded by decode_text itself (called back): a lone surrogate, as Python decodes it
    "a surrogate": '<row r="1"><c r="A1" t="inlineStr"><is><t>&#xD800;</t></is></c></row>',
}

# layouts the compiled path leaves to the Python scan (which reads or refuses them)
DECLINED = {
    "cell without r": '<row r="1"><c><v>1</v></c><c s="1"><v>2</v></c></row>',
    "attributes in another order": '<row r="1"><c s="1" r="A1"><v>1</v></c></row>',
    "cm and vm": '<row r="1"><c r="A1" cm="1"><f t="array" ref="A1:A2">B1:B2</f><v>1</v></c>'
                 '</row>',
    "single quotes": "<row r='1'><c r='A1'><v>1</v></c></row>",
    "a value with attributes": '<row r="1"><c r="A1" t="str"><f>" a"</f>'
                               '<v xml:space="preserve"> a</v></c></row>',
    "rich text": '<row r="1"><c r="A1" t="inlineStr"><is><r><t>a</t></r></is></c></row>',
    "lower-case reference": '<row r="1"><c r="a1"><v>1</v></c></row>',
    "absolute reference": '<row r="1"><c r="$A$1"><v>1</v></c></row>',
    "a date cell": '<row r="1"><c r="A1" t="d"><v>2024-01-31</v></c></row>',
    "a number with spaces": '<row r="1"><c r="A1"><v> 1 </v></c></row>',
    "a number with an underscore": '<row r="1"><c r="A1"><v>1_0</v></c></row>',
    "inf": '<row r="1"><c r="A1"><v>inf</v></c></row>',
    "text between cells": '<row r="1">x<c r="A1"><v>1</v></c></row>',
    "another row attribute": '<row r="1" foo="1"><c r="A1"><v>1</v></c></row>',
    "a formula attribute it does not know": '<row r="1"><c r="A1"><f t="shared" si="0" '
                                            'xyz="1">1</f><v>1</v></c></row>',
    "a blank before >": '<row r="1"><c r="A1" ><v>1</v></c></row>',
    "extLst in a cell": '<row r="1"><c r="A1"><v>1</v><extLst/></c></row>',
    # refused by the Python scan, with its message
    "a row beyond the grid": '<row r="1048577"><c r="A1048577"><v>1</v></c></row>',
    "a column beyond the grid": '<row r="1"><c r="XFE1"><v>1</v></c></row>',
    "text in a number cell": '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>abc</v></c></row>',
    "text in a formula's number": '<row r="1"><c r="A1"><f>1</f><v>x</v></c></row>',
    "a missing shared string": '<row r="1"><c r="A1" t="s"><v>7</v></c></row>',
    "a comment": '<row r="1"><!-- x --><c r="A1"><v>1</v></c></row>',
    "CDATA": '<row r="1"><c r="A1"><v><![CDATA[1]]></v></c></row>',
    "a processing instruction": '<row r="1"><?pi x?><c r="A1"><v>1</v></c></row>',
    "a bad character reference": '<row r="1"><c r="A1" t="inlineStr"><is><t>&#xZZ;</t></is>'
                                 '</c></row>',
}


@pytest.mark.parametrize("name", list(TAKEN))
def test_usual_layouts_are_read_by_the_compiled_scan_as_in_python(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    got = same_both_ways(sheet(TAKEN[name]), monkeypatch)
    assert spy.taken == 1 and spy.declined == 0
    assert got[0] != "refused"


@pytest.mark.parametrize("name", list(DECLINED))
def test_other_layouts_are_left_to_the_python_scan(name: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    same_both_ways(sheet(DECLINED[name]), monkeypatch)
    assert spy.taken == 0 and spy.declined == 1


def test_what_the_compiled_scan_records() -> None:
    """Not only the same as Python: the values themselves, for a few cells."""
    table = sheetxml.FormulaTable()
    values: dict[int, Any] = {}
    inner = TAKEN["numbers"] + TAKEN["shared strings"] + TAKEN["booleans, errors, texts"] + \
        TAKEN["inline strings"]
    scan = sheetxml.scan_sheet(sheet(inner), 0, values, SST, table, "h.xlsx", "s.xml")
    by_cell = {(k >> 15, k & 0x7FFF): v for k, v in values.items()}
    assert by_cell[(1, 2)] == -0.0025 and by_cell[(1, 3)] == 0.5
    assert by_cell[(1, 6)] == float("inf") and (1, 5) not in by_cell
    assert by_cell[(2, 1)] == "共享" and by_cell[(2, 2)] == "&amp; stays" and (2, 3) not in by_cell
    assert [by_cell[(3, c)] for c in (1, 2, 3)] == [True, False, True]
    assert [by_cell[(3, c)].code for c in (4, 5, 6)] == ["#N/A", "#DIV/0!", "#VALUE!"]
    assert [by_cell[(3, c)] for c in (7, 8, 9)] == ["", "a&b", "x"]
    assert by_cell[(4, 1)] == "中心片" and by_cell[(4, 2)] == " a "
    assert by_cell[(4, 3)] == 'a<b&c"' and by_cell[(4, 4)] == "\r<"  # as decode_text does
    assert by_cell[(4, 5)] == "A" and by_cell[(4, 6)] == "" and by_cell[(4, 7)] == "𐀀\ud7ff"
    assert scan.max_row == 4 and scan.max_col == 9 and len(table) == 0


def test_a_sheet_without_a_namespace_prefix_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A prefixed sheet (<x:c>) is the Python scan's."""
    spy = Spy(monkeypatch)
    xml = (b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row></x:sheetData>'
           b'</x:worksheet>')
    got = same_both_ways(xml, monkeypatch)
    assert got[0] and spy.taken == 0 and spy.declined == 0


def test_the_autofilter_of_hidden_rows_is_read_after_either_scan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    xml = sheet(TAKEN["rows without r, hidden rows"],
                '<autoFilter ref="A1:B11"><filterColumn colId="0"/></autoFilter>')
    got = same_both_ways(xml, monkeypatch)
    assert got[-4] == {2, 9} and got[-3] == (2, 11)


def test_the_table_continues_after_other_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows appended after a first sheet's (long spans widen the shared array)."""
    for compiled in (True, False):
        monkeypatch.setattr(sheetxml, "_COMPILED", compiled)
        table = sheetxml.FormulaTable()
        values: dict[int, Any] = {}
        first = sheetxml.scan_sheet(sheet(TAKEN["formulas"]), 0, values, SST, table, "h", "1")
        second = sheetxml.scan_sheet(sheet(TAKEN["a long formula"] + TAKEN["formulas"]), 1,
                                     values, SST, table, "h", "2")
        third = sheetxml.scan_sheet(sheet(TAKEN["shared and array formulas"]), 2, values, SST,
                                    table, "h", "3")
        got = (first.lo, first.hi, second.lo, second.hi, third.hi, list(table.spans),
               table.spans.typecode, table.refs, table.keys, list(values.items()))
        if compiled:
            want = got
    assert got == want and want[6] == "i"


# fragments of rows, usual and unusual, for the generated sheets
_CELLS = [
    '<c r="{c}{r}"><v>{n}</v></c>', '<c r="{c}{r}" s="1"><v>{n}</v></c>',
    '<c r="{c}{r}" t="s"><v>{i}</v></c>', '<c r="{c}{r}" t="b"><v>{b}</v></c>',
    '<c r="{c}{r}" t="e"><v>#N/A</v></c>', '<c r="{c}{r}" t="str"><v>{x}</v></c>',
    '<c r="{c}{r}" t="inlineStr"><is><t>{x}</t></is></c>', '<c r="{c}{r}"/>',
    '<c r="{c}{r}"><f>{c}{r}+1</f><v>{n}</v></c>', '<c r="{c}{r}"><f>1</f><v/></c>',
    '<c r="{c}{r}" t="str"><f>"{x}"</f><v>{x}</v></c>', '<c r="{c}{r}"><f>1</f></c>',
    '<c r="{c}{r}"><f t="shared" ref="{c}{r}:{c}9" si="{i}">A1</f><v>{n}</v></c>',
    '<c r="{c}{r}"><f t="shared" si="{i}"/><v>{n}</v></c>', '<c r="{c}{r}"></c>',
    '<c r="{c}{r}"><f t="array" ref="{c}{r}">A1:A2</f><v>{n}</v></c>',
    # unusual: the compiled scan gives up on the whole sheet
    '<c r="{c}{r}" cm="1"><f t="array" ref="{c}{r}">A1</f><v>1</v></c>', '<c><v>{n}</v></c>',
    '<c r="{c}{r}"><v>{x}</v></c>', '<c r="{c}{r}" t="s"><v>99</v></c>',
    '<c r="{c}{r}" t="d"><v>{x}</v></c>', '<!--c-->',
]
_TEXTS = ["a", "&#20013;", "&amp;", "_x0041_", "&#38;lt;", "", " s ", "é", "&#95;x0041_"]
_NUMBERS = ["1", "-2.5", "1E-3", ".5", "5.", "1e400", "007", "0"]


@st.composite
def sheets(draw: st.DrawFn) -> bytes:
    rows = []
    r = 0
    for _ in range(draw(st.integers(1, 6))):
        r += draw(st.integers(1, 3))
        hidden = draw(st.sampled_from(["", ' hidden="1"', ' spans="1:3"', ' hidden="0"']))
        head = draw(st.sampled_from([f'<row r="{r}"{hidden}>', f"<row{hidden}>"]))
        cells = []
        for col in "ABCDE"[:draw(st.integers(0, 5))]:
            frag = draw(st.sampled_from(_CELLS))
            cells.append(frag.format(c=col, r=r, n=draw(st.sampled_from(_NUMBERS)),
                                     i=draw(st.integers(0, 3)), b=draw(st.sampled_from("01")),
                                     x=draw(st.sampled_from(_TEXTS))))
        rows.append(head + "".join(cells) + "</row>")
    return sheet("".join(rows))


@settings(max_examples=400, deadline=None)
@given(xml=sheets())
def test_generated_sheets_are_read_the_same_both_ways(xml: bytes) -> None:
    with pytest.MonkeyPatch.context() as mp:
        same_both_ways(xml, mp, [*SST, "x"])


def test_every_shipped_and_corpus_workbook_is_read_the_same_both_ways(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """All sheets of the Excel-saved corpus and the shipped workbooks (about 430)."""
    spy = Spy(monkeypatch)
    paths = sorted({*ROOT.glob("tests/**/*.xlsx"), *ROOT.glob("workbooks/**/*.xlsx")})
    sheets_read = 0
    for path in paths:
        book = load_book(str(path))
        for info in book.sheets:
            if info.part is None:
                continue
            xml = book.pkg.read(info.part)
            assert records(xml, True, monkeypatch, book.shared_strings) == \
                records(xml, False, monkeypatch, book.shared_strings), (path, info.part)
            sheets_read += 1
    print(f"{sheets_read} sheets, {spy.taken} in the compiled path")
    assert sheets_read > 400
    # most of them in the compiled path (the rest: dynamic arrays, rich values, <v> with
    # xml:space — Excel 365's less usual layouts)
    assert spy.taken > 0.7 * sheets_read and spy.declined > 0


# --------------------------------------------------------------------------- the writer's splice


def _written(src: Path, dst: Path, compiled: bool, monkeypatch: pytest.MonkeyPatch,
             spy: SpliceSpy) -> dict[str, bytes] | tuple[str, str]:
    """Every part of ``src`` recomputed into ``dst``, with or without the compiled parts."""
    import shutil
    import zipfile
    from datetime import datetime

    from xlbridge.batch import perf_functions
    from xlbridge.recompute import recalc_workbook

    monkeypatch.setattr(sheetxml, "_COMPILED", compiled)
    shutil.copy(src, dst)
    try:
        recalc_workbook(dst, functions=perf_functions(), clock=datetime(2026, 1, 1))
    except Exception as exc:
        return (type(exc).__name__, str(exc))
    with zipfile.ZipFile(dst) as z:
        return {n: z.read(n) for n in z.namelist()}


class SpliceSpy:
    """Wraps _speedups.splice: the bytes it spliced."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.spliced = 0
        real = sheetxml._speedups.splice

        def splice(*args: Any) -> Any:
            got = real(*args)
            self.spliced += len(got[0])
            return got

        monkeypatch.setattr(sheetxml._speedups, "splice", splice)


def test_workbooks_are_written_byte_for_byte_as_without_the_compiled_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus with its cached values blanked (so every formula cell is rewritten: numbers,
    texts, booleans, errors, #CALC!, cells whose t goes or comes), the shipped workbooks and
    the benchmark's templates: the same output files with the compiled scan and splice as
    with the Python ones."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "tests" / "corpus"))
    import oracle
    import recompute_bench

    sources = []
    for i, path in enumerate(oracle.corpus_files()):
        blank = tmp_path / f"blank{i}.xlsx"
        oracle.blank_copy(path, blank)
        sources.append(blank)
    sources += sorted(ROOT.glob("workbooks/**/*.xlsx"))
    for name, kw in (("perf", {"perf": True}), ("twin", {"perf": False}),
                     ("shared", {"perf": True, "shared": True})):
        recompute_bench.make_template(tmp_path / f"{name}.xlsx", 300, **kw)
        sources.append(tmp_path / f"{name}.xlsx")
    spy = SpliceSpy(monkeypatch)
    for src in sources:
        assert _written(src, tmp_path / "c.xlsx", True, monkeypatch, spy) == \
            _written(src, tmp_path / "p.xlsx", False, monkeypatch, spy), src
    assert spy.spliced > 1_000_000  # the compiled splice wrote most of it
