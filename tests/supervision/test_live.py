from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import select

from console.calls import services as call_svc
from console.core.events import call_answered, call_arrived, call_ended
from console.core.models import Agent, User
from console.node import Hotline
from console.supervision import schemas
from tests.helpers import assert_valid, login, wait_until


def _agent_id(hotline: Hotline, username: str) -> int:
    with hotline.sessions() as s:
        aid = s.scalar(select(Agent.id).join(User).where(User.username == username))
    assert aid is not None
    return int(aid)


def _received(client: Any, name: str) -> list[dict[str, Any]]:
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def test_an_agent_gets_403_on_the_page_and_the_api_and_cannot_join_the_room(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, socketio = web
    agent_http = login(app.test_client(), "agent1")
    for path in ("/supervision", "/api/v1/supervision/snapshot", "/api/v1/supervision/figures"):
        r = agent_http.get(path)
        assert r.status_code == 403, path
    assert agent_http.get("/api/v1/supervision/figures").get_json()["error"] == "forbidden"
    agent = socketio.test_client(app, flask_test_client=agent_http)
    ack = agent.emit(schemas.SNAPSHOT, {}, callback=True)
    assert ack["ok"] is False and ack["error"] == "forbidden"
    agent.get_received()
    # Nothing for supervisors reaches her: neither the raw call events nor the record facts.
    with hotline.sessions.begin() as s:
        call, _, _ = call_svc.open_inbound(s, "13800138000", "10086", "w-test")
        call_id = call.id
    hotline.bus.publish(
        call_arrived(call_id=call_id, queue_id=None, caller_number="x", worker_id="w", at=1.0)
    )
    time.sleep(0.5)
    names = {m["name"] for m in agent.get_received()}
    assert "call_arrived" not in names and schemas.CALLS not in names
    assert login(app.test_client(), "super1").get("/supervision").status_code == 200
    assert login(app.test_client(), "admin").get("/api/v1/supervision/snapshot").status_code == 200
    agent.disconnect()


def test_the_snapshot_comes_on_request_over_socketio_and_by_the_api(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, socketio = web
    a1 = _agent_id(hotline, "agent1")
    with hotline.sessions.begin() as s:
        call, _, _ = call_svc.open_inbound(s, "13800138000", "10086", "w-test")
        call_svc.mark_offered(s, call.id, a1)
        call_svc.mark_answered(s, call.id, a1)
        gone, _, _ = call_svc.open_inbound(s, "13912345678", "10086", "w-test")
        call_svc.mark_ended(s, gone.id, "abandoned")
        answered_id, gone_id = call.id, gone.id
    sup_http = login(app.test_client(), "super1")
    sup = socketio.test_client(app, flask_test_client=sup_http)
    ack = sup.emit(schemas.SNAPSHOT, {}, callback=True)
    assert ack["ok"] is True
    snap = ack["snapshot"]
    assert_valid("SupervisionSnapshot", snap)
    assert {q["name"] for q in snap["queues"]} == {"support", "sales"}
    assert {c["id"] for c in snap["calls"]} >= {answered_id, gone_id}  # the last hour
    answered = next(c for c in snap["calls"] if c["id"] == answered_id)
    assert answered["customer"] and answered["answered_at"] and answered["queue_id"]
    row = next(a for a in snap["agents"] if a["agent_id"] == a1)
    assert row["handled"] == 1 and row["name"]
    r = sup_http.get("/api/v1/supervision/snapshot")
    assert r.status_code == 200
    assert_valid("SupervisionSnapshot", r.get_json())
    r = sup_http.get("/api/v1/supervision/figures", query_string={"period": "hour"})
    assert r.status_code == 200
    page = r.get_json()
    assert_valid("SupervisionFiguresPage", page)
    assert page["total"]["offered"] == 2 and page["total"]["abandoned"] == 1
    assert page["total"]["abandon_rate"] == 0.5
    for bad in ({"period": "week"}, {"period": "hour", "day": "2026-03-10"}, {"day": "10 March"}):
        r = sup_http.get("/api/v1/supervision/figures", query_string=bad)
        assert r.status_code == 400, bad
        assert_valid("Error", r.get_json())
    r = sup_http.get("/api/v1/supervision/figures", query_string={"day": "2026-03-10"})
    assert r.status_code == 200 and r.get_json()["total"]["offered"] == 0
    sup.disconnect()


def test_changed_calls_reach_the_supervisor_page_with_their_record_facts(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, socketio = web
    a1 = _agent_id(hotline, "agent1")
    sup = socketio.test_client(app, flask_test_client=login(app.test_client(), "super1"))
    assert sup.emit(schemas.SNAPSHOT, {}, callback=True)["ok"]
    sup.get_received()
    with hotline.sessions.begin() as s:
        call, q, _ = call_svc.open_inbound(s, "13800138000", "10086", "w-test")
        call_id, queue_id = call.id, q.id if q else None
    hotline.bus.publish(
        call_arrived(call_id=call_id, queue_id=queue_id, caller_number="x", worker_id="w", at=1.0)
    )
    got: list[dict[str, Any]] = []

    def heard(pred: Any) -> None:
        def check() -> bool:
            got.extend(c for m in _received(sup, schemas.CALLS) for c in m["calls"])
            return any(pred(c) for c in got)

        wait_until(check, timeout=10)

    heard(lambda c: c["id"] == call_id and c["answered_at"] is None and c["customer"])
    # The answer is told before the ordered writer stores it: the facts follow the record.
    hotline.bus.publish(call_answered(call_id=call_id, agent_id=a1, answered_at=time.time()))

    def store_later() -> None:
        time.sleep(0.5)
        with hotline.sessions.begin() as s:
            call_svc.mark_offered(s, call_id, a1)
            call_svc.mark_answered(s, call_id, a1)

    writer = threading.Thread(target=store_later)
    writer.start()
    heard(lambda c: c["id"] == call_id and c["answered_at"] is not None)
    writer.join()
    with hotline.sessions.begin() as s:
        call_svc.mark_ended(s, call_id, "caller-hangup")
    hotline.bus.publish(call_ended(call_id=call_id, agent_id=a1, end_reason="caller-hangup"))
    heard(lambda c: c["id"] == call_id and c["talk_s"] is not None and c["ring_s"] is not None)
    sup.disconnect()
