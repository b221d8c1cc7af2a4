from __future__ import annotations

import time

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import select

from console.calls import services as call_svc
from console.core.models import Agent, AuditLog, Call, Disposition, User
from console.node import Hotline
from tests.helpers import assert_valid, login


def test_a_calls_detail_shows_its_timeline_and_the_transfer_chain(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    with hotline.sessions.begin() as s:
        a1 = s.scalar(select(Agent.id).join(User).where(User.username == "agent1"))
        a2 = s.scalar(select(Agent.id).join(User).where(User.username == "agent2"))
        code = s.scalar(select(Disposition.code).where(Disposition.active))
        assert a1 and a2 and code
        first = call_svc.open_inbound(s, "13800138000", "10086", "w-test")[0].id
    # one transaction per step, as the worker commits them
    steps = [
        lambda s: call_svc.mark_offered(s, first, a2),
        lambda s: call_svc.mark_offer_withdrawn(s, first, a2, "rona"),
        lambda s: call_svc.mark_offered(s, first, a1),
        lambda s: time.sleep(0.3),
        lambda s: call_svc.mark_answered(s, first, a1),
        lambda s: call_svc.continue_transferred(s, first, a1, "queue", "1", "w-test"),
        lambda s: call_svc.wrap_up(s, first, a1, code, ["vip"], "回访"),
    ]
    for step in steps:
        with hotline.sessions.begin() as s:
            step(s)
    with hotline.sessions() as s:
        second = s.scalar(select(Call.id).where(Call.parent_id == first))
        assert second is not None
    sup = login(app.test_client(), "super1")
    assert sup.get(f"/calls/{first}").status_code == 200
    r = sup.get(f"/api/v1/calls/{first}/timeline")
    assert r.status_code == 200
    d = r.get_json()
    assert_valid("CallTimeline", d)
    kinds = [e["kind"] for e in d["events"]]
    assert kinds[:4] == ["arrived", "offered", "offer_withdrawn", "offered"]
    assert {"answered", "ended", "transferred", "wrapped"} <= set(kinds)
    offers = [e for e in d["events"] if e["kind"] == "offered"]
    assert 0.3 <= offers[1]["rang_s"] < 5 and offers[1]["agent"]
    assert d["customer"]["name"] and d["disposition_label"]
    assert [c["id"] for c in d["chain"]] == [first, second]
    assert sup.get(f"/api/v1/calls/{second}/timeline").get_json()["chain"][0]["id"] == first
    with hotline.sessions() as s:
        audited = s.scalars(select(AuditLog).where(AuditLog.object_type == "customer")).all()
    assert any(a.detail.get("call") == first for a in audited)

    agent = login(app.test_client(), "agent1")
    assert agent.get(f"/api/v1/calls/{first}/timeline").status_code == 403
    assert agent.get(f"/calls/{first}").status_code == 403
    r = sup.get("/api/v1/calls/nope/timeline")
    assert r.status_code == 404 and r.get_json()["error"] == "call-not-found"
