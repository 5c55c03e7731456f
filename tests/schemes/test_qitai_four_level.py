"""qitai-four-level: 奇台县 "四级" 绩效考核 (对单位), seed 002:626-692.

Expected numbers are worked out by hand in the comments from the seed wording:
绩效考核得分 = 重点考核得分×90% + 公众评议得分×10% −（查访核验扣分 + 投诉查处扣分）(002:650);
重点考核 = 半年初评 30 + 年终总评 60 of the total (002:656, read as shares of the total),
each period scored on the 四级 indicators 综合性 20 + 岗位目标 40 + 作风效能 30 (002:644);
公众评议 = 满意率 × 10; each 倒扣分 ≤ 2 (002:654, 660); 优秀 ≥ 90 (含), 良好 80–90,
合格 70–80, 不合格 < 70 (不含70) (002:674); 一票否决 → at most 合格 (002:690);
满意率 < 60% → flag on the head (002:688); 优秀 1 month / 良好 half a month of 基础工资 (002:684).
"""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest

from xlbridge.engine import compile_scheme, score_population, score_record
from xlbridge.scheme import load_scheme_file

REPO = Path(__file__).resolve().parents[2]
SCHEME = REPO / "workbooks" / "schemes" / "qitai-four-level.yaml"
RECORDS = REPO / "workbooks" / "schemes" / "qitai-four-level.records.csv"

LOW_SATISFACTION = "取消各级主要负责人年度评优资格，责令整改"
HEAD_UNQUALIFIED = "取消单位主要领导年度评优评先资格"


@pytest.fixture(scope="module")
def cs():
    return compile_scheme(load_scheme_file(SCHEME))


def unit(mid=(18, 36, 27), end=(19, 38, "28.5"), votes=(96, 120), base=50000, **extra):
    """A record. Defaults, by hand:
    半年初评 18 + 36 + 27 = 81 of 90 → × 30/90 = 27
    年终总评 19 + 38 + 28.5 = 85.5 of 90 → × 60/90 = 57
    公众评议 96 ÷ 120 = 80% → × 10 = 8
    total 27 + 57 + 8 = 92 → 优秀
    """
    record = {"unit_name": "县统计局", "base_salary": base,
              "mid_general": mid[0], "mid_post": mid[1], "mid_style": mid[2],
              "end_general": end[0], "end_post": end[1], "end_style": end[2],
              "public_num": votes[0], "public_den": votes[1]}
    record.update(extra)
    return record


def test_scheme_validates_without_warnings(cs):
    assert cs.report.issues == []


def test_formula_periods_and_public_002_650_656(cs):
    # See unit(): 27 + 57 + 8 = 92 → 优秀; award 1 month × 50000 = 50000
    r = score_record(cs, unit(), explain=True)
    assert (r.subtotal, r.deduction, r.total) == (D(92), D(0), D(92))
    assert r.grade == "优秀"
    assert r.payout == D(50000)
    parts = {s.path: s.value for s in r.steps if s.kind == "part"}
    assert (parts["mid_general"], parts["mid_post"], parts["mid_style"]) == (18, 36, 27)
    assert (parts["midyear"], parts["yearend"], parts["focus"]) == (27, 57, 84)
    assert parts["public"] == 8


def test_year_end_weighs_twice_the_half_year_002_656(cs):
    # 30% + 60% of the total: 半年初评 is 1/3 and 年终总评 2/3 of the 90-point part.
    # votes 120/120 → 公众评议 10.
    # A: 半年初评 60/90 → 20; 年终总评 90/90 → 60; total 20 + 60 + 10 = 90 → 优秀
    # B: 半年初评 90/90 → 30; 年终总评 60/90 → 40; total 30 + 40 + 10 = 80 → 良好
    a = score_record(cs, unit(mid=(14, 26, 20), end=(20, 40, 30), votes=(120, 120)))
    b = score_record(cs, unit(mid=(20, 40, 30), end=(14, 26, 20), votes=(120, 120)))
    assert (a.total, a.grade) == (D(90), "优秀")
    assert (b.total, b.grade) == (D(80), "良好")


def test_each_deduction_category_capped_at_2_002_654_660(cs):
    # 查访核验 3.5 → 倒扣分不超过2分 → 2; 投诉查处 1.5 (under its cap)
    # 92 − (2 + 1.5) = 88.5 → 良好; award half a month: 0.5 × 50000 = 25000
    r = score_record(cs, unit(inspection="3.5", complaint="1.5"), explain=True)
    assert (r.deduction, r.total, r.grade, r.payout) == (D("3.5"), D("88.5"), "良好",
                                                         D(25000))
    assert any(s.kind == "cap" and s.path == "inspection" and s.value == 2 for s in r.steps)
    # both over their caps: 5 → 2 and 2.5 → 2; 92 − 4 = 88
    r = score_record(cs, unit(inspection=5, complaint="2.5"))
    assert (r.deduction, r.total) == (D(4), D(88))


