"""Errors Excel stores as rich values (#CALC!, #SPILL!), read and written as Excel does.

Excel 365 writes ``<c t="e" vm="N"><v>#VALUE!</v></c>`` with N pointing through
xl/metadata.xml to a rich value ``_error`` in xl/richData (recompute/richvalues.py). These tests
run the real recalculation on files Excel saved (tests/corpus) and on files openpyxl wrote,
and read what was written with zipfile + lxml, with openpyxl and with LibreOffice.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree
from recompute_helpers import cells_of, compute_formulas, handmade, write_zip

from xlbridge.recompute import recalc_workbook
from xlbridge.xlvalues import ExcelError

CALC_TESTS = Path(__file__).resolve().parents[1] / "corpus" / "excel" / "ironcalc" / "calc_tests"
ERROR_TYPE = CALC_TESTS / "INFORMATION" / "ERROR.TYPE.xlsx"
FILTER_ERRORS = CALC_TESTS / "LOOKUP_AND_REFERENCE" / "FILTER_ERRORS.xlsx"
DROP_TAKE = CALC_TESTS / "LOOKUP_AND_REFERENCE" / "DROP_TAKE.xlsx"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RD = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CTYPES = "http://schemas.openxmlformats.org/package/2006/content-types"


def edited(src: Path, dst: Path, edits: dict[str, list[tuple[bytes, bytes]]],
           drop: tuple[str, ...] = ()) -> Path:
    """A copy of ``src`` with byte replacements in some members and some members left out."""
    parts: dict[str, bytes | str] = {}
    with zipfile.ZipFile(src) as z:
        for name in z.namelist():
            if name in drop:
                continue
            data = z.read(name)
            for old, new in edits.get(name, []):
                assert old in data, (name, old)
                data = data.replace(old, new)
            parts[name] = data
    return write_zip(dst, parts)


def xml(path: Path, member: str) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read(member))


def cell(path: Path, ref: str, sheet: str = "xl/worksheets/sheet1.xml") -> etree._Element:
    found = xml(path, sheet).find(f".//{{{MAIN}}}c[@r='{ref}']")
    assert found is not None, ref
    return found


def rich_value(path: Path, vm: int) -> tuple[str, list[str]]:
    """vm → (structure type, values) of the rich value, followed by hand (as Excel does)."""
    meta = xml(path, "xl/metadata.xml")
    types = [m.get("name") for m in meta.iter(f"{{{MAIN}}}metadataType")]
    bk = list(meta.find(f"{{{MAIN}}}valueMetadata"))[vm - 1]
    rc = bk.find(f"{{{MAIN}}}rc")
    assert types[int(rc.get("t")) - 1] == "XLRICHVALUE"
    future = next(f for f in meta.iter(f"{{{MAIN}}}futureMetadata")
                  if f.get("name") == "XLRICHVALUE")
    rvb = list(future)[int(rc.get("v"))].find(f".//{{{RD}}}rvb")
    rv = list(xml(path, "xl/richData/rdrichvalue.xml"))[int(rvb.get("i"))]
    s = list(xml(path, "xl/richData/rdrichvaluestructure.xml"))[int(rv.get("s"))]
    keys = [k.get("n") for k in s]
    assert keys == ["errorType", "subType"]
    return s.get("t"), [v.text for v in rv]


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def calc_book(path: Path) -> Path:
    """A workbook as openpyxl writes it (no metadata parts) with two #CALC! formulas."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(1, 4):
        ws.cell(i, 1, i * 10)
    ws["B1"] = "=FILTER(A1:A3,A1:A3>100)"
    ws["B2"] = "=SEQUENCE(0)"
    ws["B3"] = "=ERROR.TYPE(B1)"
    ws["B4"] = '=IFERROR(B2,"无结果")'
    ws["B5"] = "=SUM(A1:A3)"
    wb.save(path)
    return path


# ------------------------------------------------------------------------- functions


