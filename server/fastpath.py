"""The hot path of every office's sync, served without Flask's request machinery.

``GET /api/schemes/<id>/latest`` and ``GET /api/schemes/<id>/versions/<n>`` are what syncing
offices ask for, mostly with ``If-None-Match``. When the token, the latest-version pointer and
the published bytes are all in memory (:mod:`server.cache`, :class:`server.auth.TokenCache`),
this WSGI middleware answers directly: a revalidation is a regex match and three dictionary
look-ups. Anything else — a cold cache, an unknown token, another route — goes on to Flask,
which answers the same request identically (``tests/server/test_fastpath.py`` compares them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from server.auth import TokenCache, hash_token
from server.cache import Published, PublishedCache

_PATH = re.compile(r"^/api/schemes/([a-z0-9][a-z0-9-]{0,98}[a-z0-9])/"
                   r"(?:latest|versions/([1-9][0-9]{0,8}))$")
IMMUTABLE = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"


def _matches(header: str, etag: str) -> bool:
    """Weak comparison of an If-None-Match header with an (unquoted) ETag."""
    for part in header.split(","):
        part = part.strip()
        if part == "*":
            return True
        if part.startswith("W/"):
            part = part[2:]
        if part.strip('"') == etag:
            return True
    return False


class FastPath:
    def __init__(self, app: Callable, cache: PublishedCache, tokens: TokenCache):
        self.app = app
        self.cache = cache
        self.tokens = tokens

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET":
            m = _PATH.match(environ.get("PATH_INFO", ""))
            if m is not None:
                answer = self._answer(environ, m)
                if answer is not None:
                    status, headers, body = answer
                    start_response(status, headers)
                    return [body]
        return self.app(environ, start_response)

    def _answer(self, environ: dict[str, Any], m: re.Match) -> tuple | None:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if auth[:7].lower() != "bearer ":
            return None
        if self.tokens.get(hash_token(auth[7:].strip())) is None:
            return None  # unknown to the cache: Flask looks it up (or answers 401)
        scheme_id, version = m.group(1), m.group(2)
        deprecated_at = None
        if version is None:
            latest = self.cache.peek_latest(scheme_id)
            if latest is None or latest.version is None:
                return None
            pub = self.cache._versions.get((scheme_id, latest.version))
            deprecated_at = latest.deprecated_at
        else:
            pub = self.cache._versions.get((scheme_id, int(version)))
        if pub is None:
            return None
        return _response(pub, version is None, deprecated_at,
                         environ.get("HTTP_IF_NONE_MATCH"))


def _response(pub: Published, latest: bool, deprecated_at: Any,
              if_none_match: str | None) -> tuple[str, list[tuple[str, str]], bytes]:
    headers = [("ETag", pub.quoted_etag), ("X-Scheme-Version", str(pub.version)),
               ("Cache-Control", REVALIDATE if latest else IMMUTABLE)]
    if latest:
        headers.append(("Content-Location",
                        f"/api/schemes/{pub.scheme_id}/versions/{pub.version}"))
    if deprecated_at is not None:
        headers.append(("Deprecation", f"@{int(deprecated_at.timestamp())}"))
    if if_none_match and _matches(if_none_match, pub.etag):
        return "304 NOT MODIFIED", headers, b""
    headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(pub.body))))
    return "200 OK", headers, pub.body
