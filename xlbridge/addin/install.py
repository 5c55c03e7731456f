"""Installing the add-in by copying one file (``xlbridge addin install``).

Excel opens every file in the user's start-up folder ``%APPDATA%\\Microsoft\\Excel\\XLSTART``
when it starts, and opens an ``.xlam`` there as an add-in. That folder is one of the trusted
locations Excel has by default, so the add-in's macros run without a security prompt and
without any Trust Center change; nothing in Excel needs to run, and nothing is written to the
registry. Installing is copying ``xlbridge.xlam`` there (replacing an older copy); removing
is deleting it. Both refuse, with a message, while Excel holds the file open.

For a whole office the same file is copied by group policy or a logon script — see the
README, “In Excel”.
"""

from __future__ import annotations

import io
import os
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

from xlbridge.addin.package import ADDIN_NAME, AddinError, package_bytes
from xlbridge.atomic import write_atomic
from xlbridge.i18n import t


def pythonw(executable: str = sys.executable) -> str:
    """The windowless interpreter next to ``executable`` (what Excel should start)."""
    candidate = Path(executable).with_name("pythonw.exe")
    return str(candidate) if candidate.exists() else executable


def startup_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """Excel's per-user start-up folder, ``%APPDATA%\\Microsoft\\Excel\\XLSTART``."""
    appdata = environ.get("APPDATA")
    if not appdata:
        raise AddinError(t("找不到 Excel 的启动文件夹：环境变量 APPDATA 没有设置（Windows 上它指向 "
                           "C:\\Users\\<用户名>\\AppData\\Roaming）。可用 --folder 指定文件夹。"))
    return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"


def check_addin(data: bytes, where: str) -> None:
    """Refuse anything but a complete xlbridge add-in (a VBA project and the ribbon)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except zipfile.BadZipFile:
        names = set()
    missing = {"xl/vbaProject.bin", "customUI/customUI14.xml", "xl/workbook.xml"} - names
    if missing:
        raise AddinError(t("{path} 不是完整的 xlbridge 加载项（缺少 {parts}）：请用 xlbridge addin "
                           "build 生成。", path=where, parts=t("、").join(sorted(missing))))


def install(source: Path | None = None, interpreter: str | None = None,
            folder: Path | None = None) -> Path:
    """Copy the add-in into Excel's start-up folder; returns where it now is.

    ``source`` is an add-in built before (``xlbridge addin build``, an office's copy);
    without one the add-in is built now for ``interpreter`` (default: this Python's
    pythonw.exe)."""
    if source is not None:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise AddinError(t("无法读取加载项 {path}：{reason}", path=source,
                               reason=exc.strerror or exc)) from None
        check_addin(data, str(source))
    else:
        data = package_bytes(interpreter or pythonw())
    target = (folder or startup_folder()) / ADDIN_NAME
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
    except PermissionError:
        raise AddinError(t("无法写入 {path}：文件正被 Excel 使用或没有权限。请先关闭所有 Excel 窗口"
                           "再安装。", path=target)) from None
    except OSError as exc:
        raise AddinError(t("无法写入 {path}：{reason}", path=target,
                           reason=exc.strerror or exc)) from None
    return target


def remove(folder: Path | None = None) -> Path | None:
    """Delete the installed add-in; returns its path, or None if it was not installed."""
    target = (folder or startup_folder()) / ADDIN_NAME
    try:
        target.unlink()
    except FileNotFoundError:
        return None
    except PermissionError:
        raise AddinError(
            t("无法删除 {path}：文件正被 Excel 使用或没有权限。请先关闭所有 Excel 窗口。",
              path=target)) from None
    return target
