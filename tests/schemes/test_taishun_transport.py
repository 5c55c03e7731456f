"""taishun-transport: 泰顺县交通局直属单位工作目标管理考核办法, seed 002:196-249.

Expected numbers are worked out by hand in the comments, from the seed wording and the layout
the scheme chose (it says so in its comments): five 重要工作目标 of 30/25/20/20/5 points on a
100 scale, counted 80% for 一类 units (with 共性工作目标 百分制 × 20%) and 100% for 二类 units.
年度考核总得分 = 实得分 + 加分 − 差分, rounded to one decimal (002:241-243).
"""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest

from xlbridge.engine import compile_scheme, score_population, score_record
from xlbridge.scheme import load_scheme_file

REPO = Path(__file__).resolve().parents[2]
SCHEME = REPO / "workbooks" / "schemes" / "taishun-transport.yaml"
RECORDS = REPO / "workbooks" / "schemes" / "taishun-transport.records.csv"


@pytest.fixture(scope="module")
def cs():
    return compile_scheme(load_scheme_file(SCHEME))


def unit(category="二类", losses=(0, 0, 0, 0, 0), **values):
    record = {"unit_name": "县康庄办", "year": "2016年度", "category": category,
              "safety": "合格"}
    record.update({f"t{i}_loss": loss for i, loss in enumerate(losses, start=1)})
    record.update(values)
    return record


def test_scheme_validates_without_warnings(cs):
    assert cs.report.issues == []


def test_class_one_important_80_percent_plus_common_20_percent_002_207(cs):
    # 2013 县公路管理段 (example row 2):
    # 重要工作目标 扣分 3 + 2 + 1.5 + 2 + 0.5 = 9 → 100 − 9 = 91 × 80% = 72.8
    # 共性工作目标 88 × 20% = 17.6; 实得分 90.4
    # 加分: 目标一超额1项 +2; 争先创优 市局县委县政府 +1 → 3; total 93.4 → 优秀 (≥80)
    r = score_record(cs, unit("一类", (3, 2, "1.5", 2, "0.5"), common=88, over_t1=1,
                              honours="市局县委县政府(泰委〔2013〕61号)"))
    assert (r.subtotal, r.bonus, r.deduction) == (D("90.4"), D(3), D(0))
    assert (r.total, r.grade) == (D("93.4"), "优秀")


def test_class_two_has_no_common_part_and_counts_important_in_full_002_207(cs):
    # 二类: no 共性工作目标; 重要工作目标 扣分 6 + 4 + 3 + 3 + 1 = 17 → 83, counted 100%
    # (80% × 100/80). 加分: 目标二超额1项 +2; 同一项工作 省厅市委市政府(2) and 局党委(0.5)
    # → highest only, 2. total 83 + 4 = 87 → 优秀
    r = score_record(cs, unit("二类", (6, 4, 3, 3, 1), over_t2=1,
                              honours="省厅市委市政府,局党委(温委〔2013〕45号)"), explain=True)
    assert (r.subtotal, r.bonus, r.total, r.grade) == (D(83), D(4), D(87), "优秀")
    text = r.explain()
    assert "共性工作目标（20分）：不适用" in text
    assert "局党委 0.5 分 不计（同一事项取最高级别省厅市委市政府）" in text


def test_class_one_needs_the_common_score(cs):
    r = score_record(cs, unit("一类"))
    assert [e.code for e in r.errors] == ["blank"]
    assert r.errors[0].field == "common"


def test_deductions_stop_at_the_targets_own_points_002_229(cs):
    # "扣分只限于该考核项目分值,扣完为止": 目标一 (30分) 扣35 → 0, i.e. only 30 lost.
    # 二类: lost 30 + 6 + 4 + 4 + 1 = 45 → 55 (not 100 − 50 = 50) → 不合格 (<60)
    r = score_record(cs, unit("二类", (35, 6, 4, 4, 1)), explain=True)
    assert (r.total, r.grade) == (D(55), "不合格")
    assert "满分30 − 扣分35 = -5，扣完为止，按 0 分计" in r.explain()


def test_over_fulfilment_one_item_per_work_and_30_percent_of_its_points_002_229(cs):
    # 目标一: 2 indicators over-fulfilled → 4, but "只取其中1项" → 2 (30% × 30 = 9 does not bite)
    # 目标五 (5分): 1 item → 2, but "最多可加该项工作分值的30%" = 30% × 5 = 1.5
    # 二类 with no deductions: 100 + 2 + 1.5 = 103.5 → 优秀 (bonuses may pass 100)
    r = score_record(cs, unit("二类", over_t1=2, over_t5=1), explain=True)
    assert (r.bonus, r.total, r.grade) == (D("3.5"), D("103.5"), "优秀")
    text = r.explain()
    assert "重要工作目标一·超额完成10%及以上：合计 4，封顶 2" in text
    assert "重要工作目标五·超额完成10%及以上：合计 2，封顶 1.5" in text


