"""Recordings for the roles allowed to hear them: a call's recordings, and one played as WAV.
Every playback is audited; agents and schedulers get 403."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, jsonify
from flask_login import current_user

from console.core.states import Role
from console.customers import services as customers
from console.recordings import schemas
from console.recordings import services as recordings
from console.recordings.store import RecordingStatus, open_wav, parse_keys
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
    with node.sessions.begin() as s:
        row = recordings.playable(s, recording_id)
        path, status = Path(row.path), row.status
        # Audited before the audio leaves: a playback nobody can account for never happens.
        customers.audit(s, current_user.id, "play", "recording", row.id, call_id=row.call_id)
    keys = parse_keys(node.settings.effective_recording_keys)
    # A recording cut by a crash (or still running) plays up to its last sealed segment.
    partial = status in (RecordingStatus.RECORDING, RecordingStatus.FAILED)
    wav = open_wav(path, keys, partial=partial)
    return Response(
        wav,
        mimetype="audio/wav",
        headers={"Cache-Control": "no-store", "Content-Length": str(len(wav))},
    )
