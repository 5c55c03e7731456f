"""One result per record on every surface (issue #8).

For every shipped scheme's example records, and for random populations (hypothesis) of a
scheme with a veto, a gate, groups and ties broken by a declared key, each surface gives the
same total, grade, payout, rank and flags on every row:

* ``xlbridge score --json`` (the CLI, on a CSV of the records);
* the worksheet functions by column (``PERF_RESULTS`` over the input block) and row by row
  (``PERF_SCORE`` per row; ``PERF_GRADE``/``PERF_GRADES`` where they answer, else a
  ``#VALUE!`` that says why — never another grade);
* ``xlbridge recompute`` of a workbook holding the records with those formulas;
* the ribbon's 重算本表 on the same sheet (xlwings' remote engine).
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from xlbridge import ribbon, udfs
from xlbridge.arith import fmt, from_float
from xlbridge.batch import Options, recompute_one
from xlbridge.cli import main
from xlbridge.store import REPO_SCHEMES, default_store
from xlbridge.xlvalues import ExcelError

from .conftest import actions, number, sheet_json

RESULTS = ["总分", "等次", "奖金", "排名", "标记"]
ERROR = "#ERROR"


def _norm(kind: str, value: Any) -> Any:
    """One result cell, whichever surface wrote it, in one comparable form."""
    if isinstance(value, ExcelError) or (isinstance(value, str) and value.startswith("#")):
        return ERROR
    if value is None or value == "":
        return ""
    if kind in ("总分", "奖金"):
        number = from_float(value) if isinstance(value, float) else Decimal(str(value))
        return fmt(number.normalize())
    if kind == "排名":
        return int(value)
    return str(value)


def _row(values: list[Any]) -> tuple[Any, ...]:
    out = tuple(_norm(k, v) for k, v in zip(RESULTS, values, strict=True))
    # a record with bad data shows an error in every result column, whatever its kind
    return (ERROR,) * len(RESULTS) if out[0] == ERROR and out[1] == ERROR else out


# --------------------------------------------------------------------------- each surface


def by_cli(ref: str, header: list[str], rows: list[list[Any]], tmp: Path) -> list[tuple]:
    path = tmp / "records.csv"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows([["" if c is None else (fmt(from_float(c)) if isinstance(c, float) else c)
                  for c in r] for r in rows])
    path.write_text(buf.getvalue(), encoding="utf-8-sig")
    out = CliRunner().invoke(main, ["score", "--scheme", ref, "--input", str(path), "--json"],
                             catch_exceptions=False)
    assert out.exit_code in (0, 1), out.output
    data = json.loads(out.stdout)
    got = []
    for r in data["records"]:
        if not r["ok"]:
            got.append((ERROR,) * len(RESULTS))
            continue
        cs = default_store().get(ref)
        grade = ERROR if r["withheld"] else (r["grade"] or ("不定等次" if r["no_grade"] else ""))
        pay = ERROR if r["withheld"] or not cs.scheme.payout else r["payout"]
        rank = ERROR if r["withheld"] else r["rank"]
        flags = ERROR if r["withheld"] else "；".join(r["flags"])
        got.append(_row([Decimal(r["total"]) if r["total"] is not None else ERROR, grade,
                         pay, rank, flags]))
    return got


def by_function(ref: str, header: list[str], rows: list[list[Any]]) -> list[tuple]:
    out = udfs.PERF_RESULTS(ref, rows, [header], ",".join(RESULTS), 2)
    return [_row(r) for r in out]


def _workbook(ref: str, header: list[str], rows: list[list[Any]], path: Path) -> None:
    """The records with their results as formulas: PERF_RESULTS columns (array formulas over
    the column), PERF_SCORE per row, PERF_GRADES where the scheme lets a column of totals
    say the grade."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "考核"
    width, n = len(header), len(rows)
    last = get_column_letter(width)
    ws.append([*header, *RESULTS, "PERF_SCORE", "PERF_GRADES"])
    for r in rows:
        ws.append(r)
    block, head = f"$A$2:${last}${n + 1}", f"$A$1:${last}$1"
    for j, kind in enumerate(RESULTS):
        x = get_column_letter(width + 1 + j)
        ws[f"{x}2"] = ArrayFormula(f"{x}2:{x}{n + 1}",
                                   f'=PERF_RESULTS("{ref}",{block},{head},"{kind}",2)')
    total_col = get_column_letter(width + 1)
    for i in range(2, n + 2):
        ws.cell(i, width + 6, f'=PERF_SCORE("{ref}",A{i}:{last}{i},{head})')
    g = get_column_letter(width + 7)
    ws[f"{g}2"] = ArrayFormula(f"{g}2:{g}{n + 1}",
                               f'=PERF_GRADES("{ref}",{total_col}2:{total_col}{n + 1})')
    for row in ws.iter_rows(min_row=2, max_row=n + 1, min_col=width + 1, max_col=width + 7):
        for c in row:
            c.font = Font(name="宋体")   # every cell of the arrays exists in the file
    wb.save(path)


def by_recompute(ref: str, header: list[str], rows: list[list[Any]], tmp: Path
                 ) -> tuple[list[tuple], list[Any], list[Any]]:
    path = tmp / "book.xlsx"
    _workbook(ref, header, rows, path)
    outcome = recompute_one(path, Options())
    assert outcome.processed, outcome.error
    ws = openpyxl.load_workbook(path, data_only=True)["考核"]
    width = len(header)
    cells = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=len(rows) + 1,
                                                             min_col=width + 1,
                                                             max_col=width + 7)]
    return ([_row(r[:5]) for r in cells], [r[5] for r in cells], [r[6] for r in cells])


