"""SUBTOTAL and filters: SUBTOTAL(1–11) counts rows hidden by hand but leaves out the rows
a filter hid (Excel's documentation of SUBTOTAL); SUBTOTAL(101–111) leaves out both. And the
structured references of IronCalc's tables.xlsx that were not resolved: a column named with a
trailing space, an escaped ``'#`` in a column name, ``Table[]``, ``[#Totals]`` of a table
without a totals row (#REF!)."""

from __future__ import annotations

from pathlib import Path

from recompute_helpers import cells_of, handmade

from xlbridge.recompute import recalc_workbook
from xlbridge.recompute.tables import Table, _items, _resolve

ROWS = ('<row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c></row>'
        '<row r="2" hidden="1"><c r="A2"><v>1</v></c></row>'
        '<row r="3"><c r="A3"><v>2</v></c></row>'
        '<row r="4" hidden="1"><c r="A4"><v>4</v></c></row>'
        '<row r="5"><c r="A5"><v>8</v></c></row>'
        '<row r="7" hidden="1"><c r="A7"><v>16</v></c></row>'
        '<row r="9"><c r="B9"><f>SUBTOTAL(9,A2:A7)</f></c><c r="C9"><f>SUBTOTAL(109,A2:A7)</f>'
        '</c><c r="D9"><f>SUM(A2:A7)</f></c><c r="E9"><f>SUBTOTAL(2,A2:A7)</f></c></row>')


def _sheet(filtered: bool) -> str:
    af = ('<autoFilter ref="A1:A5"><filterColumn colId="0"><filters><filter val="2"/>'
          '<filter val="8"/></filters></filterColumn></autoFilter>') if filtered \
        else '<autoFilter ref="A1:A5"/>'
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{ROWS}</sheetData>{af}</worksheet>')


def test_subtotal_leaves_out_filtered_rows_and_keeps_rows_hidden_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "o.xlsx"
    recalc_workbook(handmade(tmp_path / "f.xlsx", "", sheet_xml=_sheet(True)), out_path=out)
    got = cells_of(out)
    # rows 2 and 4 are filtered out (inside the filter), row 7 is hidden by hand
    assert (got["B9"], got["C9"], got["D9"], got["E9"]) == (26, 10, 31, 3)


def test_an_autofilter_without_a_criterion_filters_nothing(tmp_path: Path) -> None:
    out = tmp_path / "o.xlsx"
    recalc_workbook(handmade(tmp_path / "f.xlsx", "", sheet_xml=_sheet(False)), out_path=out)
    got = cells_of(out)
    assert (got["B9"], got["C9"]) == (31, 10)


def test_structured_reference_corner_cases() -> None:
    t = Table("T", 0, 1, 1, 6, 3, 1, 1, ("the two ", "#Shame", "last"), filtered=False)
    names = ["S"]
    assert _resolve(t, _items("[the two ]"), 3, 0, names) == "$A$2:$A$5"
    assert _resolve(t, _items("'#Shame"), 3, 0, names) == "$B$2:$B$5"
    assert _resolve(t, _items(""), 3, 0, names) == "$A$2:$C$5"
    assert _resolve(t, _items("[#Totals],[last]"), 3, 0, names) == "$C$6"
    no_totals = Table("U", 0, 1, 1, 4, 2, 1, 0, ("a", "b"))
    assert _resolve(no_totals, _items("#Totals"), 3, 0, names) == "#REF!"
