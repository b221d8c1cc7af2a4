"""APScheduler jobs: module-level functions taking plain values, registered with ids."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError

from console.core.events import weekly_summary_reminded
from console.core.models import LoginSession, utcnow
from console.handover import services as handover
from console.node import Hotline
from console.workforce import services as workforce

log = logging.getLogger(__name__)

SESSION_MAX_AGE = dt.timedelta(hours=16)  # one long shift plus slack
HANDOVER_SWEEP_EVERY = dt.timedelta(minutes=5)
WEEKLY_EVERY = dt.timedelta(minutes=15)  # how often the weekly reminder and miss jobs run

_hotline: Hotline | None = None


def expire_login_sessions() -> int:
    """Revoke login sessions older than a shift, so a forgotten browser stops working."""
    assert _hotline is not None
    cutoff = utcnow() - SESSION_MAX_AGE
    with _hotline.sessions.begin() as s:
        stmt = (
            update(LoginSession)
            .where(LoginSession.revoked_at.is_(None), LoginSession.created_at < cutoff)
            .values(revoked_at=utcnow())
        )
        # An UPDATE answers a CursorResult, which has the rowcount.
        result = cast(CursorResult[Any], s.execute(stmt))
        return int(result.rowcount or 0)


def sweep_handover_misses(now: dt.datetime | None = None) -> int:
    """Count a miss for each published shift that ended past the grace time without a handover."""
    assert _hotline is not None
    with _hotline.sessions.begin() as s:
        return len(handover.sweep_handover_misses(s, now or utcnow(), _hotline.settings.timezone))


def remind_weekly_summaries(now: dt.datetime | None = None) -> list[int]:
    """Before the weekly deadline, push a reminder to each rostered agent without a summary."""
    assert _hotline is not None
    now = now or utcnow()
    tz = _hotline.settings.timezone
    try:
        # Recorded first (committed), pushed after: a second scheduler process or a re-run
        # finds the record and stays quiet instead of reminding twice.
        with _hotline.sessions.begin() as s:
            agent_ids = handover.agents_to_remind(s, now, tz)
            due = handover.deadline(s, handover.week_start_of(workforce.local_day(now, tz)), tz)
    except IntegrityError:
        return []  # another scheduler recorded the same reminders at the same moment
    for agent_id in agent_ids:
        # To the agent's room, emitted where it is born (in a scheduler-only process through
        # the write-only Socket.IO client on the Redis queue). The page also shows the
        # reminder on load, so an agent who is not connected still sees it.
        try:
            _hotline.bus.publish(weekly_summary_reminded(agent_id=agent_id, due=due.isoformat()))
        except Exception:
            log.exception("weekly summary reminder to agent %s failed", agent_id)
    return agent_ids


def sweep_weekly_misses(now: dt.datetime | None = None) -> int:
    """After the weekly deadline, count a miss for each rostered agent without an on-time
    summary."""
    assert _hotline is not None
    with _hotline.sessions.begin() as s:
        return len(handover.sweep_weekly_misses(s, now or utcnow(), _hotline.settings.timezone))


def start_scheduler(hotline: Hotline) -> BackgroundScheduler:
    """Start the in-process scheduler with every job of this node."""
    global _hotline
    _hotline = hotline
    sched = BackgroundScheduler(timezone=hotline.settings.timezone)
    sched.add_job(
        expire_login_sessions,
        "interval",
        minutes=10,
        id="expire_login_sessions",
        replace_existing=True,
    )
    every = {"minutes": int(HANDOVER_SWEEP_EVERY.total_seconds() // 60)}
    sched.add_job(
        sweep_handover_misses,
        "interval",
        **every,
        id="sweep_handover_misses",
        replace_existing=True,
    )
    weekly = {"minutes": int(WEEKLY_EVERY.total_seconds() // 60)}
    sched.add_job(
        remind_weekly_summaries,
        "interval",
        **weekly,
        id="remind_weekly_summaries",
        replace_existing=True,
    )
    sched.add_job(
        sweep_weekly_misses, "interval", **weekly, id="sweep_weekly_misses", replace_existing=True
    )
    sched.start()
    return sched
