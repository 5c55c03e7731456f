"""hospital-2016: ***医院 2016 monthly quality assessment of departments, seed 002:9-74.

Expected numbers are worked out by hand in the comments from the seed wording:
every 科室 out of 100, 减分制 (002:36); 临床科室 = 质量与安全 85 + 关键指标 10 + 重点单项
(满意度调查) 5; 职能科室 = 质量与安全 90 + 临床对职能科室的满意度 10 (002:48-60). The
deduction items are illustrative (the seed names none); 满意/基本满意/不满意 = 100%/80%/60%
as in 002:160. No tiers or payout: the score goes to 经济管理办公室 (002:74).
"""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest

from xlbridge.engine import compile_scheme, score_population, score_record
from xlbridge.scheme import load_scheme_file

REPO = Path(__file__).resolve().parents[2]
SCHEME = REPO / "workbooks" / "schemes" / "hospital-2016.yaml"
RECORDS = REPO / "workbooks" / "schemes" / "hospital-2016.records.csv"


@pytest.fixture(scope="module")
def cs():
    return compile_scheme(load_scheme_file(SCHEME))


def clinical(name="心血管内科", satisfied=60, surveyed=60, **extra):
    record = {"dept_name": name, "dept_type": "临床科室",
              "c_satisfaction_num": satisfied, "c_satisfaction_den": surveyed}
    record.update(extra)
    return record


def functional(name="医务科", votes=(14, 0, 0), **extra):
    record = {"dept_name": name, "dept_type": "职能科室", "f_satisfaction_满意": votes[0],
              "f_satisfaction_基本满意": votes[1], "f_satisfaction_不满意": votes[2]}
    record.update(extra)
    return record


def parts_of(r):
    return {s.path: s.value for s in r.steps if s.kind == "part"}


def test_scheme_validates_without_warnings_and_has_no_tiers(cs):
    assert cs.report.issues == []
    assert cs.tiers == [] and cs.scheme.payout is None


def test_clean_departments_score_100_002_36(cs):
    # nothing deducted, every survey form 满意 / every vote 满意 → 85 + 10 + 5 and 90 + 10
    for record in (clinical(), functional()):
        r = score_record(cs, record)
        assert (r.total, r.grade, r.no_grade, r.payout) == (D(100), None, None, None)


def test_clinical_three_parts_002_40_48_54(cs):
    # 质量与安全 85: 乙级病历 2 × 2 + 丙级病历 1 × 5 + 院感 2 × 1 = 11 → 74
    # 关键指标 10: 1 项 未达控制值 × 5 → 5
    # 满意度调查 5: 54 ÷ 60 = 90% → 4.5
    # 临床 sheet 74 + 5 + 4.5 = 83.5; the 职能 sheet does not apply and gives its 50 to the
    # 临床 sheet: 83.5 × 50/100 × 100/50 = 83.5
    r = score_record(cs, clinical(satisfied=54, c_infection=2, c_key_missed=1,
                                  **{"c_record_乙级": 2, "c_record_丙级": 1}), explain=True)
    parts = parts_of(r)
    assert (parts["c_quality"], parts["c_key"], parts["c_satisfaction"]) == (
        D(74), D(5), D("4.5"))
    assert r.total == D("83.5")
    assert [s.path for s in r.steps if s.kind == "not_applicable"] == ["functional"]


def test_clinical_parts_stop_at_zero_002_36(cs):
    # 关键指标 3 项 × 5 = 15 > 10 → 0; 质量与安全 纠纷 18 × 5 = 90 > 85 → 0
    # 满意度 60/60 → 5; total 0 + 0 + 5 = 5
    r = score_record(cs, clinical(c_key_missed=3, c_dispute=18), explain=True)
    parts = parts_of(r)
    assert (parts["c_quality"], parts["c_key"]) == (D(0), D(0))
    assert r.total == D(5)
    assert sorted(s.path for s in r.steps if s.kind == "floor") == ["c_key", "c_quality"]


def test_half_point_prescription_item(cs):
    # 不合格处方 3 张 × 0.5 = 1.5; 满意度 57/60 = 95% → 4.75; 83.5 + 10 + 4.75 = 98.25
    r = score_record(cs, clinical(satisfied=57, c_prescription=3))
    assert r.total == D("98.25")


