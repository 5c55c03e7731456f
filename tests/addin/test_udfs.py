"""The PERF_* worksheet functions, called with the argument shapes xlwings passes.

xlwings hands a UDF: scalars for single cells, lists of lists for ranges (``ndim=2``), None
for empty cells, floats for numbers, datetime for dates, str for text, and Excel's error text
("#N/A", with ``err_to_str=True``) for error values.
"""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal
from pathlib import Path

import pytest

from xlbridge import udfs
from xlbridge.udfs import (
    PERF_BONUS,
    PERF_CAP,
    PERF_DEDUCT,
    PERF_EXPLAIN,
    PERF_GRADE,
    PERF_GRADES,
    PERF_RESULTS,
    PERF_SCHEME,
    PERF_SCORE,
    from_wire,
    to_wire,
)
from xlbridge.xlvalues import ExcelError

pytestmark = pytest.mark.usefixtures("store")

BL = "bailian-township"
ML = "meiling-street-quarterly"
#: A blank cell given for ``flags``: "none of the conditions hold" (not an omitted argument).
NONE_HOLD = [[None]]
#: 梅岭's tiers and quotas without its groups, conditions or payout rules: what a per-row
#: PERF_GRADE with a population can compute exactly.
QP = "quota-plain"
QP_TEXT = """\
id: quota-plain
version: 1
title: 名额测试方案
unit: 个人
period: quarter
max_score: 100
parts: [{id: score, title: 考评得分, points: 100, method: direct}]
tiers:
  - {label: 优秀, at_least: 90}
  - {label: 良好, at_least: 75, below: 90}
  - {label: 称职, at_least: 60, below: 75}
  - {label: 不称职, below: 60}
quotas:
  limits: [{tier: 优秀, share: 25%}, {tier: 良好, share: 30%}]
  rounding: floor
  ties: {rule: all_out}
payout:
  amounts: {优秀: 2100, 良好: 1800, 称职: 1500}
"""


@pytest.fixture(autouse=True)
def _quota_plain(store):
    (Path(store.dirs[0]) / "quota-plain.yaml").write_text(QP_TEXT, encoding="utf-8")
BL_HEADER = [["单位", "指标考核", "公众评议", "察访核验扣分(分)", "一票否决或书面点名批评"]]


def err(value: object) -> ExcelError:
    assert isinstance(value, ExcelError), f"expected an Excel error, got {value!r}"
    return value


# --------------------------------------------------------------------------- names


def test_names_and_signatures_are_stable():
    sigs = {name: str(inspect.signature(f)) for name, f in udfs.FUNCTIONS.items()}
    assert sigs == {
        "PERF_SCORE": "(scheme, inputs, headers=None)",
        "PERF_GRADE": "(score, scheme, population=None, flags=None)",
        "PERF_GRADES": "(scheme, scores, flags=None, groups=None, tiebreak=None)",
        "PERF_RESULTS": "(scheme, records, headers=None, columns=None, first_row=None)",
        "PERF_BONUS": "(grade_or_score, scheme, base=None, months=None)",
        "PERF_CAP": "(values, cap, per_item_cap=None)",
        "PERF_DEDUCT": "(full, deductions, cap=None)",
        "PERF_EXPLAIN": "(scheme, inputs, headers=None)",
        "PERF_SCHEME": "(scheme)",
    }
    for f in udfs.FUNCTIONS.values():
        assert f.__doc__ and any("\u4e00" <= ch <= "\u9fff" for ch in f.__doc__)
        assert not f.__annotations__  # xlwings would read annotations as converters


# --------------------------------------------------------------------------- PERF_SCORE


