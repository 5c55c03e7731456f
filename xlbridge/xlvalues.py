"""Excel's value model, shared by the worksheet functions and the headless recalculator.

A cell holds a number, a string, a boolean, nothing, or one of Excel's error values. The
error values are a closed set; each carries an optional human-readable reason so that a
worksheet function can say *why* a cell shows ``#VALUE!`` (the reason is for tooltips,
logs and the recompute report, never part of the value Excel stores).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The error codes Excel can store in a cell, in the order of ``ERROR.TYPE``.
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
               "#GETTING_DATA", "#SPILL!", "#CALC!")


@dataclass(frozen=True, slots=True)
class ExcelError:
    """One of Excel's error values, e.g. ``ExcelError("#VALUE!", "第3列应为数字")``.

    Equality compares the code only: two ``#N/A`` are the same value whatever the reason.
    """

    code: str
    reason: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise ValueError(f"not an Excel error code: {self.code!r}")

    def __str__(self) -> str:
        return self.code

    @property
    def error_type(self) -> int:
        """The number ``ERROR.TYPE`` returns for this error (1 for #NULL! … 7 for #N/A)."""
        return ERROR_CODES.index(self.code) + 1


def value_error(reason: str = "") -> ExcelError:
    return ExcelError("#VALUE!", reason)


def na_error(reason: str = "") -> ExcelError:
    return ExcelError("#N/A", reason)


def num_error(reason: str = "") -> ExcelError:
    return ExcelError("#NUM!", reason)


def parse_error_code(text: str) -> ExcelError | None:
    """``"#N/A"`` → ``ExcelError("#N/A")``; anything else → None."""
    t = text.strip().upper()
    return ExcelError(t) if t in ERROR_CODES else None