def test_functions_give_excel_365s_calc_error() -> None:
    """FILTER with nothing to return, SEQUENCE(0), TAKE/DROP leaving nothing, a LAMBDA helper
    whose body gives an array: #CALC! in Excel 365 (the Microsoft docs; the corpus files
    DROP_TAKE/SEQUENCE/FILTER_ERRORS hold Excel's values); SEQUENCE(-1) stays #VALUE!."""
    cases = [
        ("=FILTER({1;2;3},{1;2;3}>10)", "#CALC!"),
        ('=FILTER({1;2;3},{1;2;3}>10,"无")', "无"),
        ("=FILTER({1,2,3},{0,0,0})", "#CALC!"),
        ("=SEQUENCE(0)", "#CALC!"),
        ("=SEQUENCE(0.3)", "#CALC!"),
        ("=SEQUENCE(2,0)", "#CALC!"),
        ("=SEQUENCE(-1)", "#VALUE!"),
        ("=TAKE({1;2;3},0)", "#CALC!"),
        ("=DROP({1;2;3},3)", "#CALC!"),
        ("=DROP({1;2;3},-5)", "#CALC!"),
        ("=DROP({1;2;3},1,1)", "#CALC!"),
        ("=UNIQUE({1;1},,TRUE)", "#CALC!"),
        ("=BYROW({1,2;3,4},LAMBDA(r,r))", "#CALC!"),
        ("=BYROW({1,2;3,4},LAMBDA(r,SUM(r)))", 3.0),
        ("=MAP({1;2},LAMBDA(x,{1,2}))", "#CALC!"),
        ("=REDUCE(0,{1,2,3},LAMBDA(a,v,a+v))", 6.0),
        ("=ERROR.TYPE(SEQUENCE(0))", 14.0),
        ("=ISERROR(FILTER({1},{0}))", True),
    ]
    got = compute_formulas([f for f, _ in cases])
    bad = []
    for (f, want), g in zip(cases, got, strict=True):
        value = g.code if isinstance(g, ExcelError) else g
        if value != want:
            bad.append(f"{f}: {value!r}, Excel 365 {want!r}")
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------------- reading


def test_constant_rich_errors_are_read_as_excel_does(tmp_path: Path) -> None:
    """ERROR.TYPE.xlsx A8/A14 hold #CALC!/#SPILL! as #VALUE! + vm: ERROR.TYPE of them is 14
    and 9 (Excel's cached values), not 3 as a reader blind to vm would compute."""
    src = tmp_path / "ERROR.TYPE.xlsx"
    blanked = edited(ERROR_TYPE, src, {"xl/worksheets/sheet1.xml": [
        (b"<v>14</v>", b""), (b"<v>9</v>", b"")]})
    out = tmp_path / "out.xlsx"
    recalc_workbook(blanked, out_path=out)
    assert cell(out, "B8").find(f"{{{MAIN}}}v").text == "14"
    assert cell(out, "B14").find(f"{{{MAIN}}}v").text == "9"
    # the constant cells themselves are not touched
    assert members(out)["xl/metadata.xml"] == members(ERROR_TYPE)["xl/metadata.xml"]
    assert cell(out, "A8").get("vm") == "1" and cell(out, "A14").get("vm") == "2"


def test_broken_value_metadata_keeps_value_and_says_so(tmp_path: Path) -> None:
    """A metadata part that is not XML, or a relationship to a missing rich-value part: the
    cells stay the #VALUE! they say, the recalculation goes on, and the report says why."""
    for name, edit, drop in [
            ("notxml", {"xl/metadata.xml": [(b"</metadata>", b"")]}, ()),
            ("missing", {}, ("xl/richData/rdrichvalue.xml",))]:
        src = edited(ERROR_TYPE, tmp_path / f"{name}.xlsx", edit, drop)
        out = tmp_path / f"{name}.out.xlsx"
        rep = recalc_workbook(src, out_path=out)
        assert cell(out, "B8").find(f"{{{MAIN}}}v").text == "3", name
        assert any("值元数据" in n for n in rep.notes), (name, rep.notes)


def test_a_new_calc_is_written_plain_value_when_the_metadata_is_broken(tmp_path: Path) -> None:
    """FILTER_ERRORS.xlsx E1 (#CALC!) with its metadata broken: read as #VALUE!, computed as
    #CALC!, written as the plain #VALUE! (no vm to a part that cannot be read), with a note."""
    src = edited(FILTER_ERRORS, tmp_path / "f.xlsx", {
        "xl/metadata.xml": [(b"</metadata>", b"")]})
    out = tmp_path / "f.out.xlsx"
    rep = recalc_workbook(src, out_path=out)
    e1 = cell(out, "E1")
    assert e1.get("t") == "e" and e1.get("vm") is None
    assert e1.find(f"{{{MAIN}}}v").text == "#VALUE!"
    assert any(n.startswith("#CALC! 写成了 #VALUE!") for n in rep.notes), rep.notes


# ------------------------------------------------------------------------- writing


