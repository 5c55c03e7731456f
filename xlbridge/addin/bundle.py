"""The offline installer (``xlbridge addin bundle``): one zip for PCs without internet.

The zip holds one folder ``xlbridge-<version>-<platform>/`` with

* ``wheels/`` — xlbridge (built from this checkout) and every package it needs on Windows,
  as wheels for the pinned Python (``pip download --only-binary=:all: --platform win_amd64
  --python-version 3.11``). pip evaluates environment markers for the machine it runs on,
  not for ``--platform``, so requirements that only Windows needs (``pywin32`` for xlwings,
  ``colorama`` for click, ``tzdata`` for psycopg) are found from the wheels' own metadata and
  downloaded too, until nothing is missing. Every wheel is checked against the tags of the
  pinned Python on Windows; anything else stops the bundle;
* ``xlbridge.xlam`` — the add-in, built for the interpreter ``install.cmd`` creates;
* ``install.cmd`` — creates a virtual environment from the office's Python 3.11 in
  ``%LOCALAPPDATA%\\xlbridge\\venv``, installs the wheels there without any index, and
  copies the add-in into Excel's start-up folder (``xlbridge addin install --from``);
* ``说明.txt`` — the same in Chinese, for the IT person.
"""

from __future__ import annotations

import email.parser
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from xlbridge import __version__
from xlbridge.addin.package import ADDIN_NAME, AddinError, package_bytes
from xlbridge.atomic import write_atomic
from xlbridge.i18n import t

PYTHON_VERSION = "3.11"
PLATFORM = "win_amd64"
#: Where install.cmd puts the virtual environment, and so the interpreter the add-in starts
#: (xlwings expands the environment variable when it reads the setting).
VENV = r"%LOCALAPPDATA%\xlbridge\venv"
INTERPRETER = VENV + r"\Scripts\pythonw.exe"
#: The environment markers are evaluated in on the office PC.
WINDOWS_MARKERS = {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows",
                   "platform_machine": "AMD64", "implementation_name": "cpython",
                   "platform_python_implementation": "CPython"}


def supported_tags(python_version: str = PYTHON_VERSION,
                   platform: str = PLATFORM) -> frozenset[Tag]:
    """Every wheel tag CPython ``python_version`` on ``platform`` installs."""
    version = tuple(int(x) for x in python_version.split("."))
    abi = f"cp{version[0]}{version[1]}"
    return frozenset([*cpython_tags(version, abis=[abi], platforms=[platform]),
                      *compatible_tags(version, abi, platforms=[platform])])


def check_wheels(paths: Iterable[Path], python_version: str = PYTHON_VERSION,
                 platform: str = PLATFORM) -> None:
    """Refuse any file that is not a wheel the office's Python can install."""
    tags = supported_tags(python_version, platform)
    bad = []
    for path in paths:
        try:
            _name, _ver, _build, wheel_tags = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            bad.append(t("{name}（不是 wheel）", name=path.name))
            continue
        if not wheel_tags & tags:
            bad.append(path.name)
    if bad:
        raise AddinError(t("以下文件不能装在 Windows 的 Python {version}（{platform}）上：{files}",
                           version=python_version, platform=platform, files=t("、").join(bad)))


def _wheel_requirements(path: Path) -> list[Requirement]:
    with zipfile.ZipFile(path) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.parser.BytesParser().parsebytes(z.read(meta), headersonly=True)
    out = []
    for line in message.get_all("Requires-Dist") or []:
        try:
            out.append(Requirement(line))
        except InvalidRequirement:
            continue
    return out


