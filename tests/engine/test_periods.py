"""Annual grades from quarterly grades (RULES §10, 004:527)."""

from __future__ import annotations

from click.testing import CliRunner

from tests.conftest import SCHEMES
from xlbridge.cli import main
from xlbridge.engine import aggregate_periods
from xlbridge.store import SchemeStore


def meiling():
    return SchemeStore([SCHEMES]).get("meiling-street-quarterly")


def test_annual_grade_rules_and_quota_004_527():
    cs = meiling()
    rows = [
        # three or more 优秀 → 优秀, within the quota (15% of 10 = 1.5 → floor 1)
        {"Q1": "优秀", "Q2": "优秀", "Q3": "优秀", "Q4": "优秀"},                 # 4 top
        {"Q1": "优秀", "Q2": "优秀", "Q3": "优秀", "Q4": "良好"},                 # 3 top
        # two or more 不称职 → 不称职; exactly one → 基本称职
        {"Q1": "不称职", "Q2": "称职", "Q3": "不称职", "Q4": "称职"},
        {"Q1": "不称职", "Q2": "优秀", "Q3": "优秀", "Q4": "优秀"},               # 1 不称职 wins
        *[{"Q1": "良好", "Q2": "称职", "Q3": "良好", "Q4": "良好"}] * 6,
    ]
    result = aggregate_periods(cs, rows)
    grades = [r.grade for r in result.records]
    assert grades[:4] == ["优秀", "称职", "不称职", "基本称职"]
    assert grades[4:] == ["称职"] * 6
    assert "超出名额 1" in result.records[1].steps[-1]
    assert any("15% × 10人 = 1.5 → 1名" in n for n in result.notes)


def test_no_grade_quarters_and_bad_labels():
    cs = meiling()
    result = aggregate_periods(cs, [{"Q1": "不定等次", "Q2": "称职", "Q3": "称职",
                                     "Q4": "称职"},
                                    {"Q1": "优", "Q2": "称职", "Q3": "称职", "Q4": ""}])
    assert result.records[0].grade == "称职"
    codes = {e.field: e.code for e in result.records[1].errors}
    assert codes == {"Q1": "unknown_label", "Q4": "blank"}


def test_aggregate_command(tmp_path):
    path = tmp_path / "annual.csv"
    path.write_text("姓名,Q1,Q2,Q3,Q4\n王建国,优秀,优秀,优秀,良好\n李秀英,不称职,称职,称职,称职\n",
                    encoding="utf-8")
    out = CliRunner().invoke(main, ["aggregate", "--scheme", "meiling-street-quarterly",
                                    "--input", str(path)])
    assert out.exit_code == 0, out.output
    assert "第 2 行 王建国：称职" in out.output  # 2 records × 15% = 0.3 → 0 places
    assert "第 3 行 李秀英：基本称职" in out.output


def test_a_bad_row_withholds_the_annual_quota(tmp_path):
    # like score: the 优秀 quota counts everyone, so with a bad row it cannot be decided;
    # those who qualify for it wait, the others get their grade
    path = tmp_path / "annual.csv"
    path.write_text("姓名,Q1,Q2,Q3,Q4\n王建国,优秀,优秀,优秀,良好\n李秀英,不称职,称职,称职,称职\n"
                    "张伟,优秀,优,优秀,优秀\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["aggregate", "--scheme", "meiling-street-quarterly",
                                    "--input", str(path)])
    assert out.exit_code == 1
    assert "第 2 行 王建国：暂缓" in out.output and "第 4 行数据有误" in out.output
    assert "第 3 行 李秀英：基本称职" in out.output
    assert "第 4 行 张伟：" in out.output
