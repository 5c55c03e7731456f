"""village-2016: 2016村级目标管理考核方案, seed 002:141-194.

Expected numbers are worked out by hand in the comments from the seed wording: 定量 85% =
共性 (百分制, 年底集中60% + 平时分散40%) × 80% + 阶段性 (百分制) × 5%; 定性 15% = three vote
ratings × 5% each, 好/中/差 and 满意/基本满意/不满意 = 100/80/60% (002:156-160); bonuses
(002:166-170) and deductions (002:174-178) on the total; 一票否决 (002:180); 优秀 ≥ 95,
合格 80–94, 不合格 < 80 with the 94–95 gap read as 合格 (002:186).
"""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml

from xlbridge.engine import compile_scheme, score_population, score_record
from xlbridge.scheme import load_scheme_file, validate
from xlbridge.scheme.load import scheme_from_data

REPO = Path(__file__).resolve().parents[2]
SCHEME = REPO / "workbooks" / "schemes" / "village-2016.yaml"
RECORDS = REPO / "workbooks" / "schemes" / "village-2016.records.csv"
REWARD = "纳入下一年度全镇经济工作会议表彰奖励"


@pytest.fixture(scope="module")
def cs():
    return compile_scheme(load_scheme_file(SCHEME))


def unit(common=(100, 100), stage=100, leaders=(10, 0, 0), social=(40, 0, 0),
         members=(30, 0, 0), name="东关村", kind="村", income=10, **extra):
    """A record; defaults score 80 + 5 + 5 + 5 + 5 = 100 (all full, all votes top)."""
    record = {"name": name, "kind": kind, "income": income,
              "common_final": common[0], "common_routine": common[1], "stage": stage}
    for pid, labels, votes in (("leaders", ("好", "中", "差"), leaders),
                               ("social", ("满意", "基本满意", "不满意"), social),
                               ("members", ("满意", "基本满意", "不满意"), members)):
        record.update({f"{pid}_{label}": n for label, n in zip(labels, votes, strict=True)})
    record.update(extra)
    return record


def test_scheme_validates_without_warnings(cs):
    assert cs.report.issues == []


def test_literal_tiers_leave_94_to_95_unassigned_002_186():
    # "95分以上为优秀格次,总分在80分至94分为合格格次;总分在80分以下列为不合格" written literally:
    # totals carry two decimals, so 94.01 … 94.99 fall in no tier → tier_gap error.
    data = yaml.safe_load(SCHEME.read_text(encoding="utf-8"))
    data["tiers"] = [{"label": "优秀", "at_least": 95},
                     {"label": "合格", "at_least": 80, "at_most": 94},
                     {"label": "不合格", "below": 80}]
    report = validate(scheme_from_data(data))
    gaps = [i for i in report.errors if i.code == "tier_gap"]
    assert len(gaps) == 1
    assert "介于 94 分与 95 分之间的总分" in gaps[0].message
    # the shipped reading has no gap
    assert validate(load_scheme_file(SCHEME).scheme).errors == []


def test_weighted_composition_with_periods_and_votes_002_156_160(cs):
    # 共性: 年底集中 90 × 60% + 平时分散 95 × 40% = 54 + 38 = 92 (百分制) × 80% = 73.6
    # 阶段性 80 × 5% = 4                                             → 定量 77.6
    # 镇领导班子: 好8 中2 → (8 × 100% + 2 × 80%) / 10 = 96% × 5 = 4.8
    # 社会评议: 满意30 基本满意10 → (30 + 8) / 40 = 95% × 5 = 4.75
    # 代表评价: 满意24 基本满意3 不满意3 → (24 + 2.4 + 1.8) / 30 = 94% × 5 = 4.7  → 定性 14.25
    # total 77.6 + 14.25 = 91.85 → 合格
    r = score_record(cs, unit(common=(90, 95), stage=80, leaders=(8, 2, 0), social=(30, 10, 0),
                              members=(24, 3, 3)), explain=True)
    assert (r.subtotal, r.total, r.grade) == (D("91.85"), D("91.85"), "合格")
    text = r.explain()
    assert "定量考核（85分）：77.6 分" in text
    assert "定性考核（15分）：14.25 分" in text


