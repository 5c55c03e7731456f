"""Reading one input value: the edge where cells and CSV fields become typed values.

Everything a clerk can put in a cell arrives here: numbers (int, float from Excel, Decimal),
text (``"85"``, ``"85%"``, ``" ８５ "`` typed with a Chinese IME, ``"1,234.5"``), booleans,
dates, blanks and Excel error values. Each input's parser turns it into the one type the
rule needs or raises :class:`FieldError` saying which field, what was expected and what was
found — never a silent zero. Floats are converted to Decimal here and nowhere else.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from xlbridge.arith import ZERO, fmt, from_float
from xlbridge.engine.errors import ErrorKind, kind_of
from xlbridge.i18n import t
from xlbridge.scheme.inputs import InputSpec
from xlbridge.xlvalues import ExcelError

_TRUE = {"是", "true", "yes", "y", "1", "√", "✓", "✔", "有", "对", "t"}
_FALSE = {"否", "false", "no", "n", "0", "×", "✗", "无", "没有", "f", "不"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class FieldError(Exception):
    """A bad value in one field of one record: ``label`` is the field's label (what the
    clerk sees), ``expected`` what it should hold — a catalogue message, in the language
    current when the value was read (``t("应为数字")``) — and ``got`` what it held."""

    field: str
    label: str
    code: str
    expected: str
    got: Any = None

    @property
    def kind(self) -> ErrorKind:
        """What kind of wrong this is (see :mod:`xlbridge.engine.errors`)."""
        return kind_of(self.code)

    def __str__(self) -> str:
        # one sentence in the current language: [考勤扣分]：应为数字，实际为“二十”
        expected = self.expected
        if self.code in ("blank", "excel_error"):   # the expectation already says what is there
            return t("[{label}]：{expected}", label=self.label, expected=expected)
        if _is_blank(self.got):
            return t("[{label}]：{expected}，实际为空白", label=self.label, expected=expected)
        return t("[{label}]：{expected}，实际为“{got}”", label=self.label, expected=expected,
                 got=_shown(self.got))

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "label": self.label, "code": self.code,
                "message": str(self), "got": None if self.got is None else _shown(self.got)}


def _shown(value: Any) -> str:
    """A cell value as the clerk typed or sees it: 二十, 120, 85.5, TRUE, 2016-06-30."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value == value and value not in (float("inf"),
                                                                     float("-inf")):
        return fmt(from_float(value))
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else \
            value.isoformat()
    return str(value)


