"""Closing the calls of a telephony worker that is gone: at its own next start (it crashed),
at its clean stop, or at once when the node's pool supervisor sees its process die."""

from __future__ import annotations

import datetime as dt

from console.calls import services as call_svc
from console.core.events import call_ended
from console.core.models import utcnow
from console.core.states import AgentState, EndReason
from console.node import Hotline
from console.recordings import services as recording_svc


def close_worker_calls(hotline: Hotline, worker_id: str, reason: EndReason) -> list[str]:
    """Take the worker's waiting callers out of the shared queue order, close the calls it
    left open with `reason`, fail their open recordings, free the agents still ringing or
    talking on them and tell everyone; the closed calls' ids."""
    # Its callers left in the shared order would hold back every other worker's callers.
    hotline.live.forget_worker(worker_id)
    with hotline.sessions.begin() as s:
        # After a crash the calls died with the process, i.e. at its last heartbeat; on a
        # clean stop they end now.
        at: dt.datetime | None = (
            call_svc.worker_last_seen(s, worker_id) if reason == EndReason.WORKER_RESTART else None
        )
        orphans = call_svc.close_orphans(s, worker_id, reason, at)
        tied = [(c.id, c.agent_id) for c in orphans]
        # Their recordings stopped with the process: readable up to the crash (the sealed
        # segments), never complete.
        recording_svc.fail_open_recordings(s, [c for c, _ in tied], reason, utcnow())
    if not tied:
        return []
    live = hotline.live.agents()
    for call_id, agent_id in tied:
        for agent in live:
            if agent.call_id == call_id and agent.state in (AgentState.RINGING, AgentState.ON_CALL):
                hotline.agents.transition(
                    agent.agent_id,
                    AgentState.AVAILABLE,
                    expect=[AgentState.RINGING, AgentState.ON_CALL],
                    expect_call=call_id,
                )
        hotline.bus.publish(call_ended(call_id=call_id, agent_id=agent_id, end_reason=reason))
    return [call_id for call_id, _ in tied]
