"""The condition language of schemes."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from xlbridge.scheme.expr import ExprError, compile_expr, names_in


def ev(text, **env):
    return compile_expr(text, set(env))(env)


def test_comparisons_logic_and_percent_literals():
    assert ev("absent_days > 2", absent_days=D(3)) is True
    assert ev("rate < 60%", rate=D("0.59")) is True
    assert ev("rate < 60%", rate=D("0.6")) is False
    assert ev("a and not b", a=True, b=False) is True
    assert ev("5 <= x < 10", x=D(7)) is True
    assert ev("safety in ['合格', '优秀']", safety="合格") is True
    assert ev("0.1 + 0.2 == 0.3") is True


def test_full_width_operators_from_a_chinese_ime():
    assert ev("病事假天数 ＞ 40", 病事假天数=D(41)) is True
    assert ev("x ≥ 5", x=D(5)) is True


def test_unknown_names_are_reported_with_the_known_ones():
    with pytest.raises(ExprError, match=r"未知的名称 absnt；这里可用：absent"):
        compile_expr("absnt > 2", {"absent"})


@pytest.mark.parametrize("text", ["__import__('os')", "x.y", "x[0]", "lambda: 1",
                                  "open('f')", "x if y else z", "x > "])
def test_only_the_whitelisted_syntax_is_accepted(text):
    with pytest.raises(ExprError):
        compile_expr(text, {"x", "y", "z"})


def test_functions_receive_the_environment():
    grades = {"Q1": "优秀", "Q2": "优秀", "Q3": "良好"}
    fn = compile_expr("count('优秀') >= 2",
                      set(), {"count": lambda env, label: sum(v == label for v in env.values())})
    assert fn(grades) is True


def test_names_in():
    assert names_in("a > 1 and count('x') < b") == {"a", "b"}
