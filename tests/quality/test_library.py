"""The recording library and the player's data on the API: recorded calls only, newest first,
each filter (days in the centre's zone, metrics and failed rules read from the stored
analysis), saved filters and whose they are, the waveform peaks (audited), 403 for the other
roles (a page that says so), validation errors in both languages; every answer as
documented."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIO
from sqlalchemy import select

from console.core.i18n import translate
from console.core.models import Agent, AuditLog, Queue, User, utcnow
from console.node import Hotline
from console.quality import services as quality
from console.quality.jobs import run_batch
from console.quality.services import RunTrigger
from console.recordings.store import Channel, parse_keys
from console.users.services import create_user
from tests.helpers import assert_valid
from tests.quality.recorded import (
    burst,
    new_call,
    record_simple,
    recorded_call,
    reviewer,
    store_analysis,
    write_recording,
)

LIB = "/api/v1/quality/recordings"
CHOICES = "/api/v1/quality/filter-choices"
SAVED = "/api/v1/quality/saved-filters"
PAGE = "/quality/recordings"
CENTRE = ZoneInfo("Asia/Shanghai")


def _ids(client: FlaskClient, **params: Any) -> list[str]:
    r = client.get(LIB, query_string=params)
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert_valid("LibraryPage", body)
    return [row["call_id"] for row in body["items"]]


def _local(*args: int) -> dt.datetime:
    """A wall time of the centre (Asia/Shanghai), as the UTC instant it is."""
    return dt.datetime(*args, tzinfo=CENTRE).astimezone(dt.UTC)


def _id_of(hotline: Hotline, agent: str | None = None, queue: str | None = None) -> int:
    with hotline.sessions() as s:
        if agent:
            found = s.scalar(select(Agent.id).join(User).where(User.username == agent))
        else:
            found = s.scalar(select(Queue.id).where(Queue.name == queue))
        assert found is not None
        return int(found)


@pytest.fixture
def english_reviewer(hotline: Hotline) -> str:
    with hotline.sessions.begin() as s:
        create_user(s, "qa02", "qa02", "qa", "Reviewer Ann", "en")
    return "qa02"


def test_the_library_lists_recorded_calls_newest_first_a_page_at_a_time(
    web: tuple[Flask, SocketIO], hotline: Hotline, qa_user: str
) -> None:
    app, _ = web
    now = utcnow()
    calls = [recorded_call(hotline, arrived_at=now - dt.timedelta(minutes=i)) for i in range(4)]
    # Not in the library: a channel still being recorded, a call without recordings.
    half = new_call(hotline, now)
    write_recording(hotline, half, Channel.CALLER, burst(), 8000)
    write_recording(hotline, half, Channel.AGENT, burst(), 8000, finish=False)
    new_call(hotline, now)
    qa, _ = reviewer(app, qa_user, PAGE)

    assert _ids(qa) == calls
    r = qa.get(LIB, query_string={"limit": 2, "offset": 1})
    body = r.get_json()
    assert body["total"] == 4 and [row["call_id"] for row in body["items"]] == calls[1:3]
    row = body["items"][0]
    assert (row["agent"], row["queue"], row["duration_s"]) == ("坐席 Lin", "support", 3.0)
    assert row["analysis"] == {
        "status": "waiting",
        "current": False,
        "error": None,
        "error_message": None,
    }
    assert row["metrics"] == dict.fromkeys(
        ("longest_silence_s", "overtalk_s", "agent_first_word_s", "hold_s")
    )
    assert row["flags"] == [] and row["failed_rules"] == []

    # The analysis job's own results, and a failed one with its reason in her language.
    run_batch(
        hotline.sessions,
        parse_keys(hotline.settings.effective_recording_keys),
        1,
        RunTrigger.MANUAL,
    )
    store_analysis(hotline, calls[3], status="failed")
    items = qa.get(LIB).get_json()["items"]
    done = items[0]
    assert done["analysis"]["status"] == "done" and done["analysis"]["current"] is True
    assert isinstance(done["metrics"]["longest_silence_s"], float)
    failed = items[3]["analysis"]
    assert failed["status"] == "failed" and failed["error"] == "recording-corrupt"
    assert failed["error_message"] == translate("error.recording-corrupt", "zh-CN", detail="")


def test_each_filter_narrows_the_library(
    web: tuple[Flask, SocketIO], hotline: Hotline, qa_user: str
) -> None:
    app, _ = web
    # a: just after midnight on 2 Nov in the centre (still 1 Nov in UTC); b: late on 1 Nov.
    a = recorded_call(
        hotline,
        agent="agent1",
        queue="support",
        arrived_at=_local(2026, 11, 2, 0, 30),
        talk_s=30,
        disposition="complaint",
        tags=["vip"],
    )
    b = recorded_call(
        hotline,
        agent="agent2",
        queue="sales",
        arrived_at=_local(2026, 11, 1, 23, 30),
        talk_s=200,
        disposition="resolved",
        tags=["billing"],
    )
    c = recorded_call(
        hotline, agent="agent1", queue="sales", arrived_at=_local(2026, 11, 3, 12), talk_s=90
    )
    store_analysis(
        hotline,
        a,
        {"longest_silence_s": 12.0, "overtalk_s": 1.0, "agent_first_word_s": 2.0, "hold_s": 0},
        failed=["forbidden"],
    )
    store_analysis(
        hotline,
        b,
        {"longest_silence_s": 3.0, "overtalk_s": 6.5, "agent_first_word_s": 8.0, "hold_s": 0},
        failed=["greeting"],
    )
    qa, _ = reviewer(app, qa_user, PAGE)
    agent1, sales = _id_of(hotline, agent="agent1"), _id_of(hotline, queue="sales")

    assert _ids(qa) == [c, a, b]
    assert _ids(qa, agent=agent1) == [c, a]
    assert _ids(qa, queue=sales) == [c, b]
    assert _ids(qa, **{"from": "2026-11-02", "to": "2026-11-02"}) == [a]
    assert _ids(qa, **{"from": "2026-11-01", "to": "2026-11-01"}) == [b]
    assert _ids(qa, **{"from": "2026-11-02"}) == [c, a]
    assert _ids(qa, to="2026-11-02") == [a, b]
    assert _ids(qa, disposition="complaint") == [a]
    assert _ids(qa, tag="billing") == [b]
    assert _ids(qa, min_duration=60) == [c, b]
    assert _ids(qa, max_duration=90) == [c, a]
    assert _ids(qa, min_duration=60, max_duration=90) == [c]
    assert _ids(qa, silence=10) == [a]
    assert _ids(qa, overtalk=5) == [b]
    assert _ids(qa, first_word=5) == [b]
    assert _ids(qa, failed_rule="any") == [a, b]
    assert _ids(qa, failed_rule="forbidden") == [a]
    assert _ids(qa, failed_rule="closing") == []
    assert _ids(qa, agent=agent1, silence=10, failed_rule="forbidden", tag="vip") == [a]
    assert _ids(qa, agent=agent1, overtalk=5) == []

    rows = {row["call_id"]: row for row in qa.get(LIB).get_json()["items"]}
    assert rows[a]["flags"] == ["longest_silence_s"]
    assert rows[b]["flags"] == ["overtalk_s", "agent_first_word_s"]
    assert rows[a]["failed_rules"] == [{"id": "forbidden", "label": "禁用语"}]
    assert rows[a]["disposition_label"] == "投诉已登记" and rows[a]["tags"] == ["vip"]
    assert rows[c]["analysis"]["status"] == "waiting"


def test_the_filters_offer_names_and_labels_in_the_readers_language(
    web: tuple[Flask, SocketIO], hotline: Hotline, english_reviewer: str
) -> None:
    app, _ = web
    recorded_call(hotline, tags=["vip", "billing"])
    recorded_call(hotline, tags=["vip"])
    qa, _ = reviewer(app, english_reviewer, PAGE)
    r = qa.get(CHOICES)
    assert r.status_code == 200
    body = r.get_json()
    assert_valid("FilterChoices", body)
    names = [a["name"] for a in body["agents"]]
    assert names == sorted(names) and "Agent Kim" in names
    assert [q["name"] for q in body["queues"]] == ["sales", "support"]
    assert {"code": "complaint", "label": "Complaint registered"} in body["dispositions"]
    assert body["tags"] == ["vip", "billing"]
    assert {"id": "forbidden", "label": "Forbidden phrase"} in body["rules"]
    assert body["flag_at"]["longest_silence_s"] == 10.0


def test_bad_filters_are_refused_in_the_readers_language(
    web: tuple[Flask, SocketIO], hotline: Hotline, qa_user: str, english_reviewer: str
) -> None:
    app, _ = web
    for user, language in ((qa_user, "zh-CN"), (english_reviewer, "en")):
        client, headers = reviewer(app, user, PAGE)
        for params, error_id in (
            ({"from": "2026-11-05", "to": "2026-11-01"}, "quality-dates-reversed"),
            ({"min_duration": 50, "max_duration": 10}, "quality-durations-reversed"),
        ):
            r = client.get(LIB, query_string=params)
            assert r.status_code == 400 and r.get_json()["error"] == error_id
            assert r.get_json()["message"] == translate(f"error.{error_id}", language)
            r = client.post(SAVED, json={"name": "x", "filters": params}, headers=headers)
            assert r.status_code == 400 and r.get_json()["error"] == error_id
            assert r.get_json()["message"] == translate(f"error.{error_id}", language)
        for params in ({"silence": -1}, {"from": "yesterday"}, {"limit": 0}, {"overtalk": "a"}):
            r = client.get(LIB, query_string=params)
            assert r.status_code == 400 and r.get_json()["error"] == "invalid-input", params
            assert next(iter(params)) in r.get_json()["message"]
        for body in (
            {"name": "", "filters": {}},
            {"name": "   ", "filters": {}},
            {"filters": {}},
        ):
            r = client.post(SAVED, json=body, headers=headers)
            assert r.status_code == 400, body
            assert r.get_json()["error"] == "quality-filter-name-required"
            message = translate("error.quality-filter-name-required", language)
            assert r.get_json()["message"] == message
        for body in (
            {"name": "x", "filters": {"silence": "ten"}},
            {"name": "x", "filters": {"nope": 1}},
            {"name": "x\u0000y", "filters": {}},
            {"name": "x" * 65, "filters": {}},
        ):
            r = client.post(SAVED, json=body, headers=headers)
            assert r.status_code == 400 and r.get_json()["error"] == "invalid-input", body
            assert_valid("Error", r.get_json())
    # The Chinese and the English messages differ (both catalogs answer).
    zh = translate("error.quality-dates-reversed", "zh-CN")
    assert zh != translate("error.quality-dates-reversed", "en")


def test_saved_filters_are_each_reviewers_own(
    web: tuple[Flask, SocketIO],
    hotline: Hotline,
    qa_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, _ = web
    qa, qa_headers = reviewer(app, qa_user, PAGE)
    sup, sup_headers = reviewer(app, "super1")
    late = {"first_word": 5, "from": "2026-11-01", "failed_rule": "any"}

    r = qa.post(SAVED, json={"name": "  Late   greetings ", "filters": late}, headers=qa_headers)
    assert r.status_code == 201, r.get_data(as_text=True)
    first = r.get_json()
    assert_valid("SavedFilter", first)
    assert first["name"] == "Late greetings"
    assert first["filters"] == {"from": "2026-11-01", "first_word": 5.0, "failed_rule": "any"}
    r = qa.post(SAVED, json={"name": "Late greetings", "filters": {}}, headers=qa_headers)
    assert r.status_code == 409 and r.get_json()["error"] == "quality-filter-name-taken"
    assert "Late greetings" in r.get_json()["message"]
    silences = {"name": "Long silences", "filters": {"silence": 10}}
    r = qa.post(SAVED, json=silences, headers=qa_headers)
    assert r.status_code == 201
    assert qa.post(SAVED, json={"name": "x", "filters": {}}).status_code == 400  # no CSRF

    mine = qa.get(SAVED).get_json()
    assert [f["name"] for f in mine] == ["Late greetings", "Long silences"]
    for f in mine:
        assert_valid("SavedFilter", f)
    # A saved set is the library's query as it stands.
    assert qa.get(LIB, query_string=first["filters"]).status_code == 200

    # Another reviewer sees only hers, may use the same name, and cannot delete qa's.
    assert sup.get(SAVED).get_json() == []
    r = sup.post(SAVED, json={"name": "Late greetings", "filters": {}}, headers=sup_headers)
    assert r.status_code == 201
    r = sup.delete(f"{SAVED}/{first['id']}", headers=sup_headers)
    assert r.status_code == 404 and r.get_json()["error"] == "quality-filter-not-found"
    assert len(qa.get(SAVED).get_json()) == 2

    assert qa.delete(f"{SAVED}/{first['id']}").status_code == 400  # no CSRF
    r = qa.delete(f"{SAVED}/{first['id']}", headers=qa_headers)
    assert r.status_code == 204 and r.get_data() == b""
    assert [f["name"] for f in qa.get(SAVED).get_json()] == ["Long silences"]
    assert qa.delete(f"{SAVED}/{first['id']}", headers=qa_headers).status_code == 404
    assert [f["name"] for f in sup.get(SAVED).get_json()] == ["Late greetings"]

    monkeypatch.setattr(quality, "SAVED_FILTERS_PER_USER", 2)
    assert qa.post(SAVED, json={"name": "b", "filters": {}}, headers=qa_headers).status_code == 201
    r = qa.post(SAVED, json={"name": "c", "filters": {}}, headers=qa_headers)
    assert r.status_code == 409 and r.get_json()["error"] == "quality-filters-full"


def test_the_player_gets_the_call_its_recordings_and_the_waveform_audited(
    web: tuple[Flask, SocketIO], hotline: Hotline, qa_user: str
) -> None:
    app, _ = web
    call = recorded_call(hotline, stereo=True, disposition="complaint")
    segments = {
        "caller": {"speech": [[0.5, 2.0]], "holds": []},
        "agent": {"speech": [[0.5, 2.0]], "holds": []},
        "holds": [],
        "overtalk": [[0.5, 2.0]],
        "silences": [],
        "interruptions": [],
    }
    store_analysis(
        hotline, call, {"longest_silence_s": 1.0}, failed=["forbidden"], segments=segments
    )
    qa, _ = reviewer(app, qa_user, PAGE)

    r = qa.get(f"{LIB}/{call}")
    assert r.status_code == 200, r.get_data(as_text=True)
    entry = r.get_json()
    assert_valid("LibraryEntry", entry)
    assert entry["call"]["call_id"] == call
    assert sorted(rec["channel"] for rec in entry["recordings"]) == ["agent", "caller", "stereo"]
    assert entry["analysis"]["segments"]["overtalk"] == [[0.5, 2.0]]
    assert entry["rule_labels"]["forbidden"] == "禁用语"

    r = qa.get(f"{LIB}/{call}/peaks")
    assert r.status_code == 200
    peaks = r.get_json()
    assert_valid("WaveformPeaks", peaks)
    assert (peaks["points"], peaks["duration_s"]) == (1000, 3.0)
    for side, rate in (("caller", 8000), ("agent", 16000)):
        ch = peaks["channels"][side]
        assert (ch["sample_rate"], ch["duration_s"]) == (rate, 3.0)
        # Noise from 0.5 s to 2 s of 3 s: points 167..666 of 1000, silence around it.
        assert max(ch["high"][:160]) == 0 and min(ch["low"][:160]) == 0
        assert max(ch["high"][680:]) == 0
        assert min(ch["high"][200:600]) > 0 and max(ch["low"][200:600]) < 0
    fewer = qa.get(f"{LIB}/{call}/peaks?points=200").get_json()
    assert len(fewer["channels"]["agent"]["low"]) == 200
    assert qa.get(f"{LIB}/{call}/peaks?points=50").status_code == 400

    with hotline.sessions() as s:
        qa_id = s.scalar(select(User.id).where(User.username == qa_user))
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "waveform")).all()
    assert [(a.user_id, a.object_type, a.object_id) for a in audits] == [(qa_id, "call", call)] * 2

    # The audio plays through the recordings' audited route, from the stereo file.
    stereo = next(rec for rec in entry["recordings"] if rec["channel"] == "stereo")
    r = qa.get(stereo["audio_url"], headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.mimetype == "audio/wav"
    with hotline.sessions() as s:
        plays = s.scalars(select(AuditLog).where(AuditLog.action == "play")).all()
    assert [(a.object_id, a.detail["call_id"]) for a in plays] == [(str(stereo["id"]), call)]

    # Unknown calls and calls without both recordings are not found.
    bare = new_call(hotline)
    for path in ("nosuchcall", "nosuchcall/peaks", bare, f"{bare}/peaks"):
        r = qa.get(f"{LIB}/{path}")
        assert r.status_code == 404, path
        assert r.get_json()["error"] in ("call-not-found", "recording-not-found")
        assert_valid("Error", r.get_json())
    assert qa.get(f"{LIB}/{bare}").get_json()["error"] == "recording-not-found"


def test_agents_and_schedulers_get_403_and_a_page_that_says_so(
    web: tuple[Flask, SocketIO], hotline: Hotline, qa_user: str
) -> None:
    app, _ = web
    call = record_simple(hotline)
    for user, home in (("agent1", "/agent"), ("planner", "/schedule/attendance")):
        c, headers = reviewer(app, user, home)
        for r in (
            c.get(LIB),
            c.get(CHOICES),
            c.get(f"{LIB}/{call}"),
            c.get(f"{LIB}/{call}/peaks"),
            c.get(SAVED),
            c.post(SAVED, json={"name": "x", "filters": {}}, headers=headers),
            c.delete(f"{SAVED}/1", headers=headers),
        ):
            assert r.status_code == 403 and r.get_json()["error"] == "forbidden", user
        for page in (PAGE, f"{PAGE}/{call}"):
            r = c.get(page)
            assert r.status_code == 403 and r.mimetype == "text/html"
            assert translate("quality.forbidden.text", "zh-CN") in r.get_data(as_text=True)
        assert 'data-test="nav-recordings"' not in c.get(home).get_data(as_text=True)
    with hotline.sessions() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "waveform")).all() == []
    anonymous = app.test_client()
    assert anonymous.get(LIB).status_code == 401
    assert anonymous.get(PAGE).status_code == 302

    for user in (qa_user, "super1", "admin"):
        client, _ = reviewer(app, user)
        html = client.get(PAGE).get_data(as_text=True)
        assert "<hl-recording-library>" in html and 'data-test="nav-recordings"' in html
        html = client.get(f"{PAGE}/{call}").get_data(as_text=True)
        assert f'<hl-recording-player data-call-id="{call}">' in html
        assert _ids(client) == [call]
