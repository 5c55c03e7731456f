"""Hostile workbooks and hostile situations for `xlbridge recompute` (issue 13, items 4, 7, 8,
9 and the per-file time budget of 10): each built here, run through the real command, and
refused or survived with the file named, in bounded time and memory, nothing overwritten."""

from __future__ import annotations

import sys

import pytest

from tests.hostile import big_sheets, many_sheets, run_measured, zip_liar
from xlbridge.recompute import FileRejected, Limits, recalc_workbook
from xlbridge.recompute.package import Package


def recompute_cli(*args: str, timeout: float = 120, **kw):
    return run_measured([sys.executable, "-m", "xlbridge.cli", "recompute", *args],
                        timeout=timeout, **kw)


# --------------------------------------------------------------------------- item 4: sizes


def test_a_member_lying_about_its_size_is_refused_before_it_inflates(tmp_path):
    book = zip_liar(tmp_path / "liar.xlsx")  # ≈ 1.5 MB, inflates to 1.5 GB, says 10 KB
    before = book.read_bytes()
    r = recompute_cli(str(book))
    assert r.returncode == 1 and str(book) in r.output and "声明" in r.output
    assert r.seconds < 20 and r.peak_mb < 150, (r.seconds, r.peak_mb)  # was 2.15 GB
    assert book.read_bytes() == before


def test_many_sheets_under_the_member_limits_are_capped_together(tmp_path):
    book = many_sheets(tmp_path / "many.xlsx")  # 250 × 4 MB in ≈ 1 MB
    before = book.read_bytes()
    r = recompute_cli(str(book))
    assert r.returncode == 1 and str(book) in r.output and "合计" in r.output
    assert r.seconds < 20 and r.peak_mb < 150, (r.seconds, r.peak_mb)  # was 1.06 GB, "ok"
    assert book.read_bytes() == before


def test_the_total_read_from_one_file_is_capped(tmp_path):
    """Honest sheets (normal compression) that together pass ``max_read_size``."""
    book = big_sheets(tmp_path / "big.xlsx", sheets=6, rows=2000)  # 6 × ≈ 300 KB
    with pytest.raises(FileRejected) as info:
        recalc_workbook(book, limits=Limits(max_read_size=1 << 20))
    assert "合计超过 1,048,576 字节" in info.value.reason and str(book) in str(info.value)
    assert recalc_workbook(book).status == "ok"  # within the default limits it computes


def test_actual_sizes_are_counted_not_the_declared_ones(tmp_path):
    book = big_sheets(tmp_path / "b.xlsx", sheets=2, rows=1000)
    pkg = Package(book)
    try:
        data = pkg.read("xl/worksheets/sheet1.xml")
        assert pkg.inflated == len(data)
        pkg.read("xl/worksheets/sheet2.xml")
        assert pkg.inflated == 2 * len(data)
    finally:
        pkg.close()


def test_a_member_shorter_than_declared_is_refused(tmp_path):
    from tests.hostile import sheet_xml, write_workbook

    xml = sheet_xml(10)
    book = write_workbook(tmp_path / "short.xlsx", [xml], declared={0: len(xml) + 100})
    with pytest.raises(FileRejected) as info:
        recalc_workbook(book)
    assert "zip 目录里写的是" in info.value.reason
