"""Rosters in the console: templates and rules, background solve, edits re-validated, publish,
the agent's schedule and iCalendar, leave and swap requests re-validated on approval."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import icalendar
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIO
from sqlalchemy import func, select

from console.attendance import services as attendance
from console.core.errors import DomainError
from console.core.events import Event, roster_cancel_requested, schedule_changed
from console.core.models import (
    Agent,
    ClockEvent,
    Queue,
    RosterDuty,
    RosterPlan,
    RosterShift,
    ShiftTemplateRow,
    SwapRequest,
    User,
    utcnow,
)
from console.node import Hotline
from console.requests import services as requests
from console.rosters import runner
from console.rosters import services as rosters
from console.workforce import services as workforce
from tests.helpers import assert_valid, csrf, login, wait_until

TZ = "Asia/Shanghai"


def _client(app: Flask, username: str, page: str) -> tuple[FlaskClient, dict[str, str]]:
    c = login(app.test_client(), username)
    return c, {"X-CSRFToken": csrf(c, page)}


def _planner(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    return _client(app, "planner", "/schedule/rosters")


def _agent(app: Flask, name: str) -> tuple[FlaskClient, dict[str, str]]:
    return _client(app, name, "/my/schedule")


def _agent_id(hotline: Hotline, username: str) -> int:
    with hotline.sessions() as s:
        agent_id = s.scalar(
            select(Agent.id).join(User, Agent.user_id == User.id).where(User.username == username)
        )
    assert agent_id is not None
    return agent_id


def _next_monday() -> dt.date:
    today = workforce.local_day(dt.datetime.now(dt.UTC), TZ)
    return today + dt.timedelta(days=7 - today.weekday())


def _forecast_csv(monday: dt.date) -> str:
    lines = ["start,calls,aht_s"]
    for d in range(7):
        day = monday + dt.timedelta(days=d)
        for hour in range(8, 22):
            for minute in (0, 30):
                calls = 5 if 9 <= hour < 17 else 1
                lines.append(f"{day.isoformat()}T{hour:02d}:{minute:02d},{calls},180")
    return "\n".join(lines) + "\n"


def _shift_count(hotline: Hotline, roster_id: int) -> int:
    with hotline.sessions() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(RosterShift)
                .where(RosterShift.roster_id == roster_id)
            )
            or 0
        )


def test_agents_may_not_plan_and_planners_may_not_request(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    agent, ah = _agent(app, "agent1")
    assert agent.get("/schedule/rosters").status_code == 403
    assert agent.get("/api/v1/rosters").status_code == 403
    assert (
        agent.post("/api/v1/rosters", json={"start": "2030-01-07"}, headers=ah).status_code == 403
    )
    assert agent.put("/api/v1/workforce-settings", json={"seats": 1}, headers=ah).status_code == 403
    planner, ph = _planner(app)
    assert planner.get("/my/schedule").status_code == 403
    assert planner.get("/api/v1/agent/schedule").status_code == 403
    r = planner.post(
        "/api/v1/leave-requests",
        json={"first_day": "2030-01-07", "last_day": "2030-01-07"},
        headers=ph,
    )
    assert r.status_code == 403
    with hotline.sessions() as s:
        assert s.get(workforce.WorkforceSettings, 1).seats == 10  # type: ignore[union-attr]


def test_templates_and_rules_are_checked_before_anything_is_stored(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    c, h = _planner(app)
    r = c.get("/api/v1/shift-templates")
    assert r.status_code == 200
    codes = [x["code"] for x in r.get_json()]
    assert {"E", "L", "A", "B", "C"} <= set(codes)
    late = next(x for x in r.get_json() if x["code"] == "L")
    assert late["crosses_midnight"] and late["paid_hours"] == 8.0
    for x in r.get_json():
        assert_valid("ShiftTemplate", x)
    r = c.post(
        "/api/v1/shift-templates",
        json={
            "code": "N",
            "name": "Night 夜班",
            "start": "22:00",
            "end": "08:00",
            "break_min": 60,
            "late": True,
        },
        headers=h,
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["paid_hours"] == 9.0 and r.get_json()["crosses_midnight"]
    bad = [
        {"code": "N", "start": "09:00", "end": "10:00"},  # duplicate code
        {"code": "X", "start": "9am", "end": "10:00"},
        {"code": "X", "start": "09:00", "end": "09:00"},
        {"code": "X", "start": "09:00", "end": "09:30", "break_min": 30},
        {"code": "X", "start": "09:00", "end": "17:00", "late": "yes"},
    ]
    for body in bad:
        r = c.post("/api/v1/shift-templates", json=body, headers=h | {"Accept-Language": "en"})
        assert r.status_code == 400, body
        assert r.get_json()["message"]
    with hotline.sessions() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(ShiftTemplateRow)
                .where(ShiftTemplateRow.code == "X")
            )
            == 0
        )
    tpl_id = r2 = next(
        x["id"] for x in c.get("/api/v1/shift-templates").get_json() if x["code"] == "N"
    )
    r2 = c.put(f"/api/v1/shift-templates/{tpl_id}", json={"active": False}, headers=h)
    assert r2.status_code == 200 and r2.get_json()["active"] is False

    r = c.get("/api/v1/workforce-settings")
    assert_valid("WorkforceSettings", r.get_json())
    assert r.get_json()["max_hours_week"] == 40.0 and r.get_json()["max_swaps_month"] == 4
    r = c.put(
        "/api/v1/workforce-settings",
        json={"seats": 12, "open_from": "08:00", "open_to": "00:00", "cleaning_template": "E"},
        headers=h,
    )
    assert (
        r.status_code == 200 and r.get_json()["seats"] == 12 and r.get_json()["open_to"] == "00:00"
    )
    for body in (
        {"seats": 0},
        {"seats": 5, "min_rest_h": -1},
        {"cleaning_template": "ZZ"},
        {"open_from": None},
        {"bogus": 1},
    ):
        r = c.put("/api/v1/workforce-settings", json=body, headers=h)
        assert r.status_code == 400, body
    assert c.get("/api/v1/workforce-settings").get_json()["seats"] == 12


def _wait_solved(c: FlaskClient, roster_id: int, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen_solving = False
    while time.monotonic() < deadline:
        data = c.get(f"/api/v1/rosters/{roster_id}").get_json()
        if data["status"] == "solving":
            seen_solving = True
            assert_valid("RosterDetail", data)
        elif data["status"] in ("solved", "failed") and not data["running"]:
            data["seen_solving"] = seen_solving
            return data
        time.sleep(0.1)
    raise AssertionError("the roster did not finish solving")


def test_scheduler_solves_edits_and_publishes_a_roster(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    c, h = _planner(app)
    monday = _next_monday()
    with hotline.sessions() as s:
        qid = s.scalar(select(Queue.id).where(Queue.name == "support"))
    r = c.post(
        f"/api/v1/queues/{qid}/forecast/import", json={"csv": _forecast_csv(monday)}, headers=h
    )
    assert r.status_code == 200, r.get_json()
    # No forecast for that far ahead: a clear error and nothing starts.
    far = c.post(
        "/api/v1/rosters", json={"start": "2040-01-02", "weeks": 1, "time_limit_s": 5}, headers=h
    ).get_json()
    r = c.post(f"/api/v1/rosters/{far['id']}/solve", headers=h | {"Accept-Language": "en"})
    assert r.status_code == 400 and r.get_json()["error"] == "roster-no-forecast"
    for body in (
        {"start": "soon"},
        {"start": monday.isoformat(), "weeks": 7},
        {"start": monday.isoformat(), "time_limit_s": 1},
    ):
        assert c.post("/api/v1/rosters", json=body, headers=h).status_code == 400
    r = c.post(
        "/api/v1/rosters",
        json={"start": monday.isoformat(), "weeks": 1, "time_limit_s": 10},
        headers=h,
    )
    assert r.status_code == 201
    assert_valid("RosterSummary", r.get_json())
    rid = r.get_json()["id"]
    r = c.post(f"/api/v1/rosters/{rid}/publish", headers=h)
    assert r.status_code == 400 and r.get_json()["error"] == "roster-empty"
    r = c.post(f"/api/v1/rosters/{rid}/solve", headers=h)
    assert r.status_code == 202
    assert c.post(f"/api/v1/rosters/{rid}/solve", headers=h).status_code == 409  # already solving
    data = _wait_solved(c, rid)
    assert data["status"] == "solved", data["error"]
    # The solver reported its progress on the way (figures kept on the roster).
    assert data["progress"]["solutions"] >= 1 and data["progress"]["done"]
    assert c.post(f"/api/v1/rosters/{rid}/cancel", headers=h).get_json() == {
        "cancelled": False
    }  # nothing runs
    assert_valid("RosterDetail", data)
    assert data["violation_list"] == []
    result = data["result"]
    assert result["gap_pct"] is not None and result["objective"] >= result["lower_bound"]
    # Two agents cannot cover 5 calls at a time all day: understaffing is explained per interval.
    assert result["understaffed"] > 0 and result["explanations"]
    # Each worded in the reader's language: "<local time> <queue>: short by <n>; <reason>".
    assert all(e["skill"] in e["message"] for e in result["explanations"])
    assert not any("message_en" in e or "local" in e for e in result["explanations"])
    a1 = _agent_id(hotline, "agent1")
    row = next(a for a in data["agents"] if a["id"] == a1)
    assert row["shifts"] and 0 < row["hours"] <= 40.0
    # Seat plan: every on-site shift has a workstation, shifts from home none, and two agents
    # working the same day (all templates but C overlap in the day) never share one.
    on_site = {x["code"]: x["on_site"] for x in data["templates"]}
    seats_by_day: dict[str, list[int]] = {}
    for agent in data["agents"]:
        for day, cell in agent["shifts"].items():
            if on_site[cell["code"]]:
                assert isinstance(cell["seat"], int) and 1 <= cell["seat"] <= 10
                seats_by_day.setdefault(day, []).append(cell["seat"])
            else:
                assert cell["seat"] is None
    assert seats_by_day and all(len(v) == len(set(v)) for v in seats_by_day.values())
    # Break plan: each shift with a break has one, at least 2 h from either end of the shift.
    breaks = {x["code"]: x["break_min"] for x in data["templates"]}
    placed = 0
    for agent in data["agents"]:
        for day, cell in agent["shifts"].items():
            if breaks[cell["code"]] == 0:
                assert cell["break_start"] is None
                continue
            tpl = next(x for x in data["templates"] if x["code"] == cell["code"])
            start = dt.datetime.fromisoformat(f"{day}T{tpl['start']}:00+08:00")
            at = dt.datetime.fromisoformat(cell["break_start"])
            assert start + dt.timedelta(hours=2) <= at
            placed += 1
    assert placed
    cov = c.get(f"/api/v1/rosters/{rid}/coverage").get_json()
    assert_valid("RosterCoverage", cov)
    assert (
        max(x["scheduled"] for x in cov["rows"]) >= 1 and cov["gaps"]
    )  # two people cannot seal 7x24

    # A manual edit that breaks the 40-hour week is stored, flagged with the rule, and blocks
    # publishing.
    rest_days = [d for d in data["days_list"] if d not in row["shifts"]]
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a1, "day": rest_days[0], "template_code": "E"},
        headers=h,
    )
    assert r.status_code == 200
    assert_valid("RosterEditResult", r.get_json())
    rules = {v["rule"] for v in r.get_json()["violations"]}
    assert "max-hours-week" in rules
    r = c.post(f"/api/v1/rosters/{rid}/publish", headers=h | {"Accept-Language": "en"})
    assert r.status_code == 409 and r.get_json()["error"] == "roster-violations"
    assert c.get(f"/api/v1/rosters/{rid}").get_json()["status"] == "solved"
    for body in (
        {"agent_id": a1, "day": "2000-01-01", "template_code": "E"},
        {"agent_id": a1, "day": rest_days[0], "template_code": "ZZ"},
        {"agent_id": 999, "day": rest_days[0]},
    ):
        assert c.put(f"/api/v1/rosters/{rid}/shifts", json=body, headers=h).status_code == 400
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a1, "day": rest_days[0], "template_code": None},
        headers=h,
    )
    assert r.get_json()["violations"] == []
    seen = _heard(hotline)
    r = c.post(f"/api/v1/rosters/{rid}/publish", headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "published"
    # Everyone on the roster hears it in her own room.
    _wait_for(seen, {(a["id"], "published") for a in data["agents"] if a["shifts"]})
    assert (
        c.put(
            f"/api/v1/rosters/{rid}/shifts",
            json={"agent_id": a1, "day": rest_days[0], "template_code": "E"},
            headers=h,
        ).status_code
        == 409
    )

    # The agent sees the published shifts and can take them to her calendar.
    agent, _ = _agent(app, "agent1")
    mine = agent.get("/api/v1/agent/schedule").get_json()
    assert_valid("AgentSchedule", mine)
    assert all(
        x["break_start"] and x["break_end"] > x["break_start"]
        for x in mine["shifts"]
        if x["code"] != "C"
    )
    assert sorted(s["day"] for s in mine["shifts"]) == sorted(row["shifts"])
    r = agent.get("/api/v1/agent/schedule.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(r.data)
    events = [e for e in cal.walk("VEVENT")]
    assert len(events) == len(row["shifts"])
    first = min(events, key=lambda e: e.decoded("dtstart"))
    shift = min(mine["shifts"], key=lambda s: s["start"])
    assert first.decoded("dtstart") == dt.datetime.fromisoformat(shift["start"])
    assert first.decoded("dtend") == dt.datetime.fromisoformat(shift["end"])


def _heard(hotline: Hotline) -> list[Event]:
    """Every event published on the bus from now on."""
    seen: list[Event] = []
    hotline.bus.subscribe(seen.append)
    return seen


def _wait_for(seen: list[Event], expected: set[tuple[int, str]], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = {(e.agent_id, e.kind) for e in seen if isinstance(e, schedule_changed)}
        if expected <= got:
            return
        time.sleep(0.02)
    raise AssertionError(f"expected {expected}, heard {[e.to_wire() for e in seen]}")


def _publish(hotline: Hotline, start: dt.date, rows: dict[int, dict[int, str]]) -> int:
    """A published one-week roster: agent id -> day offset -> template code."""
    with hotline.sessions.begin() as s:
        plan = RosterPlan(
            start=start,
            days=7,
            status="published",
            published_at=utcnow(),
            name="test",
            progress={},
            result={},
            violations=[],
            error="",
        )
        s.add(plan)
        s.flush()
        for agent_id, days in rows.items():
            for offset, code in days.items():
                s.add(
                    RosterShift(
                        roster_id=plan.id,
                        agent_id=agent_id,
                        day=start + dt.timedelta(days=offset),
                        template_code=code,
                        queue_skill="support",
                    )
                )
        return plan.id


def _codes(hotline: Hotline, roster_id: int, agent_id: int) -> dict[int, str]:
    with hotline.sessions() as s:
        plan = s.get(RosterPlan, roster_id)
        assert plan is not None
        return {
            (r.day - plan.start).days: r.template_code
            for r in s.scalars(
                select(RosterShift).where(
                    RosterShift.roster_id == roster_id, RosterShift.agent_id == agent_id
                )
            )
        }


def test_a_swap_is_approved_only_when_the_swapped_roster_meets_every_rule(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a1, a2 = _agent_id(hotline, "agent1"), _agent_id(hotline, "agent2")
    monday = _next_monday()
    # A 09:00–17:00 with a paid break is 8 h: five of them make exactly the 40-hour week.
    rid = _publish(
        hotline,
        monday,
        {
            a1: {0: "A", 1: "A", 2: "A", 3: "A", 4: "A"},
            a2: {1: "A", 2: "A", 3: "A", 4: "A", 5: "A"},
        },
    )
    one, h1 = _agent(app, "agent1")
    two, h2 = _agent(app, "agent2")
    planner, ph = _planner(app)
    mon, sat = monday.isoformat(), (monday + dt.timedelta(days=5)).isoformat()

    # Giving Monday away would put agent2 at 48 h: agent2 accepts, the approval re-validates and
    # refuses.
    r = one.post(
        "/api/v1/swap-requests", json={"day": mon, "partner_id": a2, "reason": "doctor"}, headers=h1
    )
    assert r.status_code == 201, r.get_json()
    assert_valid("SwapRequest", r.get_json())
    give = r.get_json()["id"]
    assert (
        planner.post(
            f"/api/v1/swap-requests/{give}/decision", json={"approve": True}, headers=ph
        ).status_code
        == 409
    )  # not accepted yet
    incoming = two.get("/api/v1/swap-requests").get_json()
    assert [x["id"] for x in incoming if x["status"] == "pending"] == [give]
    assert (
        one.post(
            f"/api/v1/swap-requests/{give}/answer", json={"accept": True}, headers=h1
        ).status_code
        == 404
    )  # not the partner
    r = two.post(f"/api/v1/swap-requests/{give}/answer", json={"accept": True}, headers=h2)
    assert r.status_code == 200 and r.get_json()["status"] == "accepted"
    r = planner.post(f"/api/v1/swap-requests/{give}/decision", json={"approve": True}, headers=ph)
    assert r.status_code == 409
    body = r.get_json()
    assert_valid("SwapViolationsError", body)
    # The planner's language is zh-CN.
    assert body["error"] == "swap-violations" and "硬性规则" in body["message"]
    assert {v["rule"] for v in body["request"]["violations"]} == {"max-hours-week"}
    assert _codes(hotline, rid, a1) == {0: "A", 1: "A", 2: "A", 3: "A", 4: "A"}
    assert _codes(hotline, rid, a2) == {1: "A", 2: "A", 3: "A", 4: "A", 5: "A"}
    r = planner.post(
        f"/api/v1/swap-requests/{give}/decision",
        json={"approve": False, "note": "48 h"},
        headers=ph,
    )
    assert r.status_code == 200 and r.get_json()["status"] == "refused"

    # An exchange (my Monday for your Saturday) keeps both at 40 h: approved, the roster changes.
    bad_requests = [
        {"day": sat, "partner_id": a2},  # agent1 has no shift on Saturday
        {"day": mon, "partner_id": a1},  # with herself
        {
            "day": mon,
            "partner_id": a2,
            "partner_day": (monday + dt.timedelta(days=1)).isoformat(),
        },  # agent1 works Tuesday already
        {"day": "2000-01-03", "partner_id": a2},
    ]
    for req in bad_requests:
        r = one.post("/api/v1/swap-requests", json=req, headers=h1)
        assert r.status_code == 400, (req, r.get_json())
    seen = _heard(hotline)
    r = one.post(
        "/api/v1/swap-requests", json={"day": mon, "partner_id": a2, "partner_day": sat}, headers=h1
    )
    assert r.status_code == 201, r.get_json()
    ex = r.get_json()["id"]
    _wait_for(seen, {(a2, "swap-requested")})
    assert (
        two.post(
            f"/api/v1/swap-requests/{ex}/answer", json={"accept": True}, headers=h2
        ).status_code
        == 200
    )
    _wait_for(seen, {(a1, "swap-accepted")})
    r = planner.post(f"/api/v1/swap-requests/{ex}/decision", json={"approve": True}, headers=ph)
    assert r.status_code == 200, r.get_json()
    _wait_for(seen, {(a1, "swap-approved"), (a2, "swap-approved")})
    assert r.get_json()["status"] == "approved" and r.get_json()["violations"] == []
    assert _codes(hotline, rid, a1) == {1: "A", 2: "A", 3: "A", 4: "A", 5: "A"}
    assert _codes(hotline, rid, a2) == {0: "A", 1: "A", 2: "A", 3: "A", 4: "A"}
    with hotline.sessions() as s:
        seats = {
            (r.agent_id, r.day): r.seat
            for r in s.scalars(select(RosterShift).where(RosterShift.roster_id == rid))
        }
    for offset in range(1, 5):  # both work 09:00-17:00 Tuesday to Friday: two seats
        day_ = monday + dt.timedelta(days=offset)
        assert {seats[(a1, day_)], seats[(a2, day_)]} == {1, 2}
    assert (
        sorted(s["day"] for s in two.get("/api/v1/agent/schedule").get_json()["shifts"])[0] == mon
    )
    assert (
        planner.post(
            f"/api/v1/swap-requests/{ex}/decision", json={"approve": False}, headers=ph
        ).status_code
        == 409
    )


def test_the_monthly_swap_limit_is_enforced(web: tuple[Flask, SocketIO], hotline: Hotline) -> None:
    app, _ = web
    a1, a2 = _agent_id(hotline, "agent1"), _agent_id(hotline, "agent2")
    monday = _next_monday()
    _publish(hotline, monday, {a1: {0: "A", 1: "A"}})
    planner, ph = _planner(app)
    assert (
        planner.put(
            "/api/v1/workforce-settings", json={"max_swaps_month": 1}, headers=ph
        ).status_code
        == 200
    )
    one, h1 = _agent(app, "agent1")
    assert (
        one.post(
            "/api/v1/swap-requests", json={"day": monday.isoformat(), "partner_id": a2}, headers=h1
        ).status_code
        == 201
    )
    day2 = monday + dt.timedelta(days=1)
    if day2.month == monday.month:
        r = one.post(
            "/api/v1/swap-requests", json={"day": day2.isoformat(), "partner_id": a2}, headers=h1
        )
        assert r.status_code == 400 and r.get_json()["error"] == "swap-limit"
        assert "每月最多调班 1 次" in r.get_json()["message"]
    assert (
        planner.put(
            "/api/v1/workforce-settings", json={"max_swaps_month": 0}, headers=ph
        ).status_code
        == 200
    )
    r = one.post(
        "/api/v1/swap-requests", json={"day": day2.isoformat(), "partner_id": a2}, headers=h1
    )
    assert r.status_code == 400 and r.get_json()["error"] == "swap-limit"
    with hotline.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SwapRequest)) == 1


def test_approved_leave_takes_the_agent_off_the_published_roster(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a1 = _agent_id(hotline, "agent1")
    monday = _next_monday()
    rid = _publish(hotline, monday, {a1: {0: "E", 1: "E", 2: "E"}})
    one, h1 = _agent(app, "agent1")
    planner, ph = _planner(app)
    tue, wed = (
        (monday + dt.timedelta(days=1)).isoformat(),
        (monday + dt.timedelta(days=2)).isoformat(),
    )
    for body in (
        {"first_day": wed, "last_day": tue},
        {"first_day": tue, "last_day": wed, "kind": "holiday"},
        {"first_day": "x", "last_day": wed},
    ):
        assert one.post("/api/v1/leave-requests", json=body, headers=h1).status_code == 400
    r = one.post(
        "/api/v1/leave-requests",
        json={"first_day": tue, "last_day": wed, "kind": "sick", "reason": "flu"},
        headers=h1,
    )
    assert r.status_code == 201
    assert_valid("LeaveRequest", r.get_json())
    lid = r.get_json()["id"]
    r = one.post(
        "/api/v1/leave-requests",
        json={"first_day": wed, "last_day": wed},
        headers=h1 | {"Accept-Language": "en"},
    )
    assert r.status_code == 400 and r.get_json()["error"] == "leave-overlap"
    assert (
        one.post(
            f"/api/v1/leave-requests/{lid}/decision", json={"approve": True}, headers=h1
        ).status_code
        == 403
    )
    assert [x["id"] for x in planner.get("/api/v1/leave-requests?status=pending").get_json()] == [
        lid
    ]
    r = planner.post(f"/api/v1/leave-requests/{lid}/decision", json={"approve": True}, headers=ph)
    assert r.status_code == 200, r.get_json()
    assert_valid("LeaveRequest", r.get_json())
    assert r.get_json()["status"] == "approved"
    assert sorted(x["day"] for x in r.get_json()["removed_shifts"]) == [tue, wed]
    assert _codes(hotline, rid, a1) == {0: "E"}
    assert (
        planner.post(
            f"/api/v1/leave-requests/{lid}/decision", json={"approve": False}, headers=ph
        ).status_code
        == 409
    )


def test_a_new_roster_is_checked_against_the_published_one_before_it(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a1 = _agent_id(hotline, "agent1")
    monday = _next_monday()
    # The published week before ends with agent1 closing on Sunday (late until 01:00 Monday).
    _publish(hotline, monday - dt.timedelta(days=7), {a1: {6: "L"}})
    c, h = _planner(app)
    rid = c.post(
        "/api/v1/rosters", json={"start": monday.isoformat(), "weeks": 1}, headers=h
    ).get_json()["id"]
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a1, "day": monday.isoformat(), "template_code": "E"},
        headers=h,
    )
    assert [v["rule"] for v in r.get_json()["violations"]] == ["min-rest"]
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a1, "day": monday.isoformat(), "template_code": "B"},
        headers=h,
    )
    assert r.get_json()["violations"] == []  # 12:00 is 11 h after 01:00
    # The late shift is retired: agent1's Sunday shift still ended at 01:00, for the checks
    # and for the solver, which may no longer assign L itself.
    late = next(x for x in c.get("/api/v1/shift-templates").get_json() if x["code"] == "L")
    assert (
        c.put(
            f"/api/v1/shift-templates/{late['id']}", json={"active": False}, headers=h
        ).status_code
        == 200
    )
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a1, "day": monday.isoformat(), "template_code": "E"},
        headers=h,
    )
    assert [v["rule"] for v in r.get_json()["violations"]] == ["min-rest"]
    with hotline.sessions() as s:
        qid = s.scalar(select(Queue.id).where(Queue.name == "support"))
    assert (
        c.post(
            f"/api/v1/queues/{qid}/forecast/import", json={"csv": _forecast_csv(monday)}, headers=h
        ).status_code
        == 200
    )
    with hotline.sessions() as s:
        plan = s.get(RosterPlan, rid)
        assert plan is not None
        p = rosters.problem(s, plan, TZ)
    assert "L" not in p.templates and "L" in p.retired
    res = rosters.make_solver(p).solve(time_limit_s=10)
    assert res.roster.shift(str(a1), monday) not in ("E", "A")  # both start within 11 h of 01:00
    assert "L" not in {code for days in res.roster.assignments.values() for code in days.values()}


def test_agents_contract_terms_are_checked_and_honoured_by_the_rules(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a1 = _agent_id(hotline, "agent1")
    c, h = _planner(app)
    terms = c.get("/api/v1/roster-agents").get_json()
    for x in terms:
        assert_valid("RosterAgent", x)
    assert {x["id"] for x in terms} >= {a1} and next(x for x in terms if x["id"] == a1)[
        "contract_flags"
    ] == []
    monday = _next_monday()
    # Unavailable on Monday morning (local 08:00-12:00 = 00:00-04:00 UTC), no late shifts.
    span = {"from": f"{monday.isoformat()}T00:00:00Z", "to": f"{monday.isoformat()}T04:00:00Z"}
    body = {"max_hours_week": 32, "contract_flags": ["no-late"], "unavailable": [span]}
    r = c.put(f"/api/v1/roster-agents/{a1}", json=body, headers=h)
    assert r.status_code == 200, r.get_json()
    assert_valid("RosterAgent", r.get_json())
    assert r.get_json()["unavailable"] == [
        {
            "from": f"{monday.isoformat()}T00:00:00+00:00",
            "to": f"{monday.isoformat()}T04:00:00+00:00",
        }
    ]
    for bad in (
        {"max_hours_week": 0},
        {"contract_flags": ["no-nights"]},
        {"unavailable": [{"from": "2030-01-01T10:00:00Z", "to": "2030-01-01T09:00:00Z"}]},
        {"unavailable": [{"from": "2030-01-01T10:00:00", "to": "2030-01-01T12:00:00"}]},  # no zone
        {"skills": ["x"]},
    ):
        assert c.put(f"/api/v1/roster-agents/{a1}", json=bad, headers=h).status_code == 400, bad
    assert c.get("/api/v1/roster-agents").get_json() == [
        x if x["id"] != a1 else r.get_json() for x in terms
    ]
    agent, ah = _agent(app, "agent1")
    assert (
        agent.put(
            f"/api/v1/roster-agents/{a1}", json={"max_hours_week": 40}, headers=ah
        ).status_code
        == 403
    )
    rid = c.post(
        "/api/v1/rosters", json={"start": monday.isoformat(), "weeks": 1}, headers=h
    ).get_json()["id"]
    cases = [
        (monday, "E", "availability"),  # 08:00 while unavailable
        (monday + dt.timedelta(days=1), "L", "availability"),  # contract: no late shifts
    ]
    for day_, code, rule in cases:
        r = c.put(
            f"/api/v1/rosters/{rid}/shifts",
            json={"agent_id": a1, "day": day_.isoformat(), "template_code": code},
            headers=h,
        )
        assert rule in {
            v["rule"] for v in r.get_json()["violations"] if v["day"] == day_.isoformat()
        }
        c.put(
            f"/api/v1/rosters/{rid}/shifts",
            json={"agent_id": a1, "day": day_.isoformat(), "template_code": None},
            headers=h,
        )
    for offset in range(4):  # four 8-hour days make 32 h, the fifth breaks her own limit
        c.put(
            f"/api/v1/rosters/{rid}/shifts",
            json={
                "agent_id": a1,
                "day": (monday + dt.timedelta(days=offset + 1)).isoformat(),
                "template_code": "A",
            },
            headers=h,
        )
    assert c.get(f"/api/v1/rosters/{rid}").get_json()["violation_list"] == []
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={
            "agent_id": a1,
            "day": (monday + dt.timedelta(days=5)).isoformat(),
            "template_code": "A",
        },
        headers=h,
    )
    assert [v["rule"] for v in r.get_json()["violations"]] == ["max-hours-week"]


def test_agents_withdraw_their_own_requests_until_they_are_decided(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a1, a2 = _agent_id(hotline, "agent1"), _agent_id(hotline, "agent2")
    monday = _next_monday()
    _publish(hotline, monday, {a1: {0: "A", 1: "A"}})
    one, h1 = _agent(app, "agent1")
    two, h2 = _agent(app, "agent2")
    planner, ph = _planner(app)
    swap = one.post(
        "/api/v1/swap-requests", json={"day": monday.isoformat(), "partner_id": a2}, headers=h1
    ).get_json()
    assert (
        two.post(f"/api/v1/swap-requests/{swap['id']}/cancel", headers=h2).status_code == 404
    )  # not hers
    seen = _heard(hotline)
    r = one.post(f"/api/v1/swap-requests/{swap['id']}/cancel", headers=h1)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    _wait_for(seen, {(a2, "swap-cancelled")})
    assert (
        two.post(
            f"/api/v1/swap-requests/{swap['id']}/answer", json={"accept": True}, headers=h2
        ).status_code
        == 409
    )
    # A withdrawn swap does not count toward the monthly limit.
    assert (
        planner.put(
            "/api/v1/workforce-settings", json={"max_swaps_month": 1}, headers=ph
        ).status_code
        == 200
    )
    assert (
        one.post(
            "/api/v1/swap-requests", json={"day": monday.isoformat(), "partner_id": a2}, headers=h1
        ).status_code
        == 201
    )
    day = (monday + dt.timedelta(days=3)).isoformat()
    leave = one.post(
        "/api/v1/leave-requests", json={"first_day": day, "last_day": day}, headers=h1
    ).get_json()
    assert (
        planner.post(
            f"/api/v1/leave-requests/{leave['id']}/decision", json={"approve": False}, headers=ph
        ).status_code
        == 200
    )
    assert (
        one.post(f"/api/v1/leave-requests/{leave['id']}/cancel", headers=h1).status_code == 409
    )  # decided already
    again = one.post(
        "/api/v1/leave-requests", json={"first_day": day, "last_day": day}, headers=h1
    ).get_json()
    r = one.post(f"/api/v1/leave-requests/{again['id']}/cancel", headers=h1)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert_valid("LeaveRequest", r.get_json())
    assert [x["id"] for x in planner.get("/api/v1/leave-requests?status=pending").get_json()] == []


def test_history_stays_put_templates_in_use_past_days_and_started_shifts(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a1, a2 = _agent_id(hotline, "agent1"), _agent_id(hotline, "agent2")
    c, h = _planner(app)
    today = workforce.local_day(dt.datetime.now(dt.UTC), TZ)
    # A roster for days already begun cannot be published (worked shifts are history).
    past = c.post(
        "/api/v1/rosters",
        json={"start": (today - dt.timedelta(days=1)).isoformat(), "weeks": 1},
        headers=h,
    ).get_json()
    c.put(
        f"/api/v1/rosters/{past['id']}/shifts",
        json={"agent_id": a1, "day": today.isoformat(), "template_code": "A"},
        headers=h,
    )
    r = c.post(f"/api/v1/rosters/{past['id']}/publish", headers=h)
    assert r.status_code == 409 and r.get_json()["error"] == "roster-starts-in-past"
    # Once a template is on a published roster its times are fixed; its name may change.
    _publish(hotline, today - dt.timedelta(days=7), {a1: {0: "E"}})
    e = next(x for x in c.get("/api/v1/shift-templates").get_json() if x["code"] == "E")
    r = c.put(f"/api/v1/shift-templates/{e['id']}", json={"start": "07:00"}, headers=h)
    assert r.status_code == 409 and r.get_json()["error"] == "template-in-use"
    assert (
        c.put(
            f"/api/v1/shift-templates/{e['id']}", json={"name": "Early 早班 (renamed)"}, headers=h
        ).status_code
        == 200
    )
    assert (
        next(x for x in c.get("/api/v1/shift-templates").get_json() if x["code"] == "E")["start"]
        == "08:00"
    )
    # A swap whose receiving agent took a shift that day meanwhile is refused, not a 500.
    monday = _next_monday()
    rid = _publish(hotline, monday, {a1: {0: "A"}})
    one, h1 = _agent(app, "agent1")
    two, h2 = _agent(app, "agent2")
    swap = one.post(
        "/api/v1/swap-requests", json={"day": monday.isoformat(), "partner_id": a2}, headers=h1
    ).get_json()
    assert (
        two.post(
            f"/api/v1/swap-requests/{swap['id']}/answer", json={"accept": True}, headers=h2
        ).status_code
        == 200
    )
    with hotline.sessions.begin() as s:
        s.add(
            RosterShift(
                roster_id=rid, agent_id=a2, day=monday, template_code="B", queue_skill="support"
            )
        )
    r = c.post(f"/api/v1/swap-requests/{swap['id']}/decision", json={"approve": True}, headers=h)
    assert r.status_code == 409 and r.get_json()["error"] == "swap-partner-busy"
    assert _codes(hotline, rid, a1) == {0: "A"} and _codes(hotline, rid, a2) == {0: "B"}


def test_shifts_of_an_agent_who_left_are_flagged_until_reassigned(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a2 = _agent_id(hotline, "agent2")
    c, h = _planner(app)
    monday = _next_monday()
    rid = c.post(
        "/api/v1/rosters", json={"start": monday.isoformat(), "weeks": 1}, headers=h
    ).get_json()["id"]
    c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a2, "day": monday.isoformat(), "template_code": "A"},
        headers=h,
    )
    with hotline.sessions.begin() as s:
        user = s.scalar(select(User).join(Agent, Agent.user_id == User.id).where(Agent.id == a2))
        assert user is not None
        user.active = False
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={
            "agent_id": a2,
            "day": (monday + dt.timedelta(days=1)).isoformat(),
            "template_code": "A",
        },
        headers=h,
    )
    assert r.status_code == 400
    data = c.get(f"/api/v1/rosters/{rid}").get_json()
    assert_valid("RosterDetail", data)
    row = next(a for a in data["agents"] if a["id"] == a2)
    assert row["active"] is False and monday.isoformat() in row["shifts"]
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a2, "day": monday.isoformat(), "template_code": "A"},
        headers=h,
    )
    assert r.status_code == 400  # still no new shifts for her
    a1 = _agent_id(hotline, "agent1")
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a1, "day": monday.isoformat(), "template_code": "A"},
        headers=h,
    )
    assert [(v["rule"], v["agent_id"]) for v in r.get_json()["violations"]] == [
        ("agent-inactive", a2)
    ]
    assert c.post(f"/api/v1/rosters/{rid}/publish", headers=h).status_code == 409
    r = c.put(
        f"/api/v1/rosters/{rid}/shifts",
        json={"agent_id": a2, "day": monday.isoformat(), "template_code": None},
        headers=h,
    )
    assert r.status_code == 200 and r.get_json()["violations"] == []
    with hotline.sessions.begin() as s:
        s.scalar(
            select(User).join(Agent, Agent.user_id == User.id).where(Agent.id == a2)
        ).active = True  # type: ignore[union-attr]


def test_a_solve_in_another_web_process_is_left_alone_until_its_heartbeat_stops(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    c, h = _planner(app)
    rid = c.post(
        "/api/v1/rosters", json={"start": _next_monday().isoformat(), "weeks": 1}, headers=h
    ).get_json()["id"]
    # Another web process is solving it: status solving, with a fresh heartbeat in its name.
    beat = {"elapsed_s": 3.0, "solutions": 1, "time_limit_s": 60, "owner": "web-2:41:0f0f0f0f"}
    with hotline.sessions.begin() as s:
        plan = s.get(RosterPlan, rid)
        assert plan is not None
        plan.status, plan.progress = "solving", beat | {"beat": time.time()}
    with hotline.sessions.begin() as s:
        assert (
            hotline.rosters.recover_interrupted(s) == 0
        )  # a web process starting up leaves it alone
    data = c.get(f"/api/v1/rosters/{rid}").get_json()
    assert data["status"] == "solving" and data["running"]
    assert c.post(f"/api/v1/rosters/{rid}/solve", headers=h).status_code == 409
    # Stop goes over the bus to whichever process holds the solve.
    seen: list[Event] = []
    hotline.bus.subscribe(seen.append)
    assert c.post(f"/api/v1/rosters/{rid}/cancel", headers=h).get_json() == {"cancelled": True}
    wait_until(lambda: roster_cancel_requested(roster_id=rid) in seen)
    assert roster_cancel_requested(roster_id=rid) in seen
    # Its heartbeat stopped (the process died): the next read fails it, and it may be solved again.
    with hotline.sessions.begin() as s:
        plan = s.get(RosterPlan, rid)
        assert plan is not None
        plan.progress = beat | {"beat": time.time() - runner.STALE_S - 1}
    data = c.get(f"/api/v1/rosters/{rid}").get_json()
    assert data["status"] == "failed" and not data["running"] and "interrupted" in data["error"]
    assert c.post(f"/api/v1/rosters/{rid}/cancel", headers=h).get_json() == {"cancelled": False}
    # Solve pressed straight away (no read in between) also finds the dead solve and starts anew.
    with hotline.sessions.begin() as s:
        plan = s.get(RosterPlan, rid)
        assert plan is not None
        plan.status = "solving"
    r = c.post(f"/api/v1/rosters/{rid}/solve", headers=h | {"Accept-Language": "en"})
    assert (
        r.status_code == 400 and r.get_json()["error"] == "roster-no-forecast"
    )  # past the lease check


def test_stop_pressed_on_another_web_process_stops_the_solve_running_here(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    class Solve:
        stopped = threading.Event()

        def cancel(self) -> None:
            self.stopped.set()

    solve = Solve()
    with hotline.rosters._lock:
        hotline.rosters._running[987654] = solve  # type: ignore[assignment]
    try:
        # What another process's Stop publishes; this process's web app is subscribed.
        hotline.bus.publish(roster_cancel_requested(roster_id=987654))
        assert solve.stopped.wait(5)
    finally:
        with hotline.rosters._lock:
            hotline.rosters._running.pop(987654, None)


def test_quick_swap_requests_cannot_pass_the_monthly_limit_together(hotline: Hotline) -> None:
    a1, a2 = _agent_id(hotline, "agent1"), _agent_id(hotline, "agent2")
    today = workforce.local_day(dt.datetime.now(dt.UTC), TZ)
    first = (today.replace(day=1) + dt.timedelta(days=32)).replace(
        day=1
    )  # next month: six days in one month
    _publish(hotline, first, {a1: {k: "A" for k in range(6)}})
    with hotline.sessions.begin() as s:
        workforce.update_settings(s, {"max_swaps_month": 2})
    start = threading.Barrier(6)
    results: list[str] = []

    def ask(k: int) -> None:
        start.wait()
        try:
            with hotline.sessions.begin() as s:
                requests.request_swap(
                    s, a1, {"day": (first + dt.timedelta(days=k)).isoformat(), "partner_id": a2}, TZ
                )
            results.append("ok")
        except DomainError as err:
            results.append(err.error_id)

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["ok", "ok"] + ["swap-limit"] * 4
    with hotline.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SwapRequest)) == 2


def test_two_quick_clock_ins_store_one(hotline: Hotline) -> None:
    a1 = _agent_id(hotline, "agent1")
    now = dt.datetime.now(dt.UTC)
    start = threading.Barrier(4)
    results: list[str] = []

    def clock_in() -> None:
        start.wait()
        try:
            with hotline.sessions.begin() as s:
                attendance.clock(s, a1, "in", now, TZ)
            results.append("ok")
        except DomainError as err:
            results.append(err.error_id)

    threads = [threading.Thread(target=clock_in) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["already-clocked-in"] * 3 + ["ok"]
    with hotline.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ClockEvent)) == 1


def test_a_roster_exports_as_a_sheet_agents_by_days(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    import csv
    import io

    app, _ = web
    a1, a2 = _agent_id(hotline, "agent1"), _agent_id(hotline, "agent2")
    monday = _next_monday()
    rid = _publish(hotline, monday, {a1: {0: "E", 1: "L"}, a2: {0: "A"}})
    with hotline.sessions.begin() as s:
        first = s.scalar(
            select(RosterShift).where(
                RosterShift.roster_id == rid, RosterShift.agent_id == a1, RosterShift.day == monday
            )
        )
        assert first is not None
        first.seat = 4
        s.add(RosterDuty(roster_id=rid, duty="cleaning", day=monday, agent_id=a1))
    c, _ = _planner(app)  # the planner reads Chinese
    r = c.get(f"/api/v1/rosters/{rid}/roster.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert f"roster-{monday.isoformat()}.csv" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    days = [(monday + dt.timedelta(days=k)).isoformat() for k in range(7)]
    assert rows[0] == ["坐席", "技能", *days, "工时"]
    by = {row[0]: row for row in rows[1:] if row}
    lin, kim = by["坐席 Lin"], by["Agent Kim"]
    assert lin[2:5] == ["E #4 +cleaning", "L", ""] and kim[2:4] == ["A", ""]
    assert float(lin[-1]) > 0 and float(kim[-1]) == 8.0  # A: 09:00-17:00 with a paid break
    legend = {row[0]: row[2] for row in rows if len(row) == 3}
    assert legend == {"E": "08:00–17:30", "L": "16:00–01:00", "A": "09:00–17:00"}
    agent, _ = _agent(app, "agent1")
    assert agent.get(f"/api/v1/rosters/{rid}/roster.csv").status_code == 403
    assert c.get("/api/v1/rosters/999999/roster.csv").status_code == 404
