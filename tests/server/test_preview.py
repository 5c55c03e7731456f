"""The preview: the same records scored with a draft and with the published version by the
engine, the records that change, the grade distributions; uploaded CSV and .xlsx tables."""

from __future__ import annotations

import io

import pytest
from srvtest import SHIPPED

from server import preview
from xlbridge.csvio import read_records
from xlbridge.engine import compile_scheme, score_population
from xlbridge.scheme.load import load_scheme_file, scheme_from_data

SID = "meiling-street-quarterly"


def schemes():
    v1 = load_scheme_file(SHIPPED / f"{SID}.yaml").scheme
    doc = v1.model_dump(mode="json", exclude_none=True)
    doc["parts"][0]["weight"], doc["parts"][1]["weight"] = "70%", "30%"
    return compile_scheme(scheme_from_data(doc)), compile_scheme(v1)


def test_changes_and_distribution_are_the_engines():
    draft, published = schemes()
    table = preview.example_table(SID)
    assert table is not None
    p = preview.compare(table, draft, published)
    data = read_records(SHIPPED / f"{SID}.records.csv", draft.inputs)
    new = score_population(draft, data.rows, first_row=data.row_numbers)
    old = score_population(published, data.rows, first_row=data.row_numbers)
    changed_rows = [n.row for n, o in zip(new.records, old.records, strict=True)
                    if (n.total, n.grade_text, n.payout) != (o.total, o.grade_text, o.payout)]
    assert [c.row for c in p.changes] == changed_rows
    assert p.count == len(new.records) == len(p.changes) + p.unchanged
    by_row = {r.row: r for r in new.records}
    for c in p.changes:
        assert c.after.grade == by_row[c.row].grade_text
        assert c.after.total == f"{by_row[c.row].total:.1f}"
    assert {g: a for g, _, a in p.distribution} == new.grade_counts()
    assert {g: b for g, b, _ in p.distribution} == old.grade_counts()
    assert p.payout == (f"{old.payout_total():.2f}", f"{new.payout_total():.2f}")
    wang = next(c for c in p.changes if c.who == "王建国")
    assert (wang.before.total, wang.after.total, wang.what) == ("86.9", "89.7", ["总分"])


def test_without_a_published_version_every_record_is_shown():
    draft, _ = schemes()
    p = preview.compare(preview.example_table(SID), draft, None)
    assert p.before is None and len(p.changes) == p.count and p.unchanged == 0


def test_a_table_missing_a_column_says_which():
    draft, published = schemes()
    table = preview.example_table(SID)
    table.rows = [[c for i, c in enumerate(r) if i != 1] for r in table.rows]  # drop 考核类别
    p = preview.compare(table, draft, published)
    assert p.after.result is None and "考核类别" in p.after.error


def test_uploaded_csv_in_gb18030_and_xlsx_read_the_same():
    from openpyxl import Workbook

    draft, published = schemes()
    text = (SHIPPED / f"{SID}.records.csv").read_text(encoding="utf-8-sig")
    from_csv = preview.compare(preview.read_table(text.encode("gb18030"), "记录.csv"), draft,
                               published)
    book = Workbook()
    sheet = book.active
    import csv

    for row in csv.reader(io.StringIO(text)):
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() else (c or None)
                      for c in row] + [None, None])  # stray empty cells on the right
    buf = io.BytesIO()
    book.save(buf)
    from_xlsx = preview.compare(preview.read_table(buf.getvalue(), "记录.xlsx"), draft,
                                published)
    assert [(c.row, c.after.total, c.after.grade, c.after.pay) for c in from_xlsx.changes] == \
        [(c.row, c.after.total, c.after.grade, c.after.pay) for c in from_csv.changes]
    assert from_xlsx.distribution == from_csv.distribution


@pytest.mark.parametrize("data, name, words", [
    (b"", "a.csv", "空的"),
    (b"PK\x03\x04 not a zip", "a.xlsx", "不是可读取的 .xlsx"),
    (b"\xd0\xcf\x11\xe0", "old.xls", "另存为 .xlsx"),
    (b"\xff\xfe\x00\xd8\x00", "bad.csv", "GB18030"),
])
def test_unreadable_uploads_say_why(data, name, words):
    with pytest.raises(preview.TableError) as exc:
        preview.read_table(data, name)
    assert words in str(exc.value) and name in str(exc.value)