def test_excellence_bonus_highest_level_per_work_002_233_235(cs):
    # work 1 reached 党中央国务院 (4) and 省委省政府交通运输部 (3) → 4; work 2 局党委 → 0.5
    # 二类, 扣分 10 → 90; 90 + 4.5 = 94.5
    r = score_record(cs, unit("二类", (10, 0, 0, 0, 0),
                              honours="党中央国务院,省委省政府交通运输部(国发〔2015〕12号);局党委"))
    assert (r.bonus, r.total) == (D("4.5"), D("94.5"))


def test_demerits_per_case_and_head_charged_60_percent_002_239(cs):
    # 记差分: one case at 3 + one at 5 = 8; 二类 扣分 10 → 90 − 8 = 82 → 优秀
    # 主要负责人记差分 = 8 × 60% = 4.8
    r = score_record(cs, unit("二类", (10, 0, 0, 0, 0), **{"demerit_扣3分": 1,
                                                        "demerit_扣5分": 1}))
    assert (r.deduction, r.total, r.grade) == (D(8), D(82), "优秀")
    assert r.derived == {"head_demerit": D("4.8")}
    # one case at 1: head charged 0.6
    r = score_record(cs, unit("二类", **{"demerit_扣1分": 1}))
    assert (r.total, r.derived["head_demerit"]) == (D(99), D("0.6"))


def test_total_rounded_to_one_decimal_before_grading_002_241(cs):
    # 一类: 扣分 7 + 5 + 4 + 3 + 1.2 = 20.2 → 79.8 × 80% = 63.84
    # 共性 80.6 × 20% = 16.12 → 79.96 → 精确到小数点后1位 → 80.0 → 优秀
    r = score_record(cs, unit("一类", (7, 5, 4, 3, "1.2"), common="80.6"))
    assert (r.subtotal, r.total, r.grade) == (D("79.96"), D("80.0"), "优秀")
    # 共性 80.5 × 20% = 16.1 → 79.94 → 79.9 → 良好
    r = score_record(cs, unit("一类", (7, 5, 4, 3, "1.2"), common="80.5"))
    assert (r.total, r.grade) == (D("79.9"), "良好")


@pytest.mark.parametrize(("lost", "grade"), [
    (20, "优秀"),     # 80 及以上
    (30, "良好"),     # 70 及以上
    ("30.1", "合格"),  # 69.9
    (40, "合格"),     # 60 及以上
    ("40.1", "不合格"),  # 59.9
])
def test_tier_bounds_are_inclusive_from_below_002_245(cs, lost, grade):
    # 二类, all deductions on 目标一 (30) and 目标二 (25): 100 − lost
    lost = D(lost)
    t1 = min(lost, D(30))
    r = score_record(cs, unit("二类", (t1, lost - t1, 0, 0, 0)))
    assert (r.total, r.grade) == (D(100) - lost, grade)


@pytest.mark.parametrize(("facts", "grade"), [
    ({"safety": "不合格"}, "良好"),               # 安全管理单项考核不合格
    ({"discipline_case": "是"}, "良好"),          # 违纪违法案件
    ({"caused_veto": "是"}, "良好"),              # 导致局里被上级一票否决
    ({"safety": "良好"}, "优秀"),                 # 合格及以上: 良好 passes
    ({"safety": "合格"}, "优秀"),
])
def test_excellent_gates_002_249(cs, facts, grade):
    # 一类: 扣分 5 + 4 + 3 + 2 + 1 = 15 → 85 × 80% = 68; 共性 82.5 × 20% = 16.5 → 84.5
    # ≥ 80 by score; "优秀等次须同时符合以下条件", else the next tier, 良好
    r = score_record(cs, unit("一类", (5, 4, 3, 2, 1), common="82.5", **facts))
    assert (r.total, r.grade) == (D("84.5"), grade)


def test_example_records_score_as_published():
    cs = compile_scheme(load_scheme_file(SCHEME))
    with RECORDS.open(encoding="utf-8-sig", newline="") as f:
        by_label = {s.label: s.id for s in cs.inputs}
        rows = [{by_label[k]: v for k, v in row.items()} for row in csv.DictReader(f)]
    pop = score_population(cs, rows, first_row=2)
    summary = pop.summary()
    assert (summary["records"], summary["invalid"], summary["withheld"]) == (24, 0, 0)
    assert summary["grades"] == {"优秀": 13, "良好": 8, "合格": 2, "不合格": 1}
    # units are ranked within year and class: 8 groups of 3
    assert {r.group_size for r in pop.records} == {3}
    row = {r.row: r for r in pop.records}
    # row 11, 2014 县康庄办: 92 + 目标五 1.5 (capped) + 1 + 0.5 = 95
    assert (row[11].total, row[11].grade) == (D(95), "优秀")
    # row 9, 2014 稽征所: 84.46 − 差分 3 = 81.46 → 81.5, 违纪违法案件 → 良好; head 3 × 60% = 1.8
    assert (row[9].total, row[9].grade, row[9].derived["head_demerit"]) == \
        (D("81.5"), "良好", D("1.8"))
