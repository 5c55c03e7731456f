"""同步方案 and 关于: the ribbon's sync button calls the sync client (xlbridge/sync.py) against a
live scheme server on loopback and formats its report; 关于 says what a PC without the add-in
shows."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from xlbridge import ribbon

from .conftest import actions, sheet_json

sys.path.append(str(Path(__file__).parents[1] / "server"))
from srvtest import LiveServer, fresh_sqlite, make_app, publish, shipped_doc

BL = "bailian-township"


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, str, object]]:
    """A scheme server with 白莲 versions 1 and 2 published: (url, reader token, client)."""
    from server import db
    from server.auth import LOCAL_ADMIN, create_token

    app = make_app(fresh_sqlite(tmp_path))
    tokens = {}
    with app.app_context(), db.session_for(db.get_engine(), write=True) as session:
        for role in ("reader", "editor", "admin"):
            tokens[role], _ = create_token(session, role, f"test-{role}", LOCAL_ADMIN)
    client = app.test_client()

    def auth(role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}", **extra}

    doc = shipped_doc()
    publish(client, auth, doc)
    stricter = json.loads(json.dumps(doc))
    stricter["tiers"][0]["at_least"] = 95
    stricter["tiers"][1]["below"] = 95
    publish(client, auth, stricter)
    live = LiveServer(app)
    yield live.url, tokens["reader"], client
    live.stop()
    app.extensions["xlbridge_engine"].dispose()


def pinned_book(make_book, version: int = 1):
    names = [{"name": ribbon.SCHEME_NAME, "refers_to": f'="{BL}@{version}"', "sheet_index": None,
              "address": None, "book_scope": False, "scope_sheet_name": "白莲",
              "scope_sheet_index": 0}]
    return make_book([sheet_json("白莲", [["单位", "指标考核"], ["白莲村", 90]]),
                      sheet_json("说明", [["填表说明"]])], names=names)


def test_sync_button_downloads_and_names_the_sheets_on_an_older_version(
        server, store, make_book, monkeypatch):
    url, reader, _client = server
    monkeypatch.setenv("XLBRIDGE_SERVER", url)
    monkeypatch.setenv("XLBRIDGE_TOKEN", reader)
    store.recheck_seconds = 3600                 # the handler must re-read the store itself
    book = pinned_book(make_book)
    assert sorted(ribbon.sync_schemes(book)) == [f"{BL}@1", f"{BL}@2"]
    synced = Path(store.dirs[0])
    assert (synced / BL / f"{BL}@2.json").exists()
    (alert,) = [a["args"][0] for a in actions(book, "alert")]
    assert alert.splitlines()[0] == f"已从 {url} 同步方案。"
    assert f"新下载的方案/版本：{BL}@2、{BL}@1" in alert
    assert f"工作表“白莲”按 {BL}@1 计算，已有 {BL}@2。" in alert
    assert store.entry(BL).ref == f"{BL}@2"
    # a second click: nothing new, one 304 per scheme
    book = pinned_book(make_book, version=2)
    assert ribbon.sync_schemes(book) == []
    (alert,) = [a["args"][0] for a in actions(book, "alert")]
    assert "没有新的方案或版本。" in alert and "已有" not in alert


def test_sync_button_offline_keeps_the_last_schemes(store, make_book, monkeypatch):
    monkeypatch.setenv("XLBRIDGE_SERVER", "http://127.0.0.1:9")   # nothing listens there
    monkeypatch.delenv("XLBRIDGE_TOKEN", raising=False)
    book = pinned_book(make_book)
    assert ribbon.sync_schemes(book) == []
    (alert,) = [a["args"][0] for a in actions(book, "alert")]
    assert alert.startswith("无法连接方案服务器 http://127.0.0.1:9：")
    assert f"继续使用上次同步的方案（{store.dirs[0]}）" in alert
    assert store.entry(BL).ref == f"{BL}@1"


def test_sync_button_without_a_server_says_how_to_set_one(store, make_book, monkeypatch):
    monkeypatch.delenv("XLBRIDGE_SERVER", raising=False)
    book = pinned_book(make_book)
    assert ribbon.sync_schemes(book) == []
    (alert,) = [a["args"][0] for a in actions(book, "alert")]
    assert alert == ribbon.NO_SERVER and "--remember" in alert


def test_the_ribbon_calls_the_library_not_the_command_line():
    source = inspect.getsource(ribbon)
    assert "xlbridge.cli" not in source and "redirect_stdout" not in source
    assert "from xlbridge.sync import sync" in inspect.getsource(ribbon._sync)


def test_about_says_what_a_pc_without_the_addin_shows(store, make_book):
    book = make_book([sheet_json("x", [["a"]])])
    text = ribbon.about(book)
    assert ribbon.WITHOUT_ADDIN in text
    assert "#NAME?" in text and "--values-only" in text
    assert actions(book, "alert")[0]["args"][0] == text
