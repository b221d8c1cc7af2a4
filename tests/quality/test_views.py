"""The analysis on the API: who may see it and run it, the progress counts, a batch run now,
a call without analysis; every answer as documented."""

from __future__ import annotations

from flask import Flask
from flask_socketio import SocketIO

from console.core.i18n import translate
from console.node import Hotline
from console.recordings.store import Channel
from tests.helpers import assert_valid
from tests.quality.recorded import (
    burst,
    new_call,
    record_simple,
    recording_path,
    reviewer,
    write_recording,
)

PROGRESS = "/api/v1/quality/analysis"
RUN = "/api/v1/quality/analysis/run"


def test_agents_and_schedulers_may_not_see_or_run_the_analysis(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    call_id = record_simple(hotline)
    for user, page in (("agent1", "/agent"), ("planner", "/schedule/attendance")):
        c, headers = reviewer(app, user, page)
        for r in (
            c.get(PROGRESS),
            c.get(f"/api/v1/calls/{call_id}/analysis"),
            c.post(RUN, json={}, headers=headers),
        ):
            assert r.status_code == 403 and r.get_json()["error"] == "forbidden", user
    anonymous = app.test_client()
    assert anonymous.get(PROGRESS).status_code == 401
    assert anonymous.get(f"/api/v1/calls/{call_id}/analysis").status_code == 401
    # Nothing was run by the refused requests.
    sup, _ = reviewer(app, "super1")
    assert sup.get(PROGRESS).get_json()["pending"] == 1


def test_reviewers_follow_the_progress_and_run_a_batch_now(
    web: tuple[Flask, SocketIO], hotline: Hotline, qa_user: str
) -> None:
    app, _ = web
    calls = [record_simple(hotline) for _ in range(3)]
    broken = record_simple(hotline)
    recording_path(hotline, broken, Channel.AGENT).unlink()
    waiting = new_call(hotline)  # its agent channel is still being recorded
    write_recording(hotline, waiting, Channel.CALLER, burst(), 8000)
    write_recording(hotline, waiting, Channel.AGENT, burst(), 8000, finish=False)

    qa, headers = reviewer(app, qa_user)
    r = qa.get(PROGRESS)
    assert r.status_code == 200
    assert_valid("AnalysisProgress", r.get_json())
    assert r.get_json() == {
        "rules_version": 1,
        "done": 0,
        "pending": 4,
        "failed": 0,
        "last_run": None,
    }
    # No analysis yet: 404 in the reader's language (qa01 reads zh-CN).
    r = qa.get(f"/api/v1/calls/{calls[0]}/analysis")
    assert r.status_code == 404 and r.get_json()["error"] == "analysis-not-found"
    assert r.get_json()["message"] == translate("error.analysis-not-found", "zh-CN")
    assert qa.get("/api/v1/calls/nosuchcall/analysis").status_code == 404

    # CSRF as every POST; a body breaking the documented limits is refused before any run.
    assert qa.post(RUN, json={}).status_code == 400
    for bad in ({"limit": 0}, {"limit": 101}, {"retry_failed": "yes"}, {"other": 1}):
        r = qa.post(RUN, json=bad, headers=headers)
        assert r.status_code == 400, bad
        assert_valid("Error", r.get_json())
    r = qa.post(RUN, data="limit=2", headers=headers | {"Content-Type": "text/plain"})
    assert r.status_code == 415

    r = qa.post(RUN, json={"limit": 2}, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert_valid("AnalysisRunResult", body)
    assert body["run"]["trigger"] == "manual" and body["requeued"] == 0
    assert body["run"]["analysed"] + body["run"]["failed"] == 2
    assert body["progress"]["pending"] == 2
    assert body["progress"]["last_run"] == body["run"]

    # No body at all: the default batch takes the rest.
    r = qa.post(RUN, headers=headers)
    assert r.status_code == 200
    progress = r.get_json()["progress"]
    assert (progress["done"], progress["pending"], progress["failed"]) == (3, 0, 1)

    for user in ("super1", "admin"):
        client, _ = reviewer(app, user)
        r = client.get(f"/api/v1/calls/{calls[1]}/analysis")
        assert r.status_code == 200
        assert_valid("CallAnalysis", r.get_json())
        assert r.get_json()["status"] == "done" and r.get_json()["current"] is True
        r = client.get(f"/api/v1/calls/{broken}/analysis")
        failed = r.get_json()
        assert_valid("CallAnalysis", failed)
        assert (failed["status"], failed["error"]) == ("failed", "recording-not-found")
        assert failed["metrics"] == {} and failed["segments"] == {} and failed["rules"] == []
    assert qa.get(f"/api/v1/calls/{waiting}/analysis").status_code == 404

    # Retry on demand: still missing, so failed again.
    r = qa.post(RUN, json={"retry_failed": True}, headers=headers)
    assert r.status_code == 200
    assert (r.get_json()["requeued"], r.get_json()["run"]["failed"]) == (1, 1)
    assert_valid("AnalysisProgress", qa.get(PROGRESS).get_json())
