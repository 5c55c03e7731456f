"""Worked examples for RULES §4, deductions: capped totals, floors, escalation, derived
demerits, blank counts.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from decimal import Decimal as D

from tests.conftest import compiled
from xlbridge.engine import score_record

DEDUCTION_SCHEME = """
    parts:
      - {id: base, title: 基础, points: 100, method: direct}
    deductions:
      categories:
        - id: capped
          title: 通报与暗访
          cap: 4
          items:
            - {id: notice, title: 通报批评, levels: {省: 2, 市: 1, 县: 0.5}}
            - id: visit
              title: 明察暗访
              levels: {镇: 0.05, 县: 0.1, 市: 0.15}
              escalation: {factor: 2}
        - id: penalty
          title: 惩戒扣分（不封顶）
          items:
            - {id: punish, title: 惩戒, amount: 3}
    derived:
      - {id: head, title: 主要负责人记差分, of: deductions, share: 60%}
"""


def test_deductions_capped_total_escalation_uncapped_and_derived_002_176_239_552():
    cs = compiled(DEDUCTION_SCHEME)
    zero = {"notice_省": 0, "notice_市": 0, "notice_县": 0, "visit_镇": 0, "visit_县": 0,
            "visit_市": 0, "visit_镇_unrectified": 0, "visit_县_unrectified": 0,
            "visit_市_unrectified": 0, "punish": 0}
    # 暗访: 2 at 县 (0.2) + 1 at 市 not rectified, doubled (0.3) = 0.5
    r = score_record(cs, dict(zero, base=90, visit_县=2, visit_市_unrectified=1))
    assert r.deduction == D("0.5") and r.total == D("89.5")
    # 通报: 2 省 + 1 市 = 5 → capped at 4; 惩戒 2 × 3 = 6 uncapped → 10 in total
    r = score_record(cs, dict(zero, base=90, notice_省=2, notice_市=1, punish=2), explain=True)
    assert r.deduction == D(10) and r.total == D(80)
    # head is charged 60% of the unit's deduction: 6
    assert r.derived["head"] == D(6)


def test_blank_counts_are_errors_unless_declared_zero():
    cs = compiled(DEDUCTION_SCHEME)
    r = score_record(cs, {"base": 90})
    assert {e.code for e in r.errors} == {"blank"}
    cs = compiled(DEDUCTION_SCHEME + "    blank_counts: zero\n")
    assert score_record(cs, {"base": 90}).total == D(90)


def test_escalation_columns_say_what_they_hold():
    cs = compiled(DEDUCTION_SCHEME)
    labels = {s.id: s.label for s in cs.inputs}
    assert labels["visit_县"] == "明察暗访·县·已整改(次)"
    assert labels["visit_县_unrectified"] == "明察暗访·县·整改不到位(次)"
