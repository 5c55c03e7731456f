"""Errors as ``application/problem+json`` (RFC 9457), each naming the field at fault.

Operations raise :class:`Problem` (or a subclass); the app turns it, and every other HTTP
error of the API, into::

    {"type": ".../precondition-failed", "title": "前提条件不满足", "status": 412,
     "detail": "草稿在您读取之后被修改过", "errors": [{"path": ..., ...}]}

``title`` and ``detail`` are in the request's language (:mod:`server.language`: Chinese
unless the client asks for English); ``type`` is the status's English name as a slug, an
identifier that stays the same in every language.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from xlbridge.i18n import N_, gettext, t
from xlbridge.scheme.issues import Issue

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://xlbridge.invalid/problems/"
#: the ``title`` of each status the server answers with (others: Werkzeug's English name)
TITLES = {
    400: N_("请求有误"), 401: N_("需要令牌"), 403: N_("权限不够"), 404: N_("找不到"),
    405: N_("不支持的请求方法"), 409: N_("冲突"), 412: N_("前提条件不满足"),
    413: N_("请求内容过大"), 415: N_("不支持的内容类型"), 422: N_("内容无效"),
    428: N_("缺少前提条件"), 429: N_("请求过于频繁"), 500: N_("服务器内部错误"),
    503: N_("服务暂不可用"),
}


def title_of(status: int) -> str:
    """The status's name in the request's language."""
    if status in TITLES:
        return gettext(TITLES[status])
    return HTTP_STATUS_CODES.get(status, "Error")


def issue_dict(issue: Issue) -> dict[str, Any]:
    out: dict[str, Any] = {"path": issue.path, "message": issue.message,
                           "severity": issue.severity, "code": issue.code}
    if issue.line is not None:
        out["line"] = issue.line
    return out


class Problem(Exception):
    """An error for the client, carrying its HTTP status and the fields at fault."""

    status = 400
    slug: str | None = None

    def __init__(self, detail: str, *, status: int | None = None,
                 errors: Iterable[Issue | dict[str, Any]] = (),
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.errors = [issue_dict(e) if isinstance(e, Issue) else e for e in errors]
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        name = HTTP_STATUS_CODES.get(self.status, "Error")
        slug = self.slug or name.lower().replace(" ", "-").replace("'", "")
        out: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title_of(self.status),
                               "status": self.status, "detail": self.detail}
        if self.errors:
            out["errors"] = self.errors
        out.update(self.extra)
        return out

    def response(self) -> Response:
        resp = Response(json.dumps(self.body(), ensure_ascii=False), status=self.status,
                        mimetype=PROBLEM_JSON)
        for k, v in self.headers.items():
            resp.headers[k] = v
        return resp


class NotFound(Problem):
    status = 404


class Conflict(Problem):
    status = 409


class PreconditionFailed(Problem):
    status = 412


class PreconditionRequired(Problem):
    status = 428


class Invalid(Problem):
    """The document is not a valid scheme: 422 with every issue and its path."""

    status = 422
    slug = "invalid-scheme"


class Unauthorized(Problem):
    status = 401

    def __init__(self, detail: str | None = None):
        detail = detail or t("请在请求头中发送 `Authorization: Bearer <令牌>`")
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="xlbridge"'})


class Forbidden(Problem):
    status = 403


class TooManyRequests(Problem):
    status = 429


def from_http_exception(exc: HTTPException) -> Problem:
    """A werkzeug error (404 route, 405, 413…) in the same problem+json shape, its detail
    in the request's language (Werkzeug's own descriptions are English)."""
    from flask import request

    status = exc.code or 500
    headers = {}
    if status == 404:
        detail = t("这个地址上没有内容：{path}", path=request.path)
    elif status == 405:
        allowed = ", ".join(getattr(exc, "valid_methods", None) or ())
        if allowed:
            headers["Allow"] = allowed
        detail = t("{path} 不接受 {method} 请求；可用的方法：{allowed}", path=request.path,
                   method=request.method, allowed=allowed or "—")
    elif status == 413:
        detail = t("请求内容超过了这个服务器接受的大小")
    elif status == 400:
        detail = t("服务器读不懂这个请求（格式有误）")
    else:
        detail = title_of(status)
    return Problem(detail, status=status, headers=headers)
