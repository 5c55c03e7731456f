"""county-dept-2016: 正定县 承担日常工作的县政府工作部门和单位, seed 002:494-590.

Expected numbers are worked out by hand in the comments from the seed wording:
指标评估 60 (完成比例折算, 中期/年终 各50%), 公众评估 30 (四个季度各25%), 领导评估 10
(中期/年终 各50%) (002:530-536); 加分、减分各累计不超过4分 (002:550-552); 先进 ≥ 90 (含)
within 25% of the units, rounded (7 → 2, 32 → 8) (002:568); 合格 ≥ 60 (002:572).
"""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest

from xlbridge.engine import compile_scheme, score_population, score_record
from xlbridge.scheme import load_scheme_file

REPO = Path(__file__).resolve().parents[2]
SCHEME = REPO / "workbooks" / "schemes" / "county-dept-2016.yaml"
RECORDS = REPO / "workbooks" / "schemes" / "county-dept-2016.records.csv"


@pytest.fixture(scope="module")
def cs():
    return compile_scheme(load_scheme_file(SCHEME))


def dept(name="统计局", mid=(50, 50), end=(100, 100), public=(80, 80, 80, 80),
         leaders=(6, 6), payroll=50000, **extra):
    """A record; defaults: 指标 full (60) + 公众 80 (24) + 领导 6 = 90."""
    record = {"unit_name": name, "payroll": payroll,
              "indicator_mid_actual": mid[0], "indicator_mid_target": mid[1],
              "indicator_end_actual": end[0], "indicator_end_target": end[1],
              "leaders_mid": leaders[0], "leaders_end": leaders[1]}
    record.update({f"public_q{i}": q for i, q in enumerate(public, start=1)})
    record.update(extra)
    return record


def test_scheme_validates_without_warnings(cs):
    assert cs.report.issues == []


def test_three_parts_with_periods_002_530_536(cs):
    # 指标评估: 中期 完成 45/50 = 90% × 60 × 50% = 27; 年终 110/100 ≥ 标准值 → 满分 60 × 50% = 30
    #   → 57
    # 公众评估: (88 + 90 + 92 + 94) × 25% = 91 (百分制) × 30/100 = 27.3
    # 领导评估: 9.0 × 50% + 9.4 × 50% = 9.2
    # 综合得分 57 + 27.3 + 9.2 = 93.5 → 先进 (≥90; on its own, no quota)
    r = score_record(cs, dept(mid=(45, 50), end=(110, 100), public=(88, 90, 92, 94),
                              leaders=("9.0", "9.4")), explain=True)
    assert (r.subtotal, r.total, r.grade) == (D("93.5"), D("93.5"), "先进")
    text = r.explain()
    assert "指标评估·中期评估：实际 45 ÷ 目标 50 = 90% → 54" in text
    assert "指标评估·年终评估：实际 110 ÷ 目标 100 = 110%，达到或超过目标计满分 → 60" in text


def test_bonuses_count_each_commendation_and_stop_at_4_002_550(cs):
    # 省委省政府 3 + 省级部门 2 = 5 → "累计加分不超过4分" → 4; base 90 → 94
    awards = {"party_award_省委省政府": 1, "party_award_evidence": "冀政〔2016〕45号",
              "dept_award_省级部门": 1, "dept_award_evidence": "冀教〔2016〕88号"}
    r = score_record(cs, dept(**awards), explain=True)
    assert (r.bonus, r.total) == (D(4), D(94))
    assert "加分合计 5，累计不超过 4" in r.explain()
    # no "同一工作取最高" here: 市级部门 1 + 省级部门 2 = 3, both count; base 90 → 93
    r = score_record(cs, dept(**{"dept_award_市级部门": 1, "dept_award_省级部门": 1,
                                 "dept_award_evidence": "石〔2016〕3号; 冀〔2016〕9号"}))
    assert (r.bonus, r.total) == (D(3), D(93))
    # 县委县政府研究决定 0.5 分 with its document; 市委市政府 2 → 2.5; 90 → 92.5
    r = score_record(cs, dept(county_award="0.5", county_award_evidence="正政字〔2016〕33号",
                              **{"party_award_市委市政府": 1,
                                 "party_award_evidence": "石市委〔2016〕21号"}))
    assert (r.bonus, r.total) == (D("2.5"), D("92.5"))


def test_bonus_without_document_is_dropped_002_550(cs):
    # "加分项目以正式文件、证书等为依据": 市级部门 1 with no 书面依据 → 0; total stays 90
    r = score_record(cs, dept(**{"dept_award_市级部门": 1}), explain=True)
    assert (r.bonus, r.total) == (D(0), D(90))
    assert "上级部门表彰：1 分 不计（缺少书面依据）" in r.explain()


