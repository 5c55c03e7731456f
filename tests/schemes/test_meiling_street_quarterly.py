"""meiling-street-quarterly: 梅岭街道机关事业单位工作人员季度绩效考核, seed 004:487-527.

考评得分 = (常规工作 50 + 重点项目 40 + 考勤 10 + 奖惩附加分) × 60% + 党政领导测评 × 40%
(004:493-497); 党政领导测评 by rank within the 考核类别 into bands (004:497); 优秀 ≤ 25% and
良好 ≤ 30% per category (004:509); 2100/1800/1500 元 per grade (004:521), pro rata by months
for staff who leave during the quarter (004:515).
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from xlbridge.csvio import read_records
from xlbridge.engine import compile_scheme, score_population
from xlbridge.scheme import load_scheme_file

REPO = Path(__file__).resolve().parents[2]
SCHEME = REPO / "workbooks" / "schemes" / "meiling-street-quarterly.yaml"
RECORDS = REPO / "workbooks" / "schemes" / "meiling-street-quarterly.records.csv"


@pytest.fixture(scope="module")
def cs():
    return compile_scheme(load_scheme_file(SCHEME))


@pytest.fixture(scope="module")
def rows(cs):
    return read_records(RECORDS, cs.inputs).rows


def test_the_readme_worked_example_row_23(cs, rows):
    pop = score_population(cs, rows, explain=True, first_row=2)
    r = next(r for r in pop.records if r.row == 23)
    # 科室工作 24 of 25 (社区工作 does not apply): 24 × 50/25 = 48; 重点项目一 19 of 20 (项目二
    # does not apply): 19 × 40/20 = 38; 考勤 10 − 1 (one late arrival) = 9; 奖惩 −2.
    # 工作考评 = 48 + 38 + 9 − 2 = 93 of 100 → × 60/100 = 55.8
    # 党政领导测评: 6th of 12 in the category, within the top 55% (7 people) → 80 → × 40/100 = 32
    # total 55.8 + 32 = 87.8
    assert r.total == D("87.8")
    # retired during the quarter: no grade, paid as 称职 for the months served,
    # 1500 × 2/3 = 1000
    assert r.grade is None and r.grade_text == "不定等次"
    assert r.payout == D("1000")


def test_the_population_summary(cs, rows):
    pop = score_population(cs, rows, first_row=2)
    assert pop.grade_counts() == {"优秀": 5, "良好": 6, "称职": 10, "不称职": 1, "不定等次": 2}
    assert pop.payout_total() == D("36700")
    # quotas per category: 优秀 ≤ 25%, 良好 ≤ 30% of each 考核类别 (floor: "不超过")
    for group in {r.group for r in pop.records}:
        members = [r for r in pop.records if r.group == group]
        assert sum(r.grade == "优秀" for r in members) <= len(members) * D("0.25")
        assert sum(r.grade == "良好" for r in members) <= len(members) * D("0.30")


def test_a_bad_record_withholds_its_category_but_every_record_shows_its_own_errors(cs, rows):
    rows = [dict(r) for r in rows]
    rows[0]["late"] = "-2"                       # a negative count: bad data
    category = rows[0]["category"]
    j = next(i for i, r in enumerate(rows[1:], 1)
             if r["category"] == category and r["has_office"] == "是")
    rows[j]["office"] = ""                       # 承担科室工作=是 but 科室工作 blank
    pop = score_population(cs, rows, first_row=2)
    first, other = pop.records[0], pop.records[j]
    assert [e.code for e in first.errors] == ["negative"]
    # its rank cannot be known while the category holds a bad record, but its own mistake
    # is reported now, not after row 2 is fixed
    assert [e.field for e in other.errors] == ["office"] and other.withheld is None
    same = [r for r in pop.records if r.group == first.group and not r.errors]
    assert same and all(r.withheld and r.grade is None for r in same)
