"""xlbridge.atomic: the one file writer — all or nothing, through links, into pipes, umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from xlbridge import atomic
from xlbridge.atomic import TEMP_PREFIX, ReadOnlyTarget, remove_stale_temps, write_atomic

REPO = Path(__file__).resolve().parents[1]
MEILING = REPO / "workbooks" / "schemes" / "meiling-street-quarterly.records.csv"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and links")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))


def test_bytes_text_and_a_writer_function(tmp_path):
    p = tmp_path / "a.csv"
    assert write_atomic(p, "总分\r\n", encoding="utf-8-sig") == p
    assert p.read_bytes() == "\ufeff总分\r\n".encode()
    write_atomic(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    write_atomic(p, lambda fh: fh.write(b"streamed"))
    assert p.read_bytes() == b"streamed"
    assert leftovers(tmp_path) == []


def test_a_failing_write_leaves_the_old_file_and_no_temporary(tmp_path):
    p = tmp_path / "考核.xlsx"
    p.write_bytes(b"old")

    def full_disk(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic(p, full_disk)
    assert p.read_bytes() == b"old" and leftovers(tmp_path) == []

    def bad(path: Path) -> None:
        assert path.read_bytes() == b"new" and path.parent == tmp_path
        raise ValueError("not a zip")

    with pytest.raises(ValueError, match="not a zip"):
        write_atomic(p, b"new", before_replace=bad)
    assert p.read_bytes() == b"old" and leftovers(tmp_path) == []


@posix_only
def test_new_files_follow_the_umask_and_old_ones_keep_their_mode(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.csv", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.csv").st_mode) == 0o640
    kept = tmp_path / "kept.csv"
    kept.write_text("x")
    os.chmod(kept, 0o604)
    write_atomic(kept, "y")
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o604 and kept.read_text() == "y"
    secret = tmp_path / "token"
    write_atomic(secret, "t", mode=0o600)
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600


@posix_only
def test_score_output_follows_the_umask(tmp_path):
    """Item 12: `score --output` used to be created 0600 whatever the umask said."""
    out = tmp_path / "results.csv"
    code = ("import os, sys; os.umask(0o022); from xlbridge.cli import main; "
            "sys.argv = ['xlbridge'] + sys.argv[1:]; main()")
    proc = subprocess.run([sys.executable, "-c", code, "score", "--scheme",
                           "meiling-street-quarterly", "--input", str(MEILING), "--output",
                           str(out)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644


@posix_only
def test_read_only_targets_are_refused(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("old")
    os.chmod(p, 0o444)
    with pytest.raises(ReadOnlyTarget) as info:
        write_atomic(p, "new")
    assert "只读" in str(info.value) and info.value.filename == str(p)
    assert p.read_text() == "old" and leftovers(tmp_path) == []


@posix_only
def test_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "data" / "考核.xlsx"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    assert write_atomic(link, b"new") == real
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


@posix_only
def test_hard_links_are_kept(tmp_path):
    a = tmp_path / "a.xlsx"
    a.write_bytes(b"old")
    b = tmp_path / "b.xlsx"
    os.link(a, b)
    write_atomic(a, b"new contents")
    assert os.stat(a).st_ino == os.stat(b).st_ino and b.read_bytes() == b"new contents"
    assert leftovers(tmp_path) == []


@posix_only
def test_an_interrupted_in_place_rewrite_is_finished_next_time(tmp_path, monkeypatch):
    a = tmp_path / "a.xlsx"
    a.write_bytes(b"old")
    os.link(a, tmp_path / "b.xlsx")
    real_copy = atomic._copy_into

    def killed(source, target):
        with open(target, "r+b") as fh:  # half of the copy made, then the process dies
            fh.truncate(0)
            fh.write(b"ne")
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_copy_into", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(a, b"new")
    assert [n.endswith(".inplace") for n in leftovers(tmp_path)] == [True]
    monkeypatch.setattr(atomic, "_copy_into", real_copy)
    removed = remove_stale_temps(a, owned=True)
    assert len(removed) == 1 and a.read_bytes() == b"new" == (tmp_path / "b.xlsx").read_bytes()
    assert leftovers(tmp_path) == []


@posix_only
def test_a_pipe_is_written_into(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_atomic(fifo, "总分\r\n")
    reader.join(timeout=20)
    assert got == ["总分\r\n".encode()] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, b"x")


def test_windows_sharing_violations_are_waited_out(tmp_path, monkeypatch):
    p = tmp_path / "a.csv"
    p.write_text("old")
    real_replace = os.replace
    refusals = iter([True, True, False])

    def sharing_violation(src, dst):
        if next(refusals):
            raise PermissionError(13, "The process cannot access the file because it is being "
                                      "used by another process")
        real_replace(src, dst)

    monkeypatch.setattr(atomic, "_WINDOWS", True)
    monkeypatch.setattr(atomic.os, "replace", sharing_violation)
    write_atomic(p, "new")
    assert p.read_text() == "new" and leftovers(tmp_path) == []


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    p = tmp_path / "a.xlsx"
    p.write_bytes(b"x")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f"{TEMP_PREFIX}a.xlsx.{dead}.0a1b2c3d.tmp"
    alive = tmp_path / f"{TEMP_PREFIX}a.xlsx.{os.getppid()}.0a1b2c3d.tmp"
    other = tmp_path / f"{TEMP_PREFIX}b.xlsx.{dead}.00000000.tmp"
    longer = tmp_path / f"{TEMP_PREFIX}a.xlsx.old.xlsx.{dead}.00000000.tmp"  # a.xlsx.old.xlsx's
    lock = tmp_path / f"{TEMP_PREFIX}a.xlsx.lock"
    for f in (stale, alive, other, longer, lock):
        f.write_bytes(b"")
    assert remove_stale_temps(p) == [stale]
    assert remove_stale_temps(p, owned=True) == [alive]
    assert other.exists() and longer.exists() and lock.exists()