def test_functional_two_parts_002_56_60(cs):
    # 质量与安全 90: 未按时上报 1 × 2 + 整改通知单 2 × 2 = 6 → 84
    # 满意度 10: 满意 10 票 × 100% + 基本满意 3 × 80% + 不满意 1 × 60% = 13 of 14 votes
    #   → 13/14 × 10 = 9.285714… ; total 93.285714… → 93.29
    r = score_record(cs, functional(votes=(10, 3, 1), f_report_late=1, f_notice_late=2),
                     explain=True)
    parts = parts_of(r)
    assert parts["f_quality"] == D(84)
    assert r.total == D("93.29")
    assert [s.path for s in r.steps if s.kind == "not_applicable"] == ["clinical"]


def test_the_other_kinds_items_do_not_count(cs):
    # a 职能科室 with 临床 items filled in: they belong to the sheet that does not apply
    r = score_record(cs, functional(c_dispute=3, c_key_missed=2))
    assert r.total == D(100)
    # a 临床科室 with 职能 items filled in
    r = score_record(cs, clinical(f_criticized=2))
    assert r.total == D(100)


def test_clinical_survey_columns_may_stay_blank_for_functional(cs):
    # 职能科室: the 临床 survey columns may stay blank (the part does not apply)
    r = score_record(cs, functional())
    assert (r.ok, r.total) == (True, D(100))


def test_clinical_satisfaction_survey_required_for_clinical(cs):
    # 临床科室 with the survey columns left blank: the 满意度调查 applies, so this must be a
    # data error — not 0 ÷ 0 → "无应计事项，计满分" → 5 points nobody earned
    r = score_record(cs, {"dept_name": "儿科", "dept_type": "临床科室"})
    assert not r.ok
    assert {e.field for e in r.errors} == {"c_satisfaction_num", "c_satisfaction_den"}


def test_ranks_within_each_kind_002_46(cs):
    # groups: 临床 98.25, 83.5 → ranks 1, 2; 职能 100, 93.29 → ranks 1, 2
    pop = score_population(cs, [
        clinical("骨科", satisfied=57, c_prescription=3),
        clinical("普外科", satisfied=54, c_infection=2, c_key_missed=1,
                 **{"c_record_乙级": 2, "c_record_丙级": 1}),
        functional("护理部"),
        functional("院感管理科", votes=(10, 3, 1), f_report_late=1, f_notice_late=2),
    ])
    assert [(r.total, r.group, r.rank, r.group_size) for r in pop.records] == [
        (D("98.25"), ("临床科室",), 1, 2), (D("83.5"), ("临床科室",), 2, 2),
        (D(100), ("职能科室",), 1, 2), (D("93.29"), ("职能科室",), 2, 2)]


def read_rows(cs):
    by_label = {s.label: s.id for s in cs.inputs}
    with RECORDS.open(encoding="utf-8-sig", newline="") as f:
        return [{by_label[k]: v for k, v in row.items()} for row in csv.DictReader(f)]


def test_example_records(cs):
    pop = score_population(cs, read_rows(cs), first_row=2)
    summary = pop.summary()
    assert (summary["records"], summary["invalid"]) == (23, 0)
    assert pop.grade_counts() == {"—": 23}          # a score only, no 等次
    assert sum(1 for r in pop.records if r.group == ("临床科室",)) == 14
    by_name = {r.values["dept_name"]: r for r in pop.records}
    # 内分泌科: nothing deducted, 60/60 → 100
    assert by_name["内分泌科"].total == D(100)
    # 神经外科: 核心制度 2 × 2 + 纠纷 1 × 5 = 9 → 76; 关键指标 3 × 5 = 15 → 0 (扣完为止);
    # 满意度 50/60 × 5 = 4.1666…; 80.1666… → 80.17, last of the 临床科室
    assert (by_name["神经外科"].total, by_name["神经外科"].rank) == (D("80.17"), 14)
    # 重症医学科: 院感 1 + 不良事件未上报 3 = 4 → 81; 10; 40/40 → 5 → 96
    assert by_name["重症医学科"].total == D(96)
    # 后勤保障科: 安全事件 1 × 5 + 整改通知单 1 × 2 = 7 → 83;
    # 满意度 (6 + 5 × 0.8 + 3 × 0.6) / 14 = 11.8/14 → × 10 = 8.428571… → 91.43
    assert by_name["后勤保障科"].total == D("91.43")
    # 护理部: 90; (12 + 2 × 0.8) / 14 = 13.6/14 → 9.714285… → 99.71, first of the 职能科室
    assert (by_name["护理部"].total, by_name["护理部"].rank) == (D("99.71"), 1)
