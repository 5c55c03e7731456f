"""Whole files: values stored as Excel stores them, and nothing else changed."""

from __future__ import annotations

import os
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from recompute_helpers import (
    add_vba,
    cells_of,
    handmade,
    make_shared,
    make_template,
    mask_formula_values,
    raw_members,
)

from xlbridge.recompute import (
    FUNCTIONS,
    current_caller,
    export_values,
    recalc_workbook,
    register_function,
    unregister_function,
)
from xlbridge.xlvalues import ExcelError


def _sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(part)


@pytest.fixture()
def template(tmp_path: Path) -> Path:
    return make_template(tmp_path / "考核.xlsx", rows=24)


def test_template_values(template: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    rep = recalc_workbook(template, out_path=out)
    assert rep.status == "ok" and rep.written
    assert not rep.unsupported and not rep.circular, rep.summary()
    assert rep.formulas == 24 * 5 + 5 and rep.recomputed == rep.formulas
    v = cells_of(out)
    # row 4: 员工0: 业绩 60, 能力 55, 态度 70 → 60*.5+55*.3+70*.2 = 60.5
    assert v["G4"] == 60.5
    assert v["H4"] == "合格"
    assert v["K4"] == 4000  # 0.8 * 5000, stored as an integer
    scores = [v[f"G{r}"] for r in range(4, 28)]
    assert sorted(v[f"I{r}"] for r in range(4, 28)) == sorted(
        1 + sum(1 for y in scores if y > x) for x in scores)
    assert v["G28"] == pytest.approx(sum(scores))
    assert v["H29"] == 50  # 本表权重 (sheet-scoped name) * 100


def test_only_formula_values_change(template: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    recalc_workbook(template, out_path=out)
    before = raw_members(template)
    after = raw_members(out)
    assert [m[0] for m in before] == [m[0] for m in after]
    changed = {b[0] for b, a in zip(before, after, strict=True) if b[2] != a[2] or b[1] != a[1]}
    # the sheets with formulas, and workbook.xml (fullCalcOnLoad removed) — nothing else
    assert changed == {"xl/worksheets/sheet1.xml", "xl/workbook.xml"}
    names = [m[0] for m in before]
    for part in ("xl/styles.xml", "xl/drawings/drawing1.xml", "xl/charts/chart1.xml",
                 "xl/media/image1.png", "xl/comments/comment1.xml"):
        assert part in names
    old, new = _sheet_xml(template), _sheet_xml(out)
    assert old != new
    assert mask_formula_values(old) == mask_formula_values(new)
    # merged cells, data validation, conditional formatting are in the unchanged bytes
    for needle in (b"<mergeCell ", b"<dataValidation ", b"<conditionalFormatting "):
        assert needle in new
    wb_old = _sheet_xml(template, "xl/workbook.xml")
    wb_new = _sheet_xml(out, "xl/workbook.xml")
    assert b'fullCalcOnLoad="1"' in wb_old and b'calcId="124519"' in wb_old   # openpyxl's
    # calcPr says the values are current: no full recalculation on open, and the engine id
    # of today's Excel (an older id would make Excel recalculate everything anyway)
    assert wb_new == wb_old.replace(b' fullCalcOnLoad="1"', b"").replace(
        b'calcId="124519"', b'calcId="191029"')
    assert b"<definedName" in wb_new


def test_value_encoding(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><v>90</v></c><c r="B1"><f>A1*1</f></c>'
            '<c r="C1"><f>A1/4</f><v/></c><c r="D1"><f>"x&lt;"&amp;A1</f><v></v></c>'
            '<c r="E1"><f>A1&gt;1</f><v>0</v></c><c r="F1"><f>1/0</f></c>'
            '<c r="G1"><f>0.1+0.2</f></c><c r="H1"><f>1E+20*3</f></c>'
            '<c r="I1"><f>-A1/1E+7</f></c><c r="J1"><f>""</f></c></row>')
    src = handmade(tmp_path / "h.xlsx", rows)
    out = tmp_path / "o.xlsx"
    recalc_workbook(src, out_path=out)
    xml = _sheet_xml(out).decode()
    assert '<c r="B1"><f>A1*1</f><v>90</v></c>' in xml
    assert '<c r="C1"><f>A1/4</f><v>22.5</v></c>' in xml
    assert '<c r="D1" t="str"><f>"x&lt;"&amp;A1</f><v>x&lt;90</v></c>' in xml
    assert '<c r="E1" t="b"><f>A1&gt;1</f><v>1</v></c>' in xml
    assert '<c r="F1" t="e"><f>1/0</f><v>#DIV/0!</v></c>' in xml
    assert '<c r="G1"><f>0.1+0.2</f><v>0.30000000000000004</v></c>' in xml
    assert '<c r="H1"><f>1E+20*3</f><v>3E+20</v></c>' in xml
    assert '<c r="I1"><f>-A1/1E+7</f><v>-9E-06</v></c>' in xml
    assert '<c r="J1" t="str"><f>""</f><v></v></c>' in xml


def test_type_attribute_replaced_and_removed(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><v>1</v></c>'
            '<c r="B1" s="3" t="str"><f>A1*2</f><v>old</v></c>'
            '<c r="C1" t="e"><f>A1&amp;"x"</f><v>#N/A</v></c>'
            '<c r="D1" s="2" t="b"><f>A1=1</f><v>0</v></c></row>')
    src = handmade(tmp_path / "h.xlsx", rows)
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert rep.changed == 3
    xml = _sheet_xml(out).decode()
    assert '<c r="B1" s="3"><f>A1*2</f><v>2</v></c>' in xml
    assert '<c r="C1" t="str"><f>A1&amp;"x"</f><v>1x</v></c>' in xml
    assert '<c r="D1" s="2" t="b"><f>A1=1</f><v>1</v></c>' in xml


def test_second_run_changes_nothing(template: Path, tmp_path: Path) -> None:
    once = tmp_path / "once.xlsx"
    recalc_workbook(template, out_path=once)
    stat = once.stat()
    data = once.read_bytes()
    rep = recalc_workbook(once)
    assert rep.changed == 0 and not rep.written
    assert once.read_bytes() == data and once.stat().st_mtime_ns == stat.st_mtime_ns


def test_dry_run_writes_nothing(template: Path) -> None:
    data = template.read_bytes()
    rep = recalc_workbook(template, dry_run=True)
    assert rep.status == "dry-run" and rep.changed > 0 and not rep.written
    assert template.read_bytes() == data
    assert not [p for p in template.parent.iterdir() if ".~xlbridge" in p.name]


def test_in_place_keeps_permissions(template: Path) -> None:
    os.chmod(template, 0o640)
    rep = recalc_workbook(template)
    assert rep.written
    assert (template.stat().st_mode & 0o777) == 0o640
    assert cells_of(template)["G4"] == 60.5


def test_xlsm_keeps_vba_byte_for_byte(template: Path, tmp_path: Path) -> None:
    xlsm = add_vba(template, tmp_path / "宏.xlsm")
    out = tmp_path / "out.xlsm"
    recalc_workbook(xlsm, out_path=out)
    before = {n: (c, raw) for n, c, raw in raw_members(xlsm)}
    after = {n: (c, raw) for n, c, raw in raw_members(out)}
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert after["[Content_Types].xml"] == before["[Content_Types].xml"]
    assert cells_of(out)["G4"] == 60.5


def test_shared_formulas(template: Path, tmp_path: Path) -> None:
    shared = make_shared(template, tmp_path / "shared.xlsx")
    xml = _sheet_xml(shared)
    assert xml.count(b't="shared"') > 20
    out = tmp_path / "out.xlsx"
    rep = recalc_workbook(shared, out_path=out)
    assert not rep.unsupported
    plain = tmp_path / "plain.xlsx"
    recalc_workbook(template, out_path=plain)
    assert cells_of(out) == cells_of(plain)
    assert mask_formula_values(_sheet_xml(shared)) == mask_formula_values(_sheet_xml(out))


def test_calc_chain_kept_when_formulas_stay(tmp_path: Path) -> None:
    chain = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><calcChain xmlns="http://'
             'schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="B1" i="1"/></calcChain>')
    src = handmade(tmp_path / "h.xlsx", '<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*3</f>'
                   '<v>0</v></c></row>', extra_parts={"xl/calcChain.xml": chain})
    out = tmp_path / "o.xlsx"
    recalc_workbook(src, out_path=out)
    with zipfile.ZipFile(out) as z:
        assert z.read("xl/calcChain.xml").decode() == chain


def test_prefixed_namespace_and_unusual_layouts(tmp_path: Path) -> None:
    sheet = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<x:sheetData>\n'
             '  <x:row r="1">\n'
             "    <x:c r='A1' t='n'><x:v>4</x:v></x:c>\n"
             '    <x:c s="1" r="B1"><x:f>A1*2</x:f><x:v>0</x:v></x:c>\n'
             '    <x:c r="C1" t="inlineStr"><x:is><x:r><x:t>ab</x:t></x:r><x:r><x:t>c</x:t></x:r>'
             '</x:is></x:c>\n'
             '    <x:c r="D1">\n      <x:f>C1&amp;B1</x:f>\n      <x:v></x:v>\n    </x:c>\n'
             '  </x:row>\n'
             '  <x:row><x:c><x:v>5</x:v></x:c><x:c><x:f>A2+1</x:f></x:c></x:row>\n'
             '</x:sheetData></x:worksheet>')
    src = handmade(tmp_path / "h.xlsx", "", sheet_xml=sheet)
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert not rep.unsupported, rep.summary()
    xml = _sheet_xml(out).decode()
    assert '<x:c s="1" r="B1"><x:f>A1*2</x:f><x:v>8</x:v></x:c>' in xml
    assert '<x:c r="D1" t="str">\n      <x:f>C1&amp;B1</x:f>\n      <x:v>abc8</x:v>\n    </x:c>' \
        in xml
    assert "<x:c><x:f>A2+1</x:f><x:v>6</x:v></x:c>" in xml
    assert mask_formula_values(sheet.encode()) == mask_formula_values(xml.encode())


