"""Worked examples for RULES §3, bonus points: per level, highest only, caps (total, per
category, share of a part), growth steps, evidence.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from decimal import Decimal as D

from tests.conftest import compiled
from xlbridge.engine import score_record

BONUS_SCHEME = """
    parts:
      - {id: base, title: 基础, points: 100, method: direct}
    bonuses:
      cap: 4
      items:
        - id: honour
          title: 争先创优
          levels: {中央: 4, 省: 3, 市: 2, 县: 1, 局: 0.5}
          input: list
          highest_only: true
        - id: over
          title: 超额完成
          amount: 2
          cap_share: {part: base, share: 3%}
        - id: growth
          title: 集体经济增长
          input: growth
          growth: {step: 10, per_step: 0.5}
          when: income >= 5
    inputs:
      - {id: income, label: 集体经济纯收入(万元), type: number}
    tiers:
      - {label: 优秀, at_least: 90}
      - {label: 合格, below: 90}
"""


def test_highest_level_only_for_the_same_achievement_002_235():
    # "同一项工作同时符合加分条件的,取最高分值加分": 省,市 for one work → 3 only;
    # a second work at 县 → +1. Bonuses 4 ≤ cap 4.
    cs = compiled(BONUS_SCHEME)
    r = score_record(cs, {"base": 85, "honour": "省,市(浙交〔2016〕3号); 县", "over": 0,
                          "growth": 0, "income": 3}, explain=True)
    assert r.bonus == D(4) and r.total == D(89)
    text = r.explain()
    assert "市 2 分 不计（同一事项取最高级别省）" in text
    assert "依据：浙交〔2016〕3号" in text


def test_bonus_total_cap_and_cap_as_share_of_item_002_229_550():
    cs = compiled(BONUS_SCHEME)
    # over-fulfilled 3 targets × 2 = 6, capped at 3% of base's 100 points = 3;
    # honour 中央 4 → bonuses 7 → overall cap 4. total 86 + 4 = 90 → 优秀
    r = score_record(cs, {"base": 86, "honour": "中央", "over": 3, "growth": 0, "income": 3},
                     explain=True)
    caps = [s for s in r.steps if s.kind == "cap"]
    assert [c.value for c in caps] == [D(3), D(4)]
    assert r.total == D(90) and r.grade == "优秀"


def test_growth_steps_only_full_steps_and_only_when_condition_holds_002_170():
    cs = compiled(BONUS_SCHEME)
    # growth 27% → 2 full steps of 10 → +1.0; income 6万 ≥ 5万
    r = score_record(cs, {"base": 80, "honour": "", "over": 0, "growth": 27, "income": 6})
    assert r.bonus == D("1.0")
    # same growth, income 4万 < 5万 → no bonus
    r = score_record(cs, {"base": 80, "honour": "", "over": 0, "growth": 27, "income": 4})
    assert r.bonus == 0


def test_unknown_bonus_level_is_a_field_error():
    cs = compiled(BONUS_SCHEME)
    r = score_record(cs, {"base": 80, "honour": "国家级", "over": 0, "growth": 0, "income": 1})
    assert r.errors[0].field == "honour" and r.errors[0].code == "unknown_level"


def test_per_category_caps_and_evidence_004_245():
    # 科室受奖 and 个人受奖 each capped at 5, all bonuses at 25 (004:245-255); a bonus without
    # a document reference is dropped (004:257 "没有书面依据…不得奖励加分").
    cs = compiled("""
        parts:
          - {id: base, title: 基础, points: 100, method: direct}
        bonuses:
          cap: 25
          categories:
            - id: unit
              title: 科室受奖
              cap: 5
              items:
                - {id: unit_award, title: 科室受奖, levels: {国家级: 5, 省级: 3, 市级: 2}}
            - id: press
              title: 对外宣传
              cap: 5
              items:
                - {id: article, title: 发表文章, levels: {国家级: 3, 省级: 2, 市级: 1},
                   evidence: true}
    """)
    r = score_record(cs, {"base": 90, "unit_award_国家级": 1, "unit_award_省级": 1,
                          "unit_award_市级": 0, "article_国家级": 0, "article_省级": 1,
                          "article_市级": 2, "article_evidence": ""}, explain=True)
    # unit: 5 + 3 = 8 → capped 5; articles 2 + 2 = 4 but no evidence → dropped
    assert r.bonus == D(5) and r.total == D(95)
    assert any(s.kind == "dropped" and "缺少书面依据" in s.text for s in r.steps)
    r = score_record(cs, {"base": 90, "unit_award_国家级": 0, "unit_award_省级": 0,
                          "unit_award_市级": 0, "article_国家级": 0, "article_省级": 1,
                          "article_市级": 2, "article_evidence": "市财政局文件〔2017〕5号"})
    assert r.bonus == D(4)


def test_growth_and_decline_read_one_signed_column_002_170_178():
    cs = compiled("""
        parts:
          - {id: a, title: 基础, points: 100, method: direct}
        bonuses:
          items:
            - {id: growth, title: 集体经济增长, input: growth, growth: {step: 10, per_step: 0.5}}
        deductions:
          items:
            - {id: decline, title: 集体经济减少, input: growth, reads: growth,
               growth: {step: 10, per_step: 0.5, decline: true}}
    """)
    assert [s.id for s in cs.inputs] == ["a", "growth"]  # one column for both
    up = score_record(cs, {"a": 80, "growth": 25})
    down = score_record(cs, {"a": 80, "growth": "-23"})
    assert (up.bonus, up.deduction, up.total) == (D(1), D(0), D(81))
    assert (down.bonus, down.deduction, down.total) == (D(0), D(1), D(79))
