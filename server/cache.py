"""Published versions in memory: they never change, so their JSON bytes and ETag are kept
once read, and a revalidation (``If-None-Match`` → 304) is a dictionary look-up.

Which version is the *latest* of a scheme does change (on publish); that pointer is kept for
``ttl`` seconds. A publish or deprecation in this process clears it at once; another process
sharing the database (a second server on the same PostgreSQL) sees it within ``ttl``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import SchemeRow, VersionRow


@dataclass(frozen=True, slots=True)
class Published:
    """One published version as served: the exact bytes and their ETag."""

    scheme_id: str
    version: int
    body: bytes
    etag: str
    title: str
    published_at: datetime
    published_by: str
    note: str | None

    @property
    def quoted_etag(self) -> str:
        return f'"{self.etag}"'


@dataclass(frozen=True, slots=True)
class Latest:
    version: int | None
    deprecated_at: datetime | None
    expires: float


#: PostgreSQL integers are 32-bit; larger numbers in a URL cannot name a version
MAX_INT = 2**31 - 1


class PublishedCache:
    def __init__(self, ttl: float = 1.0, max_entries: int = 100_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, int], Published] = {}
        self._latest: dict[str, Latest] = {}

    def version(self, db: Callable[[], Session], scheme_id: str,
                version: int) -> Published | None:
        """A published version, from memory or the database (``db()`` only on a miss)."""
        key = (scheme_id, version)
        hit = self._versions.get(key)
        if hit is not None:
            return hit
        if not 1 <= version <= MAX_INT:
            return None
        row = db().get(VersionRow, key)
        if row is None:
            return None
        pub = from_row(row)
        with self._lock:
            if len(self._versions) >= self.max_entries:
                self._versions.clear()
            self._versions[key] = pub
        return pub

    def latest(self, db: Callable[[], Session], scheme_id: str) -> Latest | None:
        """The newest version number and deprecation of a scheme (None: no such scheme)."""
        hit = self._latest.get(scheme_id)
        if hit is not None and hit.expires > time.monotonic():
            return hit
        row = db().execute(select(SchemeRow.latest_version, SchemeRow.deprecated_at)
                           .where(SchemeRow.id == scheme_id)).first()
        if row is None:
            return None
        latest = Latest(row.latest_version, row.deprecated_at, time.monotonic() + self.ttl)
        with self._lock:
            if len(self._latest) >= self.max_entries:
                self._latest.clear()
            self._latest[scheme_id] = latest
        return latest

    def forget_latest(self, scheme_id: str) -> None:
        with self._lock:
            self._latest.pop(scheme_id, None)

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()
            self._latest.clear()


def from_row(row: VersionRow) -> Published:
    return Published(row.scheme_id, row.version, row.body.encode("utf-8"), row.etag, row.title,
                     row.published_at, row.published_by, row.note)
