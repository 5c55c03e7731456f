"""The fast paths of the recalculator give exactly what the general code gives.

Each test targets one shortcut taken for speed (issue #12, item 4): the formula-cell batches
of the sheet scan, the per-column template of copied formulas, ROUND without Decimal, the
plan that skips cells without a stored value, and the writer's cache of number texts —
through real files where the shortcut is taken on a file, and against the general code
where there is one.
"""

from __future__ import annotations

import math
import zipfile
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from recompute_helpers import cells_of, handmade

from xlbridge.recompute import FileRejected, recalc_workbook, sheetxml
from xlbridge.recompute.formula import KeyTemplates, relative_key_raw
from xlbridge.recompute.memory import compute
from xlbridge.recompute.sheetxml import _BATCH
from xlbridge.recompute.values import xl_round


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml").decode("utf-8")


# --------------------------------------------------------------------------- ROUND


def _decimal_round(x: float, n: int) -> float:
    """Excel's ROUND as the general path computes it: the 15-digit decimal, half up."""
    d = Decimal(f"{x:.15g}").quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP,
                                      context=Context(prec=60))
    return float(d)


def _same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e16,
                           max_value=1e16),
                 st.integers(-10**9, 10**9).map(lambda k: k / 1000),       # 3 decimals
                 st.integers(-10**9, 10**9).map(lambda k: (k + 0.5) / 100)),  # halves
       st.integers(0, 15))
@settings(max_examples=1500, deadline=None)
def test_round_fast_path_is_the_decimal_rounding(x: float, n: int) -> None:
    if x == 0.0:
        return
    assert _same_float(xl_round(x, float(n)), _decimal_round(x, n)), (x, n)


def test_round_at_the_halves_excel_is_known_for() -> None:
    # 2.675 is 2.67499999999999982236431605997495353221893310546875 as a double; Excel
    # (and xlbridge) round its 15-digit decimal 2.675 up
    assert xl_round(2.675, 2.0) == 2.68
    assert xl_round(-2.675, 2.0) == -2.68
    assert xl_round(1.005, 2.0) == 1.01
    assert xl_round(0.285, 2.0) == 0.29
    assert xl_round(85.5 * 0.8, 2.0) == 68.4
    assert _same_float(xl_round(-0.001, 2.0), -0.0)


# --------------------------------------------------------------------------- templates


def test_column_with_a_middle_row_that_differs(tmp_path: Path) -> None:
    """B is A*2 filled down, except row 5 (reads the row above) and row 6 (another
    constant): the template of the column must not be taken for those rows, and must be
    taken again below them."""
    rows = []
    for r in range(1, 10):
        f = {5: "A4*2", 6: "A6*3"}.get(r, f"A{r}*2")
        rows.append(f'<row r="{r}"><c r="A{r}"><v>{r * 10}</v></c>'
                    f'<c r="B{r}"><f>{f}</f></c></row>')
    src = handmade(tmp_path / "h.xlsx", "".join(rows))
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert rep.recomputed == 9 and not rep.unsupported
    v = cells_of(out)
    assert [v[f"B{r}"] for r in range(1, 10)] == [20, 40, 60, 80, 80, 180, 140, 160, 180]


def test_template_never_fits_outside_the_grid() -> None:
    """A copy whose row numbers would leave Excel's grid (row 0, row 1,048,577) is not a
    reference there: the key must come from the formula itself, not from the template."""
    t = KeyTemplates()
    t.key(b"D1*2", 5, 8)
    assert t.key(b"D0*2", 4, 8) == relative_key_raw(b"D0*2", 4, 8)
    t = KeyTemplates()
    t.key(b"D1048576+1", 5, 8)
    assert t.key(b"D1048577+1", 6, 8) == relative_key_raw(b"D1048577+1", 6, 8)
    # and inside the grid the template is taken (same key object: no second parse)
    t = KeyTemplates()
    k1 = t.key(b"D5*2+E5", 5, 8)
    assert t.key(b"D6*2+E6", 6, 8) is k1
    assert t.key(b"D6*2+E7", 6, 8) != k1  # same shape, rows that do not follow the cell