def test_deductions_by_level_and_capped_at_4_002_552(cs):
    # 通报批评 省 2, 市 1, 县 0.5 (the seed lists 省、市、县 → 2、1、0.5)
    # 省1 + 县1 = 2.5; 行政问责 1 × 0.5 → 3; base 90 → 87
    r = score_record(cs, dept(**{"notice_省级": 1, "notice_县级": 1}, accountability=1))
    assert (r.deduction, r.total) == (D(3), D(87))
    # 省1 (2) + 市1 (1) + 投诉查实 2 × 0.5 (1) + 党政纪处分 1 × 1 (1) = 5 → 4; 90 → 86
    r = score_record(cs, dept(**{"notice_省级": 1, "notice_市级": 1}, complaint=2, sanction=1),
                     explain=True)
    assert (r.deduction, r.total) == (D(4), D(86))
    assert "减分合计 5，累计不超过 4" in r.explain()


@pytest.mark.parametrize(("public", "leaders", "total", "grade"), [
    ((80, 80, 80, 80), (6, 6), D(90), "先进"),            # 60 + 24 + 6 = 90 (含90分)
    ((80, 80, 80, 80), ("5.98", 6), D("89.99"), "合格"),  # 60 + 24 + 5.99
    # 公众 (79.8 + 80 × 3) / 4 = 79.95 × 30% = 23.985; 领导 6.01 → 89.995 → 四舍五入 90.00
    (("79.8", 80, 80, 80), (6, "6.02"), D("90.00"), "先进"),
])
def test_advanced_needs_90_on_the_rounded_total_002_568(cs, public, leaders, total, grade):
    r = score_record(cs, dept(public=public, leaders=leaders))
    assert (r.total, r.grade) == (total, grade)


@pytest.mark.parametrize(("leaders", "total", "grade"), [
    ((6, 6), D(60), "合格"),             # 30 + 24 + 6 = 60 → "60分(含60分)以上的为合格"
    (("5.98", 6), D("59.99"), "不合格"),  # 60分以下
])
def test_qualified_from_60_included_002_572_574(cs, leaders, total, grade):
    # 指标: 中期 25/50 = 50% × 60 × 50% = 15; 年终 50/100 → 15 → 30
    r = score_record(cs, dept(mid=(25, 50), end=(50, 100), leaders=leaders))
    assert (r.total, r.grade) == (total, grade)


def test_judged_unqualified_is_a_forced_grade_002_574(cs):
    # 综合得分 90 + 市委市政府 2 = 92 but "认定为不合格" → 不合格 whatever the score
    r = score_record(cs, dept(judged_unqualified="是", **{"party_award_市委市政府": 1,
                                                        "party_award_evidence": "x"}))
    assert (r.total, r.grade, r.decided_by) == (D(92), "不合格", "judged_unqualified")


@pytest.mark.parametrize("fact", ["major_accident", "order_veto", "corruption"])
def test_three_situations_cancel_advanced_eligibility_002_570(cs, fact):
    # 90 → 先进 by score; 取消评先资格 → at most 合格; the score stands
    r = score_record(cs, dept(**{fact: "是"}))
    assert (r.total, r.grade, r.conditions) == (D(90), "合格", [fact])


def test_advanced_receives_one_month_of_payroll_002_582(cs):
    # 先进: 1 × 在编人员月工资总额 61200 = 61200 元; 合格: 0
    assert score_record(cs, dept(payroll=61200)).payout == D("61200.00")
    assert score_record(cs, dept(payroll=61200, leaders=(5, 5))).payout == D("0.00")


def _pop(cs, totals_and_facts):
    """Units whose totals are set through 领导评估 on top of 指标 60 + 公众 24 = 84."""
    records = []
    for i, (leaders, extra) in enumerate(totals_and_facts):
        records.append(dept(name=f"单位{i + 1}", leaders=(leaders, leaders), **extra))
    return score_population(cs, records)


def test_quota_of_seven_units_is_two_002_568(cs):
    # 7 × 25% = 1.75 → 四舍五入 2 ("7个乡、镇中评出2个"). Totals 84 + 领导 10, 9, 8, 7, 6, 0, 0
    # = 94, 93, 92, 91, 90, 84, 84: five reach 90, the two best are 先进, the rest 合格.
    pop = _pop(cs, [(10, {}), (9, {}), (8, {}), (7, {}), (6, {}), (0, {}), (0, {})])
    assert [r.total for r in pop.records] == [D(94), D(93), D(92), D(91), D(90), D(84), D(84)]
    assert [r.grade for r in pop.records] == ["先进", "先进"] + ["合格"] * 5
    assert [(q.places, q.candidates, q.kept) for q in pop.quotas] == [(2, 5, 2)]


def test_cancelled_unit_takes_no_place_in_the_quota_002_568_570(cs):
    # 7 units, 2 places. The best (94) has a 特大生产安全事故 → 合格, not a candidate;
    # the places go to 93 and 92 (从高到低).
    pop = _pop(cs, [(10, {"major_accident": "是"}), (9, {}), (8, {}), (7, {}), (6, {}),
                    (5, {}), (4, {})])
    assert [r.grade for r in pop.records] == ["合格", "先进", "先进", "合格", "合格", "合格",
                                              "合格"]


