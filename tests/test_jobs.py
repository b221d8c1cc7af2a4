from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from console.core.models import LoginSession, User, utcnow
from console.handover import jobs as handover_jobs
from console.node import Hotline
from console.scheduler import JobContext, start_scheduler
from console.users import jobs as user_jobs
from console.users import services as users


def context(hotline: Hotline) -> JobContext:
    return JobContext(hotline.sessions, hotline.bus, hotline.settings.timezone)


def test_login_sessions_older_than_a_shift_are_revoked(hotline: Hotline) -> None:
    with hotline.sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == "agent1"))
        old = users.open_login_session(s, user)
        fresh = users.open_login_session(s, user)
        s.execute(
            update(LoginSession)
            .where(LoginSession.token == old)
            .values(created_at=utcnow() - dt.timedelta(hours=17))
        )
    sched = start_scheduler(context(hotline))
    try:
        assert sched.get_job("expire_login_sessions") is not None
        assert user_jobs.expire_login_sessions(context(hotline)) == 1
    finally:
        sched.shutdown(wait=False)
    with hotline.sessions() as s:
        assert users.user_for_token(s, old) is None
        assert users.user_for_token(s, fresh) is not None


def test_handover_and_weekly_jobs_are_registered_with_their_intervals(hotline: Hotline) -> None:
    sched = start_scheduler(context(hotline))
    try:
        intervals = {
            job_id: sched.get_job(job_id).trigger.interval
            for job_id in (
                "sweep_handover_misses",
                "remind_weekly_summaries",
                "sweep_weekly_misses",
            )
        }
    finally:
        sched.shutdown(wait=False)
    assert intervals == {
        "sweep_handover_misses": handover_jobs.HANDOVER_SWEEP_EVERY,
        "remind_weekly_summaries": handover_jobs.WEEKLY_EVERY,
        "sweep_weekly_misses": handover_jobs.WEEKLY_EVERY,
    }
    # Nothing is published: the sweeps find nothing to count and nobody to remind.
    ctx = context(hotline)
    assert handover_jobs.sweep_handover_misses(ctx) == 0
    assert handover_jobs.remind_weekly_summaries(ctx) == []
    assert handover_jobs.sweep_weekly_misses(ctx) == 0
