"""Stand-ins for xlwings' worksheet-function decorators where they would do nothing.

``xlbridge.udfs`` declares its functions with ``@xw.func``/``@xw.arg``/``@xw.ret``. Those
decorators only record metadata for Excel's UDF server (Windows) or xlwings' server mode;
elsewhere xlwings itself makes them no-ops — but importing xlwings costs ~150 ms and ~20 MB
(it loads numpy), which a headless ``xlbridge recompute`` or ``xlbridge score`` pays for
nothing. :mod:`xlbridge.udfs` imports this module instead when xlwings could not use the
metadata anyway (see the check there); the decorators below accept the same arguments and
return the function unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def func(f: F | None = None, **_options: Any) -> Any:
    return f if f is not None else (lambda g: g)


def arg(_name: str, _convert: Any = None, **_options: Any) -> Callable[[F], F]:
    return lambda f: f


def ret(_convert: Any = None, **_options: Any) -> Callable[[F], F]:
    return lambda f: f
