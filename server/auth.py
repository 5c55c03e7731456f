"""Bearer tokens with roles: reader (offices that sync), editor (drafts), admin (publishes,
deprecates, manages tokens, reads the audit log). Each role can do what the ones before it can.

A token is 32 random bytes (``xlb_`` + URL-safe base64) shown once when it is created; the
database keeps only its SHA-256. A slow password hash would buy nothing for a random 256-bit
secret and would cost every request. Verified tokens are cached for ``AUTH_CACHE_SECONDS``
(a revocation in this process takes effect at once, in other processes within that time).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request, session
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ROLES, TokenRow, utcnow
from server.problems import Conflict, Forbidden, NotFound, Problem, TooManyRequests, Unauthorized
from xlbridge.i18n import N_, gettext, quoted, t

RANK = {role: i for i, role in enumerate(ROLES)}
#: each role as people call it (the API's role names stay the ids)
ROLE_NAMES = {"reader": N_("读者"), "editor": N_("编辑"), "admin": N_("管理员")}


def role_name(role: str) -> str:
    return gettext(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def no_token(token_id: int) -> str:
    return t("没有编号为 {id} 的令牌", id=token_id)
TOKEN_PREFIX = "xlb_"


@dataclass(frozen=True)
class Actor:
    """Who is making the request: the token's id, name and role."""

    token_id: int | None
    name: str
    role: str

    def can(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


#: the actor of commands run on the server machine itself (``xlbridge server token create``)
LOCAL_ADMIN = Actor(None, "local-admin", "admin")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenCache:
    """token hash → Actor, remembered for ``ttl`` seconds."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._hits: dict[str, tuple[Actor, float]] = {}

    def get(self, token_hash: str) -> Actor | None:
        hit = self._hits.get(token_hash)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def put(self, token_hash: str, actor: Actor) -> None:
        with self._lock:
            if len(self._hits) > 10_000:
                self._hits.clear()
            self._hits[token_hash] = (actor, time.monotonic() + self.ttl)

    def forget(self, token_hash: str) -> None:
        with self._lock:
            self._hits.pop(token_hash, None)


def lookup(db: Session, token_hash: str) -> Actor | None:
    row = db.scalar(select(TokenRow).where(TokenRow.token_hash == token_hash,
                                           TokenRow.revoked_at.is_(None)))
    if row is None:
        return None
    return Actor(row.id, row.name, row.role)


def create_token(db: Session, role: str, name: str, by: Actor) -> tuple[str, TokenRow]:
    """A new token of ``role``; returns the plain token (shown once) and its row."""
    from server.audit import record

    if role not in RANK:
        raise Problem(t("role 应为 {roles} 之一", roles="、".join(ROLES)), status=422,
                      errors=[{"path": "role", "message": t("没有角色{role}", role=quoted(role)),
                               "severity": "error"}])
    name = name.strip() or role
    token = new_token()
    row = TokenRow(name=name, role=role, token_hash=hash_token(token), created_by=by.name)
    db.add(row)
    db.flush()
    record(db, by, "token.create", after=f"token {row.id}",
           detail={"token_id": row.id, "name": name, "role": role})
    return token, row


def revoke_token(db: Session, token_id: int, by: Actor) -> TokenRow:
    """Revoke a token; the last active admin token cannot be revoked (nobody could publish
    or manage tokens any more): 409, until another admin token exists."""
    from server.audit import record
    from server.db import begin_write

    begin_write(db)  # the check and the revocation in one write transaction
    row = db.get(TokenRow, token_id)
    if row is None:
        raise NotFound(no_token(token_id))
    if row.revoked_at is None and row.role == "admin":
        admins = db.scalars(select(TokenRow.id).where(
            TokenRow.role == "admin", TokenRow.revoked_at.is_(None))
            .with_for_update()).all()
        if list(admins) == [row.id]:
            raise Conflict(t("令牌 {id}（{name}）是最后一个有效的管理员令牌，不能撤销："
                             "撤销后就没有人能发布方案或管理令牌了。请先创建另一个管理员令牌"
                             "（xlbridge server token create --role admin）",
                             id=row.id, name=row.name))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record(db, by, "token.revoke", before=f"token {row.id}",
               detail={"token_id": row.id, "name": row.name, "role": row.role})
    return row


def token_dict(row: TokenRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "role": row.role,
            "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


# --------------------------------------------------------------------------- per request


def _throttle() -> Any:
    return current_app.extensions["xlbridge_login_throttle"]


def _address() -> str:
    return f"addr:{request.remote_addr or '?'}"


def throttle_wait() -> int:
    """Whole seconds before this client address may present a token again (0: now)."""
    wait = _throttle().wait(_address())
    return max(1, math.ceil(wait)) if wait else 0


def _refuse_throttled() -> None:
    wait = throttle_wait()
    if wait:
        raise TooManyRequests(t("令牌校验失败次数过多：这个地址请 {wait} 秒后再试", wait=wait),
                              headers={"Retry-After": str(wait)})


def check_token(token: str) -> Actor | None:
    """The actor of a token typed on the sign-in page, counting a wrong one against the
    client's address (:class:`server.ratelimit.FailureThrottle`); raises 429 while the
    address is closed, without looking at the token."""
    _refuse_throttled()
    from server.db import get_db

    actor = lookup(get_db(), hash_token(token)) if token else None
    if actor is None:
        _throttle().failed(_address())
    return actor


def current_actor() -> Actor | None:
    """The request's actor from ``Authorization: Bearer`` (or the web pages' session).

    A bearer token not in the cache is looked up only while the client's address is not
    closed for too many failed checks (429 otherwise); an unknown one counts as a failure."""
    if "actor" in g:
        return g.actor
    actor = None
    header = request.headers.get("Authorization", "")
    token_hash = None
    presented = False
    if header[:7].lower() == "bearer ":
        token_hash = hash_token(header[7:].strip())
        presented = True
    elif g.get("allow_session") and session.get("token_hash"):
        token_hash = session["token_hash"]
    if token_hash is not None:
        cache: TokenCache = current_app.extensions["xlbridge_tokens"]
        actor = cache.get(token_hash)
        if actor is None:
            from server.db import get_db

            if presented:
                _refuse_throttled()
            actor = lookup(get_db(), token_hash)
            if actor is not None:
                cache.put(token_hash, actor)
            elif presented:
                _throttle().failed(_address())
    g.actor = actor
    return actor


def authorize(role: str) -> Actor:
    """The request's actor if it holds ``role`` (or better); else 401 or 403."""
    actor = current_actor()
    if actor is None:
        if request.headers.get("Authorization"):
            raise Unauthorized(t("这个令牌无效或已被撤销"))
        raise Unauthorized()
    if not actor.can(role):
        raise Forbidden(t("这需要{role}（{role_id}）角色；令牌“{name}”是{actual}（{actual_id}）",
                          role=role_name(role), role_id=role, name=actor.name,
                          actual=role_name(actor.role), actual_id=actor.role))
    return actor


F = TypeVar("F", bound=Callable[..., Any])


def requires(role: str) -> Callable[[F], F]:
    """Decorator: the view runs only for an actor with ``role``; it gets ``g.actor``."""

    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            authorize(role)
            return view(*args, **kwargs)

        inner.required_role = role  # type: ignore[attr-defined]
        return inner  # type: ignore[return-value]

    return wrap
