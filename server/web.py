"""Pages for people who would rather look than read JSON: the schemes, one scheme's versions
with its rules drawn (parts and weights as a table, tiers as a banded bar, caps, quotas,
payouts), and a side-by-side diff of two versions. Editing is :mod:`server.editor`.

The pages need a token like the API (any role). A browser signs in once on ``/login``; the
signed session cookie keeps only the token's hash and when it was signed in. A session ends
after ``SESSION_IDLE_MINUTES`` without a request and ``SESSION_MAX_HOURS`` after signing in,
or at once when its token is revoked. Every form carries a CSRF token (Flask-WTF). An
``Authorization: Bearer`` header works too (no session, no CSRF: nothing a browser sends by
itself).
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlparse

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import render, schemes
from server.auth import check_token, current_actor, hash_token, role_name, throttle_wait
from server.cache import MAX_INT, Published
from server.csrf import csrf
from server.db import get_db
from server.models import DraftRow, SettingRow
from server.problems import NotFound, Problem, TooManyRequests
from xlbridge.i18n import t
from xlbridge.scheme.describe import Names, formula_lines
from xlbridge.scheme.load import scheme_from_data
from xlbridge.scheme.model import Scheme
from xlbridge.scheme.validate import rule_changes

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

_key_lock = threading.Lock()

@bp.app_context_processor
def _template_names() -> dict[str, Any]:
    return {"role_name": role_name}


class _KeyedSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions, with the signing key loaded before a session is opened: a
    key read from the database later in the request would come too late for it (the first
    page after a start without SECRET_KEY could not keep its CSRF token)."""

    def open_session(self, app: Flask, request: Any) -> Any:
        _ensure_secret_key(app)
        return super().open_session(app, request)


@bp.record_once
def _use_keyed_sessions(state: Any) -> None:
    state.app.session_interface = _KeyedSessions()


