"""Invariants that must hold for every input: caps, floors, quotas, order independence."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import compiled
from xlbridge.engine import score_population, score_record

CAPPED = compiled("""
    blank_counts: zero
    parts:
      - id: att
        title: 考勤
        points: 30
        method: deduction
        items:
          - {id: late, title: 迟到, amount: 1, knockout: 10}
          - {id: absent, title: 旷工, amount: 2}
      - {id: work, title: 工作, points: 70, method: direct}
    bonuses:
      cap: 8
      categories:
        - id: c1
          title: 受奖
          cap: 5
          items: [{id: award, title: 受奖, levels: {国家级: 5, 省级: 3, 市级: 2, 本局: 1}}]
        - id: c2
          title: 宣传
          cap: 5
          items: [{id: article, title: 文章, amount: 1, cap: 4}]
    deductions:
      cap: 4
      items:
        - {id: notice, title: 通报, levels: {省: 2, 市: 1, 县: 0.5}}
""")

counts = st.integers(min_value=0, max_value=40)


@settings(max_examples=300, deadline=None)
@given(late=counts, absent=counts, work=st.decimals(0, 70, places=2), a1=counts, a2=counts,
       a3=counts, a4=counts, art=counts, n1=counts, n2=counts, n3=counts)
def test_caps_never_exceeded_and_floors_never_crossed(late, absent, work, a1, a2, a3, a4,
                                                      art, n1, n2, n3):
    r = score_record(CAPPED, {
        "late": late, "absent": absent, "work": work, "award_国家级": a1, "award_省级": a2,
        "award_市级": a3, "award_本局": a4, "article": art, "notice_省": n1, "notice_市": n2,
        "notice_县": n3}, explain=True)
    assert r.ok
    assert 0 <= r.bonus <= 8            # overall cap
    assert 0 <= r.deduction <= 4        # total deduction cap
    att = r.part("att")
    assert 0 <= att <= 30               # 扣完为止: the part never goes below its floor
    if late >= 10:
        assert att == 0                 # knock-out
    # every cap, computed independently: 受奖 counts per level, capped at 5; 文章 1 each,
    # capped at 4 as an item and 5 as a category; all bonuses at 8; 通报 per level at 4
    awards = min(D(5), D(5 * a1 + 3 * a2 + 2 * a3 + a4))
    articles = min(D(5), min(D(4), D(art)))
    assert r.bonus == min(D(8), awards + articles)
    assert r.deduction == min(D(4), D(2 * n1 + n2) + D("0.5") * n3)
    assert att == (0 if late >= 10 else max(0, 30 - late - 2 * absent))
    assert r.total == r.subtotal + r.bonus - r.deduction
    assert r.total <= 100 + 8


def quota_scheme(rounding: str = "floor", ties: str = "all_out"):
    return compiled(f"""
        inputs:
          - {{id: grp, label: 组, type: text}}
        groups: [grp]
        parts:
          - {{id: a, title: 得分, points: 100, method: direct}}
        tiers:
          - {{label: 优秀, at_least: 90}}
          - {{label: 良好, at_least: 75, below: 90}}
          - {{label: 称职, below: 75}}
        quotas:
          limits: [{{tier: 优秀, share: 25%}}, {{tier: 良好, share: 30%}}]
          rounding: {rounding}
          ties: {{rule: {ties}}}
    """)


QUOTA = quota_scheme()
QUOTA_IN = quota_scheme(ties="all_in")
ROUNDED = {mode: quota_scheme(mode) for mode in ("floor", "half_up", "ceiling")}


def places(n: int, percent: int, rounding: str) -> int:
    """n × percent% people, rounded as declared (computed here with integers only)."""
    whole, rest = divmod(n * percent, 100)
    if rounding == "floor" or rest == 0:
        return whole
    if rounding == "ceiling":
        return whole + 1
    return whole + (1 if rest * 2 >= 100 else 0)       # half_up


scores = st.lists(st.tuples(st.sampled_from(["甲", "乙", "丙"]),
                            st.integers(min_value=60, max_value=100)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(scores, st.sampled_from(sorted(ROUNDED)))
def test_quotas_never_exceeded_with_all_out(rows, rounding):
    pop = score_population(ROUNDED[rounding], [{"grp": g, "a": s} for g, s in rows])
    for group in {g for g, _ in rows}:
        members = [r for r in pop.records if r.values["grp"] == group]
        n = len(members)
        assert sum(r.grade == "优秀" for r in members) <= places(n, 25, rounding)
        assert sum(r.grade == "良好" for r in members) <= places(n, 30, rounding)
        for r in members:  # nobody is promoted above their score's tier
            if r.total < 90:
                assert r.grade != "优秀"


@settings(max_examples=200, deadline=None)
@given(scores)
def test_quotas_exceeded_only_by_reported_ties_with_all_in(rows):
    pop = score_population(QUOTA_IN, [{"grp": g, "a": s} for g, s in rows])
    for group in {g for g, _ in rows}:
        members = [r for r in pop.records if r.values["grp"] == group]
        places = len(members) * 25 // 100
        top = sum(r.grade == "优秀" for r in members)
        if top > places:
            ties = [t for t in pop.ties if t.group == (group,) and t.tier == "优秀"]
            assert ties, "a quota was exceeded without a reported tie"
            assert top <= places + len(ties[0].rows) - 1


@settings(max_examples=100, deadline=None)
@given(scores, st.randoms(use_true_random=False))
def test_results_invariant_to_record_order(rows, rnd):
    records = [{"grp": g, "a": s, "id": i} for i, (g, s) in enumerate(rows)]
    shuffled = records[:]
    rnd.shuffle(shuffled)
    first = {rec["id"]: r for rec, r in zip(records, score_population(QUOTA, records).records,
                                            strict=True)}
    second = {rec["id"]: r for rec, r in zip(shuffled, score_population(QUOTA, shuffled).records,
                                             strict=True)}
    for key, r in first.items():
        assert (r.total, r.grade, r.rank) == (second[key].total, second[key].grade,
                                              second[key].rank)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=100, places=3))
def test_tier_of_rounded_total_matches_excel_round(x):
    cs = compiled("""
        rounding: {total: {digits: 1}}
        parts:
          - {id: a, title: A, points: 100, method: direct}
        tiers:
          - {label: 优, at_least: 90}
          - {label: 良, at_least: 85, below: 90}
          - {label: 差, below: 85}
    """)
    r = score_record(cs, {"a": x})
    rounded = (x * 10 + D("0.5")).to_integral_value(rounding="ROUND_FLOOR") / 10
    expected = "优" if rounded >= 90 else "良" if rounded >= 85 else "差"
    assert r.total == rounded and r.grade == expected
