"""finance-bureau-points: 市财政局 平时考核 "积分制" (monthly), seed 004:195-303.

Expected numbers are worked out by hand in the comments from the seed wording:
总分定量100分 = 考勤30 + 常规25 + 重点30 + 民主测评15, each by its deduction items 1–13,
扣完为止 per part (004:205-243); 奖励加分 five categories 封顶5分 each, 25分封顶 in all, 同项内容
按最高分, 书面依据 required (004:245-257); 惩戒扣分 items 19–24 不封顶 (004:259-273); 限时办结
扣分 → not 好/良好 that month (004:273); 好 ≤ 40% of each 分管领导's people (004:207);
病事假 > 12 working days → no grade, refusing → 差 (004:293); bottom 20% flagged (004:303).
The tier thresholds (好 ≥ 95, 良好 ≥ 85, 一般 ≥ 70, 差 < 70) are the office's own:
the seed has none.
"""

from __future__ import annotations

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest

from xlbridge.engine import compile_scheme, score_population, score_record
from xlbridge.scheme import load_scheme_file

REPO = Path(__file__).resolve().parents[2]
SCHEME = REPO / "workbooks" / "schemes" / "finance-bureau-points.yaml"
RECORDS = REPO / "workbooks" / "schemes" / "finance-bureau-points.records.csv"

BOTTOM_FLAG = "不得作为评优评先及综合性表彰推荐人选"
DOC = "驻财〔2016〕21号"


@pytest.fixture(scope="module")
def cs():
    return compile_scheme(load_scheme_file(SCHEME))


def person(name="王立新", leader="张志强", **extra):
    """A month with nothing recorded: 30 + 25 + 30 + 15 = 100."""
    record = {"name": name, "leader": leader}
    record.update(extra)
    return record


def parts_of(r):
    return {s.path: s.value for s in r.steps if s.kind == "part"}


def test_only_warning_is_the_overall_bonus_cap_that_cannot_bite(cs):
    # 5 categories × 封顶5分 = 25 = the overall 25分封顶: true of the seed, kept on purpose
    assert [(i.severity, i.path, i.code) for i in cs.report.issues] == [
        ("warning", "bonuses.cap", "cap_never_bites")]


def test_clean_month_is_100_004_205(cs):
    r = score_record(cs, person())
    assert (r.subtotal, r.bonus, r.deduction, r.total, r.grade) == (
        D(100), D(0), D(0), D(100), "好")


def test_attendance_items_004_211_221(cs):
    # 迟到早退脱岗 2 × 1 = 2; 旷工 3 半天 × 2 = 6; 值班电话无人接听 1 × 1 = 1;
    # 学习会议无故缺席 1 × 2 = 2; 工作时间打游戏等 1 × 2 = 2; 下班未关电器 1 × 1 = 1;
    # 无故不参加重大活动被通报 1 × 2 = 2 → 16; 考勤 30 − 16 = 14; total 84 → 一般 (70 ≤ 84 < 85)
    r = score_record(cs, person(late=2, absent=3, duty_phone=1, meeting_absent=1, idle=1,
                                power_left_on=1, event_absent=1), explain=True)
    assert parts_of(r)["attendance"] == D(14)
    assert (r.total, r.grade) == (D(84), "一般")


def test_part_stops_at_zero_扣完为止_004_223_229(cs):
    # 常规工作: 不服从安排 5 × 3 = 15; 工作月记缺交 6 × 2 = 12 → 27 > 25 → 0 (not −2)
    # total 30 + 0 + 30 + 15 = 75 → 一般
    r = score_record(cs, person(disobey=5, log_missing=6), explain=True)
    assert parts_of(r)["routine"] == D(0)
    assert (r.total, r.grade) == (D(75), "一般")
    assert any(s.kind == "floor" and s.path == "routine" for s in r.steps)


def test_key_work_and_democratic_rating_004_237_243(cs):
    # 重点工作: 未按时完成 1 × 3 + 被通报批评 1 × 5 + 未按要求上报 2 × 2 = 12 → 30 − 12 = 18
    # 民主测评: 后3名且不称职票≥2 1 × 2 → 13
    # total 30 + 25 + 18 + 13 = 86 → 良好
    r = score_record(cs, person(key_overdue=1, key_criticized=1, report_missing=2,
                                vote_bottom=1), explain=True)
    parts = parts_of(r)
    assert (parts["key_work"], parts["democratic"]) == (D(18), D(13))
    assert (r.total, r.grade) == (D(86), "良好")


