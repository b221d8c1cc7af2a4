"""The OpenAPI document matches the app's routes, and real responses match its schemas."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIO
from jsonschema import Draft202012Validator
from sqlalchemy import select

from console.calls import schemas as call_schemas
from console.calls import services as call_svc
from console.core.models import Agent, Disposition, User
from console.node import Hotline, build, web_app
from tests.helpers import SPEC, assert_valid, csrf, login, make_settings

HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH"}


def _openapi_path(rule: str) -> str:
    """Flask's `<call_id>` / `<int:customer_id>` → OpenAPI's `{call_id}` / `{customer_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _documented() -> dict[str, set[str]]:
    return {
        path: {m.upper() for m in item if m.upper() in HTTP_METHODS}
        for path, item in SPEC["paths"].items()
    }


@pytest.fixture
def app_only(tmp_path: Path, sqlite_url: str) -> Any:
    """An app on an empty SQLite database: enough to read its URL map."""
    hl = build(make_settings(tmp_path, sqlite_url))
    app, _ = web_app(hl)
    yield app
    hl.close()


def test_the_document_is_openapi_3_1_with_valid_schemas() -> None:
    assert SPEC["openapi"].startswith("3.1.")
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for path, item in SPEC["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, op in item.items():
            if method.upper() not in HTTP_METHODS:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            resolved = [
                SPEC["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                for p in params
            ]
            declared = {p["name"] for p in resolved if p["in"] == "path"}
            assert declared == names, (path, method)
            assert op.get("operationId") and op.get("responses"), (path, method)
            if method in ("post", "put"):
                assert {"cookieSession": [], "csrfToken": []} in op["security"], (path, method)
    socket = SPEC["x-socketio"]
    assert {
        "snapshot",
        "agent_state_changed",
        "call_offered",
        "call_offer_withdrawn",
        "call_answered",
        "call_ended",
        "call_wrapped",
    } <= set(socket["serverToClient"])


def test_every_api_route_is_documented_with_its_methods_and_nothing_else(app_only: Flask) -> None:
    routes: dict[str, set[str]] = {}
    for rule in app_only.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            routes.setdefault(_openapi_path(rule.rule), set()).update(
                m for m in rule.methods or () if m in HTTP_METHODS
            )
    assert routes == _documented()


def test_every_socket_event_is_documented(tmp_path: Path, sqlite_url: str) -> None:
    hl = build(make_settings(tmp_path, sqlite_url))
    try:
        _, socketio = web_app(hl)
        handled = set(socketio.server.handlers["/"]) - {"connect", "disconnect"}
    finally:
        hl.close()
    socket = SPEC["x-socketio"]
    assert set(socket["clientToServer"]) == handled
    for event in socket["clientToServer"].values():
        Draft202012Validator.check_schema(event["payload"])
        Draft202012Validator.check_schema(event["ack"])
    from console.core.events import EVENT_TYPES
    from console.core.notifier import rooms_for

    # Every event the notifier sends to browsers is described.
    to_browsers = {
        name
        for name, cls in EVENT_TYPES.items()
        if rooms_for(cls(**{f.name: _sample(f.type) for f in dataclasses.fields(cls)}))
    }
    assert {"call_party", "call_offered", "agent_state_changed"} <= to_browsers
    assert to_browsers <= set(socket["serverToClient"])


def _sample(annotation: object) -> object:
    """A value of the annotated type, enough to build an event."""
    text = str(annotation)
    if text.startswith("int"):
        return 1
    if text.startswith("float"):
        return 1.0
    if text.startswith("bool"):
        return False
    if text.startswith("dict"):
        return {}
    if text.startswith("list"):
        return []
    return "x"


def test_the_document_is_served_without_login(app_only: Flask) -> None:
    r = app_only.test_client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    assert r.get_json() == SPEC


def _make_calls(hotline: Hotline) -> tuple[str, str]:
    """One answered and wrapped-up call with tags, one abandoned, one still queued."""
    with hotline.sessions.begin() as s:
        agent_id = s.scalar(select(Agent.id).join(User).where(User.username == "agent1"))
        disposition = s.scalar(select(Disposition.code).where(Disposition.active))
        assert agent_id is not None and disposition
        done, _, _ = call_svc.open_inbound(s, "13800138000", "sip:10086@127.0.0.1", "worker-1")
        call_svc.mark_offered(s, done.id, agent_id)
        call_svc.mark_answered(s, done.id, agent_id)
        call_svc.mark_ended(s, done.id, "caller-hangup")
        call_svc.wrap_up(s, done.id, agent_id, disposition, ["vip", "投诉"], "回访客户")
        gone, _, _ = call_svc.open_inbound(s, "+86 139 0000 0000", "10086", "worker-1")
        call_svc.mark_ended(s, gone.id, "abandoned")
        call_svc.open_inbound(s, "anonymous", "10086", "worker-2")
        return done.id, gone.id


def test_real_responses_match_the_documented_schemas(
    web: tuple[Flask, SocketIO],
    hotline: Hotline,
) -> None:
    app, _ = web
    done, gone = _make_calls(hotline)

    sup = login(app.test_client(), "super1")
    r = sup.get("/api/v1/calls")
    assert r.status_code == 200
    page = r.get_json()
    assert page["total"] == 3 and len(page["items"]) == 3
    assert_valid("CallPage", page)
    wrapped = next(c for c in page["items"] if c["id"] == done)
    assert wrapped["tags"] and wrapped["disposition"] and wrapped["agent"] and wrapped["queue"]

    r = sup.get("/api/v1/calls", query_string={"limit": 1, "offset": 1, "tag": "vip"})
    assert r.status_code == 200
    assert_valid("CallPage", r.get_json())

    r = sup.get(f"/api/v1/calls/{gone}")
    assert r.status_code == 200
    assert_valid("Call", r.get_json())

    r = sup.get("/api/v1/calls.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.get_data(as_text=True).splitlines()[0] == ",".join(call_schemas.CSV_COLUMNS)

    for bad in ({"limit": 0}, {"limit": 1001}, {"since": "yesterday"}):
        r = sup.get("/api/v1/calls", query_string=bad)
        assert r.status_code == 400
        assert_valid("Error", r.get_json())

    agent = login(app.test_client(), "agent1")
    r = agent.get("/api/v1/me")
    assert r.status_code == 200
    assert_valid("Me", r.get_json())
    r = agent.get("/api/v1/agent/calls")
    assert r.status_code == 200
    assert_valid("CallPage", r.get_json())
    r = agent.get("/api/v1/calls")
    assert r.status_code == 403
    assert_valid("Error", r.get_json())

    token = csrf(agent, "/agent")
    r = agent.post(
        "/api/v1/customers",
        json={
            "name": "李娜",
            "grade": "b",
            "phones": "13900000000;13700000000",
            "fields": {"company": "X"},
        },
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    assert_valid("Customer", r.get_json())
    r = agent.get(f"/api/v1/customers/{r.get_json()['id']}")
    assert r.status_code == 200
    assert_valid("Customer", r.get_json())
    r = agent.post("/api/v1/customers", json={"name": ""}, headers={"X-CSRFToken": token})
    assert r.status_code == 400
    assert_valid("Error", r.get_json())

    r = app.test_client().get("/api/v1/calls")
    assert r.status_code == 401
    assert_valid("Error", r.get_json())


def test_every_operation_documents_the_refusals_of_the_validation_layer() -> None:
    # console/web/validation.py answers these before any view runs (see test_validation.py).
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method.upper() not in HTTP_METHODS:
                continue
            codes = set(op["responses"])
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            if params or "requestBody" in op or method in ("post", "put"):
                assert "400" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put"):
                assert {"413"} <= codes, (method, path)
            if "requestBody" in op:
                assert {"413", "415"} <= codes, (method, path)
