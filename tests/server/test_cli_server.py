"""`xlbridge serve`, `xlbridge server init-db` and `xlbridge server token …`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from server.auth import hash_token
from xlbridge.cli import main


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("XLBRIDGE_DB", str(path))  # restored after the test
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_init_db_creates_then_upgrades_nothing(db_path):
    r = run("server", "init-db", "--db", str(db_path))
    assert r.exit_code == 0 and "已建立，版本 0001" in r.output
    r = run("server", "init-db")
    assert r.exit_code == 0 and "已是版本 0001" in r.output


def test_token_commands(db_path):
    assert run("server", "token", "create", "--role", "admin").exit_code == 2  # no tables yet
    run("server", "init-db")
    r = CliRunner().invoke(main, ["server", "token", "create", "--role", "reader", "--name",
                                  "白云乡"])
    assert r.exit_code == 0
    token = r.stdout.strip()
    assert token.startswith("xlb_") and "\n" not in token
    assert "不会再次显示" in r.stderr

    import sqlite3

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("select name, role, token_hash from api_tokens").fetchall()
    assert rows == [("白云乡", "reader", hash_token(token))]

    listed = run("server", "token", "list").output
    assert "reader" in listed and "有效" in listed and token not in listed
    assert run("server", "token", "revoke", "1").exit_code == 0
    assert "已吊销" in run("server", "token", "list").output
    r = run("server", "token", "revoke", "7")
    assert r.exit_code == 2 and "没有编号为 7 的令牌" in r.output
    r = run("server", "token", "create", "--role", "owner")
    assert r.exit_code == 2 and "owner" in r.output


def test_serve_refuses_an_uninitialised_database(db_path):
    r = run("serve", "--port", "1")
    assert r.exit_code == 2 and "尚未初始化" in r.output and "init-db" in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_waitress(db_path):
    run("server", "init-db")
    token = CliRunner().invoke(main, ["server", "token", "create", "--role", "reader"]
                               ).stdout.strip()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "xlbridge.cli", "serve", "--port", str(port),
                             "--db", str(db_path), "--threads", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
        assert health.headers["Server"] == "xlbridge"  # waitress, not Werkzeug's dev server
        r = requests.get(f"http://127.0.0.1:{port}/api/schemes",
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.json() == {"schemes": []}
        assert requests.get(f"http://127.0.0.1:{port}/api/schemes", timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)


def test_revalidations_keep_the_connection_open(live_server, client, auth):
    """waitress alone closes the connection after a 304 (server/serving.py says why)."""
    import http.client
    from urllib.parse import urlsplit

    from srvtest import publish, shipped_doc

    publish(client, auth, shipped_doc())
    url = "/api/schemes/bailian-township/latest"
    conn = http.client.HTTPConnection(urlsplit(live_server.url).netloc, timeout=5)
    conn.request("GET", url, headers=auth("reader"))
    r = conn.getresponse()
    etag = r.getheader("ETag")
    r.read()
    sock = conn.sock
    for _ in range(3):
        conn.request("GET", url, headers=auth("reader", **{"If-None-Match": etag}))
        r = conn.getresponse()
        r.read()
        assert r.status == 304 and r.getheader("Connection") is None
        assert conn.sock is sock  # the same connection, not a new one
    conn.request("GET", url, headers=auth("reader", **{"If-None-Match": etag,
                                                          "Connection": "close"}))
    r = conn.getresponse()
    assert r.status == 304 and r.getheader("Connection") == "close"
    conn.close()


@pytest.mark.parametrize("behind_proxy", [False, True])
def test_the_sign_in_throttle_counts_clients_behind_a_trusted_proxy(db_path, behind_proxy):
    """Behind a reverse proxy every request comes from the proxy: with --trusted-proxy the
    throttle counts the client named in X-Forwarded-For (one office's wrong token does not
    close the server to the others); without it the header is ignored, so a direct client
    cannot pick a fresh address for every guess."""
    run("server", "init-db")
    port = _free_port()
    extra = ["--trusted-proxy", "127.0.0.1"] if behind_proxy else []
    proc = subprocess.Popen([sys.executable, "-m", "xlbridge.cli", "serve", "--port", str(port),
                             "--db", str(db_path), "--threads", "2", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1",
                                 "XLBRIDGE_SERVER_AUTH_FREE_FAILURES": "2"})
    url = f"http://127.0.0.1:{port}/api/schemes"

    def guess(client: str) -> int:
        return requests.get(url, timeout=5, headers={"Authorization": "Bearer xlb_wrong",
                                                     "X-Forwarded-For": client}).status_code

    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        answers = [guess("10.0.0.1") for _ in range(4)]
        assert answers[:2] == [401, 401] and answers[-1] == 429   # the guesser is closed
        other = guess("10.0.0.2")
        assert other == (401 if behind_proxy else 429)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
