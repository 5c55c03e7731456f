"""The WSGI fast path answers exactly as Flask does, and only when all it needs is cached."""

from __future__ import annotations

import pytest
from srvtest import make_app, publish, shipped_doc

from server.fastpath import FastPath

SID = "bailian-township"


@pytest.fixture
def apps(database):
    fast, slow = make_app(database), make_app(database, FAST_PATH=False)
    yield fast, slow
    for app in (fast, slow):
        app.extensions["xlbridge_engine"].dispose()


def test_same_answers_with_and_without_the_fast_path(apps, tokens_for):
    fast, slow = apps
    auth = tokens_for(fast)
    client = fast.test_client()
    publish(client, auth, shipped_doc())
    publish(client, auth, {**shipped_doc(), "title": "第二版"})
    client.post(f"/api/schemes/{SID}/deprecate", headers=auth("admin"))
    etag = client.get(f"/api/schemes/{SID}/latest", headers=auth("reader")).headers["ETag"]
    etag1 = client.get(f"/api/schemes/{SID}/versions/1", headers=auth("reader")).headers["ETag"]

    flask_calls = []
    inner = fast.wsgi_app.app
    assert isinstance(fast.wsgi_app, FastPath)

    def counting(environ, start_response):
        flask_calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    fast.wsgi_app.app = counting
    cases = [
        (f"/api/schemes/{SID}/latest", {}),
        (f"/api/schemes/{SID}/latest", {"If-None-Match": etag}),
        (f"/api/schemes/{SID}/latest", {"If-None-Match": f'"nope", W/{etag}'}),
        (f"/api/schemes/{SID}/latest", {"If-None-Match": "*"}),
        (f"/api/schemes/{SID}/latest", {"If-None-Match": etag1}),
        (f"/api/schemes/{SID}/versions/1", {}),
        (f"/api/schemes/{SID}/versions/1", {"If-None-Match": etag1}),
        (f"/api/schemes/{SID}/versions/2", {"If-None-Match": etag}),
    ]
    for path, extra in cases:
        a = fast.test_client().get(path, headers=auth("reader", **extra))
        b = slow.test_client().get(path, headers={**auth("reader"), **extra})
        assert (a.status, a.data) == (b.status, b.data), path
        assert sorted(a.headers.items()) == sorted(b.headers.items()), (path, extra)
    assert flask_calls == []  # every one of them came from the fast path

    # not cached, or not for the fast path: Flask answers
    for path, headers in ((f"/api/schemes/{SID}/versions/3", auth("reader")),
                          (f"/api/schemes/{SID}/latest", {}),
                          (f"/api/schemes/{SID}/latest", {"Authorization": "Bearer xlb_x"}),
                          ("/api/schemes/unknown-id/latest", auth("reader"))):
        r = fast.test_client().get(path, headers=headers)
        assert r.status_code in (401, 404) and flask_calls[-1] == path


@pytest.fixture
def tokens_for():
    from server import db
    from server.auth import LOCAL_ADMIN, create_token

    def make(app):
        toks = {}
        with app.app_context(), db.session_for(db.get_engine(), write=True) as session:
            for role in ("reader", "editor", "admin"):
                toks[role], _ = create_token(session, role, f"test-{role}", LOCAL_ADMIN)
        return lambda role, **extra: {"Authorization": f"Bearer {toks[role]}", **extra}

    return make
