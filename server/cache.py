"""Published versions in memory: they never change, so their JSON bytes and ETag are kept
once read, and a revalidation (``If-None-Match`` → 304) is a dictionary look-up.

Which version is the *latest* of a scheme does change (on publish). The pointers of all
schemes are read in one query and kept for ``ttl`` seconds. A publish or deprecation in this
process drops them at once; another process sharing the database (a second server on the same
PostgreSQL) sees the change within ``ttl``.
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


#: PostgreSQL integers are 32-bit; larger numbers in a URL cannot name a version
MAX_INT = 2**31 - 1


class PublishedCache:
    def __init__(self, ttl: float = 1.0, max_entries: int = 100_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, int], Published] = {}
        self._pointers_table: dict[str, Latest] = {}
        self._pointers_expire = 0.0
        self._generation = 0
        self._refreshing = False

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
        return self._pointers(db).get(scheme_id)

    def peek_latest(self, scheme_id: str) -> Latest | None:
        """The pointer without touching the database: from a fresh table, or from the
        previous one while another thread reads the new one (None: ask :meth:`latest`)."""
        now = time.monotonic()
        expire = self._pointers_expire
        if expire <= now and not (self._refreshing and now < expire + self.ttl):
            return None
        return self._pointers_table.get(scheme_id)

    def _pointers(self, db: Callable[[], Session]) -> dict[str, Latest]:
        # One query reads every scheme's pointer, at most once per ttl: with a thousand
        # schemes that costs the same as with one. While one thread reads it, the others go
        # on with the previous table (unless a publish here made that one wrong).
        expire = self._pointers_expire
        if expire > time.monotonic():
            return self._pointers_table
        if not self._lock.acquire(blocking=expire == 0.0):
            return self._pointers_table
        try:
            if self._pointers_expire > time.monotonic():
                return self._pointers_table
            self._refreshing = True
            generation = self._generation
            rows = db().execute(select(SchemeRow.id, SchemeRow.latest_version,
                                       SchemeRow.deprecated_at))
            table = {r.id: Latest(r.latest_version, r.deprecated_at) for r in rows}
            if generation == self._generation:  # no publish here while we read
                self._pointers_table = table
                self._pointers_expire = time.monotonic() + self.ttl
            return table
        finally:
            self._refreshing = False
            self._lock.release()

    def forget_latest(self, scheme_id: str | None = None) -> None:
        """After a publish or deprecation here: read the pointers again on next use."""
        self._generation += 1
        self._pointers_expire = 0.0

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()
            self._pointers_expire = 0.0


def from_row(row: VersionRow) -> Published:
    return Published(row.scheme_id, row.version, row.body.encode("utf-8"), row.etag, row.title,
                     row.published_at, row.published_by, row.note)
