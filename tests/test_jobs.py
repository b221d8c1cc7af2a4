from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from console import jobs
from console.container import Hotline
from console.models import LoginSession, User, utcnow
from console.services import users


def test_login_sessions_older_than_a_shift_are_revoked(hotline: Hotline) -> None:
    with hotline.sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == "agent1"))
        old = users.open_login_session(s, user)
        fresh = users.open_login_session(s, user)
        s.execute(update(LoginSession).where(LoginSession.token == old).values(created_at=utcnow() - dt.timedelta(hours=17)))
    sched = jobs.start_scheduler(hotline)
    try:
        assert sched.get_job("expire_login_sessions") is not None
        assert jobs.expire_login_sessions() == 1
    finally:
        sched.shutdown(wait=False)
    with hotline.sessions() as s:
        assert users.user_for_token(s, old) is None
        assert users.user_for_token(s, fresh) is not None
