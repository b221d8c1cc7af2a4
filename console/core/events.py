"""Events: frozen dataclasses named in the past tense, the same name in Python and on the wire."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    name: ClassVar[str] = "event"

    def to_wire(self) -> dict[str, Any]:
        """The JSON-able form: {'name': ..., 'data': {...}}."""
        return {"name": self.name, "data": dataclasses.asdict(self)}


@dataclass(frozen=True)
class agent_state_changed(Event):
    name: ClassVar[str] = "agent_state_changed"
    agent_id: int
    state: str
    reason: str = ""
    since: float = 0.0
    call_id: str | None = None


@dataclass(frozen=True)
class call_arrived(Event):
    name: ClassVar[str] = "call_arrived"
    call_id: str
    queue_id: int | None
    caller_number: str
    worker_id: str
    at: float = 0.0


@dataclass(frozen=True)
class call_offered(Event):
    name: ClassVar[str] = "call_offered"
    call_id: str
    agent_id: int
    ring_timeout_s: int
    offered_at: float
    pop: Mapping[str, Any] = field(default_factory=dict)  # a calls.ScreenPop


@dataclass(frozen=True)
class call_offer_withdrawn(Event):
    name: ClassVar[str] = "call_offer_withdrawn"
    call_id: str
    agent_id: int
    reason: str  # rona | rejected | caller-hangup | phone-unreachable


@dataclass(frozen=True)
class call_answered(Event):
    name: ClassVar[str] = "call_answered"
    call_id: str
    agent_id: int
    answered_at: float


@dataclass(frozen=True)
class call_ended(Event):
    name: ClassVar[str] = "call_ended"
    call_id: str
    agent_id: int | None
    end_reason: str
    wrap_up_s: int = 0


@dataclass(frozen=True)
class call_wrapped(Event):
    name: ClassVar[str] = "call_wrapped"
    call_id: str
    agent_id: int
    disposition: str


@dataclass(frozen=True)
class schedule_changed(Event):
    """Something in an agent's own schedule changed: a roster published, a swap or leave."""

    name: ClassVar[str] = "schedule_changed"
    agent_id: int
    # published | swap-requested | swap-accepted | swap-declined | swap-approved |
    # swap-refused | swap-cancelled | leave-approved | leave-refused
    kind: str
    day: str | None = None  # local day concerned (ISO), when there is one
    roster_id: int | None = None


@dataclass(frozen=True)
class weekly_summary_reminded(Event):
    name: ClassVar[str] = "weekly_summary_reminded"
    agent_id: int
    due: str  # ISO 8601 deadline


@dataclass(frozen=True)
class agent_clocked(Event):
    """An agent clocked in or out (the supervisor's grid shows it live)."""

    name: ClassVar[str] = "agent_clocked"
    agent_id: int
    kind: str  # in | out
    at: float
    source: str = "console"  # console | relief-missing (left before her relief arrived)


# Requests from the web layer to whichever telephony worker holds the call.
@dataclass(frozen=True)
class call_answer_requested(Event):
    name: ClassVar[str] = "call_answer_requested"
    call_id: str
    agent_id: int


@dataclass(frozen=True)
class call_reject_requested(Event):
    name: ClassVar[str] = "call_reject_requested"
    call_id: str
    agent_id: int


@dataclass(frozen=True)
class call_hangup_requested(Event):
    name: ClassVar[str] = "call_hangup_requested"
    call_id: str
    agent_id: int


@dataclass(frozen=True)
class call_control_requested(Event):
    """The agent on a call asks for hold, resume or DTMF digits; the worker holding it acts."""

    name: ClassVar[str] = "call_control_requested"
    call_id: str
    agent_id: int
    action: str  # hold | resume | dtmf | transfer | consult | complete | cancel | conference
    digits: str = ""
    # transfer: TransferTo and the queue id, agent id or number; consult: "number" and it.
    to: str = ""
    target: str = ""


@dataclass(frozen=True)
class call_control_failed(Event):
    """A call-control request could not be carried out (the target moved on, the number was
    not reached...): nothing changed, the agent is told why (an error id of the catalog)."""

    name: ClassVar[str] = "call_control_failed"
    call_id: str
    agent_id: int
    action: str
    error: str


@dataclass(frozen=True)
class call_party(Event):
    """The third party of the agent's consult or conference changed state (PartyState)."""

    name: ClassVar[str] = "call_party"
    call_id: str
    agent_id: int
    state: str
    number: str


@dataclass(frozen=True)
class call_transferred(Event):
    """The agent passed the call on: her record is closed (wrap-up follows), the caller's
    conversation goes on as new_call_id."""

    name: ClassVar[str] = "call_transferred"
    call_id: str
    agent_id: int
    to: str
    target: str
    new_call_id: str


@dataclass(frozen=True)
class call_dial_requested(Event):
    """The agent clicked to dial: worker_id places the call (its record is open already)."""

    name: ClassVar[str] = "call_dial_requested"
    call_id: str
    agent_id: int
    worker_id: str
    number: str
    caller_id: str
    # Where the agent goes back to when nobody answers (her state before she dialled).
    resume_state: str = "available"
    resume_reason: str = ""


@dataclass(frozen=True)
class call_dialling(Event):
    """An outbound call of the agent is being placed (her card shows it ringing out)."""

    name: ClassVar[str] = "call_dialling"
    call_id: str
    agent_id: int
    number: str
    pop: dict[str, Any]


@dataclass(frozen=True)
class call_held(Event):
    """The call was put on hold (the caller hears music) or taken off it."""

    name: ClassVar[str] = "call_held"
    call_id: str
    agent_id: int
    held: bool


@dataclass(frozen=True)
class recording_failed(Event):
    """A call's recording could not be written (full disk, unwritable store); the call goes
    on. Supervisors are alerted."""

    name: ClassVar[str] = "recording_failed"
    call_id: str
    channel: str
    error: str
    agent_id: int | None = None


@dataclass(frozen=True)
class recording_pause_requested(Event):
    """The agent on the call pauses (or resumes) its recording, e.g. while a card number is
    read out; the worker holding the call applies it."""

    name: ClassVar[str] = "recording_pause_requested"
    call_id: str
    agent_id: int
    paused: bool


@dataclass(frozen=True)
class recording_paused(Event):
    """The recording of a call was paused or resumed (the agent's card shows it)."""

    name: ClassVar[str] = "recording_paused"
    call_id: str
    agent_id: int
    paused: bool


@dataclass(frozen=True)
class roster_cancel_requested(Event):
    """A scheduler pressed Stop: whichever web process runs the roster's solve stops it."""

    name: ClassVar[str] = "roster_cancel_requested"
    roster_id: int


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        agent_state_changed,
        call_arrived,
        call_offered,
        call_offer_withdrawn,
        call_answered,
        call_ended,
        call_wrapped,
        schedule_changed,
        weekly_summary_reminded,
        agent_clocked,
        call_answer_requested,
        call_reject_requested,
        call_hangup_requested,
        call_control_requested,
        call_control_failed,
        call_party,
        call_transferred,
        call_dial_requested,
        call_dialling,
        call_held,
        recording_failed,
        recording_pause_requested,
        recording_paused,
        roster_cancel_requested,
    )
}


def from_wire(message: dict[str, Any]) -> Event:
    """Rebuild an event from its wire form."""
    return EVENT_TYPES[message["name"]](**message["data"])
