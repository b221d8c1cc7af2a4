"""The one place that shapes event payloads for browsers and chooses their rooms."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from console.core.bus import Bus, Handler
from console.core.events import (
    Event,
    agent_clocked,
    agent_state_changed,
    call_answered,
    call_arrived,
    call_control_failed,
    call_dialling,
    call_ended,
    call_held,
    call_offer_withdrawn,
    call_offered,
    call_party,
    call_transferred,
    call_wrapped,
    recording_failed,
    recording_paused,
    schedule_changed,
    weekly_summary_reminded,
)

log = logging.getLogger(__name__)
Emit = Callable[[str, dict[str, Any], str], None]

SUPERVISORS = "supervisors"
# Schedulers watch adherence live: they hear agents' state changes, not the calls (no
# caller numbers). Supervisors hear the same changes in their own room.
WORKFORCE = "workforce"


def agent_room(agent_id: int) -> str:
    return f"agent:{agent_id}"


def rooms_for(event: Event) -> list[str]:
    """Which Socket.IO rooms hear an event."""
    if isinstance(event, agent_state_changed | call_answered | call_ended):
        rooms = [SUPERVISORS]
        if event.agent_id is not None:
            rooms.insert(0, agent_room(event.agent_id))
        if isinstance(event, agent_state_changed):
            rooms.append(WORKFORCE)
        return rooms
    if isinstance(
        event,
        call_offered
        | call_offer_withdrawn
        | call_wrapped
        | call_control_failed
        | schedule_changed
        | weekly_summary_reminded,
    ):
        return [agent_room(event.agent_id)]
    if isinstance(
        event, recording_paused | call_held | call_party | call_transferred | call_dialling
    ):
        return [agent_room(event.agent_id), SUPERVISORS]
    if isinstance(event, recording_failed):
        rooms = [SUPERVISORS]
        if event.agent_id is not None:
            rooms.insert(0, agent_room(event.agent_id))
        return rooms
    if isinstance(event, call_arrived):
        return [SUPERVISORS]
    if isinstance(event, agent_clocked):
        return [SUPERVISORS, WORKFORCE]
    return []  # requests between processes are not for browsers


class Publisher:
    """Publishes on the bus and, in the publishing process only, emits to browsers.

    Emitting where the event is born (not where it is received) means each event reaches
    the browsers once, also when several web processes share a Redis message queue.
    """

    def __init__(self, bus: Bus, emit: Emit | None = None) -> None:
        self._bus = bus
        self.emit = emit

    def set_emit(self, emit: Emit) -> None:
        """Give the publisher its emitter once (the web role's Socket.IO server exists only
        after the shared objects; console/node.py sets it, nothing else)."""
        if self.emit is not None:
            raise RuntimeError("the publisher already has an emitter")
        self.emit = emit

    def publish(self, event: Event) -> None:
        emit = self.emit
        if emit is not None:
            wire = event.to_wire()
            for room in rooms_for(event):
                try:
                    emit(event.name, wire["data"], room)
                except Exception:
                    log.exception("emit %s to %s failed", event.name, room)
        self._bus.publish(event)

    def subscribe(self, handler: Handler) -> None:
        self._bus.subscribe(handler)

    def close(self) -> None:
        self._bus.close()
