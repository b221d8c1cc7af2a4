"""Recording rows on the call's record, failures marked at once, and the retention purge."""

from __future__ import annotations

import datetime as dt
import errno
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from console.core.errors import DomainError
from console.core.models import Call, Recording, utcnow
from console.node import Hotline
from console.recordings import jobs
from console.recordings import services as recordings
from console.recordings.store import (
    Channel,
    RecordingKey,
    RecordingStatus,
    RecordingWriter,
    new_path,
    parse_keys,
    read_pcm,
)
from console.scheduler import JobContext, start_scheduler


def keys(hotline: Hotline) -> tuple[RecordingKey, ...]:
    return parse_keys(hotline.settings.effective_recording_keys)


def new_call(hotline: Hotline) -> str:
    with hotline.sessions.begin() as s:
        call = Call(caller_number="+8613800138000", worker_id="w1")
        s.add(call)
        s.flush()
        return call.id


def recorded(
    hotline: Hotline, call_id: str, channel: Channel, when: dt.datetime, seconds: float = 1.0
) -> tuple[int, Path]:
    """Row first (committed), then the file, then the row completed: the writer's protocol."""
    ks = keys(hotline)
    path = new_path(hotline.settings.effective_recording_dir, call_id, channel, when)
    with hotline.sessions.begin() as s:
        row = recordings.start_recording(s, call_id, channel, path, 8000, ks[0].id, when)
        rec_id = row.id
    writer = RecordingWriter.open(path, channel, 8000, ks)
    writer.write(b"\x01\x00" * channel.channels * int(8000 * seconds))
    info = writer.close()
    with hotline.sessions.begin() as s:
        recordings.finish_recording(s, rec_id, info, when)
    return rec_id, path


def test_a_closed_recording_puts_size_duration_and_checksum_on_the_call(hotline: Hotline) -> None:
    call_id = new_call(hotline)
    now = utcnow()
    rec_id, path = recorded(hotline, call_id, Channel.AGENT, now, seconds=1.5)
    with hotline.sessions() as s:
        [row] = recordings.recordings_of_call(s, call_id)
        assert row.id == rec_id and row.status == RecordingStatus.COMPLETE
        assert row.duration_s == 1.5 and row.size_bytes == path.stat().st_size
        assert row.sha256 is not None and len(row.sha256) == 64
        assert row.channel == "agent" and row.sample_rate == 8000
        assert row.ended_at is not None and row.error is None
    assert path.is_relative_to(hotline.settings.data_dir / "recordings")
    with hotline.sessions.begin() as s, pytest.raises(DomainError) as e:
        recordings.start_recording(s, "nosuchcall", "caller", path, 8000, "k", now)
    assert e.value.error_id == "call-not-found"


class FullDisk(io.FileIO):
    def write(self, data: object) -> int:
        if self.tell() > 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)  # type: ignore[arg-type]


def test_a_full_disk_marks_the_recording_failed_and_the_call_goes_on(hotline: Hotline) -> None:
    call_id = new_call(hotline)
    now = utcnow()
    ks = keys(hotline)
    path = new_path(hotline.settings.effective_recording_dir, call_id, Channel.CALLER, now)
    with hotline.sessions.begin() as s:
        rec_id = recordings.start_recording(s, call_id, "caller", path, 8000, ks[0].id, now).id
    writer = RecordingWriter.open(path, "caller", 8000, ks, opener=lambda p: FullDisk(p, "xb"))
    with pytest.raises(DomainError) as e:
        for _ in range(100):
            writer.write(b"\0\0" * 160)
    with hotline.sessions.begin() as s:
        recordings.fail_recording(s, rec_id, e.value.detail, utcnow())
    with hotline.sessions() as s:
        row = s.get(Recording, rec_id)
        assert row is not None and row.status == RecordingStatus.FAILED
        assert row.error is not None and row.error.startswith("ENOSPC")
        call = s.get(Call, call_id)
        assert call is not None and call.ended_at is None  # the call itself is untouched
    assert read_pcm(path, ks, partial=True).data == b""


def test_the_purge_deletes_expired_files_and_marks_their_rows(hotline: Hotline) -> None:
    call_id = new_call(hotline)
    now = utcnow()
    old = now - dt.timedelta(days=hotline.settings.recording_retention_days + 1)
    recent = now - dt.timedelta(days=hotline.settings.recording_retention_days - 1)
    old_ids = [recorded(hotline, call_id, c, old) for c in (Channel.CALLER, Channel.STEREO)]
    # A recording a crashed worker left in status recording expires like the others.
    crashed = new_path(hotline.settings.effective_recording_dir, call_id, Channel.AGENT, old)
    with hotline.sessions.begin() as s:
        crashed_id = recordings.start_recording(s, call_id, "agent", crashed, 8000, "k", old).id
    RecordingWriter.open(crashed, "agent", 8000, keys(hotline)).abandon()
    kept_id, kept = recorded(hotline, call_id, Channel.CALLER, recent)
    assert hotline.settings.recording_retention_days == 180

    ctx = JobContext(hotline.sessions, hotline.bus, hotline.settings.timezone)
    assert jobs.purge_expired(ctx, now) == 3
    assert jobs.purge_expired(ctx, now) == 0  # idempotent
    for _, path in old_ids:
        assert not path.exists()
    assert not crashed.exists()
    # Nothing left behind: the old day's (and month's, year's) folders are gone too.
    assert not crashed.parent.exists()
    assert kept.exists()
    with hotline.sessions() as s:
        rows = {r.id: r for r in s.scalars(select(Recording))}
    for rec_id in [i for i, _ in old_ids] + [crashed_id]:
        assert rows[rec_id].status == RecordingStatus.PURGED
        assert rows[rec_id].purged_at is not None
    assert rows[kept_id].status == RecordingStatus.COMPLETE and rows[kept_id].purged_at is None
    # A shorter retention from the settings reaches the job through its context.
    short = JobContext(hotline.sessions, hotline.bus, "UTC", recording_retention_days=1)
    assert jobs.purge_expired(short, now) == 1 and not kept.exists()


def test_the_purge_is_scheduled_daily(hotline: Hotline) -> None:
    sched = start_scheduler(JobContext(hotline.sessions, hotline.bus, hotline.settings.timezone))
    try:
        job = sched.get_job("purge_expired_recordings")
        assert job is not None
        assert job.trigger.interval == dt.timedelta(days=1)
    finally:
        sched.shutdown(wait=False)
