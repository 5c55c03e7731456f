"""Hostile cells for the recompute engine (issue #13 item 10): each test builds the input.

A row past Excel's last row must not take another cell's place, a number cell holding text
is refused naming sheet and cell, a flat sum of 600 references computes, a circle through an
array formula is reported at once, and one array formula over a whole row is fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from recompute_helpers import cells_of, handmade

from xlbridge.recompute import FileRejected, recalc_workbook
from xlbridge.recompute.formula import col_letters


def _bounded(src: Path, out: Path, seconds: float) -> dict:
    """recalc_workbook in a child process, killed after ``seconds`` (a hang fails the test
    instead of stalling the suite); returns the report as a dict."""
    code = ("import json, sys; from xlbridge.recompute import recalc_workbook; "
            "print(json.dumps(recalc_workbook(sys.argv[1], out_path=sys.argv[2]).to_dict()))")
    t = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", code, str(src), str(out)],
                              capture_output=True, text=True, timeout=seconds, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"recompute did not finish within {seconds} s")
    assert time.perf_counter() - t < seconds
    return json.loads(done.stdout)


def _rejected(path: Path) -> str:
    with pytest.raises(FileRejected) as info:
        recalc_workbook(path, out_path=path.with_name("out.xlsx"))
    assert not path.with_name("out.xlsx").exists()
    return info.value.reason


@pytest.mark.parametrize("row", [1048577, 34359738369, 2 ** 40 + 1])
def test_row_past_the_last_row_is_refused_not_aliased(tmp_path: Path, row: int) -> None:
    # 2**35 + 1 rows shifted into the sheet bits of a cell key would be another sheet's B1
    rows = (f'<row r="1"><c r="B1"><v>5</v></c><c r="C1"><f>B1*2</f></c></row>'
            f'<row r="{row}"><c><v>7</v></c></row>')
    reason = _rejected(handmade(tmp_path / "h.xlsx", rows, name="考核表"))
    assert "考核表" in reason and str(row) in reason and "1,048,576" in reason


def test_column_past_xfd_is_refused(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="B1"><v>5</v></c><c r="XFE1"><v>7</v></c></row>'
    reason = _rejected(handmade(tmp_path / "h.xlsx", rows))
    assert "Sheet1" in reason and "XFE1" in reason


def test_text_in_a_number_cell_names_sheet_and_cell(tmp_path: Path) -> None:
    rows = ('<row r="1"><c r="A1"><v>1</v></c></row>'
            '<row r="2"><c r="A2"><v>abc</v></c><c r="B2"><f>A2+1</f></c></row>')
    reason = _rejected(handmade(tmp_path / "h.xlsx", rows, name="汇总"))
    assert "汇总" in reason and "A2" in reason and "abc" in reason


def test_a_flat_sum_of_600_references_computes(tmp_path: Path) -> None:
    cells = "".join(f'<c r="{col_letters(c)}1"><v>{c}</v></c>' for c in range(1, 601))
    formula = "+".join(f"{col_letters(c)}1" for c in range(1, 601))
    product = "*".join(["1"] * 300 + ["A1"])
    rows = (f'<row r="1">{cells}</row><row r="2"><c r="A2"><f>{formula}</f></c>'
            f'<c r="B2"><f>{product}</f></c><c r="C2"><f>SUMPRODUCT(({formula})*1)</f></c></row>')
    out = tmp_path / "o.xlsx"
    rep = recalc_workbook(handmade(tmp_path / "h.xlsx", rows), out_path=out)
    assert not rep.unsupported, rep.unsupported
    got = cells_of(out)
    assert got["A2"] == got["C2"] == 600 * 601 / 2
    assert got["B2"] == 1


def test_a_circle_through_an_array_formula_is_reported_quickly(tmp_path: Path) -> None:
    rows = ('<row r="8"><c r="A8"><v>1</v></c><c r="B8"><f>C8</f><v>3</v></c>'
            '<c r="C8"><f>D8</f><v>4</v></c>'
            '<c r="D8"><f t="array" ref="D8:D9">IF(A8:A9,B8:B9,1)</f><v>5</v></c></row>'
            '<row r="9"><c r="A9"><v>0</v></c><c r="D9"><v>6</v></c>'
            '<c r="E9"><f>D9+1</f></c></row>')
    out = tmp_path / "o.xlsx"
    rep = _bounded(handmade(tmp_path / "h.xlsx", rows), out, 20)  # a plain circle: 0.3 s
    assert {i["cell"] for i in rep["circular"]} == {"B8", "C8", "D8"}
    assert rep["circular"][0]["message"].startswith("循环引用（")
    got = cells_of(out)
    assert (got["B8"], got["C8"], got["D8"], got["D9"]) == (3, 4, 5, 6)  # stored values kept
    assert got["E9"] == 7


def test_one_array_formula_over_a_whole_row_is_fast(tmp_path: Path) -> None:
    members = "".join(f'<c r="{col_letters(c)}1"/>' for c in range(2, 16385))
    rows = ('<row r="1"><c r="A1"><f t="array" ref="A1:XFD1">COLUMN(A2:XFD2)*2</f></c>'
            f"{members}</row>")
    out = tmp_path / "o.xlsx"
    rep = _bounded(handmade(tmp_path / "h.xlsx", rows), out, 15)  # was 66 s
    assert rep["recomputed"] == 1 and not rep["unsupported"]
    got = cells_of(out)
    assert got["A1"] == 2 and got["XFD1"] == 16384 * 2