def test_tie_at_the_quota_line_decided_by_indicator_then_all_out(cs):
    # 7 units, 2 places; units 2 and 3 both total 92.4:
    #   unit 2: 指标 中期 45/50 → 27 + 年终 30 = 57; 公众 91 → 27.3; 领导 8.1 → 92.4
    #   unit 3: 指标 60; 公众 80 → 24; 领导 8.4 → 92.4
    # the declared key 指标评估 decides: unit 3 (60 > 57) keeps 先进.
    others = [dept(name=f"单位{i}", leaders=(0, 0)) for i in range(4, 8)]   # 84 each
    first = dept(name="单位1", leaders=(10, 10))                            # 94
    unit2 = dept(name="单位2", mid=(45, 50), public=(91, 91, 91, 91), leaders=("8.1", "8.1"))
    unit3 = dept(name="单位3", leaders=("8.4", "8.4"))
    pop = score_population(cs, [first, unit2, unit3, *others])
    assert [r.total for r in pop.records[:3]] == [D(94), D("92.4"), D("92.4")]
    assert [r.grade for r in pop.records[:3]] == ["先进", "合格", "先进"]
    # the tie on the total is reported all the same, with the keys that decided it
    assert [(t.rows, t.decision, t.kept, t.out) for t in pop.ties] == [([2, 3], "keys", [3], [2])]
    assert "指标评估" in pop.ties[0].text and "57" in pop.ties[0].text
    assert pop.records[1].flags == ["“先进”名额线并列，未入选（名额2）"]
    # same 指标 and 公众 too: a full tie, nobody tied takes the place, and it is reported
    unit2 = dept(name="单位2", leaders=("8.4", "8.4"))
    pop = score_population(cs, [first, unit2, unit3, *others])
    assert [r.grade for r in pop.records[:3]] == ["先进", "合格", "合格"]
    assert [(t.rows, t.decision, t.places) for t in pop.ties] == [([2, 3], "all_out", 2)]


def test_bottom_three_under_60_are_reported_002_584(cs):
    # 7 units: four at 84 + 领导 9 = 93; three with 指标 30 (中期 25/50, 年终 50/100) + 公众 24:
    # 30 + 24 + 5 = 59 (<60, flagged), 30 + 24 + 4 = 58 (flagged),
    # 30 + 24 + 6 = 60 (third from the bottom but "60分(不含60分)以下" fails → not flagged)
    low = {"mid": (25, 50), "end": (50, 100)}
    records = [dept(name=f"单位{i}", leaders=(9, 9)) for i in range(1, 5)]
    records += [dept(name="甲", leaders=(5, 5), **low), dept(name="乙", leaders=(4, 4), **low),
                dept(name="丙", leaders=(6, 6), **low)]
    pop = score_population(cs, records)
    flagged = {r.values["unit_name"]: r.flags for r in pop.records[4:]}
    assert flagged == {"甲": ["按干部管理权限抄送有关部门"], "乙": ["按干部管理权限抄送有关部门"],
                       "丙": []}
    assert [r.total for r in pop.records[4:]] == [D(59), D(58), D(60)]


def test_example_records_score_as_published():
    cs = compile_scheme(load_scheme_file(SCHEME))
    with RECORDS.open(encoding="utf-8-sig", newline="") as f:
        by_label = {s.label: s.id for s in cs.inputs}
        rows = [{by_label[k]: v for k, v in row.items()} for row in csv.DictReader(f)]
    pop = score_population(cs, rows, first_row=2)
    summary = pop.summary()
    assert (summary["records"], summary["invalid"], summary["withheld"]) == (32, 0, 0)
    # 32 × 25% = 8 places; 11 candidates ≥ 90 (农开办 and 矿管办 lost eligibility);
    # 7 above the line, 人社局 and 卫生局 tied at 92.4 on the 8th place → all out
    assert summary["grades"] == {"先进": 7, "合格": 22, "不合格": 3}
    assert [(q.places, q.candidates, q.kept) for q in pop.quotas] == [(8, 11, 7)]
    assert [(t.rows, t.total) for t in pop.ties] == [([17, 24], D("92.4"))]
    # one month of payroll for each 先进: 302400 + 216000 + 189600 + 456000 + 61200 + 54000
    # + 45600 = 1324800
    assert summary["payout_total"] == "1324800"
    flagged = {r.values["unit_name"]: r.flags for r in pop.records if r.flags}
    assert flagged == {
        "就业局": ["按干部管理权限抄送有关部门"], "市场办": ["按干部管理权限抄送有关部门"],
        # 标记 says why a unit lost 先进 to the quota: its place and the limit, or the tie
        "招商局": ["超出“先进”名额（第10名，名额8）"],
        "农牧局": ["超出“先进”名额（第11名，名额8）"],
        "人社局": ["“先进”名额线并列，未入选（名额8）"],
        "卫生局": ["“先进”名额线并列，未入选（名额8）"]}
    by_name = {r.values["unit_name"]: r for r in pop.records}
    assert (by_name["供销总社"].total, by_name["供销总社"].grade) == (D("73.20"), "不合格")
