"""The write rate limit's token buckets."""

from __future__ import annotations

import math

from server.ratelimit import TokenBuckets


def test_burst_then_refill():
    b = TokenBuckets(per_minute=60, burst=3)  # one token a second
    assert [b.take("k", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take("k", now=0.0) == 1.0
    assert b.take("k", now=0.5) == 0.5
    assert b.take("k", now=1.0) == 0.0
    assert b.take("other", now=1.0) == 0.0  # a bucket per key
    assert [b.take("k", now=100.0) for _ in range(4)][-1] > 0  # refills to the burst only


def test_zero_rate_refuses_for_good_and_zero_limits_switch_off():
    assert TokenBuckets(per_minute=0, burst=1).take("k", 0) == 0.0
    b = TokenBuckets(per_minute=0, burst=1)
    b.take("k", 0)
    assert math.isinf(b.take("k", 5))
    off = TokenBuckets(per_minute=0, burst=0)
    assert all(off.take("k", 0) == 0.0 for _ in range(10))


def test_failures_are_free_then_cost_a_doubling_delay():
    from server.ratelimit import FailureThrottle

    t = FailureThrottle(free=3, base=1.0, cap=8.0, forget=900.0)
    assert [t.failed("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert t.wait("a", now=0.0) == 0.0
    assert t.failed("a", now=0.0) == 1.0 and t.wait("a", now=0.5) == 0.5
    assert t.failed("a", now=1.0) == 2.0
    assert [t.failed("a", now=3.0) for _ in range(4)] == [4.0, 8.0, 8.0, 8.0]  # capped
    assert t.wait("b", now=3.0) == 0.0  # per address
    assert t.failed("a", now=2000.0) == 0.0  # forgotten after a quiet quarter of an hour
