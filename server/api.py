"""The JSON API under ``/api`` — a thin face over :mod:`server.schemes`, described by the
OpenAPI document at ``/openapi.json`` (:mod:`server.openapi`).

Reads carry an ``ETag`` and answer ``If-None-Match`` with 304; published versions are served
from memory (:mod:`server.cache`). Writes are rate-limited per token and recorded in the
audit log; errors are ``application/problem+json``.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import select

from server import audit, schemes
from server.auth import (
    Actor,
    create_token,
    current_actor,
    no_token,
    requires,
    revoke_token,
    token_dict,
)
from server.cache import MAX_INT, Published, PublishedCache
from server.db import get_db
from server.models import TokenRow
from server.problems import NotFound, Problem, TooManyRequests
from xlbridge.i18n import quoted, t

bp = Blueprint("api", __name__, url_prefix="/api")

READS = frozenset(("GET", "HEAD", "OPTIONS"))
IMMUTABLE = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"


def _cache() -> PublishedCache:
    return current_app.extensions["xlbridge_cache"]


def _actor() -> Actor:
    return g.actor


@bp.before_request
def _limit_writes() -> None:
    if request.method in READS:
        return
    actor = current_actor()
    key = f"token:{actor.token_id}:{actor.name}" if actor else f"addr:{request.remote_addr}"
    wait = current_app.extensions["xlbridge_ratelimit"].take(key)
    if wait:
        seconds = 3600 if math.isinf(wait) else max(1, math.ceil(wait))
        raise TooManyRequests(t("写入过于频繁，请 {seconds} 秒后再试", seconds=seconds),
                              headers={"Retry-After": str(seconds)})


# --------------------------------------------------------------------------- helpers


def _reject_constant(name: str) -> Any:
    raise ValueError(t("{name} 不是 JSON 允许的数", name=name))


def read_json(optional: bool = False) -> Any:
    """The request body as JSON (problem+json 400/413/415 when it is not)."""
    data = request.get_data(cache=True)
    if not data.strip():
        if optional:
            return None
        raise Problem(t("这个请求需要一个 JSON 请求体"), status=400)
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise Problem(t("请以 Content-Type: application/json 发送请求体"), status=415)
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise Problem(t("请求体不是有效的 JSON：{error}", error=exc), status=400) from None


def _optional_note(body: Any) -> str | None:
    if body is None:
        return None
    if not isinstance(body, dict):
        raise Problem(t("请求体（如有）应为 JSON 对象，如 {example}",
                        example='{"note": "…"}'),
                      status=422, errors=[{"path": "", "message": t("应为 JSON 对象"),
                                           "severity": "error"}])
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise Problem(t("`note` 应为文字"), status=422,
                      errors=[{"path": "note", "message": t("应为字符串"),
                               "severity": "error"}])
    return note


def not_modified(headers: dict[str, str]) -> Response:
    return Response(status=304, headers=headers)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None,
                  etag: bool = True) -> Response:
    """JSON with an ETag of its bytes (200 only); a matching If-None-Match gives 304."""
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    headers = dict(headers or {})
    if etag and status == 200 and request.method in READS:
        tag = schemes.etag_of(body)
        headers["ETag"] = f'"{tag}"'
        headers.setdefault("Cache-Control", REVALIDATE)
        if request.if_none_match.contains_weak(tag):
            return not_modified(headers)
    return Response(body, status=status, headers=headers, mimetype="application/json")


def published_response(pub: Published, latest: bool = False,
                       deprecated_at: Any = None) -> Response:
    headers = {"ETag": pub.quoted_etag, "X-Scheme-Version": str(pub.version),
               "Cache-Control": REVALIDATE if latest else IMMUTABLE}
    if latest:
        headers["Content-Location"] = f"/api/schemes/{pub.scheme_id}/versions/{pub.version}"
    if deprecated_at is not None:
        headers["Deprecation"] = f"@{int(deprecated_at.timestamp())}"
    if request.if_none_match.contains_weak(pub.etag):
        return not_modified(headers)
    return Response(pub.body, headers=headers, mimetype="application/json")


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise Problem(t("`{name}` 应为 {low} 到 {high} 之间的整数", name=name, low=low,
                        high=high), status=400,
                      errors=[{"path": name, "message": t("实际为{value}", value=quoted(raw)),
                               "severity": "error"}])
    return value


# --------------------------------------------------------------------------- reading


@bp.get("/me")
@requires("reader")
def me() -> Response:
    a = _actor()
    return json_response({"name": a.name, "role": a.role, "token_id": a.token_id})


@bp.get("/schemes")
@requires("reader")
def list_schemes() -> Response:
    items = schemes.list_schemes(get_db(), with_drafts=_actor().can("editor"))
    return json_response({"schemes": items})


@bp.get("/schemes/<scheme_id>")
@requires("reader")
def scheme_detail(scheme_id: str) -> Response:
    return json_response(schemes.detail(get_db(), scheme_id, _actor().can("editor")))


@bp.get("/schemes/<scheme_id>/latest")
@requires("reader")
def latest(scheme_id: str) -> Response:
    cache = _cache()
    pointer = cache.latest(get_db, scheme_id) if schemes.valid_scheme_id(scheme_id) else None
    if pointer is None or pointer.version is None:
        raise NotFound(schemes.no_published(scheme_id))
    pub = cache.version(get_db, scheme_id, pointer.version)
    if pub is None:  # pragma: no cover - the pointer names a row that exists
        raise NotFound(schemes.no_published(scheme_id))
    return published_response(pub, latest=True, deprecated_at=pointer.deprecated_at)


@bp.get("/schemes/<scheme_id>/versions")
@requires("reader")
def versions(scheme_id: str) -> Response:
    found = schemes.history(get_db(), scheme_id)
    if not found and not _actor().can("editor"):
        # a scheme with only a draft does not exist for readers, as in the list and /latest
        raise NotFound(schemes.no_published(scheme_id))
    return json_response({"id": scheme_id, "versions": found})


@bp.get("/schemes/<scheme_id>/versions/<int:version>")
@requires("reader")
def version(scheme_id: str, version: int) -> Response:
    pub = _cache().version(get_db, scheme_id, version) if version <= MAX_INT else None
    if pub is None:
        raise NotFound(t("方案“{id}”没有第 {version} 版", id=scheme_id, version=version))
    return published_response(pub)


@bp.post("/validate")
@requires("reader")
def validate_document() -> Response:
    _, issues = schemes.check_document(read_json())
    return json_response(schemes.report_dict(issues), etag=False)


# --------------------------------------------------------------------------- drafts


@bp.get("/schemes/<scheme_id>/draft")
@requires("editor")
def get_draft(scheme_id: str) -> Response:
    row = schemes.draft_row(get_db(), scheme_id)
    headers = {"ETag": f'"{row.etag}"', "Cache-Control": REVALIDATE}
    if request.if_none_match.contains_weak(row.etag):
        return not_modified(headers)
    return Response(row.body.encode("utf-8"), headers=headers, mimetype="application/json")


@bp.put("/schemes/<scheme_id>/draft")
@requires("editor")
def put_draft(scheme_id: str) -> Response:
    doc = read_json()
    result = schemes.save_draft(get_db(), _actor(), scheme_id, doc,
                                if_match=request.if_match if "If-Match" in request.headers
                                else None,
                                if_none_match=request.if_none_match
                                if "If-None-Match" in request.headers else None)
    headers = {"ETag": f'"{result.row.etag}"', "Location": f"/api/schemes/{scheme_id}/draft"}
    return json_response(result.as_dict(), status=201 if result.created else 200,
                         headers=headers, etag=False)


@bp.delete("/schemes/<scheme_id>/draft")
@requires("editor")
def delete_draft(scheme_id: str) -> Response:
    schemes.delete_draft(get_db(), _actor(), scheme_id,
                         request.if_match if "If-Match" in request.headers else None)
    return Response(status=204)


@bp.post("/schemes/<scheme_id>/draft/validate")
@requires("editor")
def validate_draft(scheme_id: str) -> Response:
    return json_response(schemes.report_dict(schemes.validate_draft(get_db(), scheme_id)),
                         etag=False)


@bp.post("/schemes/<scheme_id>/draft/publish")
@requires("admin")
def publish(scheme_id: str) -> Response:
    note = _optional_note(read_json(optional=True))
    pub, warnings = schemes.publish_draft(
        get_db(), _actor(), scheme_id,
        request.if_match if "If-Match" in request.headers else None, note, _cache())
    body = {"id": pub.scheme_id, **schemes.version_dict(pub),
            "warnings": schemes.report_dict(warnings)["warnings"]}
    return json_response(body, status=201, etag=False,
                         headers={"Location": body["url"]})


@bp.post("/schemes/<scheme_id>/deprecate")
@requires("admin")
def deprecate(scheme_id: str) -> Response:
    note = _optional_note(read_json(optional=True))
    row = schemes.set_deprecated(get_db(), _actor(), scheme_id, True, note, _cache())
    return json_response(schemes.summary_with_date(get_db(), row), etag=False)


@bp.post("/schemes/<scheme_id>/undeprecate")
@requires("admin")
def undeprecate(scheme_id: str) -> Response:
    row = schemes.set_deprecated(get_db(), _actor(), scheme_id, False, None, _cache())
    return json_response(schemes.summary_with_date(get_db(), row), etag=False)


# --------------------------------------------------------------------------- admin


@bp.get("/tokens")
@requires("admin")
def list_tokens() -> Response:
    rows = get_db().scalars(select(TokenRow).order_by(TokenRow.id))
    return json_response({"tokens": [token_dict(r) for r in rows]})


@bp.post("/tokens")
@requires("admin")
def new_token() -> Response:
    body = read_json()
    if not isinstance(body, dict) or not isinstance(body.get("role"), str):
        raise Problem(t("请发送 {example}", example='{"role": "reader|editor|admin", "name": "…"}'),
                      status=422,
                      errors=[{"path": "role", "message": t("必填：reader、editor 或 admin"),
                               "severity": "error"}])
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise Problem(t("`name` 应为不超过 200 个字符的文字"), status=422,
                      errors=[{"path": "name", "message": t("应为较短的字符串"),
                               "severity": "error"}])
    db = get_db()
    token, row = create_token(db, body["role"], name, _actor())
    db.commit()
    return json_response({"token": token, **token_dict(row)}, status=201, etag=False,
                         headers={"Cache-Control": "no-store"})


@bp.delete("/tokens/<int:token_id>")
@requires("admin")
def delete_token(token_id: int) -> Response:
    if token_id > MAX_INT:
        raise NotFound(no_token(token_id))
    db = get_db()
    row = revoke_token(db, token_id, _actor())
    db.commit()
    current_app.extensions["xlbridge_tokens"].forget(row.token_hash)
    return json_response(token_dict(row), etag=False)


@bp.get("/audit")
@requires("admin")
def audit_log() -> Response:
    scheme_id = request.args.get("scheme") or None
    limit = _int_arg("limit", 100, 1, 1000)
    before = _int_arg("before", None, 1, MAX_INT)
    rows = audit.entries(get_db(), scheme_id, before, limit or 100)
    entries = [audit.entry_dict(r) for r in rows]
    nxt = None
    if len(rows) == limit and rows:
        query = {"limit": limit, "before": rows[-1].id}
        if scheme_id:
            query["scheme"] = scheme_id
        nxt = "/api/audit?" + urlencode(query)
    return json_response({"entries": entries, "next": nxt})
