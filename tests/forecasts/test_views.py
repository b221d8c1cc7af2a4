from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIO
from sqlalchemy import func, select

from console.core.models import Call, ForecastInterval, Queue
from console.node import Hotline
from console.users.services import create_user
from roster.erlang import required_agents, with_shrinkage
from tests.helpers import assert_valid, csrf, login

GOOD_CSV = "start,calls,aht_s\n2030-01-07T09:00,12,180\n2030-01-07T09:30,20,200\n"
BAD_CSV = "start,calls,aht_s\n2030-01-07T09:00,12,180\n2030-01-07T09:30,lots,200\n"
WEEK = {"since": "2030-01-06T16:00:00Z", "until": "2030-01-13T16:00:00Z"}


def _scheduler(
    app: Flask, hotline: Hotline, name: str = "sched1", language: str = "zh-CN"
) -> tuple[FlaskClient, str]:
    with hotline.sessions.begin() as s:
        create_user(s, name, name, "scheduler", language=language)
    c = login(app.test_client(), name)
    return c, csrf(c, "/schedule/forecast")


def _queue_id(hotline: Hotline) -> int:
    with hotline.sessions() as s:
        qid = s.scalar(select(Queue.id).where(Queue.name == "support"))
    assert qid is not None
    return qid


def _rows(hotline: Hotline, queue_id: int) -> int:
    with hotline.sessions() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(ForecastInterval)
                .where(ForecastInterval.queue_id == queue_id)
            )
            or 0
        )


