"""hami-transport: 哈密地区交通运输局绩效管理实施方案, seed 001:155-174.

Every expected number is worked out by hand in the comment above it, from the seed wording:
综合目标考核 = 业绩(百分制) × 60% + 机关效能(百分制) × 40% (001:159-162); 机关效能 loses 0.5
per unexcused absence from labour, activities or study (001:166-168); leave over 15
consecutive days or 30 in a year removes 评优 eligibility (001:165); 优秀 ≥ 95 (含95),
合格 75 (含75) – 95, 不合格 < 75 (001:174).
"""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest

from xlbridge.engine import compile_scheme, score_population, score_record
from xlbridge.scheme import load_scheme_file

REPO = Path(__file__).resolve().parents[2]
SCHEME = REPO / "workbooks" / "schemes" / "hami-transport.yaml"
RECORDS = REPO / "workbooks" / "schemes" / "hami-transport.records.csv"


@pytest.fixture(scope="module")
def cs():
    return compile_scheme(load_scheme_file(SCHEME))


def person(**values):
    return {"name": "测试", "office": "办公室", **values}


def test_scheme_validates_without_warnings(cs):
    assert cs.report.issues == []
    assert [s.id for s in cs.inputs] == ["name", "office", "longest_leave", "leave_days",
                                         "performance", "labour", "activity", "study"]


def test_weighted_sum_of_two_hundred_point_parts_001_159_162(cs):
    # 业绩 97 × 60% = 58.2; 机关效能 nothing missed = 100 × 40% = 40; total 98.2 → 优秀 (≥95)
    r = score_record(cs, person(performance=97), explain=True)
    assert r.total == D("98.2")
    assert r.grade == "优秀"
    assert "业绩（60分）：97（按100分制）× 60/100 = 58.2 分" in r.explain()


def test_efficiency_loses_half_a_point_per_absence_001_166_168(cs):
    # 劳动 2次 × 0.5 = 1; 文体活动 2次 × 0.5 = 1; 学习 1次 × 0.5 = 0.5 → 扣2.5
    # 机关效能 100 − 2.5 = 97.5 × 40% = 39; 业绩 60 × 60% = 36; total 75.
    # 75 is 合格: "75分—95分(含75分)".
    r = score_record(cs, person(performance=60, labour=2, activity=2, study=1))
    assert r.total == D(75)
    assert r.grade == "合格"
    # one absence fewer: 机关效能 98 × 40% = 39.2; 业绩 58 × 60% = 34.8; 74 → 不合格 (<75)
    r = score_record(cs, person(performance=58, labour=2, activity=2))
    assert r.total == D(74)
    assert r.grade == "不合格"


def test_95_itself_is_excellent_and_just_below_is_qualified_001_174(cs):
    # 业绩 92 × 60% = 55.2; 文体活动 1次 → 99.5 × 40% = 39.8; 55.2 + 39.8 = 95 → 优秀 (含95分)
    r = score_record(cs, person(performance=92, activity=1))
    assert (r.total, r.grade) == (D(95), "优秀")
    # 业绩 91.6 × 60% = 54.96; + 40 = 94.96 (two places, nothing rounded) → 合格 (<95)
    r = score_record(cs, person(performance="91.6"))
    assert (r.total, r.grade) == (D("94.96"), "合格")


def test_efficiency_stops_at_zero(cs):
    # 250 absences × 0.5 = 125 > 100: 机关效能 is 百分制 and stops at 0 (not −25).
    # 业绩 80 × 60% = 48 + 0 = 48 → 不合格
    r = score_record(cs, person(performance=80, labour=250), explain=True)
    assert r.total == D(48)
    assert r.grade == "不合格"
    assert "扣完为止，按 0 分计" in r.explain()


@pytest.mark.parametrize(("longest", "days", "grade"), [
    (16, 16, "合格"),   # 连续16天 > 15: 取消评优资格
    (10, 31, "合格"),   # 全年31天 > 30: 取消评优资格
    (15, 30, "优秀"),   # exactly 15 and 30: "超过" is strictly more, eligibility kept
])
def test_long_leave_removes_excellent_001_165(cs, longest, days, grade):
    # 业绩 99 × 60% = 59.4 + 40 = 99.4 → 优秀 by score; with the leave rule at most 合格
    r = score_record(cs, person(performance=99, longest_leave=longest, leave_days=days))
    assert r.total == D("99.4")
    assert r.grade == grade
    assert r.conditions == (["long_leave"] if grade == "合格" else [])


def test_long_leave_does_not_lift_or_lower_a_qualified_score(cs):
    # 业绩 85 × 60% = 51; 劳动3 + 文体1 + 学习2 = 6次 × 0.5 = 3 → 97 × 40% = 38.8; 89.8 合格
    # The cap "at most 合格" does not change a 合格.
    r = score_record(cs, person(performance=85, labour=3, activity=1, study=2,
                                longest_leave=20, leave_days=45))
    assert (r.total, r.grade) == (D("89.8"), "合格")


def test_example_records_score_as_published():
    cs = compile_scheme(load_scheme_file(SCHEME))
    with RECORDS.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        by_label = {s.label: s.id for s in cs.inputs}
        rows = [{by_label[k]: v for k, v in row.items()} for row in reader]
    pop = score_population(cs, rows, first_row=2)
    summary = pop.summary()
    assert summary["records"] == 23
    assert summary["invalid"] == 0
    assert summary["grades"] == {"优秀": 9, "合格": 12, "不合格": 2}
    by_name = {r.values["name"]: r for r in pop.records}
    # 古丽米拉·吐尔逊: 99 × 60% + 40 = 99.4 but 连续请假18天 → 合格
    assert (by_name["古丽米拉·吐尔逊"].total, by_name["古丽米拉·吐尔逊"].grade) == \
        (D("99.4"), "合格")
    # 徐静: 92 × 60% + 99.5 × 40% = 95 → 优秀 at the boundary
    assert (by_name["徐静"].total, by_name["徐静"].grade) == (D(95), "优秀")
    # 努尔艾力·吐尔洪: 60 × 60% = 36; 12次 × 0.5 = 6 → 94 × 40% = 37.6; 73.6 → 不合格
    assert (by_name["努尔艾力·吐尔洪"].total, by_name["努尔艾力·吐尔洪"].grade) == \
        (D("73.6"), "不合格")
