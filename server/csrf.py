"""CSRF protection of the pages' forms (Flask-WTF's ``CSRFProtect``).

Checked by the pages' own ``before_request`` (:func:`server.web.require_session`) on every
POST that does not carry a bearer token, so the JSON API — whose clients send
``Authorization`` and no cookie — is not affected. A token lives as long as the session.
"""

from __future__ import annotations

from flask_wtf.csrf import CSRFError, CSRFProtect

csrf = CSRFProtect()

__all__ = ["CSRFError", "csrf"]
