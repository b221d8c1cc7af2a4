"""The supervisor's live picture from the call records, the agent-state log, attendance and the
live state: the snapshot the wallboard and the agent grid start from, and the facts of single
calls the page's deltas carry. Takes a session, never commits; the arithmetic is figures.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, func, or_, select
from sqlalchemy.orm import Session

from console.attendance import services as attendance
from console.core.bus import AgentLive
from console.core.models import Agent, AgentStateLog, Call, Customer, Queue, User
from console.core.states import AgentState, NotReadyReason
from console.supervision import figures as fg
from console.supervision.figures import CallFacts, Period, QueueRule, Sums
from console.workforce.services import PublishedShift

# Calls still open are looked for this far back (a caller does not wait longer; older open
# records are a dead worker's, closed by its recovery).
OPEN_LOOKBACK = dt.timedelta(hours=12)


def _epoch(at: dt.datetime | None) -> float | None:
    return at.timestamp() if at is not None else None


# What the figures and the page read of a call record: columns only (no ORM objects, no
# tags), since a snapshot reads a whole shift day of calls.
_COLUMNS = (
    Call.id,
    Call.queue_id,
    Call.agent_id,
    Call.direction,
    Call.parent_id,
    Call.arrived_at,
    Call.answered_at,
    Call.ended_at,
    Call.wrapped_at,
    Call.wait_s,
    Call.ring_s,
    Call.talk_s,
    Call.wrap_up_s,
    Call.end_reason,
    Call.caller_number,
    Call.customer_id,
)


def _facts(row: Row[Any]) -> CallFacts:
    return CallFacts(
        id=row.id,
        queue_id=row.queue_id,
        agent_id=row.agent_id,
        direction=row.direction,
        transferred=row.parent_id is not None,
        arrived_at=row.arrived_at.timestamp(),
        answered_at=_epoch(row.answered_at),
        ended_at=_epoch(row.ended_at),
        wrapped_at=_epoch(row.wrapped_at),
        wait_s=row.wait_s,
        ring_s=row.ring_s,
        talk_s=row.talk_s,
        wrap_up_s=row.wrap_up_s,
        end_reason=row.end_reason,
    )


def _rows(session: Session, *where: ColumnElement[bool]) -> list[Row[Any]]:
    stmt = select(*_COLUMNS).where(*where).order_by(Call.arrived_at, Call.id)
    return list(session.execute(stmt))


@dataclass(frozen=True)
class LiveCall:
    """A call as the supervisor's page holds it: its facts, the number and the customer."""

    facts: CallFacts
    caller_number: str
    customer: str  # the customer's name, "" when the number is nobody's


def _live_calls(session: Session, rows: list[Row[Any]]) -> list[LiveCall]:
    ids = {r.customer_id for r in rows if r.customer_id is not None}
    names: dict[int, str] = {}
    if ids:
        names = dict(
            session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
            .tuples()
            .all()
        )
    return [LiveCall(_facts(r), r.caller_number, names.get(r.customer_id or 0, "")) for r in rows]


def live_calls(session: Session, call_ids: Collection[str]) -> list[LiveCall]:
    """The facts of these calls as their records hold them now (unknown ids are left out)."""
    if not call_ids:
        return []
    return _live_calls(session, _rows(session, Call.id.in_(call_ids)))


def call_facts_between(session: Session, period: Period) -> list[CallFacts]:
    """The facts of every call that arrived in the period."""
    where = [Call.arrived_at >= dt.datetime.fromtimestamp(period.start, dt.UTC)]
    if period.end != float("inf"):
        where.append(Call.arrived_at < dt.datetime.fromtimestamp(period.end, dt.UTC))
    return [_facts(r) for r in _rows(session, *where)]


@dataclass(frozen=True)
class QueueInfo:
    """A queue as the wallboard shows it, with its thresholds."""

    id: int
    name: str
    skill: str
    rule: QueueRule


def queues(session: Session) -> list[QueueInfo]:
    """Every queue, in the order the routing ranks them."""
    rows = session.scalars(select(Queue).order_by(Queue.priority.desc(), Queue.id))
    return [
        QueueInfo(q.id, q.name, q.skill, QueueRule(q.service_level_s, q.ring_timeout_s))
        for q in rows
    ]


def rules_of(infos: Iterable[QueueInfo]) -> dict[int, QueueRule]:
    return {q.id: q.rule for q in infos}


def recomputed(session: Session, period: Period) -> dict[int | None, Sums]:
    """Each queue's sums over a period, recomputed from the call records alone."""
    return fg.sums_by_queue(call_facts_between(session, period), period, rules_of(queues(session)))


@dataclass(frozen=True)
class AgentRow:
    """One agent of the grid: who, her live state, today's counts and attendance."""

    agent_id: int
    name: str
    username: str
    skills: tuple[str, ...]
    live: AgentLive
    handled: int  # calls she answered this shift day
    missed: int  # offers she let ring out (set not ready "missed") this shift day
    clocked_in: bool
    clocked_in_since: dt.datetime | None
    shift: PublishedShift | None  # her shift running now
    in_adherence: bool
    adherence: str  # attendance's reason: ok | off | absent | not-clocked-in | ...


