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
#: The number ``ERROR.TYPE`` gives for each code (10–13 are #CONNECT!, #BLOCKED!, #UNKNOWN!
#: and #FIELD!, errors of linked data types that xlbridge does not produce). Excel's rich
#: values store the error as ``errorType`` = this number − 1 (xlbridge.recompute.richvalues).
ERROR_TYPE_NUMBERS = {"#NULL!": 1, "#DIV/0!": 2, "#VALUE!": 3, "#REF!": 4, "#NAME?": 5,
                      "#NUM!": 6, "#N/A": 7, "#GETTING_DATA": 8, "#SPILL!": 9, "#CALC!": 14}


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
        """The number ``ERROR.TYPE`` returns for this error (1 for #NULL! … 14 for #CALC!)."""
        return ERROR_TYPE_NUMBERS[self.code]


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
