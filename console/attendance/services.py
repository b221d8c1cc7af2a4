"""Attendance: clock-in/out, adherence to the published roster and the monthly 10-point ledger.

Presence (late start, early leave, absence) comes from the time clock; the service desk
(logged-in minutes, adherence %, logouts) from the agent-state log. The arithmetic lives in
the pure `roster.adherence` / `roster.attendance`; this module loads rows and shapes them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from console.core.db import lock_row
from console.core.errors import DomainError
from console.core.models import Agent, AgentStateLog, ClockEvent, SwapRequest, User
from console.workforce import services as workforce
from console.workforce.services import PublishedShift
from roster import adherence as adh
from roster import attendance as att
from roster import model as rm

CLOCK_KINDS = ("in", "out")
# A clock-in left open longer than this is a forgotten clock-out: it stops counting (the
# agent may clock in again) rather than making her look present on the next shift too.
MAX_OPEN_CLOCK = dt.timedelta(hours=16)
# History loaded before a range so that a clock-in or login made earlier is known.
LOOKBACK = MAX_OPEN_CLOCK
MAX_RANGE_DAYS = 62
LOOKAHEAD_DAYS = 14


def _agent_key(agent_id: int) -> str:
    return str(agent_id)


# ---- clock-in / clock-out ------------------------------------------------------------------


@dataclass(frozen=True)
class ClockStatus:
    """Whether an agent is clocked in now, and since when."""

    clocked_in: bool
    since: dt.datetime | None
    last: ClockEvent | None


def _last_clock(
    session: Session, agent_id: int, before: dt.datetime | None = None
) -> ClockEvent | None:
    q = select(ClockEvent).where(ClockEvent.agent_id == agent_id)
    if before is not None:
        q = q.where(ClockEvent.at <= before)
    return session.scalar(q.order_by(ClockEvent.at.desc(), ClockEvent.id.desc()).limit(1))


def _status_of(last: ClockEvent | None, now: dt.datetime) -> ClockStatus:
    if last is not None and last.kind == "in" and now - last.at < MAX_OPEN_CLOCK:
        return ClockStatus(True, last.at, last)
    return ClockStatus(False, None, last)


def clock_status(session: Session, agent_id: int, now: dt.datetime) -> ClockStatus:
    """The agent's clock status at `now`."""
    return _status_of(_last_clock(session, agent_id, now), now)


def clock_statuses(
    session: Session, now: dt.datetime, agent_ids: set[int] | None = None
) -> dict[int, ClockStatus]:
    """Clock status at `now` of every agent (or of `agent_ids`), in one query; a clock-in older
    than MAX_OPEN_CLOCK is no longer open, so nothing older is read. Agents without a recent
    clock event are absent: not clocked in."""
    # Ordered by time then id: the last row of an agent wins.
    rows = _latest_before(
        session,
        ClockEvent,
        now + dt.timedelta(microseconds=1),
        agent_ids,
        since=now - MAX_OPEN_CLOCK,
    )
    last = {c.agent_id: c for c in rows}
    return {a: _status_of(c, now) for a, c in last.items()}


# Her shift is the one she clocks out of until this long after its end (she may stay on).
RELIEF_AFTER = dt.timedelta(hours=2)


def relief_missing(session: Session, agent_id: int, now: dt.datetime, tz: str) -> list[str]:
    """Who should take over from the agent now and has not clocked in yet (docs/rules.md §1.10:
    nobody leaves a post until the relief has arrived).

    The relief are the colleagues rostered at this moment for her shift's queue. Empty when
    one of them has clocked in, when nobody is rostered now (the centre closes), or when she
    has no shift around now.
    """
    shifts = workforce.shifts_around(session, now, tz)
    mine = [p for p in shifts if p.agent_id == agent_id and p.start <= now <= p.end + RELIEF_AFTER]
    if not mine:
        return []
    queue = mine[-1].queue_skill
    relief = {
        p.agent_id
        for p in shifts
        if p.agent_id != agent_id
        and p.start <= now < p.end
        and (not queue or not p.queue_skill or p.queue_skill == queue)
    }
    if not relief:
        return []
    if any(st.clocked_in for st in clock_statuses(session, now, relief).values()):
        return []
    names = _all_names(session, relief)
    return sorted(names.get(a, str(a)) for a in relief)


