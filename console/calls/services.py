"""Call records: open, offer, answer, end, wrap up, orphan recovery, the call log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from console.core import numbers
from console.core.errors import DomainError
from console.core.models import (
    Agent,
    Call,
    CallEvent,
    CallTag,
    Customer,
    Disposition,
    Queue,
    User,
    WorkerHeartbeat,
    new_call_id,
    utcnow,
)
from console.core.states import (
    DEFAULT_RING_TIMEOUT_S,
    CallDirection,
    CallStatus,
    EndReason,
    TransferTo,
)
from console.customers import services as customers
from console.customers.services import CustomerFile


def add_event(
    session: Session, call_id: str, kind: str, agent_id: int | None = None, **data: Any
) -> None:
    """Append one entry to the call's event log."""
    session.add(CallEvent(call_id=call_id, kind=kind, agent_id=agent_id, data=data))


def _add_event_at(
    session: Session, call_id: str, kind: str, agent_id: int, at: dt.datetime
) -> None:
    """An entry of the call's event log that happened at ``at`` (the ordered writer may
    record it a while later)."""
    session.add(CallEvent(call_id=call_id, kind=kind, agent_id=agent_id, data={}, at=at))


def queue_for_number(session: Session, callee: str) -> Queue | None:
    """The queue answering this dialled number, else the default queue."""
    queues = list(session.scalars(select(Queue).order_by(Queue.priority.desc(), Queue.id)))
    for q in queues:
        if callee in (q.numbers or []):
            return q
    for q in queues:
        if q.is_default:
            return q
    return queues[0] if queues else None


def open_inbound(
    session: Session, caller_raw: str, callee_raw: str, worker_id: str, country_code: str = "86"
) -> tuple[Call, Queue | None, list[CustomerFile]]:
    """Open the record of a new inbound call; returns it, its queue and the customers owning
    the caller's number (what schemas.screen_pop shows)."""
    caller, invalid = caller_number(caller_raw, country_code)
    callee = numbers.extract_user(callee_raw)
    q = queue_for_number(session, callee)
    callers = customers.for_caller(session, caller)
    call = Call(
        direction="inbound",
        status=CallStatus.QUEUED,
        caller_number=caller,
        caller_number_invalid=invalid,
        caller_raw=caller_raw[:256],
        callee_number=callee[:64],
        queue_id=q.id if q else None,
        customer_id=callers[0].customer.id if callers else None,
        worker_id=worker_id,
    )
    session.add(call)
    session.flush()
    add_event(session, call.id, "arrived", caller=caller, callee=callee, worker=worker_id)
    return call, q, callers


def caller_number(caller_raw: str, country_code: str) -> tuple[str, bool]:
    """The number a call record stores and whether it is flagged as not E.164."""
    try:
        return numbers.normalize(caller_raw, country_code), False
    except numbers.ImplausibleNumber as err:
        return err.kept, True
    except ValueError:
        return "anonymous", False


def record_refused(
    session: Session,
    caller_raw: str,
    callee_raw: str,
    worker_id: str,
    country_code: str = "86",
    end_reason: str = EndReason.NO_CAPACITY,
    **data: Any,
) -> Call:
    """Record a trunk caller turned away at the door (no slot): counted as a lost call."""
    caller, invalid = caller_number(caller_raw, country_code)
    callee = numbers.extract_user(callee_raw)
    q = queue_for_number(session, callee)
    now = utcnow()
    call = Call(
        direction="inbound",
        status=CallStatus.ENDED,
        caller_number=caller,
        caller_number_invalid=invalid,
        caller_raw=caller_raw[:256],
        callee_number=callee[:64],
        queue_id=q.id if q else None,
        worker_id=worker_id,
        arrived_at=now,
        ended_at=now,
        wait_s=0.0,
        end_reason=end_reason,
    )
    session.add(call)
    session.flush()
    add_event(session, call.id, "refused", caller=caller, callee=callee, worker=worker_id, **data)
    return call


def _call(session: Session, call_id: str) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise DomainError("call-not-found")
    return call


def mark_offered(
    session: Session, call_id: str, agent_id: int, at: dt.datetime | None = None
) -> Call:
    """The call rings at an agent (now, or since ``at``: the ordered writer may run later)."""
    call = _call(session, call_id)
    now = at or utcnow()
    if call.offered_at is None:
        call.offered_at = now
    call.status = CallStatus.RINGING
    call.offers += 1
    _add_event_at(session, call_id, "offered", agent_id, now)
    return call


