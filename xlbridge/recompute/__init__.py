"""Headless recalculation of Excel workbooks (the core of ``xlbridge recompute``).

Open an .xlsx/.xlsm file without Excel, evaluate every formula in dependency order, and store
each formula cell's value in the file the way Excel stores it — the formula stays — so that
Excel, WPS and LibreOffice show the results on open without recalculating.

Public API
----------
* :func:`recalc_workbook` — recompute one file (atomic write; raises :class:`FileRejected`).
* :func:`recompute_file` — the same end to end for the CLI: lock file, optional backup,
  never raises for a bad or busy file (the :class:`WorkbookReport` says what happened).
* :func:`export_values` — a copy with chosen formulas (default: those using ``PERF_``
  functions) replaced by their values.
* :func:`register_function` / :data:`FUNCTIONS` / :func:`current_caller` — worksheet functions
  added from outside (see :mod:`xlbridge.recompute.functions` for the calling convention).
* :func:`xlbridge.recompute.memory.compute` — the same engine on cells held in memory (tests,
  tools): ``compute({"A1": 2.675, "B1": "=ROUND(A1,2)"})["B1"] == 2.68``.

Design
------
*Reading.* A workbook is a zip of XML parts. Only worksheets' ``<sheetData>``, the shared
strings, the workbook part and relationships are read. Worksheets are scanned as bytes with
one regular expression over ``<row>``/``<c>`` elements (``sheetxml.py``). Unlike a parse tree
this remembers where each formula cell sits in the file, so writing back is a splice, not a
re-serialization; the usual cell layouts are taken apart by the regex engine itself.
Every cell of the workbook is an ``int`` key (``sheet<<40 | row<<15 | col``) in one dict of
values: numbers are floats (IEEE doubles, like Excel), text ``str``, booleans ``bool``, errors
:class:`~xlbridge.xlvalues.ExcelError`, blanks absent/None.

*Formulas are compiled once per distinct relative formula, to closures.* References in a
formula's text are rewritten as offsets from its own cell (``formula.relative_key``), so a
column of 2,000 copied formulas — or a shared-formula group — is parsed and compiled once.
The syntax tree is compiled to nested Python closures taking the formula cell's key
(``compiler.py``): evaluating a cell is a chain of direct calls with float fast paths, no
tree walking and no per-cell objects. Ranges are read lazily and large ones cached together
with derived indexes — sorted numbers for RANK, hash indexes for exact MATCH/VLOOKUP/COUNTIF,
per-group sorted values for COUNTIFS/SUMIFS and for the ``SUMPRODUCT((dept=x)*(score>y))``
ranking idiom — so a ranking or lookup column costs O(log n) a row, not O(n). Array
operators (inside SUMPRODUCT, LOOKUP, array formulas) work on whole lists at a time.

*Order.* Cells are evaluated in sheet order; reading a formula cell that is not done yet
raises a small exception and the scheduler computes that cell first, with an explicit stack
(no recursion limit), detecting circular references (``evaluate.py``). Formula cells are
kept in a compact column-wise table (``sheetxml.FormulaTable``, ~60 bytes a cell), so a
50,000-row sheet of 500,000 formula cells recomputes in about 300 MB (docs/benchmarks.md).

*Excel's rules.* Blanks are 0 / "" ; text that looks like a number counts in arithmetic but
not in SUM over ranges; booleans likewise; comparisons order numbers < text < booleans, text
case-insensitively; equality and INT look at 15 significant digits; ROUND/ROUNDUP/ROUNDDOWN
round the 15-digit decimal half away from zero (``ROUND(2.675, 2)`` = 2.68); errors propagate.

*Writing is surgical.* New values are spliced into the original sheet bytes at the formula
cells' positions: only a cell's ``<v>`` and ``t`` attribute change (``t="str"`` for text,
``b`` for booleans, ``e`` for errors, numbers as the shortest round-trip repr). Cells whose
value did not change are not touched at all. Every other zip member is copied as its
original compressed bytes — styles, merged cells, data validation, conditional formatting,
comments, defined names, charts, images and ``vbaProject.bin`` cannot change. ``calcPr``
loses ``fullCalcOnLoad`` (the values are there now) and gets today's Excel engine id
(``calcId`` 191029; Excel recalculates everything on open when a file's id is older, which is
what openpyxl and old Excel versions write) unless some formula could not be computed and has
no value; ``calcChain.xml`` is kept (formulas did not move) except in the values-only export.
The file is replaced atomically (:func:`xlbridge.atomic.write_atomic`); a rewritten sheet
is streamed into the compressor (ISA-L's fast deflate) rather than built in memory.

*What is not computed.* A formula using a function outside the supported set, or a feature
outside it (3-D references, structured table references, TEXT with date formats, data
tables, a dynamic array whose spill size changed), keeps the value stored in the file and is
reported by cell; cells depending on it use that value.

*LibreOffice as a reader.* With recalculation on load turned off LibreOffice shows the
stored numbers and text (the tests check this); it always recomputes cells whose stored
result is a boolean or an error, array formulas (so a ``PERF_GRADES`` column entered with
Ctrl+Shift+Enter shows ``#NAME?`` there), and text results of files it does not believe
Excel wrote. For LibreOffice and WPS users, publish the ``--values-only`` copy.

*Safety.* Legacy .xls and password-protected files (OLE2), corrupt zips, zip bombs (size and
ratio limits checked before inflating) and XML with DTDs/entities are refused with
:class:`FileRejected` naming the file.
"""

from __future__ import annotations

from .api import WorkbookLocked, export_values, lock_path, recalc_workbook, recompute_file
from .functions import (
    FUNCTIONS,
    NATIVE_FUNCTIONS,
    CallerCell,
    current_caller,
    is_supported,
    register_function,
    to_decimal,
    unregister_function,
)
from .package import FileRejected, Limits
from .report import CellIssue, WorkbookReport

__all__ = [
    "FUNCTIONS",
    "NATIVE_FUNCTIONS",
    "CallerCell",
    "CellIssue",
    "FileRejected",
    "Limits",
    "WorkbookLocked",
    "WorkbookReport",
    "current_caller",
    "export_values",
    "is_supported",
    "lock_path",
    "recalc_workbook",
    "recompute_file",
    "register_function",
    "to_decimal",
    "unregister_function",
]
