"""Every API request is checked against the served OpenAPI document before its view runs
(issue 17)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIO
from sqlalchemy import func, select

from console.core.models import Customer, WorkforceSettings
from console.node import Hotline
from console.web.api_docs import spec
from roster.erlang import MAX_AHT_S, MAX_CALLS_PER_INTERVAL
from tests.helpers import csrf, login

HUGE = 10**22  # beyond SQLite's and PostgreSQL's integers


def _signed_in(app: Flask, username: str, page: str) -> tuple[FlaskClient, dict[str, str]]:
    client = login(app.test_client(), username)
    return client, {"X-CSRFToken": csrf(client, page), "Accept-Language": "en"}


def _customers(hotline: Hotline) -> int:
    with hotline.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Customer)) or 0)


def test_ids_beyond_the_database_range_are_a_400_not_a_500(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web
    sup, headers = _signed_in(app, "super1", "/calls")
    calls: list[tuple[str, str, Any]] = [
        ("GET", f"/api/v1/queues/{HUGE}/forecast", None),
        ("POST", f"/api/v1/queues/{HUGE}/forecast/generate", {"start": "2025-01-06"}),
        ("PUT", f"/api/v1/queues/{HUGE}/staffing-settings", {"target_sl": 0.8}),
        ("POST", f"/api/v1/rosters/{HUGE}/publish", None),
        ("POST", f"/api/v1/swap-requests/{HUGE}/decision", {"approve": True}),
        ("POST", "/api/v1/misses", {"agent_id": HUGE, "call_id": "c-1"}),
        ("PUT", f"/api/v1/rosters/{HUGE}/shifts", {"agent_id": 1, "day": "2025-01-06"}),
        ("PUT", "/api/v1/rosters/1/shifts", {"agent_id": HUGE, "day": "2025-01-06"}),
        ("GET", f"/api/v1/customers/{HUGE}", None),
        ("GET", "/api/v1/calls", {"offset": str(HUGE)}),
    ]
    for method, path, body in calls:
        if method == "GET":
            r = sup.get(path, query_string=body, headers=headers)
        else:
            r = sup.open(path, method=method, json=body, headers=headers)
        assert r.status_code == 400, (method, path, r.status_code, r.get_data(as_text=True)[:200])
        err = r.get_json()
        assert (
            err["error"] == "invalid-input" and "2147483647" in err["message"]
        ) or "1000000000" in err["message"], err


def test_phones_as_a_number_is_refused_and_nothing_is_stored(
    web: tuple[Flask, SocketIO],
    hotline: Hotline,
) -> None:
    app, _ = web
    agent, headers = _signed_in(app, "agent2", "/agent")  # reads English
    before = _customers(hotline)
    r = agent.post("/api/v1/customers", json={"name": "李娜", "phones": 1.5}, headers=headers)
    assert r.status_code == 400
    assert r.get_json() == {
        "error": "invalid-input",
        "message": "Invalid input: phones has the wrong type",
    }
    assert _customers(hotline) == before


def test_infinite_and_absurd_settings_never_reach_the_coverage(
    web: tuple[Flask, SocketIO],
    hotline: Hotline,
) -> None:
    app, _ = web
    planner, headers = _signed_in(app, "planner", "/schedule/forecast")
    headers |= {"Content-Type": "application/json"}
    with hotline.sessions() as s:
        stored = s.get(WorkforceSettings, 1)
        before = stored.holiday_reinforcement if stored else None
    for raw in (
        '{"holiday_reinforcement": 1e999}',
        '{"holiday_reinforcement": Infinity}',
        '{"holiday_reinforcement": NaN}',
    ):
        r = planner.put("/api/v1/workforce-settings", data=raw, headers=headers)
        assert r.status_code == 400 and r.get_json()["error"] == "invalid-json", raw
    r = planner.put(
        "/api/v1/workforce-settings", json={"holiday_reinforcement": 1e308}, headers=headers
    )
    assert (
        r.status_code == 400
        and r.get_json()["message"] == "输入无效:holiday_reinforcement 不能大于 10"
    )
    with hotline.sessions() as s:
        stored = s.get(WorkforceSettings, 1)
        assert (stored.holiday_reinforcement if stored else None) == before


def test_json_nested_100000_deep_is_a_400(web: tuple[Flask, SocketIO], hotline: Hotline) -> None:
    app, _ = web
    agent, headers = _signed_in(app, "agent1", "/agent")
    before = _customers(hotline)
    deep = "[" * 100_000 + "]" * 100_000
    for raw in (deep, '{"name": ' + deep + "}"):
        r = agent.post(
            "/api/v1/customers", data=raw, headers=headers | {"Content-Type": "application/json"}
        )
        assert r.status_code == 400 and r.get_json()["error"] == "invalid-json"
    assert _customers(hotline) == before


def test_an_absurd_forecast_value_is_refused_so_the_page_keeps_working(
    web: tuple[Flask, SocketIO],
) -> None:
    app, _ = web
    planner, headers = _signed_in(app, "planner", "/schedule/forecast")
    for calls in (1e16, 1e308, MAX_CALLS_PER_INTERVAL + 1):
        r = planner.put(
            "/api/v1/queues/2/forecast/2025-01-06T01:00:00Z",
            json={"calls": calls, "aht_s": 300},
            headers=headers,
        )
        assert r.status_code == 400 and r.get_json()["message"] == "输入无效:calls 不能大于 5000", (
            calls
        )
    r = planner.put(
        "/api/v1/queues/2/forecast/2025-01-06T01:00:00Z",
        json={"calls": 10, "aht_s": MAX_AHT_S + 1},
        headers=headers,
    )
    assert r.status_code == 400
    csv = "start,calls,aht_s\n2025-01-06T09:00:00+08:00,1e16,300\n"
    r = planner.post(
        "/api/v1/queues/2/forecast/import", data=csv, headers=headers | {"Content-Type": "text/csv"}
    )
    assert r.status_code == 400 and r.get_json()["error"] == "forecast-csv-invalid"
    assert planner.get("/api/v1/queues/2/forecast", headers=headers).status_code == 200


def test_ten_megabyte_customer_fields_are_refused(
    web: tuple[Flask, SocketIO],
    hotline: Hotline,
) -> None:
    app, _ = web
    agent, headers = _signed_in(app, "agent2", "/agent")  # reads English
    before = _customers(hotline)
    ten_mb = "x" * (10 * 1024 * 1024)
    for body in (
        {"name": ten_mb},
        {"name": "A", "notes": ten_mb},
        {"name": "A", "fields": {"company": ten_mb}},
    ):
        r = agent.post("/api/v1/customers", json=body, headers=headers)
        assert r.status_code == 413 and r.get_json()["error"] == "too-large"
    for body, field in (
        ({"name": "x" * 129}, "name"),
        ({"name": "A", "notes": "x" * 10_001}, "notes"),
        ({"name": "A", "fields": {"company": "x" * 1001}}, "fields.company"),
        ({"name": "A", "fields": {f"f{i}": "v" for i in range(51)}}, "fields"),
    ):
        r = agent.post("/api/v1/customers", json=body, headers=headers)
        assert r.status_code == 400, field
        assert r.get_json()["message"].startswith(f"Invalid input: {field} "), r.get_json()
    assert _customers(hotline) == before


def test_wrap_up_notes_over_10000_characters_are_refused_not_cut(
    web: tuple[Flask, SocketIO],
) -> None:
    app, _ = web
    agent, headers = _signed_in(app, "agent2", "/agent")  # reads English
    r = agent.post(
        "/api/v1/calls/c-1/wrap-up",
        json={"disposition": "resolved", "notes": "x" * 10_001},
        headers=headers,
    )
    assert r.status_code == 400
    assert r.get_json() == {
        "error": "invalid-input",
        "message": "Invalid input: notes is longer than 10000 characters",
    }
    r = agent.post(
        "/api/v1/calls/c-1/wrap-up",
        json={"disposition": "resolved", "notes": "x" * 10_000},
        headers=headers,
    )
    assert r.status_code == 404  # past the check: the call does not exist


def test_wrong_content_type_unknown_api_path_and_method_answer_json(
    web: tuple[Flask, SocketIO],
) -> None:
    app, _ = web
    agent, headers = _signed_in(app, "agent2", "/agent")  # reads English
    r = agent.post(
        "/api/v1/customers", data="name=A", headers=headers | {"Content-Type": "text/plain"}
    )
    assert r.status_code == 415 and r.get_json()["error"] == "unsupported-media-type"
    r = agent.get("/api/v1/nothing-here", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"] == "not-found"
    r = agent.delete("/api/v1/me", headers=headers)
    assert r.status_code == 405 and r.get_json()["error"] == "method-not-allowed"


def test_errors_speak_the_users_language(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web
    agent, headers = _signed_in(app, "agent1", "/agent")  # agent1 reads Chinese
    r = agent.post("/api/v1/customers", json={"name": "x" * 129}, headers=headers)
    assert r.get_json() == {"error": "invalid-input", "message": "输入无效:name 超过 128 个字符"}


def _unbounded(node: Any, where: str, out: list[str], doc: dict[str, Any]) -> None:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    for key in ("oneOf", "anyOf", "allOf"):
        for i, sub in enumerate(node.get(key, [])):
            _unbounded(sub, f"{where}/{key}{i}", out, doc)
    kinds = node.get("type")
    types = set(kinds) if isinstance(kinds, list) else {kinds} if kinds else set()
    if "enum" in node or "const" in node:
        return
    if "string" in types and "maxLength" not in node:
        out.append(f"{where}: string without maxLength")
    if types & {"integer", "number"} and "maximum" not in node and "exclusiveMaximum" not in node:
        out.append(f"{where}: number without maximum")
    if "array" in types:
        if "maxItems" not in node:
            out.append(f"{where}: array without maxItems")
        _unbounded(node.get("items", {}), f"{where}[]", out, doc)
    for name, sub in node.get("properties", {}).items():
        _unbounded(sub, f"{where}.{name}", out, doc)
    if isinstance(node.get("additionalProperties"), dict):
        _unbounded(node["additionalProperties"], f"{where}.*", out, doc)


def test_every_documented_input_has_a_stated_bound() -> None:
    # Open objects are bounded by the request body limit; every value inside has its own bound.
    doc = spec()
    out: list[str] = []
    for path, item in doc["paths"].items():
        for verb, op in item.items():
            if verb not in ("get", "put", "post", "delete", "patch"):
                continue
            for p in [*item.get("parameters", []), *op.get("parameters", [])]:
                if "$ref" in p:
                    p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                _unbounded(p["schema"], f"{verb} {path} {p['name']}", out, doc)
            body = op.get("requestBody", {})
            for media, content in body.get("content", {}).items():
                _unbounded(content["schema"], f"{verb} {path} body {media}", out, doc)
    assert out == []


def test_the_forecast_bounds_are_the_staffing_engines() -> None:
    body = spec()["paths"]["/api/v1/queues/{queue_id}/forecast/{start}"]["put"]["requestBody"]
    props = body["content"]["application/json"]["schema"]["properties"]
    assert (props["calls"]["maximum"], props["aht_s"]["maximum"]) == (
        MAX_CALLS_PER_INTERVAL,
        MAX_AHT_S,
    )
    assert json.dumps(spec())  # still plain JSON


def test_the_customer_limits_are_the_customer_services() -> None:
    from console.customers import services as customers

    props = spec()["components"]["schemas"]["CustomerInput"]["properties"]
    phones = props["phones"]["oneOf"][0]
    fields = props["fields"]
    assert props["name"]["maxLength"] == customers.NAME_MAX
    assert props["notes"]["maxLength"] == customers.NOTES_MAX
    assert (phones["maxItems"], phones["items"]["maxLength"]) == (
        customers.PHONES_MAX,
        customers.PHONE_INPUT_MAX,
    )
    assert fields["maxProperties"] == customers.FIELDS_MAX
    assert fields["propertyNames"]["maxLength"] == customers.FIELD_NAME_MAX
    assert fields["additionalProperties"]["maxLength"] == customers.FIELD_VALUE_MAX
