"""Decimal arithmetic the way a clerk and Excel expect it.

Two rules decide people's pay here:

* Numbers enter as :class:`~decimal.Decimal` exactly once, at the edge. A float coming from
  Excel is read the way Excel shows it — to 15 significant digits — so the 89.95 a clerk
  typed is 89.95, not 89.9500000000000028421709…, and ``0.1 + 0.2`` typed as a formula result
  (0.30000000000000004) is 0.3, as Excel's own ROUND sees it.
* Rounding is 四舍五入, half away from zero, like Excel's ROUND — never Python's ``round()``,
  which rounds half to even. Other modes exist only because some schemes declare them.
"""

from __future__ import annotations

from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
)
from enum import StrEnum

# Python's default Decimal context (28 significant digits, traps on invalid operations and
# division by zero) is what the engine computes in: far beyond anything a scheme needs (scores
# to 2 places, payouts to the fen), so quotients such as 2/3 carry no visible error once rounded
# at a declared step. Every rounding that matters is explicit, through round_decimal().

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)


class RoundingMode(StrEnum):
    """How a step rounds. ``half_up`` is the default everywhere (Excel's ROUND)."""

    half_up = "half_up"        # 四舍五入, half away from zero: ROUND
    up = "up"                  # away from zero: ROUNDUP
    down = "down"              # toward zero: ROUNDDOWN / TRUNC
    half_even = "half_even"    # banker's rounding: only if a scheme explicitly says so
    floor = "floor"            # toward −∞: FLOOR
    ceiling = "ceiling"        # toward +∞: CEILING


_DECIMAL_MODES = {
    RoundingMode.half_up: ROUND_HALF_UP,   # Decimal's HALF_UP is away from zero on ties
    RoundingMode.up: ROUND_UP,
    RoundingMode.down: ROUND_DOWN,
    RoundingMode.half_even: ROUND_HALF_EVEN,
    RoundingMode.floor: ROUND_FLOOR,
    RoundingMode.ceiling: ROUND_CEILING,
}

_QUANTA = {d: Decimal(1).scaleb(-d) for d in range(-10, 11)}


#: Quotients (a 30/90 weight, 37/39 of the votes) carry 28 significant digits, so a sum that
#: is exactly x.xx5 can come out as x.xx4999…9. Declared rounding first rounds to this many
#: places (far below any real difference between two scores) so that it sees the exact half.
GUARD_PLACES = 18
_GUARD = Decimal(1).scaleb(-GUARD_PLACES)


def round_declared(value: Decimal, digits: int, mode: RoundingMode = RoundingMode.half_up
                   ) -> Decimal:
    """Round a computed score at a declared step: guard rounding, then ``digits``."""
    quantum = _QUANTA.get(digits)
    if quantum is not None and value.same_quantum(quantum):
        return value  # exactly the declared places already: every mode keeps it as it is
    try:
        guarded = value.quantize(_GUARD, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # over 28 digits with 18 places: too large to need a guard
        guarded = value
    return round_decimal(guarded, digits, mode)


def round_decimal(value: Decimal, digits: int = 0,
                  mode: RoundingMode = RoundingMode.half_up) -> Decimal:
    """Round ``value`` to ``digits`` places like Excel's ROUND (negative digits allowed).

    >>> round_decimal(Decimal("89.95"), 1), round_decimal(Decimal("-2.5"))
    (Decimal('90.0'), Decimal('-3'))
    """
    quantum = _QUANTA.get(digits) or Decimal(1).scaleb(-digits)
    rounded = value.quantize(quantum, rounding=_DECIMAL_MODES[mode])
    if digits < 0:
        # quantize to 1E+1 leaves an exponent form (9E+1); give back a plain integer
        rounded = rounded.quantize(ONE)
    return rounded


def excel_round(value: Decimal | float | int, digits: int = 0) -> Decimal:
    """Excel's ``ROUND(value, digits)`` on a Decimal or on a number read from Excel."""
    return round_decimal(to_decimal(value), digits, RoundingMode.half_up)


def from_float(value: float) -> Decimal:
    """A float read from Excel → the Decimal Excel displays (15 significant digits).

    Excel stores IEEE doubles but computes and shows them to 15 significant digits; reading
    them the same way is what makes ``ROUND(2.675, 2)`` give 2.68 here as in Excel.
    """
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {value!r}")
    if value.is_integer() and abs(value) < 1e15:
        return Decimal(int(value))
    text = repr(value)
    if len(text) <= 15:  # at most 15 significant digits: the shortest repr is the reading
        return Decimal(text)
    # The shortest repr has at most 17 significant digits; when it has 15 or fewer it *is*
    # the 15-digit reading (the common case: 89.95, 0.1), and the format call is saved.
    mantissa = text.partition("e")[0]
    if len(mantissa.lstrip("-0").replace(".", "").lstrip("0")) <= 15:
        return Decimal(text)
    return Decimal(format(value, ".15g"))


def to_decimal(value: Decimal | float | int) -> Decimal:
    """Decimal, int or float (from Excel) → Decimal; bool is refused (TRUE is not 1 here)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return from_float(value)
    raise TypeError(f"not a number: {value!r}")


def fmt(value: Decimal | int | None, digits: int | None = None) -> str:
    """A Decimal as a clerk writes it: no exponent, no trailing zeros unless digits is given."""
    if value is None:
        return "—"
    if not isinstance(value, Decimal):
        value = Decimal(value)
    if digits is not None:
        value = round_decimal(value, digits)
        return f"{value:.{max(digits, 0)}f}"
    text = format(value.normalize(), "f")
    return text


def show(value: Decimal | int | None, places: int = 4) -> str:
    """A number for an explanation: exact when short, else rounded for display to ``places``.

    Quotients such as 37.6/39 carry 28 digits; a breakdown shows 0.9641 and keeps the exact
    value for the arithmetic.
    """
    if isinstance(value, Decimal) and value.as_tuple().exponent < -places:  # type: ignore[operator]
        shown = round_decimal(value, places)
        return fmt(shown) + ("…" if shown != value else "")
    return fmt(value)


def clamp(value: Decimal, low: Decimal | None, high: Decimal | None) -> Decimal:
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value
