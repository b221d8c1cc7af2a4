from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import func, select

from console.attendance import schemas
from console.attendance import services as attendance
from console.core.errors import DomainError
from console.core.models import (
    Agent,
    AgentStateLog,
    ClockEvent,
    LeaveRequest,
    RosterPlan,
    RosterShift,
    SwapRequest,
    User,
)
from console.node import Hotline
from console.web import errors as web_errors
from console.workforce import services as workforce
from tests.helpers import assert_valid, csrf, login

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
# Shifts of March 2026 (templates from the demo: E 08:00-17:30, L 16:00-01:00).
ROSTER = {
    "agent1": {2: "E", 3: "E", 4: "E", 5: "E", 6: "E", 9: "E"},
    "agent2": {2: "E", 3: "L"},
}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


def _agent(hotline: Hotline, username: str) -> int:
    with hotline.sessions() as s:
        aid = s.scalar(
            select(Agent.id).join(User, Agent.user_id == User.id).where(User.username == username)
        )
    assert aid is not None
    return aid


def _clock_count(hotline: Hotline, agent_id: int) -> int:
    with hotline.sessions() as s:
        return (
            s.scalar(
                select(func.count()).select_from(ClockEvent).where(ClockEvent.agent_id == agent_id)
            )
            or 0
        )


def _script_march(hotline: Hotline) -> tuple[int, int]:
    """A published March roster and a month of clock and desk events for agent1 and agent2."""
    a1, a2 = _agent(hotline, "agent1"), _agent(hotline, "agent2")
    ids = {"agent1": a1, "agent2": a2}
    clocks: list[tuple[int, dt.datetime, str]] = [
        (a1, at(2, 7, 55), "in"),
        (a1, at(2, 17, 35), "out"),  # on time
        (a1, at(3, 8, 10), "in"),
        (a1, at(3, 17, 30), "out"),  # 10 min late: 0.5
        (a1, at(4, 8, 45), "in"),
        (a1, at(4, 17, 30), "out"),  # 45 min late: absence, 2
        # 5 March: never clocked in: absence, 5. 6 March: approved leave, not counted.
        (a1, at(9, 7, 50), "in"),
        (a1, at(9, 17, 40), "out"),  # on time, 3 desk logouts: 5
        # agent2 works the desk on 2 March but never clocks in: absence, 5.
        (a2, at(3, 16, 5), "in"),
        (a2, at(4, 1, 0), "out"),  # night shift 5 min late: 0.5
    ]
    desk: list[tuple[int, dt.datetime, str]] = [
        (a1, at(2, 8, 0), "available"),
        (a1, at(2, 17, 30), "offline"),
        (a1, at(3, 8, 10), "available"),
        (a1, at(3, 12, 0), "on_call"),
        (a1, at(3, 17, 30), "offline"),
        (a1, at(4, 8, 45), "available"),
        (a1, at(4, 17, 30), "offline"),
        (a1, at(9, 8, 0), "available"),
        (a1, at(9, 10, 0), "offline"),
        (a1, at(9, 10, 5), "available"),
        (a1, at(9, 12, 0), "offline"),
        (a1, at(9, 12, 10), "not_ready"),
        (a1, at(9, 15, 0), "offline"),
        (a1, at(9, 15, 2), "available"),
        (a1, at(9, 17, 30), "offline"),
        (a2, at(2, 8, 0), "available"),
        (a2, at(2, 17, 30), "offline"),
        (a2, at(3, 16, 5), "available"),
        (a2, at(4, 1, 0), "offline"),
    ]
    with hotline.sessions.begin() as s:
        plan = RosterPlan(
            start=dt.date(2026, 3, 1),
            days=31,
            status="published",
            name="March",
            published_at=dt.datetime(2026, 2, 20, tzinfo=dt.UTC),
        )
        s.add(plan)
        s.flush()
        for name, days in ROSTER.items():
            for day, code in days.items():
                s.add(
                    RosterShift(
                        roster_id=plan.id,
                        agent_id=ids[name],
                        day=dt.date(2026, 3, day),
                        template_code=code,
                    )
                )
        s.add_all(ClockEvent(agent_id=a, at=t, kind=k) for a, t, k in clocks)
        s.add_all(AgentStateLog(agent_id=a, at=t, state=st) for a, t, st in desk)
        s.add(
            LeaveRequest(
                agent_id=a1,
                first_day=dt.date(2026, 3, 6),
                last_day=dt.date(2026, 3, 6),
                status="approved",
            )
        )
        # Refused leave exempts nothing (5 March stays an absence).
        s.add(
            LeaveRequest(
                agent_id=a1,
                first_day=dt.date(2026, 3, 5),
                last_day=dt.date(2026, 3, 5),
                status="refused",
            )
        )
        # Five approved swaps (one over the limit of 4) and a pending one that does not count.
        for day in range(10, 15):
            s.add(
                SwapRequest(
                    roster_id=plan.id,
                    requester_id=a1,
                    partner_id=a2,
                    day=dt.date(2026, 3, day),
                    status="approved",
                )
            )
        s.add(
            SwapRequest(
                roster_id=plan.id,
                requester_id=a1,
                partner_id=a2,
                day=dt.date(2026, 3, 20),
                status="pending",
            )
        )
    return a1, a2


