"""Agents' own schedule (with iCalendar export), leave requests and shift swaps (no Flask).

A leave or swap changes the published roster only when a scheduler or supervisor approves it,
and a swap is approved only when the roster it produces still meets every hard rule.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from console.core.db import lock_row
from console.core.errors import DomainError
from console.core.models import (
    Agent,
    LeaveRequest,
    RosterDuty,
    RosterPlan,
    RosterShift,
    SwapRequest,
    User,
    utcnow,
)
from console.rosters import services as rosters
from console.workforce import services as workforce
from roster import model as rm
from roster.rules import validate

LEAVE_KINDS = ("annual", "sick", "personal", "other")
MAX_LEAVE_DAYS = 31
OPEN_SWAP = ("pending", "accepted")
COUNTED_SWAP = ("pending", "accepted", "approved")


def _date(data: dict[str, Any], key: str, required: bool = True) -> dt.date | None:
    raw = data.get(key)
    if raw in (None, "") and not required:
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise DomainError("invalid-input", f"{key}: YYYY-MM-DD expected") from None


def _decision(data: dict[str, Any]) -> tuple[bool, str]:
    approve = data.get("approve")
    if not isinstance(approve, bool):
        raise DomainError("invalid-input", "approve must be true or false")
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > 500:
        raise DomainError("invalid-input", "note: at most 500 characters")
    return approve, note.strip()


def agent_names(session: Session) -> dict[int, str]:
    """Every rostered agent's name by id (schemas.leave_dict, schemas.swap_dict)."""
    return {a.id: u.display_name or u.username for a, u in workforce.roster_agents(session)}


# ---- own schedule ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnSchedule:
    """The agent's published shifts (and duties) between two local days, with the names of
    the shift templates, her swaps this month and the colleagues she may swap with."""

    agent_id: int
    first: dt.date
    last: dt.date
    shifts: list[workforce.PublishedShift]
    template_names: dict[str, str]
    duties: dict[dt.date, list[str]]
    swaps_this_month: int
    max_swaps_month: int
    colleagues: dict[int, str]


def schedule(
    session: Session, agent_id: int, first: dt.date, last: dt.date, tz: str
) -> OwnSchedule:
    """The agent's published shifts (and duties) between two local days."""
    tpl = {t.code: t.name for t in workforce.templates(session)}
    shifts = workforce.published_shifts(session, first, last, tz, agent_id)
    duties = _duties(session, {(s.roster_id, s.day) for s in shifts}, agent_id)
    cfg = workforce.settings_row(session)
    month = workforce.local_day(dt.datetime.now(dt.UTC), tz)
    return OwnSchedule(
        agent_id=agent_id,
        first=first,
        last=last,
        shifts=shifts,
        template_names=tpl,
        duties=duties,
        swaps_this_month=swaps_in_month(session, agent_id, month.year, month.month, COUNTED_SWAP),
        max_swaps_month=cfg.max_swaps_month,
        colleagues={k: v for k, v in agent_names(session).items() if k != agent_id},
    )


def _duties(
    session: Session, keys: set[tuple[int, dt.date]], agent_id: int
) -> dict[dt.date, list[str]]:
    out: dict[dt.date, list[str]] = defaultdict(list)
    if not keys:
        return out
    rows = session.scalars(
        select(RosterDuty).where(
            RosterDuty.agent_id == agent_id, RosterDuty.roster_id.in_({k[0] for k in keys})
        )
    )
    for d in rows:
        if (d.roster_id, d.day) in keys:
            out[d.day].append(d.duty)
    return out


@dataclass(frozen=True)
class CalendarShift:
    """One published shift as a calendar event needs it (worded by schemas.ical)."""

    uid: str  # stable per agent and day: re-importing updates events instead of doubling them
    start: dt.datetime
    end: dt.datetime
    summary: str  # template code and name, and the queue
    roster_id: int
    duties: tuple[str, ...]
    break_start: str | None  # local "HH:MM"
    break_end: str | None
    on_site: bool
    seat: int | None


