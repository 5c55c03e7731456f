"""Errors as ``application/problem+json`` (RFC 9457), each naming the field at fault.

Operations raise :class:`Problem` (or a subclass); the app turns it, and every other HTTP
error of the API, into::

    {"type": "...#precondition-failed", "title": "Precondition Failed", "status": 412,
     "detail": "the draft changed since you read it", "errors": [{"path": ..., ...}]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from xlbridge.scheme.issues import Issue

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://xlbridge.invalid/problems/"


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
        title = HTTP_STATUS_CODES.get(self.status, "Error")
        slug = self.slug or title.lower().replace(" ", "-").replace("'", "")
        out: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title,
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

    def __init__(self, detail: str = "send `Authorization: Bearer <token>`"):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="xlbridge"'})


class Forbidden(Problem):
    status = 403


class TooManyRequests(Problem):
    status = 429


def from_http_exception(exc: HTTPException) -> Problem:
    """A werkzeug error (404 route, 405, 413…) in the same problem+json shape."""
    status = exc.code or 500
    detail = exc.description or HTTP_STATUS_CODES.get(status, "error")
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    if status == 413:
        detail = "the request body is larger than this server accepts"
    return Problem(detail, status=status, headers=headers)