def test_bonus_categories_capped_at_5_and_same_content_highest_004_245_255(cs):
    # 科室受奖 "市级,省级;本局": same commendation at 市级 and 省级 → 3 (市级 dropped); + 本局 1 = 4
    # 个人受奖 "国家级;省级": 5 + 3 = 8 → 封顶 5
    # 克难有为 2 件 × 2 = 4
    # 对外宣传 "省级,市级;市级": one article at 省级 and 市级 → 2; another 市级 → 1; = 3
    # 公益活动 "参加,取得名次;参加;参加": 2 (not 1 + 2) + 1 + 1 = 4
    # 奖励加分 4 + 5 + 4 + 3 + 4 = 20 (under 25); total 100 + 20 = 120 → 好 (above 100)
    r = score_record(cs, person(
        unit_award="市级,省级;本局", unit_award_evidence=DOC,
        personal_award="国家级;省级", personal_award_evidence=DOC,
        hard_task=2, hard_task_evidence=DOC,
        article="省级,市级;市级", article_evidence=DOC,
        welfare="参加,取得名次;参加;参加", welfare_evidence=DOC), explain=True)
    assert (r.bonus, r.total, r.grade) == (D(20), D(120), "好")
    caps = [(s.path, s.value) for s in r.steps if s.kind == "cap"]
    assert caps == [("personal_awards", D(5))]
    dropped = [(s.path, s.data.get("level")) for s in r.steps if s.kind == "dropped"]
    assert dropped == [("unit_award", "市级"), ("article", "市级"), ("welfare", "参加")]


def test_all_five_categories_full_is_exactly_the_overall_cap_004_245(cs):
    # 5 + 5 + (3 × 2 = 6 → 5) + (国家级 3 + 省级 2 = 5) + (2 + 2 + 1 = 5) = 25 = 25分封顶:
    # the overall cap is reached but never cut into; total 125
    r = score_record(cs, person(
        unit_award="国家级", unit_award_evidence=DOC,
        personal_award="国家级", personal_award_evidence=DOC,
        hard_task=3, hard_task_evidence=DOC,
        article="国家级;省级", article_evidence=DOC,
        welfare="取得名次;取得名次;参加", welfare_evidence=DOC), explain=True)
    assert (r.bonus, r.total) == (D(25), D(125))
    assert [s.path for s in r.steps if s.kind == "cap"] == ["hard_tasks"]


def test_bonus_without_written_evidence_is_dropped_004_257(cs):
    # 个人受奖 省级 3, but no 书面依据 → "不得奖励加分" → 0; with it → 3
    r = score_record(cs, person(personal_award="省级"), explain=True)
    assert (r.bonus, r.total) == (D(0), D(100))
    assert any(s.kind == "dropped" and s.path == "personal_award" for s in r.steps)
    r = score_record(cs, person(personal_award="省级", personal_award_evidence=DOC))
    assert (r.bonus, r.total) == (D(3), D(103))


def test_punishments_are_uncapped_004_259_271(cs):
    # 被省市通报批评 2 × 3 = 6; 明查暗访 查处 2 × 8 = 16 + 媒体曝光 1 × 5 = 5;
    # 安定团结事件 1 × 5 = 5; 重大失职 1 × 3 = 3; 应急推诿 1 × 3 = 3 → 38 (no cap)
    # total 100 − 38 = 62 → 差
    r = score_record(cs, person(criticized=2, **{"inspection_found_查处": 2,
                                                 "inspection_found_媒体曝光": 1},
                                unrest=1, major_failure=1, emergency_shirking=1))
    assert (r.deduction, r.total, r.grade) == (D(38), D(62), "差")
    # 扣分不封顶: 15 × 查处 8 = 120 → total 100 − 120 = −20, below zero
    r = score_record(cs, person(**{"inspection_found_查处": 15}))
    assert (r.deduction, r.total, r.grade) == (D(120), D(-20), "差")


def test_time_limit_deduction_bars_好_and_良好_004_273(cs):
    # 限时办结 1 × 5 = 5 → 95 would be 好; "当月考核不得被评为'好'和'良好'" → 一般
    r = score_record(cs, person(time_limit=1))
    assert (r.total, r.tier, r.grade, r.conditions) == (D(95), "一般", "一般",
                                                         ["time_limit"])
    # with a bonus: 95 + 个人受奖 国家级 5 = 100 → still 一般
    r = score_record(cs, person(time_limit=1, personal_award="国家级",
                                personal_award_evidence=DOC))
    assert (r.total, r.grade) == (D(100), "一般")
    # a ceiling, not a floor: 100 − 5 − 查处 3 × 8 = 71 → 一般; − 应急推诿 1 × 3 → 68 → 差
    r = score_record(cs, person(time_limit=1, emergency_shirking=1,
                                **{"inspection_found_查处": 3}))
    assert (r.total, r.grade) == (D(68), "差")


