"""Rate limits on writes: a token bucket per token (per client address when anonymous).

Every request that is not a read (PUT, POST, DELETE) takes one token from its bucket; the
bucket holds ``burst`` tokens and refills at ``per_minute`` a minute. An empty bucket answers
429 with ``Retry-After``. The buckets live in the server process (waitress runs one process).
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
