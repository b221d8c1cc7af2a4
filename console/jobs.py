"""APScheduler jobs: module-level functions taking plain values, registered with ids."""

from __future__ import annotations

import datetime as dt

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import update

from console.container import Hotline
from console.models import LoginSession, utcnow

SESSION_MAX_AGE = dt.timedelta(hours=16)  # one long shift plus slack

_hotline: Hotline | None = None


def expire_login_sessions() -> int:
    """Revoke login sessions older than a shift, so a forgotten browser stops working."""
    assert _hotline is not None
    cutoff = utcnow() - SESSION_MAX_AGE
    with _hotline.sessions.begin() as s:
        result = s.execute(
            update(LoginSession)
            .where(LoginSession.revoked_at.is_(None), LoginSession.created_at < cutoff)
            .values(revoked_at=utcnow())
        )
        return int(result.rowcount or 0)


def start_scheduler(hotline: Hotline) -> BackgroundScheduler:
    """Start the in-process scheduler with every job of this node."""
    global _hotline
    _hotline = hotline
    sched = BackgroundScheduler(timezone=hotline.settings.timezone)
    sched.add_job(expire_login_sessions, "interval", minutes=10, id="expire_login_sessions", replace_existing=True)
    sched.start()
    return sched
