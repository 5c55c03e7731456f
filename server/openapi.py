"""The OpenAPI 3.1 description of the JSON API, served at ``/openapi.json``.

Written out here rather than generated, so that it says what clients may rely on; the scheme
document's own schema comes from the pydantic model (the same one ``xlbridge schemes schema``
prints). ``tests/server/test_openapi.py`` runs schemathesis against it and checks that every
route of the API is described.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from flask import Blueprint, Response

from server.cache import MAX_INT
from xlbridge import __version__
from xlbridge.scheme.model import Scheme

bp = Blueprint("openapi", __name__)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, headers: dict | None = None,
          media: str = "application/json") -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {media: {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


PROBLEMS = {
    "400": "the request is malformed (bad JSON, bad query value)",
    "401": "no token, or an unknown or revoked one",
    "403": "the token's role may not do this",
    "404": "no such scheme, version, draft or token",
    "409": "the state forbids it (a deprecated scheme, a version published concurrently, "
           "the last admin token)",
    "412": "If-Match does not name the current draft (someone else changed it)",
    "413": "the body is larger than the server accepts",
    "415": "the body is not application/json",
    "422": "the document or field is invalid; `errors` lists each issue with its path",
    "428": "the draft exists: send If-Match with its ETag",
    "429": "too many writes, or too many unknown tokens from this address; see Retry-After",
}


def _problems(*codes: str) -> dict[str, Any]:
    out = {}
    for code in codes:
        headers = None
        if code == "429":
            headers = {"Retry-After": {"schema": {"type": "integer"},
                                       "description": "seconds to wait"}}
        if code == "401":
            headers = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        out[code] = _json(_ref("Problem"), PROBLEMS[code], headers, "application/problem+json")
    return out


READ_ERRORS = ("400", "401", "403", "404", "429")
WRITE_ERRORS = ("400", "401", "403", "404", "413", "415", "422", "429")

ETAG = {"ETag": {"schema": {"type": "string"}, "description": "validator for If-None-Match"}}
PUBLISHED_HEADERS = {
    **ETAG,
    "X-Scheme-Version": {"schema": {"type": "integer"}, "description": "the version served"},
    "Deprecation": {"schema": {"type": "string"},
                    "description": "present when the scheme is deprecated (RFC 9745 date)"},
}
NOT_MODIFIED = {"description": "unchanged since the ETag given in If-None-Match",
                "headers": ETAG}

SCHEME_ID = {"name": "scheme_id", "in": "path", "required": True,
             "description": "scheme id, e.g. bailian-township",
             "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*[a-z0-9]$",
                        "maxLength": 100}}
VERSION = {"name": "version", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1}}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                 "schema": {"type": "string"},
                 "description": "ETag(s) you hold; 304 when one is current"}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "schema": {"type": "string"},
            "description": "the draft's ETag as you read it; 412 when it changed since"}
#: where the draft must be named: discarding it (428 without)
IF_MATCH_REQUIRED = {**IF_MATCH, "required": True,
                     "description": "the draft's ETag as you read it (required: 428 without "
                                    "it; 412 when the draft changed since)"}
#: replacing a draft needs If-Match, creating one may say If-None-Match: * — which of the two
#: depends on whether a draft exists, which OpenAPI cannot express as `required`
IF_MATCH_TO_REPLACE = {**IF_MATCH, "description": "required when the scheme has a draft "
                                                  "(428 without it): the draft's ETag as you "
                                                  "read it; 412 when it changed since"}


def _read(summary: str, schema: dict, *, tag: str, params: list | None = None,
          headers: dict | None = None, role: str = "reader",
          op_id: str) -> dict[str, Any]:
    return {"get": {
        "summary": summary, "tags": [tag], "operationId": op_id,
        "description": f"Role: {role}.",
        "parameters": [*(params or []), IF_NONE_MATCH],
        "responses": {"200": _json(schema, "OK", headers or ETAG), "304": NOT_MODIFIED,
                      **_problems(*READ_ERRORS)},
    }}


def _issue_schema() -> dict[str, Any]:
    return {"type": "object", "required": ["path", "message", "severity"], "properties": {
        "path": {"type": "string", "description": "where in the document, e.g. "
                                                  "tiers[1].at_least ('' = the whole)"},
        "message": {"type": "string"},
        "severity": {"type": "string", "enum": ["error", "warning"]},
        "code": {"type": "string"},
        "line": {"type": "integer"},
    }}


def _components() -> dict[str, Any]:
    scheme_schema = Scheme.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = scheme_schema.pop("$defs", {})
    dt = {"type": "string", "format": "date-time"}
    dt_or_null = {"type": ["string", "null"], "format": "date-time"}
    str_or_null = {"type": ["string", "null"]}
    version_info = {"type": "object", "required": ["version", "etag", "published_at",
                                                   "published_by", "url"], "properties": {
        "version": {"type": "integer"}, "title": {"type": "string"},
        "etag": {"type": "string"}, "published_at": dt, "published_by": {"type": "string"},
        "note": str_or_null, "url": {"type": "string"}}}
    summary = {"type": "object", "required": ["id", "title", "latest_version", "deprecated"],
               "properties": {
                   "id": {"type": "string"}, "title": {"type": "string"},
                   "latest_version": {"type": ["integer", "null"]},
                   "published_at": dt_or_null, "deprecated": {"type": "boolean"},
                   "deprecated_at": dt_or_null, "deprecation_note": str_or_null,
                   "has_draft": {"type": "boolean", "description": "editors and admins only"}}}
    draft_info = {"type": "object", "required": ["etag", "created_at", "updated_at"],
                  "properties": {
                      "etag": {"type": "string"}, "base_version": {"type": ["integer", "null"]},
                      "created_at": dt, "created_by": {"type": "string"},
                      "updated_at": dt, "updated_by": {"type": "string"}}}
    report = {"type": "object", "required": ["ok", "errors", "warnings"], "properties": {
        "ok": {"type": "boolean"},
        "errors": {"type": "array", "items": _ref("Issue")},
        "warnings": {"type": "array", "items": _ref("Issue")}}}
    token = {"type": "object", "required": ["id", "name", "role"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "role": {"type": "string", "enum": ["reader", "editor", "admin"]},
        "created_at": dt, "created_by": {"type": "string"}, "revoked_at": dt_or_null}}
    mine = {
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"},
                        "status": {"type": "integer"}, "detail": {"type": "string"},
                        "errors": {"type": "array", "items": _ref("Issue")},
                        "current_etag": {"type": "string",
                                         "description": "on 412/428: the draft's ETag now"}}},
        "Issue": _issue_schema(),
        "ValidationReport": report,
        "SchemeSummary": summary,
        "SchemeList": {"type": "object", "required": ["schemes"], "properties": {
            "schemes": {"type": "array", "items": _ref("SchemeSummary")}}},
        "VersionInfo": version_info,
        "VersionList": {"type": "object", "required": ["id", "versions"], "properties": {
            "id": {"type": "string"},
            "versions": {"type": "array", "items": _ref("VersionInfo")}}},
        "SchemeDetail": {"allOf": [_ref("SchemeSummary"), {"type": "object", "properties": {
            "versions": {"type": "array", "items": _ref("VersionInfo")},
            "draft": {"anyOf": [_ref("DraftInfo"), {"type": "null"}],
                      "description": "editors and admins only"}}}]},
        "DraftInfo": draft_info,
        "DraftSaved": {"allOf": [_ref("DraftInfo"), {"type": "object", "properties": {
            "id": {"type": "string"}, "validation": _ref("ValidationReport")}}]},
        "DraftDocument": {"type": "object", "description": (
            "A scheme document (see Scheme) as JSON. A draft may be incomplete or invalid "
            "while it is being written; `version` is set by the server, `id` defaults to "
            "the URL's.")},
        "PublishResult": {"allOf": [_ref("VersionInfo"), {"type": "object", "properties": {
            "id": {"type": "string"},
            "warnings": {"type": "array", "items": _ref("Issue")}}}]},
        "Note": {"type": ["object", "null"], "description": "an optional note; `null` or no "
                                                           "body: none",
                 "properties": {"note": {"type": "string"}}},
        "Token": token,
        "NewToken": {"allOf": [_ref("Token"), {"type": "object", "required": ["token"],
                                               "properties": {"token": {
                                                   "type": "string",
                                                   "description": "shown only this once"}}}]},
        "TokenRequest": {"type": "object", "required": ["role"], "properties": {
            "role": {"type": "string", "enum": ["reader", "editor", "admin"]},
            "name": {"type": "string", "maxLength": 200}}},
        "TokenList": {"type": "object", "properties": {
            "tokens": {"type": "array", "items": _ref("Token")}}},
        "AuditEntry": {"type": "object", "properties": {
            "id": {"type": "integer"}, "at": dt, "actor": {"type": "string"},
            "actor_token_id": {"type": ["integer", "null"]}, "role": {"type": "string"},
            "action": {"type": "string"}, "scheme_id": str_or_null,
            "before": str_or_null, "after": str_or_null,
            "detail": {"type": ["object", "null"]}}},
        "AuditPage": {"type": "object", "properties": {
            "entries": {"type": "array", "items": _ref("AuditEntry")},
            "next": str_or_null}},
        "Me": {"type": "object", "properties": {
            "name": {"type": "string"}, "role": {"type": "string"},
            "token_id": {"type": ["integer", "null"]}}},
        "Scheme": scheme_schema,
    }
    clash = set(mine) & set(defs)
    assert not clash, f"schema names clash: {clash}"
    return {"schemas": {**defs, **mine},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "a token from `xlbridge server "
                                                          "token create` or POST /api/tokens"}}}


def _paths() -> dict[str, Any]:
    doc = {"application/json": {"schema": _ref("Scheme")}}
    paths: dict[str, Any] = {
        "/api/me": _read("Who the token is", _ref("Me"), tag="access", op_id="me"),
        "/api/schemes": _read("List schemes (readers: published ones; editors: drafts too)",
                              _ref("SchemeList"), tag="schemes", op_id="listSchemes"),
        "/api/schemes/{scheme_id}": _read(
            "One scheme: summary, every version (who, when), the draft for editors",
            _ref("SchemeDetail"), tag="schemes", params=[SCHEME_ID], op_id="getScheme"),
        "/api/schemes/{scheme_id}/latest": {"get": {
            "summary": "The latest published version's document",
            "tags": ["schemes"], "operationId": "getLatest",
            "description": "Role: reader. The exact published bytes; `Content-Location` names "
                           "the version. Revalidate with If-None-Match.",
            "parameters": [SCHEME_ID, IF_NONE_MATCH],
            "responses": {"200": {"description": "the document", "content": doc,
                                  "headers": {**PUBLISHED_HEADERS,
                                              "Content-Location": {"schema": {
                                                  "type": "string"}}}},
                          "304": NOT_MODIFIED, **_problems(*READ_ERRORS)}}},
        "/api/schemes/{scheme_id}/versions": _read(
            "History of published versions, oldest first", _ref("VersionList"),
            tag="schemes", params=[SCHEME_ID], op_id="listVersions"),
        "/api/schemes/{scheme_id}/versions/{version}": {"get": {
            "summary": "A published version's document (immutable)",
            "tags": ["schemes"], "operationId": "getVersion", "description": "Role: reader.",
            "parameters": [SCHEME_ID, VERSION, IF_NONE_MATCH],
            "responses": {"200": {"description": "the document", "content": doc,
                                  "headers": PUBLISHED_HEADERS},
                          "304": NOT_MODIFIED, **_problems(*READ_ERRORS)}}},
        "/api/schemes/{scheme_id}/draft": {
            "get": {"summary": "The open draft's document", "tags": ["drafts"],
                    "operationId": "getDraft", "description": "Role: editor.",
                    "parameters": [SCHEME_ID, IF_NONE_MATCH],
                    "responses": {"200": _json(_ref("DraftDocument"), "the draft", ETAG),
                                  "304": NOT_MODIFIED, **_problems(*READ_ERRORS)}},
            "put": {"summary": "Create the draft, or replace it (If-Match required then)",
                    "tags": ["drafts"], "operationId": "putDraft",
                    "description": "Role: editor. One open draft per scheme. Without a draft, "
                                   "creates it (If-None-Match: * makes that explicit); with "
                                   "one, If-Match must carry its ETag (428 without, 412 when "
                                   "it changed). The response carries the validation report.",
                    "parameters": [SCHEME_ID, IF_MATCH_TO_REPLACE,
                                   {**IF_NONE_MATCH, "description": "`*`: only create "
                                                                    "(412 if a draft exists)"}],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": _ref("DraftDocument")}}},
                    "responses": {"200": _json(_ref("DraftSaved"), "replaced", ETAG),
                                  "201": _json(_ref("DraftSaved"), "created", ETAG),
                                  **_problems(*WRITE_ERRORS, "409", "412", "428")}},
            "delete": {"summary": "Discard the draft", "tags": ["drafts"],
                       "operationId": "deleteDraft",
                       "description": "Role: editor. If-Match with the draft's ETag.",
                       "parameters": [SCHEME_ID, IF_MATCH_REQUIRED],
                       "responses": {"204": {"description": "discarded"},
                                     **_problems(*WRITE_ERRORS, "412", "428")}},
        },
        "/api/schemes/{scheme_id}/draft/validate": {"post": {
            "summary": "Validate the draft as it would be published", "tags": ["drafts"],
            "operationId": "validateDraft", "description": "Role: editor.",
            "parameters": [SCHEME_ID],
            "responses": {"200": _json(_ref("ValidationReport"), "the core's issues"),
                          **_problems(*WRITE_ERRORS)}}},
        "/api/schemes/{scheme_id}/draft/publish": {"post": {
            "summary": "Publish the draft as the next version", "tags": ["drafts"],
            "operationId": "publishDraft",
            "description": "Role: admin. Refused with 422 when validation finds errors; "
                           "warnings are returned. If-Match (optional) pins the draft you "
                           "reviewed. The draft is closed; the version is immutable.",
            "parameters": [SCHEME_ID, IF_MATCH],
            "requestBody": {"required": False, "content": {"application/json": {
                "schema": _ref("Note")}}},
            "responses": {"201": _json(_ref("PublishResult"), "published",
                                       {"Location": {"schema": {"type": "string"}}}),
                          **_problems(*WRITE_ERRORS, "409", "412")}}},
        "/api/schemes/{scheme_id}/deprecate": {"post": {
            "summary": "Deprecate a scheme (its versions stay readable)",
            "tags": ["schemes"], "operationId": "deprecateScheme", "description": "Role: admin.",
            "parameters": [SCHEME_ID],
            "requestBody": {"required": False, "content": {"application/json": {
                "schema": _ref("Note")}}},
            "responses": {"200": _json(_ref("SchemeSummary"), "deprecated"),
                          **_problems(*WRITE_ERRORS, "409")}}},
        "/api/schemes/{scheme_id}/undeprecate": {"post": {
            "summary": "Lift a deprecation", "tags": ["schemes"],
            "operationId": "undeprecateScheme", "description": "Role: admin.",
            "parameters": [SCHEME_ID],
            "responses": {"200": _json(_ref("SchemeSummary"), "in use again"),
                          **_problems(*WRITE_ERRORS, "409")}}},
        "/api/validate": {"post": {
            "summary": "Validate any scheme document (nothing is stored)",
            "tags": ["schemes"], "operationId": "validateDocument",
            "description": "Role: reader. The core's validation: errors and warnings, each "
                           "with its path. Any JSON value is checked; one that is not an "
                           "object is reported as not a scheme (`ok: false`).",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"description": "a scheme document (see DraftDocument), or any "
                                          "JSON value to be told why it is not one"}}}},
            "responses": {"200": _json(_ref("ValidationReport"), "the report"),
                          **_problems(*WRITE_ERRORS)}}},
        "/api/tokens": {
            "get": {"summary": "List tokens (never the tokens themselves)", "tags": ["access"],
                    "operationId": "listTokens", "description": "Role: admin.",
                    "parameters": [IF_NONE_MATCH],
                    "responses": {"200": _json(_ref("TokenList"), "tokens", ETAG),
                                  "304": NOT_MODIFIED, **_problems(*READ_ERRORS)}},
            "post": {"summary": "Create a token; the response shows it once",
                     "tags": ["access"], "operationId": "createToken",
                     "description": "Role: admin.",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": _ref("TokenRequest")}}},
                     "responses": {"201": _json(_ref("NewToken"), "created"),
                                   **_problems(*WRITE_ERRORS)}},
        },
        "/api/tokens/{token_id}": {"delete": {
            "summary": "Revoke a token", "tags": ["access"], "operationId": "revokeToken",
            "description": "Role: admin. The last active admin token cannot be revoked "
                           "(409): create another admin token first.",
            "parameters": [{"name": "token_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": _json(_ref("Token"), "revoked"),
                          **_problems(*WRITE_ERRORS, "409")}}},
        "/api/audit": _read(
            "The audit log, newest first", _ref("AuditPage"), tag="access", role="admin",
            op_id="auditLog",
            params=[{"name": "scheme", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                    {"name": "before", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
                     "description": "entries older than this id (paging)"}]),
    }
    paths["/healthz"] = {"get": {"summary": "Liveness: the server and its database answer",
                                 "tags": ["access"], "operationId": "health", "security": [],
                                 "responses": {"200": _json({"type": "object"}, "ok")}}}
    return paths


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "xlbridge scheme server", "version": __version__,
                 "description": "Published performance-appraisal schemes (绩效考核方案) for "
                                "every office: list, download, revalidate with ETags; "
                                "drafts, validation, publishing and deprecation for editors "
                                "and admins. Errors are application/problem+json."},
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": _components(),
    }


@functools.lru_cache(maxsize=1)
def spec_bytes() -> bytes:
    return json.dumps(spec(), ensure_ascii=False, indent=1).encode("utf-8")


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return Response(spec_bytes(), mimetype="application/json")