def test_shared_strings_with_phonetic_runs(tmp_path: Path) -> None:
    sst = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.'
           'openxmlformats.org/spreadsheetml/2006/main"><si><t>优秀</t></si><si><r><t>张</t></r>'
           '<r><rPr><b/></rPr><t xml:space="preserve">三 </t></r><rPh sb="0" eb="1"><t>ZHANG'
           '</t></rPh></si><si><t>a_x0009_b</t></si></sst>')
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
            '<c r="C1" t="s"><v>2</v></c><c r="D1"><f>A1&amp;B1&amp;LEN(C1)</f></c></row>')
    src = handmade(tmp_path / "h.xlsx", rows, shared_strings=sst)
    out = tmp_path / "o.xlsx"
    recalc_workbook(src, out_path=out)
    assert "<v>优秀张三 3</v>" in _sheet_xml(out).decode()


def test_array_formulas(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>10</v></c>'
            '<c r="C1"><f t="array" ref="C1">SUM(A1:A3*B1:B3)</f><v>0</v></c>'
            '<c r="D1"><f t="array" ref="D1:D3">A1:A3*2</f><v>0</v></c></row>'
            '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><v>20</v></c><c r="D2"><v>0</v></c></row>'
            '<row r="3"><c r="A3"><v>3</v></c><c r="B3"><v>30</v></c><c r="D3"><v>0</v></c>'
            '<c r="E3"><f>SUM(D1:D3)</f><v>0</v></c></row>')
    src = handmade(tmp_path / "h.xlsx", rows)
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert not rep.unsupported, rep.summary()
    xml = _sheet_xml(out).decode()
    assert '<f t="array" ref="C1">SUM(A1:A3*B1:B3)</f><v>140</v>' in xml
    assert '<c r="D2"><v>4</v></c>' in xml and '<c r="D3"><v>6</v></c>' in xml
    assert '<c r="E3"><f>SUM(D1:D3)</f><v>12</v></c>' in xml


