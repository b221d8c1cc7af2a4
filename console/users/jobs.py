"""Periodic jobs of users: sign-ins that outlived a shift stop working."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, update

from console.core.models import LoginSession, utcnow

if TYPE_CHECKING:
    from console.scheduler import JobContext

SESSION_MAX_AGE = dt.timedelta(hours=16)  # one long shift plus slack
EXPIRE_EVERY = dt.timedelta(minutes=10)


def expire_login_sessions(ctx: JobContext) -> int:
    """Revoke login sessions older than a shift, so a forgotten browser stops working."""
    cutoff = utcnow() - SESSION_MAX_AGE
    with ctx.sessions.begin() as s:
        stmt = (
            update(LoginSession)
            .where(LoginSession.revoked_at.is_(None), LoginSession.created_at < cutoff)
            .values(revoked_at=utcnow())
        )
        # An UPDATE answers a CursorResult, which has the rowcount.
        result = cast(CursorResult[Any], s.execute(stmt))
        return int(result.rowcount or 0)