def test_score_by_position_and_by_header():
    # position: the order of CompiledScheme.inputs (单位, 一票否决, 指标, 公众, 扣分)
    assert PERF_SCORE(BL, [["桥头村", None, 90.0, 92.0, None]]) == Decimal("90.40")
    # header row, in the template's own order, labels or ids
    row = [["白莲村", 96.0, 87.5, 1.5, None]]
    assert PERF_SCORE(BL, row, BL_HEADER) == Decimal("92.80")
    ids = [["unit_name", "indicator", "public", "inspection", "veto"]]
    assert PERF_SCORE(BL, row, ids) == Decimal("92.80")
    # a column instead of a row, numbers stored as text, full-width digits, percent
    col = [["白莲村"], ["９６"], ["87.5"], ["1.5"], [None]]
    assert PERF_SCORE(BL, col, BL_HEADER) == Decimal("92.80")
    # a percentage for a score in points is ambiguous ("87.5%" is 0.875 to Excel, 87.5
    # points to the clerk who typed it): an error that says so, never a silent guess
    e = err(PERF_SCORE(BL, [["x", 96.0, "87.5%", 1.5, None]], BL_HEADER))
    assert e.code == "#VALUE!" and "百分比" in e.reason and "公众评议" in e.reason


def test_score_reads_floats_as_excel_shows_them():
    # 0.1 + 0.2 computed in a cell arrives as 0.30000000000000004; Excel shows 0.3
    row = [["x", 89.0, 90.0, 0.1 + 0.2, None]]
    assert PERF_SCORE(BL, row, BL_HEADER) == Decimal("88.90")


def test_score_errors_are_excel_errors_with_reasons():
    e = err(PERF_SCORE(BL, [["x", 90.0, "#N/A", None, None]], BL_HEADER))
    assert e.code == "#VALUE!" and "公众评议" in e.reason and "#N/A" in e.reason
    e = err(PERF_SCORE(BL, [["x", 190.0, 90.0, None, None]], BL_HEADER))
    assert e.code == "#NUM!" and "0 到 100" in e.reason
    e = err(PERF_SCORE(BL, [["x", "九十", 90.0, None, None]], BL_HEADER))
    assert e.code == "#VALUE!" and "应为数字" in e.reason
    e = err(PERF_SCORE(BL, [["x", dt.datetime(2024, 1, 5), 90.0, None, None]], BL_HEADER))
    assert "日期" in e.reason
    e = err(PERF_SCORE(BL, [["x", None, 90.0, None, None]], BL_HEADER))
    assert e.code == "#VALUE!" and "不能为空" in e.reason
    e = err(PERF_SCORE(BL, [["x", 1.0]]))
    assert e.code == "#VALUE!" and "5 个单元格" in e.reason
    e = err(PERF_SCORE(BL, [["x", 90.0, 90.0]], [["单位", "指标考核", "备注"]]))
    assert "公众评议" in e.reason
    e = err(PERF_SCORE(BL, [["x", 1.0], ["y", 2.0]]))
    assert "一行或一列" in e.reason


def test_unknown_scheme_is_na_with_the_known_ones():
    e = err(PERF_SCORE("no-such-scheme", [[1.0]]))
    assert e.code == "#N/A" and "no-such-scheme" in e.reason and BL in e.reason
    assert err(PERF_SCORE(None, [[1.0]])).code == "#VALUE!"
    assert err(PERF_SCORE("#REF!", [[1.0]])).code == "#REF!"
    assert err(PERF_GRADE(90.0, f"{BL}@9")).code == "#N/A"


def test_rank_part_needs_the_population():
    row = [["王", "科级干部", True, False, 0.0, 0.0, 0.0, None, 62.0, None, None, None, None,
            3.0, 24.5, None, None, None, None, None, 0.0, 87.0]]
    e = err(PERF_SCORE(ML, row))
    assert e.code == "#N/A" and "排名" in e.reason


# --------------------------------------------------------------------------- grades


def test_grade_alone_is_the_tier_before_quotas():
    assert PERF_GRADE(89.95, BL) == "良好"   # rounded to 2 places first: 89.95 < 90
    assert PERF_GRADE(90.0, BL) == "优"
    assert PERF_GRADE("85%", BL) == "差"       # 0.85 points
    assert PERF_GRADE(" ８８ ", BL) == "良好"
    assert PERF_GRADE(89.96, ML, None, NONE_HOLD) == "优秀"    # 梅岭 rounds to 1 place: 90.0
    assert err(PERF_GRADE(None, BL)).code == "#VALUE!"
    assert err(PERF_GRADE(True, BL)).code == "#VALUE!"
    assert err(PERF_GRADE("#DIV/0!", BL)).code == "#VALUE!"


