from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import func, select

from console.core.errors import DomainError
from console.core.models import (
    Agent,
    Call,
    HandoverEntry,
    Miss,
    RosterPlan,
    RosterShift,
    User,
    WeeklySummary,
)
from console.handover import jobs
from console.handover import services as handover
from console.node import Hotline
from console.scheduler import JobContext, start_scheduler
from console.users.services import create_user
from console.web import errors as web_errors
from console.workforce import services as workforce
from tests.helpers import assert_valid, csrf, login

TZ = "Asia/Shanghai"  # the default centre zone, UTC+8 all year
MONDAY = dt.date(2030, 1, 7)


def _ctx(hotline: Hotline) -> JobContext:
    return JobContext(hotline.sessions, hotline.bus, hotline.settings.timezone)


def utc(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """A local Shanghai wall time as UTC."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=dt.UTC) - dt.timedelta(hours=8)


def agent_id(hotline: Hotline, username: str) -> int:
    with hotline.sessions() as s:
        aid = s.scalar(
            select(Agent.id).join(User, Agent.user_id == User.id).where(User.username == username)
        )
    assert aid is not None
    return aid


def publish(
    hotline: Hotline, shifts: list[tuple[str, dt.date, str]], start: dt.date = MONDAY, days: int = 7
) -> None:
    with hotline.sessions.begin() as s:
        workforce.seed_templates(s)
        # Published now: later than any roster the demo data may hold, so this one is in force.
        plan = RosterPlan(
            start=start, days=days, status="published", published_at=dt.datetime.now(dt.UTC)
        )
        s.add(plan)
        s.flush()
        for username, day, code in shifts:
            aid = s.scalar(
                select(Agent.id)
                .join(User, Agent.user_id == User.id)
                .where(User.username == username)
            )
            s.add(RosterShift(roster_id=plan.id, agent_id=aid, day=day, template_code=code))


def count(hotline: Hotline, model: type) -> int:
    with hotline.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def error_of(fn: object) -> DomainError:
    with pytest.raises(DomainError) as err:
        fn()  # type: ignore[operator]
    return err.value


# ---- handover entries -----------------------------------------------------------------


def test_outgoing_agent_files_and_incoming_agent_acknowledges_once(hotline: Hotline) -> None:
    publish(hotline, [("agent1", MONDAY, "E"), ("agent2", MONDAY, "L")])
    a1, a2 = agent_id(hotline, "agent1"), agent_id(hotline, "agent2")
    filed_at = utc(MONDAY, 17, 10)
    with hotline.sessions.begin() as s:
        shift = handover.shift_to_hand_over(s, a1, filed_at, TZ)
        assert shift is not None and shift.template_code == "E" and shift.day == MONDAY
        entry = handover.file_entry(
            s,
            a1,
            [
                {"text": " Call back Mrs Li about the refund ", "ref": "C-1001"},
                {"text": "Printer jammed"},
            ],
            "Keys in drawer 2",
            filed_at,
            TZ,
        )
        entry_id = entry.id
    with hotline.sessions() as s:
        row = s.get(HandoverEntry, entry_id)
        assert row is not None
        assert row.items == [
            {"text": "Call back Mrs Li about the refund", "ref": "C-1001"},
            {"text": "Printer jammed", "ref": ""},
        ]
        assert (
            row.shift_day == MONDAY and row.template_code == "E" and row.notes == "Keys in drawer 2"
        )
        assert [e.id for e in handover.incoming(s, a2, filed_at)] == [entry_id]
        assert handover.incoming(s, a1, filed_at) == []  # one's own entry is not incoming
    with hotline.sessions.begin() as s:
        err = error_of(lambda: handover.acknowledge(s, entry_id, a1, filed_at, TZ))
        assert err.error_id == "handover-own-entry"
        # agent2's late shift starts at 16:00: at 14:30 she is not on duty yet.
        err = error_of(lambda: handover.acknowledge(s, entry_id, a2, utc(MONDAY, 14, 30), TZ))
        assert err.error_id == "handover-not-on-duty" and web_errors.status(err) == 409
        handover.acknowledge(s, entry_id, a2, utc(MONDAY, 17, 20), TZ)
    with hotline.sessions.begin() as s:
        err = error_of(lambda: handover.acknowledge(s, entry_id, a2, utc(MONDAY, 17, 25), TZ))
        assert err.error_id == "handover-already-acknowledged" and web_errors.status(err) == 409
        assert (
            web_errors.message(err, "en") == "This handover was already acknowledged by Agent Kim."
        )
    with hotline.sessions() as s:
        row = s.get(HandoverEntry, entry_id)
        assert (
            row is not None
            and row.acknowledged_by == a2
            and row.acknowledged_at == utc(MONDAY, 17, 20)
        )
        assert handover.incoming(s, a2, utc(MONDAY, 18)) == []
        assert [e.id for e in handover.taken_over(s, a2, utc(MONDAY, 18))] == [entry_id]


def test_filing_needs_a_running_or_just_ended_shift_and_happens_once(hotline: Hotline) -> None:
    publish(hotline, [("agent1", MONDAY, "E")])
    a1 = agent_id(hotline, "agent1")
    with hotline.sessions.begin() as s:
        assert (
            error_of(lambda: handover.file_entry(s, a1, [], "", utc(MONDAY, 7, 30), TZ)).error_id
            == "handover-no-shift"
        )
        assert error_of(
            lambda: handover.file_entry(s, a1, [], "", utc(MONDAY + dt.timedelta(days=1), 8), TZ)
        ).error_id == ("handover-no-shift")
        assert error_of(
            lambda: handover.file_entry(s, a1, [{"text": "  "}], "", utc(MONDAY, 12), TZ)
        ).error_id == ("handover-item-empty")
        assert (
            error_of(
                lambda: handover.file_entry(s, a1, "not a list", "", utc(MONDAY, 12), TZ)
            ).error_id
            == "invalid-input"
        )
        assert error_of(
            lambda: handover.file_entry(s, a1, [{"text": "x" * 501}], "", utc(MONDAY, 12), TZ)
        ).error_id == ("invalid-input")
    assert count(hotline, HandoverEntry) == 0
    with hotline.sessions.begin() as s:
        entry = handover.file_entry(
            s, a1, [], "", utc(MONDAY, 20), TZ
        )  # "nothing open", filed after the end
        assert entry.items == [] and entry.shift_day == MONDAY
    with hotline.sessions.begin() as s:
        err = error_of(
            lambda: handover.file_entry(s, a1, [{"text": "more"}], "", utc(MONDAY, 21), TZ)
        )
        assert err.error_id == "handover-already-filed" and web_errors.status(err) == 409
    assert count(hotline, HandoverEntry) == 1


def test_handover_miss_sweep_counts_a_late_shift_across_midnight_once(hotline: Hotline) -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    publish(hotline, [("agent1", MONDAY, "L"), ("agent2", MONDAY, "E")])
    a1, a2 = agent_id(hotline, "agent1"), agent_id(hotline, "agent2")
    with hotline.sessions.begin() as s:
        handover.file_entry(s, a2, [{"text": "Queue backlog"}], "", utc(MONDAY, 17, 25), TZ)
    with hotline.sessions.begin() as s:
        # The late shift ends at 01:00 on Tuesday; within the 30 minutes' grace nothing is counted.
        assert handover.sweep_handover_misses(s, utc(tuesday, 1, 29), TZ) == []
    with hotline.sessions.begin() as s:
        added = handover.sweep_handover_misses(s, utc(tuesday, 1, 31), TZ)
        assert [(m.agent_id, m.kind, m.ref, m.period) for m in added] == [
            (a1, "handover", "2030-01-07", "2030-01")
        ]
    with hotline.sessions.begin() as s:
        assert handover.sweep_handover_misses(s, utc(tuesday, 1, 45), TZ) == []
        assert handover.sweep_handover_misses(s, utc(tuesday, 9), TZ) == []
    with hotline.sessions() as s:
        assert s.scalars(select(Miss.agent_id)).all() == [a1]
        log = handover.handover_log(s, utc(tuesday, 9), TZ, 2)
        assert {(r.shift.agent_id, r.status) for r in log.shifts} == {
            (a1, "missing"),
            (a2, "filed"),
        }
    # Filed after the miss was counted: the entry is kept and shown as late, the miss stands.
    with hotline.sessions.begin() as s:
        handover.file_entry(s, a1, [{"text": "Callback at 9"}], "", utc(tuesday, 9, 30), TZ)
    with hotline.sessions() as s:
        log = handover.handover_log(s, utc(tuesday, 10), TZ, 2)
        assert {(r.shift.agent_id, r.status) for r in log.shifts} == {
            (a1, "filed-late"),
            (a2, "filed"),
        }
        assert s.scalars(select(Miss.agent_id)).all() == [a1]


def test_handover_timings_are_the_configured_ones(hotline: Hotline) -> None:
    publish(hotline, [("agent1", MONDAY, "E"), ("agent2", MONDAY, "L")])
    a1, a2 = agent_id(hotline, "agent1"), agent_id(hotline, "agent2")
    with hotline.sessions.begin() as s:
        workforce.update_settings(
            s,
            {
                "handover_grace_min": 90,
                "handover_file_window_h": 2,
                "handover_takeover_early_min": 15,
                "weekly_summary_remind_h": 5,
            },
        )
    with hotline.sessions.begin() as s:
        # The early shift ends at 17:30: with 90 minutes' grace nothing is missed at 18:30,
        # at 19:00 it is.
        assert handover.sweep_handover_misses(s, utc(MONDAY, 18, 30), TZ) == []
        assert [m.agent_id for m in handover.sweep_handover_misses(s, utc(MONDAY, 19), TZ)] == [a1]
    with hotline.sessions() as s:
        # Filing is open 2 h after the end; the late shift (16:00) may be taken over from 15:45.
        assert handover.shift_to_hand_over(s, a1, utc(MONDAY, 19, 29), TZ) is not None
        assert handover.shift_to_hand_over(s, a1, utc(MONDAY, 19, 31), TZ) is None
        assert not handover.on_duty(s, a2, utc(MONDAY, 15, 44), TZ)
        assert handover.on_duty(s, a2, utc(MONDAY, 15, 46), TZ)
        saturday = MONDAY + dt.timedelta(days=5)
        assert not handover.weekly_status(s, a1, utc(saturday, 11, 59), TZ).due_soon
        assert handover.weekly_status(s, a1, utc(saturday, 12), TZ).due_soon
    # Bad values are refused and change nothing.
    with hotline.sessions.begin() as s, pytest.raises(DomainError):
        workforce.update_settings(s, {"handover_grace_min": 10, "handover_file_window_h": 0})
    with hotline.sessions() as s:
        row = workforce.settings_row(s)
        assert (row.handover_grace_min, row.handover_file_window_h) == (90, 2)


def test_filing_a_late_shift_after_midnight_belongs_to_the_day_it_started(hotline: Hotline) -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    publish(hotline, [("agent1", MONDAY, "L")])
    a1 = agent_id(hotline, "agent1")
    with hotline.sessions.begin() as s:
        entry = handover.file_entry(s, a1, [{"text": "Callback at 9"}], "", utc(tuesday, 0, 50), TZ)
        assert entry.shift_day == MONDAY and entry.template_code == "L"
    with hotline.sessions.begin() as s:
        assert handover.sweep_handover_misses(s, utc(tuesday, 3), TZ) == []
    assert count(hotline, Miss) == 0


def test_handover_job_is_registered_and_idempotent(hotline: Hotline) -> None:
    publish(hotline, [("agent1", MONDAY, "E"), ("agent2", MONDAY, "E")])
    sched = start_scheduler(_ctx(hotline))
    try:
        for job_id in ("sweep_handover_misses", "remind_weekly_summaries", "sweep_weekly_misses"):
            assert sched.get_job(job_id) is not None
        assert jobs.sweep_handover_misses(_ctx(hotline), utc(MONDAY, 18)) == 2
        assert jobs.sweep_handover_misses(_ctx(hotline), utc(MONDAY, 18, 5)) == 0
    finally:
        sched.shutdown(wait=False)
    assert count(hotline, Miss) == 2


# ---- weekly summary -------------------------------------------------------------------


def test_weekly_summary_length_duplicate_and_late_rules(hotline: Hotline) -> None:
    a1, a2 = agent_id(hotline, "agent1"), agent_id(hotline, "agent2")
    wednesday = utc(MONDAY + dt.timedelta(days=2), 12)
    with hotline.sessions.begin() as s:
        err = error_of(lambda: handover.submit_summary(s, a1, "好" * 150, "改" * 49, wednesday, TZ))
        assert err.error_id == "weekly-summary-too-short" and err.detail == "199/200"
        assert "199/200" in web_errors.message(err, "zh-CN")
        assert error_of(
            lambda: handover.submit_summary(s, a1, "好" * 250, "  ", wednesday, TZ)
        ).error_id == ("weekly-summary-incomplete")
        assert (
            error_of(lambda: handover.submit_summary(s, a1, 5, "x", wednesday, TZ)).error_id
            == "invalid-input"
        )
        assert error_of(
            lambda: handover.submit_summary(
                s, a1, "a" * 100, "b" * 100, wednesday, TZ, "2030-01-08"
            )
        ).error_id == ("invalid-input")
        assert error_of(
            lambda: handover.submit_summary(
                s, a1, "a" * 100, "b" * 100, wednesday, TZ, "2030-01-14"
            )
        ).error_id == ("weekly-summary-week")
    assert count(hotline, WeeklySummary) == 0
    with hotline.sessions.begin() as s:
        on_time = handover.submit_summary(s, a1, "好" * 150, "改" * 50, wednesday, TZ)
        assert on_time.week_start == MONDAY and not on_time.late
    with hotline.sessions.begin() as s:
        err = error_of(lambda: handover.submit_summary(s, a1, "a" * 100, "b" * 100, wednesday, TZ))
        assert err.error_id == "weekly-summary-exists" and web_errors.status(err) == 409
    saturday = MONDAY + dt.timedelta(days=5)
    with hotline.sessions.begin() as s:
        assert handover.deadline(s, MONDAY, TZ) == utc(saturday, 17)
        late = handover.submit_summary(s, a2, "a" * 100, "b" * 100, utc(saturday, 17, 1), TZ)
        assert late.late
        # Monday of the next week: last week's summary may still be handed in, marked late.
        a_week_later = handover.submit_summary(
            s,
            a2,
            "c" * 100,
            "d" * 100,
            utc(MONDAY + dt.timedelta(days=7), 9),
            TZ,
            (MONDAY - dt.timedelta(days=7)).isoformat(),
        )
        assert a_week_later.late and a_week_later.week_start == MONDAY - dt.timedelta(days=7)


def test_weekly_minimum_length_is_the_configured_one(hotline: Hotline) -> None:
    a1 = agent_id(hotline, "agent1")
    with hotline.sessions.begin() as s:
        workforce.update_settings(s, {"weekly_summary_min_chars": 20})
    with hotline.sessions.begin() as s:
        assert (
            handover.submit_summary(s, a1, "a" * 10, "b" * 10, utc(MONDAY, 12), TZ).week_start
            == MONDAY
        )


def test_weekly_reminder_once_before_the_deadline_and_misses_after(hotline: Hotline) -> None:
    saturday = MONDAY + dt.timedelta(days=5)
    publish(hotline, [("agent1", MONDAY, "E"), ("agent2", saturday, "A")])
    a1, a2 = agent_id(hotline, "agent1"), agent_id(hotline, "agent2")
    with hotline.sessions.begin() as s:
        create_user(s, "agent3", "agent3", "agent")  # not on the roster: never reminded nor counted
    pushed: list[tuple[str, dict[str, object], str]] = []
    hotline.bus.emit = lambda name, data, room: pushed.append((name, data, room))
    start_scheduler(_ctx(hotline)).shutdown(wait=False)
    with hotline.sessions.begin() as s:
        handover.submit_summary(s, a2, "a" * 100, "b" * 100, utc(MONDAY, 12), TZ)
    assert jobs.remind_weekly_summaries(_ctx(hotline), utc(saturday, 14, 59)) == []
    assert jobs.remind_weekly_summaries(_ctx(hotline), utc(saturday, 15, 0)) == [a1]
    assert (
        jobs.remind_weekly_summaries(_ctx(hotline), utc(saturday, 15, 15)) == []
    )  # the next run stays quiet
    assert (
        jobs.remind_weekly_summaries(_ctx(hotline), utc(saturday, 16, 40)) == []
    )  # and so do late runs
    assert pushed == [
        (
            "weekly_summary_reminded",
            {"agent_id": a1, "due": utc(saturday, 17).isoformat()},
            f"agent:{a1}",
        )
    ]
    with hotline.sessions() as s:
        status = handover.weekly_status(s, a1, utc(saturday, 16), TZ)
        assert status.due_soon and not status.overdue and status.summary is None
    assert jobs.sweep_weekly_misses(_ctx(hotline), utc(saturday, 16, 59)) == 0
    with hotline.sessions.begin() as s:  # handed in late: still a miss
        handover.submit_summary(s, a1, "a" * 100, "b" * 100, utc(saturday, 17, 3), TZ)
    assert jobs.sweep_weekly_misses(_ctx(hotline), utc(saturday, 17, 5)) == 1
    assert jobs.sweep_weekly_misses(_ctx(hotline), utc(saturday, 17, 20)) == 0
    with hotline.sessions() as s:
        rows = [(m.agent_id, m.kind, m.ref, m.period) for m in s.scalars(select(Miss))]
    assert rows == [(a1, "weekly-summary", "2030-01-07", "2030-01")]


# ---- escalation -----------------------------------------------------------------------


def _calls(hotline: Hotline, n: int, at: dt.datetime) -> list[str]:
    with hotline.sessions.begin() as s:
        calls = [Call(caller_number=f"1380000{i:04d}", arrived_at=at) for i in range(n)]
        s.add_all(calls)
        s.flush()
        return [c.id for c in calls]


def test_escalation_levels_follow_the_configured_consequences_per_month_and_kind(
    hotline: Hotline,
) -> None:
    a1, a2 = agent_id(hotline, "agent1"), agent_id(hotline, "agent2")
    with hotline.sessions.begin() as s:
        workforce.update_settings(s, {"escalation": ["warning 警告", "fine 50", "dismissal 辞退"]})
    call_ids = _calls(hotline, 4, utc(MONDAY, 10))
    december = _calls(hotline, 1, utc(dt.date(2029, 12, 31), 10))
    now = utc(MONDAY, 12)
    with hotline.sessions.begin() as s:
        for cid in call_ids:
            handover.record_complaint(s, a1, cid, now, TZ)
        handover.record_complaint(s, a2, call_ids[0], now, TZ)
        handover.record_complaint(s, a1, december[0], now, TZ)
        s.add(Miss(agent_id=a1, kind="handover", period="2030-01", ref="2030-01-05", at=now))
    with hotline.sessions.begin() as s:
        assert (
            error_of(lambda: handover.record_complaint(s, a1, call_ids[0], now, TZ)).error_id
            == "miss-exists"
        )
        assert (
            error_of(lambda: handover.record_complaint(s, a1, "nope", now, TZ)).error_id
            == "miss-unknown-call"
        )
        assert (
            error_of(lambda: handover.record_complaint(s, 9999, call_ids[0], now, TZ)).error_id
            == "not-found"
        )
    with hotline.sessions() as s:
        levels = {
            (e.agent_id, e.kind): (e.count, e.level, e.consequence)
            for e in handover.escalations(s, "2030-01")
        }
        assert levels == {
            (a1, "complaint"): (4, 3, "dismissal 辞退"),  # capped at the last configured step
            (a1, "handover"): (1, 1, "warning 警告"),
            (a2, "complaint"): (1, 1, "warning 警告"),
        }
        assert [(e.count, e.level) for e in handover.escalations(s, "2029-12")] == [(1, 1)]
        report = handover.misses_report(s, "2030-01", a1)
        assert [
            (c.miss.kind, c.occurrence, c.level)
            for c in report.misses
            if c.miss.kind == "complaint"
        ] == [
            ("complaint", 1, 1),
            ("complaint", 2, 2),
            ("complaint", 3, 3),
            ("complaint", 4, 3),
        ]
    assert handover.level_for(7, []) == (5, "")
    assert handover.level_for(0, ["x"]) == (0, "")


# ---- web ------------------------------------------------------------------------------


def test_agent_pages_and_apis_file_acknowledge_and_summarise(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    now = dt.datetime.now(dt.UTC)
    today = workforce.local_day(now, TZ)
    # A shift running now for agent1 and agent2, whatever the time of day.
    with hotline.sessions.begin() as s:
        workforce.seed_templates(s)
        workforce.save_template(
            s, {"code": "X", "name": "all day", "start": "00:00", "end": "23:59"}
        )
    # Today and tomorrow: at 23:59 the next X is under an hour away, so agent2 is on duty.
    tomorrow = today + dt.timedelta(days=1)
    publish(
        hotline,
        [("agent1", today, "X"), ("agent2", today, "X"), ("agent2", tomorrow, "X")],
        start=today,
        days=2,
    )
    a1, a2 = agent_id(hotline, "agent1"), agent_id(hotline, "agent2")
    c1 = login(app.test_client(), "agent1")
    t1 = csrf(c1, "/handover")
    h1 = {"X-CSRFToken": t1}
    mine = c1.get("/api/v1/handover/mine").get_json()
    assert_valid("HandoverMine", mine)
    assert mine["shift"]["template_code"] == "X" and mine["entry"] is None
    r = c1.post("/api/v1/handover", json={"items": [{"text": ""}]}, headers=h1)
    assert r.status_code == 400 and r.get_json()["error"] == "handover-item-empty"
    assert r.get_json()["message"] == "第 1 条未结事项没有内容:请填写或删除该行。"
    assert count(hotline, HandoverEntry) == 0
    assert c1.post("/api/v1/handover", json={"items": []}).status_code == 400  # no CSRF token
    r = c1.post(
        "/api/v1/handover",
        json={"items": [{"text": "Call back", "ref": "C-9"}], "notes": "n"},
        headers=h1,
    )
    assert r.status_code == 201, r.get_json()
    entry = r.get_json()
    assert_valid("HandoverEntry", entry)
    assert entry["author_id"] == a1 and entry["acknowledged_by"] is None
    r = c1.post(f"/api/v1/handover/{entry['id']}/acknowledge", headers=h1)
    assert r.status_code == 409 and r.get_json()["error"] == "handover-own-entry"

    c2 = login(app.test_client(), "agent2")
    h2 = {"X-CSRFToken": csrf(c2, "/handover")}
    mine2 = c2.get("/api/v1/handover/mine").get_json()
    assert [e["id"] for e in mine2["incoming"]] == [entry["id"]]
    r = c2.post(f"/api/v1/handover/{entry['id']}/acknowledge", headers=h2)
    assert r.status_code == 200
    assert_valid("HandoverEntry", r.get_json())
    assert r.get_json()["acknowledged_by"] == a2
    r = c2.post(f"/api/v1/handover/{entry['id']}/acknowledge", headers=h2)
    assert r.status_code == 409 and r.get_json()["error"] == "handover-already-acknowledged"
    assert c2.post("/api/v1/handover/99999/acknowledge", headers=h2).status_code == 404

    r = c2.post(
        "/api/v1/weekly-summaries", json={"went_well": "short", "to_improve": "too"}, headers=h2
    )
    assert r.status_code == 400 and r.get_json()["error"] == "weekly-summary-too-short"
    r = c2.post(
        "/api/v1/weekly-summaries",
        json={"went_well": "w" * 120, "to_improve": "i" * 80},
        headers=h2,
    )
    assert r.status_code == 201
    assert_valid("WeeklySummary", r.get_json())
    weekly = c2.get("/api/v1/weekly-summaries/mine").get_json()
    assert_valid("WeeklyStatus", weekly)
    assert weekly["summary"]["chars"] == 200

    # Her own misses are transparent to the agent, nobody else's.
    with hotline.sessions.begin() as s:
        s.add(
            Miss(
                agent_id=a2,
                kind="handover",
                period=handover.period_of(today),
                ref="2000-01-01",
                at=now,
            )
        )
        s.add(
            Miss(
                agent_id=a1,
                kind="handover",
                period=handover.period_of(today),
                ref="2000-01-02",
                at=now,
            )
        )
    own = c2.get("/api/v1/misses/mine").get_json()
    assert_valid("MissReport", own)
    assert [(m["agent_id"], m["level"], m["consequence"]) for m in own["misses"]] == [
        (a2, 1, "verbal warning")
    ]
    assert c2.get("/api/v1/misses/mine?period=bad").status_code == 400

    # Agents may not read the log, the misses or record complaints.
    assert c2.get("/schedule/handover").status_code == 403
    assert c2.get("/api/v1/handover").status_code == 403
    assert c2.get("/api/v1/misses").status_code == 403
    assert c2.get("/api/v1/weekly-summaries").status_code == 403
    assert (
        c2.post("/api/v1/misses", json={"agent_id": a1, "call_id": "x"}, headers=h2).status_code
        == 403
    )


def test_supervisor_sees_the_log_and_records_complaints(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    a1 = agent_id(hotline, "agent1")
    now = dt.datetime.now(dt.UTC)
    (call_id,) = _calls(hotline, 1, now)
    sup = login(app.test_client(), "super1")
    h = {"X-CSRFToken": csrf(sup, "/schedule/handover")}
    assert sup.get("/handover").status_code == 403  # the agent page is for agents
    assert sup.post("/api/v1/handover", json={"items": []}, headers=h).status_code == 403
    r = sup.post("/api/v1/misses", json={"agent_id": a1, "call_id": call_id}, headers=h)
    assert r.status_code == 201, r.get_json()
    assert_valid("Miss", r.get_json())
    r = sup.post("/api/v1/misses", json={"agent_id": a1, "call_id": call_id}, headers=h)
    assert r.status_code == 409 and r.get_json()["error"] == "miss-exists"
    r = sup.post("/api/v1/misses", json={"agent_id": "one", "call_id": call_id}, headers=h)
    assert r.status_code == 400 and r.get_json()["error"] == "invalid-input"
    period = f"{workforce.local_day(now, TZ):%Y-%m}"
    report = sup.get(f"/api/v1/misses?period={period}").get_json()
    assert_valid("MissReport", report)
    assert report["agents"][0]["kinds"]["complaint"]["level"] == 1
    assert report["agents"][0]["kinds"]["complaint"]["consequence"] == "verbal warning"
    assert sup.get("/api/v1/misses?period=2030-13").status_code == 400
    log = sup.get("/api/v1/handover?days=3").get_json()
    assert_valid("HandoverLog", log)
    assert sup.get("/api/v1/handover?days=0").status_code == 400
    week = handover.week_start_of(workforce.local_day(now, TZ)).isoformat()
    sums = sup.get(f"/api/v1/weekly-summaries?week_start={week}").get_json()
    assert_valid("WeeklySummaryList", sums)
    # A scheduler reads the log and misses but does not record complaints.
    planner = login(app.test_client(), "planner")
    hp = {"X-CSRFToken": csrf(planner, "/schedule/handover")}
    assert planner.get("/api/v1/misses").status_code == 200
    assert (
        planner.post(
            "/api/v1/misses", json={"agent_id": a1, "call_id": call_id}, headers=hp
        ).status_code
        == 403
    )


def test_a_late_first_run_of_the_reminder_job_still_reminds(hotline: Hotline) -> None:
    # The scheduler was down at 15:00: the 16:40 run catches up, once.
    saturday = MONDAY + dt.timedelta(days=5)
    publish(hotline, [("agent1", MONDAY, "E")])
    a1 = agent_id(hotline, "agent1")
    start_scheduler(_ctx(hotline)).shutdown(wait=False)
    assert jobs.remind_weekly_summaries(_ctx(hotline), utc(saturday, 16, 40)) == [a1]
    assert jobs.remind_weekly_summaries(_ctx(hotline), utc(saturday, 16, 55)) == []
    assert (
        jobs.remind_weekly_summaries(_ctx(hotline), utc(saturday, 17, 0)) == []
    )  # the deadline has passed