def clock(
    session: Session,
    agent_id: int,
    kind: Any,
    now: dt.datetime,
    tz: str,
    source: str = "console",
    without_relief: bool = False,
) -> ClockEvent:
    """Clock the agent in or out; refused (nothing stored) when it contradicts her status.

    Clocking out while her relief has not arrived is refused (409 relief-not-arrived, naming
    them) unless she confirms with `without_relief`; such a clock-out is marked for the
    supervisor (source "relief-missing")."""
    if kind not in CLOCK_KINDS:
        raise DomainError("invalid-input", 'kind must be "in" or "out"')
    # Lock the agent row so that two quick clicks cannot both clock in.
    if not lock_row(session, Agent, agent_id):
        raise DomainError("agent-not-found")
    status = clock_status(session, agent_id, now)
    if kind == "in" and status.clocked_in:
        raise DomainError("already-clocked-in", _local(status.since, tz))
    if kind == "out" and not status.clocked_in:
        raise DomainError("not-clocked-in")
    if status.last is not None and status.last.at > now:
        raise DomainError("invalid-input", "a later clock event exists")
    if kind == "out":
        missing = relief_missing(session, agent_id, now, tz)
        if missing and not without_relief:
            raise DomainError("relief-not-arrived", "、".join(missing))
        if missing:
            source = "relief-missing"
    event = ClockEvent(agent_id=agent_id, at=now, kind=kind, source=source)
    session.add(event)
    session.flush()
    return event


def _local(at: dt.datetime | None, tz: str) -> str:
    return "" if at is None else at.astimezone(rm.zone(tz)).strftime("%Y-%m-%d %H:%M")


# ---- loading the streams -----------------------------------------------------------------


def _latest_before(
    session: Session,
    model: Any,
    lo: dt.datetime,
    agent_ids: set[int] | None,
    since: dt.datetime | None = None,
) -> list[Any]:
    """Per agent, the last row of `model` strictly before `lo` (what was true at `lo`),
    looking back to `since` when given."""
    last = select(model.agent_id, func.max(model.at).label("at")).where(model.at < lo)
    if since is not None:
        last = last.where(model.at >= since)
    if agent_ids is not None:
        last = last.where(model.agent_id.in_(agent_ids))
    sub = last.group_by(model.agent_id).subquery()
    q = select(model).join(sub, (model.agent_id == sub.c.agent_id) & (model.at == sub.c.at))
    return list(session.scalars(q.order_by(model.agent_id, model.at, model.id)))


def _rows_between(
    session: Session, model: Any, lo: dt.datetime, hi: dt.datetime, agent_ids: set[int] | None
) -> list[Any]:
    q = select(model).where(model.at >= lo, model.at <= hi)
    if agent_ids is not None:
        q = q.where(model.agent_id.in_(agent_ids))
    rows = _latest_before(session, model, lo, agent_ids) + list(
        session.scalars(q.order_by(model.at, model.id))
    )
    return rows


def desk_entries(
    session: Session, lo: dt.datetime, hi: dt.datetime, agent_ids: set[int] | None = None
) -> list[adh.StateEntry]:
    """The agent-state log between lo and hi (with each agent's state at lo) for the engine.

    Only the moments an agent goes on or off the desk are read: the log has a row for every
    ring, call and wrap-up (hundreds a day), but adherence only asks "logged in or offline",
    so a window function keeps the rows where that answer changes.
    """
    log = AgentStateLog
    off = case((log.state == adh.OFFLINE, 1), else_=0)
    q = select(
        log.id,
        log.agent_id,
        log.at,
        log.state,
        off.label("is_off"),
        func.lag(off).over(partition_by=log.agent_id, order_by=(log.at, log.id)).label("was_off"),
    ).where(log.at >= lo, log.at <= hi, log.state.in_(adh.STATES))
    if agent_ids is not None:
        q = q.where(log.agent_id.in_(agent_ids))
    sub = q.subquery()
    changes = session.execute(
        select(sub.c.agent_id, sub.c.at, sub.c.state)
        .where(or_(sub.c.was_off.is_(None), sub.c.was_off != sub.c.is_off))
        .order_by(sub.c.at, sub.c.id)
    )
    before = [
        (r.agent_id, r.at, r.state)
        for r in _latest_before(session, log, lo, agent_ids)
        if r.state in adh.STATES
    ]
    return [adh.StateEntry(_agent_key(a), at, state) for a, at, state in [*before, *changes]]


def clock_rows(
    session: Session, lo: dt.datetime, hi: dt.datetime, agent_ids: set[int] | None = None
) -> list[ClockEvent]:
    """Clock events between lo and hi, with each agent's last event before lo."""
    return [
        r for r in _rows_between(session, ClockEvent, lo, hi, agent_ids) if r.kind in CLOCK_KINDS
    ]


# ---- adherence per shift -----------------------------------------------------------------


