"""Published versions in memory; the latest-version pointer's lifetime across processes."""

from __future__ import annotations

from srvtest import make_app, publish, shipped_doc

SID = "bailian-township"


def _token(app):
    from server import db
    from server.auth import LOCAL_ADMIN, create_token

    with app.app_context(), db.session_for(db.get_engine(), write=True) as session:
        return create_token(session, "admin", "cache-test", LOCAL_ADMIN)[0]


def test_published_version_served_from_memory(app, client, auth):
    publish(client, auth, shipped_doc())
    first = client.get(f"/api/schemes/{SID}/versions/1", headers=auth("reader"))
    cache = app.extensions["xlbridge_cache"]
    assert cache.version(lambda: None, SID, 1).body == first.data  # no database needed now


def test_latest_pointer_of_another_process(database):
    """A second server on the same database publishes: this one sees it after LATEST_TTL."""
    slow, fresh, other = (make_app(database, LATEST_TTL=ttl) for ttl in (3600, 0, 0))
    try:
        for app in (slow, fresh, other):
            app.config["TOKEN"] = _token(app)
        def h(app):
            return {"Authorization": f"Bearer {app.config['TOKEN']}"}

        def auth(_role, app=other, **extra):
            return {**h(app), **extra}

        publish(other.test_client(), auth, shipped_doc())
        for app in (slow, fresh):
            r = app.test_client().get(f"/api/schemes/{SID}/latest", headers=h(app))
            assert r.headers["X-Scheme-Version"] == "1"
        doc = shipped_doc()
        doc["title"] = "第二版"
        publish(other.test_client(), auth, doc)
        versions = [app.test_client().get(f"/api/schemes/{SID}/latest", headers=h(app))
                    .headers["X-Scheme-Version"] for app in (slow, fresh)]
        assert versions == ["1", "2"]
    finally:
        for app in (slow, fresh, other):
            app.extensions["xlbridge_engine"].dispose()