def calendar(
    session: Session, agent_id: int, first: dt.date, last: dt.date, tz: str
) -> list[CalendarShift]:
    """The agent's published shifts between first and last, for an iCalendar file."""
    tpl = {t.code: t for t in workforce.templates(session)}
    shifts = workforce.published_shifts(session, first, last, tz, agent_id)
    duties = _duties(session, {(s.roster_id, s.day) for s in shifts}, agent_id)
    out: list[CalendarShift] = []
    for s in shifts:
        name = tpl[s.template_code].name if s.template_code in tpl else s.template_code
        summary = f"{s.template_code} {name}".strip()
        if s.queue_skill:
            summary += f" · {s.queue_skill}"
        break_start = break_end = None
        if s.break_start is not None:
            local = s.break_start.astimezone(rm.zone(tz))
            break_start = f"{local:%H:%M}"
            break_end = f"{local + dt.timedelta(minutes=s.break_min):%H:%M}"
        out.append(
            CalendarShift(
                uid=f"shift-{agent_id}-{s.day.isoformat()}@hotline",
                start=s.start,
                end=s.end,
                summary=summary,
                roster_id=s.roster_id,
                duties=tuple(duties.get(s.day, [])),
                break_start=break_start,
                break_end=break_end,
                on_site=s.on_site,
                seat=s.seat,
            )
        )
    return out


# ---- leave ----------------------------------------------------------------------------------


def request_leave(session: Session, agent_id: int, data: dict[str, Any]) -> LeaveRequest:
    """A pending leave request for local days first_day..last_day."""
    first, last = _date(data, "first_day"), _date(data, "last_day")
    assert first is not None and last is not None
    if last < first:
        raise DomainError("invalid-input", "last_day must not be before first_day")
    if (last - first).days + 1 > MAX_LEAVE_DAYS:
        raise DomainError("invalid-input", f"at most {MAX_LEAVE_DAYS} days per request")
    kind = data.get("kind", "annual")
    if kind not in LEAVE_KINDS:
        raise DomainError("invalid-input", f"kind must be one of {', '.join(LEAVE_KINDS)}")
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 500:
        raise DomainError("invalid-input", "reason: at most 500 characters")
    overlap = session.scalar(
        select(LeaveRequest.id).where(
            LeaveRequest.agent_id == agent_id,
            LeaveRequest.status.in_(("pending", "approved")),
            LeaveRequest.first_day <= last,
            LeaveRequest.last_day >= first,
        )
    )
    if overlap is not None:
        raise DomainError("leave-overlap")
    row = LeaveRequest(
        agent_id=agent_id,
        first_day=first,
        last_day=last,
        kind=kind,
        reason=reason.strip(),
        status="pending",
        decision_note="",
    )
    session.add(row)
    session.flush()
    return row


def list_leave(
    session: Session, agent_id: int | None, status: str | None
) -> tuple[list[LeaveRequest], dict[int, str]]:
    """Leave requests, latest first, with the agents' names (schemas.leave_dict)."""
    q = (
        select(LeaveRequest)
        .order_by(LeaveRequest.first_day.desc(), LeaveRequest.id.desc())
        .limit(200)
    )
    if agent_id is not None:
        q = q.where(LeaveRequest.agent_id == agent_id)
    if status:
        q = q.where(LeaveRequest.status == status)
    return list(session.scalars(q)), agent_names(session)


