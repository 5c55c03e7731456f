"""Fixtures of the scheme-server tests, after Flask's tutorial: ``app`` (a fresh app on an
empty, migrated database), ``client``, ``runner``; plus ``tokens`` (one per role) and
helpers to publish schemes.

Every test that takes ``app`` runs twice: on a SQLite file and on PostgreSQL. The PostgreSQL
run needs ``XLBRIDGE_TEST_PG_URL`` (``.ci/postgres.sh`` starts a server and sets it); it is
skipped without it, unless ``XLBRIDGE_REQUIRE_ALL=1`` (CI), where a missing server fails.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

# This folder is called `server` like the package it tests, and pytest puts `tests/` on
# sys.path: where the repository root is not on sys.path too (the `pytest` script, unlike
# `python -m pytest`), `import server` would find this folder as a namespace package.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)
if getattr(sys.modules.get("server"), "__file__", "") is None:
    del sys.modules["server"]

import pytest  # noqa: E402
from srvtest import fresh_pg, fresh_sqlite, make_app, pg_url  # noqa: E402

from server import db  # noqa: E402
from server.auth import LOCAL_ADMIN, create_token  # noqa: E402


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        return fresh_sqlite(tmp_path)
    return fresh_pg(pg_url())


@pytest.fixture
def sqlite_database(tmp_path) -> str:
    return fresh_sqlite(tmp_path)


@pytest.fixture
def app(database) -> Iterator:
    app = make_app(database)
    yield app
    db_engine = app.extensions["xlbridge_engine"]
    db_engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def tokens(app) -> dict[str, str]:
    """A token of each role, by role."""
    out = {}
    with app.app_context(), db.session_for(db.get_engine(), write=True) as session:
        for role in ("reader", "editor", "admin"):
            out[role], _ = create_token(session, role, f"test-{role}", LOCAL_ADMIN)
    return out


@pytest.fixture
def auth(tokens):
    def headers(role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}", **extra}

    return headers




CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright over the DevTools protocol."""
    import os

    from external_tools import missing

    if not os.path.exists(CHROMIUM):
        missing(CHROMIUM, " (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live_server(app):
    """The app served by waitress on 127.0.0.1 (``.url``); stopped after the test."""
    from srvtest import LiveServer

    server = LiveServer(app)
    yield server
    server.stop()