def test_grade_refuses_what_a_total_cannot_tell():
    # 梅岭's conditions read 旷工, 处分…: without flags a grade from the total alone may be
    # wrong (a 95 with 旷工 3 days is 不称职), so the cell says what to pass instead
    e = err(PERF_GRADE(95.0, ML))
    assert e.code == "#VALUE!" and "旷工" in e.reason and "flags" in e.reason
    assert "PERF_RESULTS" in e.reason
    # 泰顺: 优秀 needs 安全 ≥ 合格 — no argument can carry that: #VALUE!, never 优秀
    e = err(PERF_GRADE(88.0, "taishun-transport"))
    assert e.code == "#VALUE!" and "优秀" in e.reason and "PERF_RESULTS" in e.reason
    e = err(PERF_GRADES("taishun-transport", [[88.0]])[0][0])
    assert e.code == "#VALUE!" and "PERF_RESULTS" in e.reason
    # a flag-only condition (白莲's 一票否决 flags, it does not change the grade) needs nothing
    assert PERF_GRADE(95.0, BL) == "优"


def test_grade_flags_apply_the_schemes_conditions():
    assert PERF_GRADE(95.0, ML, None, "disciplined") == "不称职"
    assert PERF_GRADE(95.0, ML, None, [["受党纪政纪处分或在处分期间"]]) == "不称职"
    assert PERF_GRADE(95.0, ML, None, "warned") == "不定等次"
    assert PERF_GRADE(95.0, ML, None, [[None]]) == "优秀"
    e = err(PERF_GRADE(95.0, ML, None, "迟到"))
    assert e.code == "#VALUE!" and "当季旷工累计超过2个工作日" in e.reason   # titles, not ids


def test_grade_with_population_applies_quotas_like_rank():
    pop = [[95.0], [92.0], [91.0], [90.0], [80.0], [70.0], [60.0], [50.0]]
    # 8 people: 优秀 ≤ 25% → 2 (floor), 良好 ≤ 30% → 2
    got = [PERF_GRADE(p[0], QP, pop) for p in pop]
    assert got == ["优秀", "优秀", "良好", "良好", "称职", "称职", "称职", "不称职"]
    # blanks are not records: 4 people → 优秀 1, 良好 1
    assert PERF_GRADE(91.0, QP, [[95.0, 92.0, 91.0, None, "", 60.0]]) == "称职"
    e = err(PERF_GRADE(99.0, QP, pop))
    assert e.code == "#N/A" and "不在" in e.reason


def test_grade_with_population_refuses_what_one_row_cannot_know():
    pop = [[95.0], [92.0], [91.0], [90.0]]
    # 梅岭 counts quotas per 考核类别: one row does not know the others' categories
    e = err(PERF_GRADE(95.0, ML, pop, NONE_HOLD))
    assert e.code == "#VALUE!" and "考核类别" in e.reason and "PERF_GRADES" in e.reason
    # 县直部门: another unit's 取消评先 (major accident) frees a 先进 place — one row cannot see it
    e = err(PERF_GRADE(95.0, "county-dept-2016", pop, NONE_HOLD))
    assert e.code == "#VALUE!" and "影响名额" in e.reason


def test_grade_ties_at_the_quota_line_follow_the_declared_rule():
    # a tie on the total at the line, rule all_out (“以内”): both out
    pop = [[95.0], [92.0], [92.0], [80.0], [70.0], [60.0], [50.0], [40.0]]
    assert [PERF_GRADE(p[0], QP, pop) for p in pop[:3]] == ["优秀", "良好", "良好"]


