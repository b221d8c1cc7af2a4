"""The console's named values: agent and call states, end reasons, user roles, defaults.

StrEnum members are equal to their strings (and serialise as them), so the database
columns and the JSON on the wire keep the very same values. The browser reads the agent
states from static/lib/states.js; a test keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum


class AgentState(StrEnum):
    """Where an agent is, as the live state holds it."""

    AVAILABLE = "available"
    NOT_READY = "not_ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    OFFLINE = "offline"


class NotReadyReason(StrEnum):
    """Why an agent is not ready (the last three are set by the call flow)."""

    BREAK = "break"
    LUNCH = "lunch"
    MEETING = "meeting"
    TRAINING = "training"
    MISSED = "missed"
    PHONE_UNREACHABLE = "phone_unreachable"
    AUDIO_LOST = "audio_lost"  # her browser audio stayed away past the grace period


# States an agent may pick herself; the rest are set by the call flow.
USER_STATES = (AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE)
BUSY_STATES = (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)


class AudioPath(StrEnum):
    """How an agent talks to callers, chosen at each sign-in (`Agent.audio`)."""

    BROWSER = "browser"  # the page's softphone (console/softphone)
    PHONE = "phone"  # her SIP phone (`Agent.sip_contact`), called by the worker


def audio_path(chosen: str, sip_contact: str) -> AudioPath:
    """The path a call takes: the sign-in's choice; without one, her phone if she has a
    SIP contact, else the browser. A phone chosen without a contact falls back to the
    browser (nothing to call)."""
    if chosen == AudioPath.PHONE and sip_contact:
        return AudioPath.PHONE
    if chosen == AudioPath.BROWSER:
        return AudioPath.BROWSER
    return AudioPath.PHONE if sip_contact else AudioPath.BROWSER


class CallState(StrEnum):
    """A call as the telephony worker holds it (`CallCtx.state`)."""

    QUEUED = "queued"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    ENDED = "ended"


class CallDirection(StrEnum):
    """Who placed a call (`Call.direction`)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"  # click-to-dial from the console


class TransferTo(StrEnum):
    """Where a blind transfer sends the caller."""

    QUEUE = "queue"
    AGENT = "agent"
    NUMBER = "number"  # an outside number through the outbound trunk


class PartyState(StrEnum):
    """The third party of a consult or conference (`call_party.state`)."""

    RINGING = "ringing"
    CONNECTED = "connected"  # talking to the agent, the caller on hold
    CONFERENCE = "conference"  # all three hear each other
    FAILED = "failed"  # never answered (busy, no answer, refused)
    ENDED = "ended"  # hung up or cancelled


class CallStatus(StrEnum):
    """A call record's status (`Call.status`)."""

    QUEUED = "queued"
    RINGING = "ringing"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WRAP_UP = "wrap_up"
    ENDED = "ended"


OPEN_STATUSES = (
    CallStatus.QUEUED,
    CallStatus.RINGING,
    CallStatus.CONNECTING,
    CallStatus.CONNECTED,
)


class EndReason(StrEnum):
    """Why a call ended (`Call.end_reason`, `call_ended.end_reason`)."""

    ABANDONED = "abandoned"
    CALLER_HANGUP = "caller-hangup"
    AGENT_HANGUP = "agent-hangup"
    NO_ACK = "no-ack"
    NO_CAPACITY = "no-capacity"
    REFUSED = "refused"
    WORKER_RESTART = "worker-restart"
    WORKER_STOPPED = "worker-stopped"
    # The agent passed the call on: her record ends here (she wraps it up) and the caller's
    # conversation goes on in a new record linked to it (`Call.parent_id`).
    TRANSFERRED = "transferred"
    NOT_REACHED = "not-reached"  # an outbound call nobody answered (busy, no answer)
    FAR_END_HANGUP = "far-end-hangup"  # the outside party of a transferred call hung up


class Role(StrEnum):
    """A user's role (`User.role`)."""

    AGENT = "agent"
    QA = "qa"
    SCHEDULER = "scheduler"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


# A queue's defaults, also used when a call has no queue at all.
DEFAULT_RING_TIMEOUT_S = 15
DEFAULT_WRAP_UP_S = 60
