"""Recordings on the wire: the rows of a call as the call log and the player list them."""

from __future__ import annotations

from typing import Any

from console.core.models import Recording


def recording_dict(row: Recording) -> dict[str, Any]:
    return {
        "id": row.id,
        "call_id": row.call_id,
        "channel": row.channel,
        "status": row.status,
        "sample_rate": row.sample_rate,
        "duration_s": row.duration_s,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "audio_url": f"/api/v1/recordings/{row.id}/audio",
    }
