"""The sync client against servers that misbehave (issue 13, items 3 and 5): every document is
validated before it is stored, an invalid one is quarantined with its reason, the store's
newest version is always a valid one, and no answer — too large, too slow, with absurd
headers — can hang the sync, exhaust its memory or end it with a traceback."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.hostile import (
    HostileServer,
    document,
    huge,
    huge_chunked,
    listing,
    run_measured,
    trickle,
)
from xlbridge.scheme import SchemeInvalid
from xlbridge.store import SchemeStore
from xlbridge.sync import QUARANTINE, STATE_FILE, load_state, sync, version_path

SID = "hostile-township"
SHIPPED = Path(__file__).resolve().parents[2] / "workbooks" / "schemes"


def doc(version: int, broken: bool = False) -> dict:
    from xlbridge.scheme.load import load_scheme_file

    scheme = load_scheme_file(SHIPPED / "bailian-township.yaml").scheme
    d = scheme.model_dump(mode="json", exclude_none=True)
    d["id"], d["version"] = SID, version
    if broken:  # a gap between the tiers: validates structurally, fails validation
        d["tiers"][0]["at_least"] = 95
    return d


def item(latest: int = 2) -> dict:
    return {"id": SID, "title": "t", "latest_version": latest, "deprecated": False}


def history(*versions: int) -> tuple:
    return 200, {"Content-Type": "application/json"}, json.dumps(
        {"id": SID, "versions": [{"version": v} for v in versions]}).encode()


def routes(latest_doc: dict, latest: int, **more) -> dict:
    return {"/api/schemes": listing(item(latest)),
            f"/api/schemes/{SID}/latest": document(latest_doc, latest),
            f"/api/schemes/{SID}/versions": history(*range(1, latest + 1)), **more}


def test_an_invalid_document_is_quarantined_not_stored(tmp_path):
    store = tmp_path / "store"
    with HostileServer(routes(doc(2, broken=True), 2, **{
            f"/api/schemes/{SID}/versions/1": document(doc(1), 1)})) as srv:
        report = sync(srv.url, "t", store)
        again = sync(srv.url, "t", store)
    assert report.downloaded == [f"{SID}@1"] and not report.ok
    (error,) = report.errors
    assert f"{SID}@2 未通过校验" in error and "没有存入方案库" in error and "tiers" in error
    assert not version_path(store, SID, 2).exists()
    quarantined = store / QUARANTINE / f"{SID}@2.json"
    assert quarantined.exists()
    assert "tiers" in (store / QUARANTINE / f"{SID}@2.reason.txt").read_text("utf-8")
    assert any("未通过校验" in e for e in again.errors)  # still reported, still not stored
    assert not version_path(store, SID, 2).exists()
    # the newest version is the valid one, for every workbook naming the scheme plainly
    schemes = SchemeStore([store])
    assert schemes.entry(SID).version == 1 and schemes.get(SID).scheme.version == 1
    assert {e.ref for e in schemes.entries()} == {f"{SID}@1"}


def test_the_cli_reports_it_and_exits_1(tmp_path):
    store = tmp_path / "store"
    with HostileServer(routes(doc(2, broken=True), 2, **{
            f"/api/schemes/{SID}/versions/1": document(doc(1), 1)})) as srv:
        r = run_measured([sys.executable, "-m", "xlbridge.cli", "sync", "--server", srv.url,
                          "--token", "t", "--store", str(store)], timeout=60)
    assert r.returncode == 1 and f"+ {SID}@1" in r.stdout and f"+ {SID}@2" not in r.stdout
    assert "未通过校验" in r.stderr and "Traceback" not in r.output


def test_an_invalid_version_already_in_the_store_is_not_the_latest(tmp_path):
    """A file synced by an older xlbridge, or dropped into a folder, that fails validation."""
    folder = tmp_path / SID
    folder.mkdir()
    (folder / f"{SID}@1.json").write_text(json.dumps(doc(1)), "utf-8")
    (folder / f"{SID}@2.json").write_text(json.dumps(doc(2, broken=True)), "utf-8")
    schemes = SchemeStore([tmp_path])
    assert schemes.entry(SID).version == 1
    assert schemes.get(SID).scheme.version == 1
    with pytest.raises(SchemeInvalid):
        schemes.get(f"{SID}@2")  # asked for by number, it says why it cannot be used


def test_a_version_going_backwards_warns_and_keeps_the_newer(tmp_path):
    store = tmp_path / "store"
    with HostileServer(routes(doc(2), 2, **{
            f"/api/schemes/{SID}/versions/1": document(doc(1), 1)})) as srv:
        assert sync(srv.url, "t", store).ok
    with HostileServer(routes(doc(1), 1)) as srv:  # the server restored from an old backup
        report = sync(srv.url, "t", store)
    (warning,) = report.warnings
    assert f"{SID} 的最新版本是 @1" in warning and "@2" in warning
    assert version_path(store, SID, 2).exists()
    assert SchemeStore([store]).entry(SID).version == 2


@pytest.mark.parametrize("answer", [huge(300), huge_chunked(300)])
def test_a_huge_answer_is_cut_off(tmp_path, answer):
    store = tmp_path / "store"
    with HostileServer({"/api/schemes": answer}) as srv:
        r = run_measured([sys.executable, "-m", "xlbridge.cli", "sync", "--server", srv.url,
                          "--token", "t", "--store", str(store)], timeout=120)
    assert r.returncode == 1 and "字节" in r.stderr and "Traceback" not in r.output
    assert r.seconds < 30 and r.peak_mb < 200, (r.seconds, r.peak_mb)  # was 645 MB


@pytest.mark.parametrize("headers_too", [False, True])
def test_an_answer_trickling_in_ends_at_the_deadline(tmp_path, headers_too):
    store = tmp_path / "store"
    with HostileServer({"/api/schemes": trickle(0.3, headers_too=headers_too)}) as srv:
        start = time.monotonic()
        report = sync(srv.url, "t", store, timeout=1.0, deadline=2.0)
        took = time.monotonic() - start
    assert report.offline and "2 秒内没有答完" in report.errors[0]
    assert took < 5, took
    assert not (store / STATE_FILE).exists()


def test_an_absurd_version_header_is_refused_at_once(tmp_path):
    store = tmp_path / "store"
    for version in ("10000000", "-3", "0", "2.0", "1e3", "9" * 5000):
        with HostileServer(routes(doc(2), 2) | {
                f"/api/schemes/{SID}/latest": document(doc(2), version)}) as srv:
            start = time.monotonic()
            report = sync(srv.url, "t", store)
            assert time.monotonic() - start < 10
        assert any("版本号不合理" in e for e in report.errors), (version, report.errors)
        assert not (store / SID).exists()


def test_a_big_but_plausible_version_costs_one_history_request(tmp_path):
    store = tmp_path / "store"
    latest = 999_999
    with HostileServer(routes(doc(latest), latest) | {
            f"/api/schemes/{SID}/versions": history(1, latest),
            f"/api/schemes/{SID}/versions/1": document(doc(1), 1)}) as srv:
        report = sync(srv.url, "t", store)
        hits = dict(srv.hits)
    assert sorted(report.downloaded) == [f"{SID}@1", f"{SID}@{latest}"], report.errors
    assert sum(hits.values()) == 4  # list, latest, history, @1 — not a million requests


def test_a_history_of_thousands_of_versions_is_refused(tmp_path):
    with HostileServer(routes(doc(5000), 5000)) as srv:
        report = sync(srv.url, "t", tmp_path / "store")
    assert any("超过一次同步的上限" in e for e in report.errors), report.errors


def test_a_300_character_id_is_an_error_and_the_others_go_on(tmp_path):
    store = tmp_path / "store"
    long_id = "a" * 300
    with HostileServer(routes(doc(1), 1) | {"/api/schemes": listing(
            {"id": long_id, "latest_version": 1}, item(1))}) as srv:
        r = run_measured([sys.executable, "-m", "xlbridge.cli", "sync", "--server", srv.url,
                          "--token", "t", "--store", str(store)], timeout=60)
    assert r.returncode == 1 and "不合规的方案 id" in r.stderr and "Traceback" not in r.output
    assert f"+ {SID}@1" in r.stdout


@pytest.mark.parametrize("value", ["nan", "-5", "1e9", "soon"])
def test_retry_after_values_are_sanitised(tmp_path, value):
    calls = {"n": 0}

    def busy_then_ok(handler) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            handler.send_response(429)
            handler.send_header("Retry-After", value)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        body = json.dumps({"schemes": []}).encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with HostileServer({"/api/schemes": busy_then_ok}) as srv:
        start = time.monotonic()
        report = sync(srv.url, "t", tmp_path / "store")
    assert report.ok and calls["n"] == 2 and time.monotonic() - start < 5


def test_a_hostile_etag_is_not_kept(tmp_path):
    store = tmp_path / "store"
    bad = routes(doc(1), 1)
    bad[f"/api/schemes/{SID}/latest"] = document(doc(1), 1, etag='"' + "x" * 5000 + '"')
    with HostileServer(bad) as srv:
        assert sync(srv.url, "t", store).ok
    assert load_state(store)["schemes"][SID]["etag"] is None


def test_json_nested_100000_deep_is_refused_not_a_traceback(tmp_path):
    from tests.hostile import json_nested

    nested = json_nested().encode()
    store = tmp_path / "store"
    with HostileServer(routes(doc(1), 1) | {
            f"/api/schemes/{SID}/latest": document(nested, 1)}) as srv:
        report = sync(srv.url, "t", store)
    assert any("嵌套超过 64 层" in e for e in report.errors), report.errors
    assert not version_path(store, SID, 1).exists()
    with HostileServer({"/api/schemes": (200, {}, b'{"schemes": ' + nested + b"}")}) as srv:
        report = sync(srv.url, "t", store)
    assert report.errors == [f"{srv.url} 的回答不像 xlbridge 方案服务器"]
