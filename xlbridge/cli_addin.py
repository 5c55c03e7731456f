"""`xlbridge addin build` and `xlbridge addin install`: the Excel add-in on the command line,
registered on the main `xlbridge` group by :func:`register` (parsing and printing only)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("addin")
def addin() -> None:
    """The Excel add-in: PERF_* worksheet functions and the 绩效考核 ribbon tab."""


@addin.command("build")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="dist/xlbridge.xlam",
              show_default=True, help="Where to write the add-in package.")
@click.option("--interpreter", help="python(w).exe that Excel should start (the office PC's).")
@click.option("--vba-dir", type=click.Path(file_okay=False),
              help="Where to write the VBA modules (default: next to the package).")
def build_command(output: str, interpreter: str | None, vba_dir: str | None) -> None:
    """Write xlbridge.xlam (ribbon, settings, function help) and its VBA modules (.bas)."""
    from xlbridge.addin.package import AddinError, build

    try:
        made = build(Path(output), interpreter=interpreter, vba_dir=vba_dir)
    except AddinError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"add-in package: {made.addin}")
    for path in made.vba:
        click.echo(f"VBA module:     {path}")
    click.echo("On the office PC: `xlbridge addin install` (see docs/windows-acceptance.md).")


@addin.command("install")
@click.option("--interpreter", help="python(w).exe for Excel to start (default: this one).")
@click.option("--remove", is_flag=True, help="Uninstall: delete the add-in from XLSTART.")
def install_command(interpreter: str | None, remove: bool) -> None:
    """Install the add-in into Excel on this Windows PC (Excel is started hidden)."""
    from xlbridge.addin import install as installer
    from xlbridge.addin.package import AddinError

    try:
        if remove:
            gone = installer.remove()
            click.echo(f"removed {gone}" if gone else "the add-in was not installed")
            return
        target = installer.install(interpreter)
    except AddinError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"installed {target}; restart Excel to see the 绩效考核 tab")


def register(main: click.Group) -> None:
    """Add the `addin` commands to the `xlbridge` group."""
    main.add_command(addin)
