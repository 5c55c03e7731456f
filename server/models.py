"""The server's tables. Their shape is owned by the Alembic migrations in ``migrations/``;
a test checks that these declarations and the migrations agree.

* ``schemes`` — one row per scheme id: title, newest published version, deprecation.
* ``scheme_versions`` — published versions: the exact JSON bytes served, their ETag, who
  published and when. Immutable: rows are only ever inserted (see the guard at the bottom).
* ``drafts`` — at most one open draft per scheme, with an ETag that changes on every write.
* ``api_tokens`` — SHA-256 hashes of bearer tokens, their role and name.
* ``audit_log`` — every write: who, what, when, before/after version or draft ETag.
* ``settings`` — small server-wide values (the session-signing key of the web pages).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


ROLES = ("reader", "editor", "admin")

#: scheme ids are short (see xlbridge.scheme.types); 100 leaves room
ID_LEN = 100


class SchemeRow(Base):
    __tablename__ = "schemes"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    latest_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deprecated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deprecated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deprecation_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class VersionRow(Base):
    __tablename__ = "scheme_versions"

    scheme_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("schemes.id"),
                                           primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(80))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class DraftRow(Base):
    __tablename__ = "drafts"

    scheme_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("schemes.id"),
                                           primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(80))
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))


class TokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_scheme_id", "scheme_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    actor_token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    scheme_id: Mapped[str | None] = mapped_column(String(ID_LEN), nullable=True)
    before: Mapped[str | None] = mapped_column(String(120), nullable=True)
    after: Mapped[str | None] = mapped_column(String(120), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class SettingRow(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ImmutableVersion(RuntimeError):
    """Raised when code tries to change or delete a published version."""


@event.listens_for(VersionRow, "before_update")
def _refuse_update(mapper, connection, target):  # pragma: no cover - a guard, never taken
    raise ImmutableVersion(f"{target.scheme_id}@{target.version} is published and immutable")


@event.listens_for(VersionRow, "before_delete")
def _refuse_delete(mapper, connection, target):  # pragma: no cover - a guard, never taken
    raise ImmutableVersion(f"{target.scheme_id}@{target.version} is published and immutable")