@pytest.mark.parametrize(("common", "total", "grade"), [
    ("93.75", D("95.00"), "优秀"),    # 20 + 93.75 × 80% = 95 → "95分以上" 含95
    ("93.125", D("94.50"), "合格"),   # 94.5: in the seed's 94–95 gap, read as 合格
    (75, D("80.00"), "合格"),         # 20 + 60 = 80 → "80分至94分" 含80
    ("74.9875", D("79.99"), "不合格"),  # 20 + 59.99 → "80分以下"
])
def test_tier_bounds_with_the_gap_read_as_qualified_002_186(cs, common, total, grade):
    # 阶段性 100 × 5% = 5 and all votes top = 15: total = 20 + 共性 × 80%
    r = score_record(cs, unit(common=(common, common)))
    assert (r.total, r.grade) == (total, grade)


def test_award_highest_level_across_party_and_department_002_166_170(cs):
    # one work commended by 市级党委政府 (0.2) and 省级部门 (0.15): "同一项工作受到多头表彰,
    # 只记一次最高加分" → 0.2; base 100 → 100.2
    r = score_record(cs, unit(award="市级党委政府,省级部门", award_evidence="市委〔2016〕18号"),
                     explain=True)
    assert (r.bonus, r.total) == (D("0.2"), D("100.2"))
    assert "获奖表彰：省级部门 0.15 分 不计（同一事项取最高级别市级党委政府）" in r.explain()
    # two different works: 省级部门 0.15 + 县级党委政府 0.1 = 0.25
    r = score_record(cs, unit(award="省级部门;县级党委政府", award_evidence="省〔2016〕7号"))
    assert r.bonus == D("0.25")


def test_bonus_without_document_is_dropped_002_170(cs):
    # "加分项目以正式文件、证书等为依据": 县级党委政府 0.1 with no document → 0
    r = score_record(cs, unit(award="县级党委政府"))
    assert (r.bonus, r.total) == (D(0), D(100))


def test_promotion_per_project_highest_level_002_168(cs):
    # project 1 at 市级 (0.04) and 县级 (0.02) → 0.04; project 2 省级 0.06; project 3 国家级 0.08
    # 0.04 + 0.06 + 0.08 = 0.18
    r = score_record(cs, unit(promotion="市级,县级;省级;国家级", promotion_evidence="现场会通知"))
    assert r.bonus == D("0.18")


@pytest.mark.parametrize(("income", "growth", "bonus"), [
    ("32.6", 24, D("1.0")),   # 24% → 2 full steps of 10 → 2 × 0.5
    (5, 20, D("1.0")),        # 5万元 itself qualifies ("5万元以上" 含5)
    (8, "9.9", D(0)),         # not a full step
    ("4.6", 35, D(0)),        # income under 5万元: no growth bonus at all
])
def test_income_growth_steps_only_from_5_wan_002_170(cs, income, growth, bonus):
    r = score_record(cs, unit(income=income, income_growth=growth))
    assert r.bonus == bonus


def test_notices_per_occurrence_by_level_002_174(cs):
    # 镇 0.1 + 县 0.2 + 市 0.3 + 省 0.4 + 国家 0.5 = 1.5, plus a second 镇 → 1.6; 100 → 98.4
    r = score_record(cs, unit(**{"notice_镇级": 2, "notice_县级": 1, "notice_市级": 1,
                                 "notice_省级": 1, "notice_国家级": 1}))
    assert (r.deduction, r.total) == (D("1.6"), D("98.4"))


def test_inspection_doubled_when_not_rectified_002_176(cs):
    # 镇级 1起 rectified 0.05; 县级 1起 整改不到位 0.1 × 2 = 0.2; 国家级 1起 rectified 0.25
    # → 0.5; 100 → 99.5
    r = score_record(cs, unit(**{"inspection_镇级": 1, "inspection_县级_unrectified": 1,
                                 "inspection_国家级": 1}), explain=True)
    assert (r.deduction, r.total) == (D("0.5"), D("99.5"))
    assert "明察暗访发现问题·县级·整改不到位：1起 × 0.1 × 2 = 0.2" in r.explain()


def test_income_decline_steps_002_178(cs):
    # the same 增长% column, negative: a 23% decline → 2 full steps × 0.5 = 1.0 deducted
    # (no 5万元 condition); −9% → 0; and a decline earns no growth bonus
    r = score_record(cs, unit(income=8, income_growth=-23), explain=True)
    assert (r.deduction, r.bonus) == (D("1.0"), D(0))
    assert "减少23%，每减少10个百分点0.5分，计2档 = 1" in r.explain()
    assert score_record(cs, unit(income=2, income_growth=-9)).deduction == D(0)