def decide_leave(
    session: Session, request_id: int, data: dict[str, Any], user_id: int, tz: str
) -> tuple[LeaveRequest, list[workforce.PublishedShift]]:
    """Approve or refuse; approval takes the agent off her published shifts on those days
    (returned: the shifts removed)."""
    row = session.get(LeaveRequest, request_id)
    if row is None:
        raise DomainError("not-found")
    approve, note = _decision(data)
    if row.status != "pending":
        raise DomainError("request-decided", row.status)
    removed: list[workforce.PublishedShift] = []
    if approve:
        for s in workforce.published_shifts(session, row.first_day, row.last_day, tz, row.agent_id):
            removed.append(s)
            session.execute(
                delete(RosterShift).where(
                    RosterShift.roster_id == s.roster_id,
                    RosterShift.agent_id == row.agent_id,
                    RosterShift.day == s.day,
                )
            )
            session.execute(
                delete(RosterDuty).where(
                    RosterDuty.roster_id == s.roster_id,
                    RosterDuty.agent_id == row.agent_id,
                    RosterDuty.day == s.day,
                )
            )
    row.status = "approved" if approve else "refused"
    row.decided_by, row.decided_at, row.decision_note = user_id, utcnow(), note
    session.flush()
    for roster_id in {s.roster_id for s in removed}:
        rosters.revalidate(session, rosters.get_plan(session, roster_id), tz)
    return row, removed


# ---- swaps ------------------------------------------------------------------------------------


def swaps_in_month(
    session: Session,
    agent_id: int,
    year: int,
    month: int,
    statuses: tuple[str, ...] = ("approved",),
) -> int:
    """Swaps an agent asked for whose (first) day falls in the month, by status."""
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return int(
        session.scalar(
            select(func.count())
            .select_from(SwapRequest)
            .where(
                SwapRequest.requester_id == agent_id,
                SwapRequest.status.in_(statuses),
                SwapRequest.day >= first,
                SwapRequest.day < nxt,
            )
        )
        or 0
    )


def _shift_on(
    session: Session, agent_id: int, day: dt.date, tz: str
) -> workforce.PublishedShift | None:
    found = workforce.published_shifts(session, day, day, tz, agent_id)
    return found[0] if found else None


def request_swap(session: Session, agent_id: int, data: dict[str, Any], tz: str) -> SwapRequest:
    """Ask a colleague to take my shift on `day` (and, with partner_day, to give me hers)."""
    day = _date(data, "day")
    partner_day = _date(data, "partner_day", required=False)
    assert day is not None
    partner_id = data.get("partner_id")
    if isinstance(partner_id, bool) or not isinstance(partner_id, int) or partner_id == agent_id:
        raise DomainError("invalid-input", "partner_id: another agent expected")
    partner = session.get(Agent, partner_id)
    user = session.get(User, partner.user_id) if partner else None
    if partner is None or user is None or not user.active:
        raise DomainError("invalid-input", "partner_id: unknown agent")
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 500:
        raise DomainError("invalid-input", "reason: at most 500 characters")
    today = workforce.local_day(dt.datetime.now(dt.UTC), tz)
    if day < today or (partner_day is not None and partner_day < today):
        raise DomainError("swap-request-past")
    mine = _shift_on(session, agent_id, day, tz)
    if mine is None:
        raise DomainError("swap-request-no-shift", day.isoformat())
    if (partner_day is None or partner_day != day) and (
        _shift_on(session, partner_id, day, tz) is not None
    ):
        raise DomainError("swap-request-partner-busy", day.isoformat())
    if partner_day is not None:
        if _shift_on(session, partner_id, partner_day, tz) is None:
            raise DomainError("swap-request-no-shift", partner_day.isoformat())
        if partner_day != day and _shift_on(session, agent_id, partner_day, tz) is not None:
            raise DomainError("swap-request-partner-busy", partner_day.isoformat())
    # One request at a time per agent, so two quick requests cannot both pass the limit.
    lock_row(session, Agent, agent_id)
    cfg = workforce.settings_row(session)
    used = swaps_in_month(session, agent_id, day.year, day.month, COUNTED_SWAP)
    if used >= cfg.max_swaps_month:
        raise DomainError("swap-limit", str(cfg.max_swaps_month))
    dup = session.scalar(
        select(SwapRequest.id).where(
            SwapRequest.requester_id == agent_id,
            SwapRequest.day == day,
            SwapRequest.status.in_(OPEN_SWAP),
        )
    )
    if dup is not None:
        raise DomainError("already-exists", f"swap {day.isoformat()}")
    row = SwapRequest(
        roster_id=mine.roster_id,
        requester_id=agent_id,
        day=day,
        partner_id=partner_id,
        partner_day=partner_day,
        reason=reason.strip(),
        status="pending",
        decision_note="",
        violations=[],
    )
    session.add(row)
    session.flush()
    return row


