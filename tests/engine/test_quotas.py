"""Worked examples for RULES §7, quotas: counts rounded as declared, minimum scores, ties at
the line (always reported), cascades, withheld groups.

Each test builds a small scheme that states one rule the way a seed document does, scores a
record and compares with the number worked out in the comment.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import compiled
from xlbridge.engine import score_population

QUOTA_SCHEME = """
    inputs:
      - {id: kind, label: 类别, type: text}
    groups: [kind]
    parts:
      - {id: a, title: 综合得分, points: 100, method: direct}
    tiers:
      - {label: 先进, at_least: 90}
      - {label: 合格, at_least: 60, below: 90}
      - {label: 不合格, below: 60}
    quotas:
      limits: [{tier: 先进, share: 25%}]
      rounding: half_up
      ties: {rule: all_in}
"""


def test_quota_counts_are_rounded_7_to_2_and_32_to_8_002_568():
    # "先进等次名额按被评估单位数的25%确定…7个乡、镇中评出2个…32个…评出8个"
    # 7 × 25% = 1.75 → 2; 32 × 25% = 8. Only scores ≥ 90 qualify.
    cs = compiled(QUOTA_SCHEME)
    towns = [{"kind": "乡镇", "a": s} for s in (96, 95, 93, 91, 88, 85, 70)]
    depts = [{"kind": "部门", "a": 99 - i * 0.5} for i in range(32)]
    pop = score_population(cs, towns + depts)
    grades = pop.grade_counts()
    assert sum(1 for r in pop.records[:7] if r.grade == "先进") == 2
    assert sum(1 for r in pop.records[7:] if r.grade == "先进") == 8
    assert grades["先进"] == 10
    lines = {q.group: q for q in pop.quotas}
    assert lines[("乡镇",)].places == 2 and lines[("部门",)].places == 8


def test_quota_needs_the_minimum_score_too():
    # only two towns reach 90: 2 places but the third-best (88) stays 合格
    cs = compiled(QUOTA_SCHEME)
    rows = [{"kind": "乡镇", "a": s} for s in (95, 91, 88, 87, 86, 85, 84, 83)]
    pop = score_population(cs, rows)
    assert [r.grade for r in pop.records[:3]] == ["先进", "先进", "合格"]


@pytest.mark.parametrize(("rule", "expected_in"), [("all_in", 3), ("all_out", 1)])
def test_tie_at_the_quota_line_is_decided_by_the_declared_rule(rule, expected_in):
    # 8 units, 25% → 2 places; the 2nd and 3rd are tied at 93.
    cs = compiled(QUOTA_SCHEME.replace("rule: all_in", f"rule: {rule}"))
    rows = [{"kind": "部门", "a": s} for s in (96, 93, 93, 91, 80, 70, 65, 61)]
    pop = score_population(cs, rows, explain=True)
    assert sum(1 for r in pop.records if r.grade == "先进") == expected_in
    assert len(pop.ties) == 1
    tie = pop.ties[0]
    assert tie.rows == [2, 3] and tie.decision == rule
    assert "并列" in pop.records[1].explain()


def test_tie_broken_by_secondary_key_then_rule():
    cs = compiled("""
        parts:
          - {id: a, title: 业绩, points: 60, method: direct}
          - {id: b, title: 测评, points: 40, method: direct}
        tiers:
          - {label: 优秀, at_least: 90}
          - {label: 合格, below: 90}
        quotas:
          limits: [{tier: 优秀, count: 1}]
          rounding: floor
          ties: {rule: keys, keys: [b], then: all_out}
    """)
    # both total 95: b 38 beats b 36 → first keeps 优秀; the tie on the total at the line is
    # still reported (RULES §7), with the rule that decided it and who got the place
    pop = score_population(cs, [{"a": 57, "b": 38}, {"a": 59, "b": 36}, {"a": 50, "b": 30}],
                           explain=True)
    assert [r.grade for r in pop.records] == ["优秀", "合格", "合格"]
    (tie,) = pop.ties
    assert (tie.rows, tie.decision, tie.kept, tie.out) == ([1, 2], "keys", [1], [2])
    assert "测评" in tie.text and "38" in tie.text and "36" in tie.text
    assert pop.records[0].flags == ["“优秀”名额线并列，入选（名额1）"]
    assert pop.records[1].flags == ["“优秀”名额线并列，未入选（名额1）"]
    assert pop.records[2].flags == []
    assert tie.text in pop.records[1].explain()
    # equal on b too → then all_out: nobody gets 优秀, and the tie is reported
    pop = score_population(cs, [{"a": 57, "b": 38}, {"a": 57, "b": 38}])
    assert [r.grade for r in pop.records] == ["合格", "合格"]
    assert pop.ties[0].decision == "all_out"


def test_several_quotas_cascade_004_501():
    # 优秀 ≤25%, 良好 ≤30% (floor); 10 people: 2 优秀, 3 良好. Over-quota 优秀 fall to 良好
    # and compete there by score.
    cs = compiled("""
        parts:
          - {id: a, title: 得分, points: 100, method: direct}
        tiers:
          - {label: 优秀, at_least: 90}
          - {label: 良好, at_least: 75, below: 90}
          - {label: 称职, at_least: 60, below: 75}
          - {label: 不称职, below: 60}
        quotas:
          limits: [{tier: 优秀, share: 25%}, {tier: 良好, share: 30%}]
          rounding: floor
          ties: {rule: all_out}
    """)
    scores = [98, 96, 94, 92, 89, 88, 80, 70, 65, 50]
    pop = score_population(cs, [{"a": s} for s in scores])
    assert [r.grade for r in pop.records] == [
        "优秀", "优秀", "良好", "良好", "良好", "称职", "称职", "称职", "称职", "不称职"]


def test_bad_record_withholds_its_groups_quota():
    cs = compiled(QUOTA_SCHEME)
    rows = [{"kind": "乡镇", "a": 95}, {"kind": "乡镇", "a": "九十"}] + \
        [{"kind": "部门", "a": s} for s in (95, 92, 80, 70)]
    pop = score_population(cs, rows)
    assert pop.records[0].grade is None and "第 2 行" in pop.records[0].withheld
    assert not pop.records[1].ok
    # the other group is unaffected: 4 × 25% = 1 place, taken by the 95
    assert [r.grade for r in pop.records[2:]] == ["先进", "合格", "合格", "合格"]


def test_totals_are_invariant_to_record_order():
    cs = compiled(QUOTA_SCHEME)
    rows = [{"kind": k, "a": s} for k, s in [("乡镇", 96), ("部门", 91), ("乡镇", 93),
                                              ("部门", 97), ("乡镇", 90), ("部门", 92)]]
    forward = score_population(cs, rows)
    backward = score_population(cs, list(reversed(rows)))
    assert [(r.total, r.grade) for r in forward.records] == \
        [(r.total, r.grade) for r in reversed(backward.records)]


# ------------------------------------------------------------------- the one cut, directly

@settings(max_examples=300, deadline=None)
@given(totals=st.lists(st.integers(80, 100), min_size=0, max_size=12),
       places=st.integers(0, 6), rule=st.sampled_from(["all_in", "all_out", "keys"]),
       with_keys=st.booleans())
def test_cut_keeps_the_best_and_reports_every_tie_at_the_line(totals, places, rule,
                                                                with_keys):
    from xlbridge.engine.quotas import cut
    from xlbridge.scheme.model import TieRule

    ties = TieRule(rule=rule, keys=["k"], then="all_out") if rule == "keys" \
        else TieRule(rule=rule)
    cands = [(D(t), D(i % 3), i) for i, t in enumerate(totals)]   # (total, key, id)
    c = cut(cands, places, lambda x: x[0], ties, (lambda x: (x[1],)) if with_keys else None)
    ids = sorted(x[2] for x in c.kept + c.out + c.undecided)
    assert ids == list(range(len(cands)))                          # each exactly once
    if c.kept and c.out:
        assert min(x[0] for x in c.kept) >= max(x[0] for x in c.out)
    ordered = sorted((x[0] for x in cands), reverse=True)
    at_line = 0 < places < len(ordered) and ordered[places - 1] == ordered[places]
    assert bool(c.tied) == at_line                                 # a tie is always reported
    if not at_line:
        assert len(c.kept) == min(places, len(cands)) and not c.undecided
    elif rule == "all_in":
        assert len(c.kept) >= places and all(x in c.kept for x in c.tied)
    elif rule == "all_out":
        assert len(c.kept) < places and not any(x in c.kept for x in c.tied)
    elif not with_keys:
        assert c.undecided == c.tied                               # keys unknown: undecided
    else:
        assert len(c.kept) <= places and c.rule in ("keys", "all_out")
