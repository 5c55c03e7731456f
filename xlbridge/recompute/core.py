"""Cell keys, references and the evaluation context shared by the compiler and functions.

Every cell in a workbook is one ``int`` key, ``sheet << 40 | row << 15 | col`` (1-based row
and column). All values live in one ``dict`` from key to value; a formula's compiled closure
takes its own cell's key (``base``) and finds a relative reference at ``base + offset`` — one
addition and one dict lookup. Formula cells not evaluated yet hold :data:`PENDING`; reading one
raises :class:`NeedCells` so that the scheduler evaluates it first (see ``evaluate.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from xlbridge.i18n import t as tr
from xlbridge.xlvalues import ExcelError

from .values import NA, REF, VALUE

ROW_SHIFT = 15
SHEET_SHIFT = 40
COL_MASK = (1 << ROW_SHIFT) - 1
ROW_MASK = (1 << (SHEET_SHIFT - ROW_SHIFT)) - 1
LOCAL_MASK = (1 << SHEET_SHIFT) - 1
MAX_ROW = 1048576
MAX_COL = 16384


def make_key(sheet: int, row: int, col: int) -> int:
    return (sheet << SHEET_SHIFT) | (row << ROW_SHIFT) | col


def split_key(key: int) -> tuple[int, int, int]:
    return key >> SHEET_SHIFT, (key >> ROW_SHIFT) & ROW_MASK, key & COL_MASK


class _Pending:
    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


#: Placeholder value of a formula cell that has not been evaluated yet.
PENDING: Any = _Pending()


class NeedCells(Exception):
    """Raised while evaluating a formula that reads formula cells not evaluated yet."""

    __slots__ = ("keys",)

    def __init__(self, keys: tuple[int, ...] | list[int]):
        self.keys = keys


#: the key under which a LET scope holds a LAMBDA bound to a name (its tree, to be called)
LAMBDA_KEY = "\x00lambda:"


class Unsupported(Exception):
    """A feature the recalculator does not implement; the cell keeps its cached value."""


class Ref:
    """A rectangular reference ``sheet!r1c1:r2c2`` (whole columns/rows are clamped later)."""

    __slots__ = ("_key", "c1", "c2", "r1", "r2", "sheet")

    def __init__(self, sheet: int, r1: int, c1: int, r2: int, c2: int):
        if r1 > r2:
            r1, r2 = r2, r1
        if c1 > c2:
            c1, c2 = c2, c1
        self.sheet = sheet
        self.r1 = r1
        self.c1 = c1
        self.r2 = r2
        self.c2 = c2
        self._key: tuple[int, int, int, int, int] | None = None

    @property
    def key(self) -> tuple[int, int, int, int, int]:
        """(sheet, r1, c1, r2, c2): a hashable identity for caches."""
        k = self._key
        if k is None:
            k = self._key = (self.sheet, self.r1, self.c1, self.r2, self.c2)
        return k

    @property
    def height(self) -> int:
        return self.r2 - self.r1 + 1

    @property
    def width(self) -> int:
        return self.c2 - self.c1 + 1

    @property
    def is_cell(self) -> bool:
        return self.r1 == self.r2 and self.c1 == self.c2

    def __repr__(self) -> str:
        return f"Ref({self.sheet}, {self.r1}, {self.c1}, {self.r2}, {self.c2})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ref) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


class RefList(tuple):
    """A 3-D reference (``Sheet1:Sheet3!B5``): the same rectangle on consecutive sheets. The
    functions that take several ranges (SUM, COUNT, AVERAGE, MAX…) read all of them."""

    __slots__ = ()


Grid = list[list[Any]]

_CACHE_MIN_CELLS = 24


class Context:
    """Values of every cell of one workbook, plus range caches for the functions."""

    def __init__(self, values: dict[int, Any], sheet_names: list[str],
                 max_row: int, max_col: int, *, now: datetime | None = None,
                 date1904: bool = False):
        self.values = values
        self.sheet_names = sheet_names
        self.sheet_index = {n.casefold(): i for i, n in enumerate(sheet_names)}
        # whole columns/rows and huge ranges are clamped to the workbook's used area, the same
        # bound on every sheet so that A:A on two sheets still has the same shape
        self.max_row = max(max_row, 1)
        self.max_col = max(max_col, 1)
        self.grid_cache: dict[tuple[int, int, int, int, int], Grid] = {}
        self.aux_cache: dict[tuple, Any] = {}
        self.caller: int = 0  # key of the cell being evaluated (for external functions)
        #: values stored in the file for formula cells (kept when a formula can't be computed)
        self.cached: dict[int, Any] = {}
        #: (cell key, function name, message) for exceptions raised by registered functions
        self.function_errors: list[tuple[int, str, str]] = []
        #: the clock of TODAY()/NOW(): one instant for the whole workbook, as in Excel
        self.now = now if now is not None else datetime.now()
        self.date1904 = date1904
        #: array formulas' ranges by anchor key (for ANCHORARRAY, the ``A1#`` spill reference)
        self.spills: dict[int, tuple[int, int, int, int]] = {}
        #: hidden rows by sheet (SUBTOTAL/AGGREGATE leave them out when asked)
        self.hidden_rows: dict[int, set[int]] = {}
        #: of those, the rows a filter hid (SUBTOTAL 1–11 leaves them out as well)
        self.filtered_rows: dict[int, set[int]] = {}
        #: formula cells' text by key, when a function needs it (FORMULATEXT, ISFORMULA)
        self.formula_text: Callable[[int], str | None] = lambda key: None

    # ---------------------------------------------------------------- reading references

    def clamp(self, ref: Ref) -> tuple[int, int, int, int]:
        r2 = ref.r2 if ref.r2 <= self.max_row else max(self.max_row, ref.r1 - 1)
        c2 = ref.c2 if ref.c2 <= self.max_col else max(self.max_col, ref.c1 - 1)
        return ref.r1, ref.c1, r2, c2

    def cell(self, sheet: int, row: int, col: int) -> Any:
        k = (sheet << SHEET_SHIFT) | (row << ROW_SHIFT) | col
        v = self.values.get(k)
        if v is PENDING:
            raise NeedCells((k,))
        return v

    def grid(self, ref: Ref) -> Grid:
        """Rows of values of ``ref`` within the used area (blank = None). Do not mutate."""
        r1, c1, r2, c2 = self.clamp(ref)
        if r2 < r1 or c2 < c1:
            return []
        ck = (ref.sheet, r1, c1, r2, c2)
        cached = self.grid_cache.get(ck)
        if cached is not None:
            return cached
        get = self.values.get
        sb = ref.sheet << SHEET_SHIFT
        rows: Grid = []
        pend = False
        if c1 == c2:
            k = sb | (r1 << ROW_SHIFT) | c1
            step = 1 << ROW_SHIFT
            col = [get(k + i * step) for i in range(r2 - r1 + 1)]
            pend = PENDING in col
            rows = [[v] for v in col]
        else:
            for r in range(r1, r2 + 1):
                k = sb | (r << ROW_SHIFT)
                row = [get(k | c) for c in range(c1, c2 + 1)]
                if PENDING in row:
                    pend = True
                rows.append(row)
        if pend:
            self._raise_pending(ref.sheet, r1, c1, r2, c2)
        if (r2 - r1 + 1) * (c2 - c1 + 1) >= _CACHE_MIN_CELLS:
            self.grid_cache[ck] = rows
        return rows

    def flat(self, ref: Ref) -> list[Any]:
        """The values of ``ref`` row by row (within the used area)."""
        if ref.r1 == ref.r2 and ref.c1 == ref.c2:
            k = (ref.sheet << SHEET_SHIFT) | (ref.r1 << ROW_SHIFT) | ref.c1
            v = self.values.get(k)
            if v is PENDING:
                raise NeedCells((k,))
            return [v]
        r1, c1, r2, c2 = self.clamp(ref)
        if r2 < r1 or c2 < c1:
            return []
        n = (r2 - r1 + 1) * (c2 - c1 + 1)
        if n >= _CACHE_MIN_CELLS:
            fk = ("flat", ref.sheet, r1, c1, r2, c2)
            cached = self.aux_cache.get(fk)
            if cached is not None:
                return cached
        get = self.values.get
        sb = ref.sheet << SHEET_SHIFT
        if c1 == c2:
            k = sb | (r1 << ROW_SHIFT) | c1
            step = 1 << ROW_SHIFT
            out = [get(k + i * step) for i in range(r2 - r1 + 1)]
        elif r1 == r2:
            k = sb | (r1 << ROW_SHIFT)
            out = [get(k | c) for c in range(c1, c2 + 1)]
        else:
            out = []
            for r in range(r1, r2 + 1):
                k = sb | (r << ROW_SHIFT)
                out.extend([get(k | c) for c in range(c1, c2 + 1)])
        if PENDING in out:
            self._raise_pending(ref.sheet, r1, c1, r2, c2)
        if n >= _CACHE_MIN_CELLS:
            self.aux_cache[fk] = out
        return out

    def _raise_pending(self, sheet: int, r1: int, c1: int, r2: int, c2: int) -> None:
        get = self.values.get
        sb = sheet << SHEET_SHIFT
        keys = []
        for r in range(r1, r2 + 1):
            k = sb | (r << ROW_SHIFT)
            for c in range(c1, c2 + 1):
                if get(k | c) is PENDING:
                    keys.append(k | c)
        # evaluate in sheet order: the scheduler pops from the end
        keys.reverse()
        raise NeedCells(keys)

    def array(self, v: Any) -> Grid:
        """A Ref, array or scalar as rows of values (at least 1×1)."""
        t = type(v)
        if t is Ref:
            g = self.grid(v)
            return g if g else [[None]]
        if t is list:
            return v
        return [[v]]

    def intersect(self, ref: Ref, base: int) -> Any:
        """Implicit intersection of ``ref`` with the formula cell ``base`` (legacy Excel)."""
        if ref.r1 == ref.r2 and ref.c1 == ref.c2:
            return self.cell(ref.sheet, ref.r1, ref.c1)
        row = (base >> ROW_SHIFT) & ROW_MASK
        col = base & COL_MASK
        if ref.c1 == ref.c2 and ref.r1 <= row <= ref.r2:
            return self.cell(ref.sheet, row, ref.c1)
        if ref.r1 == ref.r2 and ref.c1 <= col <= ref.c2:
            return self.cell(ref.sheet, ref.r1, col)
        return ExcelError("#VALUE!", tr("此处应为单个值，不是单元格区域"))

    def aux(self, key: tuple, build: Callable[[], Any]) -> Any:
        """A cached derived structure (sorted numbers, lookup index...) for a range."""
        v = self.aux_cache.get(key)
        if v is None:
            v = build()
            self.aux_cache[key] = v
        return v


def scalar(ctx: Context, v: Any, base: int) -> Any:
    """Reduce a function result to one value for a cell (implicit intersection / top-left)."""
    t = type(v)
    if t is Ref:
        return ctx.intersect(v, base)
    if t is list:
        if not v or not v[0]:
            return VALUE
        return v[0][0]
    return v


__all__ = [
    "NA",
    "PENDING",
    "REF",
    "Context",
    "NeedCells",
    "Ref",
    "Unsupported",
    "make_key",
    "scalar",
    "split_key",
]