def mark_offer_withdrawn(session: Session, call_id: str, agent_id: int, reason: str) -> None:
    """The offer to an agent ended without an answer (RONA, reject, phone unreachable)."""
    call = _call(session, call_id)
    if call.status == CallStatus.RINGING:
        call.status = CallStatus.QUEUED
    add_event(session, call_id, "offer_withdrawn", agent_id, reason=reason)


def mark_answered(
    session: Session, call_id: str, agent_id: int, at: dt.datetime | None = None
) -> Call:
    """The agent answered (now, or at ``at``): ring time is measured from the first offer."""
    call = _call(session, call_id)
    now = at or utcnow()
    call.answered_at = now
    call.agent_id = agent_id
    call.status = CallStatus.CONNECTED
    call.wait_s = round((now - call.arrived_at).total_seconds(), 3)
    if call.offered_at is not None:
        call.ring_s = round((now - call.offered_at).total_seconds(), 3)
    _add_event_at(session, call_id, "answered", agent_id, now)
    return call


def mark_requeued(session: Session, call_id: str, agent_id: int, why: str) -> Call:
    """The answering agent was lost mid-call (her browser audio stayed away past the grace
    period): the call waits in its queue again; the next answer starts its talk time anew."""
    call = _call(session, call_id)
    call.status = CallStatus.QUEUED
    add_event(session, call_id, "requeued", agent_id, reason=why)
    return call


def mark_ended(
    session: Session, call_id: str, end_reason: str, at: dt.datetime | None = None
) -> Call:
    """Close the call with its end reason and durations (ended now, or at ``at``); idempotent."""
    call = _call(session, call_id)
    if call.ended_at is not None:
        return call
    # A call answered (or offered) after the given moment ends when that happened: never
    # a negative duration.
    now = (
        utcnow() if at is None else max(at, call.answered_at or call.offered_at or call.arrived_at)
    )
    call.ended_at = now
    call.end_reason = end_reason
    if call.answered_at is not None:
        call.talk_s = round((now - call.answered_at).total_seconds(), 3)
        call.status = CallStatus.WRAP_UP
    else:
        call.wait_s = round((now - call.arrived_at).total_seconds(), 3)
        call.status = CallStatus.ENDED
        if call.offered_at is not None:
            call.ring_s = round((now - call.offered_at).total_seconds(), 3)
    add_event(session, call_id, "ended", call.agent_id, reason=end_reason)
    return call


def wrap_up(
    session: Session,
    call_id: str,
    agent_id: int,
    disposition: str,
    tags: list[str] | None = None,
    notes: str = "",
) -> Call:
    """Finish the after-call work: disposition required, tags and notes optional."""
    call = _call(session, call_id)
    if call.agent_id != agent_id:
        raise DomainError("call-not-offered")
    if call.status != CallStatus.WRAP_UP:
        raise DomainError("not-in-wrap-up")
    disposition = (disposition or "").strip()
    if not disposition:
        raise DomainError("disposition-required")
    if not session.scalar(
        select(Disposition).where(Disposition.code == disposition, Disposition.active)
    ):
        raise DomainError("unknown-disposition")
    clean_tags = sorted({t.strip()[:64] for t in tags or [] if t.strip()})
    now = utcnow()
    call.disposition_code = disposition
    call.notes = notes[:10000]
    call.tags = [CallTag(call_id=call.id, tag=t) for t in clean_tags]
    call.wrapped_at = now
    call.status = CallStatus.ENDED
    if call.ended_at is not None:
        call.wrap_up_s = round((now - call.ended_at).total_seconds(), 3)
    add_event(session, call_id, "wrapped", agent_id, disposition=disposition, tags=clean_tags)
    return call


def transfer_target(
    session: Session, to: str, target: str, country_code: str
) -> tuple[TransferTo, str]:
    """A blind transfer's target checked: the queue or agent exists (its id), or the number
    is one (canonical form)."""
    if to == TransferTo.NUMBER:
        return TransferTo.NUMBER, outside_number(target, country_code)
    if to not in (TransferTo.QUEUE, TransferTo.AGENT) or not target.isdigit():
        raise DomainError("invalid-input", detail="to")
    if to == TransferTo.QUEUE:
        if session.get(Queue, int(target)) is None:
            raise DomainError("queue-not-found")
        return TransferTo.QUEUE, target
    if session.get(Agent, int(target)) is None:
        raise DomainError("agent-not-found")
    return TransferTo.AGENT, target