def test_agents_may_not_see_or_change_the_forecast(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    qid = _queue_id(hotline)
    c = login(app.test_client(), "agent1")
    token = csrf(c, "/agent")
    h = {"X-CSRFToken": token}
    assert c.get("/schedule/forecast").status_code == 403
    assert c.get(f"/api/v1/queues/{qid}/forecast").status_code == 403
    assert (
        c.post(
            f"/api/v1/queues/{qid}/forecast/import", json={"csv": GOOD_CSV}, headers=h
        ).status_code
        == 403
    )
    assert (
        c.put(
            f"/api/v1/queues/{qid}/staffing-settings", json={"shrinkage": 0.1}, headers=h
        ).status_code
        == 403
    )
    assert _rows(hotline, qid) == 0
    sched, _ = _scheduler(app, hotline)
    assert (
        sched.post(f"/api/v1/queues/{qid}/forecast/import", json={"csv": GOOD_CSV}).status_code
        == 400
    )  # no CSRF


def test_scheduler_imports_a_csv_and_reads_the_requirement(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    qid = _queue_id(hotline)
    c, token = _scheduler(app, hotline)
    h = {"X-CSRFToken": token}

    r = c.post(f"/api/v1/queues/{qid}/forecast/import", json={"csv": BAD_CSV}, headers=h)
    assert r.status_code == 400 and r.get_json()["error"] == "forecast-csv-invalid"
    assert "行 3" in r.get_json()["message"]
    en, en_token = _scheduler(app, hotline, "sched2", "en")
    r = en.post(
        f"/api/v1/queues/{qid}/forecast/import",
        data=BAD_CSV.encode(),
        content_type="text/csv",
        headers={"X-CSRFToken": en_token},
    )
    assert r.status_code == 400 and "line 3" in r.get_json()["message"]
    assert _rows(hotline, qid) == 0

    r = c.post(
        f"/api/v1/queues/{qid}/forecast/import", data=GOOD_CSV, content_type="text/csv", headers=h
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"imported": 2, "week": "2030-W02"}

    r = c.get(f"/api/v1/queues/{qid}/forecast", query_string=WEEK)
    assert r.status_code == 200
    body = r.get_json()
    assert_valid("Forecast", body)
    assert body["model"] == "erlang_c" and body["settings"]["shrinkage"] == 0.3
    first, second = body["rows"]
    # 09:00 in Asia/Shanghai is 01:00 UTC.
    assert dt.datetime.fromisoformat(first["start"]) == dt.datetime(2030, 1, 7, 1, 0, tzinfo=dt.UTC)
    assert first["calls"] == 12 and first["aht_s"] == 180 and first["edited"] is False
    assert first["traffic_erlangs"] == 1.2
    n = required_agents(12, 180, 1800, 0.8, 20)
    assert first["agents"] == n and first["agents_with_shrinkage"] == with_shrinkage(n, 0.3)
    assert first["service_level"] >= 0.8 and 0 < first["occupancy"] < 1 and first["asa_s"] >= 0
    assert second["agents"] == required_agents(20, 200, 1800, 0.8, 20)

    r = c.put(
        f"/api/v1/queues/{qid}/forecast/{first['start']}",
        json={"calls": 30, "aht_s": 240},
        headers=h,
    )
    assert r.status_code == 200 and r.get_json()["edited"] is True
    r = c.put(
        f"/api/v1/queues/{qid}/forecast/{first['start']}",
        json={"calls": -1, "aht_s": 240},
        headers=h,
    )
    assert r.status_code == 400 and r.get_json()["error"] == "invalid-input"
    r = c.put(
        f"/api/v1/queues/{qid}/forecast/2030-01-07T05:00:00Z",
        json={"calls": 1, "aht_s": 240},
        headers=h,
    )
    assert r.status_code == 404
    row = c.get(f"/api/v1/queues/{qid}/forecast", query_string=WEEK).get_json()["rows"][0]
    assert row["calls"] == 30 and row["edited"] is True
    assert row["agents"] == required_agents(30, 240, 1800, 0.8, 20)
    assert c.get("/api/v1/queues/999/forecast").status_code == 404


def test_generate_from_call_history_keeps_edited_rows(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    qid = _queue_id(hotline)
    start = dt.date(2030, 1, 7)  # a Monday
    with hotline.sessions.begin() as s:
        for day in range(1, 15):
            at = dt.datetime(2030, 1, 7, 1, 5, tzinfo=dt.UTC) - dt.timedelta(
                days=day
            )  # 09:05 local
            for i in range(4):
                s.add(
                    Call(
                        caller_number=f"+86138000000{i}",
                        queue_id=qid,
                        arrived_at=at + dt.timedelta(minutes=i),
                        talk_s=200.0,
                        wrap_up_s=40.0,
                        status="wrapped",
                    )
                )
    c, token = _scheduler(app, hotline)
    h = {"X-CSRFToken": token}
    r = c.post(
        f"/api/v1/queues/{qid}/forecast/generate",
        json={"start": start.isoformat(), "weeks": 1},
        headers=h,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["generated"] == 7 * 48
    rows = c.get(f"/api/v1/queues/{qid}/forecast", query_string=WEEK).get_json()["rows"]
    assert len(rows) == 7 * 48
    nine = next(r for r in rows if r["start"].startswith("2030-01-07T01:00"))
    assert round(nine["calls"], 2) == 4 and nine["aht_s"] == 240 and nine["agents"] >= 1
    assert next(r for r in rows if r["start"].startswith("2030-01-07T03:00"))["calls"] == 0

    assert (
        c.put(
            f"/api/v1/queues/{qid}/forecast/{nine['start']}",
            json={"calls": 9, "aht_s": 300},
            headers=h,
        ).status_code
        == 200
    )
    r = c.post(
        f"/api/v1/queues/{qid}/forecast/generate",
        json={"start": start.isoformat(), "weeks": 1},
        headers=h,
    )
    assert r.get_json()["generated"] == 7 * 48 - 1
    rows = c.get(f"/api/v1/queues/{qid}/forecast", query_string=WEEK).get_json()["rows"]
    kept = next(r for r in rows if r["start"] == nine["start"])
    assert kept["calls"] == 9 and kept["aht_s"] == 300 and kept["edited"] is True
    assert _rows(hotline, qid) == 7 * 48

    empty = next(q for q in (1, 2) if q != qid)
    r = c.post(
        f"/api/v1/queues/{empty}/forecast/generate",
        json={"start": start.isoformat(), "weeks": 1},
        headers=h,
    )
    assert r.status_code == 400 and r.get_json()["error"] == "forecast-no-history"
    r = c.post(
        f"/api/v1/queues/{qid}/forecast/generate",
        json={"start": start.isoformat(), "weeks": 0},
        headers=h,
    )
    assert r.status_code == 400 and r.get_json()["error"] == "invalid-input"


def test_staffing_settings_are_validated_and_change_the_requirement(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    qid = _queue_id(hotline)
    c, token = _scheduler(app, hotline)
    h = {"X-CSRFToken": token}
    url = f"/api/v1/queues/{qid}/staffing-settings"
    defaults = c.get(url).get_json()
    assert_valid("StaffingSettings", defaults)
    assert defaults == {
        "queue_id": qid,
        "interval_min": 30,
        "target_sl": 0.8,
        "target_answer_s": 20.0,
        "shrinkage": 0.3,
        "max_occupancy": None,
        "patience_s": None,
    }
    for bad in (
        {"target_sl": 1.5},
        {"shrinkage": "x"},
        {"shrinkage": 1},
        {"interval_min": 20},
        {"max_occupancy": 0},
        {"patience_s": -5},
        {"target_answer_s": True},
        {"colour": 1},
        {"target_sl": 0.9, "shrinkage": -0.1},
    ):
        r = c.put(url, json=bad, headers=h)
        assert r.status_code == 400 and r.get_json()["error"] == "invalid-input", bad
    assert c.get(url).get_json() == defaults

    r = c.put(url, json={"target_sl": 0.9, "shrinkage": 0.25, "patience_s": 90}, headers=h)
    assert r.status_code == 200 and r.get_json()["patience_s"] == 90
    assert (
        c.post(
            f"/api/v1/queues/{qid}/forecast/import", json={"csv": GOOD_CSV}, headers=h
        ).status_code
        == 200
    )
    body = c.get(f"/api/v1/queues/{qid}/forecast", query_string=WEEK).get_json()
    first = body["rows"][0]
    assert_valid("Forecast", body)
    assert body["model"] == "erlang_a" and first["p_abandon"] is not None
    n = required_agents(12, 180, 1800, 0.9, 20, patience_s=90)
    assert first["agents"] == n and first["agents_with_shrinkage"] == with_shrinkage(n, 0.25)
    r = c.put(url, json={"patience_s": None}, headers=h)
    assert (
        r.status_code == 200
        and r.get_json()["patience_s"] is None
        and r.get_json()["target_sl"] == 0.9
    )


def test_past_intervals_show_the_calls_that_came_and_the_forecast_accuracy(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    from console.forecasts import schemas
    from console.forecasts import services as forecasts

    app, _ = web
    qid = _queue_id(hotline)
    c, token = _scheduler(app, hotline)
    assert (
        c.post(
            f"/api/v1/queues/{qid}/forecast/import",
            json={"csv": GOOD_CSV},
            headers={"X-CSRFToken": token},
        ).status_code
        == 200
    )
    nine = dt.datetime(
        2030, 1, 7, 1, 0, tzinfo=dt.UTC
    )  # 09:00 in Shanghai: forecast 12, then 20 at 09:30
    arrivals = [nine + dt.timedelta(minutes=m) for m in (0, 5, 10, 29.99)] + [
        nine + dt.timedelta(minutes=m) for m in (30, 59)
    ]
    arrivals.append(nine + dt.timedelta(minutes=61))  # after both intervals: not counted
    with hotline.sessions.begin() as s:
        other = next(q for q in (1, 2) if q != qid)
        s.add(
            Call(
                caller_number="+8613800000000",
                queue_id=other,
                arrived_at=nine + dt.timedelta(minutes=1),
                status="wrapped",
            )
        )
        for i, at in enumerate(arrivals):
            s.add(
                Call(
                    caller_number=f"+86138000000{i:02d}",
                    queue_id=qid,
                    arrived_at=at,
                    status="wrapped",
                )
            )
    since, until = (
        dt.datetime.fromisoformat(WEEK["since"]),
        dt.datetime.fromisoformat(WEEK["until"]),
    )
    with hotline.sessions() as s:
        week = forecasts.table(s, qid, since, until)
        done = schemas.table_dict(
            week, forecasts.actual_calls(s, week, nine + dt.timedelta(hours=2))
        )
        half = schemas.table_dict(
            week, forecasts.actual_calls(s, week, nine + dt.timedelta(minutes=45))
        )
    assert_valid("Forecast", done)
    assert [r["actual_calls"] for r in done["rows"]] == [4, 2]
    # WAPE = (|12 - 4| + |20 - 2|) / 6; bias = (32 - 6) / 6.
    assert done["accuracy"] == {
        "intervals": 2,
        "forecast_calls": 32.0,
        "actual_calls": 6,
        "wape_pct": 433.3,
        "bias_pct": 433.3,
    }
    # The 09:30 interval is not over yet at 09:45: no actual, not in the accuracy.
    assert [r["actual_calls"] for r in half["rows"]] == [4, None]
    assert half["accuracy"]["intervals"] == 1 and half["accuracy"]["wape_pct"] == 200.0
    # Through the API (the week is in the future here): no actuals yet.
    body = c.get(f"/api/v1/queues/{qid}/forecast", query_string=WEEK).get_json()
    assert body["accuracy"] is None and [r["actual_calls"] for r in body["rows"]] == [None, None]
