"""`xlbridge addin build|install|bundle`: the Excel add-in on the command line, registered on
the main `xlbridge` group by :func:`register` (parsing and printing only; the work is done
by :mod:`xlbridge.addin`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("addin")
def addin() -> None:
    """The Excel add-in: PERF_* worksheet functions and the 绩效考核 ribbon tab."""


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@addin.command("build")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="dist/xlbridge.xlam",
              show_default=True, help="Where to write the add-in.")
@click.option("--interpreter",
              help="The pythonw.exe Excel starts on the office PCs, e.g. "
                   r"%LOCALAPPDATA%\xlbridge\venv\Scripts\pythonw.exe (environment variables "
                   "are expanded on the PC). Written to the add-in's xlbridge.conf sheet.")
@click.option("--vba-dir", type=click.Path(file_okay=False),
              help="Also write the VBA modules there as .bas/.cls files, to read them.")
def build_command(output: str, interpreter: str | None, vba_dir: str | None) -> None:
    """Write xlbridge.xlam: one complete add-in file (VBA project, ribbon, settings)."""
    from xlbridge.addin.package import AddinError, build

    try:
        made = build(Path(output), interpreter=interpreter, vba_dir=vba_dir)
    except AddinError as exc:
        raise _fail(exc) from None
    click.echo(f"加载项：{made.addin}")
    for path in made.vba:
        click.echo(f"VBA 模块：{path}")
    if not interpreter:
        click.echo("注意：没有指定 --interpreter，加载项打开时会提示设置 Python 解释器。", err=True)
    click.echo("安装：把它复制到每台电脑的 %APPDATA%\\Microsoft\\Excel\\XLSTART，"
               "或在该电脑上运行 xlbridge addin install --from 此文件。")


@addin.command("install")
@click.option("--from", "source", type=click.Path(dir_okay=False, exists=True),
              help="An add-in built before (default: build one now for this Python).")
@click.option("--interpreter",
              help="When building now: the pythonw.exe Excel starts (default: this Python's).")
@click.option("--folder", type=click.Path(file_okay=False),
              help=r"Copy into this folder instead of %APPDATA%\Microsoft\Excel\XLSTART.")
@click.option("--remove", is_flag=True, help="Uninstall: delete the add-in from that folder.")
def install_command(source: str | None, interpreter: str | None, folder: str | None,
                    remove: bool) -> None:
    """Install the add-in by copying it into Excel's start-up folder (Excel closed; no
    Trust Center change, nothing started)."""
    from xlbridge.addin import install as installer
    from xlbridge.addin.package import AddinError

    where = Path(folder) if folder else None
    try:
        if remove:
            gone = installer.remove(where)
            click.echo(f"已删除 {gone}；重新启动 Excel 后选项卡消失。" if gone
                       else "加载项没有安装在这里，无需删除。")
            return
        target = installer.install(Path(source) if source else None, interpreter, where)
    except AddinError as exc:
        raise _fail(exc) from None
    click.echo(f"已安装 {target}；重新启动 Excel 即可看到“绩效考核”选项卡。")


@addin.command("bundle")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              default="dist/xlbridge-offline.zip", show_default=True,
              help="Where to write the offline installer.")
@click.option("--wheelhouse", type=click.Path(file_okay=False),
              help="Keep the wheels here: used as they are if it holds wheels, else "
                   "downloaded into it.")
@click.option("--interpreter", default=None,
              help="The pythonw.exe the add-in starts (default: the one install.cmd makes).")
def bundle_command(output: str, wheelhouse: str | None, interpreter: str | None) -> None:
    """One zip for PCs without internet: Windows wheels, the add-in and install.cmd."""
    from xlbridge.addin import bundle as bundler
    from xlbridge.addin.package import AddinError

    try:
        names = bundler.bundle(Path(output), wheelhouse,
                               interpreter=interpreter or bundler.INTERPRETER)
    except AddinError as exc:
        raise _fail(exc) from None
    wheels = sum(1 for n in names if n.endswith(".whl"))
    click.echo(f"离线安装包：{output}（{wheels} 个 wheel、{bundler.PLATFORM}、"
               f"Python {bundler.PYTHON_VERSION}）。在目标电脑上解压后双击 install.cmd。")


def register(main: click.Group) -> None:
    """Add the `addin` commands to the `xlbridge` group."""
    main.add_command(addin)
