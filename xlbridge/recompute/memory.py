"""Evaluate formulas over cells held in memory — for tests and for tools that build sheets.

    >>> compute({"A1": 2.675, "B1": "=ROUND(A1,2)"})["B1"]
    2.68

Same compiler, functions and scheduler as :func:`~xlbridge.recompute.recalc_workbook`, without
a file. Cell names are ``"A1"`` (first sheet) or ``"Sheet name!A1"``; a string starting with
``=`` is a formula, anything else a value (ints become floats, as in Excel).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from xlbridge.i18n import t as tr

from .compiler import Compiler, NameTable
from .core import PENDING, Context, make_key, split_key
from .evaluate import _Run
from .formula import col_index, col_letters, parse_key, relative_key
from .functions import FunctionSpec, external_spec
from .report import WorkbookReport, unsupported_function
from .sheetxml import FormulaTable

__all__ = ["compute"]

_CELL = re.compile(r"(?:(?:'((?:[^']|'')+)'|([^!]+))!)?\$?([A-Za-z]{1,3})\$?([0-9]+)")


def compute(cells: Mapping[str, Any], *, sheets: list[str] | None = None,
            names: Mapping[str, str] | None = None,
            functions: Mapping[str, Callable[..., Any] | FunctionSpec] | None = None,
            report: WorkbookReport | None = None) -> dict[str, Any]:
    """Evaluate the formulas in ``cells``; returns every formula cell's value by name.

    ``names`` maps defined names (workbook scope) to their formula text, e.g.
    ``{"Rate": "Sheet1!$B$1"}``. Issues (unsupported functions, circles) go to ``report``.
    """
    sheet_names = list(sheets or [])
    parsed: list[tuple[int, int, int, Any]] = []
    for name, v in cells.items():
        m = _CELL.fullmatch(name)
        if m is None:
            raise ValueError(f"not a cell name: {name!r}")
        sheet = (m.group(1) or "").replace("''", "'") or m.group(2) or (
            sheet_names[0] if sheet_names else "Sheet1")
        if sheet not in sheet_names:
            sheet_names.append(sheet)
        parsed.append((sheet_names.index(sheet), int(m.group(4)), col_index(m.group(3)), v))
    if not sheet_names:
        sheet_names = ["Sheet1"]
    values: dict[int, Any] = {}
    max_row = max((r for _s, r, _c, _v in parsed), default=1)
    max_col = max((c for _s, _r, c, _v in parsed), default=1)
    ctx = Context(values, sheet_names, max_row, max_col)
    rep = report if report is not None else WorkbookReport("<memory>")
    extra = {k.upper(): (f if isinstance(f, FunctionSpec) else external_spec(k, f))
             for k, f in (functions or {}).items()} or None
    table = NameTable({(None, k.upper()): v for k, v in (names or {}).items()})
    compilers = [Compiler(ctx, i, table, extra) for i in range(len(sheet_names))]
    run = _Run(ctx, FormulaTable(), rep)
    texts: dict[int, str] = {}
    ctx.formula_text = texts.get
    formula_keys = []
    for s, r, c, v in parsed:
        key = make_key(s, r, c)
        if isinstance(v, str) and v.startswith("=") and len(v) > 1:
            comp = compilers[s]
            try:
                fn = comp.compile_root(parse_key(relative_key(v[1:], r, c)))
                problems = [unsupported_function(n) for n in dict.fromkeys(comp.unknown)]
                problems += comp.unsupported
            except ValueError as exc:
                fn, problems = None, [tr("无法读取公式：{reason}", reason=exc)]
            run.assign(key, None, None if problems else fn, problems)
            formula_keys.append(key)
            texts[key] = v[1:]
        else:
            if isinstance(v, int) and not isinstance(v, bool):
                v = float(v)
            if v is not None:
                values[key] = v
    run.run()
    out = {}
    first = sheet_names[0]
    for key in formula_keys:
        s, r, c = split_key(key)
        label = f"{col_letters(c)}{r}" if sheet_names[s] == first else \
            f"{sheet_names[s]}!{col_letters(c)}{r}"
        v = values.get(key)
        out[label] = None if v is PENDING else v
    return out