def test_template_with_a_percent_sign() -> None:
    t = KeyTemplates()
    k1 = t.key(b"A5*10%", 5, 2)
    assert t.key(b"A6*10%", 6, 2) is k1
    assert t.key(b"A7*20%", 7, 2) != k1


# --------------------------------------------------------------------------- scan batches


def test_more_formula_cells_than_one_batch(tmp_path: Path) -> None:
    """The scan moves formula cells into the table in batches: shared-formula groups and
    array formulas after the first batch must still find their own rows (ref, si), and a
    sheet of more than one writer chunk (256 KiB) comes back whole."""
    n = _BATCH + 500
    rows = [f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><f>A{r}*2</f><v></v></c>'
            f'<c r="C{r}" t="n"><f>A{r}+B{r}</f><v>0</v></c></row>' for r in range(1, n + 1)]
    r = n + 1
    rows.append(f'<row r="{r}"><c r="A{r}"><v>7</v></c>'
                f'<c r="B{r}"><f t="shared" ref="B{r}:B{r + 2}" si="0">A{r}*3</f><v/></c>'
                f'<c r="C{r}"><f t="array" ref="C{r}:C{r + 1}">A{r}:A{r + 1}*10</f><v/></c>'
                '</row>')
    rows.append(f'<row r="{r + 1}"><c r="A{r + 1}"><v>8</v></c>'
                f'<c r="B{r + 1}"><f t="shared" si="0"/><v/></c><c r="C{r + 1}"><v/></c></row>')
    rows.append(f'<row r="{r + 2}"><c r="A{r + 2}"><v>9</v></c>'
                f'<c r="B{r + 2}"><f t="shared" si="0"/></c></row>')
    src = handmade(tmp_path / "h.xlsx", "".join(rows))
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert not rep.unsupported, rep.summary()
    assert rep.formulas == 2 * n + 4
    v = cells_of(out)
    assert all(v[f"B{k}"] == 2 * k and v[f"C{k}"] == 3 * k for k in range(1, n + 1))
    assert [v[f"B{r}"], v[f"B{r + 1}"], v[f"B{r + 2}"]] == [21, 24, 27]
    assert [v[f"C{r}"], v[f"C{r + 1}"]] == [70, 80]
    xml = _sheet_xml(out)
    assert len(xml) > 256 << 10
    assert f'<c r="C{n}" t="n"><f>A{n}+B{n}</f><v>{3 * n}</v></c>' in xml


# --------------------------------------------------------------------------- plan and writer


def test_cells_read_but_not_written_keep_their_bytes(tmp_path: Path) -> None:
    """Inputs that formulas read, and formula cells whose stored value is already right,
    are copied byte for byte (odd quoting and attribute order included); only cells with
    a missing or stale value get a new <v>."""
    rows = ("<row r='1'><c r='A1' s='4' t='n'><v>1.50</v></c>"
            '<c r="B1"><f>A1*2</f><v>3</v></c>'                 # right: kept as it is
            '<c r="C1"><f>A1*2</f><v>4</v></c>'                 # stale: rewritten
            '<c r="D1"><f>A1*2</f></c>'                         # no value: written
            "<c t='str' r='E1'><f>A1&amp;\"\"</f><v>1.5</v></c>"  # right, odd layout
            '<c r="F1"><f>-A1*0</f><v>5</v></c>'                # -0: stored as 0
            '<c r="G1"><f>A1*2</f><v>3</v></c></row>')
    src = handmade(tmp_path / "h.xlsx", rows)
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert rep.changed == 3
    xml = _sheet_xml(out)
    assert "<c r='A1' s='4' t='n'><v>1.50</v></c>" in xml
    assert '<c r="B1"><f>A1*2</f><v>3</v></c>' in xml
    assert '<c r="C1"><f>A1*2</f><v>3</v></c>' in xml
    assert '<c r="D1"><f>A1*2</f><v>3</v></c>' in xml
    assert "<c t='str' r='E1'><f>A1&amp;\"\"</f><v>1.5</v></c>" in xml
    assert '<c r="F1"><f>-A1*0</f><v>0</v></c>' in xml
    assert '<c r="G1"><f>A1*2</f><v>3</v></c>' in xml