def _kinds(view: attendance.LedgerView) -> list[tuple[str, str, float]]:
    return [(e.day.isoformat(), e.kind, e.points) for e in view.ledger.entries]


def test_the_ledger_of_a_scripted_month_matches_the_rulebook(hotline: Hotline) -> None:
    a1, a2 = _script_march(hotline)
    end = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)
    with hotline.sessions() as s:
        policy, views = attendance.ledgers(s, 2026, 3, TZ, end)
    by = {v.agent_id: v for v in views}
    assert policy.start_points == 10 and policy.max_swaps == 4
    assert _kinds(by[a1]) == [
        ("2026-03-03", "late", -0.5),
        ("2026-03-04", "absence-late", -2.0),
        ("2026-03-05", "absence", -5.0),
        ("2026-03-09", "logouts", -5.0),
        ("2026-03-31", "excess-swap", -5.0),
    ]
    assert by[a1].ledger.score == 10 - 0.5 - 2 - 5 - 5 - 5
    assert by[a1].ledger.level == "penalty"
    assert by[a1].previous_scores == (10.0, 10.0)
    assert (
        by[a1].shifts,
        by[a1].late,
        by[a1].absences,
        by[a1].logouts,
        by[a1].leave_days,
        by[a1].swaps,
    ) == (
        5,
        2,
        1,
        3,
        1,
        5,
    )
    assert _kinds(by[a2]) == [("2026-03-02", "absence", -5.0), ("2026-03-03", "late", -0.5)]
    assert by[a2].ledger.score == 4.5 and by[a2].ledger.level == "warning"
    # Agents without shifts keep their 10 points and appear too.
    assert all(
        v.ledger.score == 10 and v.ledger.level is None for v in views if v.agent_id not in (a1, a2)
    )

    # Mid-shift on 9 March: that shift has not ended, so its logouts are not judged yet.
    with hotline.sessions() as s:
        _, views = attendance.ledgers(s, 2026, 3, TZ, at(9, 16, 0))
    mid = next(v for v in views if v.agent_id == a1)
    assert [k for _, k, _ in _kinds(mid)] == ["late", "absence-late", "absence", "excess-swap"]


def test_the_centres_policy_overrides_change_points_and_levels(hotline: Hotline) -> None:
    a1, a2 = _script_march(hotline)
    with hotline.sessions.begin() as s:
        workforce.update_settings(
            s, {"attendance": {"late_points": 1.0, "severe_months": 1}, "max_swaps_month": 5}
        )
    with hotline.sessions() as s:
        policy, views = attendance.ledgers(s, 2026, 3, TZ, dt.datetime(2026, 4, 2, tzinfo=dt.UTC))
    by = {v.agent_id: v for v in views}
    assert policy.late_points == 1.0 and policy.max_swaps == 5
    # No excess swap any more (5 allowed); late costs 1; one month at or below 2 is severe.
    assert by[a1].ledger.score == 10 - 1 - 2 - 5 - 5 and by[a1].ledger.level == "severe"
    assert by[a2].ledger.score == 4 and by[a2].ledger.level == "warning"