def test_a_new_calc_in_a_file_without_rich_values(tmp_path: Path) -> None:
    """openpyxl's file has no metadata: the parts, content types and relationships are
    created in the form Excel writes them (the corpus files), one rich value shared by
    every #CALC! cell; the file reads back as #CALC! and recomputing it again changes
    nothing."""
    src = calc_book(tmp_path / "new.xlsx")
    out = tmp_path / "out.xlsx"
    recalc_workbook(src, out_path=out)
    for ref in ("B1", "B2"):
        c = cell(out, ref)
        assert (c.get("t"), c.get("vm"), c.find(f"{{{MAIN}}}v").text) == ("e", "1", "#VALUE!")
    assert cell(out, "B3").find(f"{{{MAIN}}}v").text == "14"
    assert cell(out, "B5").get("vm") is None
    assert rich_value(out, 1) == ("_error", ["13", "3"])  # as Excel: errorType 13, EmptyArray
    parts = members(out)
    types = {o.get("PartName"): o.get("ContentType")
             for o in etree.fromstring(parts["[Content_Types].xml"])}
    excel = {o.get("PartName"): o.get("ContentType")
             for o in etree.fromstring(members(ERROR_TYPE)["[Content_Types].xml"])}
    for part in ("/xl/metadata.xml", "/xl/richData/rdrichvalue.xml",
                 "/xl/richData/rdrichvaluestructure.xml", "/xl/richData/rdRichValueTypes.xml"):
        assert types[part] == excel[part], part
    rels = {r.get("Type"): r.get("Target")
            for r in etree.fromstring(parts["xl/_rels/workbook.xml.rels"])}
    excel_rels = {r.get("Type"): r.get("Target")
                  for r in etree.fromstring(members(ERROR_TYPE)["xl/_rels/workbook.xml.rels"])}
    for typ, target in excel_rels.items():
        if "rdRich" in typ or typ.endswith("/sheetMetadata"):
            assert rels[typ] == target, typ
    ids = [r.get("Id") for r in etree.fromstring(parts["xl/_rels/workbook.xml.rels"])]
    assert len(ids) == len(set(ids))
    c14n = lambda b: etree.tostring(etree.fromstring(b), method="c14n")  # noqa: E731
    for part in ("xl/richData/rdRichValueTypes.xml", "xl/richData/rdrichvaluestructure.xml"):
        assert c14n(parts[part]) == c14n(members(ERROR_TYPE)[part]), part
    # openpyxl, which does not follow vm, sees what it sees in Excel's own files: #VALUE!
    assert cells_of(out)["B1"] == "#VALUE!"
    assert cells_of(ERROR_TYPE)["A8"] == "#VALUE!"
    # xlbridge reads its own file back: nothing to change the second time
    again = tmp_path / "again.xlsx"
    rep = recalc_workbook(out, out_path=again)
    assert rep.changed == 0, rep
    assert members(again)["xl/metadata.xml"] == parts["xl/metadata.xml"]
    assert cell(again, "B1").get("vm") == "1"


def test_an_existing_rich_value_is_reused(tmp_path: Path) -> None:
    """FILTER_ERRORS.xlsx with E1's value blanked (t, v and vm gone): the new #CALC! points
    at the file's own rich value, and the rich-value parts are copied untouched."""
    src = edited(FILTER_ERRORS, tmp_path / "f.xlsx", {"xl/worksheets/sheet1.xml": [
        (b'<c r="E1" t="e" cm="1" vm="1"><f t="array" ref="E1">_xlfn._xlws.FILTER'
         b'(A1:A4,A1:A4&gt;10)</f><v>#VALUE!</v></c>',
         b'<c r="E1" cm="1"><f t="array" ref="E1">_xlfn._xlws.FILTER'
         b'(A1:A4,A1:A4&gt;10)</f></c>')]})
    out = tmp_path / "out.xlsx"
    recalc_workbook(src, out_path=out)
    assert cell(out, "E1").get("vm") == "1"
    before, after = members(FILTER_ERRORS), members(out)
    for part in ("xl/metadata.xml", "xl/richData/rdrichvalue.xml", "[Content_Types].xml",
                 "xl/_rels/workbook.xml.rels"):
        assert after[part] == before[part], part


