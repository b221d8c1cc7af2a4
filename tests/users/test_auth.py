from __future__ import annotations

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import select

from console.core.models import AuditLog, Customer
from console.node import Hotline
from tests.helpers import csrf, login, wait_until


def test_pages_and_api_need_login(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web
    c = app.test_client()
    for path in ("/", "/agent", "/calls"):
        r = c.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    for path in ("/api/v1/me", "/api/v1/calls", "/api/v1/agent/calls", "/api/v1/calls.csv"):
        r = c.get(path)
        assert r.status_code == 401
        assert r.get_json()["error"] == "login-required"


def test_wrong_password_is_refused_in_the_users_language(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web
    c = app.test_client()
    token = csrf(c)
    r = c.post(
        "/login",
        data={"username": "agent1", "password": "nope", "csrf_token": token},
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 401
    assert "用户名或密码错误" in r.get_data(as_text=True)


def test_login_without_csrf_token_is_rejected(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web
    c = app.test_client()
    c.get("/login")
    r = c.post("/login", data={"username": "agent1", "password": "agent1"})
    assert r.status_code == 400
    assert r.get_json()["error"] == "csrf"


def test_logout_kills_a_copied_cookie(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web
    c = login(app.test_client(), "agent1")
    assert c.get("/api/v1/me").status_code == 200
    cookie = c.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/api/v1/me").status_code == 200
    token = csrf(c, "/agent")
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/api/v1/me").status_code == 401
    assert c.get("/api/v1/me").status_code == 401


def test_agent_cannot_read_the_call_log_api(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web
    c = login(app.test_client(), "agent1")
    assert c.get("/api/v1/calls").status_code == 403
    assert c.get("/api/v1/calls.csv").status_code == 403
    assert c.get("/calls").status_code == 403
    sup = login(app.test_client(), "super1")
    r = sup.get("/api/v1/calls")
    assert r.status_code == 200 and r.get_json()["total"] == 0
    assert sup.get("/agent").status_code == 403


def test_socket_refuses_anonymous_and_serves_snapshot_to_agent(web: tuple[Flask, SocketIO]) -> None:
    app, socketio = web
    anon = socketio.test_client(app, flask_test_client=app.test_client())
    assert not anon.is_connected()
    c = login(app.test_client(), "agent1")
    sio = socketio.test_client(app, flask_test_client=c)
    assert sio.is_connected()
    received = sio.get_received()
    snap = next(m for m in received if m["name"] == "snapshot")["args"][0]
    assert snap["agent"]["state"] == "offline"
    ack = sio.emit("set_state", {"state": "available"}, callback=True)
    assert ack["ok"] is True and ack["agent"]["state"] == "available"
    bad = sio.emit("set_state", {"state": "not_ready", "reason": "nap"}, callback=True)
    assert bad == {"ok": False, "error": "invalid-reason", "message": "未知的未就绪原因。"}
    not_mine = sio.emit("answer", {"call_id": "nope"}, callback=True)
    assert not_mine["ok"] is False and not_mine["error"] == "call-not-offered"
    sio.disconnect()


def test_socket_events_stop_after_logout(web: tuple[Flask, SocketIO]) -> None:
    app, socketio = web
    c = login(app.test_client(), "agent2")
    sio = socketio.test_client(app, flask_test_client=c)
    assert sio.emit("set_state", {"state": "available"}, callback=True)["ok"]
    c.post("/logout", data={"csrf_token": csrf(login(app.test_client(), "agent1"), "/agent")})
    # A logout from another client does not end this one; this one's own logout does.
    assert sio.emit("set_state", {"state": "offline"}, callback=True)["ok"]
    token = csrf(c, "/agent")
    c.post("/logout", data={"csrf_token": token})
    result = sio.emit("set_state", {"state": "available"}, callback=True)
    assert result is None or result.get("ok") is False


def test_logout_takes_an_available_agent_offline(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, socketio = web
    c = login(app.test_client(), "agent1")
    sio = socketio.test_client(app, flask_test_client=c)
    assert sio.emit("set_state", {"state": "available"}, callback=True)["ok"]
    agent_id = sio.emit("snapshot", callback=True)["agent"]["agent_id"]
    c.post("/logout", data={"csrf_token": csrf(c, "/agent")})
    assert hotline.live.get_agent(agent_id).state == "offline"


def test_customer_edit_is_validated_and_audited(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    c = login(app.test_client(), "agent1")
    token = csrf(c, "/agent")
    with hotline.sessions() as s:
        cid = s.scalar(select(Customer.id).where(Customer.name == "张伟"))
    r = c.put(f"/api/v1/customers/{cid}", json={"grade": "E"}, headers={"X-CSRFToken": token})
    assert r.status_code == 400 and r.get_json()["error"] == "invalid-grade"
    assert "A、B、C 或 D" in r.get_json()["message"]
    r = c.put(
        f"/api/v1/customers/{cid}",
        json={"grade": "B", "notes": "moved"},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 200 and r.get_json()["grade"] == "B"
    r = c.post(
        "/api/v1/customers",
        json={"name": "New Caller", "phones": ["0755-8888 9999"], "grade": "C"},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 201 and r.get_json()["phones"] == ["+8675588889999"]
    with hotline.sessions() as s:
        actions = [
            (a.action, a.detail.get("fields"))
            for a in s.scalars(select(AuditLog).where(AuditLog.user_id.is_not(None)))
        ]
    assert ("update", ["grade", "notes"]) in actions
    assert any(a == "create" for a, _ in actions)


def test_agent_whose_console_disconnects_goes_offline_after_the_grace_time(
    tmp_path, sqlite_url
) -> None:  # type: ignore[no-untyped-def]
    import time

    from console.node import web_app
    from tests.helpers import make_settings, seeded_hotline

    hl = seeded_hotline(make_settings(tmp_path, sqlite_url, agent_disconnect_grace_s=0.3))
    app, socketio = web_app(hl)
    try:
        c = login(app.test_client(), "agent1")
        first = socketio.test_client(app, flask_test_client=c)
        agent_id = first.emit("snapshot", callback=True)["agent"]["agent_id"]
        assert first.emit("set_state", {"state": "available"}, callback=True)["ok"]
        second = socketio.test_client(app, flask_test_client=c)  # e.g. a reload: new tab first
        first.disconnect()
        time.sleep(0.6)  # deliberate: the 0.3 s grace time runs out with one console open
        assert hl.live.get_agent(agent_id).state == "available"  # one console is still open
        second.disconnect()
        wait_until(lambda: hl.live.get_agent(agent_id).state == "offline")
        assert hl.live.get_agent(agent_id).state == "offline"
    finally:
        hl.close()


def test_each_role_lands_on_its_own_page(web: tuple[Flask, SocketIO], hotline: Hotline) -> None:
    from console.users.services import create_user

    app, _ = web
    with hotline.sessions.begin() as s:
        create_user(s, "sched1", "sched1", "scheduler")
        create_user(s, "qa01", "qa01", "qa")
    for username, page in (
        ("agent1", "/agent"),
        ("super1", "/supervision"),  # the wallboard
        ("sched1", "/schedule/forecast"),
        ("qa01", "/quality/recordings"),
    ):
        c = login(app.test_client(), username)
        r = c.get("/")
        assert r.status_code == 302 and r.headers["Location"].endswith(page), username
        assert c.get(page).status_code == 200, username


def test_schedulers_hear_desk_state_changes_live_but_not_the_calls(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    from console.core.events import call_arrived

    app, socketio = web
    planner = socketio.test_client(app, flask_test_client=login(app.test_client(), "planner"))
    sup = socketio.test_client(app, flask_test_client=login(app.test_client(), "super1"))
    planner.get_received()
    sup.get_received()
    agent = socketio.test_client(app, flask_test_client=login(app.test_client(), "agent1"))
    assert agent.emit("set_state", {"state": "available"}, callback=True)["ok"]
    hotline.bus.publish(
        call_arrived(call_id="c-1", queue_id=None, caller_number="+8613800138000", worker_id="w")
    )
    heard = [m["name"] for m in planner.get_received()]
    assert heard == ["agent_state_changed"]  # for live adherence; no caller numbers
    sup_heard = [m["name"] for m in sup.get_received()]
    assert sup_heard.count("agent_state_changed") == 1 and "call_arrived" in sup_heard  # once each
    for c in (planner, sup, agent):
        c.disconnect()


def test_a_phone_chosen_without_a_sip_contact_is_said(web: tuple[Flask, SocketIO]) -> None:
    """agent1 has no SIP contact in the demo: choosing her phone falls back to browser audio,
    and the console is told so it can say it."""
    app, _ = web
    for choice, missing in (("phone", True), ("browser", False)):
        c = app.test_client()
        token = csrf(c)
        r = c.post(
            "/login",
            data={"username": "agent1", "password": "agent1", "audio": choice, "csrf_token": token},
        )
        assert r.status_code == 302
        audio = c.get("/api/v1/me").get_json()["audio"]
        assert audio["path"] == "browser" and audio["phone_missing"] is missing