def test_repeated_results_of_every_type(tmp_path: Path) -> None:
    """The writer turns each distinct number into XML once: many cells with the same
    results, numbers and text mixed, a number turning into text and back."""
    rows = []
    for r in range(1, 301):
        rows.append(f'<row r="{r}"><c r="A{r}"><v>{r % 3}</v></c>'
                    f'<c r="B{r}"><f>ROUND(A{r}/3,2)</f><v></v></c>'
                    f'<c r="C{r}" t="str"><f>IF(A{r}=1,"一",A{r}*1.5)</f><v>x</v></c>'
                    f'<c r="D{r}"><f>IF(A{r}=2,"二",A{r})</f><v>0</v></c></row>')
    src = handmade(tmp_path / "h.xlsx", "".join(rows))
    out = tmp_path / "o.xlsx"
    recalc_workbook(src, out_path=out)
    v = cells_of(out)
    for r in range(1, 301):
        a = r % 3
        assert v[f"B{r}"] == round(a / 3, 2)
        assert v[f"C{r}"] == ("一" if a == 1 else a * 1.5)
        assert v.get(f"D{r}", 0) == ("二" if a == 2 else a)
    xml = _sheet_xml(out)
    assert '<c r="C3"><f>IF(A3=1,"一",A3*1.5)</f><v>0</v></c>' in xml
    assert '<c r="C4" t="str"><f>IF(A4=1,"一",A4*1.5)</f><v>一</v></c>' in xml
    assert '<c r="D5" t="str"><f>IF(A5=2,"二",A5)</f><v>二</v></c>' in xml
    assert '<c r="D4"><f>IF(A4=2,"二",A4)</f><v>1</v></c>' in xml


def test_more_distinct_texts_than_the_writer_keeps(tmp_path: Path) -> None:
    """The writer keeps the XML of at most 4,096 distinct texts: past that, every cell is
    still written with its own text (and a repeated one with the kept XML)."""
    n = 4200
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c>'
                   f'<c r="B{r}"><f>"&lt;"&amp;A{r}</f><v></v></c>'
                   f'<c r="C{r}"><f>"甲&amp;乙"</f><v></v></c></row>' for r in range(1, n + 1))
    src = handmade(tmp_path / "h.xlsx", rows)
    out = tmp_path / "o.xlsx"
    recalc_workbook(src, out_path=out)
    v = cells_of(out)
    assert all(v[f"B{r}"] == f"<{r}" and v[f"C{r}"] == "甲&乙" for r in range(1, n + 1))
    xml = _sheet_xml(out)
    assert f'<c r="B{n}" t="str"><f>"&lt;"&amp;A{n}</f><v>&lt;{n}</v></c>' in xml


def test_a_cell_longer_than_the_narrow_offsets(tmp_path: Path) -> None:
    """Cell offsets are kept in two bytes until one does not fit: a stored text of 40,000
    characters after the first scan batch widens them, and every cell before and after it
    is still rewritten in the right place."""
    long_text = "长" * 20000 + "x" * 20000  # 80,000 bytes of UTF-8
    n = _BATCH + 10

    def row(r: int) -> str:
        return (f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><f>A{r}+1</f><v>0</v>'
                "</c></row>")

    rows = [row(r) for r in range(1, n)]
    rows.append(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}" t="str">'
                f'<f>A{n}&amp;"!"</f><v>{long_text}</v></c></row>')
    rows += [row(r) for r in range(n + 1, n + 50)]
    src = handmade(tmp_path / "h.xlsx", "".join(rows))
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(src, out_path=out)
    assert rep.changed == n + 49
    xml = _sheet_xml(out)
    assert long_text not in xml
    assert f'<c r="B{n}" t="str"><f>A{n}&amp;"!"</f><v>{n}!</v></c>' in xml
    for r in (1, _BATCH, n - 1, n + 1, n + 49):
        assert f'<c r="B{r}"><f>A{r}+1</f><v>{r + 1}</v></c>' in xml


