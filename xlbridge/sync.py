"""The scheme server's client: ``sync`` downloads every published scheme into the local store;
``publish`` sends scheme files to the server as new versions.

The store (:func:`xlbridge.store.user_store_dir`, or ``XLBRIDGE_STORE``) holds one file per
published version, ``<store>/<id>/<id>@<version>.json`` — exactly the bytes the server
published — and the sync's own bookkeeping in ``<store>/.sync-state.json`` (ETags, server,
``synced_at`` per scheme; a dot-file, so the scheme store never reads it as a scheme), and,
if asked to keep it, the token in ``<store>/.sync-token``.

* Every write is atomic (:func:`xlbridge.atomic.write_atomic`): Excel reading the store
  while a sync runs sees the old file or the new one, never half of one.
* Published versions are immutable: an existing ``id@version`` file is never overwritten or
  deleted. If the server's bytes differ from it, the sync reports an error and keeps the file.
* A scheme whose latest version has not changed costs one request answered 304.
* Offline, nothing is touched: the worksheet functions and ``xlbridge recompute`` go on with
  the versions synced last, and a workbook pinned to ``id@version`` always gets that version.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from xlbridge import __version__
from xlbridge.atomic import write_atomic
from xlbridge.scheme.issues import SchemeInvalid
from xlbridge.scheme.load import load_scheme_file, scheme_from_data
from xlbridge.scheme.types import SCHEME_ID_PATTERN
from xlbridge.scheme.validate import validate
from xlbridge.store import user_store_dir

STATE_FILE = ".sync-state.json"
TOKEN_FILE = ".sync-token"
USER_AGENT = f"xlbridge/{__version__}"


@dataclass
class SyncReport:
    """What a sync did. ``ok`` when the server answered and nothing went wrong."""

    server: str
    store: Path
    downloaded: list[str] = field(default_factory=list)  # id@version files written
    unchanged: list[str] = field(default_factory=list)  # scheme ids answered 304
    up_to_date: list[str] = field(default_factory=list)  # scheme ids whose files were current
    deprecated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    offline: bool = False
    requests: int = 0
    not_modified: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.offline

    def summary(self) -> str:
        if self.offline:
            return (f"offline: {self.errors[0] if self.errors else 'no answer'}; the store at "
                    f"{self.store} keeps the versions synced last")
        n = len(self.unchanged) + len(self.up_to_date)
        parts = [f"{len(self.downloaded)} version(s) downloaded", f"{n} scheme(s) unchanged"]
        if self.deprecated:
            parts.append(f"deprecated: {', '.join(self.deprecated)}")
        if self.errors:
            parts.append(f"{len(self.errors)} error(s)")
        return f"synced {self.server} → {self.store}: " + "; ".join(parts)


class SyncConflict(Exception):
    """The server's bytes for a published version differ from the local file."""


class ServerError(Exception):
    """The server answered with an error (its problem+json detail in the message)."""

    def __init__(self, response: requests.Response, doing: str):
        self.status = response.status_code
        try:
            body = response.json()
            detail = body.get("detail") or body.get("title") or ""
            errors = body.get("errors") or []
        except ValueError:
            detail, errors = response.text[:200], []
        lines = [f"{doing}: {self.status} {detail}".rstrip()]
        lines += [f"  {e.get('path') or '(document)'}: {e.get('message')}" for e in errors]
        self.errors = errors
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- files


def version_path(store: Path, scheme_id: str, version: int) -> Path:
    return store / scheme_id / f"{scheme_id}@{version}.json"


def store_version(store: Path, scheme_id: str, version: int, body: bytes) -> bool:
    """Write ``id@version`` unless it is there already; True if written.

    Raises :class:`SyncConflict` when a different file is already there (never overwritten).
    """
    path = version_path(store, scheme_id, version)
    if path.exists():
        if path.read_bytes() == body:
            return False
        raise SyncConflict(
            f"{path} differs from the server's {scheme_id}@{version}. Published versions "
            "never change, so either the file was edited here or the server is not the one "
            "it came from. The local file is kept; move it away to take the server's.")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, body)
    return True


