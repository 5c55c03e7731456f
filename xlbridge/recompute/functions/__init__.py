"""Worksheet functions of the recalculator: Excel's natives by category, and a registry for more.

Each native function lives in the module of its Excel category — :mod:`.mathtrig`,
:mod:`.statistical` (its probability distributions in :mod:`.distributions`), :mod:`.logical`,
:mod:`.text`, :mod:`.lookup`, :mod:`.information`, :mod:`.datetime`, :mod:`.engineering`,
:mod:`.dynamic` — registered beside its code by the category's decorator
(:func:`~.registry.registrar`), which records its name, arity and argument kinds.
``xlbridge recompute --functions`` lists them from the registry.

Adding a function
=================

Another module adds a worksheet function by name::

    from xlbridge.recompute.functions import register_function, current_caller

    def perf_grade(score, table=None):
        if isinstance(score, ExcelError):
            return score                       # errors arrive as values; pass them on
        ...
        return "优秀"

    register_function("PERF_GRADE", perf_grade, min_args=1, max_args=2)

Calling convention of a registered function ``fn(*args)``:

* Arguments are evaluated (Excel evaluates every argument of a UDF).
  - a number is a Python ``float`` (an IEEE double, like Excel; use :func:`to_decimal` to get
    the ``Decimal`` Excel displays, to 15 significant digits), text is ``str``, TRUE/FALSE are
    ``bool``, an Excel error is an :class:`~xlbridge.xlvalues.ExcelError` (not raised: passed
    as a value, the function decides), an empty cell is ``None``, an omitted argument
    (``F(A1,,2)``) is ``None`` too;
  - a reference to a single cell written as such (``B5``, ``Sheet2!$B$5``) is that cell's
    value as above;
  - any other reference (``B5:D5``, ``A:A``, a defined name for a range) and any array
    (``{1,2;3,4}``) is a 2-D ``list`` of rows, e.g. ``[[90.0, None], ["张三", True]]``, blanks as
    ``None``; whole columns are cut to the workbook's used rows.
* Return a scalar (``float``/``int``/``Decimal`` → number, ``str``, ``bool``), ``None`` (shown
  as 0, like an empty VBA result), an ``ExcelError``, or a 2-D list of such scalars. A 2-D list
  fills an array formula's range; in an ordinary formula cell only its top-left value is kept.
* An exception raised by the function becomes ``#VALUE!`` in the cell and an entry in the
  recompute report (cell, function, message).
* :func:`current_caller` tells which cell is being computed (``"考核表!F12"``), for messages.
* Functions must be pure: the scheduler may call a function more than once for the same cell
  (when an argument turns out not to be computed yet, the evaluation is retried).

``FUNCTIONS`` maps each registered (external) name to its :class:`FunctionSpec`;
``NATIVE_FUNCTIONS`` is the set of Excel functions the recalculator computes itself.
"""

from __future__ import annotations

from xlbridge.i18n import N_, t

# the category modules register their functions on import
from . import (  # noqa: F401
    arrays,
    bonds,
    database,
    dates,
    distributions,
    engineering,
    financial,
    information,
    lambdas,
    logical,
    mathtrig,
    matrices,
    numerals,
    probability,
    regexes,
    regression,
    statistical,
    text,
)
from . import lookup as _lookup_mod  # noqa: F401
from .registry import (
    CATEGORIES,
    FUNCTIONS,
    NATIVE,
    CallerCell,
    FunctionSpec,
    call_external,
    current_caller,
    external_spec,
    is_supported,
    lookup,
    natives_by_category,
    register_function,
    to_decimal,
    unregister_function,
)
from .sumproduct_index import NOFAST, sumproduct_conditional

#: Functions compiled specially (lazy arguments).
SPECIAL_FORMS = frozenset(n for n, s in NATIVE.items() if s.form)

#: Every Excel function name the recalculator computes itself.
NATIVE_FUNCTIONS = frozenset(n for n, s in NATIVE.items() if s.category != "Internal")

_CATEGORY_ZH = {"Math & Trig": N_("数学和三角"), "Statistical": N_("统计"), "Logical": N_("逻辑"),
                "Text": N_("文本"), "Lookup & Reference": N_("查找和引用"),
                "Information": N_("信息"), "Date & Time": N_("日期和时间"),
                "Financial": N_("财务"), "Database": N_("数据库"), "Engineering": N_("工程")}


def function_listing(arity: bool = True) -> str:
    """The functions recompute computes, by Excel category, from the registry itself
    (``xlbridge recompute --functions``; the README's list is checked against it)."""
    groups = natives_by_category()
    groups.pop("Internal", None)
    n = sum(len(v) for v in groups.values())
    lines = [t("xlbridge recompute 计算以下 {n} 个 Excel 函数（按 Excel 的类别）；"
               "用到其他函数的单元格保留文件中的值，并逐格报告。", n=n)]
    for cat, specs in groups.items():
        label = t(_CATEGORY_ZH.get(cat, cat))
        lines.append(f"\n{label if label == cat else label + ' ' + cat} ({len(specs)}):")
        names = [f"{s.name}({s.arity})" if arity else s.name for s in specs]
        line = " "
        for n in names:
            if len(line) + len(n) + 1 > 96:
                lines.append(line)
                line = " "
            line += " " + n
        lines.append(line)
    return "\n".join(lines)


def readme_list() -> str:
    """The README's list (one Markdown bullet per category), generated from the registry;
    a test checks that the README holds exactly this."""
    return "\n".join(f"  - **{cat}** ({len(specs)}): " + " ".join(s.name for s in specs)
                     for cat, specs in natives_by_category().items() if cat != "Internal")


__all__ = [
    "CATEGORIES",
    "FUNCTIONS",
    "NATIVE",
    "NATIVE_FUNCTIONS",
    "NOFAST",
    "SPECIAL_FORMS",
    "CallerCell",
    "FunctionSpec",
    "call_external",
    "current_caller",
    "external_spec",
    "function_listing",
    "is_supported",
    "lookup",
    "natives_by_category",
    "readme_list",
    "register_function",
    "sumproduct_conditional",
    "to_decimal",
    "unregister_function",
]