def outside_number(raw: str, country_code: str) -> str:
    """A number typed by an agent, in canonical form; refused when it cannot be dialled."""
    try:
        return numbers.normalize(numbers.extract_user(raw or ""), country_code)
    except ValueError:
        raise DomainError("invalid-number") from None


def caller_id(queue: Queue | None) -> str:
    """The number an outbound call presents: its queue's first number."""
    if queue is None or not queue.numbers:
        raise DomainError("queue-has-no-number")
    return str(queue.numbers[0])


def continue_transferred(
    session: Session,
    call_id: str,
    agent_id: int,
    to: str,
    target: str,
    worker_id: str,
    *,
    new_id: str | None = None,
    queue_id: int | None = None,
    connected: bool = False,
    taken_by: int | None = None,
) -> Call:
    """The agent passed the call on: her record ends ("transferred"; she wraps it up) and
    the caller's conversation goes on in a new record pointing back to it, in queue_id
    (default: the same queue) or with the outside number (``connected`` when it already
    answered, as after a consult; ``taken_by`` the consulted agent who takes it over)."""
    old = mark_ended(session, call_id, EndReason.TRANSFERRED)
    add_event(session, call_id, "transferred", agent_id, to=to, target=target)
    now = utcnow()
    new = Call(
        id=new_id or new_call_id(),
        direction=old.direction,
        status=CallStatus.CONNECTED if connected else CallStatus.QUEUED,
        caller_number=old.caller_number,
        caller_number_invalid=old.caller_number_invalid,
        caller_raw=old.caller_raw,
        callee_number=target if to == TransferTo.NUMBER else old.callee_number,
        queue_id=queue_id if queue_id is not None else old.queue_id,
        customer_id=old.customer_id,
        worker_id=worker_id,
        parent_id=old.id,
        arrived_at=now,
        answered_at=now if connected else None,
        wait_s=0.0 if connected else None,
    )
    session.add(new)
    session.flush()
    add_event(session, new.id, "arrived", agent_id, transferred_from=call_id, to=to, target=target)
    if taken_by is not None:  # a consulted colleague takes the caller over at once
        new.agent_id = taken_by
        add_event(session, new.id, "answered", taken_by)
    return new


def mark_far_end(session: Session, call_id: str, answered: bool, number: str) -> None:
    """A transferred call's outside party answered (talk time runs from here) or was not
    reached (the caller waits in the queue again)."""
    call = _call(session, call_id)
    if answered:
        now = utcnow()
        call.answered_at = now
        call.status = CallStatus.CONNECTED
        call.wait_s = round((now - call.arrived_at).total_seconds(), 3)
    else:
        call.status = CallStatus.QUEUED
    add_event(session, call_id, "far-answered" if answered else "far-not-reached", number=number)


# A telephony worker silent for longer than this is not asked to place a call (it beats
# every 2 s: telephony/worker.py HEARTBEAT_S).
DIALLING_WORKER_FRESH_S = 10.0


@dataclass(frozen=True)
class OutboundPlan:
    """A click-to-dial checked: whom to call, as which queue (its number shown), for which
    customer, through which telephony worker."""

    number: str
    queue_id: int
    caller_id: str
    customer_id: int | None
    worker_id: str