def test_a_tie_the_keys_must_decide_is_never_settled_without_them():
    # 梅岭 breaks a tie at the line by 党政领导测评 then 工作考评: PERF_GRADES without those
    # scores cannot know who gets the place, so the tied records show #VALUE!, not a guess
    scores = [[95.0], [92.0], [92.0], [80.0], [70.0], [60.0], [50.0], [40.0]]
    out = [r[0] for r in PERF_GRADES(ML, scores, [[None]] * 8, [["科级干部"]] * 8)]
    assert out[0] == "优秀" and out[3:] == ["良好", "称职", "称职", "不称职", "不称职"]
    for tied in out[1:3]:
        e = err(tied)
        assert e.code == "#VALUE!" and "第 2、3 行" in e.reason and "党政领导测评" in e.reason


def test_grades_spill_one_column():
    scores = [[95.0], [92.0], [None], [91.0], [90.0], [80.0], [70.0], [60.0], [50.0]]
    out = PERF_GRADES(QP, scores)
    assert out == [["优秀"], ["优秀"], [""], ["良好"], ["良好"], ["称职"], ["称职"], ["称职"],
                   ["不称职"]]
    flags = [["disciplined"], [None], [None], [None], [None], [None], [None], [None], [None]]
    groups = [["科级干部"]] * 9
    out = PERF_GRADES(ML, scores, flags, groups)
    assert out[0] == ["不称职"] and out[1] == ["优秀"] and out[3] == ["优秀"]


def test_grades_refuse_a_missing_group_or_condition_column():
    scores = [[95.0], [92.0]]
    e = err(PERF_GRADES(ML, scores, [[None]] * 2)[0][0])
    assert e.code == "#VALUE!" and "考核类别" in e.reason and "groups" in e.reason
    e = err(PERF_GRADES(ML, scores, None, [["科级干部"]] * 2)[0][0])
    assert e.code == "#VALUE!" and "flags" in e.reason


def test_grades_per_group():
    scores = [[95.0], [92.0], [91.0], [90.0], [95.0], [60.0], [70.0], [80.0]]
    groups = [["科级干部"]] * 4 + [["一般工作人员"]] * 4
    out = [r[0] for r in PERF_GRADES(ML, scores, [[None]] * 8, groups)]
    # 4 per group: 优秀 ≤ 25% → 1 each
    assert out == ["优秀", "良好", "称职", "称职", "优秀", "称职", "称职", "良好"]


def test_grades_bad_rows_withhold_the_group_and_say_why():
    out = PERF_GRADES(QP, [[95.0], ["abc"], [80.0]])
    first, bad, third = (from_wire(to_wire(r[0])) for r in out)
    assert err(bad).code == "#VALUE!"
    assert err(first).code == "#N/A" and "第 2 行" in first.reason
    assert err(third).code == "#N/A"


def test_grades_argument_shape_errors():
    out = PERF_GRADES(QP, [[95.0], [90.0]], [["x"]])
    assert err(out[0][0]).code == "#VALUE!"
    out = PERF_GRADES(QP, [[95.0, 1.0], [90.0, 2.0]])
    assert err(out[0][0]).code == "#VALUE!"
    out = PERF_GRADES("nope", [[95.0]])
    assert err(out[0][0]).code == "#N/A"


FB = "finance-bureau-points@1"


def test_grades_tiebreak_by_declared_part_scores():
    # finance-bureau-points: 好 at most 40% per 分管领导 group (floor), ties at the line broken
    # by 重点工作, then 常规工作, then 考勤工作, a tie on all of them leaves all out (004:203).
    # Five records → 5 × 40% = 2 places for 好. Totals 99, 98, 98, 97, 96: 99 is in; 98 and 98
    # tie for the second place.
    scores = [[99.0], [98.0], [98.0], [97.0], [96.0]]
    none, leader = [[None]] * 5, [["张志强"]] * 5
    # without tiebreak the keys cannot be applied: the two 98s are #VALUE!, never a guess
    out = [r[0] for r in PERF_GRADES(FB, scores, none, leader)]
    assert out[0] == "好" and out[3:] == ["良好", "良好"]
    assert all(err(x).code == "#VALUE!" and "tiebreak" in x.reason for x in out[1:3])
    # 重点工作 equal (30), 常规工作 23 < 25: the third record takes the place
    ties = [[30.0, 25.0, 30.0], [30.0, 23.0, 30.0], [30.0, 25.0, 28.0], [30.0, 25.0, 29.0],
            [30.0, 25.0, 30.0]]
    assert [r[0] for r in PERF_GRADES(FB, scores, none, leader, ties)] == \
        ["好", "良好", "好", "良好", "良好"]
    # equal on every key as well: the rule's `then` (all_out)
    same = [[30.0, 25.0, 30.0]] * 5
    assert [r[0] for r in PERF_GRADES(FB, scores, none, leader, same)] == \
        ["好", "良好", "良好", "良好", "良好"]


