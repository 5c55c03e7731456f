"""The language of each request, pages and API alike: Chinese unless the client asks for
English.

In order: ``?lang=en`` / ``?lang=zh`` (kept in the ``xlbridge_lang`` cookie, so the choice
holds on the following pages), that cookie, the ``Accept-Language`` header (Werkzeug's
``best_match``: ``en-US,en;q=0.9`` → English, ``zh-CN`` or ``fr`` → Chinese), else Chinese.
The request runs inside :func:`xlbridge.i18n.use_language`, so every message the server
makes — a page, a problem+json ``detail``, a validator's message — comes from the one
catalogue in that language. Jinja's i18n extension gives the templates ``_()`` /
``ngettext()`` / ``pgettext()`` (the catalogue's :func:`~xlbridge.i18n.t` /
:func:`~xlbridge.i18n.tn` / :func:`~xlbridge.i18n.tp`, with ``{name}`` placeholders like the
Python code; ``pgettext("web", …)`` for a page's label whose English is capitalised where the
CLI's is not), and ``page_lang``, ``html_lang`` and
``lang_url()`` for ``<html lang>`` and the language switch.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, request, url_for

from xlbridge import i18n

COOKIE = "xlbridge_lang"
#: ``<html lang>`` of each language
HTML_LANG = {"zh": "zh-CN", "en": "en"}
#: each language named in itself, for the switch (a language's own name is not translated)
OWN_NAMES = {"zh": "中文", "en": "English"}


def _asked() -> str | None:
    """The language the request names with ``?lang=`` (None if it names none we speak)."""
    return i18n.normalize(request.args.get("lang"))


def choose() -> str:
    """This request's language (see the module docstring)."""
    asked = _asked()
    if asked is not None:
        return asked
    kept = i18n.normalize(request.cookies.get(COOKIE))
    if kept is not None:
        return kept
    best = request.accept_languages.best_match(i18n.LANGUAGES)
    return i18n.normalize(best) or i18n.DEFAULT


def lang_url(lang: str) -> str:
    """This page's address with ``?lang=`` set to ``lang`` (the other arguments kept); the
    list of schemes for a page that only a form's POST shows (a refused publication)."""
    rule = request.url_rule
    if rule is None or "GET" not in (rule.methods or ()):
        return url_for("web.index", lang=lang)
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + "?" + urlencode([*args, ("lang", lang)])


def _gettext(message: str, **values: Any) -> str:
    return i18n.t(message, **values)


def _ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    return i18n.tn(singular, plural, n, **values)


def _pgettext(context: str, message: str, **values: Any) -> str:
    return i18n.tp(context, message, **values)


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # old-style callables: the catalogue's own t()/tn()/tp() fill in {name} placeholders, as
    # in the Python code (Jinja's new style would %-format, and "25%" would break it)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=False, pgettext=_pgettext)

    @app.before_request
    def _enter() -> None:
        lang = choose()
        manager = i18n.use_language(lang)
        manager.__enter__()
        g.language = lang
        g.language_manager = manager

    @app.teardown_request
    def _leave(_exc: BaseException | None) -> None:
        manager = g.pop("language_manager", None)
        if manager is not None:
            manager.__exit__(None, None, None)

    @app.after_request
    def _remember(response: Response) -> Response:
        asked = _asked()
        if asked is not None and request.cookies.get(COOKIE) != asked:
            response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax",
                                httponly=True)
        if response.status_code != 304 and \
                response.mimetype in ("text/html", "application/problem+json"):
            response.vary.update(("Accept-Language", "Cookie"))
        return response

    @app.context_processor
    def _template_language() -> dict[str, Any]:
        lang = g.get("language", i18n.DEFAULT)
        return {"page_lang": lang, "html_lang": HTML_LANG[lang], "lang_url": lang_url,
                "other_languages": [(code, OWN_NAMES[code]) for code in i18n.LANGUAGES
                                    if code != lang]}
