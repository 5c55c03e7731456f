"""CLI commands of the scheme server and the sync client (`xlbridge serve`, `xlbridge server
token create`, `xlbridge sync`), registered on the main `xlbridge` group by :func:`register`."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add the server and sync commands to the `xlbridge` group."""
