"""Hostile workbooks and hostile situations for `xlbridge recompute` (issue 13, items 4, 7, 8,
9 and the per-file time budget of 10): each built here, run through the real command, and
refused or survived with the file named, in bounded time and memory, nothing overwritten."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile import (
    big_sheets,
    many_sheets,
    run_measured,
    slow_workbook,
    small_workbook,
    zip_liar,
)
from xlbridge.recompute import FileRejected, Limits, lock_path, recalc_workbook, recompute_file
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


# --------------------------------------------------------------------------- item 7: targets


def stored_c1(path: Path) -> object:
    import openpyxl

    return openpyxl.load_workbook(path, data_only=True).active["C1"].value


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".~"))


posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and links")


@posix_only
@pytest.mark.parametrize("backup", [False, True])
def test_a_read_only_workbook_is_refused(tmp_path, backup):
    book = small_workbook(tmp_path / "只读.xlsx")
    os.chmod(book, 0o444)
    before = book.read_bytes()
    r = recompute_cli(str(book), *(["--backup"] if backup else []))
    assert r.returncode == 1 and "只读" in r.output and str(book) in r.output
    assert book.read_bytes() == before and stat.S_IMODE(book.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["只读.xlsx"]  # no backup, no temp
    assert recompute_cli(str(book), "--dry-run").returncode == 0  # reading it is fine


@posix_only
def test_a_symlink_is_written_through_to_its_target(tmp_path):
    (tmp_path / "data").mkdir()
    real = small_workbook(tmp_path / "data" / "考核.xlsx")
    link = tmp_path / "链接.xlsx"
    link.symlink_to(real)
    r = recompute_cli(str(link), "--backup")
    assert r.returncode == 0, r.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert stored_c1(real) == 7
    backups = list(real.parent.glob("考核.backup-*.xlsx"))
    assert len(backups) == 1 and stored_c1(backups[0]) is None
    assert temps(tmp_path) == [] and temps(real.parent) == []


@posix_only
def test_hard_links_are_kept(tmp_path):
    a = small_workbook(tmp_path / "a.xlsx")
    b = tmp_path / "b.xlsx"
    os.link(a, b)
    r = recompute_cli(str(a))
    assert r.returncode == 0, r.output
    assert a.stat().st_ino == b.stat().st_ino and a.stat().st_nlink == 2
    assert stored_c1(b) == 7 and temps(tmp_path) == []


# --------------------------------------------------------------------------- item 8: backups


def test_a_backup_is_made_only_when_the_workbook_changes(tmp_path):
    book = small_workbook(tmp_path / "考核.xlsx")
    original = book.read_bytes()
    assert recompute_cli(str(book), "--backup").returncode == 0
    (backup,) = tmp_path.glob("考核.backup-*.xlsx")
    assert backup.read_bytes() == original
    assert book.stat().st_mtime_ns >= backup.stat().st_mtime_ns
    assert recompute_cli(str(book), "--backup").returncode == 0  # nothing changes now
    assert len(list(tmp_path.glob("*.backup-*"))) == 1 and temps(tmp_path) == []


@pytest.mark.parametrize("failure", ["full disk", "garbled"])
def test_a_backup_that_cannot_be_made_leaves_the_workbook(tmp_path, monkeypatch, failure):
    import xlbridge.recompute.api as api_mod

    book = small_workbook(tmp_path / "考核.xlsx")
    before = book.read_bytes()
    real_open = open

    def sabotaged(path, mode="r", *args, **kwargs):
        fh = real_open(path, mode, *args, **kwargs)
        if mode == "rb" and Path(path) == book and failure == "full disk":
            raise OSError(28, "No space left on device")
        if mode == "rb" and Path(path) == book:
            data = fh.read()
            fh.close()
            import io

            return io.BytesIO(data[: len(data) // 2])  # a short read: a truncated copy
        return fh

    monkeypatch.setattr(api_mod, "open", sabotaged, raising=False)
    rep = recompute_file(book, backup=True)
    assert rep.status == "failed" and "备份" in (rep.error or ""), rep.error
    assert book.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["考核.xlsx"]


# --------------------------------------------------------------------------- item 9


def test_stale_temporaries_and_locks_of_a_killed_run_are_removed(tmp_path):
    book = small_workbook(tmp_path / "考核.xlsx")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    host = socket.gethostname()
    leftovers = [tmp_path / f".~xlbridge-考核.xlsx.{dead}.0a1b2c3d.tmp",
                 tmp_path / f".~xlbridge-考核.xlsx.{dead}.9f8e7d6c.tmp"]
    for f in leftovers:
        f.write_bytes(b"PK half a workbook")
    lock_path(book).write_text(f"pid={dead} host={host} time=then")
    other = tmp_path / f".~xlbridge-别的.xlsx.{dead}.00000000.tmp"
    other.write_bytes(b"")
    r = recompute_cli(str(book))
    assert r.returncode == 0, r.output
    assert temps(tmp_path) == [other.name]  # only another workbook's, left for its own run


def live_children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_parent(tmp_path):
    for i in range(4):
        slow_workbook(tmp_path / f"慢{i}.xlsx")
    proc = subprocess.Popen([sys.executable, "-m", "xlbridge.cli", "recompute", "--jobs", "2",
                             str(tmp_path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            workers = live_children(proc.pid)
        assert len(workers) == 2, workers
        time.sleep(0.5)  # both are inside a workbook now
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if alive(w)]  # were 20 of 20 alive after 15 s
    finally:
        proc.kill()
    # and the next run cleans up what the killed one left
    r = recompute_cli(str(tmp_path), "--jobs", "2")
    assert r.returncode == 0, r.output
    assert temps(tmp_path) == []


# --------------------------------------------------------------------------- item 10: time


def test_a_workbook_over_its_time_budget_is_stopped_and_the_others_go_on(tmp_path):
    slow = slow_workbook(tmp_path / "a-慢.xlsx", rows=150_000)  # ≈ 5 s, at least 3 s
    quick = small_workbook(tmp_path / "b-快.xlsx")
    before = slow.read_bytes()
    r = recompute_cli(str(tmp_path), "--timeout", "1")
    assert r.returncode == 1
    assert "超过每个文件的时间上限 1 秒" in r.output and str(slow) in r.output
    assert slow.read_bytes() == before and stored_c1(quick) == 7
    assert r.seconds < 15, r.seconds
    assert temps(tmp_path) == []
    again = small_workbook(tmp_path / "c.xlsx")  # --timeout 0: no limit, in this process
    assert recompute_cli(str(again), "--timeout", "0").returncode == 0 and stored_c1(again) == 7
