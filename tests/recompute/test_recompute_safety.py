"""Untrusted files, locks and atomic writes."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from recompute_helpers import handmade, make_template

from xlbridge.recompute import (
    FileRejected,
    Limits,
    WorkbookLocked,
    lock_path,
    recalc_workbook,
    recompute_file,
)
from xlbridge.recompute import package as package_mod

ROWS = '<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*21</f></c></row>'


def _rejected(path: Path, *words: str, limits: Limits | None = None) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        recalc_workbook(path, limits=limits)
    err = info.value
    assert str(path) in str(err)
    for w in words:
        assert w in err.reason, err.reason
    return err


def test_legacy_xls(tmp_path: Path) -> None:
    p = tmp_path / "旧格式.xls"
    p.write_bytes(package_mod.OLE2_MAGIC + b"\0" * 600 + "Workbook".encode("utf-16-le"))
    _rejected(p, "是旧版 Excel 97-2003 的 .xls 文件（OLE2）；请先在 Excel 中另存为 .xlsx 或 .xlsm")
    rep = recompute_file(p)
    assert rep.status == "rejected" and "是旧版 Excel 97-2003 的 .xls 文件" in (rep.error or "")


def test_encrypted_workbook(tmp_path: Path) -> None:
    p = tmp_path / "加密.xlsx"
    p.write_bytes(package_mod.OLE2_MAGIC + b"\0" * 600 + "EncryptionInfo".encode("utf-16-le")
                  + b"\0" * 64 + "EncryptedPackage".encode("utf-16-le"))
    _rejected(p, "是设了密码（加密）的工作簿")


def test_not_a_zip(tmp_path: Path) -> None:
    p = tmp_path / "x.xlsx"
    p.write_text("姓名,分数\n张三,90\n", encoding="utf-8")
    _rejected(p, "不是 Excel 的 .xlsx/.xlsm 文件（不是 zip 压缩包）")


def test_truncated_zip(tmp_path: Path) -> None:
    src = handmade(tmp_path / "ok.xlsx", ROWS)
    p = tmp_path / "broken.xlsx"
    p.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    _rejected(p, "已损坏（")


def test_corrupt_member(tmp_path: Path) -> None:
    src = handmade(tmp_path / "ok.xlsx", ROWS)
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    n, e = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    body = info.header_offset + 30 + n + e
    for k in range(body + 2, body + info.compress_size - 2):
        data[k] ^= 0x5A
    p = tmp_path / "bad.xlsx"
    p.write_bytes(bytes(data))
    _rejected(p, "已损坏（")


def test_not_a_workbook(tmp_path: Path) -> None:
    p = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("word/document.xml", "<document/>")
    _rejected(p, "没有工作簿部件：不是 Excel 工作簿")


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    p = tmp_path / "bomb.xlsx"
    src = handmade(tmp_path / "ok.xlsx", ROWS)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for i in zin.infolist():
            z.writestr(i, zin.read(i))
        z.writestr("xl/media/zeros.bin", b"\0" * (8 << 20))
    _rejected(p, "的压缩比为", "，可能是 zip 炸弹")


def test_zip_bomb_by_total_size(tmp_path: Path) -> None:
    src = handmade(tmp_path / "ok.xlsx", ROWS)
    _rejected(src, "解压后共 1693 字节（上限 1000），可能是 zip 炸弹",
              limits=Limits(max_total_size=1000))


def test_lying_sizes_are_caught(tmp_path: Path) -> None:
    """A central directory that understates a member's size must not let it inflate."""
    big = b"<row>" * 200000
    sheet = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData>' + ROWS + "</sheetData></worksheet>")
    src = handmade(tmp_path / "ok.xlsx", "", sheet_xml=sheet,
                   extra_parts={"xl/media/pad.bin": big})
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo("xl/media/pad.bin")
    # patch the uncompressed size in the member's central directory entry to 10 bytes
    pos = data.find(b"xl/media/pad.bin", data.find(b"PK\x01\x02"))
    entry = data.rfind(b"PK\x01\x02", 0, pos)
    struct.pack_into("<I", data, entry + 24, 10)
    p = tmp_path / "liar.xlsx"
    p.write_bytes(bytes(data))
    from xlbridge.recompute.package import Package

    pkg = Package(p)
    try:
        with pytest.raises(FileRejected):
            pkg.read(info.filename)
    finally:
        pkg.close()


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def test_billion_laughs_in_shared_strings(tmp_path: Path) -> None:
    sst = BILLION_LAUGHS + ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                            'main"><si><t>&lol9;</t></si></sst>')
    p = handmade(tmp_path / "lol.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                 shared_strings=sst)
    _rejected(p, "DTD")


def test_billion_laughs_in_sheet(tmp_path: Path) -> None:
    sheet = BILLION_LAUGHS + ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                              '2006/main"><sheetData><row r="1"><c r="A1" t="str"><f>"x"</f>'
                              '<v>&lol9;</v></c></row></sheetData></worksheet>')
    p = handmade(tmp_path / "lol.xlsx", "", sheet_xml=sheet)
    _rejected(p, "DTD")


def test_external_entity_in_workbook(tmp_path: Path) -> None:
    p = handmade(tmp_path / "xxe.xlsx", ROWS)
    with zipfile.ZipFile(p) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"<workbook", b'<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook', 1)
    with zipfile.ZipFile(p, "w") as z:
        for n, d in parts.items():
            z.writestr(n, d)
    _rejected(p, "DTD")