def _optional_id(value: object, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise DomainError("invalid-input", detail=field)
    return int(value)


def plan_outbound(
    session: Session, number: str, queue_id: object, customer_id: object, country_code: str
) -> OutboundPlan:
    """Check a click-to-dial before anything changes: a dialable number, the queue (the
    default queue when none is given) with a number to show, the customer, a live worker."""
    dialled = outside_number(number, country_code)
    qid, cid = _optional_id(queue_id, "queue_id"), _optional_id(customer_id, "customer_id")
    queue = session.get(Queue, qid) if qid is not None else queue_for_number(session, "")
    if queue is None:
        raise DomainError("queue-not-found")
    presented = caller_id(queue)
    if cid is not None:
        if session.get(Customer, cid) is None:
            raise DomainError("customer-not-found")
    else:
        owners = customers.for_caller(session, dialled)
        cid = owners[0].customer.id if owners else None
    worker = dialling_worker(session, DIALLING_WORKER_FRESH_S)
    if worker is None:
        raise DomainError("no-telephony")
    return OutboundPlan(dialled, queue.id, presented, cid, worker)


def open_outbound(
    session: Session, agent_id: int, plan: OutboundPlan, *, call_id: str | None = None
) -> tuple[Call, Queue | None, list[CustomerFile]]:
    """The record of a call the agent places (click-to-dial), with what its screen pop
    shows (as open_inbound).
    ``caller_number`` holds the customer's number whatever the direction, so the log and
    the screen pop find her."""
    call = Call(
        id=call_id or new_call_id(),
        direction=CallDirection.OUTBOUND,
        status=CallStatus.CONNECTING,
        caller_number=plan.number,
        caller_raw=plan.number,
        callee_number=plan.caller_id,
        queue_id=plan.queue_id,
        agent_id=agent_id,
        customer_id=plan.customer_id,
        worker_id=plan.worker_id,
    )
    session.add(call)
    session.flush()
    add_event(session, call.id, "dialled", agent_id, number=plan.number, caller_id=plan.caller_id)
    return call, session.get(Queue, plan.queue_id), customers.for_caller(session, plan.number)


def dialling_worker(session: Session, fresh_s: float) -> str | None:
    """The telephony worker to place an outbound call: the one heard from last, if it was
    heard from within fresh_s seconds."""
    row = session.scalars(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.seen_at.desc()).limit(1)
    ).first()
    if row is None or (utcnow() - row.seen_at).total_seconds() > fresh_s:
        return None
    return row.worker_id


def close_orphans(
    session: Session,
    worker_id: str,
    reason: str = EndReason.WORKER_RESTART,
    at: dt.datetime | None = None,
) -> list[Call]:
    """Calls a crashed worker left open are closed with an end reason, never left in progress.

    ``at`` is when the worker was last known alive: talk time ends there, not at the restart.
    """
    open_calls = list(
        session.scalars(select(Call).where(Call.worker_id == worker_id, Call.ended_at.is_(None)))
    )
    for call in open_calls:
        mark_ended(session, call.id, reason, at)
        if call.answered_at is None:
            call.status = CallStatus.ENDED
    return open_calls


def worker_seen(
    session: Session, worker_id: str, started: bool = False, audio_url: str | None = None
) -> None:
    """Heartbeat: the worker is alive now (``started`` also stamps its start, and
    ``audio_url`` where it serves browser audio to other processes)."""
    now = utcnow()
    row = session.get(WorkerHeartbeat, worker_id)
    if row is None:
        row = WorkerHeartbeat(worker_id=worker_id, started_at=now, seen_at=now)
        session.add(row)
    row.seen_at = now
    if started:
        row.started_at = now
        row.audio_url = audio_url or ""


def worker_last_seen(session: Session, worker_id: str) -> dt.datetime | None:
    """The last heartbeat of a worker, or None if it never ran with heartbeats."""
    row = session.get(WorkerHeartbeat, worker_id)
    return row.seen_at if row is not None else None


