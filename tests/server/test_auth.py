"""Tokens and roles: the authorization matrix of every API route, hashed storage,
revocation, and the token routes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from srvtest import publish, shipped_doc

from server import db
from server.auth import RANK, hash_token
from server.models import TokenRow

SID = "bailian-township"

#: (method, url, json body, least role); every /api route is here (test_openapi checks it)
MATRIX = [
    ("GET", "/api/me", None, "reader"),
    ("GET", "/api/schemes", None, "reader"),
    ("GET", f"/api/schemes/{SID}", None, "reader"),
    ("GET", f"/api/schemes/{SID}/latest", None, "reader"),
    ("GET", f"/api/schemes/{SID}/versions", None, "reader"),
    ("GET", f"/api/schemes/{SID}/versions/1", None, "reader"),
    ("POST", "/api/validate", {}, "reader"),
    ("GET", f"/api/schemes/{SID}/draft", None, "editor"),
    ("PUT", f"/api/schemes/{SID}/draft", {"title": "x"}, "editor"),
    ("DELETE", f"/api/schemes/{SID}/draft", None, "editor"),
    ("POST", f"/api/schemes/{SID}/draft/validate", None, "editor"),
    ("POST", f"/api/schemes/{SID}/draft/publish", None, "admin"),
    ("POST", f"/api/schemes/{SID}/deprecate", None, "admin"),
    ("POST", f"/api/schemes/{SID}/undeprecate", None, "admin"),
    ("GET", "/api/tokens", None, "admin"),
    ("POST", "/api/tokens", {"role": "reader"}, "admin"),
    ("DELETE", "/api/tokens/999", None, "admin"),
    ("GET", "/api/audit", None, "admin"),
]


@pytest.fixture
def setup(client, auth):
    publish(client, auth, shipped_doc())
    client.put(f"/api/schemes/{SID}/draft", json=shipped_doc(), headers=auth("editor"))


ROLE_ZH = {"reader": "读者", "editor": "编辑", "admin": "管理员"}


@pytest.mark.parametrize(("method", "url", "body", "least"), MATRIX,
                         ids=[f"{m} {u}" for m, u, _, _ in MATRIX])
def test_authorization_matrix(client, auth, setup, method, url, body, least):
    def call(headers):
        return client.open(url, method=method, json=body, headers=headers)

    r = call({})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert call({"Authorization": "Bearer xlb_not-a-token"}).status_code == 401
    assert call({"Authorization": "Basic abc"}).status_code == 401
    for role in RANK:
        r = call(auth(role))
        if RANK[role] < RANK[least]:
            assert r.status_code == 403, (role, r.get_data(as_text=True))
            # Chinese by default (the role as people call it, and its id), English on request
            assert r.get_json()["detail"].startswith(f"这需要{ROLE_ZH[least]}（{least}）角色")
            r = call({**auth(role), "Accept-Language": "en"})
            assert r.get_json()["detail"].startswith(f"this needs the {least} role")
        else:
            assert r.status_code not in (401, 403), (role, r.get_data(as_text=True))


def test_openapi_and_health_need_no_token(client):
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_tokens_are_stored_hashed(app, tokens):
    with app.app_context(), db.session_for(db.get_engine()) as session:
        rows = session.scalars(select(TokenRow)).all()
    stored = {r.token_hash for r in rows}
    assert stored == {hash_token(t) for t in tokens.values()}
    for t in tokens.values():
        assert t.startswith("xlb_") and len(t) > 40
        assert all(t not in (r.token_hash, r.name) for r in rows)


def test_admin_creates_lists_and_revokes_tokens(client, auth):
    r = client.post("/api/tokens", json={"role": "reader", "name": "某乡镇"},
                    headers=auth("admin"))
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    new = r.get_json()
    assert new["role"] == "reader" and new["name"] == "某乡镇" and new["token"].startswith("xlb_")
    bearer = {"Authorization": f"Bearer {new['token']}"}
    assert client.get("/api/me", headers=bearer).get_json() == {
        "name": "某乡镇", "role": "reader", "token_id": new["id"]}

    listed = client.get("/api/tokens", headers=auth("admin")).get_json()["tokens"]
    assert new["id"] in [t["id"] for t in listed]
    assert all("token" not in t and "token_hash" not in t for t in listed)

    r = client.delete(f"/api/tokens/{new['id']}", headers=auth("admin"))
    assert r.status_code == 200 and r.get_json()["revoked_at"]
    # revoked at once in this process, although the token was cached
    assert client.get("/api/me", headers=bearer).status_code == 401
    assert client.delete("/api/tokens/424242", headers=auth("admin")).status_code == 404


def test_token_request_is_validated(client, auth):
    r = client.post("/api/tokens", json={"role": "superuser"}, headers=auth("admin"))
    assert r.status_code == 422 and r.get_json()["errors"][0]["path"] == "role"
    r = client.post("/api/tokens", json={"name": "x"}, headers=auth("admin"))
    assert r.status_code == 422 and r.get_json()["errors"][0]["path"] == "role"
    r = client.post("/api/tokens", json={"role": "reader", "name": 5}, headers=auth("admin"))
    assert r.status_code == 422 and r.get_json()["errors"][0]["path"] == "name"


def test_revocation_from_another_process_takes_effect_after_the_cache(database):
    from srvtest import make_app

    from server.auth import LOCAL_ADMIN, create_token, revoke_token

    app = make_app(database, AUTH_CACHE_SECONDS=0)
    try:
        with app.app_context(), db.session_for(db.get_engine(), write=True) as session:
            token, row = create_token(session, "reader", "office", LOCAL_ADMIN)
        client = app.test_client()
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/me", headers=bearer).status_code == 200
        # as `xlbridge server token revoke` would, beside the running server
        with app.app_context(), db.session_for(db.get_engine(), write=True) as session:
            revoke_token(session, row.id, LOCAL_ADMIN)
        assert client.get("/api/me", headers=bearer).status_code == 401
    finally:
        app.extensions["xlbridge_engine"].dispose()


# --------------------------------------------------------------------------- issue 13, item 11


@pytest.fixture
def strict_app(database):
    from srvtest import make_app

    app = make_app(database, AUTH_FREE_FAILURES=3, AUTH_MAX_DELAY=60)
    yield app
    app.extensions["xlbridge_engine"].dispose()


def test_wrong_tokens_are_throttled_per_address(strict_app):
    import time

    from server.auth import LOCAL_ADMIN, create_token

    with strict_app.app_context(), db.session_for(db.get_engine(), write=True) as session:
        good, _ = create_token(session, "reader", "office", LOCAL_ADMIN)
        other, _ = create_token(session, "reader", "office 2", LOCAL_ADMIN)
    client = strict_app.test_client()
    known = {"Authorization": f"Bearer {good}"}
    assert client.get("/api/me", headers=known).status_code == 200  # now in the cache
    wrong = {"Authorization": "Bearer xlb_guess"}
    assert [client.get("/api/me", headers=wrong).status_code for _ in range(4)] == [401] * 4
    r = client.get("/api/me", headers=wrong)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert "失败次数过多" in r.get_json()["detail"]
    # closed: no token is looked up from this address, not even a valid one …
    assert client.get("/api/me", headers={"Authorization": f"Bearer {other}"}
                      ).status_code == 429
    # … but one verified before (an office that synced a moment ago) is served as it was
    assert client.get("/api/me", headers=known).status_code == 200
    other_address = client.get("/api/me", headers=wrong,
                               environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_address.status_code == 401
    time.sleep(1.1)
    assert client.get("/api/me", headers=wrong).status_code == 401
    r = client.get("/api/me", headers=wrong)  # the delay grew: 2 s now
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"


def test_sign_in_is_throttled_too(strict_app):
    from srvtest import sign_in

    client = strict_app.test_client()
    answers = [sign_in(client, f"xlb_guess{i}") for i in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert "这个令牌无效" in answers[0].get_data(as_text=True)
    assert "失败次数过多" in answers[-1].get_data(as_text=True)


def test_the_last_admin_token_cannot_be_revoked(client, auth, tokens, runner):
    me = client.get("/api/me", headers=auth("admin")).get_json()
    r = client.delete(f"/api/tokens/{me['token_id']}", headers=auth("admin"))
    assert r.status_code == 409 and "最后一个有效的管理员令牌" in r.get_json()["detail"]
    assert client.get("/api/me", headers=auth("admin")).status_code == 200  # still works
    second = client.post("/api/tokens", json={"role": "admin", "name": "第二位管理员"},
                         headers=auth("admin")).get_json()
    assert client.delete(f"/api/tokens/{me['token_id']}",
                         headers=auth("admin")).status_code == 200  # not the last one now
    bearer = {"Authorization": f"Bearer {second['token']}"}
    assert client.delete(f"/api/tokens/{second['id']}", headers=bearer).status_code == 409
    # revoking readers and editors is unaffected
    reader = client.get("/api/me", headers=auth("reader")).get_json()["token_id"]
    assert client.delete(f"/api/tokens/{reader}", headers=bearer).status_code == 200


def test_the_cli_cannot_revoke_the_last_admin_either(database, tmp_path):
    from click.testing import CliRunner
    from srvtest import make_app

    from server.auth import LOCAL_ADMIN, create_token
    from xlbridge.cli import main

    app = make_app(database)
    try:
        with app.app_context(), db.session_for(db.get_engine(), write=True) as session:
            _, row = create_token(session, "admin", "唯一的管理员", LOCAL_ADMIN)
    finally:
        app.extensions["xlbridge_engine"].dispose()
    r = CliRunner().invoke(main, ["server", "token", "revoke", str(row.id), "--db", database])
    assert r.exit_code != 0 and "最后一个有效的管理员令牌" in r.output


@pytest.mark.parametrize("name", [{}, [], 0, False, None, {"x": 1}, ["a"]])
def test_a_token_name_must_be_text(client, auth, name):
    r = client.post("/api/tokens", json={"role": "reader", "name": name},
                    headers=auth("admin"))
    assert r.status_code == 422 and r.get_json()["errors"][0]["path"] == "name"
