"""What the SIP engine reports, one frozen dataclass per event, posted from pjsua2's thread.

Kept apart from telephony/engine.py so that code which only handles these events does not
load the native pjsua2 library.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LegIncoming:
    """An allowed INVITE arrived and waits for answer()/reject()."""

    leg_id: str
    source: str  # "ip:port" the INVITE came from
    from_user: str
    from_uri: str
    to_user: str
    to_uri: str
    call_id_header: str


@dataclass(frozen=True)
class LegAnswered:
    """The leg is CONFIRMED (incoming after our 200, outgoing after the far end's 200)."""

    leg_id: str


@dataclass(frozen=True)
class LegRinging:
    """An outgoing leg got 180/183."""

    leg_id: str


@dataclass(frozen=True)
class LegEnded:
    """The leg is DISCONNECTED; by_remote is True when the peer hung up or refused."""

    leg_id: str
    status_code: int
    reason: str
    by_remote: bool
    # An incoming leg we answered with 200 whose ACK never came (the dialog was never
    # confirmed): the caller cannot hear anything, whatever the status code says.
    unconfirmed: bool = False


@dataclass(frozen=True)
class LegDtmf:
    """A DTMF digit arrived on the leg."""

    leg_id: str
    digit: str


@dataclass(frozen=True)
class InviteRejected:
    """An INVITE was refused before it became a leg (403 source not allowed, 486 full...).

    ``trunk`` is True when the source is allowed: a real caller was turned away, and the
    From/To fields say who (they stay empty for strangers, whose INVITEs are not parsed).
    """

    source: str
    status_code: int
    reason: str
    trunk: bool = False
    from_user: str = ""
    from_uri: str = ""
    to_user: str = ""
    to_uri: str = ""
    call_id_header: str = ""


EngineEvent = LegIncoming | LegAnswered | LegRinging | LegEnded | LegDtmf | InviteRejected