def list_swaps(
    session: Session, agent_id: int | None, status: str | None
) -> tuple[list[SwapRequest], dict[int, str]]:
    """Swap requests, latest first, with the agents' names (schemas.swap_dict)."""
    q = select(SwapRequest).order_by(SwapRequest.day.desc(), SwapRequest.id.desc()).limit(200)
    if agent_id is not None:
        q = q.where((SwapRequest.requester_id == agent_id) | (SwapRequest.partner_id == agent_id))
    if status:
        q = q.where(SwapRequest.status == status)
    return list(session.scalars(q)), agent_names(session)


def answer_swap(
    session: Session, request_id: int, agent_id: int, data: dict[str, Any]
) -> SwapRequest:
    """The partner accepts (it goes to a scheduler) or declines."""
    row = session.get(SwapRequest, request_id)
    if row is None or row.partner_id != agent_id:
        raise DomainError("not-found")
    accept = data.get("accept")
    if not isinstance(accept, bool):
        raise DomainError("invalid-input", "accept must be true or false")
    if row.status != "pending":
        raise DomainError("request-decided", row.status)
    row.status = "accepted" if accept else "declined"
    row.partner_answered_at = utcnow()
    session.flush()
    return row


def _moves(row: SwapRequest) -> list[tuple[dt.date, int, int]]:
    """(day, from agent, to agent) for every shift the swap moves."""
    moves = [(row.day, row.requester_id, row.partner_id)]
    if row.partner_day is not None:
        moves.append((row.partner_day, row.partner_id, row.requester_id))
    return moves