def test_encrypted_zip_member(tmp_path: Path) -> None:
    p = handmade(tmp_path / "enc.xlsx", ROWS)
    data = bytearray(p.read_bytes())
    # set the "encrypted" flag on every central directory entry
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        data[pos + 8] |= 1
        pos = data.find(b"PK\x01\x02", pos + 4)
    p.write_bytes(bytes(data))
    _rejected(p, "zip 成员 [Content_Types].xml 已加密")


# ------------------------------------------------------------------------- locks


def test_locked_file_is_refused(tmp_path: Path) -> None:
    p = handmade(tmp_path / "a.xlsx", ROWS)
    before = p.read_bytes()
    lp = lock_path(p)
    assert lp.name == ".~xlbridge-a.xlsx.lock"
    lp.write_text(f"pid={os.getpid()} host={os.uname().nodename} time=now")
    rep = recompute_file(p)
    assert rep.status == "locked" and str(lp) in (rep.error or "")
    assert p.read_bytes() == before
    with pytest.raises(WorkbookLocked):
        recompute_file(p, raise_errors=True)
    assert lp.exists()  # somebody else's lock is left alone


def test_stale_lock_of_dead_process_is_taken_over(tmp_path: Path) -> None:
    p = handmade(tmp_path / "a.xlsx", ROWS)
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(proc.stdout)
    lock_path(p).write_text(f"pid={dead} host={os.uname().nodename} time=then")
    rep = recompute_file(p)
    assert rep.status == "ok" and rep.written
    assert not lock_path(p).exists()


def test_an_empty_lock_left_by_a_kill_is_taken_over(tmp_path: Path) -> None:
    """A recompute killed between creating its lock and writing its pid leaves an empty lock
    (seen once in CI's kill trials): it holds nothing, so the next run takes it over — after
    a moment's grace, in case its maker is alive and about to write."""
    p = handmade(tmp_path / "a.xlsx", ROWS)
    lock_path(p).write_text("")
    start = time.perf_counter()
    rep = recompute_file(p)
    assert rep.status == "ok" and rep.written and not lock_path(p).exists()
    assert time.perf_counter() - start >= 0.9          # it waited for the grace time
    q = handmade(tmp_path / "b.xlsx", ROWS)
    lock_path(q).write_text("")
    old = time.time() - 60
    os.utime(lock_path(q), (old, old))
    assert recompute_file(q).status == "ok"            # an old empty lock: at once


def test_lock_removed_after_success_and_failure(tmp_path: Path) -> None:
    p = handmade(tmp_path / "a.xlsx", ROWS)
    assert recompute_file(p).status == "ok"
    assert not lock_path(p).exists()
    bad = tmp_path / "b.xlsx"
    bad.write_bytes(b"PK junk")
    assert recompute_file(bad).status == "rejected"
    assert not lock_path(bad).exists()


def test_backup(tmp_path: Path) -> None:
    p = make_template(tmp_path / "考核.xlsx", rows=5, image=False)
    before = p.read_bytes()
    rep = recompute_file(p, backup=True)
    assert rep.status == "ok" and rep.backup_path
    backup = Path(rep.backup_path)
    assert backup.read_bytes() == before and backup.name.startswith("考核.backup-")
    assert p.read_bytes() != before
    # nothing to change the second time: no backup kept
    rep2 = recompute_file(p, backup=True)
    assert rep2.status == "ok" and rep2.backup_path is None
    assert len(list(tmp_path.glob("*.backup-*"))) == 1


# ------------------------------------------------------------------------- atomic writes


def test_crash_while_writing_leaves_original(tmp_path: Path, monkeypatch) -> None:
    p = make_template(tmp_path / "考核.xlsx", rows=10, image=False)
    before = p.read_bytes()
    calls = {"n": 0}
    real = package_mod.ZipWriter.add_raw

    def flaky(self, info, raw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(self, info, raw)

    monkeypatch.setattr(package_mod.ZipWriter, "add_raw", flaky)
    rep = recompute_file(p)
    assert rep.status == "failed" and "No space left" in (rep.error or "")
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["考核.xlsx"]
    calls["n"] = 0
    with pytest.raises(OSError):
        recalc_workbook(p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["考核.xlsx"]


def test_interrupt_while_writing_leaves_original(tmp_path: Path, monkeypatch) -> None:
    p = make_template(tmp_path / "考核.xlsx", rows=10, image=False)
    before = p.read_bytes()

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(package_mod.ZipWriter, "close", interrupted)
    with pytest.raises(KeyboardInterrupt):
        recompute_file(p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["考核.xlsx"]


def test_output_is_a_valid_zip_with_same_order(tmp_path: Path) -> None:
    p = make_template(tmp_path / "考核.xlsx", rows=10, image=False)
    out = tmp_path / "o.xlsx"
    recalc_workbook(p, out_path=out)
    with zipfile.ZipFile(out) as z, zipfile.ZipFile(p) as zin:
        assert z.testzip() is None
        assert z.namelist() == zin.namelist()
        for a, b in zip(z.infolist(), zin.infolist(), strict=True):
            assert a.date_time == b.date_time and a.external_attr == b.external_attr