def test_grades_tiebreak_errors_name_the_keys():
    scores, none, leader = [[99.0], [98.0]], [[None]] * 2, [["张志强"]] * 2
    e = err(PERF_GRADES(FB, scores, none, leader, [[30.0, 25.0], [30.0, 23.0]])[0][0])
    assert e.code == "#VALUE!" and "重点工作、常规工作、考勤工作" in e.reason
    e = err(PERF_GRADES(FB, scores, none, leader, [[30.0, "x", 1.0], [30.0, 23.0, 1.0]])[0][0])
    assert e.code == "#VALUE!" and "常规工作" in e.reason
    e = err(PERF_GRADES(FB, scores, none, leader, [[1.0, 2.0, 3.0]])[0][0])    # one row for two
    assert e.code == "#VALUE!"
    e = err(PERF_GRADES(BL, scores, None, None, [[1.0], [2.0]])[0][0])         # no tie keys
    assert e.code == "#VALUE!" and "ties.keys" in e.reason


def test_grades_of_10000_rows_and_ties():
    scores = [[round(50 + (i * 7919 % 5000) / 100, 1)] for i in range(10_000)]
    out = PERF_GRADES(QP, scores)
    assert len(out) == 10_000
    assert {r[0] for r in out} <= {"优秀", "良好", "称职", "不称职"}
    top = sum(1 for r in out if r[0] == "优秀")
    assert 0 < top <= 2500


# --------------------------------------------------------------------------- payouts, blocks


def test_bonus_by_grade_or_score():
    assert PERF_BONUS("优秀", QP) == Decimal("2100.00")
    assert PERF_BONUS("称职", QP, None, 2.0) == Decimal("1000.00")   # 2 of 3 months
    assert PERF_BONUS("不称职", QP) == Decimal("0.00")
    assert PERF_BONUS("不定等次", QP) == Decimal("0.00")
    assert PERF_BONUS(None, QP) == Decimal("0.00")
    assert PERF_BONUS("好", FB) == Decimal("300.00")
    assert PERF_BONUS(80.0, "qitai-four-level", 5000.0) is not None
    assert err(PERF_BONUS("优", QP)).code == "#VALUE!"
    assert err(PERF_BONUS("优秀", QP, None, 4.0)).code == "#NUM!"
    assert err(PERF_BONUS("优", BL)).code == "#N/A"
    assert err(PERF_BONUS("#N/A", QP)).code == "#N/A"


def test_bonus_refuses_what_a_grade_cannot_tell():
    # 梅岭 pays 优秀 with over 15 days' leave as 良好, and the leaving pro rata: the payout
    # rules read inputs a grade does not carry
    e = err(PERF_BONUS("优秀", ML))
    assert e.code == "#VALUE!" and "请假" in e.reason and "PERF_RESULTS" in e.reason
    # with quotas, a score does not decide the final grade
    e = err(PERF_BONUS(95.0, QP))
    assert e.code == "#VALUE!" and "名额" in e.reason