def decide_swap(
    session: Session, request_id: int, data: dict[str, Any], user_id: int, tz: str
) -> SwapRequest:
    """Approve (after re-validating the roster with the swap applied) or refuse an accepted swap.

    When the swapped roster breaks a hard rule the request stays 'accepted' with the
    violations listed, and the roster is not changed.
    """
    row = session.get(SwapRequest, request_id)
    if row is None:
        raise DomainError("not-found")
    approve, note = _decision(data)
    if row.status != "accepted":
        raise DomainError("request-decided", row.status)
    if not approve:
        row.status, row.decided_by, row.decided_at, row.decision_note = (
            "refused",
            user_id,
            utcnow(),
            note,
        )
        session.flush()
        return row
    moves = _moves(row)
    now = dt.datetime.now(dt.UTC)
    leaving = {(src, day) for day, src, _ in moves}
    names = {str(k): v for k, v in agent_names(session).items()}
    involved = {str(row.requester_id), str(row.partner_id)}
    plans: dict[int, RosterPlan] = {}
    by_plan: dict[int, list[tuple[dt.date, int, int]]] = defaultdict(list)
    for day, src, dst in moves:
        mine = _shift_on(session, src, day, tz)
        if mine is not None and mine.start <= now:
            raise DomainError("swap-past")  # a shift already started stays as worked
        # Someone may have taken a shift that day since the request was made.
        if (dst, day) not in leaving and _shift_on(session, dst, day, tz) is not None:
            raise DomainError("swap-partner-busy", day.isoformat())
        if mine is None:
            raise DomainError("swap-no-shift", day.isoformat())
        # The shift comes from the roster in force that day (published_shifts decides which).
        plan = session.get(RosterPlan, mine.roster_id)
        assert plan is not None
        plans[plan.id] = plan
        by_plan[plan.id].append((day, src, dst))
    found: list[dict[str, Any]] = []
    for plan_id, plan_moves in by_plan.items():
        plan = plans[plan_id]
        p = rosters.problem(session, plan, tz)
        current = rosters.stored_roster(session, plan)
        assignments = {a: dict(d) for a, d in current.assignments.items()}
        queues = {a: dict(d) for a, d in current.queues.items()}
        # Lift every moved shift first, so an exchange on the same day does not collide.
        lifted = [
            (
                day,
                str(dst),
                assignments.get(str(src), {}).pop(day, None),
                queues.get(str(src), {}).pop(day, None),
            )
            for day, src, dst in plan_moves
        ]
        for day, taker, code, queue in lifted:
            assignments.setdefault(taker, {})[day] = code
            if queue:
                queues.setdefault(taker, {})[day] = queue
        swapped = rm.Roster(assignments, queues, current.duties)
        tmap = p.every_template
        before = {
            (v.rule_id, v.agent_id, v.day)
            for v in validate(current, p.agents, tmap, p.rules, p.site, p.horizon)
        }
        after = validate(swapped, p.agents, tmap, p.rules, p.site, p.horizon)
        new = [
            v
            for v in after
            if v.agent_id in involved and (v.rule_id, v.agent_id, v.day) not in before
        ]
        found.extend(rosters.stored_violations(new, names))
    if found:
        row.violations = found
        session.flush()
        return row
    for plan_id, plan_moves in by_plan.items():
        shifts = {
            (s.agent_id, s.day): s
            for s in session.scalars(select(RosterShift).where(RosterShift.roster_id == plan_id))
        }
        lifted_rows = [(shifts[(src, day)], dst) for day, src, dst in plan_moves]
        # A duty (e.g. cleaning) goes with the shift to the colleague who now works it.
        duties: list[tuple[str, dt.date, int]] = []
        for shift, dst in lifted_rows:
            for d in session.scalars(
                select(RosterDuty).where(
                    RosterDuty.roster_id == plan_id,
                    RosterDuty.agent_id == shift.agent_id,
                    RosterDuty.day == shift.day,
                )
            ):
                duties.append((d.duty, d.day, dst))
                session.delete(d)
            session.delete(shift)
        # Delete first, then insert: an exchange never trips the unique (roster, agent, day) key.
        session.flush()
        for shift, dst in lifted_rows:
            session.add(
                RosterShift(
                    roster_id=plan_id,
                    agent_id=dst,
                    day=shift.day,
                    template_code=shift.template_code,
                    queue_skill=shift.queue_skill,
                    edited=True,
                    seat=shift.seat,
                )
            )
        for duty, day, dst in duties:
            session.add(RosterDuty(roster_id=plan_id, duty=duty, day=day, agent_id=dst))
        session.flush()
        rosters.revalidate(session, plans[plan_id], tz)
    row.status, row.decided_by, row.decided_at, row.decision_note = (
        "approved",
        user_id,
        utcnow(),
        note,
    )
    row.violations = []
    session.flush()
    return row


def _withdraw(
    row: LeaveRequest | SwapRequest | None, owner: int | None, agent_id: int, open_: tuple[str, ...]
) -> None:
    """The agent withdraws her own request while it is still open (404 for anyone else's)."""
    if row is None or owner != agent_id:
        raise DomainError("not-found")
    if row.status not in open_:
        raise DomainError("request-decided", row.status)
    row.status = "cancelled"


def cancel_leave(session: Session, request_id: int, agent_id: int) -> LeaveRequest:
    """The agent withdraws her own leave request while it waits for a decision."""
    row = session.get(LeaveRequest, request_id)
    _withdraw(row, row.agent_id if row else None, agent_id, ("pending",))
    assert row is not None
    session.flush()
    return row


def cancel_swap(session: Session, request_id: int, agent_id: int) -> SwapRequest:
    """The requester withdraws her swap request before a scheduler decides it."""
    row = session.get(SwapRequest, request_id)
    _withdraw(row, row.requester_id if row else None, agent_id, OPEN_SWAP)
    assert row is not None
    session.flush()
    return row
