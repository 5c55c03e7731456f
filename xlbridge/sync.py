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
* Every document is validated (structure and the full semantic checks) before it is stored;
  one that fails is reported and kept in ``<store>/.quarantine`` with its reasons, where the
  store never reads it, so the newest stored version of a scheme is always a valid one. A
  server whose newest version is older than the store's is reported (a restored backup, the
  wrong server); the store keeps what it has.
* No answer can hang a sync or fill its memory: each request has a total deadline
  (:data:`REQUEST_DEADLINE`, however slowly the bytes come), answers are read up to a size
  limit, and headers are checked (a version number from 1 to 1,000,000, a scheme id of at
  most 100 characters, a plain ETag) before anything is done with them.
* A scheme whose latest version has not changed costs one request answered 304.
* Offline, nothing is touched: the worksheet functions and ``xlbridge recompute`` go on with
  the versions synced last, and a workbook pinned to ``id@version`` always gets that version.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import requests.adapters
import urllib3
import urllib3.connection

from xlbridge import __version__
from xlbridge.atomic import write_atomic
from xlbridge.i18n import t, tn
from xlbridge.scheme.issues import SchemeInvalid
from xlbridge.scheme.load import MAX_SCHEME_BYTES, load_scheme_file, parse_scheme
from xlbridge.scheme.types import MAX_SCHEME_ID, MAX_VERSION, is_scheme_id
from xlbridge.scheme.validate import validate
from xlbridge.store import user_store_dir

STATE_FILE = ".sync-state.json"
TOKEN_FILE = ".sync-token"
#: Documents that failed validation, with their reasons; a dot-folder the store never reads.
QUARANTINE = ".quarantine"
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
    warnings: list[str] = field(default_factory=list)
    offline: bool = False
    requests: int = 0
    not_modified: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.offline

    def summary(self) -> str:
        if self.offline:
            return t("离线：{reason}；方案库 {path} 保留上次同步的版本",
                     reason=self.errors[0] if self.errors else t("没有响应"), path=self.store)
        n = len(self.unchanged) + len(self.up_to_date)
        parts = [tn("下载 {n} 个版本", "下载 {n} 个版本", len(self.downloaded)),
                 tn("{n} 个方案未变", "{n} 个方案未变", n)]
        if self.deprecated:
            parts.append(t("已停用：{schemes}", schemes=t("、").join(self.deprecated)))
        if self.warnings:
            parts.append(tn("{n} 条警告", "{n} 条警告", len(self.warnings)))
        if self.errors:
            parts.append(tn("{n} 处错误", "{n} 处错误", len(self.errors)))
        return t("已同步 {server} → {path}：{parts}", server=self.server, path=self.store,
                 parts=t("；").join(parts))


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
        lines = [t("{doing}：{status} {detail}", doing=doing, status=self.status,
                   detail=detail).rstrip()]
        lines += ["  " + t("{path}：{message}", path=e.get("path") or t("（文档）"),
                           message=e.get("message")) for e in errors]
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
        raise SyncConflict(t(
            "{path} 与服务器上的 {scheme} 不同。已发布的版本不会再改变，"
            "所以要么这个文件在本机被改过，要么这台服务器不是它原来的来源。本机文件已保留；要使用服务器上的版本，请先把它移走。",
            path=path, scheme=scheme_id + "@" + str(version)))
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

#: Longest a whole request may take — connecting, the headers and the body together — before
#: the sync gives up on it (a socket timeout alone bounds only each wait for a byte: an
#: answer trickling one byte every 5 s would never end).
REQUEST_DEADLINE = 30.0
#: Largest answer read from a server: a scheme document is at most MAX_SCHEME_BYTES; the
#: list of schemes of a server with 1,000 schemes is about 300 KB.
MAX_DOCUMENT_BYTES = MAX_SCHEME_BYTES
MAX_LIST_BYTES = 16 << 20
#: Older versions fetched for one scheme in one sync (a real scheme has a handful).
MAX_VERSIONS_PER_SCHEME = 1000
_ETAG = re.compile(r'^(W/)?"?[\x21\x23-\x7e]{1,200}"?$')


