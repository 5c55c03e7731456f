"""Value types of the scheme format: amounts, percentages, bounds, identifiers, expressions.

Every number in a scheme becomes a :class:`~decimal.Decimal` exactly as written: YAML's
``0.1`` is ``Decimal("0.1")``, never the float 0.1000000000000000055…. A share is written
with a percent sign (``25%``) so that nobody has to guess whether ``0.25`` or ``25`` was meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from xlbridge.arith import HUNDRED

_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*[%％]\s*$")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a true/false value")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # YAML/JSON wrote the shortest text that reads back as this float; that text is what
        # the author typed, so it is the exact value meant.
        return Decimal(repr(value))
    if isinstance(value, str) and _NUMBER.match(value):
        return Decimal(value.strip())
    if isinstance(value, str) and re.search(r"\d\s*[-–~至]\s*\d", value):
        raise ValueError(f"expected one number, got the range {value!r}: choose one value "
                         "and write the reason in a comment")
    raise ValueError(f"expected a number, got {value!r}")


def _share(value: Any) -> Decimal:
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m:
            return Decimal(m.group(1)) / HUNDRED
        if re.search(r"\d\s*[-–~至]\s*\d", value):
            raise ValueError(f"expected one percentage, got the range {value!r}: choose one "
                             "value and write the reason in a comment")
    raise ValueError(f"expected a percentage such as 25%, got {value!r}")


def _serialize_number(value: Decimal) -> int | float | str:
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    # Only hand out a float when it reads back as the same decimal text.
    return as_float if Decimal(repr(as_float)) == value else str(value)


def _serialize_share(value: Decimal) -> str:
    return f"{(value * HUNDRED).normalize():f}%"


#: A number of points or yuan, written as a YAML/JSON number (``2.5``) or numeric text.
Amount = Annotated[
    Decimal,
    BeforeValidator(_number),
    PlainSerializer(_serialize_number, return_type=Any),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string",
                                                   "pattern": r"^[+-]?\d+(\.\d+)?$"}]}),
]

#: A share written with a percent sign: ``25%`` → Decimal("0.25").
Share = Annotated[
    Decimal,
    BeforeValidator(_share),
    PlainSerializer(_serialize_share, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[+-]?\d+(\.\d+)?%$",
                    "examples": ["25%", "80%"]}),
]


@dataclass(frozen=True, slots=True)
class Bound:
    """A tier boundary: points (``90``) or a share of the scheme's maximum (``90%``)."""

    value: Decimal
    is_share: bool = False

    def resolve(self, max_score: Decimal) -> Decimal:
        return self.value * max_score if self.is_share else self.value

    def __str__(self) -> str:
        return _serialize_share(self.value) if self.is_share else f"{self.value.normalize():f}"


def _bound(value: Any) -> Bound:
    if isinstance(value, Bound):
        return value
    if isinstance(value, str) and _PERCENT.match(value):
        return Bound(_share(value), True)
    return Bound(_number(value))


BoundValue = Annotated[
    Bound,
    BeforeValidator(_bound),
    PlainSerializer(lambda b: _serialize_share(b.value) if b.is_share
                    else _serialize_number(b.value), return_type=Any),
    WithJsonSchema({"anyOf": [{"type": "number"},
                              {"type": "string", "pattern": r"^[+-]?\d+(\.\d+)?%$"}],
                    "description": "points (90) or a share of max_score (90%)"}),
]

_IDENT = re.compile(r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*$")
SCHEME_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
#: A reference to a scheme in a store, as a cell or a name holds it: ``id`` or ``id@version``.
SCHEME_REF_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9](?:@[0-9]+)?$")


def _identifier(value: Any) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ValueError(f"expected an identifier (letters, digits, _; no spaces or dots), "
                         f"got {value!r}")
    return value


def _scheme_id(value: Any) -> str:
    if not isinstance(value, str) or not SCHEME_ID_PATTERN.match(value):
        raise ValueError(f"expected a scheme id of lowercase letters, digits and dashes such as "
                         f"'county-dept-2016', got {value!r}")
    return value


Identifier = Annotated[
    str, BeforeValidator(_identifier),
    WithJsonSchema({"type": "string", "pattern": _IDENT.pattern}),
]
SchemeId = Annotated[
    str, BeforeValidator(_scheme_id),
    WithJsonSchema({"type": "string", "pattern": SCHEME_ID_PATTERN.pattern}),
]


def _expression(value: Any) -> str:
    from xlbridge.scheme.expr import check_syntax

    if isinstance(value, bool):
        raise ValueError("expected a condition such as `absent_days > 2`, got true/false")
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a condition such as `absent_days > 2`, got {value!r}")
    check_syntax(value)
    return value.strip()


#: A condition over the record's inputs, e.g. ``sick_days > 40 or new_staff``.
Expr = Annotated[
    str, BeforeValidator(_expression),
    WithJsonSchema({"type": "string", "examples": ["absent_days > 2",
                                                   "safety in ['合格', '优秀'] and not case"]}),
]


def parse_decimal_text(text: str) -> Decimal | None:
    """Numeric text (``"85"``, ``" 85.5 "``) → Decimal, else None."""
    if _NUMBER.match(text):
        try:
            return Decimal(text.strip())
        except InvalidOperation:  # pragma: no cover - the regex already guards
            return None
    return None