def test_cap_and_deduct_building_blocks():
    assert PERF_CAP([[1.0, 2.0, 3.0]], 4.0) == Decimal(4)
    assert PERF_CAP([[1.0, 2.0, 3.0]], 10.0, 1.5) == Decimal("4.0")
    assert PERF_CAP([[0.1], [0.2], [None]], 4.0) == Decimal("0.3")
    assert PERF_CAP([["0.5", "", None]], None) == Decimal("0.5")
    assert err(PERF_CAP([[1.0, "#N/A"]], 4.0)).code == "#VALUE!"
    assert PERF_DEDUCT(10.0, [[3.0], [4.0], [5.0]]) == 0          # 扣完为止
    assert PERF_DEDUCT(10.0, [[3.0], [4.0]], 3.0) == Decimal(7)   # 扣满3分为止
    assert PERF_DEDUCT(100.0, [[0.5, None, 1.0]]) == Decimal("98.5")
    assert err(PERF_DEDUCT(10.0, [[-1.0]])).code == "#NUM!"
    assert err(PERF_DEDUCT(None, [[1.0]])).code == "#VALUE!"


# --------------------------------------------------------------------------- text


def test_explain_is_where_reasons_are_read():
    text = PERF_EXPLAIN(BL, [["白莲村", 96.0, 87.5, 1.5, None]], BL_HEADER)
    assert text.startswith("bailian-township@1 白莲镇政府绩效管理评估\n")
    assert "指标考核" in text and "总分 = 94.3 − 扣分1.5 = 92.8" in text and "“优”" in text
    text = PERF_EXPLAIN(BL, [["白莲村", 960.0, 87.5, 1.5, None]], BL_HEADER)
    assert "数据有误" in text and "0 到 100" in text
    text = PERF_EXPLAIN("nope", [[1.0]])
    assert text.startswith("#N/A ") and "nope" in text


def test_scheme_says_which_version_and_when(store, tmp_path: Path):
    assert PERF_SCHEME(BL).startswith("bailian-township@1 白莲镇政府绩效管理评估 · 随软件提供")
    synced = Path(store.dirs[0])
    text = (Path(udfs.__file__).parents[1] / "workbooks/schemes/bailian-township.yaml"
            ).read_text(encoding="utf-8").replace("version: 1", "version: 2", 1)
    (synced / "bailian-township@2.yaml").write_text(text, encoding="utf-8")
    assert PERF_SCHEME(f"{BL}@1").endswith(f"已有新版本 {BL}@2")
    assert " · 同步于 " in PERF_SCHEME(BL) and PERF_SCHEME(BL).startswith(f"{BL}@2")
    assert err(PERF_SCHEME("")).code == "#VALUE!"


# --------------------------------------------------------------------------- wire, cache


def test_wire_format_for_the_vba_wrapper():
    assert to_wire(Decimal("90.40")) == 90.4 and type(to_wire(Decimal(1))) is float
    assert to_wire(ExcelError("#N/A", "找不到")) == "#N/A 找不到"
    assert to_wire([["优秀"], [ExcelError("#VALUE!")]]) == [["优秀"], ["#VALUE!"]]
    assert from_wire("#NUM! 太大") == ExcelError("#NUM!")
    assert from_wire("#NUM! 太大").reason == "太大"
    assert from_wire("#1 名") == "#1 名"


def test_wire_through_xlwings_return_conversion(remote_engine):
    from xlwings import conversion

    out = conversion.write(PERF_GRADES(QP, [[95.0], ["x"]]), None,
                           {"convert": udfs.ExcelCell}, engine_name="remote")
    assert out[0][0].startswith("#N/A ") and out[1][0].startswith("#VALUE! ")
    assert conversion.write(PERF_SCORE(BL, [["x", None, 90.0, 92.0, None]]), None,
                            {"convert": udfs.ExcelCell}, engine_name="remote") == [[90.4]]


