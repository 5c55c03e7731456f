"""Worked examples for every rule kind in RULES.md, computed by hand from the seed wording.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tests.conftest import compiled
from xlbridge.engine import score_population, score_record

# --------------------------------------------------------------------- §1 weighted composition


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


# --------------------------------------------------------------------- §2 scoring one part


def test_completion_ratio_002_530():
    # "达到及超过标准值的计满分,低于标准值的按实际完成比例折算计分": 60 points,
    # 83 of 100 → 49.8; 105 of 100 → 60
    cs = compiled("""
        parts:
          - {id: ind, title: 指标评估, points: 100, method: ratio}
    """)
    assert score_record(cs, {"ind_actual": 83, "ind_target": 100}).total == D(83)
    assert score_record(cs, {"ind_actual": 105, "ind_target": 100}).total == D(100)
    bad = score_record(cs, {"ind_actual": 5, "ind_target": 0})
    assert bad.errors[0].code == "target_zero"


def test_rates_with_allowance_003_207():
    # 003:207-213: base 100 = 及时解决率 80% + 解决率 20%; 3% re-dispatches allowed.
    # 200 due; 180 timely, 8 re-dispatched (allowance 3% × 200 = 6): (180+6)/200 = 93%
    # → 0.93 × 80 = 74.4; solved 196/200 = 98% → 19.6; total 94
    cs = compiled("""
        parts:
          - id: timely
            title: 问题及时解决率
            points: 80
            method: rate
            numerator: 及时解决数
            denominator: 应解决数
            allowance: {label: 多次派遣数, share: 3%}
          - {id: solved, title: 问题解决率, points: 20, method: rate, numerator: 解决数,
             denominator: 应解决数}
    """)
    r = score_record(cs, {"timely_num": 180, "timely_den": 200, "timely_excused": 8,
                          "solved_num": 196, "solved_den": 200}, explain=True)
    assert r.total == D(94)
    assert "允许的多次派遣数 6" in r.explain()


def test_rating_votes_002_160():
    # 满意 100% / 基本满意 80% / 不满意 60%; 40 votes: 30 满意, 8 基本满意, 2 不满意
    # share = (30 + 6.4 + 1.2)/40 = 37.6/40 = 94% of 5 points = 4.7
    cs = compiled("""
        parts:
          - id: social
            title: 社会评议
            points: 100
            method: rating
            votes: true
            values: {满意: 100%, 基本满意: 80%, 不满意: 60%}
    """)
    r = score_record(cs, {"social_满意": 30, "social_基本满意": 8, "social_不满意": 2})
    assert r.total == D(94)


def test_unknown_rating_label_is_a_field_error():
    cs = compiled("""
        parts:
          - {id: lead, title: 班子评价, points: 100, method: rating,
             values: {好: 100%, 中: 80%, 差: 60%}}
    """)
    r = score_record(cs, {"lead": "优"})
    assert r.errors[0].code == "unknown_label"
    assert "好、中、差" in str(r.errors[0])


def test_grade_of_sub_assessment_to_points_002_676():
    # 专项 优秀 → 10% of the total = 10 points; 良好 8–9% → chosen 8.5; 一般 5–6% → 5.5; 差 → 0
    cs = compiled("""
        parts:
          - {id: main, title: 重点考核, points: 90, method: direct}
          - id: special
            title: 专项绩效考核
            points: 10
            method: grade
            values: {优秀: 10, 良好: 8.5, 一般: 5.5, 差: 0}
    """)
    assert score_record(cs, {"main": 80, "special": "良好"}).total == D("88.5")
    assert score_record(cs, {"main": 80, "special": "差"}).total == D(80)


def test_rank_percentile_bands_004_497():
    # Leaders' evaluation: top 25% → 90, 25–55% → 80, rest → 70, weighted 40%.
    # 10 people; top 25% = 2.5 → 3 (half_up); top 55% = 5.5 → 6.
    cs = compiled("""
        inputs:
          - {id: cat, label: 类别, type: text}
        groups: [cat]
        parts:
          - {id: work, title: 工作, weight: 60%, scale: 100, method: direct}
          - id: lead
            title: 领导测评
            weight: 40%
            scale: 100
            method: rank
            band_rounding: half_up
            bands: [{top: 25%, score: 90}, {top: 55%, score: 80}, {score: 70}]
    """)
    votes = [99, 97, 95, 93, 91, 89, 87, 85, 83, 81]
    rows = [{"cat": "一般", "work": 80, "lead": v} for v in votes]
    pop = score_population(cs, rows, explain=True)
    # ranks 1–3 → 90: 48 + 36 = 84; ranks 4–6 → 80: 48 + 32 = 80; ranks 7–10 → 70: 76
    assert [r.total for r in pop.records] == [D(84)] * 3 + [D(80)] * 3 + [D(76)] * 4
    assert "组内第3名/共10人，前25%（3人）" in pop.records[2].explain()


def test_rank_part_ties_share_the_better_band():
    cs = compiled("""
        parts:
          - id: lead
            title: 测评
            points: 100
            method: rank
            band_rounding: floor
            bands: [{top: 25%, score: 100}, {score: 50}]
    """)
    # 4 people, top 25% = 1 person; two tied at the top both get rank 1 → both 100
    pop = score_population(cs, [{"lead": 9}, {"lead": 9}, {"lead": 5}, {"lead": 1}])
    assert [r.total for r in pop.records] == [D(100), D(100), D(50), D(50)]


def test_rank_part_needs_population():
    cs = compiled("""
        parts:
          - {id: lead, title: 测评, points: 100, method: rank, band_rounding: floor,
             bands: [{top: 25%, score: 100}, {score: 50}]}
    """)
    r = score_record(cs, {"lead": 9})
    assert r.errors[0].code == "needs_population"


def test_deduction_based_part_with_knockouts_004_497():
    # 考勤 10: 迟到 −1 each, 10 or more → 0; 旷工 −5 per day, 2 or more → 0.
    cs = compiled("""
        parts:
          - id: att
            title: 考勤
            points: 100
            scale: 10
            method: deduction
            items:
              - {id: late, title: 迟到, amount: 1, knockout: 10}
              - {id: absent, title: 旷工, amount: 5, knockout: 2, unit: 天}
    """)
    # scale 10 weighted to 100 points: 3 lates → 10 − 3 = 7 → 70
    assert score_record(cs, {"late": 3, "absent": 0}).total == D(70)
    # 1 late + 1 day absent → 10 − 1 − 5 = 4 → 40
    assert score_record(cs, {"late": 1, "absent": 1}).total == D(40)
    # 10 lates → knock-out → 0
    r = score_record(cs, {"late": 10, "absent": 0}, explain=True)
    assert r.total == 0
    assert any(s.kind == "knockout" for s in r.steps)
    # 2 days absent → 0
    assert score_record(cs, {"late": 0, "absent": 2}).total == 0


def test_deduction_floor_per_item_002_229():
    # "扣分只限于该考核项目分值,扣完为止": a 20-point target with 26 points of deductions
    # scores 0, not −6.
    cs = compiled("""
        parts:
          - id: t1
            title: 重要工作目标一
            points: 20
            method: deduction
            items: [{id: t1_ded, title: 扣分, input: points}]
          - {id: rest, title: 其他, points: 80, method: direct}
    """)
    r = score_record(cs, {"t1_ded": 26, "rest": 70}, explain=True)
    assert r.total == D(70)
    assert any(s.kind == "floor" for s in r.steps)


# --------------------------------------------------------------------- §3 bonus points

BONUS_SCHEME = """
    parts:
      - {id: base, title: 基础, points: 100, method: direct}
    bonuses:
      cap: 4
      items:
        - id: honour
          title: 争先创优
          levels: {中央: 4, 省: 3, 市: 2, 县: 1, 局: 0.5}
          input: list
          highest_only: true
        - id: over
          title: 超额完成
          amount: 2
          cap_share: {part: base, share: 3%}
        - id: growth
          title: 集体经济增长
          input: growth
          growth: {step: 10, per_step: 0.5}
          when: income >= 5
    inputs:
      - {id: income, label: 集体经济纯收入(万元), type: number}
    tiers:
      - {label: 优秀, at_least: 90}
      - {label: 合格, below: 90}