def _ensure_secret_key(app: Flask | None = None) -> None:
    """The key that signs session cookies: from the config, else made once and kept in the
    database so that every server process on the same database agrees."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if app.secret_key:
        return
    with _key_lock:
        if app.secret_key:
            return
        db = get_db()
        row = db.get(SettingRow, "secret_key")
        if row is None:
            try:
                db.add(SettingRow(key="secret_key", value=secrets.token_hex(32)))
                db.commit()
            except IntegrityError:
                db.rollback()
            row = db.get(SettingRow, "secret_key")
        assert row is not None
        app.secret_key = row.value


def _session_expired() -> bool:
    signed_in = session.get("signed_in_at")
    if not isinstance(signed_in, (int, float)):
        return True
    return time.time() - signed_in > float(current_app.config["SESSION_MAX_HOURS"]) * 3600


def require_session() -> Response | None:
    """Before every page: the signing key, the session (or a bearer token), CSRF on POST."""
    _ensure_secret_key()
    g.allow_session = True
    if "token_hash" in session and _session_expired():
        session.clear()
        g.session_expired = True
    if request.method == "POST" and not request.headers.get("Authorization"):
        csrf.protect()
    if request.endpoint in ("web.login", "web.static"):
        return None
    if current_actor() is None:
        if request.method == "POST" and request.endpoint and \
                request.endpoint.startswith("editor."):
            from server.editor import kept_on_sign_out

            return kept_on_sign_out()
        return redirect(url_for("web.login", next=request.full_path.rstrip("?"),
                                expired=1 if g.get("session_expired") else None))
    return None


bp.before_request(require_session)


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("web.index")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/"):
        return url_for("web.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    status = 200
    if request.method == "POST":
        token = (request.form.get("token") or "").strip()
        try:
            actor = check_token(token)
        except TooManyRequests:
            actor, status = None, 429
            error = t("失败次数过多，请 {seconds} 秒后再试。", seconds=throttle_wait())
        if actor is not None:
            session.clear()
            session.permanent = True  # the cookie lives SESSION_IDLE_MINUTES past each request
            session["token_hash"] = hash_token(token)
            session["signed_in_at"] = int(time.time())
            return redirect(_safe_next(request.form.get("next")))
        error = error or t("这个令牌无效或已被撤销。")
    elif request.args.get("expired"):
        error = t("登录已过期，请重新登录。")
    return render_template("login.html", error=error,
                           next=request.values.get("next", "")), status


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/")
def index() -> str:
    db = get_db()
    items = schemes.list_schemes(db, with_drafts=False)
    drafts = []
    if g.actor.can("editor"):
        for row in db.scalars(select(DraftRow).order_by(DraftRow.updated_at.desc())):
            drafts.append((row, schemes.submission(db, row)))
    return render_template("index.html", schemes=items, drafts=drafts, actor=g.actor)


def _published(scheme_id: str, version: int | None) -> Published:
    cache = current_app.extensions["xlbridge_cache"]
    if version is None:
        pointer = cache.latest(get_db, scheme_id) if schemes.valid_scheme_id(scheme_id) else None
        version = pointer.version if pointer else None
    pub = cache.version(get_db, scheme_id, version) if version and version <= MAX_INT else None
    if pub is None:
        raise NotFound(t("没有方案 {id} 的第 {version} 版", id=scheme_id, version=version)
                       if version else t("没有方案 {id}", id=scheme_id))
    return pub


@functools.lru_cache(maxsize=256)
def _parse(scheme_id: str, version: int, etag: str, body: bytes) -> Scheme:
    return scheme_from_data(json.loads(body))


def _scheme(pub: Published) -> Scheme:
    return _parse(pub.scheme_id, pub.version, pub.etag, pub.body)


def published_scheme(scheme_id: str, version: int | None = None) -> tuple[Published, Scheme]:
    """A published version (the latest when ``version`` is None) and its scheme; 404 if none."""
    pub = _published(scheme_id, version)
    return pub, _scheme(pub)


def _note_origin(scheme_id: str, pub: Published, scheme: Scheme
                 ) -> tuple[int, list[str]] | None:
    """For a version's description: the version it was written for (the first of the run of
    versions with the same text up to this one) and what has changed in the rules since."""
    if not scheme.description:
        return None
    origin, first = pub.version, scheme
    for v in range(pub.version - 1, 0, -1):
        try:
            _, older = published_scheme(scheme_id, v)
        except NotFound:
            break
        if " ".join((older.description or "").split()) != " ".join(scheme.description.split()):
            break
        origin, first = v, older
    return origin, rule_changes(first, scheme) if origin != pub.version else []


@bp.get("/schemes/<scheme_id>")
@bp.get("/schemes/<scheme_id>/versions/<int:version>")
def scheme_page(scheme_id: str, version: int | None = None) -> str:
    pub, scheme = published_scheme(scheme_id, version)
    db = get_db()
    info = schemes.detail(db, scheme_id, with_draft=g.actor.can("editor"))
    bands = render.tier_bands(scheme)
    names = Names(scheme)
    return render_template(
        "scheme.html", info=info, pub=pub, scheme=scheme, facts=render.facts(scheme, names),
        parts=render.part_rows(scheme, names), bands=bands,
        ticks=render.bar_ticks(scheme, bands), sections=render.rule_sections(scheme, names),
        formula=formula_lines(scheme, names), note_origin=_note_origin(scheme_id, pub, scheme),
        actor=g.actor, text=render.describe(scheme),
        just_published=request.args.get("published") == "1")


@bp.get("/schemes/<scheme_id>/diff")
def diff_page(scheme_id: str) -> str:
    info = schemes.detail(get_db(), scheme_id, with_draft=False)
    numbers = [v["version"] for v in info["versions"]]
    try:
        a = int(request.args.get("a") or (numbers[-2] if len(numbers) > 1 else numbers[-1]))
        b = int(request.args.get("b") or numbers[-1])
    except ValueError:
        raise Problem(t("a 和 b 须是版本号"), status=400) from None
    left, right = _published(scheme_id, a), _published(scheme_id, b)
    full = request.args.get("full") == "1"
    context = None if full else 3
    rules = render.side_by_side(render.rules_lines(_scheme(left)),
                                render.rules_lines(_scheme(right)), context)
    document = render.side_by_side(render.document_lines(left.body),
                                   render.document_lines(right.body), context)
    return render_template("diff.html", info=info, left=left, right=right, rules=rules,
                           document=document, numbers=numbers, full=full, actor=g.actor)
