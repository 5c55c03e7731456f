"""The condition language of schemes: ``absent_days > 2``, ``safety in ['合格', '优秀']``.

Conditions say when a veto, gate, forced grade, "no grade", payout rule or aggregation rule
applies. They read like the scheme's own sentences and are deliberately small: comparisons,
``and``/``or``/``not``, ``in [...]``, + − × ÷, numbers (``60%`` means 0.6), quoted text, the
names of the scheme's inputs (and, where the engine provides them, ``total``, ``grade``,
``rank``…), and a few functions (``count('优秀')``, ``min``, ``max``, ``abs``).

The text is parsed with Python's own parser (so precedence is the familiar one) and every node
is checked against a whitelist; it is then turned into a tree of closures, never ``eval``-ed.
Numbers are Decimals, so ``0.1 + 0.2 == 0.3`` holds here as a clerk expects.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

from xlbridge.i18n import quoted, t

Evaluator = Callable[[Mapping[str, Any]], Any]

_PERCENT_LITERAL = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*[%％]")
_PCT_FUNC = "__percent__"

_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv}
_ALLOWED_FUNCS = {"count", "min", "max", "abs", "blank"}


class ExprError(ValueError):
    """A condition that cannot be parsed or names something unknown."""


def _prepare(text: str) -> str:
    # 60% → __percent__('60'); full-width comparison signs a Chinese IME may produce → ASCII.
    text = (text.replace("＞", ">").replace("＜", "<").replace("＝", "=").replace("≥", ">=")
            .replace("≤", "<=").replace("≠", "!=").replace("（", "(").replace("）", ")")
            .replace("，", ",").replace("‘", "'").replace("’", "'").replace("“", "'")
            .replace("”", "'"))
    return _PERCENT_LITERAL.sub(lambda m: f"{_PCT_FUNC}('{m.group(1)}')", text)


#: A condition is a sentence, not a program; longer ones are refused before parsing (a chain
#: of 100,000 `+` would nest the compiled closures 100,000 deep).
MAX_LENGTH = 1000


def _parse(text: str) -> ast.expr:
    if len(text) > MAX_LENGTH:
        raise ExprError(t("条件太长（{n} 个字符，最多 {most} 个）：{start}…", n=len(text),
                          most=MAX_LENGTH, start=quoted(text[:40])))
    try:
        tree = ast.parse(_prepare(text), mode="eval")
    except SyntaxError as exc:
        raise ExprError(t("无法读取条件{text}：第 {col} 个字符附近有语法错误", text=quoted(text),
                          col=exc.offset or 1)) from None
    except ValueError:  # an integer of thousands of digits
        raise ExprError(t("无法读取条件{text}：其中的数过大", text=quoted(text[:40]))) from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not,
                             ast.USub, ast.UAdd, ast.Compare, ast.Name, ast.Load, ast.Constant,
                             ast.List, ast.Tuple, ast.BinOp, ast.In, ast.NotIn, ast.Call,
                             *_COMPARE, *_BINARY)):
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or (
                        node.func.id not in _ALLOWED_FUNCS and node.func.id != _PCT_FUNC):
                    raise ExprError(t("条件{text}中只能调用这些函数：{functions}",
                                      text=quoted(text),
                                      functions="、".join(sorted(_ALLOWED_FUNCS))))
                if node.keywords:
                    raise ExprError(t("条件{text}中：函数不接受关键字参数", text=quoted(text)))
            if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str)):
                raise ExprError(t("条件{text}中有不能使用的常量 {value}", text=quoted(text),
                                  value=repr(node.value)))
            if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and \
                    not isinstance(node.value, bool) and not abs(node.value) <= 1e15:
                raise ExprError(t("条件{text}中的数 {value} 不是有限的数或过大（绝对值最多 10¹⁵）",
                                  text=quoted(text), value=repr(node.value)))
            continue
        raise ExprError(t("条件{text}中不能用{part}（可用比较、and/or/not、in [...]、+ - * /）",
                          text=quoted(text), part=quoted(ast.unparse(node))))
    return tree.body


def parse_tree(text: str) -> ast.expr:
    """The checked syntax tree of a condition (``60%`` is a call of ``__percent__``), for
    code that shows a condition in words rather than evaluating it."""
    return _parse(text)


PERCENT_FUNC = _PCT_FUNC


def check_syntax(text: str) -> None:
    """Raise ExprError unless ``text`` is a well-formed condition."""
    _parse(text)


def names_in(text: str) -> set[str]:
    """The variable names a condition reads (function names excluded)."""
    tree = _parse(text)
    funcs = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - funcs


def compile_expr(text: str, known: Collection[str] | None = None,
                 functions: Mapping[str, Callable[..., Any]] | None = None) -> Evaluator:
    """Compile a condition into ``f(env) -> value``; names missing from ``known`` are errors.

    ``functions`` adds callables ``fn(env, *args)`` beside the built-in min/max/abs/blank.
    """
    tree = _parse(text)
    if known is not None:
        unknown = sorted(names_in(text) - set(known) - {"True", "False"})
        if unknown:
            raise ExprError(t("条件{text}中有未知的名称 {names}；这里可用：{known}",
                              text=quoted(text), names="、".join(unknown),
                              known="、".join(sorted(known)) or t("（无）")))
    # Every function receives the evaluation environment first, so that count('优秀') can
    # read the record's period grades.
    funcs: dict[str, Callable[..., Any]] = {
        "min": lambda env, *a: min(*a), "max": lambda env, *a: max(*a),
        "abs": lambda env, a: abs(a), "blank": lambda env, v: v is None or v == ""}
    funcs.update(functions or {})
    return _build(tree, text, funcs)


def _build(node: ast.expr, text: str, funcs: Mapping[str, Callable[..., Any]]) -> Evaluator:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, float):
            value = Decimal(repr(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        return lambda env, v=value: v
    if isinstance(node, ast.Name):
        name = node.id
        if name in ("True", "False"):
            return lambda env, v=(name == "True"): v
        return lambda env, n=name: env[n]
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_build(e, text, funcs) for e in node.elts]
        return lambda env: [f(env) for f in items]
    if isinstance(node, ast.BoolOp):
        parts = [_build(v, text, funcs) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if isinstance(node, ast.UnaryOp):
        inner = _build(node.operand, text, funcs)
        if isinstance(node.op, ast.Not):
            return lambda env: not inner(env)
        if isinstance(node.op, ast.USub):
            return lambda env: -inner(env)
        return inner
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left, text, funcs), _build(node.right, text, funcs)
        op = _BINARY[type(node.op)]
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.Compare):
        first = _build(node.left, text, funcs)
        rest = [(type(op), _build(c, text, funcs)) for op, c in zip(node.ops, node.comparators,
                                                                     strict=True)]

        def compare(env: Mapping[str, Any]) -> bool:
            left = first(env)
            for op_type, right_fn in rest:
                right = right_fn(env)
                if op_type is ast.In:
                    ok = left in right
                elif op_type is ast.NotIn:
                    ok = left not in right
                else:
                    try:
                        ok = _COMPARE[op_type](left, right)
                    except TypeError:
                        raise ExprError(t("条件{text}中：无法比较 {left} 和 {right}",
                                          text=quoted(text), left=repr(left),
                                          right=repr(right))) from None
                if not ok:
                    return False
                left = right
            return True

        return compare
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        args = [_build(a, text, funcs) for a in node.args]
        if name == _PCT_FUNC:
            pct = Decimal(node.args[0].value) / 100  # type: ignore[attr-defined]
            return lambda env, v=pct: v
        if name not in funcs:
            raise ExprError(t("条件{text}中：这里不能用 {name}()", text=quoted(text), name=name))
        fn = funcs[name]
        return lambda env: fn(env, *(a(env) for a in args))
    raise ExprError(t("条件{text}中有不支持的写法", text=quoted(text)))  # pragma: no cover
