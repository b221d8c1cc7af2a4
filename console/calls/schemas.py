"""Wire dicts and CSV shaping for calls: the screen pop, the call record, the call log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import Any, NotRequired, TypedDict

from console.calls.services import CallInHand, CallNames, CallPage, CallTimeline
from console.core.models import Call, Queue
from console.core.states import CallStatus
from console.customers import schemas as customer_schemas
from console.customers.services import CustomerFile


class ScreenPop(TypedDict):
    """What the agent's card shows about a call (the `pop` of `call_offered`)."""

    number: str
    customers: list[dict[str, Any]]
    number_invalid: bool
    queue: dict[str, Any] | None
    # Set by whoever knows when the caller started waiting (epoch seconds).
    wait_started: NotRequired[float]


def queue_info(q: Queue | None) -> dict[str, Any] | None:
    """The queue as a screen pop shows it, with the registration fields it asks for."""
    if q is None:
        return None
    keys = [
        str(f.get("key"))
        for f in q.registration_fields or []
        if isinstance(f, dict) and f.get("key")
    ]
    return {"id": q.id, "name": q.name, "fields": keys}


def screen_pop(
    call: Call,
    q: Queue | None,
    callers: list[CustomerFile],
    wait_started: float | None = None,
) -> ScreenPop:
    """The screen pop of a call to this queue, from the customers owning its number
    (services.open_inbound, services.call_in_hand)."""
    pop: ScreenPop = {
        "number": call.caller_number,
        "customers": customer_schemas.customer_dicts(callers),
        "number_invalid": call.caller_number_invalid,
        "queue": queue_info(q),
    }
    if wait_started is not None:
        pop["wait_started"] = wait_started
    return pop


def call_dict(
    call: Call, names: dict[int, str] | None = None, queues: dict[int, str] | None = None
) -> dict[str, Any]:
    """The wire/CSV shape of a call record."""

    def iso(v: dt.datetime | None) -> str | None:
        return v.isoformat() if v else None

    return {
        "id": call.id,
        "direction": call.direction,
        "status": call.status,
        "caller_number": call.caller_number,
        "caller_number_invalid": call.caller_number_invalid,
        "callee_number": call.callee_number,
        "queue_id": call.queue_id,
        "queue": (queues or {}).get(call.queue_id or 0),
        "agent_id": call.agent_id,
        "agent": (names or {}).get(call.agent_id or 0),
        "customer_id": call.customer_id,
        "arrived_at": iso(call.arrived_at),
        "offered_at": iso(call.offered_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
        "wait_s": call.wait_s,
        "ring_s": call.ring_s,
        "talk_s": call.talk_s,
        "wrap_up_s": call.wrap_up_s,
        "end_reason": call.end_reason,
        # Answered and ended, but nobody gave it a disposition yet (e.g. the node died).
        "needs_wrap_up": call.status == CallStatus.WRAP_UP and call.ended_at is not None,
        "disposition": call.disposition_code,
        "tags": [t.tag for t in call.tags],
        "notes": call.notes,
    }


def page_dict(page: CallPage) -> dict[str, Any]:
    """One page of the call log (services.search) with the total count."""
    return {
        "total": page.total,
        "items": [call_dict(c, page.names.agents, page.names.queues) for c in page.calls],
    }


CSV_COLUMNS = [
    "id",
    "arrived_at",
    "answered_at",
    "ended_at",
    "direction",
    "caller_number",
    "callee_number",
    "queue",
    "agent",
    "wait_s",
    "ring_s",
    "talk_s",
    "wrap_up_s",
    "end_reason",
    "disposition",
    "tags",
    "notes",
]


def export_csv(calls: Iterable[Call], names: CallNames) -> Iterator[str]:
    """The call log (services.log_rows) as CSV, streamed in chunks (flat memory)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for n, call in enumerate(calls, start=1):
        d = call_dict(call, names.agents, names.queues)
        d["tags"] = ";".join(d["tags"])
        writer.writerow([d[c] if d[c] is not None else "" for c in CSV_COLUMNS])
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def call_in_hand_dict(h: CallInHand) -> dict[str, Any]:
    """The call an agent holds (services.call_in_hand), as her console shows it after a
    reload: the record with its screen pop and wrap-up limit."""
    info = call_dict(h.call)
    info["pop"] = screen_pop(h.call, h.queue, h.callers, wait_started=h.call.arrived_at.timestamp())
    info["wrap_up_limit_s"] = h.queue.wrap_up_s if h.queue else 0
    c = h.controls
    info["controls"] = {
        "held": c.held,
        "recording_paused": c.recording_paused,
        "party": {"state": c.party, "number": c.party_number} if c.party else None,
    }
    return info


def timeline_dict(tl: CallTimeline, language: str) -> dict[str, Any]:
    """A call's detail page: the record (with names), customer, disposition, event log in
    order and the records of the same conversation."""
    names, queues = tl.names.agents, tl.names.queues
    d = tl.disposition
    return {
        "call": call_dict(tl.call, names, queues),
        "customer": {"id": tl.customer.id, "name": tl.customer.name, "grade": tl.customer.grade}
        if tl.customer is not None
        else None,
        "disposition_label": (d.label_zh if language == "zh-CN" else d.label_en) if d else None,
        "events": [
            {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "agent_id": e.agent_id,
                "agent": names.get(e.agent_id) if e.agent_id is not None else None,
                "data": e.data,
                "rang_s": e.rang_s,
            }
            for e in tl.entries
        ],
        "chain": [
            {
                "id": c.id,
                "arrived_at": c.arrived_at.isoformat(),
                "queue": queues.get(c.queue_id or 0),
                "agent": names.get(c.agent_id or 0),
                "end_reason": c.end_reason,
            }
            for c in tl.chain
        ],
    }