@dataclass(frozen=True)
class JudgedShift:
    """One published shift with its adherence, the clock times and whether leave covers it."""

    shift: PublishedShift
    result: adh.ShiftAdherence
    clock_in: dt.datetime | None
    clock_out: dt.datetime | None
    on_leave: bool
    without_relief: bool = False  # clocked out before the relief arrived, confirmed by her


def _engine_shift(p: PublishedShift) -> adh.ScheduledShift:
    brk_end = (
        p.break_start + dt.timedelta(minutes=p.break_min) if p.break_start is not None else None
    )
    if (
        p.break_start is not None
        and brk_end is not None
        and not p.start <= p.break_start < brk_end <= p.end
    ):
        brk_end = None  # a break left outside its shift by an edit is ignored, not trusted
    return adh.ScheduledShift(
        _agent_key(p.agent_id),
        p.start,
        p.end,
        p.template_code,
        p.break_start if brk_end is not None else None,
        brk_end,
    )


def approved_swaps(
    session: Session, first_day: dt.date, last_day: dt.date, agent_ids: set[int] | None = None
) -> dict[int, int]:
    """Approved swaps per requester whose swapped day falls between first_day and last_day."""
    q = (
        select(SwapRequest.requester_id, func.count())
        .where(
            SwapRequest.status == "approved",
            SwapRequest.day >= first_day,
            SwapRequest.day <= last_day,
        )
        .group_by(SwapRequest.requester_id)
    )
    if agent_ids is not None:
        q = q.where(SwapRequest.requester_id.in_(agent_ids))
    return {agent: int(n) for agent, n in session.execute(q)}


def judge(
    session: Session, shifts: list[PublishedShift], tz: str, threshold: dt.timedelta | None = None
) -> list[JudgedShift]:
    """Adherence of each shift from the clock and the state log (the caller picks ended shifts)."""
    if not shifts:
        return []
    agents = {p.agent_id for p in shifts}
    lo = min(p.start for p in shifts) - LOOKBACK
    hi = max(p.end for p in shifts)
    clocks = clock_rows(session, lo, hi, agents)
    clock_stream = adh.clock_entries(
        ((_agent_key(c.agent_id), c.at, c.kind) for c in clocks), MAX_OPEN_CLOCK
    )
    desk = desk_entries(session, lo, hi, agents)
    engine = [_engine_shift(p) for p in shifts]
    kwargs = {"logout_threshold": threshold} if threshold is not None else {}
    results = adh.attendance_adherence(engine, clock_stream, desk, **kwargs)
    by_key = {(r.shift.agent_id, r.shift.start): r for r in results}
    days = [p.day for p in shifts]
    leave = workforce.approved_leave(session, min(days), max(days), agents)
    per_agent: dict[int, list[ClockEvent]] = {}
    for c in clocks:
        per_agent.setdefault(c.agent_id, []).append(c)
    out: list[JudgedShift] = []
    for p in shifts:
        mine = per_agent.get(p.agent_id, [])
        # The clock-in still open at the shift start, else the first one inside the shift.
        cin = None
        ins = [c for c in mine if c.kind == "in"]
        before = [c for c in ins if p.start - MAX_OPEN_CLOCK < c.at <= p.start]
        if before and not any(o.kind == "out" and before[-1].at < o.at <= p.start for o in mine):
            cin = before[-1]
        if cin is None:
            cin = next((c for c in ins if p.start < c.at < p.end), None)
        cout = None
        if cin is not None:
            cout = next((o for o in mine if o.kind == "out" and o.at > cin.at), None)
        out.append(
            JudgedShift(
                p,
                by_key[(_agent_key(p.agent_id), p.start)],
                cin.at if cin else None,
                cout.at if cout else None,
                p.day in leave.get(p.agent_id, set()),
                cout is not None and cout.source == "relief-missing",
            )
        )
    return out


def _all_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    # Agents who left still appear in old rosters: name them too.
    wanted = set(ids)
    rows = session.execute(
        select(Agent.id, User.display_name, User.username).join(User, Agent.user_id == User.id)
    )
    return {a: (d or u) for a, d, u in rows if a in wanted}


@dataclass(frozen=True)
class AdherenceTotals:
    """A range's adherence over the shifts not covered by leave."""

    shifts: int
    scheduled_min: float
    logged_in_min: float
    adherence_pct: float | None
    late: int
    absent: int
    logouts: int


@dataclass(frozen=True)
class History:
    """Adherence per ended shift of a range of local days (by start, then agent), the agents'
    names and the totals."""

    first_day: dt.date
    last_day: dt.date
    judged: list[JudgedShift]
    names: dict[int, str]
    totals: AdherenceTotals


