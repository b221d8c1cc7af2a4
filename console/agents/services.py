"""Agent state: the live state decides (compare-and-set), the log records, the bus tells."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from console.calls.writer import OrderedWriter
from console.core.bus import AgentLive, Bus, LiveState
from console.core.errors import DomainError
from console.core.events import agent_state_changed
from console.core.models import Agent, AgentStateLog, Call
from console.core.states import (
    BUSY_STATES,
    USER_STATES,
    AgentState,
    AudioPath,
    CallStatus,
    NotReadyReason,
    audio_path,
)

STATES = tuple(AgentState)
NOT_READY_REASONS = tuple(NotReadyReason)


class AgentStateService:
    """Every agent state change goes through here, whichever process makes it."""

    def __init__(self, sessions: sessionmaker[Session], live: LiveState, bus: Bus) -> None:
        self._sessions = sessions
        self._live = live
        self._bus = bus
        # The state log is history; the live state decides. Logging off the caller's
        # thread keeps a routing decision from waiting on a disk flush.
        self._log = OrderedWriter(sessions, "hotline-agent-log")

    def load_agents(self) -> None:
        """Make every agent of the database known to the live state (state kept if known)."""
        with self._sessions() as s:
            for agent in s.scalars(select(Agent)):
                self._live.ensure_agent(agent.id, agent.skills or [])

    def register(self, agent_id: int, skills: Iterable[str]) -> AgentLive:
        """Make one agent known to the live state."""
        return self._live.ensure_agent(agent_id, skills)

    def current(self, agent_id: int) -> AgentLive | None:
        return self._live.get_agent(agent_id)

    def choose(self, agent_id: int, state: str, reason: str = "") -> AgentLive:
        """An agent picks her own state (available, not ready with a reason, offline)."""
        if state not in USER_STATES:
            raise DomainError("invalid-state")
        if state == AgentState.NOT_READY and reason not in NOT_READY_REASONS:
            raise DomainError("invalid-reason")
        if state != AgentState.NOT_READY:
            reason = ""
        allowed = [s for s in STATES if s not in BUSY_STATES]
        new = self.transition(agent_id, state, reason, expect=allowed)
        if new is None:
            if self._live.get_agent(agent_id) is None:
                raise DomainError("agent-not-found")
            raise DomainError("agent-busy")
        return new

    def transition(
        self,
        agent_id: int,
        state: str,
        reason: str = "",
        call_id: str | None = None,
        expect: Iterable[str] | None = None,
        expect_call: str | None = None,
    ) -> AgentLive | None:
        """Compare-and-set the live state; on success log it and publish it."""
        new = self._live.transition(agent_id, state, reason, call_id, expect, expect_call)
        if new is not None:
            self.record(new)
        return new

    def record(self, new: AgentLive) -> None:
        """Publish and log a change the live state already made (e.g. a reservation)."""
        entry = AgentStateLog(
            agent_id=new.agent_id,
            state=new.state,
            reason=new.reason,
            call_id=new.call_id,
            at=dt.datetime.fromtimestamp(new.since, dt.UTC),
        )
        self._log.submit(lambda s: s.add(entry))
        self._bus.publish(
            agent_state_changed(
                agent_id=new.agent_id,
                state=new.state,
                reason=new.reason,
                since=new.since,
                call_id=new.call_id,
            )
        )

    def flush(self) -> None:
        """Wait until every state change so far is in the log."""
        self._log.flush()

    def close(self) -> None:
        """Write what is queued and stop the log writer."""
        self._log.close()


def last_states(session: Session, now: float) -> list[AgentLive]:
    """Every agent with her skills and her last logged state, as the live state held it: to
    restore a live state that was lost (console/agents/keeper.py). An agent never logged is
    offline since `now`.

    A busy state stands with its call, unless the call's record shows the call moved on while
    the live state could not be written (Redis out of reach: the worker's transition did not
    happen, the record did): see `_settled`."""
    ranked = select(
        AgentStateLog.agent_id,
        AgentStateLog.state,
        AgentStateLog.reason,
        AgentStateLog.call_id,
        AgentStateLog.at,
        func.row_number()
        .over(
            partition_by=AgentStateLog.agent_id,
            order_by=(AgentStateLog.at.desc(), AgentStateLog.id.desc()),
        )
        .label("n"),
    ).subquery()
    last = {
        row.agent_id: row
        for row in session.execute(
            select(
                ranked.c.agent_id, ranked.c.state, ranked.c.reason, ranked.c.call_id, ranked.c.at
            ).where(ranked.c.n == 1)
        )
    }
    # When each became available last: the longest idle is offered first.
    idle: dict[int, dt.datetime] = {
        agent_id: at
        for agent_id, at in session.execute(
            select(AgentStateLog.agent_id, func.max(AgentStateLog.at))
            .where(AgentStateLog.state == AgentState.AVAILABLE)
            .group_by(AgentStateLog.agent_id)
        ).tuples()
    }
    call_ids = {row.call_id for row in last.values() if row.call_id}
    calls = (
        {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(call_ids)))}
        if call_ids
        else {}
    )
    out = []
    for agent in session.scalars(select(Agent).order_by(Agent.id)):
        skills = tuple(agent.skills or ())
        row = last.get(agent.id)
        if row is None:
            out.append(AgentLive(agent.id, since=now, skills=skills))
            continue
        state, reason, call_id, since = row.state, row.reason, row.call_id, row.at.timestamp()
        call = calls.get(call_id) if call_id else None
        settled = _settled(agent.id, state, call) if call is not None else None
        if settled is not None:
            (state, call_id), reason, since = settled, "", now
        if state == AgentState.AVAILABLE:
            idle_since = since
        else:
            idle_since = idle[agent.id].timestamp() if agent.id in idle else 0.0
        out.append(AgentLive(agent.id, state, reason, since, idle_since, skills, call_id))
    return out


def _settled(agent_id: int, state: str, call: Call) -> tuple[str, str | None] | None:
    """The agent's state and call as her call's record says they went on, when it moved on
    from what she was logged doing with it; None when her logged state stands. The same
    transitions the telephony worker and the wrap-up make."""
    answered_by_her = call.agent_id == agent_id and call.answered_at is not None
    if state in (AgentState.RINGING, AgentState.ON_CALL):
        if call.ended_at is not None:  # hung up: her wrap-up, if she had answered it
            if answered_by_her and call.status == CallStatus.WRAP_UP:
                return AgentState.WRAP_UP, call.id
            return AgentState.AVAILABLE, None
        if state == AgentState.RINGING and answered_by_her:
            return AgentState.ON_CALL, call.id
        if state == AgentState.RINGING and call.status == CallStatus.QUEUED:
            return AgentState.AVAILABLE, None  # the offer was withdrawn: the call waits
    elif state == AgentState.WRAP_UP and call.wrapped_at is not None:
        return AgentState.AVAILABLE, None
    return None


def phone_without_contact(session: Session, agent_id: int) -> bool:
    """She chose her SIP phone at sign-in but has no SIP contact: her calls use the
    browser, and her console says so."""
    agent = session.get(Agent, agent_id)
    return agent is not None and agent.audio == AudioPath.PHONE and not agent.sip_contact


def audio_of(session: Session, agent_id: int) -> tuple[AudioPath, str]:
    """How the agent talks now (her sign-in's choice, see states.audio_path) and her SIP
    contact ("" when she has none)."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        return AudioPath.BROWSER, ""
    return audio_path(agent.audio, agent.sip_contact), agent.sip_contact
