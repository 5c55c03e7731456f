"""Worked examples for RULES §1, weighted composition: weighted and nested parts, periods,
parts that may not apply.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from decimal import Decimal as D

from tests.conftest import compiled
from xlbridge.engine import score_record


def test_weighted_sum_minus_inspection_001_26():
    # 001:26 "指标考核得分×80%+公众评议得分20%-察访核验扣分", 扣满3分为止 (001:13)
    # indicator 92.5 × 80% = 74; public 88 × 20% = 17.6; inspection 4.5 capped at 3
    # total = 74 + 17.6 − 3 = 88.6
    cs = compiled("""
        parts:
          - {id: indicator, title: 指标考核, weight: 80%, scale: 100, method: direct}
          - {id: public, title: 公众评议, weight: 20%, scale: 100, method: direct}
        deductions:
          cap: 3
          items:
            - {id: inspection, title: 察访核验扣分, input: points}
    """)
    r = score_record(cs, {"indicator": 92.5, "public": 88, "inspection": 4.5}, explain=True)
    assert r.total == D("88.6")
    assert r.deduction == D(3)
    assert any(s.kind == "cap" and s.value == 3 for s in r.steps)


def test_points_basis_and_nesting_002_156():
    # 002:156-158: 定量85% = 共性80% + 阶段性5%; 定性15%. Each sub-part out of 100.
    # 共性 90 → 72; 阶段性 80 → 4; 定性 (one rating part, 好=100%) → 15. total 91
    cs = compiled("""
        parts:
          - id: quant
            title: 定量考核
            points: 85
            parts:
              - {id: common, title: 共性部分, points: 80, scale: 100, method: direct}
              - {id: stage, title: 阶段性中心工作, points: 5, scale: 100, method: direct}
          - id: qual
            title: 定性考核
            points: 15
            method: rating
            values: {好: 100%, 中: 80%, 差: 60%}
    """)
    r = score_record(cs, {"common": 90, "stage": 80, "qual": "好"})
    assert r.total == D(91)
    r = score_record(cs, {"common": 90, "stage": 80, "qual": "中"})
    # 72 + 4 + 15 × 80% = 88
    assert r.total == D(88)


def test_periods_mid_and_year_end_002_536():
    # 指标评估 60 points, completion ratio, 中期 50% + 年终 50% (002:530, 536).
    # 中期 45/50 = 90% → 54; 年终 120/100 → capped at 100% → 60. 54×50% + 60×50% = 57
    cs = compiled("""
        period_sets:
          half: [{id: mid, label: 中期, weight: 50%}, {id: end, label: 年终, weight: 50%}]
        parts:
          - {id: ind, title: 指标评估, points: 60, method: ratio, periods: half}
    """, max_score=60)
    r = score_record(cs, {"ind_mid_actual": 45, "ind_mid_target": 50,
                          "ind_end_actual": 120, "ind_end_target": 100}, explain=True)
    assert r.total == D(57)
    assert "达到或超过目标计满分" in r.explain()


MEILING_WORK = """
    groups: []
    inputs:
      - {id: has_office, label: 科室工作, type: bool}
      - {id: has_community, label: 社区工作, type: bool}
      - {id: projects, label: 重点项目数, type: count}
    parts:
      - id: routine
        title: 常规工作
        points: 50
        parts:
          - {id: office, title: 科室工作分, points: 25, method: direct, applies_when: has_office}
          - {id: community, title: 社区工作分, points: 25, method: direct,
             applies_when: has_community}
      - id: key
        title: 重点项目
        points: 40
        applies_when: projects >= 1
        not_applicable: {give_to: [routine]}
        parts:
          - {id: p1, title: 项目一, points: 20, method: direct}
          - {id: p2, title: 项目二, points: 20, method: direct, applies_when: projects >= 2}
      - {id: att, title: 考勤, points: 10, method: direct}
"""


def test_role_dependent_maxima_rescale_004_497():
    # 004:497: routine 50, split 25/25 when a person does both; with one project it takes
    # the whole 40; with no project routine counts out of 90.
    cs = compiled(MEILING_WORK)
    both = {"has_office": "是", "has_community": "是", "projects": 2, "office": 20,
            "community": 22, "p1": 18, "p2": 16, "att": 10}
    # 20 + 22 + 18 + 16 + 10 = 86
    assert score_record(cs, both).total == D(86)
    one_each = dict(both, has_community="否", community=None, projects=1, p2=None)
    # office only: 20 × 50/25 = 40; one project: 18 × 40/20 = 36; + 10 = 86
    assert score_record(cs, one_each).total == D(86)
    no_project = dict(one_each, projects=0, p1=None)
    # routine 40 (of 50) scaled to 90: 40 × 90/50 = 72; + 10 = 82
    r = score_record(cs, no_project, explain=True)
    assert r.total == D(82)
    assert "不适用" in r.explain()


def test_applicable_part_with_blank_input_is_an_error():
    cs = compiled(MEILING_WORK)
    r = score_record(cs, {"has_office": "是", "has_community": "是", "projects": 0,
                          "office": 20, "community": None, "att": 10})
    assert not r.ok
    assert r.errors[0].field == "community" and r.errors[0].code == "blank"


def test_total_may_exceed_100_in_points_systems_004_205():
    # base 100 with bonuses on top (004:205, 245): 98 + bonus 5 = 103
    cs = compiled("""
        parts:
          - {id: base, title: 基础分, points: 100, method: direct}
        bonuses:
          cap: 25
          items:
            - {id: award, title: 个人受奖, levels: {国家级: 5, 省级: 3, 市级: 2, 本局: 1}}
        tiers:
          - {label: 好, at_least: 95}
          - {label: 一般, below: 95}
    """)
    r = score_record(cs, {"base": 98, "award_国家级": 1, "award_省级": 0, "award_市级": 0,
                          "award_本局": 0})
    assert r.total == D(103) and r.grade == "好"


def test_blank_counts_of_an_applicable_optional_part_are_errors():
    cs = compiled("""
        blank_counts: zero
        inputs:
          - {id: clinical, label: 临床科室, type: bool}
        parts:
          - {id: q, title: 质量, points: 95, method: direct}
          - {id: sat, title: 满意度, points: 5, method: rate, numerator: 满意份数,
             denominator: 有效问卷, applies_when: clinical}
    """)
    assert score_record(cs, {"clinical": "否", "q": 90}).total == D("94.74")
    r = score_record(cs, {"clinical": "是", "q": 90})
    assert {e.field for e in r.errors} == {"sat_num", "sat_den"}
