"""Errors the engine reports. Every one carries a code, and every code has a kind.

The faces around the engine decide what to show by the *kind*, never by matching message
text: a worksheet function shows ``#NUM!`` for a number outside what is allowed, ``#N/A`` for
what cannot be decided from what it was given, ``#VALUE!`` for everything else; the CLI and
recompute list the message. :class:`~xlbridge.engine.values.FieldError` is the error of one
field of one record (its ``code`` is one of :data:`ERROR_KINDS`' keys or a ``value`` error);
:class:`ScoringError` carries one or more of them out of the scoring code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xlbridge.engine.values import FieldError


class ErrorKind(StrEnum):
    """What kind of wrong a code is; each face maps it (Excel: #VALUE!, #NUM!, #N/A)."""

    value = "value"   # a value of the wrong kind, a rule the call cannot apply
    num = "num"       # a number, but outside what is allowed
    na = "na"         # cannot be decided from what was given (population, tier, scheme)


#: Codes whose kind is not ``value``.
ERROR_KINDS: dict[str, ErrorKind] = {
    "out_of_range": ErrorKind.num,       # outside the input's bounds, or absurdly large
    "negative": ErrorKind.num,           # a negative count, cap or deduction
    "not_whole": ErrorKind.num,          # 2.5 occurrences
    "months_range": ErrorKind.num,       # months served beyond the period
    "needs_population": ErrorKind.na,    # a rank part scored without its group
    "no_tier": ErrorKind.na,             # no tier holds the total
    "withheld": ErrorKind.na,            # another record of the group is bad
    "not_in_population": ErrorKind.na,   # a score that is not among the population's
    "no_payout": ErrorKind.na,           # the scheme pays nothing
    "unknown_scheme": ErrorKind.na,      # no such scheme (or version)
    "invalid_scheme": ErrorKind.na,      # the scheme fails validation
}


def kind_of(code: str) -> ErrorKind:
    """The kind of an error code (``value`` unless listed in :data:`ERROR_KINDS`)."""
    return ERROR_KINDS.get(code, ErrorKind.value)


class ScoringError(Exception):
    """A record that cannot be scored as the scheme says (e.g. a target of 0)."""

    def __init__(self, error: FieldError, *more: FieldError):
        self.error = error                 # the first (what a single cell can show)
        self.errors = [error, *more]       # all of them (what a report lists)
        from xlbridge.i18n import t

        super().__init__(t("；").join(str(e) for e in self.errors))