def test_countifs_counts_blanks_beyond_the_used_area_only_when_every_criterion_does() -> None:
    """COUNTIFS asks its criteria about blank cells only for ranges that reach beyond the
    used area: whole columns still count the empty rows below it, as Excel does."""
    got = compute({"A1": 1, "B1": 2, "A3": 5,
                   "C1": '=COUNTIFS(A:A,"",B:B,"")',      # row 2 and rows 4…1,048,576
                   "C2": '=COUNTIFS(A1:A3,"",B1:B3,"")',  # row 2
                   "C3": '=COUNTIFS(A:A,"",B:B,">0")',    # a blank is not > 0
                   "D1": '=COUNTIFS(A:A,"<>",B:B,"")'})   # A3
    assert got == {"C1": 1048574.0, "C2": 1.0, "C3": 0.0, "D1": 1.0}


def test_criteria_indexes_read_each_text_once_and_still_see_numbers_stored_as_text() -> None:
    """The COUNTIFS group index and COUNTIF's hash index look at each distinct text of a
    criteria column once: texts
    that differ only in case share a group (as Excel compares them), and a number stored as
    text after many repeated texts still sends the call to the scan that counts it under
    both keys — the counts are those of the definition, row by row."""
    def table(texts: list[str]) -> dict[str, Any]:
        cells: dict[str, Any] = {}
        for r, text in enumerate(texts, start=1):
            cells[f"A{r}"] = text
            cells[f"B{r}"] = float((r * 7) % 11)
            cells[f"C{r}"] = f'=COUNTIFS($A$1:$A$40,A{r},$B$1:$B$40,">"&B{r})'
        return cells

    def expected(texts: list[str]) -> dict[str, float]:
        def same(a: str, b: str) -> bool:
            return a.casefold() == b.casefold()
        b = [float((r * 7) % 11) for r in range(1, 41)]
        return {f"C{r}": float(sum(1 for j in range(40) if same(texts[j], texts[r - 1])
                                   and b[j] > b[r - 1])) for r in range(1, 41)}

    texts = ["东片", "西片", "Ab", "AB", "南片"] * 8
    assert {k: v for k, v in compute(table(texts)).items() if k[0] == "C"} == expected(texts)
    texts[29] = "5"  # a number stored as text, after 29 texts the index has already seen
    got = compute({**table(texts), "D1": "=COUNTIFS($A$1:$A$40,5,$B$1:$B$40,\">=0\")",
                   # COUNTIF's hash index: the same texts, one of them a number as well
                   "D2": "=COUNTIF($A$1:$A$40,5)", "D3": '=COUNTIF($A$1:$A$40,"5")',
                   "D4": '=COUNTIF($A$1:$A$40,"ab")', "D5": '=COUNTIF($A$1:$A$40,"东片")'})
    assert {k: v for k, v in got.items() if k[0] == "C"} == expected(texts)
    assert [got[f"D{i}"] for i in range(1, 6)] == [1.0, 1.0, 1.0, 16.0, 8.0]