def test_a_bug_becomes_value_error_not_a_traceback(monkeypatch):
    def boom(*a, **k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(udfs, "score_record", boom)
    e = err(PERF_SCORE(BL, [["x", None, 90.0, 92.0, None]]))
    assert e.code == "#VALUE!" and "ZeroDivisionError" in e.reason
    assert "Traceback" not in e.reason


def test_scheme_is_read_and_validated_once_for_a_whole_sheet(store, monkeypatch):
    import xlbridge.store as store_module

    calls = {"load": 0, "compile": 0}
    real_load, real_compile = store_module.load_scheme_file, store_module.compile_scheme

    def load(*a, **k):
        calls["load"] += 1
        return real_load(*a, **k)

    def compile_(*a, **k):
        calls["compile"] += 1
        return real_compile(*a, **k)

    monkeypatch.setattr(store_module, "load_scheme_file", load)
    monkeypatch.setattr(store_module, "compile_scheme", compile_)
    store.recheck_seconds = 60
    pop = [[float(50 + i % 50)] for i in range(3000)]
    for i in range(3000):
        PERF_SCORE(BL, [["x", float(60 + i % 40), 90.0, None, None]], BL_HEADER)
        PERF_GRADE(pop[i][0], QP, pop)
        PERF_BONUS("良好", QP)
    assert calls["compile"] == 2          # one per scheme
    files = [p for d in store.dirs for p in Path(d).rglob("*.yaml")]
    assert calls["load"] <= len(files)    # the folders were read once: each file at most once


def test_cache_notices_a_synced_scheme(store):
    synced = Path(store.dirs[0])
    assert PERF_GRADE(86.0, BL) == "良好"
    text = (Path(udfs.__file__).parents[1] / "workbooks/schemes/bailian-township.yaml"
            ).read_text(encoding="utf-8")
    text = text.replace("version: 1", "version: 2", 1).replace(
        "{label: 良好, at_least: 85", "{label: 良好, at_least: 87", 1).replace(
        "{label: 一般, at_least: 75, below: 85", "{label: 一般, at_least: 75, below: 87", 1)
    (synced / "bl2.yaml").write_text(text, encoding="utf-8")
    assert PERF_GRADE(86.0, BL) == "一般"           # newest version
    assert PERF_GRADE(86.0, f"{BL}@1") == "良好"    # pinned version unchanged


def test_scores_the_scheme_cannot_produce_are_num_errors():
    # 白莲镇: parts 100 points, 察访核验 deducts at most 3 → totals run from −3 to 100
    assert err(PERF_GRADE(150, BL)).code == "#NUM!"
    assert "-3 到 100" in err(PERF_GRADE(-5, BL)).reason
    assert PERF_GRADE(100, BL) == "优" and PERF_GRADE(0, BL) == "差"   # 0 … max always valid
    # 梅岭: up to 2 bonus points over 100
    assert err(PERF_GRADE(150, ML, None, NONE_HOLD)).code == "#NUM!"
    out = PERF_GRADES(QP, [[150.0], [80.0]])
    assert err(out[0][0]).code == "#NUM!"


@pytest.mark.parametrize("value", [1e30, "9" * 400, 1.7e308, -1e16])
def test_absurdly_large_numbers_are_num_errors_not_internal_errors(value):
    assert err(PERF_GRADE(value, BL)).code == "#NUM!"
    assert err(PERF_BONUS(value, "qitai-four-level", 5000.0)).code == "#NUM!"
    assert err(PERF_CAP([[value, 1.0]], None)).code == "#NUM!"
    assert err(PERF_GRADES(QP, [[value]])[0][0]).code == "#NUM!"


def test_caps_and_full_marks_may_not_be_negative():
    assert err(PERF_DEDUCT(10, [[3]], -1)).code == "#NUM!"       # would give 11 > full
    assert err(PERF_CAP([[1]], -1)).code == "#NUM!"
    assert err(PERF_CAP([[1]], 5, -1)).code == "#NUM!"
    assert err(PERF_DEDUCT(-10, [[1]])).code == "#NUM!"
    assert PERF_DEDUCT(10, [[3], [4]], 5) == 5 and PERF_CAP([[3, 4]], 5, 3) == 5


# --------------------------------------------------------------------------- PERF_RESULTS


def _records_of(scheme_id: str) -> tuple[list[list[object]], list[list[str]]]:
    """A shipped scheme's example records as a sheet holds them: a header row of labels and
    one row of cells per record (numbers as floats, as Excel hands them over)."""
    import csv

    from tests.conftest import SCHEMES

    with (SCHEMES / f"{scheme_id}.records.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))

    def cell(text: str) -> object:
        try:
            return float(text)
        except ValueError:
            return text or None

    return [[cell(c) for c in row] for row in rows[1:]], [rows[0]]


@pytest.mark.parametrize("scheme_id", ["meiling-street-quarterly", "county-dept-2016",
                                       "finance-bureau-points", "taishun-transport",
                                       "bailian-township", "village-2016"])
def test_results_are_exactly_what_xlbridge_score_gives(scheme_id):
    # the always-right form: the whole input block and its header row, one formula
    from xlbridge.csvio import read_records
    from xlbridge.engine import score_population
    from xlbridge.store import default_store

    cs = default_store().get(scheme_id)
    rows, header = _records_of(scheme_id)
    out = PERF_RESULTS(scheme_id, rows, header, "总分,等次,奖金,排名,标记", 2)
    data = read_records(f"workbooks/schemes/{scheme_id}.records.csv", cs.inputs)
    pop = score_population(cs, data.rows, first_row=data.row_numbers)
    assert len(out) == len(pop.records)
    for got, r in zip(out, pop.records, strict=True):
        total, grade, pay, rank, flags = got
        if r.errors:
            assert err(total).code in ("#VALUE!", "#NUM!")
            continue
        assert total == r.total
        if r.withheld:
            assert err(grade).code == "#N/A"
            continue
        assert grade == r.grade_text and rank == (r.rank if r.rank is not None else "")
        if cs.scheme.payout:
            assert pay == r.payout
        else:
            assert err(pay).code == "#N/A"
        assert flags == ("；".join(r.flags) or "")


def test_results_columns_blank_rows_and_row_numbers():
    rows, header = _records_of("meiling-street-quarterly")
    blank = [None] * len(rows[0])
    out = PERF_RESULTS(ML, [rows[0], blank, *rows[1:]], header, [["等次", "总分"]], 6)
    assert out[1] == ["", ""]                                    # a blank row is no record
    assert [len(r) for r in out] == [2] * (len(rows) + 1)
    assert isinstance(out[0][1], Decimal) and isinstance(out[0][0], str)
    # part scores by their title, and the breakdown, name rows as the sheet numbers them
    out = PERF_RESULTS(ML, rows, header, "工作考评,计分明细", 6)
    assert isinstance(out[0][0], Decimal)
    assert "组内第" in out[0][1]
    e = err(PERF_RESULTS(ML, rows, header, "总分,绩效")[0][0])
    assert e.code == "#VALUE!" and "绩效" in e.reason and "计分明细" in e.reason
    e = err(PERF_RESULTS(ML, rows, header[0][:3])[0][0])
    assert e.code == "#VALUE!" and "表头" in e.reason


def test_results_report_bad_data_by_sheet_row_and_withhold_the_group():
    rows, header = _records_of("meiling-street-quarterly")
    labels = header[0]
    bad = list(rows[2])
    bad[labels.index("旷工(天)")] = "八十六"
    out = PERF_RESULTS(ML, [rows[0], rows[1], bad, *rows[3:]], header, "总分,等次", 6)
    e = err(out[2][0])
    assert e.code == "#VALUE!" and "旷工" in e.reason and "八十六" in e.reason
    # the same category's grades wait, naming the sheet row of the bad record
    withheld = [g for (_t, g) in out if isinstance(g, ExcelError) and g.code == "#N/A"]
    assert withheld and all("第 8 行" in g.reason for g in withheld)


def test_flags_name_conditions_by_title_even_with_separators_inside():
    # 梅岭's titles hold 、 and ，: they are matched whole, then the rest is split
    title = "当季新录用或新调入，工作不满20个工作日"
    assert PERF_GRADE(95.0, ML, None, title) == "不定等次"
    assert PERF_GRADE(95.0, ML, None, f"{title}、受党纪政纪处分或在处分期间") == "不称职"
    assert PERF_GRADE(95.0, ML, None, "warned, disciplined") == "不称职"
    e = err(PERF_GRADE(95.0, ML, None, "当季新录用或新调入"))   # a part of a title is not one
    assert e.code == "#VALUE!" and "当季新录用或新调入" in e.reason