def test_severe_needs_the_penalty_level_months_running(hotline: Hotline) -> None:
    a1, _ = _script_march(hotline)
    with hotline.sessions.begin() as s:
        # February and January rostered and missed entirely: 2 absences each month.
        plan = RosterPlan(
            start=dt.date(2026, 1, 1),
            days=59,
            status="published",
            published_at=dt.datetime(2025, 12, 20, tzinfo=dt.UTC),
        )
        s.add(plan)
        s.flush()
        for day in (
            dt.date(2026, 1, 5),
            dt.date(2026, 1, 6),
            dt.date(2026, 2, 2),
            dt.date(2026, 2, 3),
        ):
            s.add(RosterShift(roster_id=plan.id, agent_id=a1, day=day, template_code="E"))
    with hotline.sessions() as s:
        _, views = attendance.ledgers(
            s, 2026, 3, TZ, dt.datetime(2026, 4, 2, tzinfo=dt.UTC), agent_id=a1
        )
    assert len(views) == 1
    assert views[0].previous_scores == (0.0, 0.0)
    assert views[0].ledger.level == "severe"


def test_history_compares_the_roster_with_the_clock_and_the_desk(hotline: Hotline) -> None:
    a1, a2 = _script_march(hotline)
    with hotline.sessions() as s:
        out = schemas.history_dict(
            attendance.history(
                s,
                dt.date(2026, 3, 1),
                dt.date(2026, 3, 31),
                TZ,
                dt.datetime(2026, 4, 2, tzinfo=dt.UTC),
            )
        )
    rows = {(r["agent_id"], r["day"]): r for r in out["shifts"]}
    late = rows[(a1, "2026-03-03")]
    assert (
        late["scheduled_min"] == 570
        and late["logged_in_min"] == 560
        and late["late_start_min"] == 10
    )
    assert (
        late["early_leave_min"] == 0
        and late["logouts"] == 0
        and late["adherence_pct"] == round(100 * 560 / 570, 1)
    )
    assert late["clock_in"] == at(3, 8, 10).astimezone(dt.UTC).isoformat()
    assert late["clock_out"] == at(3, 17, 30).astimezone(dt.UTC).isoformat()
    assert rows[(a1, "2026-03-05")]["absent"] and rows[(a1, "2026-03-05")]["clock_in"] is None
    assert rows[(a1, "2026-03-06")]["on_leave"]
    assert rows[(a1, "2026-03-09")]["logouts"] == 3
    night = rows[(a2, "2026-03-03")]
    assert (
        night["template_code"] == "L"
        and night["late_start_min"] == 5
        and night["scheduled_min"] == 540
    )
    # Desk logged in all day, but no clock-in: absent from the attendance record.
    assert rows[(a2, "2026-03-02")]["absent"] and rows[(a2, "2026-03-02")]["logged_in_min"] == 570
    assert (
        out["totals"]["shifts"] == 7 and out["totals"]["absent"] == 2 and out["totals"]["late"] == 3
    )
    assert_valid("AttendanceHistory", out)


