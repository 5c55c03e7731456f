"""Initial schema: schemes, published versions, drafts, tokens, audit log, settings.

Published versions are immutable: besides the application never issuing UPDATE or DELETE on
``scheme_versions``, a trigger makes the database itself refuse both.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schemes",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=True),
        sa.Column("deprecated_at", TS, nullable=True),
        sa.Column("deprecated_by", sa.String(200), nullable=True),
        sa.Column("deprecation_note", sa.Text(), nullable=True),
    )
    op.create_table(
        "scheme_versions",
        sa.Column("scheme_id", sa.String(100), sa.ForeignKey("schemes.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_table(
        "drafts",
        sa.Column("scheme_id", sa.String(100), sa.ForeignKey("schemes.id"), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_token_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("scheme_id", sa.String(100), nullable=True),
        sa.Column("before", sa.String(120), nullable=True),
        sa.Column("after", sa.String(120), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_audit_log_scheme_id", "audit_log", ["scheme_id"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    _immutability_triggers()


def _immutability_triggers() -> None:
    dialect = op.get_bind().dialect.name
    message = "published scheme versions are immutable"
    if dialect == "sqlite":
        for what in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER scheme_versions_no_{what.lower()} BEFORE {what} ON "
                       f"scheme_versions BEGIN SELECT RAISE(ABORT, '{message}'); END")
    elif dialect == "postgresql":
        op.execute(f"""
            CREATE FUNCTION scheme_versions_immutable() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER scheme_versions_immutable BEFORE UPDATE OR DELETE ON scheme_versions
            FOR EACH ROW EXECUTE FUNCTION scheme_versions_immutable()""")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS scheme_versions_immutable ON scheme_versions")
        op.execute("DROP FUNCTION IF EXISTS scheme_versions_immutable()")
    for table in ("settings", "audit_log", "api_tokens", "drafts", "scheme_versions",
                  "schemes"):
        op.drop_table(table)