class RecordInputError(Exception):
    """One record with one or more bad fields; ``row`` is 1-based when known."""

    def __init__(self, errors: list[FieldError], row: int | None = None):
        self.errors = errors
        self.row = row
        where = t("第 {row} 行：", row=row) if row is not None else ""
        super().__init__(where + t("；").join(str(e) for e in errors))


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalize_text(text: str) -> str:
    """Full-width digits and letters (from a Chinese IME) → ASCII; trim."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_number_text(text: str) -> Decimal | None:
    """``"85"``, ``"85%"``, ``"1,234.5"``, ``"８５"`` → Decimal; anything else → None."""
    t = normalize_text(text).replace(" ", "")
    percent = t.endswith("%")
    if percent:
        t = t[:-1]
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:  # pragma: no cover - guarded by the regex
        return None
    return value / 100 if percent else value


Parser = Callable[[Any], Any]

#: No score, amount or count reaches 10^15 (Excel's exact-integer limit, 15 digits): a
#: larger cell is a typo or a pasted ID number, and would overflow the 28-digit rounding.
MAX_MAGNITUDE = Decimal(10) ** 15


def make_parser(spec: InputSpec) -> Parser:
    """The function that reads ``spec``'s raw value or raises FieldError."""

    def fail(code: str, expected: str, got: Any) -> FieldError:
        return FieldError(spec.id, spec.label, code, expected, got)

    blank_value: Any
    if spec.optional:
        blank_value = None
    elif spec.blank == "zero":
        blank_value = ZERO
    elif spec.blank == "false":
        blank_value = False
    elif spec.blank == "empty":
        blank_value = ""
    else:
        blank_value = _REQUIRED

    def blank(value: Any) -> Any:
        if blank_value is _REQUIRED:
            raise fail("blank", t("不能为空"), value)
        return blank_value

    def excel_error(value: ExcelError) -> FieldError:
        return fail("excel_error", t("单元格是错误值 {code}，请先修正", code=value.code),
                    value.code)

    low, high = spec.min, spec.max
    points_scale = high is not None and high > 1   # a score in points, not a share or rate

    def check_range(value: Decimal, raw: Any) -> Decimal:
        if not -MAX_MAGNITUDE < value < MAX_MAGNITUDE:
            raise fail("out_of_range", t("数值过大，不是有效的分数、金额或次数"), raw)
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                expected = t("应在 {low} 到 {high} 之间", low=fmt(low), high=fmt(high))
            elif low is not None:
                expected = t("应不小于 {low}", low=fmt(low))
            else:
                expected = t("应不大于 {high}", high=fmt(high))
            raise fail("out_of_range", expected, raw)
        return value

    def number(value: Any) -> Decimal:
        kind = type(value)
        if kind is Decimal:
            result = value
        elif kind is int:
            result = Decimal(value)
        elif kind is float:
            if value != value or value in (float("inf"), float("-inf")):
                raise fail("not_a_number", t("应为数字"), value)
            result = from_float(value)
        elif _is_blank(value):
            return blank(value)
        elif kind is str:
            parsed = parse_number_text(value)
            if parsed is None:
                raise fail("not_a_number", t("应为数字"), value)
            if points_scale and value.rstrip().endswith(("%", "％")):
                # "85%" for a score out of 100 is 85 points to a clerk and 0.85 to Excel:
                # guessing either way changes someone's grade, so ask
                raise fail("percent_for_points",
                           t("是百分比；此项按分值填写（0 到 {high}），如 85 而不是 85%",
                             high=fmt(high)), value)
            result = parsed
        elif kind is bool:
            raise fail("not_a_number", t("应为数字，不是 是/否"), value)
        elif isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
            raise fail("not_a_number", t("应为数字，不是日期"), value)
        elif isinstance(value, ExcelError):
            raise excel_error(value)
        else:
            raise fail("not_a_number", t("应为数字"), value)
        return check_range(result, value)

    def count(value: Any) -> int:
        # Counts stay Python ints: exact, and int × Decimal is a Decimal.
        if type(value) is int and value >= 0 and (high is None or value <= high):
            return value
        result = number(value)
        if result is None:      # blank, and the input may be blank (the part may not apply)
            return None
        if result is blank_value:  # blank, declared to mean 0
            return 0
        if result != result.to_integral_value():
            raise fail("not_whole", t("应为整数（次数）"), value)
        if result < 0:
            raise fail("negative", t("次数不能为负"), value)
        return int(result)

    def boolean(value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        if _is_blank(value):
            return blank(value)
        if isinstance(value, ExcelError):
            raise excel_error(value)
        if isinstance(value, (int, float, Decimal)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = normalize_text(value).lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        raise fail("not_a_bool", t("应为 是/否"), value)

    labels = spec.labels or ()
    label_set = {normalize_text(x): x for x in labels}

    def label(value: Any) -> str | None:
        if _is_blank(value):
            return blank(value)
        if isinstance(value, ExcelError):
            raise excel_error(value)
        text = normalize_text(_text_of(value))
        if text in label_set:
            return label_set[text]
        raise fail("unknown_label", t("应为以下之一：{allowed}", allowed=t("、").join(labels)),
                   value)

    def text(value: Any) -> str | None:
        if _is_blank(value):
            return blank(value)
        if isinstance(value, ExcelError):
            raise excel_error(value)
        return normalize_text(_text_of(value))

    return {"number": number, "count": count, "bool": boolean, "label": label,
            "text": text}[spec.type]


_REQUIRED = object()


def _text_of(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a category typed as 1 arrives from Excel as 1.0
    if isinstance(value, Decimal):
        return fmt(value)
    return str(value)


def compile_record_parser(specs: list[InputSpec]) -> Callable[[Any], tuple[dict[str, Any],
                                                                        list[FieldError]]]:
    """One function that parses a whole record: ``raw`` mapping → (values, errors).

    The common cases — an int count, a Decimal or int number within its bounds — are
    checked inline in generated code; everything else (text, floats, blanks, bad values)
    goes through the input's own parser above. Generating the function once per scheme
    removes a Python call per input from the hot path, which is most of the cost of reading
    a record with forty columns.
    """
    parsers = [make_parser(spec) for spec in specs]
    consts: dict[str, Any] = {"FieldError": FieldError, "Decimal": Decimal, "NO_ERRORS": (),
                              "TEMPLATE": dict.fromkeys(spec.id for spec in specs),
                              "MAXN": MAX_MAGNITUDE,
                              "NFKC": functools.partial(unicodedata.normalize, "NFKC")}
    # errors is created only when there is one: most records have none
    # v starts as a copy of a dict that already holds every key: one allocation of the right
    # size instead of a dict that grows (and is copied) three times on the way to 50 keys
    lines = ["def parse(raw):", "    get = raw.get", "    v = TEMPLATE.copy()",
             "    errors = NO_ERRORS"]
    for i, spec in enumerate(specs):
        key = repr(spec.id)
        consts[f"P{i}"] = parsers[i]
        lines.append(f"    x = get({key})")
        fast = None
        if spec.type == "count":
            bound = ""
            if spec.max is not None:
                consts[f"H{i}"] = spec.max
                bound = f" and x <= H{i}"
            fast = (f"x.__class__ is int and x >= 0{bound}", "x")
        elif spec.type == "number":
            checks = [] if spec.min is not None and spec.max is not None else \
                ["-MAXN < x < MAXN"]
            if spec.min is not None:
                consts[f"L{i}"] = spec.min
                checks.append(f"x >= L{i}")
            if spec.max is not None:
                consts[f"H{i}"] = spec.max
                checks.append(f"x <= H{i}")
            bounds = "".join(f" and {c}" for c in checks)
            lines.append(f"    if x.__class__ is Decimal{bounds}:")
            lines.append(f"        v[{key}] = x")
            lines.append(f"    elif x.__class__ is int{bounds}:")
            lines.append(f"        v[{key}] = Decimal(x)")
            lines.append("    else:")
            lines.append("        try:")
            lines.append(f"            v[{key}] = P{i}(x)")
            lines.append("        except FieldError as e:")
            lines.append("            errors = [*errors, e]")
            continue
        if spec.type == "text":
            # text: NFKC (full-width → ASCII) and trim, inline; blank text only where allowed
            # (an optional input reads blank as None, an 'empty' one as '')
            if spec.optional:
                fast = ("x.__class__ is str", "NFKC(x).strip() or None")
            elif spec.blank == "empty":
                fast = ("x.__class__ is str", "NFKC(x).strip()")
            else:
                fast = ("x.__class__ is str and (y := NFKC(x).strip())", "y")
        if spec.type == "bool":
            fast = ("x is True or x is False", "x")
        if fast is not None:
            lines.append(f"    if {fast[0]}:")
            lines.append(f"        v[{key}] = {fast[1]}")
            lines.append("    else:")
            indent = "        "
        else:
            indent = "    "
        lines.append(f"{indent}try:")
        lines.append(f"{indent}    v[{key}] = P{i}(x)")
        lines.append(f"{indent}except FieldError as e:")
        lines.append(f"{indent}    errors = [*errors, e]")
    lines.append("    return v, errors")
    namespace: dict[str, Any] = dict(consts)
    exec(compile("\n".join(lines), "<xlbridge record parser>", "exec"), namespace)
    return namespace["parse"]
