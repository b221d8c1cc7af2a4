"""Call records with real encrypted recordings, as the telephony worker leaves them: the
row first, then the file, then the row completed (see tests/recordings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from flask import Flask
from flask.testing import FlaskClient

from console.core.models import Call, CallEvent, Recording, utcnow
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
