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

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from xlbridge.arith import HUNDRED
from xlbridge.i18n import quoted, t

_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*[%％]\s*$")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")

# Ranges every number of a scheme is checked against before any rule sees it: a scheme is
# written by a person, and ``max_score: 1e400`` (JSON reads it as infinity), a tier bound of
# ``.inf`` or a weight of 120% is a typing mistake that must be refused by the validator, not
# discovered by the engine (RULES: points, yuan and months are all far inside these).
#: Largest points, yuan or count a scheme may write (absolute value).
MAX_NUMBER = Decimal(10) ** 9
#: Most places after the decimal point a scheme number may have.
MAX_PLACES = 10
#: Largest share (of a group, of full marks) a scheme may write: 1000%.
MAX_SHARE = Decimal(10)
#: Largest version number and largest whole count (people, ranks, months).
MAX_VERSION = 1_000_000
MAX_COUNT = 1_000_000


def _checked(number: Decimal, written: Any) -> Decimal:
    """``number`` if it is finite, at most :data:`MAX_NUMBER` and :data:`MAX_PLACES`."""
    if not number.is_finite():
        raise ValueError(t("应为有限的数，实际为{value}（无穷大和 NaN 不能用作分值）",
                           value=quoted(written)))
    if abs(number) > MAX_NUMBER:
        raise ValueError(t("数值过大：{value}；方案中的数绝对值最多为 {most}",
                           value=quoted(written), most=format(MAX_NUMBER, ",")))
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES and number != number.quantize(
            Decimal(1).scaleb(-MAX_PLACES)):
        raise ValueError(t("小数位数过多：{value}；最多 {places} 位小数", value=quoted(written),
                           places=MAX_PLACES))
    return number


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(t("应为数字，实际为是/否（true/false）"))
    if isinstance(value, Decimal):
        return _checked(value, value)
    if isinstance(value, int):
        return _checked(Decimal(value), value)
    if isinstance(value, float):
        # YAML/JSON wrote the shortest text that reads back as this float; that text is what
        # the author typed, so it is the exact value meant.
        return _checked(Decimal(repr(value)), value)
    if isinstance(value, str) and _NUMBER.match(value):
        return _checked(Decimal(value.strip()), value)
    if isinstance(value, str) and re.search(r"\d\s*[-–~至]\s*\d", value):
        raise ValueError(t("应为一个数，实际为范围{value}：请选定一个值，并在注释中写明理由",
                           value=quoted(value)))
    raise ValueError(t("应为数字，实际为{value}", value=quoted(value)))


def _percentage(value: Any) -> Decimal:
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m:
            share = Decimal(m.group(1)) / HUNDRED
            if abs(share) > MAX_SHARE:
                raise ValueError(t("比例过大：{value}；最多 {most}", value=quoted(value),
                                   most=format(MAX_SHARE * HUNDRED, "f") + "%"))
            return _checked(share, value)
        if re.search(r"\d\s*[-–~至]\s*\d", value):
            raise ValueError(t("应为一个百分比，实际为范围{value}：请选定一个值，"
                               "并在注释中写明理由", value=quoted(value)))
    raise ValueError(t("应为百分比（如 25%），实际为{value}", value=quoted(value)))


def _share(value: Any) -> Decimal:
    share = _percentage(value)
    if share < 0:
        raise ValueError(t("比例不能为负数，实际为{value}", value=quoted(value)))
    return share


def _at_most_all(weight: Decimal) -> Decimal:
    if weight > 1:
        raise ValueError(t("权重须在 0% 到 100% 之间，实际为 {weight}",
                           weight=_serialize_share(weight)))
    return weight


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

#: A share written with a percent sign: ``25%`` → Decimal("0.25"); never negative.
Share = Annotated[
    Decimal,
    BeforeValidator(_share),
    PlainSerializer(_serialize_share, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\+?\d+(\.\d+)?%$",
                    "examples": ["25%", "80%"]}),
]

#: A weight (权重): a share of the parent's points from 0% to 100%.
Weight = Annotated[
    Decimal,
    BeforeValidator(_share),
    AfterValidator(_at_most_all),
    PlainSerializer(_serialize_share, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\+?\d+(\.\d+)?%$",
                    "description": "0% to 100%", "examples": ["60%", "40%"]}),
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
        return Bound(_percentage(value), True)
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
        raise ValueError(t("应为编号（字母、数字、汉字和 _；不能有空格或点），实际为{value}",
                           value=quoted(value)))
    return value


#: Longest scheme id: it names a folder and a file in every office's store.
MAX_SCHEME_ID = 100


def is_scheme_id(text: str) -> bool:
    """Lowercase letters, digits and dashes, at most :data:`MAX_SCHEME_ID` characters."""
    return len(text) <= MAX_SCHEME_ID and bool(SCHEME_ID_PATTERN.match(text))


def _scheme_id(value: Any) -> str:
    if not isinstance(value, str) or not SCHEME_ID_PATTERN.match(value):
        raise ValueError(t("应为由小写字母、数字和连字符组成的方案编号（如 county-dept-2016），"
                           "实际为{value}", value=quoted(value)))
    if len(value) > MAX_SCHEME_ID:
        raise ValueError(t("方案编号最多 {most} 个字符，这个有 {n} 个", most=MAX_SCHEME_ID,
                           n=len(value)))
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
        raise ValueError(t("应为条件（如 `absent_days > 2`），实际为是/否（true/false）"))
    if not isinstance(value, str) or not value.strip():
        raise ValueError(t("应为条件（如 `absent_days > 2`），实际为{value}", value=quoted(value)))
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
