"""grade_column (the PERF_GRADES fast path) against grade_totals (the general path).

grade_column grades a column of totals in plain list passes; grade_totals builds a result per
record and is the reference: on random columns — ties at the quota lines, bad cells, blank
and several groups — both must give every record the same grade, error or withheld reason.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SCHEMES, compiled
from xlbridge.engine import grade_totals
from xlbridge.engine.population import Withheld, grade_column
from xlbridge.store import SchemeStore

STORE = SchemeStore([SCHEMES])
#: shipped schemes with quotas: per category (梅岭), per 分管领导 with tie keys (财政局),
#: over everyone with all_in ties (县直部门), four-level (奇台)
SHIPPED = ["meiling-street-quarterly", "finance-bureau-points", "county-dept-2016",
           "qitai-four-level", "bailian-township"]


def reference(cs, totals, groups):
    out = []
    for r in grade_totals(cs, totals, groups=groups, payout=False).records:
        if r.errors:
            out.append(("error", r.errors[0].code))
        elif r.withheld:
            out.append(("withheld", r.withheld))
        else:
            out.append(("grade", r.grade))
    return out


def fast(cs, totals, groups):
    out = []
    for g in grade_column(cs, totals, groups):
        if isinstance(g, Withheld):
            out.append(("withheld", g.reason))
        elif g is None or isinstance(g, str):
            out.append(("grade", g))
        else:
            out.append(("error", g.code))
    return out


cells = st.one_of(
    st.integers(60, 100).map(float),                       # many ties
    st.integers(550, 1000).map(lambda x: x / 10),          # one decimal
    st.floats(50, 100, allow_nan=False).map(lambda x: round(x, 3)),
    st.sampled_from(["85", "九十", None, "", 150.0, -1.0, float("nan"), True]),
)


@settings(max_examples=150, deadline=None)
@given(scheme=st.sampled_from(SHIPPED),
       rows=st.lists(st.tuples(cells, st.sampled_from(["科级干部", "一般工作人员", "甲", "乙",
                                                        "", None, "甲/乙"])),
                     min_size=1, max_size=60),
       grouped=st.booleans())
def test_fast_column_equals_the_general_path(scheme, rows, grouped):
    cs = STORE.get(scheme)
    totals = [t for t, _g in rows]
    groups = [g for _t, g in rows] if grouped else None
    got = grade_column(cs, totals, groups)
    if got is None:
        pytest.skip(f"{scheme} takes the general path")
    assert fast(cs, totals, groups) == reference(cs, totals, groups)


def test_quota_rules_on_a_small_example():
    cs = compiled("""
        groups: [kind]
        inputs: [{id: kind, label: 类别, type: label, labels: [甲, 乙]}]
        parts:
          - {id: a, title: A, points: 100, method: direct}
        tiers:
          - {label: 优秀, at_least: 90}
          - {label: 合格, below: 90}
        quotas:
          limits: [{tier: 优秀, share: 50%}]
          rounding: floor
          ties: {rule: all_out}
    """)
    # 甲: 95, 92, 92, 80 → 4 × 50% = 2 places; 92 and 92 tie for the second: all out
    # 乙: 99, 91 → 1 place: 99
    totals = [95.0, 92.0, 92.0, 80.0, 99.0, 91.0]
    groups = ["甲", "甲", "甲", "甲", "乙", "乙"]
    assert grade_column(cs, totals, groups) == ["优秀", "合格", "合格", "合格", "优秀", "合格"]
    assert fast(cs, totals, groups) == reference(cs, totals, groups)
    # a bad cell in 甲 withholds 甲 only; 乙: 2 × 50% = 1 place, 99 keeps it
    got = grade_column(cs, [95.0, "x", 99.0, 91.0], ["甲", "甲", "乙", "乙"])
    assert isinstance(got[0], Withheld) and "第 2 行" in got[0].reason
    assert got[1].code == "not_a_number" and got[2:] == ["优秀", "合格"]
