"""Call records with real encrypted recordings, as the telephony worker leaves them: the
row first, then the file, then the row completed (see tests/recordings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from console.core.models import (
    Agent,
    Call,
    CallAnalysis,
    CallEvent,
    CallTag,
    Queue,
    Recording,
    User,
    utcnow,
)
from console.node import Hotline
from console.recordings import services as recordings
from console.recordings.store import Channel, RecordingWriter, new_path, parse_keys
from console.scheduler import JobContext
from tests.helpers import csrf, login
from tests.qa.synth import SynthCall, to_pcm


def context(hotline: Hotline, batch: int = 20) -> JobContext:
    """The scheduler's context, with the node's recording keys."""
    return JobContext(
        hotline.sessions,
        hotline.bus,
        hotline.settings.timezone,
        recording_keys=hotline.settings.effective_recording_keys,
        analysis_batch_size=batch,
    )


def write_recording(
    hotline: Hotline, call_id: str, channel: Channel, pcm: bytes, rate: int, finish: bool = True
) -> Path:
    """One channel's encrypted file and its row (left in status recording unless finish)."""
    keys = parse_keys(hotline.settings.effective_recording_keys)
    when = utcnow()
    path = new_path(hotline.settings.effective_recording_dir, call_id, channel, when)
    with hotline.sessions.begin() as s:
        rec_id = recordings.start_recording(s, call_id, channel, path, rate, keys[0].id, when).id
    writer = RecordingWriter.open(path, channel, rate, keys)
    writer.write(pcm)
    if not finish:
        writer.abandon()
        return path
    info = writer.close()
    with hotline.sessions.begin() as s:
        recordings.finish_recording(s, rec_id, info, when)
    return path


def new_call(
    hotline: Hotline,
    arrived_at: dt.datetime | None = None,
    events: Iterable[tuple[str, float]] = (),
) -> str:
    """A call record; events are (kind, seconds after arrival)."""
    arrived_at = arrived_at or utcnow()
    with hotline.sessions.begin() as s:
        call = Call(caller_number="+8613800138000", worker_id="w1", arrived_at=arrived_at)
        s.add(call)
        s.flush()
        for kind, after in events:
            at = arrived_at + dt.timedelta(seconds=after)
            s.add(CallEvent(call_id=call.id, kind=kind, at=at))
        return call.id


def record_synth(
    hotline: Hotline,
    call: SynthCall,
    agent: np.ndarray | None = None,
    arrived_at: dt.datetime | None = None,
) -> str:
    """The generated call as a call record: its events, and both channels recorded."""
    t0 = call.events[0].at
    call_id = new_call(hotline, arrived_at, [(e.kind, e.at - t0) for e in call.events])
    agent_pcm = call.agent if agent is None else agent
    write_recording(hotline, call_id, Channel.CALLER, pcm_bytes(call.caller), call.caller_rate)
    write_recording(hotline, call_id, Channel.AGENT, pcm_bytes(agent_pcm), call.agent_rate)
    return call_id


def pcm_bytes(samples: np.ndarray) -> bytes:
    return np.asarray(samples, dtype="<i2").tobytes()


