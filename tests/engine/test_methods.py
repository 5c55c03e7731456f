"""Worked examples for RULES §2, scoring a single part: ratio, rate, rating, grade, rank and
deduction methods.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from decimal import Decimal as D

from tests.conftest import compiled
from xlbridge.engine import score_population, score_record


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