"""


def test_highest_level_only_for_the_same_achievement_002_235():
    # "同一项工作同时符合加分条件的,取最高分值加分": 省,市 for one work → 3 only;
    # a second work at 县 → +1. Bonuses 4 ≤ cap 4.
    cs = compiled(BONUS_SCHEME)
    r = score_record(cs, {"base": 85, "honour": "省,市(浙交〔2016〕3号); 县", "over": 0,
                          "growth": 0, "income": 3}, explain=True)
    assert r.bonus == D(4) and r.total == D(89)
    text = r.explain()
    assert "市 2 分 不计（同一事项取最高级别省）" in text
    assert "依据：浙交〔2016〕3号" in text


def test_bonus_total_cap_and_cap_as_share_of_item_002_229_550():
    cs = compiled(BONUS_SCHEME)
    # over-fulfilled 3 targets × 2 = 6, capped at 3% of base's 100 points = 3;
    # honour 中央 4 → bonuses 7 → overall cap 4. total 86 + 4 = 90 → 优秀
    r = score_record(cs, {"base": 86, "honour": "中央", "over": 3, "growth": 0, "income": 3},
                     explain=True)
    caps = [s for s in r.steps if s.kind == "cap"]
    assert [c.value for c in caps] == [D(3), D(4)]
    assert r.total == D(90) and r.grade == "优秀"


def test_growth_steps_only_full_steps_and_only_when_condition_holds_002_170():
    cs = compiled(BONUS_SCHEME)
    # growth 27% → 2 full steps of 10 → +1.0; income 6万 ≥ 5万
    r = score_record(cs, {"base": 80, "honour": "", "over": 0, "growth": 27, "income": 6})
    assert r.bonus == D("1.0")
    # same growth, income 4万 < 5万 → no bonus
    r = score_record(cs, {"base": 80, "honour": "", "over": 0, "growth": 27, "income": 4})
    assert r.bonus == 0


def test_unknown_bonus_level_is_a_field_error():
    cs = compiled(BONUS_SCHEME)
    r = score_record(cs, {"base": 80, "honour": "国家级", "over": 0, "growth": 0, "income": 1})
    assert r.errors[0].field == "honour" and r.errors[0].code == "unknown_level"


def test_per_category_caps_and_evidence_004_245():
    # 科室受奖 and 个人受奖 each capped at 5, all bonuses at 25 (004:245-255); a bonus without
    # a document reference is dropped (004:257 "没有书面依据…不得奖励加分").
    cs = compiled("""
        parts:
          - {id: base, title: 基础, points: 100, method: direct}
        bonuses:
          cap: 25
          categories:
            - id: unit
              title: 科室受奖
              cap: 5
              items:
                - {id: unit_award, title: 科室受奖, levels: {国家级: 5, 省级: 3, 市级: 2}}
            - id: press
              title: 对外宣传
              cap: 5
              items:
                - {id: article, title: 发表文章, levels: {国家级: 3, 省级: 2, 市级: 1},
                   evidence: true}
    """)
    r = score_record(cs, {"base": 90, "unit_award_国家级": 1, "unit_award_省级": 1,
                          "unit_award_市级": 0, "article_国家级": 0, "article_省级": 1,
                          "article_市级": 2, "article_evidence": ""}, explain=True)
    # unit: 5 + 3 = 8 → capped 5; articles 2 + 2 = 4 but no evidence → dropped
    assert r.bonus == D(5) and r.total == D(95)
    assert any(s.kind == "dropped" and "缺少书面依据" in s.text for s in r.steps)
    r = score_record(cs, {"base": 90, "unit_award_国家级": 0, "unit_award_省级": 0,
                          "unit_award_市级": 0, "article_国家级": 0, "article_省级": 1,
                          "article_市级": 2, "article_evidence": "市财政局文件〔2017〕5号"})
    assert r.bonus == D(4)


# --------------------------------------------------------------------- §4 deductions

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


# --------------------------------------------------------------------- §5 vetoes and gates

GATE_SCHEME = """
    inputs:
      - {id: safety, label: 安全管理考核, type: label, labels: [合格, 不合格]}
      - {id: case, label: 违纪违法案件, type: bool}
      - {id: veto, label: 一票否决, type: bool}
      - {id: absent_days, label: 旷工天数, type: number, min: 0}
      - {id: sick_days, label: 病事假天数, type: number, min: 0}
    parts:
      - {id: base, title: 年度考核实得分, points: 100, method: direct}
    conditions:
      - {id: absent, title: 当季旷工超过2个工作日, when: absent_days > 2,
         then: {grade: 不合格}}
      - {id: sick, title: 病事假超过40个工作日, when: sick_days > 40, then: {no_grade: true}}
      - {id: veto, title: 一票否决, when: veto, veto: true, then: {at_most: 合格}}
    tiers:
      - label: 优秀
        at_least: 80
        requires: ["safety == '合格'", "not case"]
      - {label: 良好, at_least: 70, below: 80}
      - {label: 合格, at_least: 60, below: 70}
      - {label: 不合格, below: 60}
