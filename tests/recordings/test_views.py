"""Playing recordings over the API: who may, what is audited, what a purged one answers."""

from __future__ import annotations

import io
import wave

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import select

from console.core.i18n import translate
from console.core.models import AuditLog, utcnow
from console.node import Hotline
from console.recordings import services as recordings
from console.recordings.store import Channel, RecordingWriter, new_path, parse_keys
from tests.helpers import assert_valid, login
from tests.recordings.test_rows_and_purge import new_call, recorded


def test_qa_supervisor_and_admin_list_and_play_a_call_s_recordings_and_each_play_is_audited(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    call_id = new_call(hotline)
    rec_id, _path = recorded(hotline, call_id, Channel.CALLER, utcnow(), seconds=1.25)
    for user in ("super1", "admin"):
        c = login(app.test_client(), user)
        listed = c.get(f"/api/v1/calls/{call_id}/recordings")
        assert listed.status_code == 200
        [entry] = listed.get_json()
        assert_valid("Recording", entry)
        assert entry["id"] == rec_id and entry["channel"] == "caller"
        assert entry["status"] == "complete" and entry["duration_s"] == 1.25
        r = c.get(entry["audio_url"])
        assert r.status_code == 200 and r.mimetype == "audio/wav"
        assert r.headers["Cache-Control"] == "no-store"
        with wave.open(io.BytesIO(r.data)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            assert w.getnframes() == 10000  # 1.25 s at 8 kHz
            assert w.readframes(3) == b"\x01\x00" * 3
    with hotline.sessions() as s:
        plays = s.scalars(
            select(AuditLog).where(AuditLog.action == "play", AuditLog.object_type == "recording")
        ).all()
        assert [(a.object_id, a.detail["call_id"]) for a in plays] == [(str(rec_id), call_id)] * 2


def test_agents_and_schedulers_may_not_hear_recordings(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    call_id = new_call(hotline)
    rec_id, _ = recorded(hotline, call_id, Channel.AGENT, utcnow())
    for user in ("agent1", "planner"):
        c = login(app.test_client(), user)
        for url in (f"/api/v1/calls/{call_id}/recordings", f"/api/v1/recordings/{rec_id}/audio"):
            r = c.get(url)
            assert r.status_code == 403 and r.get_json()["error"] == "forbidden", (user, url)
    assert app.test_client().get(f"/api/v1/recordings/{rec_id}/audio").status_code == 401
    with hotline.sessions() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "play")).all() == []


def test_a_purged_or_unknown_recording_is_not_found_in_the_reader_s_language(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    call_id = new_call(hotline)
    rec_id, path = recorded(hotline, call_id, Channel.CALLER, utcnow())
    path.unlink()
    with hotline.sessions.begin() as s:
        recordings.mark_purged(s, rec_id, utcnow())
    c = login(app.test_client(), "super1")  # her language is zh-CN
    for url in (f"/api/v1/recordings/{rec_id}/audio", "/api/v1/recordings/999999/audio"):
        r = c.get(url)
        assert r.status_code == 404
        assert r.get_json()["error"] == "recording-not-found"
        assert r.get_json()["message"] == translate("error.recording-not-found", "zh-CN")
        assert r.get_json()["message"] != translate("error.recording-not-found", "en")
    # The purged row is still listed, marked so: the call record keeps its history.
    [entry] = c.get(f"/api/v1/calls/{call_id}/recordings").get_json()
    assert entry["status"] == "purged"


def test_a_player_seeks_with_byte_ranges_decrypting_only_what_it_asks_for(
    web: tuple[Flask, SocketIO], hotline: Hotline
) -> None:
    app, _ = web
    call_id = new_call(hotline)
    # A ramp, so that a byte from the wrong place of the file cannot pass for the right one.
    pcm = bytes(i * 7 % 251 for i in range(2 * 2 * 8000 * 3))
    rec_id = recorded_pcm(hotline, call_id, Channel.STEREO, pcm)
    c = login(app.test_client(), "super1")
    url = f"/api/v1/recordings/{rec_id}/audio"
    whole = c.get(url)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    size = len(whole.data)
    assert int(whole.headers["Content-Length"]) == size == 44 + len(pcm)
    with wave.open(io.BytesIO(whole.data)) as w:
        assert (w.getnframes(), w.getnchannels(), w.getframerate()) == (3 * 8000, 2, 8000)
        assert w.readframes(3 * 8000) == pcm
    # Ranges across the header, inside one segment, across segments, to the end.
    for first, last in ((0, 99), (30, 5000), (4096 * 3 + 7, 4096 * 5 + 3), (size - 10, size - 1)):
        r = c.get(url, headers={"Range": f"bytes={first}-{last}"})
        assert r.status_code == 206, (first, last)
        assert r.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert r.data == whole.data[first : last + 1], (first, last)
    tail = c.get(url, headers={"Range": "bytes=-4"})
    assert tail.status_code == 206 and tail.data == whole.data[-4:]
    past = c.get(url, headers={"Range": f"bytes={size + 5}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{size}"
    # One playback, one audit entry: seeking within it is not another playback.
    with hotline.sessions() as s:
        plays = s.scalars(select(AuditLog).where(AuditLog.action == "play")).all()
    assert len(plays) == 2  # the whole file, and the range from byte 0


def recorded_pcm(hotline: Hotline, call_id: str, channel: Channel, pcm: bytes) -> int:
    """A finished recording of exactly these bytes (the writer's protocol, as recorded())."""
    ks = parse_keys(hotline.settings.effective_recording_keys)
    now = utcnow()
    path = new_path(hotline.settings.effective_recording_dir, call_id, channel, now)
    with hotline.sessions.begin() as s:
        rec_id = recordings.start_recording(s, call_id, channel, path, 8000, ks[0].id, now).id
    writer = RecordingWriter.open(path, channel, 8000, ks)
    writer.write(pcm)
    info = writer.close()
    with hotline.sessions.begin() as s:
        recordings.finish_recording(s, rec_id, info, now)
    return rec_id
