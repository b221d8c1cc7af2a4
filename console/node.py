"""The one place that builds every long-lived object and passes collaborators in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from console.agents.services import AgentStateService
from console.core.bus import InProcessBus, InProcessLiveState, LiveState, RedisBus, RedisLiveState
from console.core.db import make_engine, make_session_factory
from console.core.notifier import Emit, Publisher
from console.core.settings import Settings
from console.users.logins import LoginThrottle, build_login_throttle


@dataclass
class Hotline:
    """Everything a Hotline process shares: database, bus, live state, services."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: Publisher
    live: LiveState
    agents: AgentStateService
    logins: LoginThrottle

    def close(self) -> None:
        """Stop the bus, write what is queued, release connections."""
        self.agents.close()
        self.bus.close()
        self.logins.close()
        closer = getattr(self.live, "close", None)
        if closer:
            closer()
        self.engine.dispose()


def build(settings: Settings, emit: Emit | None = None) -> Hotline:
    """Build the shared objects for the single-node or the Redis-backed shape."""
    engine = make_engine(settings.effective_database_url)
    sessions = make_session_factory(engine)
    if settings.redis_url:
        prefix = settings.redis_prefix
        bus = Publisher(RedisBus(settings.redis_url, channel=f"{prefix}:events"), emit)
        live: LiveState = RedisLiveState(settings.redis_url, prefix=prefix)
    else:
        bus = Publisher(InProcessBus(), emit)
        live = InProcessLiveState()
    agents = AgentStateService(sessions, live, bus)
    return Hotline(settings, engine, sessions, bus, live, agents, build_login_throttle(settings))