@pytest.mark.parametrize(("inspection", "complaint", "end", "votes", "total", "grade"), [
    # 92 − 2 = 90: "达到总分90%(含90)以上" → 优秀
    (2, 0, (19, 38, "28.5"), (96, 120), "90", "优秀"),
    # 92 − 2 − 0.01 = 89.99: between the seed's "80—89%" and 90 → read as 良好
    (2, "0.01", (19, 38, "28.5"), (96, 120), "89.99", "良好"),
    # 年终总评 15 + 30 + 22.5 = 67.5 → 45; 27 + 45 + 8 = 80 → 良好 (80 含)
    (0, 0, (15, 30, "22.5"), (96, 120), "80", "良好"),
    # 80 − 0.01 = 79.99: between "70—79%" and 80 → read as 合格
    (0, "0.01", (15, 30, "22.5"), (96, 120), "79.99", "合格"),
    # 年终总评 15 + 30 + 22.5 = 67.5 → 45; votes 0/120 → 0; 27 + 45 + 0 − 2 = 70 → 合格
    (2, 0, (15, 30, "22.5"), (0, 120), "70", "合格"),
    # 70 − 0.01 = 69.99: "70%(不含70)以下" → 不合格
    (2, "0.01", (15, 30, "22.5"), (0, 120), "69.99", "不合格"),
])
def test_tier_bounds_002_674(cs, inspection, complaint, end, votes, total, grade):
    r = score_record(cs, unit(end=end, votes=votes, inspection=inspection,
                              complaint=complaint))
    assert (r.total, r.grade) == (D(total), grade)


@pytest.mark.parametrize("veto", ["family_planning", "public_order", "safety_accident",
                                  "project_accident"])
def test_veto_caps_the_grade_at_qualified_002_690(cs, veto):
    # 92 points would be 优秀 (1 month = 50000); 一票否决 → at most 合格 → 0
    r = score_record(cs, unit(**{veto: "是"}), explain=True)
    assert (r.total, r.tier, r.grade, r.payout) == (D(92), "合格", "合格", D(0))
    assert r.conditions == [veto]
    assert "一票否决" in r.explain()


def test_veto_never_raises_a_lower_grade_002_690(cs):
    # 70 − 0.01 = 69.99 → 不合格 stays 不合格 ("at most 合格" is a ceiling)
    r = score_record(cs, unit(end=(15, 30, "22.5"), votes=(0, 120), inspection=2,
                              complaint="0.01", safety_accident="是"))
    assert (r.total, r.grade) == (D("69.99"), "不合格")


def test_satisfaction_below_60_percent_flags_the_head_002_688(cs):
    # 71 ÷ 120 = 59.1666…% < 60% → flag; 公众评议 71/120 × 10 = 5.91666…
    # 27 + 57 + 5.91666… = 89.91666… → 89.92 → 良好 (the grade is not touched by the flag)
    r = score_record(cs, unit(votes=(71, 120)))
    assert (r.total, r.grade) == (D("89.92"), "良好")
    assert r.flags == [LOW_SATISFACTION]
    # 72 ÷ 120 = 60% exactly: "达不到60%" does not hold → no flag; 27 + 57 + 6 = 90 → 优秀
    r = score_record(cs, unit(votes=(72, 120)))
    assert (r.total, r.grade, r.flags) == (D(90), "优秀", [])


def test_unqualified_unit_flags_its_head_002_684(cs):
    # 69.99 → 不合格 → 取消主要领导年度评优评先资格; no award
    r = score_record(cs, unit(end=(15, 30, "22.5"), votes=(0, 120), inspection=2,
                              complaint="0.01"))
    assert r.grade == "不合格"
    assert LOW_SATISFACTION in r.flags and HEAD_UNQUALIFIED in r.flags
    assert r.payout == D(0)


def test_payout_months_of_base_salary_002_684(cs):
    # 优秀: 92 → "给予1个月基础工资绩效奖" → 1 × 86420 = 86420
    r = score_record(cs, unit(base=86420))
    assert (r.grade, r.payout) == ("优秀", D(86420))
    # 良好: 92 − 查访核验 2 − 投诉查处 0.5 = 89.5 → "半个月基础工资" → 0.5 × 86420 = 43210
    r = score_record(cs, unit(base=86420, inspection=2, complaint="0.5"))
    assert (r.total, r.grade, r.payout) == (D("89.5"), "良好", D(43210))


