"""Installing the add-in on a Windows PC with Excel (``xlbridge addin install``).

Everything but one step is plain Python (and tested on any machine): the package is built by
:func:`xlbridge.addin.package.build` with this Python as the interpreter. The Excel-only step
is :func:`_compile_in_excel` — about twenty lines through xlwings' COM API:

1. allow programmatic access to VBA projects for the current user while it runs
   (``HKCU\\Software\\Microsoft\\Office\\<version>\\Excel\\Security\\AccessVBOM`` = 1; the
   previous value is put back afterwards);
2. start a hidden Excel, open the package, import the four ``.bas`` modules
   (``VBProject.VBComponents.Import``), and save it as an add-in (``xlOpenXMLAddIn``) into
   Excel's start-up folder (``Application.StartupPath``, i.e. ``%APPDATA%\\Microsoft\\Excel\\
   XLSTART``, a trusted location), where Excel loads it at every start.

Nothing else is changed on the PC: no xlwings license key is needed (the desktop add-in uses
only xlwings' open-source parts), and ``xlbridge addin install --remove`` deletes the file.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from xlbridge.addin.package import ADDIN_NAME, AddinError, build

XL_OPEN_XML_ADDIN = 55  # XlFileFormat.xlOpenXMLAddIn


def pythonw(executable: str = sys.executable) -> str:
    """The windowless interpreter next to ``executable`` (what Excel should start)."""
    candidate = Path(executable).with_name("pythonw.exe")
    return str(candidate) if candidate.exists() else executable


def _require_windows() -> None:
    if not sys.platform.startswith("win"):
        raise AddinError("`xlbridge addin install` runs on a Windows PC with Excel; on this "
                         "machine use `xlbridge addin build` and copy the result "
                         "(see docs/windows-acceptance.md)")


def install(interpreter: str | None = None, startup_dir: Path | None = None) -> Path:
    """Build the add-in for this Python, compile its VBA in Excel, put it in XLSTART."""
    _require_windows()
    with tempfile.TemporaryDirectory(prefix="xlbridge-addin-") as tmp:
        made = build(Path(tmp) / ADDIN_NAME, interpreter=interpreter or pythonw())
        return _compile_in_excel(made.addin, made.vba, startup_dir)


def remove(startup_dir: Path | None = None) -> Path | None:
    """Delete the installed add-in (Excel must be closed)."""
    _require_windows()
    folder = startup_dir or _startup_dir()
    target = folder / ADDIN_NAME
    if target.exists():
        target.unlink()
        return target
    return None


# --------------------------------------------------------------------------- Excel-only


def _startup_dir() -> Path:  # pragma: no cover - Excel only
    import xlwings as xw

    with xw.App(visible=False, add_book=False) as app:
        return Path(app.startup_path)


@contextlib.contextmanager
def _vba_access(version: str) -> Iterator[None]:  # pragma: no cover - Windows only
    import winreg

    key_path = rf"Software\Microsoft\Office\{version}\Excel\Security"
    key = winreg.CreateKey(winreg.HKEY_CURRENT_USER, key_path)
    try:
        previous = winreg.QueryValueEx(key, "AccessVBOM")[0]
    except FileNotFoundError:
        previous = None
    winreg.SetValueEx(key, "AccessVBOM", 0, winreg.REG_DWORD, 1)
    try:
        yield
    finally:
        if previous is None:
            winreg.DeleteValue(key, "AccessVBOM")
        else:
            winreg.SetValueEx(key, "AccessVBOM", 0, winreg.REG_DWORD, previous)
        winreg.CloseKey(key)


def _compile_in_excel(package: Path, modules: list[Path],
                      startup_dir: Path | None) -> Path:  # pragma: no cover - Excel only
    import xlwings as xw

    with xw.App(visible=False, add_book=False) as app:
        target = (startup_dir or Path(app.startup_path)) / ADDIN_NAME
        with _vba_access(app.version.split(".")[0] + ".0"):
            book = app.books.open(str(package))
            for path in modules:
                book.api.VBProject.VBComponents.Import(str(path))
            app.display_alerts = False
            staged = package.with_name("compiled-" + ADDIN_NAME)
            book.api.SaveAs(str(staged), XL_OPEN_XML_ADDIN)
            book.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staged, target)
    return target