def test_dynamic_array_with_changed_size_keeps_values(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><v>1</v></c>'
            '<c r="B1" cm="1"><f t="array" ref="B1:B2">A1:A3*2</f><v>7</v></c></row>'
            '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><v>8</v></c></row>'
            '<row r="3"><c r="A3"><v>3</v></c></row>')
    src = handmade(tmp_path / "h.xlsx", rows)
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert [i.cell for i in rep.unsupported] == ["B1"]
    assert rep.unsupported[0].message == ("动态数组的结果为 3×1，文件中的溢出区域为 2×1；"
                                          "保留原有的值")
    assert cells_of(out)["B2"] == 8


def test_unsupported_function_keeps_cached_value(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><v>4</v></c><c r="B1"><f>CUBEVALUE(A1,2)</f><v>1.41</v></c>'
            '<c r="C1"><f>B1*100</f><v>0</v></c></row>')
    src = handmade(tmp_path / "h.xlsx", rows)
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert [str(i) for i in rep.unsupported] == ["Sheet1!B1: 不支持的函数 CUBEVALUE"]
    assert rep.unsupported_functions == {"CUBEVALUE": 1}
    v = cells_of(out)
    assert v["B1"] == 1.41 and v["C1"] == 141


def test_missing_value_keeps_full_calc_on_load(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = 4
    wb.active["B1"] = "=CUBEVALUE(A1,2)"
    src = tmp_path / "o.xlsx"
    wb.save(src)
    out = tmp_path / "out.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert any(n.startswith("保留了 fullCalcOnLoad：") for n in rep.notes)
    assert b'fullCalcOnLoad="1"' in _sheet_xml(out, "xl/workbook.xml")


def test_cross_sheet_and_chinese_names(tmp_path: Path) -> None:
    import openpyxl
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.Workbook()
    a = wb.active
    a.title = "一月"
    b = wb.create_sheet("二 月")
    a["A1"] = 10
    b["A1"] = 5
    a["B1"] = "='二 月'!A1*一月!A1"
    b["B1"] = "=一月!B1+Local"
    b["B2"] = "=SUM(一月!A:A)"
    b.defined_names["Local"] = DefinedName("Local", attr_text="'二 月'!$A$1")
    wb.defined_names["Local"] = DefinedName("Local", attr_text="一月!$A$1")
    a["B2"] = "=Local"
    src = tmp_path / "x.xlsx"
    wb.save(src)
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert not rep.unsupported
    assert cells_of(out, "一月") == {"A1": 10, "B1": 50, "B2": 10}
    assert cells_of(out, "二 月") == {"A1": 5, "B1": 55, "B2": 10}


# ------------------------------------------------------------------------- registered functions


@pytest.fixture()
def perf_functions():
    calls: list[tuple] = []

    def perf_grade(score, table=None):
        calls.append((score, table, str(current_caller())))
        if isinstance(score, ExcelError):
            return score
        if score is None:
            return "缺考"
        return "优秀" if score >= 90 else "合格"

    def perf_sum(rows):
        calls.append(("sum", rows))
        return Decimal(sum(v for r in rows for v in r if isinstance(v, float)))

    def perf_boom(x):
        raise RuntimeError("规则表缺少第3档")

    def perf_pair(x):
        return [[x, x * 2]]

    register_function("PERF_GRADE", perf_grade)
    register_function("PERF_SUM", perf_sum)
    register_function("PERF_BOOM", perf_boom)
    register_function("PERF_PAIR", perf_pair)
    yield calls
    for n in ("PERF_GRADE", "PERF_SUM", "PERF_BOOM", "PERF_PAIR"):
        unregister_function(n)


def test_registered_functions(tmp_path: Path, perf_functions: list) -> None:
    assert "PERF_GRADE" in FUNCTIONS
    rows = ('<row r="1"><c r="A1"><v>95</v></c><c r="B1"><f>PERF_GRADE(A1)</f></c>'
            '<c r="C1"><f>_xll.PERF_GRADE(A9,A1:A2)</f></c>'
            '<c r="D1"><f>PERF_SUM(A1:A3)</f></c><c r="E1"><f>PERF_BOOM(1)</f></c>'
            '<c r="F1"><f>PERF_GRADE(1/0)</f></c><c r="G1"><f>PERF_PAIR(3)</f></c>'
            '<c r="H1"><f>IFERROR(PERF_BOOM(1),"兜底")</f></c></row>'
            '<row r="2"><c r="A2" t="str"><v>x</v></c></row>'
            '<row r="3"><c r="A3"><v>5</v></c></row>')
    src = handmade(tmp_path / "h.xlsx", rows, name="考核")
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    v = cells_of(out)
    assert v["B1"] == "优秀" and v["C1"] == "缺考" and v["D1"] == 100 and v["G1"] == 3
    assert v["E1"] == "#VALUE!" and v["F1"] == "#DIV/0!" and v["H1"] == "兜底"
    assert (95.0, None, "考核!B1") in perf_functions
    assert (None, [[95.0], ["x"]], "考核!C1") in perf_functions
    assert ("sum", [[95.0], ["x"], [5.0]]) in perf_functions
    err = [i for i in perf_functions if isinstance(i[0], ExcelError)]
    assert err and err[0][0].code == "#DIV/0!"
    assert [str(i) for i in rep.function_errors] == [
        "考核!E1: PERF_BOOM: RuntimeError: 规则表缺少第3档",
        "考核!H1: PERF_BOOM: RuntimeError: 规则表缺少第3档"]


def test_functions_argument_for_one_call(tmp_path: Path) -> None:
    src = handmade(tmp_path / "h.xlsx", '<row r="1"><c r="A1"><f>MY_TWICE(21)</f></c></row>')
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out, functions={"my_twice": lambda x: x * 2})
    assert not rep.unsupported and cells_of(out)["A1"] == 42
    rep = recalc_workbook(src, out_path=out)
    assert rep.unsupported_functions == {"MY_TWICE": 1}