class _Deadline:
    """Ends a request still running after ``seconds``: the sockets it uses are shut down,
    which wakes the read blocked on them. One per request, on the thread making it."""

    _current = threading.local()

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _Deadline._current.value = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _Deadline._current.value = None

    @classmethod
    def watch(cls, sock: socket.socket | None) -> None:
        deadline = getattr(cls._current, "value", None)
        if deadline is None or sock is None:
            return
        with deadline._lock:
            deadline._sockets.append(sock)
            if deadline.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watched:
    """urllib3 connections whose sockets the current :class:`_Deadline` can shut down."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _Deadline.watch(sock)
        return sock

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _Deadline.watch(self.sock)  # type: ignore[attr-defined]  # a kept-alive connection
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _DeadlineAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return manager


class RequestTimeout(requests.Timeout):
    """The whole request took longer than its deadline."""


class AnswerTooLarge(requests.RequestException):
    """The server's answer is larger than any xlbridge answer can be."""


class _Client:
    def __init__(self, server_url: str, token: str | None, timeout: float,
                 session: requests.Session | None = None, max_wait: float = 60.0,
                 deadline: float = REQUEST_DEADLINE):
        self.base = server_url.rstrip("/")
        self.http = session or requests.Session()
        adapter = _DeadlineAdapter()
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.headers["User-Agent"] = USER_AGENT
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        self.timeout = min(timeout, deadline)
        self.deadline = deadline
        self.max_wait = max_wait
        self.count = 0

    def request(self, method: str, path: str, *, limit: int = MAX_DOCUMENT_BYTES,
                **kwargs: Any) -> requests.Response:
        """One request, at most ``deadline`` seconds and ``limit`` bytes of answer; a 429 is
        retried after its Retry-After (up to ``max_wait`` s in all)."""
        waited = 0.0
        while True:
            self.count += 1
            r = self._once(method, path, limit, kwargs)
            if r.status_code != 429:
                return r
            wait = _retry_after(r.headers.get("Retry-After"))
            if waited + wait > self.max_wait:
                return r
            time.sleep(wait)
            waited += wait

    def _once(self, method: str, path: str, limit: int, kwargs: dict[str, Any]
              ) -> requests.Response:
        url = self.base + path
        with _Deadline(self.deadline) as deadline:
            try:
                r = self.http.request(method, url, timeout=self.timeout, stream=True, **kwargs)
                try:
                    declared = int(r.headers.get("Content-Length") or 0)
                except ValueError:
                    declared = 0
                if declared > limit:
                    raise AnswerTooLarge(_too_large(url, limit))
                body = bytearray()
                for chunk in r.iter_content(64 << 10):
                    body += chunk
                    if len(body) > limit:
                        raise AnswerTooLarge(_too_large(url, limit))
            except requests.RequestException:
                if deadline.expired:
                    raise RequestTimeout(t("{url} 在 {seconds} 秒内没有答完", url=url,
                                           seconds=format(self.deadline, "g"))) from None
                raise
            finally:
                with contextlib.suppress(Exception):
                    r.close()  # type: ignore[possibly-undefined]
        r._content = bytes(body)
        r._content_consumed = True
        return r


