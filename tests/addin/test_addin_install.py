"""`xlbridge addin install`: copying the add-in into Excel's start-up folder, here with a fake
%APPDATA% (no Excel, no registry, no Trust Center), through the real command."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from xlbridge.addin import install, package

INTERPRETER = r"%LOCALAPPDATA%\xlbridge\venv\Scripts\pythonw.exe"


def xlbridge(*args: str, appdata: Path | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "APPDATA"}
    if appdata is not None:
        env["APPDATA"] = str(appdata)
    return subprocess.run([sys.executable, "-m", "xlbridge.cli", "addin", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def interpreter_of(path: Path) -> str:
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as z:
        sheet = etree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    first = sheet.find(".//m:row", ns)
    key, value = (c.findtext(".//m:t", namespaces=ns) for c in first.findall("m:c", ns))
    assert key == "INTERPRETER_WIN"
    return value


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return package.build(tmp_path_factory.mktemp("built") / "xlbridge.xlam",
                         interpreter=INTERPRETER).addin


def test_install_copies_the_file_and_remove_deletes_it(built, tmp_path):
    xlstart = tmp_path / "Microsoft" / "Excel" / "XLSTART"
    done = xlbridge("install", "--from", str(built), appdata=tmp_path)
    assert done.returncode == 0, done.stderr
    target = xlstart / "xlbridge.xlam"
    assert f"已安装 {target}" in done.stdout
    assert target.read_bytes() == built.read_bytes()          # the same file, byte for byte
    assert sorted(p.name for p in xlstart.iterdir()) == ["xlbridge.xlam"]   # no temp left
    # an upgrade replaces it
    other = package.build(tmp_path / "other" / "xlbridge.xlam", interpreter=r"D:\py\pythonw.exe")
    assert xlbridge("install", "--from", str(other.addin), appdata=tmp_path).returncode == 0
    assert interpreter_of(target) == r"D:\py\pythonw.exe"
    done = xlbridge("install", "--remove", appdata=tmp_path)
    assert done.returncode == 0 and f"已删除 {target}" in done.stdout
    assert not target.exists() and xlstart.is_dir()
    done = xlbridge("install", "--remove", appdata=tmp_path)
    assert done.returncode == 0 and "没有安装" in done.stdout


def test_install_without_a_file_builds_one_for_this_python(tmp_path):
    done = xlbridge("install", appdata=tmp_path)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "Microsoft" / "Excel" / "XLSTART" / "xlbridge.xlam"
    assert interpreter_of(target) == install.pythonw(sys.executable)
    install.check_addin(target.read_bytes(), str(target))


def test_another_folder(built, tmp_path):
    done = xlbridge("install", "--from", str(built), "--folder", str(tmp_path / "share"),
                    appdata=None)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "share" / "xlbridge.xlam").read_bytes() == built.read_bytes()


def test_without_appdata_it_says_what_is_missing(built):
    done = xlbridge("install", "--from", str(built), appdata=None)
    assert done.returncode == 1
    assert "APPDATA" in done.stderr and "--folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_file_that_is_not_the_addin_is_refused(tmp_path):
    fake = tmp_path / "xlbridge.xlam"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")   # an add-in without its VBA project
    done = xlbridge("install", "--from", str(fake), appdata=tmp_path)
    assert done.returncode == 1 and "不是完整的 xlbridge 加载项" in done.stderr
    assert "xl/vbaProject.bin" in done.stderr
    assert not (tmp_path / "Microsoft").exists()                # nothing written


def test_excel_holding_the_file_is_a_message(built, tmp_path, monkeypatch):
    def in_use(path, data):
        raise PermissionError(13, "The process cannot access the file")

    monkeypatch.setattr(install, "write_atomic", in_use)
    with pytest.raises(package.AddinError, match="关闭所有 Excel"):
        install.install(built, folder=tmp_path)