def test_register_function_refuses_duplicates() -> None:
    with pytest.raises(ValueError):
        register_function("SUM", lambda *a: 0)
    with pytest.raises(ValueError):
        register_function("bad name", lambda *a: 0)


def test_export_values(tmp_path: Path, perf_functions: list) -> None:
    chain = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><calcChain xmlns="http://'
             'schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="B1" i="1"/></calcChain>')
    rows = ('<row r="1"><c r="A1"><v>95</v></c><c r="B1" s="4" t="str"><f>PERF_GRADE(A1)</f>'
            '<v>旧</v></c><c r="C1"><f>A1*2</f></c><c r="D1"><f>PERF_SUM(A1:A2)+1</f></c></row>'
            '<row r="2"><c r="A2"><v>50</v></c><c r="B2"><f t="shared" ref="B2:B3" si="0">'
            'PERF_GRADE(A2)</f></c></row><row r="3"><c r="A3"><v>91</v></c><c r="B3">'
            '<f t="shared" si="0"/></c></row>')
    ct = ('<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.calcChain+xml"/>')
    src = handmade(tmp_path / "h.xlsx", rows, extra_parts={"xl/calcChain.xml": chain})
    # register the calc chain like Excel does
    with zipfile.ZipFile(src) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", ct.encode() + b"</Types>")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts.items():
            z.writestr(n, d)
    out = tmp_path / "values.xlsx"
    rep = export_values(src, out)
    assert rep.status == "ok"
    xml = _sheet_xml(out).decode()
    assert ('<c r="B1" s="4" t="inlineStr"><is><t xml:space="preserve">优秀</t></is></c>'
            in xml)
    assert '<c r="C1"><f>A1*2</f><v>190</v></c>' in xml
    assert '<c r="D1"><v>146</v></c>' in xml
    assert "PERF_" not in xml and "<f" in xml
    assert '<c r="B3" t="inlineStr"><is><t xml:space="preserve">优秀</t></is></c>' in xml
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert "xl/calcChain.xml" not in names
        assert b"calcChain" not in z.read("[Content_Types].xml")
        assert b"calcChain" not in z.read("xl/_rels/workbook.xml.rels")
    assert '<c r="B2" t="inlineStr"><is><t xml:space="preserve">合格</t></is></c>' in xml
    with pytest.raises(ValueError):
        export_values(src, src)