def test_qualified_gets_no_award_002_684(cs):
    # 80 − 0.01 = 79.99 → 合格 → "不予奖励"
    r = score_record(cs, unit(end=(15, 30, "22.5"), complaint="0.01", base=86420))
    assert (r.grade, r.payout) == ("合格", D(0))


# Part factors (30/90, 60/90) and vote ratios are 28-digit Decimal quotients; a sum that is
# exactly on a half (x.xx5) must still round up (the engine's guard rounding, arith.py).


def test_exact_half_rounds_up_after_thirds_and_vote_ratio(cs):
    # 半年初评 19.5 + 28.5 + 24.5 = 72.5 → × 30/90 = 24 1/6
    # 年终总评 16 + 39 + 23 = 78 → × 60/90 = 52
    # 公众评议 209 ÷ 240 × 10 = 8 17/24
    # 24 1/6 + 8 17/24 = 32 21/24 = 32.875; + 52 = 84.875; 查访核验 3 → 2; 82.875
    # 四舍五入 to two places (rounding.total) → 82.88
    r = score_record(cs, unit(mid=("19.5", "28.5", "24.5"), end=(16, 39, 23),
                              votes=(209, 240), inspection=3))
    assert r.total == D("82.88")


def test_exact_half_at_the_top_tier_bound(cs):
    # 半年初评 19 + 36 + 22 = 77 → × 30/90 = 25 2/3
    # 年终总评 20 + 38 + 29 = 87 → × 60/90 = 58
    # 公众评议 31 ÷ 48 × 10 = 6 11/24
    # 25 2/3 + 6 11/24 = 32 3/24 = 32.125; + 58 = 90.125; − 查访核验 0.13 = 89.995
    # 四舍五入 → 90.00 → 优秀 (含90) → 1 month × 50000 = 50000
    # (the engine gives 89.99 → 良好 → 25000)
    r = score_record(cs, unit(mid=(19, 36, 22), end=(20, 38, 29), votes=(31, 48),
                              inspection="0.13"))
    assert (r.total, r.grade, r.payout) == (D(90), "优秀", D(50000))


def read_rows(cs):
    by_label = {s.label: s.id for s in cs.inputs}
    with RECORDS.open(encoding="utf-8-sig", newline="") as f:
        return [{by_label[k]: v for k, v in row.items()} for row in csv.DictReader(f)]


def test_example_records(cs):
    rows = read_rows(cs)
    pop = score_population(cs, rows, first_row=2)
    summary = pop.summary()
    assert summary["records"] == 23
    assert summary["invalid"] == 0
    assert pop.grade_counts() == {"优秀": 5, "良好": 11, "合格": 6, "不合格": 1}
    by_name = {r.values["unit_name"]: r for r in pop.records}
    # 县卫生局: 半年初评 80 → 26 2/3; 年终总评 84 → 56; 100/120 → 8 1/3; − 投诉 1
    # = 26 2/3 + 56 + 8 1/3 − 1 = 90 → 优秀 (含90); 1 × 97650
    r = by_name["县卫生局"]
    assert (r.total, r.grade, r.payout) == (D(90), "优秀", D(97650))
    # 县水利局: 80 → 26 2/3; 82.5 → 55; 96/121 × 10 = 7.933884…; 查访核验 3 → 2
    # = 87.600550… → 87.6 → 良好; 0.5 × 57320 = 28660
    r = by_name["县水利局"]
    assert (r.total, r.grade, r.payout) == (D("87.6"), "良好", D(28660))
    # 县住房和城乡建设局: 85 → 28 1/3; 87.5 → 58 1/3; 111/120 → 9.25; = 95.9166… → 95.92,
    # 优秀 by score but 工程质量安全责任事故 一票否决 → 合格, no award
    r = by_name["县住房和城乡建设局"]
    assert (r.total, r.tier, r.payout, r.conditions) == (D("95.92"), "合格", D(0),
                                                         ["project_accident"])
    # 县经贸委: 64 → 21 1/3; 68 → 45 1/3; 60/118 × 10 = 5.0847…; 查访 2 + 投诉 1.5
    # = 71.7514… − 3.5 = 68.2514… → 68.25 → 不合格, both flags (满意率 50.8%)
    r = by_name["县经贸委"]
    assert (r.total, r.grade) == (D("68.25"), "不合格")
    assert r.flags == [LOW_SATISFACTION, HEAD_UNQUALIFIED]
    # 吉布库镇: 72/120 = 60% exactly → no satisfaction flag (vetoed, 合格)
    assert by_name["吉布库镇"].flags == []
    assert sum(1 for r in pop.records if LOW_SATISFACTION in r.flags) == 5
    assert pop.payout_total() == D(679375)
