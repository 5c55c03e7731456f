"""Worked examples for RULES §8, arithmetic and input edges: decimal arithmetic, bad and text
inputs, Excel-style rounding.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.conftest import compiled
from xlbridge.engine import score_record


def test_decimal_arithmetic_no_binary_drift():
    # 0.1 + 0.2 must be exactly 0.3: with floats the total would be 0.30000000000000004
    cs = compiled("""
        rounding: {total: {digits: 10}}
        parts:
          - {id: a, title: A, points: 50, method: direct}
          - {id: b, title: B, points: 50, method: direct}
    """)
    assert score_record(cs, {"a": 0.1, "b": 0.2}).total == D("0.3")


@pytest.mark.parametrize(("raw", "code"), [
    ("八十", "not_a_number"), (None, "blank"), ("", "blank"), (True, "not_a_number"),
    (120, "out_of_range"), (-1, "out_of_range"),
])
def test_bad_direct_inputs_give_per_field_errors(raw, code):
    cs = compiled("""
        parts:
          - {id: a, title: 指标考核, points: 100, method: direct}
    """)
    r = score_record(cs, {"a": raw})
    assert not r.ok and r.total is None
    assert r.errors[0].code == code and r.errors[0].field == "a"
    assert "指标考核" in str(r.errors[0])


@pytest.mark.parametrize(("raw", "code"), [(-1, "negative"), (1.5, "not_whole"),
                                            ("两次", "not_a_number")])
def test_bad_counts(raw, code):
    cs = compiled("""
        parts:
          - {id: att, title: 考勤, points: 100, method: deduction,
             items: [{id: late, title: 迟到, amount: 1}]}
    """)
    assert score_record(cs, {"late": raw}).errors[0].code == code


def test_text_numbers_percent_and_full_width_digits_read_as_numbers():
    cs = compiled("""
        rounding: {total: {digits: 2}}
        parts:
          - {id: a, title: A, points: 100, method: direct}
    """)
    assert score_record(cs, {"a": " ８５ "}).total == D(85)
    assert score_record(cs, {"a": "85.5"}).total == D("85.5")
    # "85%" for a score in points: 0.85 to Excel, 85 to the clerk — refused, not guessed
    assert score_record(cs, {"a": "85%"}).errors[0].code == "percent_for_points"
    # where a share is asked, a percentage is the number Excel reads: 85% of a 90% target
    cs = compiled("""
        rounding: {total: {digits: 2}}
        parts:
          - {id: r, title: 完成率, points: 100, method: ratio}
    """)
    # 0.85 / 0.9 = 0.9444… × 100 = 94.44
    assert score_record(cs, {"r_actual": "85%", "r_target": "90%"}).total == D("94.44")


def test_exact_half_after_thirds_still_rounds_up():
    # 72.5 × 30/90 + 78 × 60/90 = 24.1666… + 52 = 76.1666…; + 209/240 × 10 = 8.7083… → 84.875
    # exactly; 28-digit quotients sum to 84.87499…9 without the guard rounding.
    cs = compiled("""
        parts:
          - {id: h1, title: 半年初评, points: 30, scale: 90, method: direct}
          - {id: end, title: 年终总评, points: 60, scale: 90, method: direct}
          - {id: pub, title: 公众评议, points: 10, method: rate, numerator: 满意, denominator: 总数}
    """)
    r = score_record(cs, {"h1": 72.5, "end": 78, "pub_num": 209, "pub_den": 240})
    assert r.total == D("84.88")
