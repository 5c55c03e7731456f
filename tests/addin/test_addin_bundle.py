"""`xlbridge addin bundle`: the offline installer zip.

The fast tests bundle a local wheelhouse of small stand-in wheels (no network); the slow one
downloads the real Windows wheels from PyPI (``@pytest.mark.slow``, run by CI) and checks
that they are exactly what the office's Python needs: every wheel for CPython 3.11 on
win_amd64 or pure Python, every requirement that holds on Windows present, xlwings' wheel
carrying the DLL the add-in declares."""

from __future__ import annotations

import email.parser
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlwings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from xlbridge import __version__
from xlbridge.addin import bundle, install

from .test_addin_install import interpreter_of

TOP = f"xlbridge-{__version__}-win_amd64/"


def fake_wheel(folder: Path, filename: str, requires: list[str] = ()) -> Path:
    name, version, _b, _t = parse_wheel_filename(filename)
    path = folder / filename
    meta = "".join([f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                    *(f"Requires-Dist: {r}\n" for r in requires)])
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}-{version}.dist-info/METADATA", meta)
    return path


def run_bundle(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xlbridge.cli", "addin", "bundle", *args],
                          capture_output=True, text=True, timeout=900)


@pytest.fixture
def wheelhouse(tmp_path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    fake_wheel(folder, f"xlbridge-{__version__}-py3-none-any.whl",
               [f"xlwings=={xlwings.__version__}"])
    fake_wheel(folder, f"xlwings-{xlwings.__version__}-cp311-cp311-win_amd64.whl",
               ['pywin32>=224; platform_system == "Windows"'])
    fake_wheel(folder, "pywin32-312-cp311-cp311-win_amd64.whl")
    fake_wheel(folder, "pydantic_core-2.50.5-cp311-cp311-win_amd64.whl")
    fake_wheel(folder, "lxml-6.1.3-cp38-abi3-win_amd64.whl")
    fake_wheel(folder, "olefile-0.47-py2.py3-none-any.whl")
    return folder


def check_zip(path: Path, wheels: list[str]) -> zipfile.ZipFile:
    z = zipfile.ZipFile(path)
    names = z.namelist()
    assert all(n.startswith(TOP) for n in names)
    assert sorted(names) == sorted([TOP + "install.cmd", TOP + "说明.txt", TOP + "xlbridge.xlam",
                                    *(TOP + "wheels/" + w for w in wheels)])
    # the add-in is complete and starts the interpreter install.cmd creates
    addin = path.with_name("bundled.xlam")
    addin.write_bytes(z.read(TOP + "xlbridge.xlam"))
    install.check_addin(addin.read_bytes(), str(addin))
    assert interpreter_of(addin) == bundle.INTERPRETER
    return z


def test_bundle_from_a_wheelhouse(wheelhouse, tmp_path):
    out = tmp_path / "dist" / "offline.zip"
    done = run_bundle("-o", str(out), "--wheelhouse", str(wheelhouse))
    assert done.returncode == 0, done.stderr
    assert "6 个 wheel" in done.stdout and "install.cmd" in done.stdout
    z = check_zip(out, sorted(p.name for p in wheelhouse.iterdir()))
    cmd = z.read(TOP + "install.cmd")
    text = cmd.decode("ascii")                                    # cmd.exe reads it as is
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    labels = set(re.findall(r"^:(\w+)\r$", text, re.M))
    assert set(re.findall(r"goto :(\w+)", text)) <= labels
    # the virtual environment install.cmd creates is the one the add-in starts
    venv = re.search(r'^set "VENV=(.*)"\r$', text, re.M).group(1)
    assert venv + r"\Scripts\pythonw.exe" == bundle.INTERPRETER
    assert '--no-index --find-links "%HERE%wheels"' in text
    assert 'addin install --from "%HERE%xlbridge.xlam"' in text
    assert "py -3.11" in text
    readme = z.read(TOP + "说明.txt").decode("utf-8-sig")
    assert "install.cmd" in readme and "#NAME?" in readme and "--values-only" in readme


@pytest.mark.parametrize("bad", ["lxml-6.1.3-cp311-cp311-manylinux_2_17_x86_64.whl",
                                 "lxml-6.1.3-cp312-cp312-win_amd64.whl",
                                 "pywin32-312-cp311-cp311-win32.whl",
                                 "foo-1.0.tar.gz"])
def test_a_wheel_the_office_python_cannot_install_stops_the_bundle(wheelhouse, tmp_path, bad):
    if bad.endswith(".whl"):
        fake_wheel(wheelhouse, bad)
    else:
        (wheelhouse / bad).write_bytes(b"")
    out = tmp_path / "offline.zip"
    done = run_bundle("-o", str(out), "--wheelhouse", str(wheelhouse))
    assert done.returncode == 1 and bad in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_windows_only_requirements_are_found_from_the_wheels(tmp_path):
    w = fake_wheel(tmp_path, "xlwings-1.0-cp311-cp311-win_amd64.whl", [
        'pywin32>=224; platform_system == "Windows"', 'appscript>=1; platform_system == "Darwin"',
        'colorama; sys_platform == "win32"', 'black; extra == "all"', "requests",
        'tomli; python_version < "3.11"'])
    assert bundle.windows_only_requirements([w], "3.11") == ["colorama", "pywin32>=224"]
    have = fake_wheel(tmp_path, "pywin32-312-cp311-cp311-win_amd64.whl")
    assert bundle.windows_only_requirements([w, have], "3.11") == ["colorama"]
    assert "tomli" in bundle.windows_only_requirements([w, have], "3.10")[1]


def _requirements(path: Path) -> list[Requirement]:
    with zipfile.ZipFile(path) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.parser.BytesParser().parsebytes(z.read(meta), headersonly=True)
    return [Requirement(r) for r in message.get_all("Requires-Dist") or []]


@pytest.mark.slow
def test_bundle_downloads_every_windows_wheel_from_pypi(tmp_path):
    out = tmp_path / "offline.zip"
    wheels = tmp_path / "wheels"
    done = run_bundle("-o", str(out), "--wheelhouse", str(wheels))
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in wheels.iterdir())
    check_zip(out, files)
    bundle.check_wheels(wheels.iterdir())            # cp311 win_amd64, abi3 or pure Python
    by_name = {canonicalize_name(parse_wheel_filename(f)[0]): parse_wheel_filename(f)
               for f in files}
    assert by_name["xlwings"][1].public == xlwings.__version__
    assert {"pywin32", "xlbridge", "pydantic-core", "lxml"} <= set(by_name)
    # the xlwings wheel carries the DLL the add-in's Declare lines load
    xlw = next(wheels.glob("xlwings-*.whl"))
    with zipfile.ZipFile(xlw) as z:
        assert f"xlwings-{xlwings.__version__}.data/data/xlwings64-{xlwings.__version__}.dll" \
            in z.namelist()
    # every requirement that holds on Windows is satisfied from the folder alone
    env = {**bundle.WINDOWS_MARKERS, "python_version": "3.11", "python_full_version": "3.11.9"}
    for path in wheels.iterdir():
        for req in _requirements(path):
            if req.marker is not None and ("extra" in str(req.marker)
                                           or not req.marker.evaluate({**env, "extra": ""})):
                continue
            have = by_name.get(canonicalize_name(req.name))
            assert have is not None, (path.name, str(req))
            assert req.specifier.contains(have[1], prereleases=True), (path.name, str(req))
    # and pip itself resolves xlbridge from it for Windows with no index
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--find-links",
         str(wheels), "--only-binary=:all:", "--platform", "win_amd64", "--python-version",
         "3.11", "--implementation", "cp", "--target", str(tmp_path / "t"), "xlbridge"],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