def test_copy_to_other_folder(template: Path, tmp_path: Path) -> None:
    other = tmp_path / "sub"
    other.mkdir()
    rep = recalc_workbook(template, out_path=other / "copy.xlsx")
    assert rep.written and (other / "copy.xlsx").exists()
    shutil.rmtree(other)


def test_report_is_json_serializable(template: Path, tmp_path: Path) -> None:
    import json

    from xlbridge.recompute import recompute_file

    rep = recompute_file(template, out_path=tmp_path / "o.xlsx", dry_run=True)
    assert rep.status == "dry-run" and not (tmp_path / "o.xlsx").exists()
    d = json.loads(json.dumps(rep.to_dict(), ensure_ascii=False))
    assert d["formulas"] == rep.formulas and d["status"] == "dry-run"
    assert set(d["timings"]) >= {"read", "compile", "evaluate", "total"}
    assert "：dry-run；重算公式 " in rep.summary()


def test_non_finite_results_are_stored_as_errors(tmp_path: Path) -> None:
    from xlbridge.recompute.sheetxml import value_xml

    assert value_xml(float("inf")) == (b"e", b"#NUM!")
    assert value_xml(float("nan")) == (b"e", b"#NUM!")
    assert value_xml(90.0) == (None, b"90")
    assert value_xml(-0.0) == (None, b"0")
    assert value_xml(1e16) == (None, b"1E+16")
    assert value_xml(0.1) == (None, b"0.1")
    assert value_xml("a<b&\x01") == (b"str", b"a&lt;b&amp;_x0001_")


