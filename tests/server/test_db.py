"""The database module: URLs, migrations (which alone define the tables), init-db."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from server import db
from server.models import Base


def test_database_url_forms(tmp_path):
    assert db.database_url(str(tmp_path / "x.sqlite3")) == f"sqlite:///{tmp_path}/x.sqlite3"
    assert db.database_url("postgresql://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    assert db.database_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"


def test_default_database_is_a_sqlite_file_in_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("XLBRIDGE_DB", raising=False)
    url = db.default_database_url()
    assert url.startswith("sqlite:///") and url.endswith("server.sqlite3")
    monkeypatch.setenv("XLBRIDGE_DB", str(tmp_path / "s.db"))
    assert db.default_database_url() == f"sqlite:///{tmp_path}/s.db"


def test_migrations_match_the_models(app):
    engine = app.extensions["xlbridge_engine"]
    assert db.is_current(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                 Base.metadata)
    assert diffs == []


def test_downgrade_and_upgrade_again(app):
    engine = app.extensions["xlbridge_engine"]
    db.downgrade(engine, "base")
    assert db.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert db.is_current(engine)
    assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(engine).get_table_names())


def test_init_db_command_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert f"revision {db.head_revision()}" in result.output


def test_session_closed_after_request(app, client, auth):
    # get_db() opens a session lazily and the app context teardown closes it
    with app.test_request_context():
        session = db.get_db()
        assert db.get_db() is session
    assert client.get("/api/schemes", headers=auth("reader")).status_code == 200
