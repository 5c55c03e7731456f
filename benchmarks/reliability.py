"""The figures of docs/reliability.md: kill -9 trials, the hostile-input table, schemathesis
against a running server, the authorization matrix and the sign-in throttle.

    .venv/bin/python benchmarks/reliability.py kill --runs 100     # ≈ 15 min
    .venv/bin/python benchmarks/reliability.py hostile             # ≈ 2 min
    .venv/bin/python benchmarks/reliability.py schemathesis        # ≈ 5 min
    .venv/bin/python benchmarks/reliability.py authz
    .venv/bin/python benchmarks/reliability.py throttle

Run them under the shared lock: ``flock /work/.bench.lock .venv/bin/python …``. Each prints
Markdown rows. The hostile inputs are built by ``tests/hostile.py``, the same builders the
tests use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import hostile  # noqa: E402
from tests.hostile import Measured, run_measured  # noqa: E402

PY = sys.executable
XLB = [PY, "-m", "xlbridge.cli"]


def xlbridge(*args: str, **kw) -> Measured:
    return run_measured([*XLB, *args], **kw)


def summary(m: Measured, limit: int = 160) -> str:
    """The message line a clerk reads (an error, a skipped file, a warning), without tables
    and temporary-folder paths."""
    lines = [ln.strip() for ln in (m.stderr + "\n" + m.stdout).splitlines() if ln.strip()
             and not ln.startswith(("┏", "┃", "┡", "│", "└", "━"))]
    for words in ((" error: ", "error: "), ("未处理 ", "skipped "), ("warning: ",),
                  ("Error: ", "错误：")):
        keep = [ln for ln in lines if any(w in ln for w in words)]
        if keep:
            break
    text = (keep or lines or ["(no output)"])[0]
    text = re.sub(r"/tmp/[^ :：]*/", "…/", text)
    return (text[:limit] + "…") if len(text) > limit else text


# --------------------------------------------------------------------------- kill


def cmd_kill(args: argparse.Namespace) -> None:
    from tests.killing import kill_trials

    rows = []
    for backup in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            r = kill_trials(args.runs, backup=backup, work=Path(tmp), seed=args.seed + backup)
            took = time.perf_counter() - start
        rows.append((("recompute --backup" if backup else "recompute"), r, took))
        for note in r.notes:
            print("  note:", note)
    print("| kill -9 during | trials | killed mid-run | corrupted workbooks | broken backups | "
          "backups beside an unchanged workbook | temp files right after the kill | "
          "temp files after the next run | locks after the next run | surviving workers | "
          "minutes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for what, r, took in rows:
        print(f"| `{what}` | {r.trials} | {r.killed_while_running} | {r.corrupted} | "
              f"{r.broken_backups} | {r.backups_of_unchanged} | {r.temps_after_kill} | "
              f"{r.temps_after_next_run} | {r.locks_after_next_run} | {r.surviving_workers} | "
              f"{took / 60:.1f} |")


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(tmp: Path, env: dict[str, str] | None = None, publish: bool = True
                ) -> Iterator[tuple[str, dict[str, str]]]:
    """`xlbridge serve` on a fresh SQLite database; yields its URL and a token per role
    (the shipped schemes published, one open draft)."""
    db = tmp / "server.sqlite3"
    full_env = {**os.environ, **(env or {})}
    subprocess.run([*XLB, "server", "init-db", "--db", str(db)], check=True,
                   capture_output=True, env=full_env)
    tokens = {}
    for role in ("reader", "editor", "admin"):
        out = subprocess.run([*XLB, "server", "token", "create", "--role", role, "--name",
                              f"{role}-1", "--db", str(db)], check=True, capture_output=True,
                             text=True, env=full_env)
        tokens[role] = out.stdout.strip().splitlines()[-1]
    port = free_port()
    proc = subprocess.Popen([*XLB, "serve", "--port", str(port), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=full_env)
    url = f"http://127.0.0.1:{port}"
    try:
        import requests

        for _ in range(200):
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.05)
        if publish:
            subprocess.run([*XLB, "server", "publish", *map(str, sorted(hostile.SCHEMES.glob(
                "*.yaml"))), "--server", url, "--token", tokens["admin"]], check=True,
                capture_output=True, env=full_env)
            doc = json.loads(subprocess.run(
                [*XLB, "schemes", "show", "bailian-township", "--json"], check=True,
                capture_output=True, text=True).stdout)
            requests.put(f"{url}/api/schemes/bailian-township/draft", json=doc,
                         headers={"Authorization": f"Bearer {tokens['editor']}"}, timeout=10)
        yield url, tokens
    finally:
        proc.terminate()
        proc.wait(10)


# --------------------------------------------------------------------------- hostile inputs


def cmd_hostile(args: argparse.Namespace) -> None:
    rows: list[tuple[str, str, str, Measured | None, str]] = []

    def row(what: str, before: str, m: Measured | None, outcome: str | None = None,
            command: str = "") -> None:
        rows.append((what, command, before, m, outcome or (summary(m) if m else "")))
        shown = f"{m.seconds:.1f} s, {m.peak_mb:.0f} MB, exit {m.returncode}" if m else ""
        print(f"  {what}: {shown} — {rows[-1][4]}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        _schemes(tmp, row)
        _csv(tmp, row)
        _sync(tmp, row)
        _recompute(tmp, row)
        _server(tmp, row)
    print("| hostile input | command | before (issue 13) | outcome now | time | peak memory |")
    print("|---|---|---|---|---|---|")
    for what, command, before, m, outcome in rows:
        t = f"{m.seconds:.2f} s" if m else "—"
        mem = f"{m.peak_mb:.0f} MB" if m and m.peak_mb else "—"
        outcome = outcome.replace("|", "\\|")
        print(f"| {what} | `{command}` | {before} | {outcome} | {t} | {mem} |")


def _schemes(tmp: Path, row) -> None:
    folder = tmp / "schemes"
    folder.mkdir()
    bomb = folder / "bomb.yaml"
    bomb.write_text(hostile.yaml_alias_bomb(), "utf-8")
    row("YAML alias bomb (9 × 9 aliases, 1 KB)", "hung past 2.4 GB",
        xlbridge("schemes", "validate", str(bomb)), command="schemes validate bomb.yaml")
    records = str(hostile.MEILING_RECORDS)
    m = xlbridge("--schemes", str(folder), "score", "--scheme", "meiling-street-quarterly",
                 "--input", records)
    row("the bomb in a --schemes folder, scoring another scheme", "hung",
        m, "exit 0: 24 records scored" if m.returncode == 0 else None,
        command="--schemes DIR score --scheme meiling-street-quarterly")
    deep = tmp / "deep.json"
    deep.write_text(hostile.json_nested(), "utf-8")
    row("JSON nested 100,000 deep", "traceback", xlbridge("schemes", "validate", str(deep)),
        command="schemes validate deep.json")
    row("the same, scored", "traceback", xlbridge("score", "--scheme", str(deep), "--input",
                                                   records), command="score --scheme deep.json")
    for name, text, before in [
        ("max_score: 1e400 (JSON)", None, "validated, published, then score crashed"),
        ("tier bound .inf", hostile.scheme_tier_bound(".inf"), "validate crashed"),
        ("weights 120% and −20%", hostile.scheme_weights("120%", "-20%"),
         "validated; total 120 of 100"),
    ]:
        path = tmp / ("big.json" if text is None else f"{len(list(tmp.iterdir()))}.yaml")
        path.write_text(text or '{"id": "big", "version": 1, "title": "t", "unit": "u", '
                                '"max_score": 1e400, "parts": [{"id": "a", "title": "A", '
                                '"points": 100, "method": "direct"}]}', "utf-8")
        row(name, before, xlbridge("schemes", "validate", str(path)),
            command=f"schemes validate {path.name}")


def _csv(tmp: Path, row) -> None:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(hostile.MEILING_RECORDS.read_text("utf-8-sig"))))
    rows[1][0] = '=HYPERLINK("http://evil.example","点我")'
    rows[2][0] = "+cmd|' /C calc'!A0"
    src = tmp / "records.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    src.write_text(buf.getvalue(), "utf-8-sig")
    out = tmp / "results.csv"
    m = xlbridge("score", "--scheme", "meiling-street-quarterly", "--input", str(src),
                 "--output", str(out))
    names = [r[0] for r in csv.reader(io.StringIO(out.read_text("utf-8-sig")))][1:3]
    row("`=HYPERLINK(…)` and `+cmd|' /C calc'!A0` as names", "written verbatim, Excel runs them",
        m, f"written as {names[0][:12]}… and {names[1][:8]}… (a leading ')",
        command="score --output results.csv")


def _sync(tmp: Path, row) -> None:
    from tests.hostile import HostileServer, document, huge, huge_chunked, listing, trickle

    sid = "hostile-township"
    from xlbridge.scheme.load import load_scheme_file

    good = load_scheme_file(hostile.SCHEMES / "bailian-township.yaml").scheme.model_dump(
        mode="json", exclude_none=True)
    good["id"] = sid

    def doc(v: int, broken: bool = False) -> dict:
        d = json.loads(json.dumps(good))
        d["version"] = v
        if broken:
            d["tiers"][0]["at_least"] = 95
        return d

    def hist(*vs: int) -> tuple:
        return 200, {}, json.dumps({"versions": [{"version": v} for v in vs]}).encode()

    item = {"id": sid, "latest_version": 2}
    cases = [
        ("a document that fails validation (latest @2)", "stored; unversioned references broke",
         {"/api/schemes": listing(item), f"/api/schemes/{sid}/latest":
          document(doc(2, True), 2), f"/api/schemes/{sid}/versions": hist(1, 2),
          f"/api/schemes/{sid}/versions/1": document(doc(1), 1)}),
        ("a 300 MB answer (Content-Length)", "645 MB of memory",
         {"/api/schemes": huge(300)}),
        ("a 300 MB answer (chunked, no length)", "645 MB of memory",
         {"/api/schemes": huge_chunked(300)}),
        ("an answer at one byte every 5 s", "hung",
         {"/api/schemes": trickle(5.0)}),
        ("headers at one byte every 5 s", "hung",
         {"/api/schemes": trickle(5.0, headers_too=True)}),
        ("X-Scheme-Version: 10000000", "hung", {
            "/api/schemes": listing({"id": sid, "latest_version": 10_000_000}),
            f"/api/schemes/{sid}/latest": document(doc(2), 10_000_000)}),
        ("a 300-character scheme id", "traceback", {
            "/api/schemes": listing({"id": "a" * 300, "latest_version": 1})}),
    ]
    for what, before, routes in cases:
        store = tmp / f"store-{len(list(tmp.iterdir()))}"
        with HostileServer(routes) as srv:
            m = xlbridge("sync", "--server", srv.url, "--token", "t", "--store", str(store),
                         timeout=120)
        row(what, before, m, command="sync --server URL")
    store = tmp / "store-back"
    with HostileServer({"/api/schemes": listing(item), f"/api/schemes/{sid}/latest":
                        document(doc(2), 2), f"/api/schemes/{sid}/versions": hist(1, 2),
                        f"/api/schemes/{sid}/versions/1": document(doc(1), 1)}) as srv:
        xlbridge("sync", "--server", srv.url, "--token", "t", "--store", str(store))
    with HostileServer({"/api/schemes": listing({"id": sid, "latest_version": 1}),
                        f"/api/schemes/{sid}/latest": document(doc(1), 1)}) as srv:
        m = xlbridge("sync", "--server", srv.url, "--token", "t", "--store", str(store))
    row("the server's latest goes back from @2 to @1", "no warning", m,
        command="sync --server URL")


def _recompute(tmp: Path, row) -> None:
    folder = tmp / "books"
    folder.mkdir()
    liar = hostile.zip_liar(folder / "liar.xlsx")
    row(f"zip member lying about its size ({liar.stat().st_size / 1e6:.1f} MB → 1.5 GB)",
        "2.15 GB of memory before refusal", xlbridge("recompute", str(liar)),
        command="recompute liar.xlsx")
    many = hostile.many_sheets(folder / "many.xlsx")
    row(f"250 sheets of 4 MB ({many.stat().st_size / 1e6:.1f} MB file)",
        "1.06 GB, recomputed as ok", xlbridge("recompute", str(many)),
        command="recompute many.xlsx")
    ro = hostile.small_workbook(folder / "readonly.xlsx")
    os.chmod(ro, 0o444)
    before = ro.read_bytes()
    m = xlbridge("recompute", "--backup", str(ro))
    row("a read-only workbook (mode 444), --backup", "overwritten, exit 0", m,
        summary(m) + ("; file unchanged, no backup" if ro.read_bytes() == before
                      and not list(folder.glob("readonly.backup-*")) else "; CHANGED"),
        command="recompute --backup readonly.xlsx")
    real = hostile.small_workbook(folder / "target.xlsx")
    link = folder / "link.xlsx"
    link.symlink_to(real)
    m = xlbridge("recompute", str(link))
    row("a workbook reached through a symlink", "replaced by a plain file", m,
        f"exit {m.returncode}; still a link: {link.is_symlink()}, target recomputed: "
        f"{real.read_bytes() != before}", command="recompute link.xlsx")
    a = hostile.small_workbook(folder / "hard-a.xlsx")
    b = folder / "hard-b.xlsx"
    os.link(a, b)
    m = xlbridge("recompute", str(a))
    row("a workbook with a second hard link", "link broken", m,
        f"exit {m.returncode}; same inode: {a.stat().st_ino == b.stat().st_ino}, "
        f"links: {a.stat().st_nlink}", command="recompute hard-a.xlsx")
    slow = tmp / "slow"
    slow.mkdir()
    hostile.slow_workbook(slow / "a-slow.xlsx", rows=200_000)
    hostile.small_workbook(slow / "b-quick.xlsx")
    m = xlbridge("recompute", str(slow), "--timeout", "2")
    row("a workbook slower than --timeout 2, beside a quick one", "(no budget)", m,
        summary(m) + f"; exit {m.returncode}, the quick one recomputed",
        command="recompute DIR --timeout 2")


def _server(tmp: Path, row) -> None:
    import requests

    with live_server(tmp / "srv") as (url, tokens):
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        me = requests.get(f"{url}/api/me", headers=admin, timeout=10).json()
        r = requests.delete(f"{url}/api/tokens/{me['token_id']}", headers=admin, timeout=10)
        row("revoking the last admin token", "revoked: everyone locked out", None,
            f"{r.status_code}: {r.json()['detail'][:60]}…", command="DELETE /api/tokens/{id}")
        r = requests.post(f"{url}/api/tokens", json={"role": "reader", "name": {}},
                          headers=admin, timeout=10)
        row("POST /api/tokens with `name: {}`", "accepted", None,
            f"{r.status_code}: {r.json()['errors'][0]['message']}", command="POST /api/tokens")
        rate, codes = _guess_rate(url, seconds=10)
        row("token guessing on the API, 10 s", "910 guesses/s", None,
            f"{rate:.1f} guesses/s evaluated; answers {dict(codes)}", command="GET /api/me")
        rate, codes = _guess_rate(url, seconds=10, login=True)
        row("token guessing on /login, 10 s (another address)", "490 guesses/s", None,
            f"{rate:.1f} guesses/s evaluated; answers {dict(codes)}", command="POST /login")


def _guess_rate(url: str, seconds: float, login: bool = False) -> tuple[float, Counter]:
    """Wrong tokens as fast as one client can send them; a 401 (or the login page's 200)
    is a guess the server evaluated, a 429 one it refused unread."""
    import requests

    codes: Counter = Counter()
    http = requests.Session()
    source = ("127.0.0.2", 0) if login else ("127.0.0.1", 0)
    http.mount("http://", _SourceAdapter(source))
    csrf = ""
    if login:  # the sign-in form carries a CSRF token, tied to the session cookie
        # (a first page request makes the server's session key: see docs/reliability.md)
        http.get(f"{url}/", timeout=10, allow_redirects=False)
        page = http.get(f"{url}/login", timeout=10).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        if login:
            r = http.post(f"{url}/login", data={"token": f"xlb_guess{n}", "csrf_token": csrf},
                          timeout=10)
        else:
            r = http.get(f"{url}/api/me", headers={"Authorization": f"Bearer xlb_guess{n}"},
                         timeout=10)
        codes[r.status_code] += 1
    evaluated = codes[401] + (codes[200] if login else 0)
    return evaluated / seconds, codes


class _SourceAdapter:  # a requests adapter whose connections come from one source address
    def __new__(cls, source: tuple[str, int]):
        from requests.adapters import HTTPAdapter

        class Adapter(HTTPAdapter):
            def init_poolmanager(self, *a, **kw):
                kw["source_address"] = source
                super().init_poolmanager(*a, **kw)

        return Adapter()


# --------------------------------------------------------------------------- schemathesis


def cmd_schemathesis(args: argparse.Namespace) -> None:
    """schemathesis with every check against `xlbridge serve`, as an admin. Revoking tokens
    runs in a second pass of its own: once schemathesis has created a second admin token,
    revoking the first (its own) is allowed, and every later request would be a 401."""
    passes = [["--exclude-operation-id", "revokeToken"], ["--include-operation-id",
                                                          "revokeToken"]]
    requests_sent, statuses, failures = 0, Counter(), Counter()
    exits = []
    took = 0.0
    logs = []
    for extra in passes:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            # schemathesis sends requests without and with invalid tokens on purpose: the
            # throttle would close the address and answer the rest 429
            env = {"XLBRIDGE_SERVER_AUTH_FREE_FAILURES": "1000000",
                   "XLBRIDGE_SERVER_WRITE_RATE_PER_MINUTE": "1000000",
                   "XLBRIDGE_SERVER_WRITE_BURST": "1000000"}
            with live_server(tmp, env) as (url, tokens):
                report = tmp / "st.ndjson"
                start = time.perf_counter()
                proc = subprocess.run(
                    [str(Path(PY).with_name("schemathesis")), "run", f"{url}/openapi.json",
                     "-H", f"Authorization: Bearer {tokens['admin']}", "--checks", "all",
                     "--max-examples", str(args.max_examples), "--seed", "13", "--workers",
                     "1", "--report", "ndjson", "--report-ndjson-path", str(report),
                     "--no-color", "--suppress-health-check", "all", *extra],
                    capture_output=True, text=True, cwd=tmp)  # its cache stays in tmp
                took += time.perf_counter() - start
                n, st = _read_ndjson(report.read_text("utf-8") if report.exists() else "")
        requests_sent += n
        statuses.update(st)
        for name, count in re.findall(r"❌ (ST\d+ [^:\n]+): (\d+)", proc.stdout):
            failures[name] += int(count)
        exits.append(proc.returncode)
        logs.append(proc.stdout + proc.stderr)
    if args.log:
        Path(args.log).write_text("\n\n".join(logs), "utf-8")
    for log in logs:
        print("\n".join(log.strip().splitlines()[-22:]))
        print()
    print("| requests | 5xx answers | answers by status | failed checks | exit | minutes |")
    print("|---|---|---|---|---|---|")
    fives = sum(n for s, n in statuses.items() if s >= 500)
    shown = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
    fail = ", ".join(f"{k}: {n}" for k, n in failures.most_common()) or "none"
    print(f"| {requests_sent} | {fives} | {shown} | {fail} | {exits} | {took / 60:.1f} |")


def _read_ndjson(text: str) -> tuple[int, Counter]:
    """Requests sent and answers by status, from schemathesis' NDJSON event log."""
    statuses: Counter = Counter()
    total = 0

    def walk(node: object) -> None:
        nonlocal total
        if isinstance(node, dict):
            response = node.get("response")
            if isinstance(response, dict) and isinstance(response.get("status_code"), int):
                total += 1
                statuses[response["status_code"]] += 1
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            walk(json.loads(line))
    return total, statuses


# --------------------------------------------------------------------------- authorization


def cmd_authz(args: argparse.Namespace) -> None:
    import requests

    sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "server")]
    from tests.server.test_auth import MATRIX

    with tempfile.TemporaryDirectory() as tmp_name, live_server(
            Path(tmp_name), {"XLBRIDGE_SERVER_AUTH_FREE_FAILURES": "1000000"}) as (url, tokens):
        who = {"no token": {}, "unknown token": {"Authorization": "Bearer xlb_not-a-token"},
               **{role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}}
        print("| request | least role | " + " | ".join(who) + " |")
        print("|---|---|" + "---|" * len(who))
        wrong = 0
        for method, path, body, least in MATRIX:
            cells = []
            for name, headers in who.items():
                r = requests.request(method, url + path, json=body, headers=headers, timeout=10)
                cells.append(str(r.status_code))
                rank = {"reader": 0, "editor": 1, "admin": 2}
                allowed = name in rank and rank[name] >= rank[least]
                denied = r.status_code in (401, 403)
                if allowed == denied:
                    wrong += 1
                    cells[-1] += " ✗"
            print(f"| `{method} {path}` | {least} | " + " | ".join(cells) + " |")
        pages = ["/", "/schemes/bailian-township", "/schemes/bailian-township/versions/1",
                 "/schemes/bailian-township/diff"]
        for path in pages:  # the pages need a token of any role; without one, the sign-in
            cells = []
            for name, headers in who.items():
                r = requests.get(url + path, headers=headers, timeout=10,
                                 allow_redirects=False)
                cells.append(str(r.status_code))
                if (r.status_code == 200) != (name in ("reader", "editor", "admin")):
                    wrong += 1
                    cells[-1] += " ✗"
            print(f"| `GET {path}` (page) | reader | " + " | ".join(cells) + " |")
        print(f"\n{len(MATRIX) + len(pages)} requests × {len(who)} callers; answers against "
              f"the role rules: {wrong} wrong")


def cmd_throttle(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_name, live_server(Path(tmp_name),
                                                               publish=False) as (url, _t):
        for login in (False, True):
            rate, codes = _guess_rate(url, args.seconds, login)
            print(f"| {'POST /login' if login else 'GET /api/me'} | {args.seconds:g} s | "
                  f"{sum(codes.values())} | {dict(codes)} | {rate:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("kill")
    k.add_argument("--runs", type=int, default=100)
    k.add_argument("--seed", type=int, default=13)
    sub.add_parser("hostile")
    s = sub.add_parser("schemathesis")
    s.add_argument("--max-examples", type=int, default=100)
    s.add_argument("--log")
    sub.add_parser("authz")
    t = sub.add_parser("throttle")
    t.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    {"kill": cmd_kill, "hostile": cmd_hostile, "schemathesis": cmd_schemathesis,
     "authz": cmd_authz, "throttle": cmd_throttle}[args.cmd](args)


if __name__ == "__main__":
    main()
