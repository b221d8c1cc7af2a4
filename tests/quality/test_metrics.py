"""The scheduled job analyses a recorded call and stores what was built into it: the agent's
first word, the longest silence, the hold, the ring time; rules without a transcript are not
applicable."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_socketio import SocketIO

from console.core.models import CallAnalysis
from console.node import Hotline
from console.quality import jobs
from console.quality import services as quality
from console.quality.defaults import DEFAULT_RULES
from console.quality.services import RunTrigger
from console.recordings.store import parse_keys
from qa import Segment, Side
from qa import segments as seg
from tests.helpers import assert_valid
from tests.qa.synth import SynthCall
from tests.quality.conftest import DEAD_AIR_S, HOLD_S, RING_S
from tests.quality.recorded import context, record_synth, reviewer


def truth_longest_silence(call: SynthCall, holds: tuple[Segment, ...]) -> float:
    """Dead air as built: neither side speaking, not on hold."""
    busy = seg.union(call.speech[Side.CALLER], call.speech[Side.AGENT], holds)
    return max(s.duration_s for s in seg.complement(busy, 0.0, call.duration_s))


def analysis(hotline: Hotline, call_id: str) -> CallAnalysis:
    with hotline.sessions() as s:
        return quality.analysis_of_call(s, call_id)


def test_the_job_stores_the_metrics_built_into_a_recorded_call(
    web: tuple[Flask, SocketIO], hotline: Hotline, synth_call: SynthCall, qa_user: str
) -> None:
    call_id = record_synth(hotline, synth_call)
    run = jobs.analyse_recordings(context(hotline))
    assert run is not None and (run.analysed, run.failed) == (1, 0)

    row = analysis(hotline, call_id)
    assert row.status == "done" and row.rules_version == 1 and row.error is None
    m = row.metrics
    (hold,) = synth_call.holds[Side.AGENT]
    assert m["duration_s"] == pytest.approx(synth_call.duration_s, abs=0.02)
    assert row.duration_s == m["duration_s"]
    assert m["agent_first_word_s"] == pytest.approx(
        synth_call.speech[Side.AGENT][0].start_s, abs=0.15
    )
    assert m["longest_silence_s"] == pytest.approx(
        truth_longest_silence(synth_call, (hold,)), abs=0.3
    )
    assert m["longest_silence_s"] == pytest.approx(DEAD_AIR_S, abs=0.5)
    assert m["silences"] == 1.0
    # The ring time and the hold come from the call's events, read from its event log; the
    # music in the agent's channel is the same span.
    assert (m["ring_s"], m["rings"], m["answered_within_rings"]) == (RING_S, 2.0, True)
    assert m["hold_s"] == pytest.approx(HOLD_S, abs=1.0) and m["holds"] == 1.0
    [(start, end)] = row.segments["holds"]
    assert (start, end) == pytest.approx((hold.start_s, hold.end_s), abs=1.0)
    [(start, end)] = row.segments["agent"]["holds"]  # the music, found in the audio
    assert (start, end) == pytest.approx((hold.start_s, hold.end_s), abs=1.0)
    assert row.segments["caller"]["holds"] == []
    assert m["caller_words_per_minute"] is None and m["agent_words_per_minute"] is None
    # The player's marks: each side's speech, on the recording's timeline.
    for side in Side:
        found = row.segments[side.value]["speech"]
        assert found and all(a < b for a, b in found)
        talk = sum(b - a for a, b in found)
        assert m[f"{side.value}_talk_s"] == pytest.approx(talk, abs=0.01)
        truth = seg.total(synth_call.speech[side])
        assert talk == pytest.approx(truth, rel=0.1)
    # No speech recognition, no transcript: every rule of both languages is not applicable.
    assert sorted((r["language"], r["rule_id"]) for r in row.rule_results) == sorted(
        (r["language"], r["id"]) for r in DEFAULT_RULES
    )
    assert {r["status"] for r in row.rule_results} == {"not_applicable"}
    assert all(r["evidence"] == [] for r in row.rule_results)

    # The same on the API, as documented.
    app, _ = web
    client, _ = reviewer(app, qa_user)
    r = client.get(f"/api/v1/calls/{call_id}/analysis")
    assert r.status_code == 200
    body = r.get_json()
    assert_valid("CallAnalysis", body)
    assert body["current"] is True and body["metrics"] == m and body["segments"] == row.segments

    # Done: the next run finds nothing to do.
    again = jobs.analyse_recordings(context(hotline))
    assert again is not None and (again.analysed, again.failed) == (0, 0)


def test_a_hold_kept_silent_in_the_recording_is_read_from_the_events(
    hotline: Hotline, synth_call: SynthCall
) -> None:
    # Hotline's own taps hear the parties, not the music: the hold is silence in the files,
    # and only the held/resumed events say it was a hold, not dead air.
    (hold,) = synth_call.holds[Side.AGENT]
    agent = synth_call.agent.copy()
    rate = synth_call.agent_rate
    agent[round(hold.start_s * rate) : round(hold.end_s * rate)] = 0
    call_id = record_synth(hotline, synth_call, agent=agent)
    run = jobs.run_batch(
        hotline.sessions,
        parse_keys(hotline.settings.effective_recording_keys),
        5,
        RunTrigger.MANUAL,
    )
    assert (run.analysed, run.failed) == (1, 0)
    row = analysis(hotline, call_id)
    assert row.segments["agent"]["holds"] == []
    [(start, end)] = row.segments["holds"]
    assert (start, end) == pytest.approx((hold.start_s, hold.end_s), abs=0.01)
    assert row.metrics["hold_s"] == pytest.approx(HOLD_S, abs=0.01)
    # The silent hold is not dead air: the longest silence is still the one built in.
    assert row.metrics["longest_silence_s"] == pytest.approx(
        truth_longest_silence(synth_call, (hold,)), abs=0.3
    )
