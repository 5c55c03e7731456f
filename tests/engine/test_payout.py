"""Worked examples for RULES §9, payouts: fixed amounts by grade, forfeits, pro rata, months of
salary, prizes.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from decimal import Decimal as D

from tests.conftest import compiled
from xlbridge.engine import score_population, score_record

PAYOUT_SCHEME = """
    inputs:
      - {id: leave_days, label: 请假天数, type: number, min: 0}
      - {id: leaving, label: 当季退休, type: bool}
      - {id: months, label: 在职月数, type: number, min: 0, max: 3}
    period: quarter
    parts:
      - {id: a, title: 得分, points: 100, method: direct}
    conditions:
      - {id: leaving, title: 当季退休, when: leaving, then: {no_grade: true}}
    tiers:
      - {label: 优秀, at_least: 90}
      - {label: 良好, at_least: 75, below: 90}
      - {label: 称职, at_least: 60, below: 75}
      - {label: 不称职, below: 60}
    payout:
      amounts: {优秀: 2100, 良好: 1800, 称职: 1500}
      rules:
        - {id: leave, title: 请假超过15天不享受优秀奖金, when: leave_days > 15,
           grades: [优秀], pay_as: 良好}
        - {id: retire, title: 退休按在职月份享受称职奖金, when: leaving, pay_as: 称职,
           pro_rata: {months: months, of: 3}}
"""


def test_payout_fixed_by_grade_forfeit_and_pro_rata_004_503_525():
    cs = compiled(PAYOUT_SCHEME)
    base = {"leave_days": 0, "leaving": "否", "months": 3}
    assert score_record(cs, dict(base, a=92)).payout == D(2100)
    assert score_record(cs, dict(base, a=80)).payout == D(1800)
    assert score_record(cs, dict(base, a=50)).payout == D(0)
    # 优秀 but 16 days of leave: paid at 良好
    assert score_record(cs, dict(base, a=92, leave_days=16)).payout == D(1800)
    # retiring after 2 months: no grade, 称职 1500 × 2/3 = 1000
    r = score_record(cs, dict(base, a=92, leaving="是", months=2))
    assert r.grade is None and r.payout == D(1000)


def test_payout_months_of_base_salary_002_684():
    cs = compiled("""
        inputs:
          - {id: base_salary, label: 基础工资, type: number, min: 0}
        parts:
          - {id: a, title: 得分, points: 100, method: direct}
        tiers:
          - {label: 优秀, at_least: 90}
          - {label: 良好, at_least: 80, below: 90}
          - {label: 合格, below: 80}
        payout:
          base_months: {优秀: 1, 良好: 0.5}
          base: base_salary
    """)
    assert score_record(cs, {"a": 91, "base_salary": 3456.78}).payout == D("3456.78")
    # half a month of 3456.78 = 1728.39
    assert score_record(cs, {"a": 85, "base_salary": 3456.78}).payout == D("1728.39")
    assert score_record(cs, {"a": 70, "base_salary": 3456.78}).payout == D(0)


def test_prizes_by_rank_within_band_002_123():
    # 一档/二档: first 10000, second two 6000 each (ranks 2 and 3)
    cs = compiled("""
        inputs:
          - {id: band, label: 档次, type: text}
        groups: [band]
        parts:
          - {id: a, title: 得分, points: 100, method: direct}
        tiers:
          - {label: 合格, at_least: 0}
        payout:
          amounts: {}
          rank_prizes:
            prizes: [{rank: 1, amount: 10000}, {rank: 2, amount: 6000},
                     {rank: 3, amount: 6000}]
    """)
    rows = [{"band": "一档", "a": s} for s in (95, 93, 90, 80)] + \
        [{"band": "二档", "a": s} for s in (88, 91)]
    pop = score_population(cs, rows)
    assert [r.payout for r in pop.records] == [D(10000), D(6000), D(6000), D(0), D(6000),
                                               D(10000)]
