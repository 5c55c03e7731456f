"""What xlwings registers for the PERF_* functions, computed the way xlwings does on Windows.

On Windows, ``xw.func``/``xw.arg``/``xw.ret`` are xlwings' desktop decorators
(``xlwings.udfs.xlfunc`` …), which record each function's arguments, docs and options in
``__xlfunc__``; elsewhere they are no-ops. To build the add-in (and to test it) on any machine,
:func:`registrations` runs :mod:`xlbridge.udfs` once more under xlwings' real desktop
decorators: ``xlwings/udfs.py`` is loaded with stand-ins for the three Windows-only modules it
imports at the top (``pythoncom``, ``pywintypes``, ``win32com.client``), which its decorators
never call. The result is exactly the ``__xlfunc__`` that Excel's xlwings would see, and
:func:`xlwings_vba` is xlwings' own VBA wrapper generator run on it.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import xlwings

import xlbridge.udfs

UDF_MODULE = "xlbridge.udfs"
_WINDOWS_ONLY = ("pythoncom", "pywintypes", "win32com", "win32com.client")


@contextmanager
def _stand_ins() -> Iterator[None]:
    saved = {name: sys.modules.get(name) for name in _WINDOWS_ONLY}
    stubs = {name: types.ModuleType(name) for name in _WINDOWS_ONLY}
    stubs["pythoncom"].CoInitialize = lambda: None  # type: ignore[attr-defined]
    stubs["pywintypes"].com_error = type("com_error", (Exception,), {})  # type: ignore[attr-defined]
    stubs["win32com.client"].Dispatch = lambda *a, **k: None  # type: ignore[attr-defined]
    stubs["win32com"].client = stubs["win32com.client"]  # type: ignore[attr-defined]
    sys.modules.update({n: m for n, m in stubs.items() if saved[n] is None})
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)


@cache
def desktop_udfs() -> types.ModuleType:
    """xlwings' ``udfs`` module (the desktop decorators and VBA generator), on any platform."""
    if sys.platform.startswith("win"):
        return importlib.import_module("xlwings.udfs")
    path = Path(xlwings.__file__).with_name("udfs.py")
    with _stand_ins():
        spec = importlib.util.spec_from_file_location("xlwings._udfs_desktop", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        module.__package__ = "xlwings"
        spec.loader.exec_module(module)
    return module


@cache
def udf_module() -> types.ModuleType:
    """:mod:`xlbridge.udfs` with every function registered by xlwings' desktop decorators."""
    if hasattr(xlbridge.udfs.PERF_SCORE, "__xlfunc__"):
        return xlbridge.udfs
    desktop = desktop_udfs()
    saved = (xlwings.func, xlwings.arg, xlwings.ret)
    xlwings.func, xlwings.arg, xlwings.ret = desktop.xlfunc, desktop.xlarg, desktop.xlret
    try:
        path = Path(xlbridge.udfs.__file__)
        spec = importlib.util.spec_from_file_location("xlbridge._udfs_registered", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        xlwings.func, xlwings.arg, xlwings.ret = saved
    return module


def registrations() -> dict[str, dict[str, Any]]:
    """``__xlfunc__`` of every PERF_* function, in :data:`xlbridge.udfs.FUNCTIONS` order."""
    module = udf_module()
    return {name: getattr(module, name).__xlfunc__ for name in xlbridge.udfs.FUNCTIONS}


class _AddinBook:
    """Just enough of a COM Workbook for xlwings' VBA generator: it asks for the name only."""

    Name = "xlbridge.xlam"


def xlwings_vba() -> str:
    """The VBA module xlwings' own “Import Functions” would write for the add-in."""
    module = udf_module()
    out = io.StringIO()
    desktop_udfs().generate_vba_wrapper(UDF_MODULE, module, out, _AddinBook())
    return out.getvalue()