def test_realtime_adherence_combines_roster_clock_and_desk(hotline: Hotline) -> None:
    a1, a2 = _script_march(hotline)
    with hotline.sessions() as s:
        # A third agent with no shift and no login: off shift, in adherence.
        s.add(
            Agent(
                user_id=s.scalar(select(User.id).where(User.username == "planner")),
                extension="8009",
            )
        )
        s.flush()
        other = max(a.id for a, _ in workforce.roster_agents(s))
        out = schemas.realtime_dict(
            attendance.realtime(s, TZ, at(2, 10, 0), {a1: "on_call", a2: "available"})
        )
        late_night = schemas.realtime_dict(
            attendance.realtime(s, TZ, at(4, 0, 30), {a2: "offline"})
        )
    rows = {r["agent_id"]: r for r in out["agents"]}
    assert (
        rows[a1]["scheduled"]
        and rows[a1]["clocked_in"]
        and rows[a1]["in_adherence"]
        and rows[a1]["reason"] == "ok"
    )
    assert rows[a1]["clocked_in_since"] == at(2, 7, 55).astimezone(dt.UTC).isoformat()
    assert (
        rows[a2]["scheduled"]
        and not rows[a2]["clocked_in"]
        and rows[a2]["reason"] == "not-clocked-in"
    )
    assert not rows[a2]["in_adherence"]
    assert (
        rows[other]["reason"] == "off"
        and rows[other]["in_adherence"]
        and not rows[other]["clocked_in"]
    )
    assert out["scheduled"] == 2 and out["out_of_adherence"] == 1
    assert_valid("AttendanceNow", out)
    # 00:30 on 4 March: agent2's night shift of 3 March is still running; clocked in, desk offline.
    night = {r["agent_id"]: r for r in late_night["agents"]}[a2]
    assert night["scheduled"] and night["shift"]["day"] == "2026-03-03" and night["clocked_in"]
    assert night["reason"] == "not-logged-in" and not night["in_adherence"]


def test_clock_rules_refuse_contradictions_and_change_nothing(hotline: Hotline) -> None:
    a1 = _agent(hotline, "agent1")
    t0 = dt.datetime(2026, 5, 4, 0, 0, tzinfo=dt.UTC)
    with hotline.sessions.begin() as s:
        attendance.clock(s, a1, "in", t0, TZ)
    for kind, when, error in (
        ("in", t0 + dt.timedelta(hours=1), "already-clocked-in"),
        ("sideways", t0 + dt.timedelta(hours=1), "invalid-input"),
    ):
        try:
            with hotline.sessions.begin() as s:
                attendance.clock(s, a1, kind, when, TZ)
        except DomainError as err:
            assert err.error_id == error
        else:
            raise AssertionError(f"{kind} was accepted")
    assert _clock_count(hotline, a1) == 1
    with hotline.sessions.begin() as s:
        attendance.clock(s, a1, "out", t0 + dt.timedelta(hours=9), TZ)
    try:
        with hotline.sessions.begin() as s:
            attendance.clock(s, a1, "out", t0 + dt.timedelta(hours=10), TZ)
    except DomainError as err:
        assert err.error_id == "not-clocked-in" and web_errors.status(err) == 409
    else:
        raise AssertionError("second clock-out was accepted")
    assert _clock_count(hotline, a1) == 2
    # A clock-in forgotten for more than 16 hours no longer counts: she may clock in again.
    with hotline.sessions.begin() as s:
        attendance.clock(s, a1, "in", t0 + dt.timedelta(days=1), TZ)
        assert not attendance.clock_status(s, a1, t0 + dt.timedelta(days=1, hours=17)).clocked_in
        attendance.clock(s, a1, "in", t0 + dt.timedelta(days=1, hours=17), TZ)
    assert _clock_count(hotline, a1) == 4


