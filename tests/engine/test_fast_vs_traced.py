"""The fast path (no breakdown) and the traced path (with breakdown) must agree exactly.

The engine sums plain items inline when it is not explaining; this differential test feeds
random valid records to every shipped scheme and compares the two paths field by field.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SCHEMES
from xlbridge.engine import score_population
from xlbridge.scheme.inputs import InputSpec
from xlbridge.store import SchemeStore

STORE = SchemeStore([SCHEMES])
SCHEME_IDS = sorted({e.id for e in STORE.entries()})


def value_for(spec: InputSpec) -> st.SearchStrategy:
    if spec.type == "count":
        high = int(spec.max) if spec.max is not None else 12
        return st.integers(min_value=0, max_value=high)
    if spec.type == "number":
        low = spec.min if spec.min is not None else D(0)
        high = spec.max if spec.max is not None else low + 100
        return st.decimals(min_value=low, max_value=high, places=1, allow_nan=False)
    if spec.type == "bool":
        return st.sampled_from(["是", "否"])
    if spec.type == "label":
        return st.sampled_from(list(spec.labels or ["x"]))
    if spec.id.endswith("_evidence"):
        return st.sampled_from(["", "文件〔2016〕1号"])
    return st.sampled_from(["甲", "乙", ""]) if spec.blank == "empty" else st.sampled_from(
        ["甲", "乙"])


@pytest.mark.parametrize("scheme_id", SCHEME_IDS)
def test_fast_and_traced_paths_agree(scheme_id):
    cs = STORE.get(scheme_id)
    record = st.fixed_dictionaries({s.id: value_for(s) for s in cs.inputs
                                    if not (s.type == "text" and s.blank == "empty"
                                            and not s.id.endswith("_evidence"))})

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(record, min_size=1, max_size=12))
    def check(records):
        fast = score_population(cs, records)
        slow = score_population(cs, records, explain=True)
        for a, b in zip(fast.records, slow.records, strict=True):
            assert [e.code for e in a.errors] == [e.code for e in b.errors]
            assert (a.total, a.grade, a.no_grade, a.payout, a.rank, a.flags, a.derived) == \
                (b.total, b.grade, b.no_grade, b.payout, b.rank, b.flags, b.derived)
            if b.ok and not b.withheld:
                assert b.steps, "an explained record has a breakdown"

    check()