def by_ribbon(make_book: Any, header: list[str], rows: list[list[Any]]) -> list[tuple]:
    values = [[*header, *RESULTS], *[[*r, None, None, None, None, None] for r in rows]]
    book = make_book([sheet_json("考核", values)])
    ribbon.recompute_sheet(book, alert=False)
    written: dict[tuple[int, int], Any] = {}
    for a in actions(book, "setValues"):
        for i, line in enumerate(a["values"]):
            for j, v in enumerate(line):
                written[(a["start_row"] + i, a["start_column"] + j)] = v
    width = len(header)
    out = []
    for i in range(1, len(rows) + 1):
        cells = [written.get((i, width + j)) for j in range(len(RESULTS))]
        out.append(cells)
    return [_ribbon_row(c) for c in out]


def _ribbon_row(cells: list[Any]) -> tuple:
    # the ribbon writes plain values and leaves a result it cannot give blank (its summary
    # says why): compare the blanks with the other surfaces' errors
    row = _row(cells)
    return tuple(ERROR if v == "" else v for v in row)


def _blank_errors(rows: list[tuple]) -> list[tuple]:
    """What the ribbon shows for a surface's results: errors as blanks, blanks as blanks."""
    return [tuple(ERROR if v in ("", ERROR) else v for v in r) for r in rows]


def check_every_surface(ref: str, header: list[str], rows: list[list[Any]], tmp: Path,
                        make_book: Any) -> list[tuple]:
    cs = default_store().get(ref)
    cli = by_cli(ref, header, rows, tmp)
    assert by_function(ref, header, rows) == cli
    recomputed, scores, grades = by_recompute(ref, header, rows, tmp)
    assert recomputed == cli
    assert _blank_errors(by_ribbon(make_book, header, rows)) == _blank_errors(cli)
    # row by row: PERF_SCORE is the total wherever one row can know it
    for (total, *_), score in zip(cli, scores, strict=True):
        if cs.rank_parts or total == ERROR:
            assert _norm("总分", score) == ERROR
        else:
            assert _norm("总分", score) == total
    # a column of totals: the engine's grade, or an error that says why (never another one)
    for (_total, grade, *_), got in zip(cli, grades, strict=True):
        assert _norm("等次", got) in (grade, ERROR)
    return cli


# --------------------------------------------------------------------------- shipped schemes

SHIPPED = sorted(p.name.removesuffix(".records.csv")
                 for p in REPO_SCHEMES.glob("*.records.csv"))


@pytest.mark.parametrize("scheme_id", SHIPPED)
def test_shipped_examples_agree_on_every_surface(scheme_id, store, make_book, tmp_path):
    path = REPO_SCHEMES / f"{scheme_id}.records.csv"
    lines = list(csv.reader(path.open(encoding="utf-8-sig")))
    header, rows = lines[0], [[number(c) for c in r] for r in lines[1:] if any(r)]
    cli = check_every_surface(scheme_id, header, rows, tmp_path, make_book)
    assert (len(cli) == len(rows) and any(r[1] not in ("", ERROR) for r in cli)) or \
        not default_store().get(scheme_id).tiers


# --------------------------------------------------------------------------- random records

SCHEME = """\
id: t-surfaces
version: 1
title: 一致性测试方案
unit: 个人
period: quarter
max_score: 100
groups: [team]
inputs:
  - {id: name, label: 姓名, type: text}
  - {id: team, label: 组别, type: label, labels: [甲组, 乙组]}
  - {id: veto, label: 一票否决, type: bool, blank: "false"}
  - {id: safety, label: 安全考核, type: label, labels: [合格, 不合格]}
parts:
  - {id: a, title: 业绩, points: 60, method: direct}
  - {id: b, title: 测评, points: 40, method: direct}
conditions:
  - {id: veto, title: 一票否决, when: veto, veto: true, then: {at_most: 合格}}
tiers:
  - {label: 优秀, at_least: 90, requires: ["safety == '合格'"]}
  - {label: 良好, at_least: 80, below: 90}
  - {label: 合格, at_least: 60, below: 80}
  - {label: 不合格, below: 60}
quotas:
  limits: [{tier: 优秀, share: 25%}, {tier: 良好, share: 40%}]
  rounding: half_up
  ties: {rule: keys, keys: [a], then: all_out}
payout:
  amounts: {优秀: 3000, 良好: 2000, 合格: 1000}
rank_rules:
  - {id: last, title: 末位, bottom: 1, flag: 末位提醒}
"""
HEADER = ["姓名", "组别", "一票否决", "安全考核", "业绩", "测评"]

record = st.tuples(st.sampled_from(["甲组", "乙组"]), st.sampled_from(["是", "否", None]),
                   st.sampled_from(["合格", "合格", "不合格"]),
                   st.integers(50, 60), st.integers(30, 40))


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(population=st.lists(record, min_size=3, max_size=14))
def test_random_populations_agree_on_every_surface(population, store, make_book,
                                                   tmp_path_factory):
    folder = Path(store.dirs[0])
    (folder / "t-surfaces.yaml").write_text(SCHEME, encoding="utf-8")
    rows = [[f"人员{i}", team, veto, safety, float(a), float(b)]
            for i, (team, veto, safety, a, b) in enumerate(population, start=1)]
    check_every_surface("t-surfaces", HEADER, rows, tmp_path_factory.mktemp("p"), make_book)
