"""Rate limits: on writes, a token bucket per token (per client address when anonymous);
on failed sign-ins and token checks, a growing delay per client address.

Every request that is not a read (PUT, POST, DELETE) takes one token from its bucket; the
bucket holds ``burst`` tokens and refills at ``per_minute`` a minute. An empty bucket answers
429 with ``Retry-After``. :class:`FailureThrottle` closes an address that keeps presenting
unknown tokens. Both live in the server process (waitress runs one process).
"""

from __future__ import annotations

import math
import threading
import time


class TokenBuckets:
    def __init__(self, per_minute: float, burst: int):
        self.rate = per_minute / 60.0
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token for ``key``: 0 if allowed, else seconds until one is available."""
        if self.rate <= 0 and self.burst <= 0:
            return 0.0  # limits switched off
        now = time.monotonic() if now is None else now
        with self._lock:
            level, at = self._buckets.get(key, (float(self.burst), now))
            level = min(float(self.burst), level + (now - at) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                if len(self._buckets) > 10_000:
                    self._forget_full(now)
                return 0.0
            self._buckets[key] = (level, now)
            if self.rate <= 0:
                return math.inf
            return (1.0 - level) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [k for k, (level, at) in self._buckets.items()
                if level + (now - at) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]


class FailureThrottle:
    """Failed sign-ins and token checks per client address, with a growing delay.

    The first ``free`` failures of an address cost nothing (a mistyped token, an office with
    an old one); each one after that closes the address for ``base`` seconds, doubling with
    every further failure up to ``cap`` — 910 guesses a second become a handful an hour. An
    address that has not failed for ``forget`` seconds starts afresh. While an address is
    closed its requests are answered 429 without looking at the token at all, so the answers
    tell a guesser nothing. A success does not reset the count (a valid reader token must not
    buy fresh guesses at an admin's)."""

    def __init__(self, free: int = 10, base: float = 1.0, cap: float = 300.0,
                 forget: float = 900.0):
        self.free = free
        self.base = base
        self.cap = cap
        self.forget = forget
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, float, float]] = {}  # failures, last, closed until

    def wait(self, key: str, now: float | None = None) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        state = self._state.get(key)
        if state is None:
            return 0.0
        return max(0.0, state[2] - now)

    def failed(self, key: str, now: float | None = None) -> float:
        """Count a failure of ``key``; returns how long it is closed now (0: not yet)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures, last, _until = self._state.get(key, (0, now, now))
            if now - last > self.forget:
                failures = 0
            failures += 1
            delay = 0.0
            if failures > self.free:
                delay = min(self.cap, self.base * 2.0 ** min(failures - self.free - 1, 60))
            self._state[key] = (failures, now, now + delay)
            if len(self._state) > 10_000:
                self._forget_old(now)
            return delay

    def _forget_old(self, now: float) -> None:
        old = [k for k, (_f, last, until) in self._state.items()
               if now - last > self.forget and until <= now]
        for k in old:
            del self._state[k]
