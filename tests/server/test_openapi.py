"""The OpenAPI document: it describes every route, and schemathesis, generating requests
from it against the app, finds no server error and no response that breaks it."""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from srvtest import publish, shipped_doc

from server.openapi import spec

EXAMPLES = 25
#: valid requests must get answers the document describes; invalid ones no server error
CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance,
                              content_type_conformance, response_headers_conformance,
                              response_schema_conformance],
    GenerationMode.NEGATIVE: [not_a_server_error],
}


def test_every_route_is_documented(app):
    documented = {(path, method.upper()) for path, ops in spec()["paths"].items()
                  for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented


def test_served_spec_is_openapi_31(client):
    body = client.get("/openapi.json").get_json()
    assert body["openapi"] == "3.1.0"
    assert "Scheme" in body["components"]["schemas"]
    assert body["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_no_server_errors(app, client, auth):
    """schemathesis: valid and invalid requests to every operation, as an admin (who may do
    everything), against a database with published schemes and an open draft."""
    publish(client, auth, shipped_doc())
    publish(client, auth, shipped_doc("meiling-street-quarterly"))
    client.put("/api/schemes/bailian-township/draft", json=shipped_doc(),
               headers=auth("editor"))
    headers = auth("admin")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            checks = CHECKS[mode]

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            def run(case) -> None:
                nonlocal calls
                calls += 1
                response = case.call(headers=headers)
                try:
                    case.validate_response(response, checks=checks)  # noqa: B023
                except BaseException as exc:
                    failures.append(f"{case.method} {case.formatted_path}: "
                                    f"{response.status_code} {exc}"[:600])

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE
    assert calls > 200
    assert not failures, "\n".join(sorted(set(failures))[:20])


def test_preconditions_are_marked_where_the_server_requires_them(client, auth):
    """DELETE …/draft answers 428 without If-Match: the document says it is required. PUT
    needs it only to replace an existing draft, which `required` cannot say; its
    description does."""
    doc = spec()["paths"]["/api/schemes/{scheme_id}/draft"]
    params = {op: {p["name"]: p for p in doc[op]["parameters"]} for op in ("put", "delete")}
    assert params["delete"]["If-Match"]["required"] is True
    assert params["put"]["If-Match"]["required"] is False
    assert "required when the scheme has a draft" in params["put"]["If-Match"]["description"]
    url = "/api/schemes/bailian-township/draft"
    assert client.put(url, json=shipped_doc(), headers=auth("editor")).status_code == 201
    assert client.delete(url, headers=auth("editor")).status_code == 428
    assert client.put(url, json=shipped_doc(), headers=auth("editor")).status_code == 428
    # and with the header the document asks for, the discard goes through
    etag = client.get(url, headers=auth("editor")).headers["ETag"]
    assert client.delete(url, headers=auth("editor", **{"If-Match": etag})).status_code == 204