def test_a_spill_error_extends_the_existing_parts(tmp_path: Path) -> None:
    """FILTER_ERRORS.xlsx has a #CALC! rich value after a dynamic-array metadata type
    (rc t="2"); a formula giving #SPILL! gets a second rich value, block and vm, the counts
    follow, and no part, content type or relationship is added twice."""
    src = edited(FILTER_ERRORS, tmp_path / "f.xlsx", {"xl/worksheets/sheet1.xml": [
        (b"_xlfn._xlws.FILTER(G1:G3,H1:H3)", b"IF(TRUE,#SPILL!)")]})
    out = tmp_path / "out.xlsx"
    recalc_workbook(src, out_path=out)
    j1 = cell(out, "J1")
    assert (j1.get("t"), j1.get("vm"), j1.find(f"{{{MAIN}}}v").text) == ("e", "2", "#VALUE!")
    assert rich_value(out, 2) == ("_error", ["8", "0"])
    assert rich_value(out, 1) == ("_error", ["13", "3"])  # E1's is still there
    meta = xml(out, "xl/metadata.xml")
    vmeta = meta.find(f"{{{MAIN}}}valueMetadata")
    assert vmeta.get("count") == "2" and len(vmeta) == 2
    assert list(vmeta)[1].find(f"{{{MAIN}}}rc").attrib == {"t": "2", "v": "1"}
    assert xml(out, "xl/richData/rdrichvalue.xml").get("count") == "2"
    before, after = members(FILTER_ERRORS), members(out)
    assert sorted(after) == sorted(before)
    for part in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels",
                 "xl/richData/rdrichvaluestructure.xml", "xl/richData/rdRichValueTypes.xml"):
        assert after[part] == before[part], part


def test_a_cell_that_is_no_longer_a_rich_error_loses_its_vm(tmp_path: Path) -> None:
    """DROP_TAKE.xlsx C2 was #CALC! (vm="1"); with a formula that now returns a value, the
    stale vm goes — Excel would otherwise show the rich #CALC! over the new value."""
    src = edited(DROP_TAKE, tmp_path / "d.xlsx", {"xl/worksheets/sheet1.xml": [
        (b"_xlfn.DROP(A2:A8,-7)", b"_xlfn.DROP(A2:A8,-6)"),
        (b"_xlfn.TAKE($A$2:$A$8, 0)", b"ROWS($A$2:$A$8)")]})
    out = tmp_path / "out.xlsx"
    recalc_workbook(src, out_path=out)
    c2, l2, f2 = cell(out, "C2"), cell(out, "L2"), cell(out, "F2")
    assert c2.get("vm") is None and c2.get("t") == "str"
    assert c2.find(f"{{{MAIN}}}v").text == cells_of(DROP_TAKE)["A2"]
    assert l2.get("vm") is None and l2.get("t") is None
    assert l2.find(f"{{{MAIN}}}v").text == "7"
    assert f2.get("vm") == "1"  # still #CALC!: untouched


def test_handmade_vm_without_metadata_is_dropped_with_the_value(tmp_path: Path) -> None:
    """A cell claiming a rich value in a file that has none: read as the #VALUE! it says,
    and a new value replaces it without the dangling vm."""
    src = handmade(tmp_path / "h.xlsx",
                   '<row r="1"><c r="A1" t="e" vm="7"><v>#VALUE!</v></c>'
                   '<c r="B1" t="e" vm="3"><f>1+1</f><v>#VALUE!</v></c>'
                   '<c r="C1"><f>ERROR.TYPE(A1)</f></c></row>')
    out = tmp_path / "out.xlsx"
    recalc_workbook(src, out_path=out)
    assert cell(out, "B1").get("vm") is None and cell(out, "B1").get("t") is None
    assert cell(out, "C1").find(f"{{{MAIN}}}v").text == "3"
    assert cell(out, "A1").get("vm") == "7"  # a constant: not the recalculation's to change


@pytest.mark.slow
def test_libreoffice_opens_a_file_with_a_new_calc(tmp_path: Path) -> None:
    """The written file (new metadata and richData parts) opens in LibreOffice, which shows
    the other values as written."""
    from test_recompute_libreoffice import _values, convert

    src = calc_book(tmp_path / "src.xlsx")
    ours = tmp_path / "ours"
    ours.mkdir()
    recalc_workbook(src, out_path=ours / "calc.xlsx")
    assert cell(ours / "calc.xlsx", "B1").get("vm") == "1"
    shown = convert([ours / "calc.xlsx"], tmp_path / "shown", recalc=False, work=tmp_path)
    lo = _values(shown[ours / "calc.xlsx"])
    assert lo[("Sheet", "B5")] == 60
    assert lo[("Sheet", "B3")] == 14
    assert lo[("Sheet", "A3")] == 30
    assert isinstance(lo[("Sheet", "B1")], str) and lo[("Sheet", "B1")].startswith("#")
