"""Recording rows: start, finish, fail, and the purge after the retention period.

The row is added (and committed by the caller) before the file is created, so every file on
disk has a row and the purge finds it. A row is `complete` only from the `RecordingInfo` a
closed writer returned: that is the acknowledgement. Session passed in, never committed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.core.errors import DomainError
from console.core.models import Call, Recording
from console.recordings.store import Channel, RecordingInfo, RecordingStatus

ERROR_CHARS = 256


def start_recording(
    s: Session,
    call_id: str,
    channel: Channel | str,
    path: Path,
    sample_rate: int,
    key_id: str,
    now: dt.datetime,
) -> Recording:
    """A row in status recording for the file about to be written at `path`."""
    if s.get(Call, call_id) is None:
        raise DomainError("call-not-found", detail=call_id)
    row = Recording(
        call_id=call_id,
        channel=Channel(channel).value,
        path=str(path),
        status=RecordingStatus.RECORDING,
        sample_rate=sample_rate,
        key_id=key_id,
        started_at=now,
    )
    s.add(row)
    s.flush()
    return row


def _row(s: Session, recording_id: int) -> Recording:
    row = s.get(Recording, recording_id)
    if row is None:
        raise DomainError("recording-not-found", detail=str(recording_id))
    return row


def finish_recording(
    s: Session, recording_id: int, info: RecordingInfo, now: dt.datetime
) -> Recording:
    """Mark the row complete with the closed file's size, duration and checksum."""
    row = _row(s, recording_id)
    row.status = RecordingStatus.COMPLETE
    row.size_bytes = info.size_bytes
    row.duration_s = info.duration_s
    row.sha256 = info.sha256
    row.key_id = info.key_id
    row.ended_at = now
    return row


def fail_recording(s: Session, recording_id: int, error: str, now: dt.datetime) -> Recording:
    """Mark the row failed (the call goes on); what was sealed stays readable as a prefix."""
    row = _row(s, recording_id)
    if row.status == RecordingStatus.RECORDING:
        row.status = RecordingStatus.FAILED
        row.error = error[:ERROR_CHARS]
        row.ended_at = now
    return row


def fail_open_recordings(
    s: Session, call_ids: list[str], error: str, now: dt.datetime
) -> list[Recording]:
    """Rows of these calls still recording (their worker died or stopped): failed, readable
    up to the last sealed segment."""
    if not call_ids:
        return []
    rows = list(
        s.scalars(
            select(Recording).where(
                Recording.call_id.in_(call_ids), Recording.status == RecordingStatus.RECORDING
            )
        )
    )
    for row in rows:
        fail_recording(s, row.id, error, now)
    return rows


def recordings_of_call(s: Session, call_id: str) -> list[Recording]:
    """Every recording row of a call, oldest first."""
    return list(
        s.scalars(select(Recording).where(Recording.call_id == call_id).order_by(Recording.id))
    )


def expired_recordings(
    s: Session, now: dt.datetime, retention_days: int, limit: int = 500
) -> list[Recording]:
    """Rows not yet purged that started more than the retention period before `now`."""
    cutoff = now - dt.timedelta(days=retention_days)
    return list(
        s.scalars(
            select(Recording)
            .where(Recording.status != RecordingStatus.PURGED, Recording.started_at < cutoff)
            .order_by(Recording.started_at, Recording.id)
            .limit(limit)
        )
    )


def mark_purged(s: Session, recording_id: int, now: dt.datetime) -> Recording:
    """The row's file is gone: keep the row (size, checksum, times) as the call's history."""
    row = _row(s, recording_id)
    row.status = RecordingStatus.PURGED
    row.purged_at = now
    return row


def playable(s: Session, recording_id: int) -> Recording:
    """A recording whose file may be played: not purged (a purged or unknown one is
    recording-not-found)."""
    row = _row(s, recording_id)
    if row.status == RecordingStatus.PURGED:
        raise DomainError("recording-not-found", detail=str(recording_id))
    return row
