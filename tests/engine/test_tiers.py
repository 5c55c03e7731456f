"""Worked examples for RULES §6, grade tiers: bounds after rounding, exclusive bounds, shares
of the maximum.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from tests.conftest import compiled
from xlbridge.engine import score_record


def test_tier_boundaries_after_rounding_89_95():
    # 优秀 ≥90 on a total rounded to 1 place: 89.95 rounds half up to 90.0 → 优秀;
    # 89.94 → 89.9 → 良好. Binary floats would put 89.95 below 90.
    cs = compiled("""
        rounding: {total: {digits: 1}}
        parts:
          - {id: a, title: A, points: 100, method: direct}
        tiers:
          - {label: 优秀, at_least: 90}
          - {label: 良好, at_least: 80, below: 90}
          - {label: 合格, below: 80}
    """)
    assert score_record(cs, {"a": 89.95}).grade == "优秀"
    assert score_record(cs, {"a": 89.94}).grade == "良好"
    assert score_record(cs, {"a": "80"}).grade == "良好"
    assert score_record(cs, {"a": 79.949}).grade == "合格"


def test_exclusive_bounds_and_share_of_max_002_674():
    # 得分达到总分90%(含90)以上 → 优秀; max 200 → 180 inclusive; "above" is exclusive
    cs = compiled("""
        parts:
          - {id: a, title: A, points: 200, method: direct}
        tiers:
          - {label: 优秀, at_least: 90%}
          - {label: 良好, above: 160, below: 90%}
          - {label: 合格, at_most: 160}
    """, max_score=200)
    assert score_record(cs, {"a": 180}).grade == "优秀"
    assert score_record(cs, {"a": 179.99}).grade == "良好"
    assert score_record(cs, {"a": 160}).grade == "合格"
    assert score_record(cs, {"a": 160.01}).grade == "良好"
