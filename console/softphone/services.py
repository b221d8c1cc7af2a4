"""Where a call's browser audio is served: the worker holding it and the agent it is for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from console.core.models import Call, WorkerHeartbeat
from console.core.states import CallStatus


@dataclass(frozen=True)
class AudioRoute:
    audio_url: str  # the worker's internal audio server (console/softphone/relay.py)
    agent_id: int


def audio_route(s: Session, call_id: str) -> AudioRoute | None:
    """The connected call's worker audio address and agent; None when the call is not
    connected, has no agent, or its worker serves no audio to other processes."""
    call = s.get(Call, call_id)
    if call is None or call.status != CallStatus.CONNECTED or call.agent_id is None:
        return None
    worker = s.get(WorkerHeartbeat, call.worker_id) if call.worker_id else None
    if worker is None or not worker.audio_url:
        return None
    return AudioRoute(worker.audio_url, call.agent_id)