@pytest.mark.parametrize("veto", ["veto_family", "veto_order", "veto_party", "veto_safety"])
def test_veto_removes_excellent_002_180(cs, veto):
    # 100 → 优秀 by score; 一票否决 → at most 合格
    r = score_record(cs, unit(**{veto: "是"}), explain=True)
    assert (r.total, r.grade, r.conditions) == (D(100), "合格", [veto])
    assert "一票否决：" in r.explain()


def test_too_few_voters_are_flagged_002_160(cs):
    # 社会评议 38 votes < 40; 代表评价 28 votes < 30 — reported, the score is still computed:
    # social (36 + 1.6) / 38 = 98.947…% × 5; members (25 + 2.4) / 28 = 97.857…% × 5
    # 80 + 5 + 5 + 4.947368… + 4.892857… = 99.840225… → 99.84
    r = score_record(cs, unit(social=(36, 2, 0), members=(25, 3, 0)))
    assert r.flags == ["社会评议参评人数不足40人", "党员、村（居）民代表评议参评人数不足30人"]
    assert r.total == D("99.84")


def test_top_five_villages_and_first_community_002_186(cs):
    # villages with totals 100 − deductions via 镇级通报 (0.1 each): 100, 99.9, …, 99.3
    # (8 villages); village 2 is vetoed: it keeps rank 2 but gets no reward.
    # Villages 5 and 6 tie at 99.6 (rank 5, 前5名 read as RANK.EQ) → both rewarded.
    notices = [0, 1, 2, 3, 4, 4, 6, 7]
    records = [unit(name=f"村{i + 1}", **{"notice_镇级": n}) for i, n in enumerate(notices)]
    records[1]["veto_safety"] = "是"
    records += [unit(name="社区甲", kind="社区", **{"notice_镇级": 1}),
                unit(name="社区乙", kind="社区"), unit(name="社区丙", kind="社区", stage=80)]
    pop = score_population(cs, records)
    rewarded = [r.values["name"] for r in pop.records if REWARD in r.flags]
    assert rewarded == ["村1", "村3", "村4", "村5", "村6", "社区乙"]
    by_name = {r.values["name"]: r for r in pop.records}
    assert (by_name["村2"].rank, by_name["村2"].grade) == (2, "合格")
    assert [by_name[n].rank for n in ("村5", "村6", "村7")] == [5, 5, 7]
    assert by_name["社区丙"].total == D(99)   # 阶段性 80 × 5% = 4 instead of 5


def test_example_records_score_as_published():
    cs = compile_scheme(load_scheme_file(SCHEME))
    with RECORDS.open(encoding="utf-8-sig", newline="") as f:
        by_label = {s.label: s.id for s in cs.inputs}
        rows = [{by_label[k]: v for k, v in row.items()} for row in csv.DictReader(f)]
    pop = score_population(cs, rows, first_row=2)
    summary = pop.summary()
    assert (summary["records"], summary["invalid"], summary["withheld"]) == (21, 0, 0)
    assert summary["grades"] == {"优秀": 3, "合格": 16, "不合格": 2}
    by_name = {r.values["name"]: r for r in pop.records}
    rewarded = sorted(n for n, r in by_name.items() if REWARD in r.flags)
    # 西关村 (rank 2, 96.70) is vetoed (安全生产): 合格 and not rewarded; 前屯村 and 李家庄村
    # tie at 94.80 on the 5th place and are both rewarded; 城东社区 is the first community.
    assert rewarded == sorted(["东关村", "南庄村", "北庄村", "前屯村", "李家庄村", "城东社区"])
    assert (by_name["西关村"].total, by_name["西关村"].grade) == (D("96.70"), "合格")
    assert by_name["前屯村"].total == by_name["李家庄村"].total == D("94.80")
    # 北庄村 94.90 lies in the seed's 94–95 gap: 合格
    assert (by_name["北庄村"].total, by_name["北庄村"].grade) == (D("94.90"), "合格")
    # 团结村: 80.41… − (镇级通报 2 × 0.1 + 镇级暗访整改不到位 2 × 0.05 × 2 + 减少12% → 0.5)
    # = 80.41 − 0.9 = 79.51 → 不合格
    assert (by_name["团结村"].deduction, by_name["团结村"].total, by_name["团结村"].grade) == \
        (D("0.90"), D("79.51"), "不合格")
