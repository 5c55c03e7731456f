"""The database: one SQLAlchemy engine per app, one session per request, Alembic migrations.

The default is a SQLite file in the per-user data folder (nothing to set up); a PostgreSQL
server is chosen by giving its URL (``postgresql+psycopg://user:pw@host/db``) as ``--db`` or
in ``XLBRIDGE_DB``. The tables are created and upgraded only by the migrations in
``server/migrations`` (``xlbridge server init-db``, or ``flask --app server init-db``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_database_url() -> str:
    """``XLBRIDGE_DB`` if set, else a SQLite file in the per-user data folder."""
    env = os.environ.get("XLBRIDGE_DB")
    if env:
        return database_url(env)
    folder = Path(platformdirs.user_data_dir("xlbridge", appauthor=False))
    return database_url(str(folder / "server.sqlite3"))


def database_url(value: str) -> str:
    """An SQLAlchemy URL as given, or a file path turned into a SQLite URL."""
    if "://" in value:
        url = make_url(value)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
        return url.render_as_string(hide_password=False)
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=16, max_overflow=16)
        _sqlite_pragmas(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL so readers never wait for a writer; foreign keys on; explicit transactions.

    pysqlite's own transaction handling is switched off so that a write transaction can start
    with ``BEGIN IMMEDIATE`` (see :func:`write_session`): it takes the write lock up front
    instead of failing with "database is locked" when two writers upgrade their read locks.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# --------------------------------------------------------------------------- per request


def get_engine() -> Engine:
    return current_app.extensions["xlbridge_engine"]


def get_db() -> Session:
    """The request's session (created on first use, closed at the end of the request)."""
    if "db" not in g:
        g.db = Session(get_engine(), expire_on_commit=False)
    return g.db


def begin_write(db: Session) -> None:
    """Start the session's transaction as a write transaction (``BEGIN IMMEDIATE`` on SQLite).

    Call before the first statement of a request that writes.
    """
    if db.in_transaction():
        # a read transaction (e.g. the token look-up) is open: end it, or SQLite would refuse
        # to turn its old snapshot into a write ("database is locked")
        db.commit()
    db.connection(execution_options={"sqlite_immediate": True})


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


@contextmanager
def session_for(engine: Engine, write: bool = False) -> Iterator[Session]:
    """A session outside a request (CLI commands, benchmarks' seeding), committed on success."""
    with Session(engine, expire_on_commit=False) as db:
        if write:
            begin_write(db)
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


# --------------------------------------------------------------------------- migrations


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the newest schema (creates the tables on an empty database)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


# --------------------------------------------------------------------------- app wiring


def init_app(app: Flask) -> None:
    app.extensions["xlbridge_engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the tables, or upgrade them to the newest schema."""
    upgrade(get_engine())
    click.echo(f"database at revision {head_revision()}")