def history(
    session: Session,
    first_day: dt.date,
    last_day: dt.date,
    tz: str,
    now: dt.datetime,
    agent_id: int | None = None,
) -> History:
    """Adherence per ended shift starting on local days first_day..last_day, with totals."""
    if last_day < first_day or (last_day - first_day).days >= MAX_RANGE_DAYS:
        raise DomainError(
            "invalid-input", f"to must be on or after from, at most {MAX_RANGE_DAYS} days"
        )
    policy = workforce.attendance_policy(workforce.settings_row(session))
    shifts = [
        p
        for p in workforce.published_shifts(session, first_day, last_day, tz, agent_id)
        if p.end <= now
    ]
    judged = judge(session, shifts, tz)
    names = _all_names(session, {p.agent_id for p in shifts})
    judged.sort(key=lambda j: (j.shift.start, j.shift.agent_id))
    counted = [j for j in judged if not j.on_leave]
    scheduled = sum(j.result.scheduled_min for j in counted)
    logged = sum(j.result.logged_in_min for j in counted)
    late = [late_min for j in counted if (late_min := j.result.late_start_min) is not None]
    totals = AdherenceTotals(
        shifts=len(counted),
        scheduled_min=round(scheduled, 1),
        logged_in_min=round(logged, 1),
        adherence_pct=round(100 * logged / scheduled, 1) if scheduled else None,
        late=sum(1 for late_min in late if late_min > policy.late_grace_min),
        absent=sum(1 for j in counted if j.result.absent),
        logouts=sum(j.result.logouts for j in counted),
    )
    return History(first_day, last_day, judged, names, totals)


# ---- real time -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RealtimeRow:
    """One active agent now: her running shift (if any), clock status, desk state, and
    whether she is in adherence (one reason, worst first)."""

    agent_id: int
    name: str
    shift: PublishedShift | None
    clock: ClockStatus
    state: str
    in_adherence: bool
    reason: str

    @property
    def scheduled(self) -> bool:
        return self.shift is not None


@dataclass(frozen=True)
class Realtime:
    """Every active agent at `at`, out of adherence first."""

    at: dt.datetime
    agents: list[RealtimeRow]


def realtime(
    session: Session, tz: str, now: dt.datetime, live_states: Mapping[int, str]
) -> Realtime:
    """Every active agent now: scheduled or not, clocked in or not, desk state, adherence."""
    running = [p for p in workforce.shifts_around(session, now, tz) if p.start <= now < p.end]
    engine = adh.current_adherence(
        [_engine_shift(p) for p in running],
        {_agent_key(a): s if s in adh.STATES else adh.OFFLINE for a, s in live_states.items()},
        now,
    )
    by_agent = {p.agent_id: p for p in running}
    statuses = clock_statuses(session, now)
    off = ClockStatus(False, None, None)
    rows: list[RealtimeRow] = []
    for agent, user in workforce.roster_agents(session):
        shift = by_agent.get(agent.id)
        state = live_states.get(agent.id, adh.OFFLINE)
        state = state if state in adh.STATES else adh.OFFLINE
        status = statuses.get(agent.id, off)
        cur = engine.get(_agent_key(agent.id))
        desk_ok = cur.in_adherence if cur is not None else state == adh.OFFLINE
        logged_in = state != adh.OFFLINE
        # One reason per row, worst first, so the table reads at a glance.
        if shift is not None:
            if not status.clocked_in and not logged_in:
                reason = "absent"
            elif not status.clocked_in:
                reason = "not-clocked-in"
            elif not logged_in:
                reason = "not-logged-in"
            else:
                reason = "ok"
        else:
            reason = "unscheduled-login" if logged_in else "off"
        rows.append(
            RealtimeRow(
                agent_id=agent.id,
                name=user.display_name or user.username,
                shift=shift,
                clock=status,
                state=state,
                in_adherence=desk_ok and reason in ("ok", "off"),
                reason=reason,
            )
        )
    rows.sort(key=lambda r: (r.in_adherence, not r.scheduled, r.name))
    return Realtime(now, rows)


# ---- the monthly ledger --------------------------------------------------------------------


def parse_month(raw: str | None, default: dt.date) -> tuple[int, int]:
    """(year, month) from "YYYY-MM" (the default day's month when empty)."""
    if not raw:
        return default.year, default.month
    try:
        y, m = raw.strip().split("-")
        year, month = int(y), int(m)
        if len(y) == 4 and len(m) == 2 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    raise DomainError("invalid-input", "month: YYYY-MM expected")


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    n = year * 12 + (month - 1) + delta
    return n // 12, n % 12 + 1


