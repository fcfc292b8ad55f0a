"""The OpenAPI document: valid 3.1, complete, served, and obeyed by the live app (schemathesis)."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)
from tornado.ioloop import IOLoop

from handlers.base import ID
from handlers.openapi import DOCUMENT
from tests.conftest import Api

# An explicit config (no schemathesis.toml is read); the token is always sent, never fuzzed.
SCHEMA = schemathesis.openapi.from_dict(
    DOCUMENT, config=SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}}))
OPERATIONS = {f"{method.upper()} {path}": SCHEMA[path][method]
              for path, item in DOCUMENT["paths"].items() for method in item}
# Not negative_data_rejection: text limits apply after stripping, which JSON Schema cannot say,
# so " " * 300 + "x" breaks maxLength yet is rightly accepted.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 40  # generated requests per operation; derandomized, so every run sends the same ones
SAMPLE_ID = "x_1"


def sent_paths(pattern: str) -> list[str]:
    """Concrete paths a route pattern matches: each id a sample, each alternation expanded."""
    pattern = pattern.removesuffix("$").removesuffix("/?").replace(f"({ID})", SAMPLE_ID).replace("\\.", ".")
    parts = re.split(r"\(([^()]*)\)", pattern)  # literal, alternatives, literal, ...
    choices = [part.split("|") if i % 2 else [part] for i, part in enumerate(parts)]
    return ["".join(combo) for combo in itertools.product(*choices)]


def documented(path: str) -> str | None:
    """The documented path template that `path` is an instance of, if any."""
    templates: list[str] = list(DOCUMENT["paths"])
    for template in templates:
        if re.fullmatch(re.sub(r"\\\{[a-z_]+\\\}", ID, re.escape(template)), path):
            return template
    return None


def schemas_in(node: Any) -> list[dict[str, Any]]:
    """Every JSON Schema in the document: component schemas and each `schema` of a
    parameter, header or media type."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and isinstance(value, dict):
                found.append(value)
            elif key == "schemas" and isinstance(value, dict):
                found.extend(value.values())
            else:
                found.extend(schemas_in(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(schemas_in(item))
    return found


def test_document_is_valid_openapi_3_1() -> None:
    """The document passes the OpenAPI 3.1 meta-schema and each schema in it is valid 2020-12."""
    assert DOCUMENT["openapi"].startswith("3.1.")
    SCHEMA.validate()
    schemas = schemas_in(DOCUMENT)
    assert len(schemas) > 100
    for schema in schemas:
        jsonschema_rs.meta.validate({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema})


def test_every_api_route_is_documented(app: Any) -> None:
    """Each /api route of make_app (each alternative included) is a documented path, and back."""
    patterns = [rule.matcher.regex.pattern for rule in app.wildcard_router.rules]
    api_patterns = [p for p in patterns if p.startswith("/api")]
    assert len(api_patterns) >= 12
    for pattern in api_patterns:
        for path in sent_paths(pattern):
            assert re.fullmatch(pattern, path), (pattern, path)
            assert documented(path), f"{path} (route {pattern}) is not in the document"
    for template in DOCUMENT["paths"]:
        path = re.sub(r"\{[a-z_]+\}", SAMPLE_ID, template)
        assert any(re.fullmatch(p, path) for p in patterns), f"{template} matches no route"


@pytest.mark.gen_test
async def test_document_is_served_without_a_token(api: Api) -> None:
    """GET /api/openapi.json needs no token and answers the document itself; only it, health,
    joining and registering with a code are documented as needing none."""
    status, body = await api.get("/api/openapi.json", as_=None)
    assert status == 200 and body == json.loads(json.dumps(DOCUMENT))
    assert api.last_headers["Content-Type"] == "application/json; charset=utf-8"
    security = {path: op.get("security") for path, item in DOCUMENT["paths"].items() for op in item.values()}
    public = {path for path, rule in security.items() if rule == []}
    assert public == {"/api/openapi.json", "/healthz", "/api/tournaments/{tournament_id}/join",
                      "/api/tournaments/{tournament_id}/register"}
    assert DOCUMENT["security"] == [{"bearerAuth": []}]


@pytest.mark.gen_test
async def test_methods_a_path_does_not_list_get_405(api: Api) -> None:
    """Every method a documented path does not list answers 405 method_not_allowed, as the document says."""
    for template, item in DOCUMENT["paths"].items():
        path = re.sub(r"\{[a-z_]+\}", SAMPLE_ID, template)
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - {m.upper() for m in item}:
            status, body = await api.request(method, path, raw=None if method == "GET" else b"")
            assert (status, body["error"]["code"]) == (405, "method_not_allowed"), (method, path, body)


async def seed(api: Api) -> dict[str, list[str]]:
    """Real records for path parameters: a draft tournament with a live match, a disputed one,
    its dispute and a station; a live round robin with one match decided, one called to its
    stream station, and a webhook."""
    tid, live = await api.match_between("alice", "bob")
    await api.ok("POST", f"/api/matches/{live['id']}/start")
    disputed = await api.ok("POST", f"/api/tournaments/{tid}/matches", {"participant_ids": ["bob", "alice"]}, 201)
    mid = disputed["id"]
    await api.ok("POST", f"/api/matches/{mid}/start")
    await api.ok("POST", f"/api/matches/{mid}/result", {"scores": {"alice": 2, "bob": 1}}, as_=api.token("alice"))
    raised = await api.ok("POST", f"/api/matches/{mid}/disputes", {"reason": "lag"}, 201, as_=api.token("bob"))
    league = await api.ok("POST", "/api/tournaments", {"name": "League", "format": "round_robin"}, 201)
    for name in ("carol", "dave", "erin"):
        await api.ok("POST", f"/api/tournaments/{league['id']}/participants", {"name": name, "id": name}, 201)
    await api.ok("POST", f"/api/tournaments/{league['id']}/start")
    first = (await api.ok("GET", f"/api/tournaments/{league['id']}/matches"))["matches"][0]
    a, b = first["participant_ids"]
    await api.ok("POST", f"/api/matches/{first['id']}/start")
    await api.ok("POST", f"/api/matches/{first['id']}/result", {"scores": {a: 2, b: 1}})
    desk = await api.ok("POST", f"/api/tournaments/{tid}/stations", {"name": "Desk 1"}, 201)
    stream = await api.ok("POST", f"/api/tournaments/{league['id']}/stations", {"name": "Stream", "stream": True}, 201)
    waiting = (await api.ok("GET", f"/api/tournaments/{league['id']}/matches"))["matches"][1]
    await api.ok("POST", f"/api/matches/{waiting['id']}/call", {"station_id": stream["id"]})
    hook = await api.ok("POST", f"/api/tournaments/{league['id']}/webhooks", {"url": "http://127.0.0.1:9/hook"}, 201)
    return {"tournament_id": [tid, league["id"]], "match_id": [live["id"], mid, first["id"], waiting["id"]],
            "dispute_id": [raised["dispute"]["id"]], "station_id": [desk["id"], stream["id"]],
            "participant_id": ["alice", "carol"], "webhook_id": [hook["id"]]}


def cases(label: str, known: dict[str, list[str]]) -> st.SearchStrategy[Case[Any]]:
    """Valid and invalid requests to one operation, at generated ids and at the seeded ones."""
    operation = OPERATIONS[label]
    names = [p.name for p in operation.path_parameters]
    fixed = [dict(zip(names, combo)) for combo in itertools.product(*(known[n] for n in names))] if names else []
    strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    for path_parameters in fixed:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_parameters))
        if operation.body or operation.query or operation.headers:
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_parameters))
    return st.one_of(strategies)


def fuzz(label: str, base_url: str, token: str, known: dict[str, list[str]]) -> None:
    """Send generated requests to one operation (blocking: run off the IOLoop's thread)."""
    session = requests.Session()
    auth = {"Authorization": f"Bearer {token}"}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=cases(label, known))
    def each(case: Case[Any]) -> None:
        case.call_and_validate(base_url=base_url, session=session, headers=auth, checks=CHECKS)

    try:
        each()
    finally:
        session.close()


@pytest.mark.parametrize("label", list(OPERATIONS))
@pytest.mark.gen_test(timeout=30)
async def test_live_app_obeys_the_document(api: Api, label: str) -> None:
    """Generated requests to each operation get no 5xx and only documented statuses, headers and bodies."""
    known = await seed(api)
    await IOLoop.current().run_in_executor(None, fuzz, label, api.base_url, api.organizer, known)