def burst(seconds: float = 3.0, rate: int = 8000, seed: int = 0) -> bytes:
    """A short channel: a second and a half of noise in silence (cheap to analyse)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(round(seconds * rate))
    x[rate // 2 : rate * 2] = 0.1 * rng.standard_normal(rate * 2 - rate // 2)
    return pcm_bytes(to_pcm(x))


def record_simple(hotline: Hotline, arrived_at: dt.datetime | None = None) -> str:
    """A short call with both channels complete."""
    call_id = new_call(hotline, arrived_at, [("offered", 0.0), ("answered", 2.0)])
    write_recording(hotline, call_id, Channel.CALLER, burst(seed=1), 8000)
    write_recording(hotline, call_id, Channel.AGENT, burst(seed=2), 8000)
    return call_id


def recording_path(hotline: Hotline, call_id: str, channel: Channel) -> Path:
    with hotline.sessions() as s:
        rows = recordings.recordings_of_call(s, call_id)
    row: Recording = next(r for r in rows if r.channel == channel.value)
    return Path(row.path)


def reviewer(app: Flask, user: str, page: str = "/calls") -> tuple[FlaskClient, dict[str, str]]:
    """A signed-in client and the headers of its POSTs (the CSRF token of a page the user
    may open, English)."""
    client = login(app.test_client(), user)
    return client, {"X-CSRFToken": csrf(client, page), "Accept-Language": "en"}


def recorded_call(
    hotline: Hotline,
    *,
    agent: str | None = "agent1",
    queue: str | None = "support",
    arrived_at: dt.datetime | None = None,
    talk_s: float = 3.0,
    disposition: str | None = None,
    tags: Iterable[str] = (),
    number: str = "+8613800138000",
    stereo: bool = False,
    seconds: float = 3.0,
    audio: tuple[bytes, bytes] | None = None,
) -> str:
    """An answered, wrapped-up call as the library lists it: its agent, queue, disposition
    and tags, and both channels recorded (short bursts unless `audio` gives the caller's
    8 kHz and the agent's 16 kHz samples; the stereo playback file too if asked)."""
    arrived_at = arrived_at or utcnow()
    with hotline.sessions.begin() as s:
        agent_id = (
            s.scalar(select(Agent.id).join(User).where(User.username == agent)) if agent else None
        )
        queue_id = s.scalar(select(Queue.id).where(Queue.name == queue)) if queue else None
        call = Call(
            caller_number=number,
            worker_id="w1",
            arrived_at=arrived_at,
            answered_at=arrived_at + dt.timedelta(seconds=5),
            ended_at=arrived_at + dt.timedelta(seconds=5 + talk_s),
            talk_s=talk_s,
            status="ended",
            agent_id=agent_id,
            queue_id=queue_id,
            disposition_code=disposition,
            tags=[CallTag(tag=t) for t in tags],
        )
        s.add(call)
        s.flush()
        call_id = call.id
    caller, agent_pcm = audio or (burst(seconds, seed=1), burst(seconds, 16000, seed=2))
    write_recording(hotline, call_id, Channel.CALLER, caller, 8000)
    write_recording(hotline, call_id, Channel.AGENT, agent_pcm, 16000)
    if stereo:
        left = np.repeat(np.frombuffer(caller, "<i2"), 2)  # the caller at the agent's rate
        right = np.frombuffer(agent_pcm, "<i2")
        both = np.empty(2 * right.size, "<i2")
        both[0::2], both[1::2] = left, right
        write_recording(hotline, call_id, Channel.STEREO, both.tobytes(), 16000)
    return call_id


def store_analysis(
    hotline: Hotline,
    call_id: str,
    metrics: dict[str, float | None] | None = None,
    failed: Iterable[str] = (),
    status: str = "done",
    segments: dict[str, object] | None = None,
    rules: list[dict[str, object]] | None = None,
) -> None:
    """An analysis as the job stores it, with these metrics and these rules failed (each
    with one hit as evidence); the other default rules not applicable."""
    verdicts: list[dict[str, object]] = []
    for rule_id in ("greeting", "closing", "forbidden", "read_back", "promised_time"):
        bad = rule_id in failed
        hit = {
            "side": "agent",
            "phrase": "you are wrong",
            "matched": "you are wrong",
            "score": 100.0,
            "how": "exact",
            "at_s": 1.5,
            "trigger": False,
            "line": {"start_s": 1.2, "end_s": 2.4, "text": "well you are wrong sir"},
        }
        verdicts.append(
            {
                "language": "en",
                "rule_id": rule_id,
                "status": "failed" if bad else "not_applicable",
                "evidence": [hit] if bad else [],
            }
        )
    with hotline.sessions.begin() as s:
        s.add(
            CallAnalysis(
                call_id=call_id,
                status=status,
                rules_version=1,
                error="recording-corrupt" if status == "failed" else None,
                analysed_at=utcnow(),
                duration_s=3.0 if status == "done" else None,
                metrics=(metrics or {}) if status == "done" else {},
                segments=(segments or {}) if status == "done" else {},
                rule_results=(rules if rules is not None else verdicts) if status == "done" else [],
            )
        )