def _too_large(url: str, limit: int) -> str:
    return t("{url} 的回答超过 {limit} 字节，不是 xlbridge 方案服务器的回答", url=url,
             limit=format(limit, ","))


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds: a number from 0 to 3600 (anything else counts as 1)."""
    try:
        wait = float(value or "1")
    except ValueError:
        return 1.0
    return wait if 0 <= wait <= 3600 else 1.0  # NaN fails both comparisons


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _version_header(r: requests.Response, scheme_id: str) -> int:
    raw = (r.headers.get("X-Scheme-Version") or "").strip()
    if not raw.isdigit() or len(raw) > 9 or not 1 <= int(raw) <= MAX_VERSION:
        shown = raw[:20] + ("…" if len(raw) > 20 else "")
        raise SyncConflict(t("服务器发来的 {scheme} 版本号不合理（X-Scheme-Version: {value}）；"
                             "版本号应为 1 到 {high} 的整数", scheme=scheme_id, value=repr(shown),
                             high=format(MAX_VERSION, ",")))
    return int(raw)


def _etag(r: requests.Response) -> str | None:
    raw = (r.headers.get("ETag") or "").strip()
    return raw.strip('"') if _ETAG.match(raw) else None


class InvalidDocument(Exception):
    """The server sent a document that fails validation: quarantined, never stored."""


def _check_document(store: Path, body: bytes, scheme_id: str, version: int) -> None:
    """Raise unless ``body`` is a valid ``scheme_id@version``; an invalid one is put in
    quarantine (``<store>/.quarantine``) with its reasons, where the store never reads it."""
    origin = f"{scheme_id}@{version}"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SyncConflict(t("服务器发来的 {scheme} 不是 UTF-8 文本", scheme=origin)) from None
    try:
        loaded = parse_scheme(text, origin, "json")
    except SchemeInvalid as exc:
        report = exc.report
    else:
        scheme = loaded.scheme
        if scheme.id != scheme_id or scheme.version != version:
            raise SyncConflict(t("服务器在请求 {scheme} 时发来了 {got}", scheme=origin,
                                 got=scheme.ref))
        report = validate(scheme, loaded.source)
        if report.ok:
            return
    folder = store / QUARANTINE
    folder.mkdir(parents=True, exist_ok=True)
    reasons = "\n".join(str(i) for i in report.errors)
    write_atomic(folder / f"{origin}.json", body)
    write_atomic(folder / f"{origin}.reason.txt",
                 t("{time} 未通过校验，没有存入方案库：", time=_now()) + f"\n{reasons}\n")
    shown = t("；").join(str(i) for i in report.errors[:3])
    more = t("（共 {n} 处错误）", n=len(report.errors)) if len(report.errors) > 3 else ""
    raise InvalidDocument(t("服务器发来的 {scheme} 未通过校验，没有存入方案库（已隔离到 {path}）："
                            "{errors}", scheme=origin, path=folder / (origin + ".json"),
                            errors=shown) + more)


def sync(server_url: str | None = None, token: str | None = None,
         store_dir: str | Path | None = None, *, timeout: float = 15.0,
         deadline: float = REQUEST_DEADLINE,
         session: requests.Session | None = None) -> SyncReport:
    """Download every published version of every scheme on the server into the store.

    ``server_url`` defaults to ``XLBRIDGE_SERVER``, then to the server of the last sync;
    ``token`` (a reader token is enough) to ``XLBRIDGE_TOKEN``, then to the one kept by
    :func:`save_token` (``xlbridge sync --remember``); ``store_dir`` to
    :func:`~xlbridge.store.user_store_dir`. ``timeout`` bounds each wait for the network,
    ``deadline`` each request as a whole. Never raises for network trouble: the report says
    ``offline`` and the store is left as it was.

    Every document is validated before it is stored; one that fails is reported and kept in
    quarantine instead, so the store's newest version of a scheme is always a valid one.
    """
    store = Path(store_dir) if store_dir is not None else user_store_dir()
    state = load_state(store)
    server_url = server_url or os.environ.get("XLBRIDGE_SERVER") or state.get("server")
    if not server_url:
        raise ValueError(t("没有指定服务器：请用 --server 网址（或设置环境变量 XLBRIDGE_SERVER）"))
    token = token or os.environ.get("XLBRIDGE_TOKEN") or saved_token(store)
    client = _Client(server_url, token, timeout, session, deadline=deadline)
    report = SyncReport(client.base, store)
    if state.get("server") != client.base:
        # another server: its ETags mean nothing here (the files are still checked byte-wise)
        state = {"schemes": {}}
    try:
        r = client.request("GET", "/api/schemes", limit=MAX_LIST_BYTES)
    except requests.RequestException as exc:
        report.offline = True
        if isinstance(exc, RequestTimeout | AnswerTooLarge):  # it answered, but not usably
            report.errors.append(t("{server} 没有给出可用的回答：{reason}", server=client.base,
                                   reason=_reason(exc)))
        else:
            report.errors.append(cannot_reach(client.base, exc))
        return report
    finally:
        report.requests = client.count
    if r.status_code != 200:
        report.errors.append(str(ServerError(r, t("列出方案"))))
        if r.status_code in (401, 403):
            report.errors.append(
                t("请向服务器管理员要一个读取用的令牌，用 --token 传入"
                  "（或设置环境变量 XLBRIDGE_TOKEN）"))
        return report
    try:
        listing = r.json()["schemes"]
        if not isinstance(listing, list):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        report.errors.append(t("{server} 的回答不像 xlbridge 方案服务器", server=client.base))
        return report
    schemes_state: dict[str, Any] = state.setdefault("schemes", {})
    state["server"] = client.base
    for item in listing:
        scheme_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(scheme_id, str) or not is_scheme_id(scheme_id):
            shown = repr(scheme_id)[:60] + ("…" if len(repr(scheme_id)) > 60 else "")
            report.errors.append(t("服务器列出了一个不合规的方案 id {id}（应为最多 {n} 个小写字母、"
                                   "数字和连字符），已跳过", id=shown, n=MAX_SCHEME_ID))
            continue
        if not item.get("latest_version"):
            continue
        try:
            _sync_scheme(client, store, scheme_id, item, schemes_state, report)
        except requests.RequestException as exc:
            report.offline = True
            report.errors.append(t("同步 {scheme} 时连接中断：{reason}", scheme=scheme_id,
                                   reason=_reason(exc)))
            break
        except (SyncConflict, ServerError, InvalidDocument) as exc:
            report.errors.append(str(exc))
        except OSError as exc:
            report.errors.append(t("{scheme}：无法写入方案库 {path}（{reason}）", scheme=scheme_id,
                                   path=store, reason=exc.strerror or exc))
        if item.get("deprecated"):
            report.deprecated.append(scheme_id)
    report.requests = client.count
    state["synced_at"] = _now()
    try:
        save_state(store, state)
    except OSError as exc:
        report.errors.append(t("无法写入同步记录 {path}（{reason}）", path=store / STATE_FILE,
                               reason=exc.strerror or exc))
    return report


def _stored_versions(store: Path, scheme_id: str) -> list[int]:
    folder = store / scheme_id
    prefix = f"{scheme_id}@"
    out = []
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            v = name[len(prefix):-len(".json")] if name.startswith(prefix) and \
                name.endswith(".json") else ""
            if v.isdigit():
                out.append(int(v))
    return sorted(out)


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
        raise ServerError(r, t("下载 {scheme}", scheme=scheme_id))
    latest = _version_header(r, scheme_id)
    stored = _stored_versions(store, scheme_id)
    if stored and stored[-1] > latest:
        report.warnings.append(
            t("服务器上 {scheme} 的最新版本是 @{latest}，比本机已同步的 @{stored} 旧：服务器可能从"
              "旧的备份恢复过，或者不是原来那台服务器。本机保留 @{stored}，"
              "不写版本号的引用仍然使用它",
              scheme=scheme_id, latest=latest, stored=stored[-1]))
    invalid: list[str] = []
    wrote = False
    try:
        _check_document(store, r.content, scheme_id, latest)
    except InvalidDocument as exc:
        invalid.append(str(exc))  # the older versions may be fine: fetch those still
    else:
        wrote = store_version(store, scheme_id, latest, r.content)
        if wrote:
            report.downloaded.append(f"{scheme_id}@{latest}")
    older = [v for v in stored if v < latest]
    missing = [] if len(older) == latest - 1 else \
        _missing_versions(client, scheme_id, latest, set(stored))
    for v in missing:
        rv = client.request("GET", f"/api/schemes/{scheme_id}/versions/{v}")
        if rv.status_code == 404:
            continue  # the server's numbering has a hole: nothing to fetch
        if rv.status_code != 200:
            raise ServerError(rv, t("下载 {scheme}", scheme=scheme_id + "@" + str(v)))
        try:
            _check_document(store, rv.content, scheme_id, v)
        except InvalidDocument as exc:
            invalid.append(str(exc))
            continue
        if store_version(store, scheme_id, v, rv.content):
            report.downloaded.append(f"{scheme_id}@{v}")
    report.errors.extend(invalid)
    if invalid and not wrote and latest not in stored:
        return  # no ETag kept for an invalid latest: the next sync checks it again
    if not wrote and not missing:
        report.up_to_date.append(scheme_id)
    schemes_state[scheme_id] = {
        "etag": _etag(r), "latest_version": latest, "synced_at": _now(),
        "deprecated": bool(item.get("deprecated")),
    }


def _missing_versions(client: _Client, scheme_id: str, latest: int, stored: set[int]
                      ) -> list[int]:
    """The published versions below ``latest`` not in the store, from the server's history
    (so that a hole in the numbering, or a version number of 10,000,000, costs one request,
    not one per number)."""
    r = client.request("GET", f"/api/schemes/{scheme_id}/versions", limit=MAX_LIST_BYTES)
    if r.status_code != 200:
        raise ServerError(r, t("列出 {scheme} 的版本", scheme=scheme_id))
    try:
        versions = {v["version"] for v in r.json()["versions"]}
    except (ValueError, KeyError, TypeError, RecursionError):
        raise SyncConflict(t("服务器发来的 {scheme} 版本列表无法读取", scheme=scheme_id)) from None
    wanted = sorted(v for v in versions
                    if type(v) is int and 1 <= v < latest and v not in stored)
    if len(wanted) > MAX_VERSIONS_PER_SCHEME:
        raise SyncConflict(t("服务器列出 {scheme} 的 {n} 个旧版本，超过一次同步的上限 {limit}；"
                             "这不像一台正常的方案服务器", scheme=scheme_id,
                             n=format(len(wanted), ","), limit=MAX_VERSIONS_PER_SCHEME))
    return wanted


def cannot_reach(server: str, exc: requests.RequestException) -> str:
    return t("无法连接 {server}：{reason}", server=server, reason=_reason(exc))


def _reason(exc: requests.RequestException) -> str:
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return t("连接被拒绝（服务器在运行吗？地址对吗？）")
    if isinstance(exc, RequestTimeout | AnswerTooLarge):
        return text
    if isinstance(exc, requests.Timeout):
        return t("没有及时回答")
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
        return [PublishResult(str(p), message=cannot_reach(client.base, exc)) for p in paths]
    if me.status_code != 200 or me.json().get("role") != "admin":
        why = (str(ServerError(me, t("检查令牌"))) if me.status_code != 200
               else t("令牌“{name}”的角色是 {role}", name=me.json().get("name"),
                      role=me.json().get("role")))
        return [PublishResult(str(p), message=t("发布需要管理员令牌；{why}", why=why))
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
            res.message = cannot_reach(client.base, exc)
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
        res.message = t("{scheme} 的内容与此相同", scheme=scheme.id + "@" + str(res.version))
        return
    if r.status_code not in (200, 404):
        raise ServerError(r, t("读取 {scheme}", scheme=scheme.id))
    r = client.request("GET", f"{base}/draft")
    headers = {"If-None-Match": "*"}
    if r.status_code == 200:
        if not replace_draft:
            res.message = t("{scheme} 在服务器上有未发布的草稿；请在服务器上发布或放弃它，或者加上 "
                            "--replace-draft", scheme=scheme.id)
            return
        headers = {"If-Match": r.headers["ETag"]}
    elif r.status_code != 404:
        raise ServerError(r, t("读取 {scheme} 的草稿", scheme=scheme.id))
    r = client.request("PUT", f"{base}/draft", json=doc, headers=headers)
    if r.status_code not in (200, 201):
        raise ServerError(r, t("保存 {scheme} 的草稿", scheme=scheme.id))
    etag = r.headers["ETag"]
    r = client.request("POST", f"{base}/draft/publish", json={"note": note} if note else None,
                       headers={"If-Match": etag})
    if r.status_code != 201:
        raise ServerError(r, t("发布 {scheme}", scheme=scheme.id))
    body = r.json()
    res.status, res.version = "published", body["version"]
    res.warnings = [t("{path}：{message}", path=w.get("path") or t("（文档）"),
                      message=w.get("message")) for w in body.get("warnings", [])]
    res.message = t("已发布 {scheme}", scheme=scheme.id + "@" + str(res.version))