def test_equality_with_a_text_literal_is_the_general_comparison() -> None:
    """x="text" and x<>"text" skip compare(): the same answer for texts in any case, the
    empty text, blanks, numbers, booleans, errors and the odd int, against every literal."""
    from xlbridge.recompute.operators import SCALAR_OPS, const, fast_binop
    from xlbridge.xlvalues import ExcelError

    values = ["是", "否", "ABC", "abc", "Straße", "STRASSE", "", " ", "0", "TRUE", None, 0.0,
              1.0, -2.5, True, False, 3, ExcelError("#N/A"), ExcelError("#DIV/0!")]
    for op in ("=", "<>"):
        general = SCALAR_OPS[op]
        for text in ("是", "abc", "strasse", "", " ", "0", "TRUE"):
            for a in values:
                fast = fast_binop(op, const(a), const(text), ("ref",), ("s", text), general)
                want = general(a, text)
                got = fast(0)
                assert type(got) is type(want) and got == want, (op, a, text, got, want)


# --------------------------------------------------------------------------- the scan


def _scan_all(xml: bytes, fast: bool, monkeypatch: Any) -> tuple[Any, ...]:
    """Everything the scan in Python records of a sheet, with or without its formula-cell
    shortcut (the compiled scan is compared with it in test_recompute_compiled_scan.py)."""
    monkeypatch.setattr(sheetxml, "_COMPILED", False)
    monkeypatch.setattr(sheetxml, "_FAST_FORMULA", fast)
    table = sheetxml.FormulaTable()
    values: dict[int, Any] = {}
    scan = sheetxml.scan_sheet(xml, 0, values, ["共享"], table, "h.xlsx", "sheet1.xml")
    return (values, table.keys, list(table.start), list(table.size), list(table.si),
            table.cached, bytes(table.meta), list(table.spans), table.refs, table.dynamic,
            scan.max_row, scan.max_col, scan.cells)


def test_the_scan_shortcut_for_formula_cells_is_the_general_branch(monkeypatch: Any) -> None:
    """The usual formula cell (<c r s><f>…</f><v>…</v></c>) skips the general branch's
    questions; every column of the table, every value and the counts must be the same as
    when the general branch reads it — beside the layouts the shortcut does not take."""
    cells = ['<c r="A{r}"><v>{r}</v></c>',
             '<c r="B{r}"><f>A{r}*2</f><v></v></c>',              # no value yet (openpyxl)
             '<c r="C{r}" s="3"><f>A{r}+0.5</f><v>2.5</v></c>',   # a stored number
             '<c r="D{r}"><f>A{r}/1000</f><v>1E-3</v></c>',
             '<c r="E{r}" t="str"><f>A{r}&amp;"x"</f><v>1x</v></c>',  # typed: general
             '<c r="F{r}"><f>A{r}</f><v/></c>',                     # <v/>: general
             '<c r="G{r}"><f>A{r}</f></c>',                         # no <v>: general
             '<c r="H{r}" cm="1"><f>A{r}</f><v>1</v></c>',          # other attributes
             '<c r="I{r}"><f t="shared" ref="I{r}:I{r}" si="{r}">A{r}</f><v>1</v></c>',
             '<c r="J{r}"><f></f><v>4</v></c>',                     # empty formula
             '<c r="K{r}" t="s"><v>0</v></c>']
    rows = "".join(f'<row r="{r}">' + "".join(c.format(r=r) for c in cells) + "</row>"
                   for r in range(1, 40))
    xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f"<sheetData>{rows}</sheetData></worksheet>").encode()
    fast = _scan_all(xml, True, monkeypatch)
    assert fast == _scan_all(xml, False, monkeypatch)
    assert len(fast[1]) == 39 * 8  # B–I: eight formula cells a row (J's <f></f> is none)
    assert fast[5].count(2.5) == 39 and fast[5].count(0.001) == 39  # stored values read
    bad = xml.replace(b"<v>2.5</v>", b"<v>abc</v>", 1)
    errors = []
    for flag in (True, False):
        try:
            _scan_all(bad, flag, monkeypatch)
        except FileRejected as exc:
            errors.append(str(exc))
    assert len(errors) == 2 and errors[0] == errors[1] and "C1" in errors[0]