def test_sick_leave_over_12_days_no_grade_004_293(cs):
    r = score_record(cs, person(leave_days="12.5"))
    assert (r.total, r.grade, r.grade_text, r.decided_by) == (D(100), None, "不定等次",
                                                               "long_leave")
    r = score_record(cs, person(leave_days=12))     # 12 is not "超过12"
    assert r.grade == "好"


def test_refusing_the_assessment_is_差_004_293(cs):
    r = score_record(cs, person(refused="是"))
    assert (r.total, r.grade, r.decided_by) == (D(100), "差", "refused")
    # refusing comes first even with long leave
    r = score_record(cs, person(refused="是", leave_days=20))
    assert (r.grade, r.decided_by) == ("差", "refused")


def test_好_quota_40_percent_per_leader_floor_and_tie_keys_004_207(cs):
    # 张志强's 8 people: 好 places = 40% × 8 = 3.2 → "以内" → 3
    lead = "张志强"
    a = [
        person("甲1", lead, personal_award="市级", personal_award_evidence=DOC),  # 102
        person("甲2", lead),                         # 100
        person("甲3", lead, late=2),                 # 考勤 28 → 98, 重点工作 30
        person("甲4", lead, key_poor=1),             # 重点工作 28 → 98
        person("甲5", lead, meeting_absent=2),       # 96
        person("甲6", lead, key_overdue=2, late=4),  # 90 → 良好
        person("甲7", lead, disobey=5),              # 85 → 良好
        person("甲8", lead, absent=10),              # 80 → 一般
    ]
    # 刘建华's 5 people all at 100 with equal parts: places 40% × 5 = 2; five tied at the line,
    # the keys (重点工作, 常规工作, 考勤工作) tie too → all out → no 好 in this group
    b = [person(f"乙{i}", "刘建华") for i in range(1, 6)]
    pop = score_population(cs, a + b, explain=True)
    grades = [r.grade for r in pop.records]
    # 好 candidates 102, 100, 98, 98, 96: 102 and 100 in; at 98 甲3 (重点工作 30) beats 甲4 (28)
    assert grades[:8] == ["好", "好", "好", "良好", "良好", "良好", "良好", "一般"]
    assert grades[8:] == ["良好"] * 5
    assert [(q.group, q.places, q.candidates, q.kept) for q in pop.quotas] == [
        (("张志强",), 3, 5, 3), (("刘建华",), 2, 5, 0)]
    # both ties are reported: 甲3/甲4 decided by the keys, 乙1…乙5 by then: all_out
    assert [(t.group, t.decision, t.rows, t.kept) for t in pop.ties] == [
        (("张志强",), "keys", [3, 4], [3]), (("刘建华",), "all_out", [9, 10, 11, 12, 13], [])]


def test_quota_base_counts_people_without_a_grade_004_207_293(cs):
    # "分管人员参加平时考核总人数": 5 people, one on 13 days' sick leave (参加, 不确定等次)
    # → places 40% × 5 = 2 (not 40% × 4 = 1.6 → 1): 104 and 103 keep 好, 102 and 101 → 良好
    c = [person("丙1", "陈晓东", personal_award="省级", personal_award_evidence=DOC,
                welfare="参加", welfare_evidence=DOC),                              # 104
         person("丙2", "陈晓东", personal_award="省级", personal_award_evidence=DOC),  # 103
         person("丙3", "陈晓东", personal_award="市级", personal_award_evidence=DOC),  # 102
         person("丙4", "陈晓东", personal_award="本局", personal_award_evidence=DOC),  # 101
         person("丙5", "陈晓东", leave_days=13)]
    pop = score_population(cs, c)
    assert [r.total for r in pop.records] == [D(104), D(103), D(102), D(101), D(100)]
    assert [r.grade_text for r in pop.records] == ["好", "好", "良好", "良好", "不定等次"]


def test_bottom_20_percent_of_the_whole_bureau_flagged_004_303(cs):
    # 10 people across two leaders; 后20% of 10 = 2, ranked over the whole bureau:
    # the two lowest (61, 70) are both 张志强's; 刘建华's lowest (94) is not flagged
    # (ranked per leader it would be: 20% × 5 = 1).
    # 甲4: 旷工 15 半天 × 2 = 30 → 考勤 0 → 70
    # 甲5: 旷工 30 + 迟到 1 = 31 → 考勤 0 (扣完为止: the 迟到 is absorbed); 不服从 3 × 3 = 9
    #      → 常规 16; 0 + 16 + 30 + 15 = 61
    a = [person("甲1", "张志强"), person("甲2", "张志强", late=1),
         person("甲3", "张志强", late=2), person("甲4", "张志强", absent=15),       # 70
         person("甲5", "张志强", absent=15, disobey=3, late=1)]                    # 61
    b = [person("乙1", "刘建华"), person("乙2", "刘建华", late=3),
         person("乙3", "刘建华", late=4), person("乙4", "刘建华", late=5),
         person("乙5", "刘建华", late=6)]                                          # 94
    pop = score_population(cs, a + b)
    assert [r.total for r in pop.records] == [D(x) for x in
                                              (100, 99, 98, 70, 61, 100, 97, 96, 95, 94)]
    flagged = [r.values["name"] for r in pop.records if BOTTOM_FLAG in r.flags]
    assert flagged == ["甲4", "甲5"]