def _day_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.fromtimestamp(period.start, dt.UTC),
        dt.datetime.fromtimestamp(period.end, dt.UTC),
    )


def handled_counts(session: Session, day: Period) -> dict[int, int]:
    """Calls each agent answered in the period (by the moment of the answer)."""
    start, end = _day_bounds(day)
    rows = session.execute(
        select(Call.agent_id, func.count())
        .where(Call.answered_at >= start, Call.answered_at < end, Call.agent_id.is_not(None))
        .group_by(Call.agent_id)
    ).tuples()
    return {int(a): int(n) for a, n in rows if a is not None}


def missed_counts(session: Session, day: Period) -> dict[int, int]:
    """Offers each agent let ring out in the period: her moves to not ready "missed"."""
    start, end = _day_bounds(day)
    rows = session.execute(
        select(AgentStateLog.agent_id, func.count())
        .where(
            AgentStateLog.at >= start,
            AgentStateLog.at < end,
            AgentStateLog.state == AgentState.NOT_READY,
            AgentStateLog.reason == NotReadyReason.MISSED,
        )
        .group_by(AgentStateLog.agent_id)
    ).tuples()
    return {int(a): int(n) for a, n in rows}


def agent_rows(
    session: Session,
    live_agents: Iterable[AgentLive],
    day: Period,
    now: dt.datetime,
    tz: str,
) -> list[AgentRow]:
    """Every active agent with her live state, today's counts and attendance."""
    live = {a.agent_id: a for a in live_agents}
    states = {a: x.state for a, x in live.items()}
    realtime = {r.agent_id: r for r in attendance.realtime(session, tz, now, states).agents}
    handled = handled_counts(session, day)
    missed = missed_counts(session, day)
    rows: list[AgentRow] = []
    agents = session.execute(
        select(Agent, User).join(User, Agent.user_id == User.id).where(User.active.is_(True))
    ).tuples()
    for agent, user in agents:
        r = realtime.get(agent.id)
        rows.append(
            AgentRow(
                agent_id=agent.id,
                name=user.display_name or user.username,
                username=user.username,
                skills=tuple(agent.skills or ()),
                live=live.get(agent.id) or AgentLive(agent.id, skills=tuple(agent.skills or ())),
                handled=handled.get(agent.id, 0),
                missed=missed.get(agent.id, 0),
                clocked_in=bool(r and r.clock.clocked_in),
                clocked_in_since=r.clock.since if r else None,
                shift=r.shift if r else None,
                in_adherence=r.in_adherence if r else True,
                adherence=r.reason if r else "off",
            )
        )
    rows.sort(key=lambda x: x.agent_id)
    return rows


@dataclass(frozen=True)
class Board:
    """The full picture at `at`: the periods, each queue's sums of the calls the page does
    not hold one by one (`base_*`), the calls it does hold (the sliding hour, everything
    still open or not wrapped up, the calls in agents' hands) and every agent."""

    at: dt.datetime
    day: dt.date
    day_period: Period
    interval: Period
    interval_min: int
    day_start_hour: int
    queues: list[QueueInfo]
    base_day: dict[int | None, Sums]
    base_interval: dict[int | None, Sums]
    calls: list[LiveCall]
    agents: list[AgentRow]


def board(
    session: Session,
    live_agents: Iterable[AgentLive],
    now: dt.datetime,
    tz: str,
    day_start_hour: int,
    interval_min: int,
) -> Board:
    """The snapshot the supervisor's page starts from (and gets again on reconnect)."""
    live = list(live_agents)
    day = fg.shift_day(now, tz, day_start_hour)
    day_period = fg.shift_day_period(day, tz, day_start_hour)
    interval = fg.interval_period(now, tz, interval_min)
    hour = fg.sliding_hour(now.timestamp())
    infos = queues(session)
    rules = rules_of(infos)
    since = min(day_period.start, hour.start)
    in_hand = {a.call_id for a in live if a.call_id}
    wanted = [
        Call.arrived_at >= dt.datetime.fromtimestamp(since, dt.UTC),
        Call.ended_at.is_(None) & (Call.arrived_at >= now - OPEN_LOOKBACK),
    ]
    if in_hand:
        wanted.append(Call.id.in_(in_hand))
    held: list[Row[Any]] = []
    rest: list[CallFacts] = []
    for row in _rows(session, or_(*wanted)):
        facts = _facts(row)
        if facts.arrived_at >= hour.start or not facts.final or row.id in in_hand:
            held.append(row)
        else:
            rest.append(facts)
    return Board(
        at=now,
        day=day,
        day_period=day_period,
        interval=interval,
        interval_min=interval_min,
        day_start_hour=day_start_hour,
        queues=infos,
        base_day=fg.sums_by_queue(rest, day_period, rules),
        base_interval=fg.sums_by_queue(rest, interval, rules),
        calls=_live_calls(session, held),
        agents=agent_rows(session, live, day_period, now, tz),
    )