"""


def gate_record(**kw):
    base = {"safety": "合格", "case": "否", "veto": "否", "absent_days": 0, "sick_days": 0,
            "base": 85}
    base.update(kw)
    return base


def test_gates_on_the_top_tier_002_249():
    cs = compiled(GATE_SCHEME)
    assert score_record(cs, gate_record()).grade == "优秀"
    r = score_record(cs, gate_record(safety="不合格"), explain=True)
    # 85 ≥ 80 reaches 优秀 but the safety gate fails: "优秀等次须同时符合以下条件" takes away
    # 优秀 only, so the unit gets the next tier, 良好, although 85 is above 良好's range.
    assert r.grade == "良好"
    assert any(s.kind == "gate" for s in r.steps)


def test_veto_caps_and_forced_and_no_grade_004_505_507():
    cs = compiled(GATE_SCHEME)
    assert score_record(cs, gate_record(veto="是")).grade == "合格"
    assert score_record(cs, gate_record(absent_days=3)).grade == "不合格"
    r = score_record(cs, gate_record(sick_days=41))
    assert r.grade is None and r.no_grade == "病事假超过40个工作日"
    assert r.grade_text == "不定等次"
    # the first deciding condition wins: absent (grade) is listed before sick (no grade)
    r = score_record(cs, gate_record(absent_days=3, sick_days=41), explain=True)
    assert r.grade == "不合格" and r.decided_by == "absent"
    assert "等次已由前一条件确定" in r.explain()


# --------------------------------------------------------------------- §6 tiers


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


# --------------------------------------------------------------------- §7 quotas and ranking

QUOTA_SCHEME = """
    inputs:
      - {id: kind, label: 类别, type: text}
    groups: [kind]
    parts:
      - {id: a, title: 综合得分, points: 100, method: direct}
    tiers:
      - {label: 先进, at_least: 90}
      - {label: 合格, at_least: 60, below: 90}
      - {label: 不合格, below: 60}
    quotas:
      limits: [{tier: 先进, share: 25%}]
      rounding: half_up
      ties: {rule: all_in}
