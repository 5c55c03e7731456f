"""click in the clerk's language: the command classes every ``xlbridge`` command uses.

The help texts of commands and options are message ids (:func:`xlbridge.i18n.N_`),
translated when help is shown; click's own texts (``Usage:``, ``[required]``,
``Missing option``…) go through the catalogue of click's texts
(:func:`xlbridge.i18n.route_click`); headings end with the language's colon (``选项：``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from xlbridge.console import configure_streams
from xlbridge.i18n import N_, gettext, route_click, set_language, t

route_click()


class HelpFormatter(click.HelpFormatter):
    """Headings and the usage line with the current language's punctuation."""

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}" + t("{heading}：", heading=heading) + "\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, t("用法：") if prefix is None else prefix)


class Context(click.Context):
    formatter_class = HelpFormatter


@contextmanager
def _translated_help(command: click.Command, ctx: click.Context) -> Iterator[None]:
    """The command's help texts (its own and its options') in the current language while
    help is written; the message ids stay in place for the next time."""
    saved: list[tuple[Any, str, Any]] = [(command, "help", command.help),
                                         (command, "short_help", command.short_help)]
    saved += [(p, "help", p.help) for p in command.get_params(ctx)
              if getattr(p, "help", None)]
    try:
        for obj, attr, value in saved:
            if value:
                setattr(obj, attr, gettext(value))
        yield
    finally:
        for obj, attr, value in saved:
            setattr(obj, attr, value)


class _Translated:
    context_class = Context

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None and not getattr(option, "_xlbridge_help", False):
            option.help = N_("显示本帮助并退出。")
            option._xlbridge_help = True  # type: ignore[attr-defined]
        return option

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated_help(self, ctx):  # type: ignore[arg-type]
            super().format_help(ctx, formatter)  # type: ignore[misc]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [rv for p in self.get_params(ctx)  # type: ignore[attr-defined]
                if not isinstance(p, click.Argument) and (rv := p.get_help_record(ctx))]
        if rows:
            with formatter.section(t("选项")):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        help_, short = self.help, self.short_help  # type: ignore[attr-defined]
        try:
            self.help = gettext(help_) if help_ else help_  # type: ignore[attr-defined]
            self.short_help = gettext(short) if short else short  # type: ignore[attr-defined]
            return super().get_short_help_str(limit)  # type: ignore[misc]
        finally:
            self.help, self.short_help = help_, short  # type: ignore[attr-defined]


class Command(_Translated, click.Command):
    pass


class Group(_Translated, click.Group):
    command_class = Command
    group_class = type      # subgroups are of this class too

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        names = [n for n in self.list_commands(ctx)
                 if (c := self.get_command(ctx, n)) is not None and not c.hidden]
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        for name in names:
            rows.append((name, self.get_command(ctx, name).get_short_help_str(limit)))  # type: ignore[union-attr]
        if rows:
            with formatter.section(t("命令")):
                formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # before anything is printed: no UnicodeEncodeError on a GBK console, pipe or file
        configure_streams()
        set_language(None)      # the environment's language as it is now (LANG=en_…)
        try:
            return super().main(*args, **kwargs)
        finally:
            set_language(None)     # --lang is for this command only (in-process callers)