def test_agent_clocks_in_and_out_through_the_api(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a1 = _agent(hotline, "agent1")
    c = login(app.test_client(), "agent1")
    token = csrf(c, "/agent")
    h = {"X-CSRFToken": token}

    r = c.get("/api/v1/agent/attendance")
    assert r.status_code == 200 and r.get_json()["clocked_in"] is False
    assert_valid("AttendanceStatus", r.get_json())
    assert c.post("/api/v1/agent/clock", json={"kind": "in"}).status_code == 400  # no CSRF token
    r = c.post("/api/v1/agent/clock", json={"kind": "lunch"}, headers=h)
    assert r.status_code == 400 and r.get_json()["error"] == "invalid-input"
    assert c.post("/api/v1/agent/clock", data="in", headers=h).status_code == 400
    assert _clock_count(hotline, a1) == 0

    r = c.post("/api/v1/agent/clock", json={"kind": "in"}, headers=h)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (
        body["kind"] == "in"
        and body["status"]["clocked_in"]
        and body["status"]["clocked_in_since"] == body["at"]
    )
    assert_valid("AttendanceClockResult", body)
    r = c.post("/api/v1/agent/clock", json={"kind": "in"}, headers=h)
    assert r.status_code == 409 and r.get_json()["error"] == "already-clocked-in"
    assert r.get_json()["message"].startswith("您已打卡上班")  # agent1 reads Chinese
    assert_valid("Error", r.get_json())
    assert _clock_count(hotline, a1) == 1

    assert c.post("/api/v1/agent/clock", json={"kind": "out"}, headers=h).status_code == 200
    r = c.post("/api/v1/agent/clock", json={"kind": "out"}, headers=h)
    assert r.status_code == 409 and r.get_json()["error"] == "not-clocked-in"
    assert r.get_json()["message"] == "您尚未打卡上班。"
    assert _clock_count(hotline, a1) == 2
    assert c.get("/api/v1/agent/attendance").get_json()["clocked_in"] is False


def test_roles_guard_the_attendance_api(web: tuple[Flask, SocketIO], hotline: Hotline) -> None:
    app, _ = web
    anon = app.test_client()
    assert anon.get("/api/v1/adherence/now").status_code == 401
    assert anon.get("/api/v1/agent/attendance").status_code == 401
    agent = login(app.test_client(), "agent1")
    for path in (
        "/api/v1/adherence/now",
        "/api/v1/adherence?from=2026-03-01&to=2026-03-02",
        "/api/v1/attendance/ledger",
        "/schedule/attendance",
    ):
        assert agent.get(path).status_code == 403, path
    planner = login(app.test_client(), "planner")
    token = csrf(planner, "/schedule/attendance")
    r = planner.post("/api/v1/agent/clock", json={"kind": "in"}, headers={"X-CSRFToken": token})
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    assert planner.get("/api/v1/agent/attendance").status_code == 403
    for user in ("planner", "super1", "admin"):
        client = login(app.test_client(), user)
        assert client.get("/schedule/attendance").status_code == 200, user
        assert client.get("/api/v1/adherence/now").status_code == 200, user


def test_planner_reads_adherence_and_the_ledger_through_the_api(
    web: tuple[Flask, SocketIO],
    hotline: Hotline,
) -> None:
    app, _ = web
    a1, a2 = _script_march(hotline)
    c = login(app.test_client(), "planner")
    page = c.get("/schedule/attendance")
    assert page.status_code == 200 and b"<hl-attendance" in page.data

    r = c.get("/api/v1/attendance/ledger?month=2026-03")
    assert r.status_code == 200
    body = r.get_json()
    assert_valid("AttendanceLedgers", body)
    by = {x["agent_id"]: x for x in body["ledgers"]}
    assert by[a1]["score"] == -7.5 and by[a1]["level"] == "penalty"
    assert [e["kind"] for e in by[a1]["entries"]] == [
        "late",
        "absence-late",
        "absence",
        "logouts",
        "excess-swap",
    ]
    assert by[a2]["score"] == 4.5 and by[a2]["level"] == "warning"
    assert body["ledgers"][0]["agent_id"] == a1  # lowest score first
    assert "迟到" in by[a1]["entries"][0]["detail"]  # the planner reads Chinese by default

    r = c.get(f"/api/v1/adherence?from=2026-03-02&to=2026-03-09&agent_id={a1}")
    assert r.status_code == 200
    assert_valid("AttendanceHistory", r.get_json())
    assert [x["day"] for x in r.get_json()["shifts"]] == [
        "2026-03-02",
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
        "2026-03-06",
        "2026-03-09",
    ]

    r = c.get("/api/v1/adherence/now")
    assert r.status_code == 200
    assert_valid("AttendanceNow", r.get_json())
    assert {x["agent_id"] for x in r.get_json()["agents"]} >= {a1, a2}

    for bad in (
        "/api/v1/adherence?from=2026-03-09&to=2026-03-01",
        "/api/v1/adherence?from=2026-01-01&to=2026-06-01",
        "/api/v1/adherence?from=yesterday&to=2026-03-01",
        "/api/v1/adherence?from=2026-03-01&to=2026-03-02&agent_id=x",
        "/api/v1/attendance/ledger?month=2026-13",
        "/api/v1/attendance/ledger?month=March",
    ):
        r = c.get(bad)
        assert r.status_code == 400 and r.get_json()["error"] == "invalid-input", bad
        assert r.get_json()["message"].startswith("输入无效")


def test_a_forgotten_clock_out_does_not_make_the_next_shift_look_attended() -> None:
    from roster import adherence as adh

    shifts = [
        adh.ScheduledShift("7", at(2, 8), at(2, 17, 30), "E"),
        adh.ScheduledShift("7", at(3, 8), at(3, 17, 30), "E"),
    ]
    # Clocked in on 2 March and never out; desk logged in on both days.
    clock = adh.clock_entries([("7", at(2, 7, 58), "in")], attendance.MAX_OPEN_CLOCK)
    desk = [
        adh.StateEntry("7", at(2, 8), "available"),
        adh.StateEntry("7", at(3, 17, 30), "offline"),
    ]
    first, second = adh.attendance_adherence(shifts, clock, desk)
    assert first.late_start_min == 0 and first.early_leave_min == 0 and first.logged_in_min == 570
    assert second.absent and second.logged_in_min == 570 and second.logouts == 0
    try:
        adh.clock_entries([("7", at(2, 8), "lunch")])
    except ValueError as err:
        assert "lunch" in str(err)
    else:
        raise AssertionError("an unknown clock event was accepted")


def _publish_may(hotline: Hotline, shifts: dict[int, dict[int, str]]) -> None:
    """A published May 2026 roster: agent id -> day of month -> template code (queue support)."""
    with hotline.sessions.begin() as s:
        plan = RosterPlan(
            start=dt.date(2026, 5, 1),
            days=31,
            status="published",
            name="May",
            published_at=dt.datetime(2026, 4, 20, tzinfo=dt.UTC),
        )
        s.add(plan)
        s.flush()
        for agent_id, days in shifts.items():
            for day, code in days.items():
                s.add(
                    RosterShift(
                        roster_id=plan.id,
                        agent_id=agent_id,
                        day=dt.date(2026, 5, day),
                        template_code=code,
                        queue_skill="support",
                    )
                )


def may(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 5, day, hour, minute, tzinfo=SH)


def test_nobody_clocks_out_before_the_relief_has_arrived_unless_she_confirms(
    web: tuple[Flask, SocketIO], hotline: Hotline, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    app, _ = web
    a1, a2 = _agent(hotline, "agent1"), _agent(hotline, "agent2")
    # agent1 works the early shift (to 17:30), agent2 relieves her with the late one (16:00-01:00).
    _publish_may(hotline, {a1: {4: "E", 5: "E"}, a2: {4: "L", 5: "L"}})
    with hotline.sessions.begin() as s:
        mine = s.scalar(
            select(RosterShift).where(
                RosterShift.agent_id == a1, RosterShift.day == dt.date(2026, 5, 4)
            )
        )
        assert mine is not None
        mine.seat, mine.break_start = 3, may(4, 12)
    with hotline.sessions.begin() as s:
        attendance.clock(s, a1, "in", may(4, 7, 55), TZ)
        # Her console shows where she sits and when her break is.
        shift = attendance.agent_view(s, a1, TZ, may(4, 9).astimezone(dt.UTC)).current_shift
        assert shift is not None
        now = schemas.shift_dict(shift)
        assert now["seat"] == 3 and now["break_start"] == may(4, 12).astimezone(dt.UTC).isoformat()
        assert now["break_end"] == may(4, 13).astimezone(dt.UTC).isoformat()
    # 4 May 17:32: agent2 has not clocked in. Refused, naming her; nothing stored.
    try:
        with hotline.sessions.begin() as s:
            attendance.clock(s, a1, "out", may(4, 17, 32), TZ)
    except DomainError as err:
        assert (
            err.error_id == "relief-not-arrived"
            and web_errors.status(err) == 409
            and err.detail == "Agent Kim"
        )
    else:
        raise AssertionError("clocked out without her relief")
    assert _clock_count(hotline, a1) == 1
    # Through the agent console: the same refusal in her language, then "clock out anyway".
    monkeypatch.setattr("console.attendance.views._now", lambda: may(4, 17, 33).astimezone(dt.UTC))
    c = login(app.test_client(), "agent1")
    h = {"X-CSRFToken": csrf(c, "/agent")}
    r = c.post("/api/v1/agent/clock", json={"kind": "out"}, headers=h)
    assert r.status_code == 409 and r.get_json()["error"] == "relief-not-arrived"
    assert "Agent Kim" in r.get_json()["message"] and "接班人" in r.get_json()["message"]
    assert _clock_count(hotline, a1) == 1
    r = c.post("/api/v1/agent/clock", json={"kind": "out", "without_relief": True}, headers=h)
    assert r.status_code == 200 and r.get_json()["source"] == "relief-missing"
    assert _clock_count(hotline, a1) == 2
    # 5 May: agent2 is there first; agent1 leaves without a word.
    with hotline.sessions.begin() as s:
        attendance.clock(s, a1, "in", may(5, 7, 58), TZ)
        attendance.clock(s, a2, "in", may(5, 15, 58), TZ)
    with hotline.sessions.begin() as s:
        assert attendance.clock(s, a1, "out", may(5, 17, 31), TZ).source == "console"
    # 01:05 on 6 May: nobody is rostered after the late shift, so agent2 just leaves.
    with hotline.sessions.begin() as s:
        assert attendance.clock(s, a2, "out", may(6, 1, 5), TZ).source == "console"
    # The supervisor's history marks the shift she left before her relief arrived.
    with hotline.sessions() as s:
        out = schemas.history_dict(
            attendance.history(
                s, dt.date(2026, 5, 4), dt.date(2026, 5, 5), TZ, may(6, 9).astimezone(dt.UTC)
            )
        )
    assert_valid("AttendanceHistory", out)
    rows = {(r["agent_id"], r["day"]): r["without_relief"] for r in out["shifts"]}
    assert rows == {
        (a1, "2026-05-04"): True,
        (a1, "2026-05-05"): False,
        (a2, "2026-05-04"): False,
        (a2, "2026-05-05"): False,
    }


def test_the_month_ledger_exports_as_csv_for_payroll(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    import csv
    import io

    from console.core.models import AuditLog

    app, _ = web
    a1, a2 = _script_march(hotline)
    planner = login(app.test_client(), "planner")
    r = planner.get("/api/v1/attendance/ledger.csv?month=2026-03")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attendance-2026-03.csv" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    by = {int(row["agent_id"]): row for row in rows}
    # The same figures as the JSON ledger, one row per agent, every deduction listed.
    ledger = {
        x["agent_id"]: x
        for x in planner.get("/api/v1/attendance/ledger?month=2026-03").get_json()["ledgers"]
    }
    for agent_id in (a1, a2):
        assert float(by[agent_id]["score"]) == ledger[agent_id]["score"]
        assert by[agent_id]["level"] == (ledger[agent_id]["level"] or "")
        assert by[agent_id]["deductions"].count(";") == len(ledger[agent_id]["entries"]) - 1
    assert "2026-03-03 late -0.5" in by[a1]["deductions"]
    assert planner.get("/api/v1/attendance/ledger.csv?month=March").status_code == 400
    agent = login(app.test_client(), "agent1")
    assert agent.get("/api/v1/attendance/ledger.csv?month=2026-03").status_code == 403
    with hotline.sessions() as s:  # HR data leaving the system is audited
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "export", AuditLog.object_type == "attendance-ledger")
            )
            == 1
        )
