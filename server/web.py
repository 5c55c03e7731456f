"""Pages for people who would rather look than read JSON: the schemes, one scheme's versions
with its rules drawn (parts and weights as a table, tiers as a banded bar, caps, quotas,
payouts), and a side-by-side diff of two versions.

The pages need a token like the API (any role). A browser signs in once on ``/login``; the
signed session cookie keeps only the token's hash. An ``Authorization: Bearer`` header works
too.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
from typing import Any
from urllib.parse import urlparse

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.exc import IntegrityError

from server import render, schemes
from server.auth import check_token, current_actor, hash_token, throttle_wait
from server.cache import MAX_INT, Published
from server.db import get_db
from server.models import SettingRow
from server.problems import NotFound, Problem, TooManyRequests
from xlbridge.scheme.load import scheme_from_data
from xlbridge.scheme.model import Scheme

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

_key_lock = threading.Lock()


def _ensure_secret_key() -> None:
    """The key that signs session cookies: from the config, else made once and kept in the
    database so that every server process on the same database agrees."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
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


@bp.before_request
def _session_auth() -> Response | None:
    _ensure_secret_key()
    g.allow_session = True
    if request.endpoint in ("web.login", "web.static"):
        return None
    if current_actor() is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


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
            error = f"失败次数过多，请 {throttle_wait()} 秒后再试。"
        if actor is not None:
            session.clear()
            session["token_hash"] = hash_token(token)
            return redirect(_safe_next(request.form.get("next")))
        error = error or "这个令牌无效或已被撤销。"
    return render_template("login.html", error=error,
                           next=request.values.get("next", "")), status


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/")
def index() -> str:
    items = schemes.list_schemes(get_db(), with_drafts=False)
    return render_template("index.html", schemes=items, actor=g.actor)


def _published(scheme_id: str, version: int | None) -> Published:
    cache = current_app.extensions["xlbridge_cache"]
    if version is None:
        pointer = cache.latest(get_db, scheme_id) if schemes.valid_scheme_id(scheme_id) else None
        version = pointer.version if pointer else None
    pub = cache.version(get_db, scheme_id, version) if version and version <= MAX_INT else None
    if pub is None:
        raise NotFound(f"没有方案 {scheme_id}" + (f" 的第 {version} 版" if version else ""))
    return pub


@functools.lru_cache(maxsize=256)
def _parse(scheme_id: str, version: int, etag: str, body: bytes) -> Scheme:
    return scheme_from_data(json.loads(body))


def _scheme(pub: Published) -> Scheme:
    return _parse(pub.scheme_id, pub.version, pub.etag, pub.body)


@bp.get("/schemes/<scheme_id>")
@bp.get("/schemes/<scheme_id>/versions/<int:version>")
def scheme_page(scheme_id: str, version: int | None = None) -> str:
    pub = _published(scheme_id, version)
    scheme = _scheme(pub)
    info = schemes.detail(get_db(), scheme_id, with_draft=False)
    bands = render.tier_bands(scheme)
    return render_template(
        "scheme.html", info=info, pub=pub, scheme=scheme, facts=render.facts(scheme),
        parts=render.part_rows(scheme), bands=bands, ticks=render.bar_ticks(scheme, bands),
        sections=render.rule_sections(scheme), actor=g.actor,
        text=render.describe(scheme))


@bp.get("/schemes/<scheme_id>/diff")
def diff_page(scheme_id: str) -> str:
    info = schemes.detail(get_db(), scheme_id, with_draft=False)
    numbers = [v["version"] for v in info["versions"]]
    try:
        a = int(request.args.get("a") or (numbers[-2] if len(numbers) > 1 else numbers[-1]))
        b = int(request.args.get("b") or numbers[-1])
    except ValueError:
        raise Problem("a 和 b 须是版本号", status=400) from None
    left, right = _published(scheme_id, a), _published(scheme_id, b)
    full = request.args.get("full") == "1"
    context = None if full else 3
    rules = render.side_by_side(render.rules_lines(_scheme(left)),
                                render.rules_lines(_scheme(right)), context)
    document = render.side_by_side(render.document_lines(left.body),
                                   render.document_lines(right.body), context)
    return render_template("diff.html", info=info, left=left, right=right, rules=rules,
                           document=document, numbers=numbers, full=full, actor=g.actor)
