"""The sync client (xlbridge/sync.py) against a live server on loopback: full download,
revalidation with 304, new versions, offline fallback, pinned versions, immutability."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import CliRunner
from srvtest import publish, shipped_doc

from xlbridge.cli import main
from xlbridge.engine import score_record
from xlbridge.store import SchemeStore
from xlbridge.sync import STATE_FILE, load_state, sync, synced_at, version_path

SID = "bailian-township"
RECORD = {"unit_name": "桥头村", "indicator": 90, "public": 92, "inspection": None, "veto": None}


def stricter(doc: dict) -> dict:
    """Version 2 of 白莲: 优 from 95 (90.4 is 良好 now)."""
    doc = json.loads(json.dumps(doc))
    doc["tiers"][0]["at_least"] = 95
    doc["tiers"][1]["below"] = 95
    return doc


@pytest.fixture
def published(client, auth):
    publish(client, auth, shipped_doc())
    publish(client, auth, stricter(shipped_doc()))
    publish(client, auth, shipped_doc("meiling-street-quarterly"))


@pytest.fixture
def reader(tokens):
    return tokens["reader"]


def test_sync_downloads_every_published_version(live_server, published, reader, tmp_path,
                                                client, auth):
    store = tmp_path / "store"
    report = sync(live_server.url, reader, store)
    assert report.ok, report.errors
    assert sorted(report.downloaded) == [f"{SID}@1", f"{SID}@2", "meiling-street-quarterly@1"]
    for sid, v in ((SID, 1), (SID, 2), ("meiling-street-quarterly", 1)):
        served = client.get(f"/api/schemes/{sid}/versions/{v}", headers=auth("reader")).data
        assert version_path(store, sid, v).read_bytes() == served  # the exact bytes
    state = load_state(store)
    assert state["server"] == live_server.url
    assert state["schemes"][SID]["latest_version"] == 2 and state["schemes"][SID]["etag"]
    when = synced_at(SID, store)
    assert when is not None and abs(datetime.now(UTC) - when) < timedelta(minutes=1)
    assert synced_at("never-synced", store) is None
    # the scheme store reads the synced files and ignores the state file and temp files
    entries = {e.ref for e in SchemeStore([store]).entries()}
    assert entries == {f"{SID}@1", f"{SID}@2", "meiling-street-quarterly@1"}
    assert not [p for p in store.rglob("*") if p.name.endswith(".tmp")]


def test_unchanged_schemes_cost_one_304_each(live_server, published, reader, tmp_path):
    store = tmp_path / "store"
    sync(live_server.url, reader, store)
    files = {p: p.stat().st_mtime_ns for p in store.rglob("*@*.json")}
    report = sync(live_server.url, reader, store)
    assert report.ok and report.downloaded == []
    assert sorted(report.unchanged) == [SID, "meiling-street-quarterly"]
    assert report.not_modified == 2
    assert report.requests == 1 + 2  # the list, then one revalidation per scheme
    assert {p: p.stat().st_mtime_ns for p in store.rglob("*@*.json")} == files


def test_a_new_version_downloads_only_that(live_server, published, reader, tmp_path, client,
                                           auth):
    store = tmp_path / "store"
    sync(live_server.url, reader, store)
    doc = stricter(shipped_doc())
    doc["title"] = "白莲镇（第三版）"
    publish(client, auth, doc)
    report = sync(live_server.url, reader, store)
    assert report.downloaded == [f"{SID}@3"]
    assert report.unchanged == ["meiling-street-quarterly"]
    assert report.requests == 1 + 2


def test_missing_local_file_is_fetched_again(live_server, published, reader, tmp_path):
    store = tmp_path / "store"
    sync(live_server.url, reader, store)
    version_path(store, SID, 1).unlink()
    version_path(store, SID, 2).unlink()
    report = sync(live_server.url, reader, store)
    assert sorted(report.downloaded) == [f"{SID}@1", f"{SID}@2"]


def test_offline_leaves_the_store_and_computing_works(live_server, published, reader,
                                                      tmp_path, monkeypatch):
    store = tmp_path / "store"
    sync(live_server.url, reader, store)
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    live_server.stop()

    report = sync(live_server.url, reader, store, timeout=2)
    assert report.offline and not report.ok
    assert "连接被拒绝（服务器在运行吗？地址对吗？）" in report.errors[0]
    assert "保留上次同步的版本" in report.summary()
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before

    # the worksheet functions and `xlbridge recompute` read the store: still there
    cs = SchemeStore([store]).get(SID)
    assert cs.scheme.version == 2 and score_record(cs, RECORD).grade == "良好"

    monkeypatch.setenv("XLBRIDGE_STORE", str(store))
    result = CliRunner().invoke(main, ["sync", "--token", reader])  # server from the state
    assert result.exit_code == 1
    assert "离线：无法连接 " in result.output and "连接被拒绝" in result.output
    # in-process, as the ribbon's Sync button runs it: an exception with the message,
    # never a SystemExit inside Excel's Python
    with pytest.raises(click.ClickException, match="离线："):
        main.main(args=["sync", "--token", reader], prog_name="xlbridge",
                  standalone_mode=False)


def test_pinned_versions_compute_with_that_version(live_server, published, reader, tmp_path):
    store = tmp_path / "store"
    sync(live_server.url, reader, store)
    schemes = SchemeStore([store])
    assert score_record(schemes.get(f"{SID}@1"), RECORD).grade == "优"
    assert score_record(schemes.get(f"{SID}@2"), RECORD).grade == "良好"
    assert schemes.get(SID).scheme.version == 2  # unpinned: the latest


def test_a_published_version_is_never_overwritten(live_server, published, reader, tmp_path):
    store = tmp_path / "store"
    sync(live_server.url, reader, store)
    path = version_path(store, SID, 2)
    edited = path.read_bytes().replace("白莲".encode(), "黑莲".encode())
    path.write_bytes(edited)
    (store / STATE_FILE).unlink()  # forget the ETags: everything is looked at again
    report = sync(live_server.url, reader, store)
    assert not report.ok
    assert any(f"与服务器上的 {SID}@2 不同。已发布的版本不会再改变" in e for e in report.errors)
    assert path.read_bytes() == edited


def test_wrong_token_is_reported(live_server, published, tmp_path):
    report = sync(live_server.url, "xlb_wrong", tmp_path / "store")
    assert not report.ok and not report.offline
    assert "401" in report.errors[0] and "读取用的令牌" in report.errors[1]
    assert not (tmp_path / "store").exists()


def test_the_servers_answers_come_in_the_clerks_language(live_server, published, tmp_path):
    from xlbridge.i18n import use_language
    with use_language("en"):
        report = sync(live_server.url, "xlb_wrong", tmp_path / "store")
    assert "401" in report.errors[0] and "the token is unknown or revoked" in report.errors[0], \
        report.errors
    report = sync(live_server.url, "xlb_wrong", tmp_path / "store")
    assert "unknown or revoked" not in report.errors[0] and "令牌" in report.errors[0], \
        report.errors


def test_no_server_known(tmp_path, monkeypatch):
    monkeypatch.delenv("XLBRIDGE_SERVER", raising=False)
    with pytest.raises(ValueError, match="--server"):
        sync(None, None, tmp_path)


def test_deprecated_schemes_are_synced_and_reported(live_server, published, reader, tmp_path,
                                                    client, auth):
    client.post(f"/api/schemes/{SID}/deprecate", headers=auth("admin"))
    report = sync(live_server.url, reader, tmp_path / "store")
    assert report.deprecated == [SID] and version_path(tmp_path / "store", SID, 2).exists()
    assert load_state(tmp_path / "store")["schemes"][SID]["deprecated"] is True


def test_cli_sync_and_publish(live_server, tokens, tmp_path, monkeypatch):
    runner = CliRunner()
    files = ["workbooks/schemes/bailian-township.yaml",
             "workbooks/schemes/meiling-street-quarterly.yaml"]
    args = ["server", "publish", *files, "--server", live_server.url]
    result = runner.invoke(main, [*args, "--token", tokens["editor"]])
    assert result.exit_code == 1 and "发布需要管理员令牌；" in result.output

    result = runner.invoke(main, [*args, "--token", tokens["admin"], "--note", "首次发布"])
    assert result.exit_code == 0, result.output
    assert "已发布 bailian-township@1" in result.output
    assert "已发布 meiling-street-quarterly@1" in result.output
    result = runner.invoke(main, [*args, "--token", tokens["admin"]])
    assert result.exit_code == 0 and result.output.count("的内容与此相同") == 2

    monkeypatch.setenv("XLBRIDGE_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("XLBRIDGE_TOKEN", tokens["reader"])
    result = runner.invoke(main, ["sync", "--server", live_server.url])
    assert result.exit_code == 0, result.output
    assert "+ bailian-township@1" in result.output and "下载 2 个版本" in result.output
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 0 and "2 个方案未变" in result.output


def test_remembered_token_lets_a_bare_sync_work(live_server, published, reader, tmp_path,
                                               monkeypatch):
    """The ribbon's Sync button calls sync() with no arguments."""
    store = tmp_path / "store"
    monkeypatch.setenv("XLBRIDGE_STORE", str(store))
    monkeypatch.delenv("XLBRIDGE_TOKEN", raising=False)
    monkeypatch.delenv("XLBRIDGE_SERVER", raising=False)
    result = CliRunner().invoke(main, ["sync", "--server", live_server.url, "--token", reader,
                                       "--remember"])
    assert result.exit_code == 0, result.output
    kept = store / ".sync-token"
    assert kept.read_text().strip() == reader
    if os.name == "posix":
        assert kept.stat().st_mode & 0o777 == 0o600
    report = sync()
    assert report.ok and report.not_modified == 2


def test_recompute_syncs_from_the_server_first(live_server, published, reader, tmp_path,
                                               monkeypatch):
    """`xlbridge recompute FILE --schemes URL`: the workbook computes with what the server
    publishes now (白莲 version 2: 优 from 95, so 90.4 is 良好), synced into the store."""
    import openpyxl

    from xlbridge.store import reset_default_store

    store = tmp_path / "store"
    monkeypatch.setenv("XLBRIDGE_STORE", str(store))
    monkeypatch.setenv("XLBRIDGE_TOKEN", reader)
    reset_default_store()
    book = tmp_path / "考核.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(['=PERF_GRADE(90.4,"bailian-township")', f'=PERF_GRADE(90.4,"{SID}@1")'])
    wb.save(book)
    try:
        result = CliRunner().invoke(main, ["recompute", str(book), "--schemes", live_server.url])
        assert result.exit_code == 0, result.output
        assert "下载 3 个" in result.output
        values = openpyxl.load_workbook(book, data_only=True).active
        assert [values["A1"].value, values["B1"].value] == ["良好", "优"]  # newest; pinned @1
        assert version_path(store, SID, 2).exists()
    finally:
        monkeypatch.undo()
        reset_default_store()
