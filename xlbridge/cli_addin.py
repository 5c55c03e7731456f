"""`xlbridge addin build|install|bundle`: the Excel add-in on the command line, registered on
the main `xlbridge` group by :func:`register` (parsing and printing only; the work is done
by :mod:`xlbridge.addin`)."""

from __future__ import annotations

from pathlib import Path

import click

from xlbridge.clitext import Group
from xlbridge.i18n import N_, t


@click.group("addin", cls=Group,
             help=N_("Excel 加载项：PERF_* 工作表函数和“绩效考核”功能区选项卡。"))
def addin() -> None:
    pass


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@addin.command("build",
               help=N_("写出 xlbridge.xlam：一个完整的加载项文件（VBA 工程、功能区、设置）。"))
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="dist/xlbridge.xlam",
              show_default=True, help=N_("加载项写到哪里。"))
@click.option("--interpreter",
              help=N_("办公室电脑上 Excel 启动的 pythonw.exe，如 "
                      r"%LOCALAPPDATA%\xlbridge\venv\Scripts\pythonw.exe（环境变量在该电脑上展开）。"
                      "写入加载项的 xlbridge.conf 工作表。"))
@click.option("--vba-dir", type=click.Path(file_okay=False),
              help=N_("另把 VBA 模块以 .bas/.cls 文件写到这个文件夹，以便阅读。"))
def build_command(output: str, interpreter: str | None, vba_dir: str | None) -> None:
    from xlbridge.addin.package import AddinError, build

    try:
        made = build(Path(output), interpreter=interpreter, vba_dir=vba_dir)
    except AddinError as exc:
        raise _fail(exc) from None
    click.echo(t("加载项：{path}", path=made.addin))
    for path in made.vba:
        click.echo(t("VBA 模块：{path}", path=path))
    if not interpreter:
        click.echo(t("注意：没有指定 --interpreter，加载项打开时会提示设置 Python 解释器。"),
                   err=True)
    click.echo(t("安装：把它复制到每台电脑的 %APPDATA%\\Microsoft\\Excel\\XLSTART，"
                 "或在该电脑上运行 xlbridge addin install --from 此文件。"))


@addin.command("install", help=N_(
    "把加载项复制到 Excel 的启动文件夹以安装它（Excel 须已关闭；不改信任中心设置，"
    "不启动任何程序）。"))
@click.option("--from", "source", type=click.Path(dir_okay=False, exists=True),
              help=N_("以前生成的加载项（默认：现在为这个 Python 生成一个）。"))
@click.option("--interpreter",
              help=N_("现在生成时：Excel 启动的 pythonw.exe（默认：这个 Python 的）。"))
@click.option("--folder", type=click.Path(file_okay=False),
              help=N_(r"复制到这个文件夹，而不是 %APPDATA%\Microsoft\Excel\XLSTART。"))
@click.option("--remove", is_flag=True, help=N_("卸载：从该文件夹删除加载项。"))
def install_command(source: str | None, interpreter: str | None, folder: str | None,
                    remove: bool) -> None:
    from xlbridge.addin import install as installer
    from xlbridge.addin.package import AddinError

    where = Path(folder) if folder else None
    try:
        if remove:
            gone = installer.remove(where)
            click.echo(t("已删除 {path}；重新启动 Excel 后选项卡消失。", path=gone) if gone
                       else t("加载项没有安装在这里，无需删除。"))
            return
        target = installer.install(Path(source) if source else None, interpreter, where)
    except AddinError as exc:
        raise _fail(exc) from None
    click.echo(t("已安装 {path}；重新启动 Excel 即可看到“绩效考核”选项卡。", path=target))


@addin.command("bundle", help=N_(
    "为不能上网的电脑打一个 zip 包：Windows 的 wheel、加载项和 install.cmd。"))
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              default="dist/xlbridge-offline.zip", show_default=True,
              help=N_("离线安装包写到哪里。"))
@click.option("--wheelhouse", type=click.Path(file_okay=False),
              help=N_("wheel 放在这里：其中已有 wheel 时直接使用，否则下载到这里。"))
@click.option("--interpreter", default=None,
              help=N_("加载项启动的 pythonw.exe（默认：install.cmd 建立的那个）。"))
def bundle_command(output: str, wheelhouse: str | None, interpreter: str | None) -> None:
    from xlbridge.addin import bundle as bundler
    from xlbridge.addin.package import AddinError

    try:
        names = bundler.bundle(Path(output), wheelhouse,
                               interpreter=interpreter or bundler.INTERPRETER)
    except AddinError as exc:
        raise _fail(exc) from None
    wheels = sum(1 for n in names if n.endswith(".whl"))
    click.echo(t("离线安装包：{path}（{wheels} 个 wheel、{platform}、Python {python}）。"
                 "在目标电脑上解压后双击 install.cmd。", path=output, wheels=wheels,
                 platform=bundler.PLATFORM, python=bundler.PYTHON_VERSION))


def register(main: click.Group) -> None:
    """Add the `addin` commands to the `xlbridge` group."""
    main.add_command(addin)
