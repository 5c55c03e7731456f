"""The central scheme server: offices sync published schemes from it, editors draft new
versions, admins publish them. A Flask application built by :func:`create_app`.

Modules, one concern each: ``db`` (engine, sessions, migrations), ``models`` (tables),
``auth`` (tokens and roles), ``schemes`` (drafts, validation, publishing), ``cache``
(published versions in memory) and ``fastpath`` (serving them without Flask), ``audit`` (the
write log), ``ratelimit``, ``problems`` (problem+json errors), ``render`` (what the pages
draw), ``language`` (each request's language: Chinese unless the client asks for
English); blueprints ``api`` (JSON under /api), ``openapi`` (/openapi.json) and ``web``
(the pages for people). ``serving`` runs it under waitress: ``xlbridge serve``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, Response, render_template, request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, InternalServerError

from server import db, language
from server.auth import TokenCache
from server.cache import PublishedCache
from server.csrf import CSRFError
from server.fastpath import FastPath
from server.problems import Problem, from_http_exception
from server.ratelimit import FailureThrottle, TokenBuckets
from xlbridge.i18n import t

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: XLBRIDGE_DB or the SQLite file in the user data folder
    "SECRET_KEY": None,  # None: made once and kept in the database (web-page sessions)
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,  # request bodies (a scheme is far smaller)
    "WRITE_RATE_PER_MINUTE": 60,  # writes per token per minute …
    "WRITE_BURST": 30,  # … after a burst of this many
    "LATEST_TTL": 1.0,  # seconds a "latest version" pointer is cached
    "AUTH_CACHE_SECONDS": 10.0,  # seconds a verified token is cached
    "AUTH_FREE_FAILURES": 10,  # wrong tokens an address may present before it must wait …
    "AUTH_MAX_DELAY": 300.0,  # … 1 s, doubling with each further one, up to this
    "FAST_PATH": True,  # serve cached published documents without Flask (server/fastpath.py)
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_IDLE_MINUTES": 120,  # a web-page session ends this long after its last request …
    "SESSION_MAX_HOURS": 12,  # … and this long after signing in, whatever happens
    "WTF_CSRF_CHECK_DEFAULT": False,  # the pages check CSRF themselves (server/csrf.py) …
    "WTF_CSRF_TIME_LIMIT": None,  # … with a token as long-lived as the session
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Settings come from ``test_config`` when given, else from environment
    variables ``XLBRIDGE_SERVER_<NAME>`` (e.g. ``XLBRIDGE_SERVER_WRITE_BURST=10``)."""
    app = Flask(__name__, static_folder=None)  # the web blueprint serves /static
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env("XLBRIDGE_SERVER")
    else:
        app.config.from_mapping(test_config)
    # the session cookie is re-signed on every request and refused this long after the last
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        minutes=float(app.config["SESSION_IDLE_MINUTES"]))
    url = app.config["DATABASE_URL"]
    app.config["DATABASE_URL"] = db.database_url(url) if url else db.default_database_url()

    language.init_app(app)  # first: every message of the request is in its language
    db.init_app(app)
    app.extensions["xlbridge_cache"] = PublishedCache(float(app.config["LATEST_TTL"]))
    app.extensions["xlbridge_tokens"] = TokenCache(float(app.config["AUTH_CACHE_SECONDS"]))
    app.extensions["xlbridge_ratelimit"] = TokenBuckets(
        float(app.config["WRITE_RATE_PER_MINUTE"]), int(app.config["WRITE_BURST"]))
    app.extensions["xlbridge_login_throttle"] = FailureThrottle(
        int(app.config["AUTH_FREE_FAILURES"]), cap=float(app.config["AUTH_MAX_DELAY"]))

    from server import api, editor, openapi, web
    from server.csrf import csrf

    csrf.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(editor.bp)
    _error_handlers(app)
    if app.config["FAST_PATH"]:
        app.wsgi_app = FastPath(app.wsgi_app, app.extensions["xlbridge_cache"],  # type: ignore[method-assign]
                                app.extensions["xlbridge_tokens"])

    @app.get("/healthz")
    def healthz() -> Response:
        with db.get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return Response('{"status": "ok"}', mimetype="application/json")

    return app


def _wants_json() -> bool:
    path = request.path
    return path.startswith("/api/") or path == "/api" or path in ("/openapi.json", "/healthz")


def _error_handlers(app: Flask) -> None:
    def page(status: int, title: str, detail: str) -> Response:
        html = render_template("error.html", status=status, title=title, detail=detail)
        return Response(html, status=status, mimetype="text/html")

    @app.errorhandler(Problem)
    def on_problem(exc: Problem) -> Response:
        if _wants_json():
            return exc.response()
        body = exc.body()
        resp = page(exc.status, body["title"], exc.detail)
        resp.headers.update(exc.headers)
        return resp

    @app.errorhandler(CSRFError)
    def on_csrf(exc: CSRFError) -> Response:
        if (request.endpoint or "").startswith("editor."):
            from server.editor import kept_on_sign_out

            return kept_on_sign_out()
        return page(400, t("表单已失效"), t("这个页面的表单已过期（例如期间重新登录过）。"
                                           "请返回、刷新页面后再提交。"))

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException) -> Response:
        return on_problem(from_http_exception(exc))

    @app.errorhandler(Exception)
    def on_error(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return on_http(exc)
        logging.getLogger("server").exception("unhandled error on %s %s", request.method,
                                              request.path)
        return on_problem(Problem(t("服务器处理这个请求时出错，已记入日志"),
                                  status=InternalServerError.code))
