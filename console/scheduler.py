"""The scheduler role: APScheduler running every feature's periodic jobs, each given the
context it needs when registered (no module state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from console.core.notifier import Publisher
from console.core.settings import DEFAULT_RECORDING_RETENTION_DAYS
from console.quality.jobs import DEFAULT_ANALYSIS_BATCH


@dataclass(frozen=True)
class JobContext:
    """What jobs use: the database, the bus (to tell browsers), the centre's time zone and
    how long recordings are kept."""

    sessions: sessionmaker[Session]
    bus: Publisher
    timezone: str
    recording_retention_days: int = DEFAULT_RECORDING_RETENTION_DAYS
    # The recording keys ("id:base64key", settings.effective_recording_keys): the quality
    # analysis decrypts the recordings with them, and without them skips its runs.
    recording_keys: tuple[str, ...] = ()
    # Calls the quality analysis takes per run (console/quality/jobs.py).
    analysis_batch_size: int = DEFAULT_ANALYSIS_BATCH


def jobs() -> list[tuple[str, Callable[[JobContext], Any], dt.timedelta]]:
    """Every periodic job of a node: (id, function taking the context, interval)."""
    from console.handover import jobs as handover
    from console.quality import jobs as quality
    from console.recordings import jobs as recordings
    from console.users import jobs as users

    return [
        ("expire_login_sessions", users.expire_login_sessions, users.EXPIRE_EVERY),
        ("sweep_handover_misses", handover.sweep_handover_misses, handover.HANDOVER_SWEEP_EVERY),
        ("remind_weekly_summaries", handover.remind_weekly_summaries, handover.WEEKLY_EVERY),
        ("sweep_weekly_misses", handover.sweep_weekly_misses, handover.WEEKLY_EVERY),
        ("purge_expired_recordings", recordings.purge_expired, recordings.PURGE_EVERY),
        ("analyse_recordings", quality.analyse_recordings, quality.ANALYSE_EVERY),
    ]


def start_scheduler(ctx: JobContext) -> BackgroundScheduler:
    """Start the in-process scheduler with every job of this node."""
    sched = BackgroundScheduler(timezone=ctx.timezone)
    for job_id, fn, every in jobs():
        sched.add_job(
            fn,
            "interval",
            args=[ctx],
            seconds=int(every.total_seconds()),
            id=job_id,
            replace_existing=True,
        )
    sched.start()
    return sched