def load_state(store: Path) -> dict[str, Any]:
    try:
        state = json.loads((store / STATE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {"schemes": {}}
    if not isinstance(state, dict) or not isinstance(state.get("schemes"), dict):
        return {"schemes": {}}
    return state


def save_state(store: Path, state: dict[str, Any]) -> None:
    data = json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    store.mkdir(parents=True, exist_ok=True)
    write_atomic(store / STATE_FILE, data)


def save_token(token: str, store_dir: str | Path | None = None) -> Path:
    """Keep a (reader) token in the store folder, readable by this user only, so that a sync
    without arguments — the ribbon's Sync button — needs nothing typed."""
    store = Path(store_dir) if store_dir is not None else user_store_dir()
    path = store / TOKEN_FILE
    store.mkdir(parents=True, exist_ok=True)
    write_atomic(path, token.strip() + "\n", mode=0o600)
    return path


def saved_token(store: Path) -> str | None:
    try:
        return (store / TOKEN_FILE).read_text("utf-8").strip() or None
    except OSError:
        return None


def synced_at(scheme_id: str, store_dir: str | Path | None = None) -> datetime | None:
    """When ``scheme_id`` was last confirmed current by a sync (None: never synced)."""
    store = Path(store_dir) if store_dir is not None else user_store_dir()
    entry = load_state(store)["schemes"].get(scheme_id)
    if not isinstance(entry, dict) or not entry.get("synced_at"):
        return None
    try:
        return datetime.fromisoformat(entry["synced_at"])
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- HTTP


class _Client:
    def __init__(self, server_url: str, token: str | None, timeout: float,
                 session: requests.Session | None = None, max_wait: float = 60.0):
        self.base = server_url.rstrip("/")
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.max_wait = max_wait
        self.count = 0

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request; a 429 is retried after its Retry-After (up to ``max_wait`` s)."""
        waited = 0.0
        while True:
            self.count += 1
            r = self.http.request(method, self.base + path, timeout=self.timeout, **kwargs)
            if r.status_code != 429:
                return r
            try:
                wait = float(r.headers.get("Retry-After", "1"))
            except ValueError:
                wait = 1.0
            if waited + wait > self.max_wait:
                return r
            time.sleep(wait)
            waited += wait


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_document(body: bytes, scheme_id: str, version: int) -> None:
    try:
        scheme = scheme_from_data(json.loads(body))
    except (ValueError, SchemeInvalid) as exc:
        raise SyncConflict(f"the server sent an unreadable {scheme_id}@{version}: "
                           f"{str(exc).splitlines()[0]}") from None
    if scheme.id != scheme_id or scheme.version != version:
        raise SyncConflict(f"the server sent {scheme.ref} when asked for "
                           f"{scheme_id}@{version}")


def sync(server_url: str | None = None, token: str | None = None,
         store_dir: str | Path | None = None, *, timeout: float = 15.0,
         session: requests.Session | None = None) -> SyncReport:
    """Download every published version of every scheme on the server into the store.

    ``server_url`` defaults to ``XLBRIDGE_SERVER``, then to the server of the last sync;
    ``token`` (a reader token is enough) to ``XLBRIDGE_TOKEN``, then to the one kept by
    :func:`save_token` (``xlbridge sync --remember``); ``store_dir`` to
    :func:`~xlbridge.store.user_store_dir`. Never raises for network trouble: the report says
    ``offline`` and the store is left as it was.
    """
    store = Path(store_dir) if store_dir is not None else user_store_dir()
    state = load_state(store)
    server_url = server_url or os.environ.get("XLBRIDGE_SERVER") or state.get("server")
    if not server_url:
        raise ValueError("no server given: pass --server URL (or set XLBRIDGE_SERVER)")
    token = token or os.environ.get("XLBRIDGE_TOKEN") or saved_token(store)
    client = _Client(server_url, token, timeout, session)
    report = SyncReport(client.base, store)
    if state.get("server") != client.base:
        # another server: its ETags mean nothing here (the files are still checked byte-wise)
        state = {"schemes": {}}
    try:
        r = client.request("GET", "/api/schemes")
    except requests.RequestException as exc:
        report.offline = True
        report.errors.append(f"cannot reach {client.base}: {_reason(exc)}")
        return report
    finally:
        report.requests = client.count
    if r.status_code != 200:
        report.errors.append(str(ServerError(r, "listing the schemes")))
        if r.status_code in (401, 403):
            report.errors.append("ask the server's admin for a reader token and pass --token "
                                 "(or set XLBRIDGE_TOKEN)")
        return report
    try:
        listing = r.json()["schemes"]
    except (ValueError, KeyError, TypeError):
        report.errors.append(f"{client.base} did not answer like an xlbridge scheme server")
        return report
    schemes_state: dict[str, Any] = state.setdefault("schemes", {})
    state["server"] = client.base
    for item in listing:
        scheme_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(scheme_id, str) or not SCHEME_ID_PATTERN.match(scheme_id):
            report.errors.append(f"the server listed an invalid scheme id {scheme_id!r}")
            continue
        if not item.get("latest_version"):
            continue
        try:
            _sync_scheme(client, store, scheme_id, item, schemes_state, report)
        except requests.RequestException as exc:
            report.offline = True
            report.errors.append(f"connection lost while syncing {scheme_id}: "
                                 f"{_reason(exc)}")
            break
        except (SyncConflict, ServerError) as exc:
            report.errors.append(str(exc))
        if item.get("deprecated"):
            report.deprecated.append(scheme_id)
    report.requests = client.count
    state["synced_at"] = _now()
    save_state(store, state)
    return report


def _sync_scheme(client: _Client, store: Path, scheme_id: str, item: dict[str, Any],
                 schemes_state: dict[str, Any], report: SyncReport) -> None:
    entry = schemes_state.get(scheme_id) or {}
    headers = {}
    known = entry.get("latest_version")
    if entry.get("etag") and isinstance(known, int) and \
            version_path(store, scheme_id, known).exists():
        headers["If-None-Match"] = f'"{entry["etag"]}"'
    r = client.request("GET", f"/api/schemes/{scheme_id}/latest", headers=headers)
    if r.status_code == 304:
        report.not_modified += 1
        report.unchanged.append(scheme_id)
        entry.update(synced_at=_now(), deprecated=bool(item.get("deprecated")))
        schemes_state[scheme_id] = entry
        return
    if r.status_code != 200:
        raise ServerError(r, f"downloading {scheme_id}")
    try:
        latest = int(r.headers["X-Scheme-Version"])
    except (KeyError, ValueError):
        raise SyncConflict(f"the server sent {scheme_id} without its version") from None
    _check_document(r.content, scheme_id, latest)
    wrote = store_version(store, scheme_id, latest, r.content)
    if wrote:
        report.downloaded.append(f"{scheme_id}@{latest}")
    missing = [v for v in range(1, latest) if not version_path(store, scheme_id, v).exists()]
    for v in missing:
        rv = client.request("GET", f"/api/schemes/{scheme_id}/versions/{v}")
        if rv.status_code == 404:
            continue  # the server's numbering has a hole: nothing to fetch
        if rv.status_code != 200:
            raise ServerError(rv, f"downloading {scheme_id}@{v}")
        _check_document(rv.content, scheme_id, v)
        if store_version(store, scheme_id, v, rv.content):
            report.downloaded.append(f"{scheme_id}@{v}")
    if not wrote and not missing:
        report.up_to_date.append(scheme_id)
    schemes_state[scheme_id] = {
        "etag": (r.headers.get("ETag") or "").strip('"') or None,
        "latest_version": latest, "synced_at": _now(),
        "deprecated": bool(item.get("deprecated")),
    }


def _reason(exc: requests.RequestException) -> str:
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused (is the server running? is the address right?)"
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    return text.splitlines()[0][:300] if text else type(exc).__name__


# --------------------------------------------------------------------------- publishing


@dataclass
class PublishResult:
    path: str
    scheme_id: str | None = None
    version: int | None = None
    status: str = "error"  # published, unchanged, error
    message: str = ""
    warnings: list[str] = field(default_factory=list)


def _without_version(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: v for k, v in doc.items() if k != "version"}
    return doc


def publish(server_url: str, token: str | None, paths: Iterable[str | Path],
            note: str | None = None, replace_draft: bool = False, *,
            timeout: float = 30.0) -> list[PublishResult]:
    """Publish scheme files as new versions (an admin token): each file becomes the draft of
    its scheme, then its next version. A file identical to the latest version is skipped."""
    paths = list(paths)
    client = _Client(server_url, token or os.environ.get("XLBRIDGE_TOKEN"), timeout)
    results: list[PublishResult] = []
    try:
        me = client.request("GET", "/api/me")
    except requests.RequestException as exc:
        return [PublishResult(str(p), message=f"cannot reach {client.base}: {_reason(exc)}")
                for p in paths]
    if me.status_code != 200 or me.json().get("role") != "admin":
        why = (str(ServerError(me, "checking the token")) if me.status_code != 200
               else f"the token '{me.json().get('name')}' is a {me.json().get('role')}")
        return [PublishResult(str(p), message=f"publishing needs an admin token; {why}")
                for p in paths]
    for p in paths:
        res = PublishResult(str(p))
        results.append(res)
        try:
            _publish_one(client, Path(p), note, replace_draft, res)
        except SchemeInvalid as exc:
            res.message = str(exc)
        except ServerError as exc:
            res.message = str(exc)
        except requests.RequestException as exc:
            res.message = f"cannot reach {client.base}: {_reason(exc)}"
            break
    return results


def _publish_one(client: _Client, path: Path, note: str | None, replace_draft: bool,
                 res: PublishResult) -> None:
    loaded = load_scheme_file(path)
    scheme = loaded.scheme
    res.scheme_id = scheme.id
    report = validate(scheme, loaded.source)
    if not report.ok:
        raise SchemeInvalid(report, str(path))
    doc = scheme.model_dump(mode="json", exclude_none=True)
    base = f"/api/schemes/{scheme.id}"
    r = client.request("GET", f"{base}/latest")
    if r.status_code == 200 and _without_version(r.json()) == _without_version(doc):
        res.status, res.version = "unchanged", int(r.headers["X-Scheme-Version"])
        res.message = f"{scheme.id}@{res.version} already says the same"
        return
    if r.status_code not in (200, 404):
        raise ServerError(r, f"reading {scheme.id}")
    r = client.request("GET", f"{base}/draft")
    headers = {"If-None-Match": "*"}
    if r.status_code == 200:
        if not replace_draft:
            res.message = (f"{scheme.id} has an open draft on the server; publish or discard "
                           "it there, or pass --replace-draft")
            return
        headers = {"If-Match": r.headers["ETag"]}
    elif r.status_code != 404:
        raise ServerError(r, f"reading the draft of {scheme.id}")
    r = client.request("PUT", f"{base}/draft", json=doc, headers=headers)
    if r.status_code not in (200, 201):
        raise ServerError(r, f"saving the draft of {scheme.id}")
    etag = r.headers["ETag"]
    r = client.request("POST", f"{base}/draft/publish", json={"note": note} if note else None,
                       headers={"If-Match": etag})
    if r.status_code != 201:
        raise ServerError(r, f"publishing {scheme.id}")
    body = r.json()
    res.status, res.version = "published", body["version"]
    res.warnings = [f"{w.get('path') or '(document)'}: {w.get('message')}"
                    for w in body.get("warnings", [])]
    res.message = f"published {scheme.id}@{res.version}"