def _month_days(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class LedgerView:
    """An agent's ledger for a month with the figures behind it."""

    agent_id: int
    name: str
    ledger: att.Ledger
    previous_scores: tuple[float, ...]
    shifts: int
    late: int
    absences: int
    logouts: int
    leave_days: int
    swaps: int


def ledgers(
    session: Session,
    year: int,
    month: int,
    tz: str,
    now: dt.datetime,
    agent_id: int | None = None,
) -> tuple[att.AttendancePolicy, list[LedgerView]]:
    """The month's ledger per agent (active agents plus anyone rostered), judged up to now."""
    policy = workforce.attendance_policy(workforce.settings_row(session))
    # Earlier months decide the severe level: "at or below the threshold N months running".
    months = [_add_months(year, month, -k) for k in range(max(policy.severe_months, 1) - 1, -1, -1)]
    first, _ = _month_days(*months[0])
    _, last = _month_days(year, month)
    shifts = [
        p for p in workforce.published_shifts(session, first, last, tz, agent_id) if p.end <= now
    ]
    judged = judge(session, shifts, tz)
    results = [j.result for j in judged]
    ids = {p.agent_id for p in shifts}
    if agent_id is None:
        ids |= {a.id for a, _ in workforce.roster_agents(session)}
    else:
        ids.add(agent_id)
    names = _all_names(session, ids)
    keys = sorted(_agent_key(a) for a in ids)
    scores: dict[str, list[float]] = {k: [] for k in keys}
    leave = workforce.approved_leave(session, first, last, ids)
    result: dict[str, att.Ledger] = {}
    month_leave: dict[str, set[dt.date]] = {}
    month_swaps: dict[str, int] = {}
    for y, m in months:
        f, l_ = _month_days(y, m)
        leave_m = {_agent_key(a): {d for d in days if f <= d <= l_} for a, days in leave.items()}
        swaps_m = {_agent_key(a): n for a, n in approved_swaps(session, f, l_, ids).items()}
        result = att.monthly_ledgers(
            results,
            tz,
            y,
            m,
            agents=keys,
            leave=leave_m,
            swaps=swaps_m,
            history=scores,
            until=now,
            policy=policy,
        )
        for k in keys:
            scores[k].append(result[k].score)
        month_leave, month_swaps = leave_m, swaps_m
    f, l_ = _month_days(year, month)
    views: list[LedgerView] = []
    for k in keys:
        mine = [
            j
            for j in judged
            if _agent_key(j.shift.agent_id) == k and f <= j.shift.day <= l_ and not j.on_leave
        ]
        entries = result[k].entries
        views.append(
            LedgerView(
                agent_id=int(k),
                name=names.get(int(k), k),
                ledger=result[k],
                previous_scores=tuple(scores[k][:-1]),
                shifts=len(mine),
                late=sum(1 for e in entries if e.kind in ("late", "absence-late")),
                absences=sum(1 for e in entries if e.kind == "absence"),
                logouts=sum(j.result.logouts for j in mine),
                leave_days=len(month_leave.get(k, set())),
                swaps=month_swaps.get(k, 0),
            )
        )
    views.sort(key=lambda v: (v.ledger.score, v.name))
    return policy, views


# ---- the agent's own view ------------------------------------------------------------------


@dataclass(frozen=True)
class AgentView:
    """What the agent console shows: clock status, the running shift, today's shifts and the
    next one, the policy and the month's ledger (schemas.agent_view words it)."""

    agent_id: int
    status: ClockStatus
    current_shift: PublishedShift | None
    today: list[PublishedShift]
    next_shift: PublishedShift | None
    policy: att.AttendancePolicy
    ledger: LedgerView


def agent_view(session: Session, agent_id: int, tz: str, now: dt.datetime) -> AgentView:
    """What the agent console shows: clock status, today's and the next shift, the month's
    ledger."""
    status = clock_status(session, agent_id, now)
    today = workforce.local_day(now, tz)
    around = workforce.published_shifts(
        session,
        today - dt.timedelta(days=1),
        today + dt.timedelta(days=LOOKAHEAD_DAYS),
        tz,
        agent_id,
    )
    current = next((p for p in around if p.start <= now < p.end), None)
    todays = [p for p in around if p.day == today]
    upcoming = next((p for p in around if p.start > now), None)
    policy, views = ledgers(session, today.year, today.month, tz, now, agent_id)
    mine = next(v for v in views if v.agent_id == agent_id)
    return AgentView(agent_id, status, current, todays, upcoming, policy, mine)