def windows_only_requirements(wheels: Iterable[Path], python_version: str) -> list[str]:
    """Requirements of ``wheels`` that hold on Windows but not here (markers without extras),
    and that no wheel in ``wheels`` provides."""
    wheels = list(wheels)
    have = {canonicalize_name(parse_wheel_filename(p.name)[0]) for p in wheels}
    here = default_environment()
    there = {**here, **WINDOWS_MARKERS, "python_version": python_version,
             "python_full_version": f"{python_version}.0"}
    wanted = {}
    for path in wheels:
        for req in _wheel_requirements(path):
            marker = req.marker
            if marker is None or "extra" in str(marker):
                continue
            if marker.evaluate({**there, "extra": ""}) and \
                    canonicalize_name(req.name) not in have:
                req.marker = None
                wanted[canonicalize_name(req.name)] = str(req)
    return sorted(wanted.values())


def _run(args: list[str], what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(args, capture_output=True, text=True,
                          env=None if env is None else {**os.environ, **env})
    if done.returncode:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise AddinError(t("{what}失败（{command} …）：", what=what, command=" ".join(args[:4]))
                         + f"\n{tail}")


def project_root() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").exists():
        raise AddinError(t("xlbridge addin bundle 需要 xlbridge 的源代码目录（git clone），"
                           "{path} 中没有 pyproject.toml。", path=root))
    return root


def download_wheels(dest: Path, python_version: str = PYTHON_VERSION,
                    platform: str = PLATFORM) -> list[Path]:
    """xlbridge's wheel and every wheel it needs on Windows, into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    # a pure-Python wheel: this machine cannot compile the recompute's C part for Windows
    # (setup.py leaves it out with XLBRIDGE_PURE_WHEEL); there the scan runs in Python, with
    # the same results
    _run([*pip, "wheel", "--no-deps", "-q", "-w", str(dest), str(project_root())],
         t("构建 xlbridge 的 wheel "), env={"XLBRIDGE_PURE_WHEEL": "1"})
    target = ["--only-binary=:all:", "--platform", platform, "--python-version",
              python_version, "--implementation", "cp", "-d", str(dest)]
    ours = sorted(dest.glob(f"xlbridge-{__version__}-*.whl"))
    if not ours:
        raise AddinError(t("pip wheel 没有在 {path} 生成 xlbridge {version} 的 wheel", path=dest,
                           version=__version__))
    _run([*pip, "download", "-q", *target, str(ours[-1])], t("下载 Windows 的 wheel "))
    for _round in range(5):
        extra = windows_only_requirements(dest.glob("*.whl"), python_version)
        if not extra:
            break
        _run([*pip, "download", "-q", *target, *extra], t("下载仅 Windows 需要的 wheel "))
    else:
        raise AddinError(t("仅 Windows 需要的依赖下载了 5 轮仍不完整"))
    return sorted(dest.glob("*.whl"))


def install_cmd(python_version: str = PYTHON_VERSION) -> str:
    """The batch file that installs the bundle on an office PC (ASCII, CRLF)."""
    lines = [
        "@echo off",
        "rem xlbridge offline installation: a virtual environment from this folder's wheels,",
        "rem then the Excel add-in copied into XLSTART. Close Excel first. No internet needed.",
        "setlocal",
        'set "HERE=%~dp0"',
        f'set "VENV={VENV}"',
        f"py -{python_version} -c \"import sys\" >nul 2>nul",
        "if errorlevel 1 goto :try_python",
        f'set "PY=py -{python_version}"',
        "goto :have_python",
        ":try_python",
        "python -c \"import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == "
        f"'{python_version}' else 1)\" >nul 2>nul",
        "if errorlevel 1 goto :no_python",
        'set "PY=python"',
        "goto :have_python",
        ":no_python",
        f"echo Python {python_version} (64-bit) was not found. Install it for this user "
        "first (python.org), then run install.cmd again.",
        "exit /b 1",
        ":have_python",
        'if not exist "%VENV%\\Scripts\\python.exe" %PY% -m venv "%VENV%"',
        "if errorlevel 1 goto :failed",
        '"%VENV%\\Scripts\\python.exe" -m pip install --disable-pip-version-check --no-index '
        '--find-links "%HERE%wheels" --upgrade xlbridge',
        "if errorlevel 1 goto :failed",
        f'"%VENV%\\Scripts\\xlbridge.exe" addin install --from "%HERE%{ADDIN_NAME}"',
        "if errorlevel 1 goto :failed",
        "echo xlbridge is installed. Start Excel: the tab appears on the ribbon.",
        "exit /b 0",
        ":failed",
        "echo The installation failed; see the messages above.",
        "exit /b 1",
    ]
    return "\r\n".join(lines) + "\r\n"


def readme(python_version: str = PYTHON_VERSION) -> str:
    return "\r\n".join([
        f"xlbridge {__version__} 离线安装包（Windows 64 位，Python {python_version}）",
        "",
        f"1. 本机需已安装 64 位 Python {python_version}（为当前用户安装即可）。",
        "2. 关闭所有 Excel 窗口，双击 install.cmd。它会：",
        f"   - 在 {VENV} 建立 Python 虚拟环境，从 wheels 文件夹安装 xlbridge（不需要联网）；",
        "   - 把 xlbridge.xlam 复制到 Excel 的启动文件夹 %APPDATA%\\Microsoft\\Excel\\XLSTART。",
        "3. 启动 Excel，功能区出现“绩效考核”选项卡，单元格中可用 =PERF_SCORE() 等函数。",
        "",
        "不需要更改 Excel 的信任中心设置，也不需要 xlwings 许可证。",
        "卸载：在命令提示符中运行 "
        f"\"{VENV}\\Scripts\\xlbridge.exe\" addin install --remove",
        "整个单位部署（组策略、登录脚本）见 xlbridge 的 README“In Excel”一节。",
        "",
        "没有加载项的电脑打开计算过的工作簿时，单元格显示已保存的结果；修改输入后，PERF_* "
        "单元格显示 #NAME?。对外发布请用 xlbridge recompute <工作簿> --values-only <文件夹> "
        "生成的纯数值副本。",
        ""])


def bundle(output: Path | str, wheelhouse: Path | str | None = None,
           interpreter: str = INTERPRETER, python_version: str = PYTHON_VERSION,
           platform: str = PLATFORM) -> list[str]:
    """Write the offline installer zip; returns the names it holds.

    ``wheelhouse``: a folder that keeps the wheels: if it holds wheels already (a previous
    bundle's, or ones downloaded by hand) they are used as they are, else they are
    downloaded into it. Without it they are downloaded into a temporary folder. Downloading
    needs PyPI (or pip's configured index)."""
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="xlbridge-bundle-") as tmp:
        if wheelhouse is None or not any(Path(wheelhouse).glob("*.whl")):
            folder = Path(wheelhouse) if wheelhouse is not None else Path(tmp) / "wheels"
            wheels = download_wheels(folder, python_version, platform)
        else:
            wheels = sorted(Path(wheelhouse).glob("*.whl"))
            others = [p for p in Path(wheelhouse).iterdir() if p.is_file()
                      and p.suffix != ".whl"]
            check_wheels(others, python_version, platform)   # an sdist is refused by name
        check_wheels(wheels, python_version, platform)
        names = {canonicalize_name(parse_wheel_filename(p.name)[0]) for p in wheels}
        if "xlbridge" not in names:
            raise AddinError(t("wheel 文件夹中没有 xlbridge 本身的 wheel"))
        top = f"xlbridge-{__version__}-{platform}/"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(top + "install.cmd", install_cmd(python_version).encode("ascii"))
            z.writestr(top + "说明.txt", b"\xef\xbb\xbf" + readme(python_version).encode())
            z.writestr(top + ADDIN_NAME, package_bytes(interpreter))
            for path in wheels:
                z.write(path, top + "wheels/" + path.name)
            listing = z.namelist()
        try:
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(output, buffer.getvalue())
        except OSError as exc:
            raise AddinError(t("无法写入 {path}：{reason}", path=output,
                               reason=exc.strerror or exc)) from None
    return listing
