"""Periodic jobs of the handover: count missed handovers and weekly summaries, remind agents
before the weekly deadline."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from console.core.events import weekly_summary_reminded
from console.core.models import utcnow
from console.handover import services as handover
from console.workforce import services as workforce

if TYPE_CHECKING:
    from console.scheduler import JobContext

log = logging.getLogger(__name__)

HANDOVER_SWEEP_EVERY = dt.timedelta(minutes=5)
WEEKLY_EVERY = dt.timedelta(minutes=15)  # how often the weekly reminder and miss jobs run


def sweep_handover_misses(ctx: JobContext, now: dt.datetime | None = None) -> int:
    """Count a miss for each published shift that ended past the grace time without a handover."""
    with ctx.sessions.begin() as s:
        return len(handover.sweep_handover_misses(s, now or utcnow(), ctx.timezone))


def remind_weekly_summaries(ctx: JobContext, now: dt.datetime | None = None) -> list[int]:
    """Before the weekly deadline, push a reminder to each rostered agent without a summary."""
    now = now or utcnow()
    tz = ctx.timezone
    try:
        # Recorded first (committed), pushed after: a second scheduler process or a re-run
        # finds the record and stays quiet instead of reminding twice.
        with ctx.sessions.begin() as s:
            agent_ids = handover.agents_to_remind(s, now, tz)
            due = handover.deadline(s, handover.week_start_of(workforce.local_day(now, tz)), tz)
    except IntegrityError:
        return []  # another scheduler recorded the same reminders at the same moment
    for agent_id in agent_ids:
        # To the agent's room, emitted where it is born (in a scheduler-only process through
        # the write-only Socket.IO client on the Redis queue). The page also shows the
        # reminder on load, so an agent who is not connected still sees it.
        try:
            ctx.bus.publish(weekly_summary_reminded(agent_id=agent_id, due=due.isoformat()))
        except Exception:
            log.exception("weekly summary reminder to agent %s failed", agent_id)
    return agent_ids


def sweep_weekly_misses(ctx: JobContext, now: dt.datetime | None = None) -> int:
    """After the weekly deadline, count a miss for each rostered agent without an on-time
    summary."""
    with ctx.sessions.begin() as s:
        return len(handover.sweep_weekly_misses(s, now or utcnow(), ctx.timezone))
