"""The router: longest-idle agent with the queue's skill, ring timeout, RONA.

A CallRouter belongs to one telephony worker and runs on that worker's control thread
only, so it needs no lock of its own; the atomic part (reserving an agent that several
workers may want) is the live state's compare-and-set.

The waiting calls of all workers form one order per skill in the live state (priority,
then arrival): the router puts a call there whenever it waits unoffered and takes it out
when it leaves, and the live state gives an agent only to the first call in that order
that can take her. Every worker routes when an agent becomes available, so whichever
worker holds the head of the order wins.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from console.calls import services as call_svc
from console.calls.schemas import ScreenPop
from console.calls.writer import OrderedWriter
from console.core.events import call_offer_withdrawn, call_offered
from console.core.models import Agent
from console.core.states import AgentState, NotReadyReason
from console.customers import services as customers
from console.node import Hotline

log = logging.getLogger(__name__)
Schedule = Callable[[float, Callable[[], None]], None]


@dataclass
class QueuedCall:
    """A call waiting for an agent, in this worker."""

    call_id: str
    skill: str
    ring_timeout_s: int
    wrap_up_s: int
    arrived: float  # wall clock (time.time()): compared with other workers' calls
    pop: ScreenPop
    priority: int = 0  # higher first, before arrival
    offered_to: int | None = None
    offer_token: int = 0
    excluded: set[int] = field(default_factory=set)


class CallRouter:
    """Offers waiting calls to agents and takes them back when nobody answers."""

    def __init__(self, hotline: Hotline, schedule: Schedule, writer: OrderedWriter) -> None:
        self._hl = hotline
        self._schedule = schedule
        self._writer = writer
        self._worker_id = hotline.settings.worker_id
        self._waiting: dict[str, QueuedCall] = {}
        self._tokens = itertools.count(1)

    def waiting(self) -> list[QueuedCall]:
        """Calls not yet connected, in the order they are served: priority, then arrival."""
        return sorted(self._waiting.values(), key=lambda q: (-q.priority, q.arrived, q.call_id))

    def _wait(self, qc: QueuedCall) -> None:
        """The call waits unoffered in its skill's order across workers, in its first place
        (its priority and first arrival), with the agents it must not be offered to."""
        self._hl.live.wait(
            qc.skill, qc.call_id, qc.priority, qc.arrived, self._worker_id, qc.excluded
        )

    def rejoin(self) -> int:
        """Put this worker's unoffered calls back into the shared order, each in its first
        place with its exclusions: the live state was restored (a Redis restarted empty lost
        the order) or Redis is reachable again (a wait or unwait may have failed meanwhile).
        Calls ringing at an agent stay offered: the restored agent still rings for them.
        How many were put back."""
        self._hl.live.forget_worker(self._worker_id)
        unoffered = [qc for qc in self.waiting() if qc.offered_to is None]
        for qc in unoffered:
            self._wait(qc)
        return len(unoffered)

    def add(self, qc: QueuedCall) -> None:
        """Queue a call and try to offer it at once."""
        self._waiting[qc.call_id] = qc
        self._wait(qc)
        self.route()

    def offer(self, qc: QueuedCall, agent_id: int) -> None:
        """Queue a call and ring one chosen agent already reserved for it (a transfer to
        her); if she lets it ring or refuses it, it waits for anyone of its queue. While she
        rings it is not in the waiting order, where it would hold back the calls behind."""
        self._waiting[qc.call_id] = qc
        self._offer(qc, agent_id)

    def route(self) -> None:
        """Offer every unoffered waiting call to the longest-idle agent with its skill that
        no call ahead of it (on any worker) could take; a reserved call has left the order."""
        for qc in self.waiting():
            if qc.offered_to is not None:
                continue
            agent = self._hl.live.reserve(qc.skill, qc.excluded, qc.call_id)
            if agent is None:
                continue
            self._offer(qc, agent.agent_id)
            self._hl.agents.record(agent)

    def _offer(self, qc: QueuedCall, agent_id: int) -> None:
        qc.offered_to = agent_id
        qc.offer_token = next(self._tokens)
        offered_at = time.time()
        # The offer goes out before the database write: the screen pop is on the
        # critical path (B1); the record follows in order on the writer thread.
        self._hl.bus.publish(
            call_offered(
                call_id=qc.call_id,
                agent_id=agent_id,
                ring_timeout_s=qc.ring_timeout_s,
                offered_at=offered_at,
                pop=qc.pop,
            )
        )
        call_id, shown = qc.call_id, [c["id"] for c in qc.pop["customers"]]
        offered = dt.datetime.fromtimestamp(offered_at, dt.UTC)

        def record(s: Session) -> None:
            call_svc.mark_offered(s, call_id, agent_id, offered)
            agent = s.get(Agent, agent_id)
            for customer_id in shown:
                customers.audit(
                    s,
                    agent.user_id if agent else None,
                    "view",
                    "customer",
                    customer_id,
                    call_id=call_id,
                    via="screen-pop",
                )

        self._writer.submit(record)
        token = qc.offer_token
        self._schedule(qc.ring_timeout_s, lambda: self._ring_timeout(qc.call_id, agent_id, token))

    def _ring_timeout(self, call_id: str, agent_id: int, token: int) -> None:
        qc = self._waiting.get(call_id)
        if qc is None or qc.offered_to != agent_id or qc.offer_token != token:
            return
        # RONA: the agent who let it ring is set not ready, the call goes to the next one.
        self._withdraw(qc, "rona", AgentState.NOT_READY, NotReadyReason.MISSED)
        self.route()

    def _withdraw(
        self, qc: QueuedCall, why: str, state: str, reason: str = "", wait: bool = True
    ) -> None:
        """Take the offer back from its agent; unless the call is gone (wait=False) it waits
        again in its place."""
        agent_id = qc.offered_to
        if agent_id is None:
            return
        qc.offered_to = None
        qc.offer_token = 0
        if wait:
            # Back in the order before the agent is freed: a worker that routes on her
            # becoming available must see this call ahead of its own younger ones.
            self._wait(qc)
        self._hl.agents.transition(
            agent_id, state, reason, expect=[AgentState.RINGING], expect_call=qc.call_id
        )
        call_id = qc.call_id
        self._writer.submit(lambda s: call_svc.mark_offer_withdrawn(s, call_id, agent_id, why))
        self._hl.bus.publish(call_offer_withdrawn(call_id=call_id, agent_id=agent_id, reason=why))

    def reject(self, call_id: str, agent_id: int) -> None:
        """The agent refused the offer: she stays available but is not offered this call again."""
        qc = self._waiting.get(call_id)
        if qc is None or qc.offered_to != agent_id:
            return
        qc.excluded.add(agent_id)
        self._withdraw(qc, "rejected", AgentState.AVAILABLE)
        self.route()

    def take(self, call_id: str, agent_id: int) -> QueuedCall | None:
        """The agent answered her offer: the call leaves the queue (None if not hers)."""
        qc = self._waiting.get(call_id)
        if qc is None or qc.offered_to != agent_id:
            return None
        del self._waiting[call_id]
        self._hl.live.unwait(call_id)  # left the order when reserved; a no-op then
        qc.offer_token = 0
        return qc

    def requeue(self, qc: QueuedCall, agent_id: int) -> None:
        """The agent's phone could not be reached: she is set not ready, the call waits
        again in its original place."""
        qc.offered_to = agent_id
        qc.excluded.add(agent_id)
        self._waiting[qc.call_id] = qc
        self._withdraw(
            qc, "phone-unreachable", AgentState.NOT_READY, NotReadyReason.PHONE_UNREACHABLE
        )
        self.route()

    def remove(self, call_id: str) -> QueuedCall | None:
        """The caller left: free the agent it was ringing at, if any."""
        qc = self._waiting.pop(call_id, None)
        # Out of the order before the agent is freed, so she goes to the next caller.
        self._hl.live.unwait(call_id)
        if qc is not None and qc.offered_to is not None:
            self._withdraw(qc, "caller-hangup", AgentState.AVAILABLE, wait=False)
        return qc
