"""Recordings for the roles allowed to hear them: a call's recordings, and one played as WAV.
Every playback is audited; agents and schedulers get 403."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from flask_login import current_user

from console.core.states import Role
from console.customers import services as customers
from console.recordings import schemas
from console.recordings import services as recordings
from console.recordings.store import RecordingStatus, WavFile, open_wav, parse_keys
from console.web.access import hotline as hl
from console.web.access import roles

bp = Blueprint("recordings", __name__)
# Who may hear calls: QA reviewers score them, supervisors and admins handle complaints.
LISTEN_ROLES = (Role.QA, Role.SUPERVISOR, Role.ADMIN)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/api/v1/calls/<call_id>/recordings")
@roles(*LISTEN_ROLES)
def call_recordings(call_id: str) -> Any:
    with hl().sessions() as s:
        return jsonify(
            [schemas.recording_dict(r) for r in recordings.recordings_of_call(s, call_id)]
        )


@bp.route("/api/v1/recordings/<int:recording_id>/audio")
@roles(*LISTEN_ROLES)
def play(recording_id: int) -> Any:
    node = hl()
    keys = parse_keys(node.settings.effective_recording_keys)
    # A player seeks with byte ranges; a playback starts at byte 0 (or asks for all).
    rng = request.range
    starts = rng is None or rng.units != "bytes" or rng.ranges[0][0] in (0, None)
    with node.sessions.begin() as s:
        row = recordings.playable(s, recording_id)
        path, status = Path(row.path), row.status
        if starts:
            # Audited before the audio leaves: a playback nobody can account for never
            # happens. Seeking within it is the same playback.
            customers.audit(s, current_user.id, "play", "recording", row.id, call_id=row.call_id)
    headers = {"Cache-Control": "no-store", "Accept-Ranges": "bytes"}
    if status in (RecordingStatus.RECORDING, RecordingStatus.FAILED):
        # Cut by a crash (or still running): it plays, whole, up to its last sealed segment.
        wav = open_wav(path, keys, partial=True)
        return Response(wav, mimetype="audio/wav", headers=headers | {"Accept-Ranges": "none"})
    wav_file = WavFile(path, keys)
    ranged = rng is not None and rng.units == "bytes" and len(rng.ranges) == 1
    span = rng.range_for_length(wav_file.size) if rng is not None and ranged else None
    if ranged and span is None:  # a single range past the end (several: the whole file)
        headers["Content-Range"] = f"bytes */{wav_file.size}"
        return Response(status=416, headers=headers)
    start, stop = span or (0, wav_file.size)
    headers["Content-Length"] = str(stop - start)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{wav_file.size}"
    return Response(
        wav_file.read(start, stop),
        status=206 if span is not None else 200,
        mimetype="audio/wav",
        headers=headers,
    )
