"""Helpers of the scheme-server tests (imported by conftest.py and the tests): fresh
databases of each kind, an app on one, and publishing a scheme through the API."""


from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from external_tools import missing
from sqlalchemy import text

from server import create_app, db
from server.models import Base

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "workbooks" / "schemes"
PG_ENV = "XLBRIDGE_TEST_PG_URL"


def pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        missing(f"PostgreSQL ({PG_ENV})", ": source .ci/postgres.sh to start one")
    return db.database_url(url)


_pg_ready: set[str] = set()


def fresh_pg(url: str) -> str:
    """Empty every table (migrating the database once per test session)."""
    engine = db.make_engine(url)
    try:
        if url not in _pg_ready:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.upgrade(engine)
            _pg_ready.add(url)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
    return url


_sqlite_template: dict[str, bytes] = {}


def fresh_sqlite(tmp_path: Path) -> str:
    """A migrated SQLite file (migrated once, then copied: a copy costs less than Alembic)."""
    path = tmp_path / "server.sqlite3"
    if "bytes" not in _sqlite_template:
        engine = db.make_engine(db.database_url(str(path)))
        db.upgrade(engine)
        engine.dispose()
        _sqlite_template["bytes"] = path.read_bytes()
    else:
        path.write_bytes(_sqlite_template["bytes"])
    return db.database_url(str(path))


def make_app(url: str, **config):
    settings = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test",
                "WRITE_RATE_PER_MINUTE": 100_000, "WRITE_BURST": 100_000}
    settings.update(config)
    return create_app(settings)


def shipped_doc(name: str = "bailian-township") -> dict:
    """A shipped scheme as a JSON-ready dict."""
    from xlbridge.scheme.load import load_scheme_file

    scheme = load_scheme_file(SHIPPED / f"{name}.yaml").scheme
    return scheme.model_dump(mode="json", exclude_none=True)


def yaml_doc(text: str) -> dict:
    return yaml.safe_load(text)


def publish(client, auth, doc: dict, note: str | None = None) -> dict:
    """Save ``doc`` as the draft of its scheme and publish it; returns the publish answer."""
    scheme_id = doc["id"]
    r = client.get(f"/api/schemes/{scheme_id}/draft", headers=auth("editor"))
    headers = auth("editor")
    if r.status_code == 200:
        headers["If-Match"] = r.headers["ETag"]
    r = client.put(f"/api/schemes/{scheme_id}/draft", json=doc, headers=headers)
    assert r.status_code in (200, 201), r.get_json()
    r = client.post(f"/api/schemes/{scheme_id}/draft/publish",
                    json={"note": note} if note else None, headers=auth("admin"))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


class LiveServer:
    """The app under waitress on a free loopback port, in a background thread."""

    def __init__(self, app):
        import threading

        from server.serving import make_server

        self.server = make_server(app, host="127.0.0.1", port=0, threads=4, freeze_gc=False,
                                  asyncore_loop_timeout=0.05)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import contextlib

        with contextlib.suppress(OSError, ValueError):  # the socket closed under the loop
            self.server.run()

    def stop(self) -> None:
        self.server.task_dispatcher.shutdown()
        self.server.close()
        for channel in list(self.server._map.values()):  # open keep-alive connections
            channel.close()
        self.thread.join(5)


# --------------------------------------------------------------------------- web pages


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has no form with a CSRF token"
    return m.group(1)


def sign_in(client, token: str, next_page: str = "/"):
    """Sign a test client in on /login, as a browser does (CSRF token included)."""
    csrf = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"token": token, "next": next_page, "csrf_token": csrf})


def form_post(client, url: str, data: dict, page: str = "/", **kwargs):
    """POST a page's form: ``data`` plus the CSRF token of ``page`` (same session)."""
    csrf = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": csrf}, **kwargs)