def test_bottom_20_percent_ties_at_the_line_are_all_flagged_004_303(cs):
    # 5 people: 100, 100, 90, 80, 80. 后20% of 5 = 1, but the two 80s share the last place
    # (ties share the position, as RANK.EQ does), so both are flagged.
    pop = score_population(cs, [
        person("甲1"), person("甲2"), person("甲3", late=10),
        person("甲4", absent=10), person("甲5", key_overdue=5, late=5)])
    assert [r.total for r in pop.records] == [D(100), D(100), D(90), D(80), D(80)]
    assert [BOTTOM_FLAG in r.flags for r in pop.records] == [False, False, False, True, True]
    assert [(t.tier, t.places, t.rows, t.decision) for t in pop.ties] == [
        ("bottom_20", 1, [4, 5], "all_in")]


def read_rows(cs):
    by_label = {s.label: s.id for s in cs.inputs}
    with RECORDS.open(encoding="utf-8-sig", newline="") as f:
        return [{by_label[k]: v for k, v in row.items()} for row in csv.DictReader(f)]


def test_example_records(cs):
    pop = score_population(cs, read_rows(cs), first_row=2)
    summary = pop.summary()
    # two ties at a 好 line: 赵国庆/孙丽 decided by the keys, rows 19–21 tie on them too
    assert (summary["records"], summary["invalid"], summary["ties"]) == (24, 0, 2)
    assert [(t.decision, t.rows, t.kept) for t in pop.ties] == [
        ("keys", [4, 5], [4]), ("all_out", [19, 20, 21], [])]
    assert pop.grade_counts() == {"好": 7, "良好": 11, "一般": 3, "差": 2, "不定等次": 1}
    by_name = {r.values["name"]: r for r in pop.records}
    # 孙丽: 重点工作 28 → 98, tied at 张志强's line with 赵国庆 (考勤 28, 重点工作 30) → 良好
    assert (by_name["赵国庆"].grade, by_name["孙丽"].grade) == ("好", "良好")
    # 陈刚: 科室受奖 "市级,省级" → 3, 个人受奖 本局 → 1 → 104
    assert by_name["陈刚"].total == D(104)
    # 杨洋: 克难有为 3 × 2 = 6 → 5 → 105
    assert by_name["杨洋"].total == D(105)
    # 林峰: 迟到 1 → 99; 国家级 article without 书面依据 → 0
    assert (by_name["林峰"].bonus, by_name["林峰"].total) == (D(0), D(99))
    # 高峰: 旷工 16 半天 × 2 = 32 → 考勤 0 (扣完为止); 缺交 1 → 23; 0 + 23 + 30 + 15 = 68 → 差
    assert (by_name["高峰"].total, by_name["高峰"].grade) == (D(68), "差")
    # 陈晓东's group: 徐涛 103 好, then 马丽/朱磊/胡静 all 100 with equal parts → all out
    assert [by_name[n].grade for n in ("徐涛", "马丽", "朱磊", "胡静")] == [
        "好", "良好", "良好", "良好"]
    # 曹宇: 限时办结 2 × 5 + 安定团结 5 + 查处 8 = 23 → 77 → 一般 (capped there anyway)
    assert (by_name["曹宇"].total, by_name["曹宇"].grade) == (D(77), "一般")
    assert (by_name["罗斌"].grade, by_name["郑华"].grade_text) == ("差", "不定等次")
    # 后20% of 24 = 4.8 → 4: 高峰 68, 宋杰 74, 曹宇 77, 梁静 89
    flagged = sorted(r.values["name"] for r in pop.records if BOTTOM_FLAG in r.flags)
    assert flagged == sorted(["高峰", "宋杰", "曹宇", "梁静"])


@pytest.mark.parametrize(("extra", "grade", "payout"), [
    ({}, "好", D(300)),                            # clean month: 100 → 好 → 300 元
    ({"late": 10}, "良好", D(200)),                # 30 − 10 = 20 → total 90 → 良好 → 200 元
    ({"late": 10, "key_overdue": 3}, "一般", D(0)),  # 90 − 9 = 81 → 一般 → none
])
def test_payout_by_grade_004_299(cs, extra, grade, payout):
    # 004:299 物质奖励 for 好 and 良好; the amounts are the office's own (the seed has none)
    r = score_record(cs, person(**extra))
    assert (r.grade, r.payout) == (grade, payout)
