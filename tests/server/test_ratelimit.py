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