def test_full_calc_flag_removed_even_when_values_are_right(template: Path, tmp_path: Path) -> None:
    once = tmp_path / "once.xlsx"
    recalc_workbook(template, out_path=once)
    # put the flag back, as a tool re-saving the file might
    with zipfile.ZipFile(once) as z:
        parts = [(i, z.read(i)) for i in z.infolist()]
    flagged = tmp_path / "flagged.xlsx"
    with zipfile.ZipFile(flagged, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"<calcPr ", b'<calcPr fullCalcOnLoad="1" ')
            z.writestr(info, data)
    rep = recalc_workbook(flagged)
    assert rep.changed == 0 and rep.written
    assert b"fullCalcOnLoad" not in _sheet_xml(flagged, "xl/workbook.xml")


@pytest.mark.parametrize(("before", "after"), [
    # openpyxl's file: full recalculation asked for, Excel 2007's engine id
    (b'<workbook><sheets/><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>',
     b'<workbook><sheets/><calcPr calcId="191029"/></workbook>'),
    # no calcId counts as 0: Excel would recalculate everything
    (b"<workbook><sheets/><calcPr/></workbook>",
     b'<workbook><sheets/><calcPr calcId="191029"/></workbook>'),
    # no calcPr at all: one is added where the schema puts it (before extLst)
    (b"<workbook><sheets/><definedNames/><extLst/></workbook>",
     b'<workbook><sheets/><definedNames/><calcPr calcId="191029"/><extLst/></workbook>'),
    (b'<x:workbook xmlns:x="u"><x:sheets/></x:workbook>',
     b'<x:workbook xmlns:x="u"><x:sheets/><x:calcPr calcId="191029"/></x:workbook>'),
    # a newer engine's id is kept
    (b'<workbook><calcPr calcId="200000" fullCalcOnLoad="true"></calcPr></workbook>',
     b'<workbook><calcPr calcId="200000"></calcPr></workbook>'),
])
def test_calc_properties_say_the_values_are_current(before, after):
    from xlbridge.recompute.writer import calc_properties

    fixed, notes = calc_properties(before)
    assert fixed == after and notes
    assert calc_properties(after) == (None, [])      # Excel's own files stay untouched