def needing_wrap_up(session: Session, agent_id: int) -> list[Call]:
    """Answered calls of the agent that ended without a disposition (e.g. a node crashed)."""
    stmt = (
        select(Call)
        .where(
            Call.agent_id == agent_id, Call.status == CallStatus.WRAP_UP, Call.ended_at.is_not(None)
        )
        .order_by(Call.ended_at)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class CallFilter:
    """Call-log filters; every field optional."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    queue_id: int | None = None
    agent_id: int | None = None
    number: str | None = None
    disposition: str | None = None
    tag: str | None = None
    needs_wrap_up: bool = False
    limit: int = 100
    offset: int = 0

    @classmethod
    def from_args(cls, args: dict[str, str], country_code: str = "86") -> CallFilter:
        """Parse query-string arguments; bad values raise invalid-input."""

        def when(key: str) -> dt.datetime | None:
            raw = args.get(key)
            if not raw:
                return None
            try:
                value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise DomainError("invalid-input", key) from None
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

        def integer(
            key: str, default: int | None = None, lo: int = 0, hi: int = 10**9
        ) -> int | None:
            raw = args.get(key)
            if raw in (None, ""):
                return default
            try:
                value = int(raw)
            except ValueError:
                raise DomainError("invalid-input", key) from None
            if not lo <= value <= hi:
                raise DomainError("invalid-input", key)
            return value

        def flag(key: str) -> bool:
            raw = (args.get(key) or "").strip().lower()
            if raw in ("", "0", "false"):
                return False
            if raw in ("1", "true"):
                return True
            raise DomainError("invalid-input", key)

        number = args.get("number") or None
        if number:
            try:
                number = numbers.normalize(number, country_code)
            except numbers.ImplausibleNumber as err:
                number = err.kept  # stored as it came, so searched as it came
            except ValueError:
                raise DomainError("invalid-phone", number) from None
        return cls(
            since=when("since"),
            until=when("until"),
            queue_id=integer("queue"),
            agent_id=integer("agent"),
            number=number,
            disposition=args.get("disposition") or None,
            tag=args.get("tag") or None,
            needs_wrap_up=flag("needs_wrap_up"),
            limit=integer("limit", 100, 1, 1000) or 100,
            offset=integer("offset", 0) or 0,
        )


def _filtered(f: CallFilter) -> Select[tuple[Call]]:
    stmt = select(Call)
    if f.since:
        stmt = stmt.where(Call.arrived_at >= f.since)
    if f.until:
        stmt = stmt.where(Call.arrived_at < f.until)
    if f.queue_id is not None:
        stmt = stmt.where(Call.queue_id == f.queue_id)
    if f.agent_id is not None:
        stmt = stmt.where(Call.agent_id == f.agent_id)
    if f.number:
        stmt = stmt.where(Call.caller_number == f.number)
    if f.disposition:
        stmt = stmt.where(Call.disposition_code == f.disposition)
    if f.tag:
        stmt = stmt.where(Call.id.in_(select(CallTag.call_id).where(CallTag.tag == f.tag)))
    if f.needs_wrap_up:
        stmt = stmt.where(Call.status == CallStatus.WRAP_UP, Call.ended_at.is_not(None))
    return stmt


@dataclass(frozen=True)
class CallNames:
    """The names a call record shows for its agent and queue ids."""

    agents: dict[int, str]
    queues: dict[int, str]


def names(session: Session) -> CallNames:
    """Every agent's display name and every queue's name, by id."""
    agents = dict(session.execute(select(Agent.id, User.display_name).join(User)).tuples().all())
    queues = dict(session.execute(select(Queue.id, Queue.name)).tuples().all())
    return CallNames(agents, queues)


@dataclass(frozen=True)
class CallPage:
    """One page of the call log, with the total count and the names its records show."""

    total: int
    calls: list[Call]
    names: CallNames


def search(session: Session, f: CallFilter) -> CallPage:
    """One page of the call log, newest first, with the total count."""
    stmt = _filtered(f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(
            stmt.order_by(Call.arrived_at.desc(), Call.id).limit(f.limit).offset(f.offset)
        )
    )
    return CallPage(total, rows, names(session))


def log_rows(session: Session, f: CallFilter) -> Iterator[Call]:
    """The filtered call log, newest first, streamed from the database (schemas.export_csv)."""
    stmt = _filtered(f).order_by(Call.arrived_at.desc(), Call.id).execution_options(yield_per=500)
    yield from session.scalars(stmt)


# Call events that set what a console shows of a call in progress, and what each sets:
# on hold, recording paused, and the consulted party's state with its number.
_HELD = {"held": True, "resumed": False}
_PAUSED = {"recording-paused": True, "recording-resumed": False}
_PARTY = {
    "consult": "ringing",
    "consult-answered": "connected",
    "conference": "conference",
    "consult-failed": None,
    "consult-ended": None,
    "consult-cancelled": None,
}


@dataclass(frozen=True)
class CallControls:
    """What the console shows of a call in progress, as its events left it (a reload)."""

    held: bool = False
    recording_paused: bool = False
    party: str | None = None  # PartyState of a consulted third party
    party_number: str = ""


@dataclass(frozen=True)
class CallInHand:
    """The call an agent holds: the record, its queue, the customers owning the caller's
    number, the queue's ring timeout, and its hold, recording and consult state."""

    call: Call
    queue: Queue | None
    callers: list[CustomerFile]
    ring_timeout_s: int
    controls: CallControls = CallControls()


def call_controls(session: Session, call_id: str) -> CallControls:
    """Hold, recording pause and consult of a call, replayed from its event log."""
    kinds = (*_HELD, *_PAUSED, *_PARTY)
    held = paused = False
    party: str | None = None
    number = ""
    for kind, data in session.execute(
        select(CallEvent.kind, CallEvent.data)
        .where(CallEvent.call_id == call_id, CallEvent.kind.in_(kinds))
        .order_by(CallEvent.id)
    ):
        if kind in _HELD:
            held = _HELD[kind]
        elif kind in _PAUSED:
            paused = _PAUSED[kind]
        else:
            party = _PARTY[kind]
            number = str((data or {}).get("number", number)) if party else ""
    return CallControls(held, paused, party, number)


def call_in_hand(session: Session, call_id: str) -> CallInHand | None:
    """The call an agent holds, with what her console shows after a reload
    (schemas.call_in_hand_dict); None if the call is gone."""
    call = session.get(Call, call_id)
    if call is None:
        return None
    q = session.get(Queue, call.queue_id) if call.queue_id else None
    callers = customers.for_caller(session, call.caller_number)
    ring = q.ring_timeout_s if q else DEFAULT_RING_TIMEOUT_S
    return CallInHand(call, q, callers, ring, call_controls(session, call_id))


def active_dispositions(session: Session) -> list[Disposition]:
    """The dispositions an agent may choose at wrap-up, in their configured order."""
    return list(
        session.scalars(select(Disposition).where(Disposition.active).order_by(Disposition.id))
    )


def visible_call(session: Session, call_id: str, agent_id: int | None) -> Call:
    """A call record for its viewer: agents (agent_id given) see their own calls only."""
    call = session.get(Call, call_id)
    if call is None:
        raise DomainError("call-not-found")
    if agent_id is not None and call.agent_id != agent_id:
        raise DomainError("forbidden")
    return call


# ---- one call's detail: its timeline from the call-event log --------------------------------

# The call-event kinds that end an offer's ringing (for "rang for how long").
_OFFER_ENDS = ("answered", "offer_withdrawn", "ended")


@dataclass(frozen=True)
class TimelineEntry:
    """One entry of a call's event log; an offer carries how long it rang."""

    at: dt.datetime
    kind: str
    agent_id: int | None
    data: dict[str, Any]
    rang_s: float | None = None


@dataclass(frozen=True)
class CallTimeline:
    """A call with its customer, its event log and the records of the same conversation
    (the transfer chain), for the call's detail page."""

    call: Call
    customer: Customer | None
    disposition: Disposition | None
    entries: list[TimelineEntry]
    chain: list[Call]
    names: CallNames


def _chain(session: Session, call: Call) -> list[Call]:
    """Every record of the conversation, first to last: parents, then children."""
    first = call
    seen = {call.id}
    while first.parent_id and first.parent_id not in seen:
        parent = session.get(Call, first.parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        first = parent
    chain = [first]
    while len(chain) < 50:
        child = session.scalars(select(Call).where(Call.parent_id == chain[-1].id).limit(1)).first()
        if child is None or child.id in {c.id for c in chain}:
            break
        chain.append(child)
    return chain


def timeline(session: Session, call_id: str) -> CallTimeline:
    """A call's detail: the record, its customer and disposition, its event log in order
    (each offer with the time it rang) and the records of the same conversation."""
    call = _call(session, call_id)
    rows = list(
        session.scalars(
            select(CallEvent)
            .where(CallEvent.call_id == call_id)
            .order_by(CallEvent.at, CallEvent.id)
        )
    )
    entries: list[TimelineEntry] = []
    for i, ev in enumerate(rows):
        rang: float | None = None
        if ev.kind == "offered":
            end = next((e for e in rows[i + 1 :] if e.kind in _OFFER_ENDS), None)
            if end is not None:
                rang = round((end.at - ev.at).total_seconds(), 3)
        entries.append(TimelineEntry(ev.at, ev.kind, ev.agent_id, dict(ev.data or {}), rang))
    customer = session.get(Customer, call.customer_id) if call.customer_id else None
    disposition = (
        session.scalar(select(Disposition).where(Disposition.code == call.disposition_code))
        if call.disposition_code
        else None
    )
    return CallTimeline(call, customer, disposition, entries, _chain(session, call), names(session))