"""


def test_quota_counts_are_rounded_7_to_2_and_32_to_8_002_568():
    # "先进等次名额按被评估单位数的25%确定…7个乡、镇中评出2个…32个…评出8个"
    # 7 × 25% = 1.75 → 2; 32 × 25% = 8. Only scores ≥ 90 qualify.
    cs = compiled(QUOTA_SCHEME)
    towns = [{"kind": "乡镇", "a": s} for s in (96, 95, 93, 91, 88, 85, 70)]
    depts = [{"kind": "部门", "a": 99 - i * 0.5} for i in range(32)]
    pop = score_population(cs, towns + depts)
    grades = pop.grade_counts()
    assert sum(1 for r in pop.records[:7] if r.grade == "先进") == 2
    assert sum(1 for r in pop.records[7:] if r.grade == "先进") == 8
    assert grades["先进"] == 10
    lines = {q.group: q for q in pop.quotas}
    assert lines[("乡镇",)].places == 2 and lines[("部门",)].places == 8


def test_quota_needs_the_minimum_score_too():
    # only two towns reach 90: 2 places but the third-best (88) stays 合格
    cs = compiled(QUOTA_SCHEME)
    rows = [{"kind": "乡镇", "a": s} for s in (95, 91, 88, 87, 86, 85, 84, 83)]
    pop = score_population(cs, rows)
    assert [r.grade for r in pop.records[:3]] == ["先进", "先进", "合格"]


@pytest.mark.parametrize(("rule", "expected_in"), [("all_in", 3), ("all_out", 1)])
def test_tie_at_the_quota_line_is_decided_by_the_declared_rule(rule, expected_in):
    # 8 units, 25% → 2 places; the 2nd and 3rd are tied at 93.
    cs = compiled(QUOTA_SCHEME.replace("rule: all_in", f"rule: {rule}"))
    rows = [{"kind": "部门", "a": s} for s in (96, 93, 93, 91, 80, 70, 65, 61)]
    pop = score_population(cs, rows, explain=True)
    assert sum(1 for r in pop.records if r.grade == "先进") == expected_in
    assert len(pop.ties) == 1
    tie = pop.ties[0]
    assert tie.rows == [2, 3] and tie.decision == rule
    assert "并列" in pop.records[1].explain()


def test_tie_broken_by_secondary_key_then_rule():
    cs = compiled("""
        parts:
          - {id: a, title: 业绩, points: 60, method: direct}
          - {id: b, title: 测评, points: 40, method: direct}
        tiers:
          - {label: 优秀, at_least: 90}
          - {label: 合格, below: 90}
        quotas:
          limits: [{tier: 优秀, count: 1}]
          rounding: floor
          ties: {rule: keys, keys: [b], then: all_out}
    """)
    # both total 95: b 38 beats b 36 → first keeps 优秀; the tie on the total at the line is
    # still reported (RULES §7), with the rule that decided it and who got the place
    pop = score_population(cs, [{"a": 57, "b": 38}, {"a": 59, "b": 36}, {"a": 50, "b": 30}],
                           explain=True)
    assert [r.grade for r in pop.records] == ["优秀", "合格", "合格"]
    (tie,) = pop.ties
    assert (tie.rows, tie.decision, tie.kept, tie.out) == ([1, 2], "keys", [1], [2])
    assert "测评" in tie.text and "38" in tie.text and "36" in tie.text
    assert pop.records[0].flags == ["“优秀”名额线并列，入选（名额1）"]
    assert pop.records[1].flags == ["“优秀”名额线并列，未入选（名额1）"]
    assert pop.records[2].flags == []
    assert tie.text in pop.records[1].explain()
    # equal on b too → then all_out: nobody gets 优秀, and the tie is reported
    pop = score_population(cs, [{"a": 57, "b": 38}, {"a": 57, "b": 38}])
    assert [r.grade for r in pop.records] == ["合格", "合格"]
    assert pop.ties[0].decision == "all_out"


def test_several_quotas_cascade_004_501():
    # 优秀 ≤25%, 良好 ≤30% (floor); 10 people: 2 优秀, 3 良好. Over-quota 优秀 fall to 良好
    # and compete there by score.
    cs = compiled("""
        parts:
          - {id: a, title: 得分, points: 100, method: direct}
        tiers:
          - {label: 优秀, at_least: 90}
          - {label: 良好, at_least: 75, below: 90}
          - {label: 称职, at_least: 60, below: 75}
          - {label: 不称职, below: 60}
        quotas:
          limits: [{tier: 优秀, share: 25%}, {tier: 良好, share: 30%}]
          rounding: floor
          ties: {rule: all_out}
    """)
    scores = [98, 96, 94, 92, 89, 88, 80, 70, 65, 50]
    pop = score_population(cs, [{"a": s} for s in scores])
    assert [r.grade for r in pop.records] == [
        "优秀", "优秀", "良好", "良好", "良好", "称职", "称职", "称职", "称职", "不称职"]


def test_bad_record_withholds_its_groups_quota():
    cs = compiled(QUOTA_SCHEME)
    rows = [{"kind": "乡镇", "a": 95}, {"kind": "乡镇", "a": "九十"}] + \
        [{"kind": "部门", "a": s} for s in (95, 92, 80, 70)]
    pop = score_population(cs, rows)
    assert pop.records[0].grade is None and "第 2 行" in pop.records[0].withheld
    assert not pop.records[1].ok
    # the other group is unaffected: 4 × 25% = 1 place, taken by the 95
    assert [r.grade for r in pop.records[2:]] == ["先进", "合格", "合格", "合格"]


def test_rank_rules_bottom_share_and_last_place_under_75_004_303_002_133():
    cs = compiled("""
        parts:
          - {id: a, title: 积分, points: 100, method: direct}
        rank_rules:
          - {id: bottom, title: 积分排名后20%, bottom: 20%, flag: 不得推荐评优}
          - {id: last, title: 末位且未满75分, bottom: 1, when: total < 75, flag: 通报批评}
    """)
    pop = score_population(cs, [{"a": s} for s in (95, 90, 85, 80, 78, 76, 74, 72, 70, 60)])
    flags = [r.flags for r in pop.records]
    # 10 × 20% = 2 → the two lowest; the last (60 < 75) is also fined
    assert flags[-2] == ["不得推荐评优"]
    assert flags[-1] == ["不得推荐评优", "通报批评"]
    assert all(f == [] for f in flags[:-2])
    assert [r.rank for r in pop.records] == list(range(1, 11))


def test_totals_are_invariant_to_record_order():
    cs = compiled(QUOTA_SCHEME)
    rows = [{"kind": k, "a": s} for k, s in [("乡镇", 96), ("部门", 91), ("乡镇", 93),
                                              ("部门", 97), ("乡镇", 90), ("部门", 92)]]
    forward = score_population(cs, rows)
    backward = score_population(cs, list(reversed(rows)))
    assert [(r.total, r.grade) for r in forward.records] == \
        [(r.total, r.grade) for r in reversed(backward.records)]


# --------------------------------------------------------------------- §9 payouts

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


# --------------------------------------------------------------------- §8 and input edges


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


@pytest.mark.parametrize(("ties", "flagged"), [("all_in", 6), ("all_out", 4)])
def test_rank_rule_tie_at_the_cut_off_is_declared_and_reported_002_186(ties, flagged):
    # "考核总分前5名的村" — the 5th and 6th are tied at 90
    cs = compiled(f"""
        parts:
          - {{id: a, title: 总分, points: 100, method: direct}}
        rank_rules:
          - {{id: top5, title: 前5名, top: 5, flag: 表彰, ties: {ties}}}
    """)
    pop = score_population(cs, [{"a": s} for s in (99, 98, 95, 93, 90, 90, 80)])
    assert sum("表彰" in r.flags for r in pop.records) == flagged
    (tie,) = pop.ties
    assert tie.rows == [5, 6] and tie.decision == ties and tie.tier == "top5"


def test_rank_rule_eligible_makes_room_for_the_next():
    # a vetoed unit is not ranked for the reward, so the 4th moves into the top 3
    cs = compiled("""
        inputs:
          - {id: veto, label: 一票否决, type: bool}
        parts:
          - {id: a, title: 总分, points: 100, method: direct}
        rank_rules:
          - {id: top3, title: 前3名, top: 3, flag: 表彰, eligible: not veto}
    """)
    rows = [{"a": 99, "veto": "是"}, {"a": 98, "veto": "否"}, {"a": 95, "veto": "否"},
            {"a": 93, "veto": "否"}, {"a": 80, "veto": "否"}]
    pop = score_population(cs, rows, explain=True)
    assert [bool(r.flags) for r in pop.records] == [False, True, True, True, False]
    assert "不参加此项排名" in pop.records[0].explain()


def test_growth_and_decline_read_one_signed_column_002_170_178():
    cs = compiled("""
        parts:
          - {id: a, title: 基础, points: 100, method: direct}
        bonuses:
          items:
            - {id: growth, title: 集体经济增长, input: growth, growth: {step: 10, per_step: 0.5}}
        deductions:
          items:
            - {id: decline, title: 集体经济减少, input: growth, reads: growth,
               growth: {step: 10, per_step: 0.5, decline: true}}
    """)
    assert [s.id for s in cs.inputs] == ["a", "growth"]  # one column for both
    up = score_record(cs, {"a": 80, "growth": 25})
    down = score_record(cs, {"a": 80, "growth": "-23"})
    assert (up.bonus, up.deduction, up.total) == (D(1), D(0), D(81))
    assert (down.bonus, down.deduction, down.total) == (D(0), D(1), D(79))


def test_escalation_columns_say_what_they_hold():
    cs = compiled(DEDUCTION_SCHEME)
    labels = {s.id: s.label for s in cs.inputs}
    assert labels["visit_县"] == "明察暗访·县·已整改(次)"
    assert labels["visit_县_unrectified"] == "明察暗访·县·整改不到位(次)"


def test_explanation_shows_long_quotients_rounded_for_reading():
    cs = compiled("""
        parts:
          - id: social
            title: 社会评议
            points: 100
            method: rating
            votes: true
            values: {满意: 100%, 基本满意: 80%, 不满意: 60%}
    """)
    r = score_record(cs, {"social_满意": 30, "social_基本满意": 8, "social_不满意": 1},
                     explain=True)
    # 30 + 6.4 + 0.6 = 37 of 39 votes = 94.8717…%
    assert r.total == D("94.87")
    assert "94.8718…" in r.explain()


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


def test_zero_denominator_is_an_error_unless_declared_full():
    body = """
        parts:
          - {id: rate, title: 及时解决率, points: 100, method: rate, numerator: 及时数,
             denominator: 应解决数ZERO}
    """
    r = score_record(compiled(body.replace("ZERO", "")), {"rate_num": 0, "rate_den": 0})
    assert r.errors[0].code == "zero_denominator"
    r = score_record(compiled(body.replace("ZERO", ", zero_denominator: full")),
                     {"rate_num": 0, "rate_den": 0})
    assert r.total == D(100)


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
