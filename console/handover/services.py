"""Handover log, weekly work summaries and escalating misses (docs/rules.md §2.4, §2.5, §5.2;
no Flask).

Every function takes `now` (UTC) and the centre's time zone, so jobs and tests control the
clock. Shifts are the published roster's (`workforce.published_shifts`); a shift that
crosses midnight belongs to the day it starts, and so does its handover entry and miss.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.core.errors import DomainError
from console.core.models import (
    Agent,
    Call,
    HandoverEntry,
    Miss,
    User,
    WeeklyReminder,
    WeeklySummary,
)
from console.workforce import services as workforce
from console.workforce.services import PublishedShift
from roster import model as rm

# Limits of the handover log. The grace time, filing window, early takeover and the weekly
# reminder lead are workforce settings (grace, file_window, takeover_early, remind_before).
HANDOVER_LOOKBACK = dt.timedelta(days=3)  # the sweep catches up after downtime this far back
INCOMING_WINDOW = dt.timedelta(hours=36)  # unacknowledged entries an incoming agent is shown
MAX_ITEMS = 50
MAX_ITEM_CHARS = 500
MAX_REF_CHARS = 64
MAX_NOTES_CHARS = 4000
MAX_SUMMARY_CHARS = 10000
MISS_KINDS = ("handover", "weekly-summary", "complaint")
LEVEL_CAP = 5  # the rulebook's 1st … 5th occurrence, when no consequences are configured


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _names(session: Session, agent_ids: set[int]) -> dict[int, str]:
    if not agent_ids:
        return {}
    rows = session.execute(
        select(Agent.id, User.display_name)
        .join(User, Agent.user_id == User.id)
        .where(Agent.id.in_(agent_ids))
    )
    return {a: n for a, n in rows}


def entry_names(session: Session, entries: list[HandoverEntry]) -> dict[int, str]:
    """The display names of the entries' authors and acknowledgers (schemas.entries_dicts)."""
    ids = {e.author_id for e in entries} | {e.acknowledged_by for e in entries if e.acknowledged_by}
    return _names(session, ids)


def grace(session: Session) -> dt.timedelta:
    """After a shift's end, how long until a missing handover entry counts as a miss."""
    return dt.timedelta(minutes=workforce.settings_row(session).handover_grace_min)


def file_window(session: Session) -> dt.timedelta:
    """How long after a shift's end its handover entry can still be filed."""
    return dt.timedelta(hours=workforce.settings_row(session).handover_file_window_h)


def takeover_early(session: Session) -> dt.timedelta:
    """How long before her shift an incoming agent may take over entries."""
    return dt.timedelta(minutes=workforce.settings_row(session).handover_takeover_early_min)


def remind_before(session: Session) -> dt.timedelta:
    """How long before the weekly-summary deadline the reminder goes out."""
    return dt.timedelta(hours=workforce.settings_row(session).weekly_summary_remind_h)


# ---- the handover log --------------------------------------------------------------------


def shift_to_hand_over(
    session: Session, agent_id: int, now: dt.datetime, tz: str
) -> PublishedShift | None:
    """The agent's shift a handover entry belongs to now: the running one, else the one that
    ended last (within the filing window)."""
    now = _utc(now)
    window = file_window(session)
    candidates = [
        s
        for s in workforce.shifts_around(session, now, tz, agent_id)
        if s.start <= now <= s.end + window
    ]
    if not candidates:
        return None
    running = [s for s in candidates if s.end >= now]
    return (running or candidates)[-1]


def entry_for_shift(session: Session, agent_id: int, shift: PublishedShift) -> HandoverEntry | None:
    """The agent's handover entry for one shift (there is at most one)."""
    return session.scalar(
        select(HandoverEntry)
        .where(HandoverEntry.author_id == agent_id, HandoverEntry.shift_day == shift.day)
        .order_by(HandoverEntry.id)
        .limit(1)
    )


def _clean_items(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DomainError("invalid-input", "items: a list expected")
    if len(raw) > MAX_ITEMS:
        raise DomainError("invalid-input", f"items: at most {MAX_ITEMS}")
    out: list[dict[str, str]] = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise DomainError("invalid-input", f"items[{n}]: an object expected")
        text, ref = item.get("text", ""), item.get("ref", "")
        if not isinstance(text, str) or not isinstance(ref, str):
            raise DomainError("invalid-input", f"items[{n}]: text and ref must be text")
        text, ref = text.strip(), ref.strip()
        if not text:
            raise DomainError("handover-item-empty", str(n))
        if len(text) > MAX_ITEM_CHARS or len(ref) > MAX_REF_CHARS:
            raise DomainError(
                "invalid-input",
                f"items[{n}]: text ≤ {MAX_ITEM_CHARS}, ref ≤ {MAX_REF_CHARS} characters",
            )
        out.append({"text": text, "ref": ref})
    return out


def file_entry(
    session: Session, agent_id: int, items: Any, notes: Any, now: dt.datetime, tz: str
) -> HandoverEntry:
    """File the agent's handover entry for her running or just-ended shift (once per shift).

    An entry without items is a deliberate "nothing open" handover and counts as filed.
    """
    clean = _clean_items(items)
    if notes is None:
        notes = ""
    if not isinstance(notes, str) or len(notes) > MAX_NOTES_CHARS:
        raise DomainError("invalid-input", f"notes: text of at most {MAX_NOTES_CHARS} characters")
    shift = shift_to_hand_over(session, agent_id, now, tz)
    if shift is None:
        raise DomainError("handover-no-shift")
    if entry_for_shift(session, agent_id, shift) is not None:
        raise DomainError(
            "handover-already-filed", f"{shift.day.isoformat()} {shift.template_code}"
        )
    entry = HandoverEntry(
        author_id=agent_id,
        shift_day=shift.day,
        template_code=shift.template_code,
        created_at=_utc(now),
        items=clean,
        notes=notes.strip(),
    )
    session.add(entry)
    session.flush()
    return entry


def incoming(session: Session, agent_id: int, now: dt.datetime) -> list[HandoverEntry]:
    """Unacknowledged entries other agents filed recently, oldest first: what the incoming shift
    takes over."""
    since = _utc(now) - INCOMING_WINDOW
    return list(
        session.scalars(
            select(HandoverEntry)
            .where(
                HandoverEntry.acknowledged_at.is_(None),
                HandoverEntry.author_id != agent_id,
                HandoverEntry.created_at >= since,
            )
            .order_by(HandoverEntry.created_at, HandoverEntry.id)
        )
    )


def taken_over(session: Session, agent_id: int, now: dt.datetime) -> list[HandoverEntry]:
    """Entries this agent acknowledged recently, newest first (so taken-over items stay in view)."""
    since = _utc(now) - INCOMING_WINDOW
    return list(
        session.scalars(
            select(HandoverEntry)
            .where(
                HandoverEntry.acknowledged_by == agent_id, HandoverEntry.acknowledged_at >= since
            )
            .order_by(HandoverEntry.acknowledged_at.desc(), HandoverEntry.id.desc())
        )
    )


def on_duty(session: Session, agent_id: int, now: dt.datetime, tz: str) -> bool:
    """True when the agent's published shift is running, or starts within the early-takeover
    time."""
    now = _utc(now)
    early = takeover_early(session)
    return any(
        s.start - early <= now < s.end for s in workforce.shifts_around(session, now, tz, agent_id)
    )


def acknowledge(
    session: Session, entry_id: int, agent_id: int, now: dt.datetime, tz: str
) -> HandoverEntry:
    """An agent of the incoming shift takes over another agent's entry; who and when are
    recorded, once. Only an agent on duty (docs/rules.md §5.2: the next shift takes them over)."""
    entry = session.get(HandoverEntry, entry_id, with_for_update=True)
    if entry is None:
        raise DomainError("not-found")
    if entry.author_id == agent_id:
        raise DomainError("handover-own-entry")
    if not on_duty(session, agent_id, now, tz):
        raise DomainError("handover-not-on-duty")
    if entry.acknowledged_at is not None:
        who = _names(session, {entry.acknowledged_by} if entry.acknowledged_by else set())
        raise DomainError("handover-already-acknowledged", who.get(entry.acknowledged_by or 0, ""))
    entry.acknowledged_by = agent_id
    entry.acknowledged_at = _utc(now)
    session.flush()
    return entry


@dataclass(frozen=True)
class LogShift:
    """A published shift of the handover log, its agent's name, its entry and its status."""

    shift: PublishedShift
    agent_name: str
    status: str
    entry: HandoverEntry | None


@dataclass(frozen=True)
class HandoverLog:
    """The handover log's shifts, newest first, and the names of the entries' authors and
    acknowledgers."""

    shifts: list[LogShift]
    entry_names: dict[int, str]


def handover_log(session: Session, now: dt.datetime, tz: str, days: int) -> HandoverLog:
    """Published shifts of the last `days` local days, newest first, each with its entry and status.

    status: filed | filed-late (after the miss was counted: the miss stays) | missing (grace
    over, no entry) | due (ended, grace running) | running | upcoming.
    """
    now = _utc(now)
    last = workforce.local_day(now, tz)
    shifts = workforce.published_shifts(session, last - dt.timedelta(days=days - 1), last, tz)
    entries = list(
        session.scalars(
            select(HandoverEntry).where(
                HandoverEntry.shift_day >= last - dt.timedelta(days=days - 1),
                HandoverEntry.shift_day <= last,
            )
        )
    )
    by_key = {
        (e.author_id, e.shift_day): e for e in sorted(entries, key=lambda e: e.id, reverse=True)
    }
    authors = entry_names(session, entries)
    names = _names(session, {s.agent_id for s in shifts})
    first = (last - dt.timedelta(days=days - 1)).isoformat()
    misses = {
        (a, r)
        for a, r in session.execute(
            select(Miss.agent_id, Miss.ref).where(Miss.kind == "handover", Miss.ref >= first)
        )
    }
    after = grace(session)
    out = []
    for s in reversed(shifts):
        entry = by_key.get((s.agent_id, s.day))
        if entry is not None:
            # Filed after the grace time: the open items reached the next shift late, so the
            # miss counted at the end of the grace time stands (docs/rules.md §2.4: filed at
            # shift end).
            status = "filed-late" if (s.agent_id, s.day.isoformat()) in misses else "filed"
        elif s.start > now:
            status = "upcoming"
        elif s.end > now:
            status = "running"
        elif (s.agent_id, s.day.isoformat()) in misses or s.end + after <= now:
            status = "missing"
        else:
            status = "due"
        out.append(LogShift(s, names.get(s.agent_id, ""), status, entry))
    return HandoverLog(out, authors)


# ---- misses and escalation ---------------------------------------------------------------


def period_of(day: dt.date) -> str:
    """The calendar-month period "YYYY-MM" of a local day."""
    return f"{day.year:04d}-{day.month:02d}"


def _add_miss(
    session: Session, agent_id: int, kind: str, day: dt.date, ref: str, now: dt.datetime
) -> Miss | None:
    # Checked first so a sweep never trips the unique key (which would abort a PostgreSQL
    # transaction); the unique key stays the backstop against a second scheduler.
    exists = session.scalar(
        select(Miss.id).where(Miss.agent_id == agent_id, Miss.kind == kind, Miss.ref == ref)
    )
    if exists is not None:
        return None
    miss = Miss(agent_id=agent_id, kind=kind, period=period_of(day), ref=ref, at=_utc(now))
    session.add(miss)
    session.flush()
    return miss


def sweep_handover_misses(session: Session, now: dt.datetime, tz: str) -> list[Miss]:
    """Count a miss for every published shift that ended more than the grace time ago without a
    handover entry by its agent (idempotent: each shift is counted once, ref = its local day)."""
    now = _utc(now)
    after = grace(session)
    back = HANDOVER_LOOKBACK + after  # however long the grace time, the catch-up window follows it
    first = workforce.local_day(now - back, tz) - dt.timedelta(days=1)
    shifts = [
        s
        for s in workforce.published_shifts(session, first, workforce.local_day(now, tz), tz)
        if s.end + after <= now and s.end >= now - back
    ]
    if not shifts:
        return []
    filed = {
        (a, d)
        for a, d in session.execute(
            select(HandoverEntry.author_id, HandoverEntry.shift_day).where(
                HandoverEntry.shift_day >= first
            )
        )
    }
    added = []
    for s in shifts:
        if (s.agent_id, s.day) in filed:
            continue
        miss = _add_miss(session, s.agent_id, "handover", s.day, s.day.isoformat(), now)
        if miss is not None:
            added.append(miss)
    return added


def record_complaint(
    session: Session, agent_id: Any, call_id: Any, now: dt.datetime, tz: str
) -> Miss:
    """A supervisor counts a customer complaint against an agent, referring to the call."""
    if isinstance(agent_id, bool) or not isinstance(agent_id, int):
        raise DomainError("invalid-input", "agent_id: an integer expected")
    if not isinstance(call_id, str) or not call_id.strip() or len(call_id.strip()) > MAX_REF_CHARS:
        raise DomainError("invalid-input", "call_id: text expected")
    call_id = call_id.strip()
    if session.get(Agent, agent_id) is None:
        raise DomainError("not-found", "agent")
    call = session.get(Call, call_id)
    if call is None:
        raise DomainError("miss-unknown-call", call_id)
    # The complaint belongs to the month of the call it is about.
    miss = _add_miss(
        session, agent_id, "complaint", workforce.local_day(call.arrived_at, tz), call_id, now
    )
    if miss is None:
        raise DomainError("miss-exists", call_id)
    return miss


@dataclass(frozen=True)
class Escalation:
    """One agent's misses of one kind in one period, and what they lead to."""

    agent_id: int
    kind: str
    count: int
    level: int
    consequence: str


def level_for(count: int, consequences: list[str]) -> tuple[int, str]:
    """The escalation level (1st … capped at the last configured step) and its consequence."""
    if count <= 0:
        return 0, ""
    cap = len(consequences) or LEVEL_CAP
    level = min(count, cap)
    return level, consequences[level - 1] if consequences else ""


def escalations(session: Session, period: str, agent_id: int | None = None) -> list[Escalation]:
    """Per agent and kind, the misses counted in a calendar month and their escalation level."""
    consequences = [str(c) for c in workforce.settings_row(session).escalation or []]
    q = (
        select(Miss.agent_id, Miss.kind, func.count())
        .where(Miss.period == period)
        .group_by(Miss.agent_id, Miss.kind)
        .order_by(Miss.agent_id, Miss.kind)
    )
    if agent_id is not None:
        q = q.where(Miss.agent_id == agent_id)
    out = []
    for a, kind, n in session.execute(q):
        level, consequence = level_for(int(n), consequences)
        out.append(Escalation(a, kind, int(n), level, consequence))
    return out


def misses(session: Session, period: str, agent_id: int | None = None) -> list[Miss]:
    """The misses of a period in the order they were counted."""
    q = select(Miss).where(Miss.period == period).order_by(Miss.at, Miss.id)
    if agent_id is not None:
        q = q.where(Miss.agent_id == agent_id)
    return list(session.scalars(q))


def parse_period(raw: Any) -> str:
    """A "YYYY-MM" period; anything else is invalid input."""
    if isinstance(raw, str) and len(raw) == 7 and raw[4] == "-":
        try:
            dt.date(int(raw[:4]), int(raw[5:]), 1)
        except ValueError:
            pass
        else:
            return raw
    raise DomainError("invalid-input", "period: YYYY-MM expected")


@dataclass(frozen=True)
class CountedMiss:
    """A miss with its ordinal among the agent's misses of its kind in the period, and the
    escalation level and consequence it reached."""

    miss: Miss
    occurrence: int
    level: int
    consequence: str


@dataclass(frozen=True)
class MissesReport:
    """A period's misses, each counted, and per agent and kind the escalation reached."""

    period: str
    escalation: list[str]
    names: dict[int, str]
    misses: list[CountedMiss]
    escalations: list[Escalation]


def misses_report(session: Session, period: str, agent_id: int | None = None) -> MissesReport:
    """A period's misses: each miss with its ordinal, and per agent the levels."""
    rows = misses(session, period, agent_id)
    consequences = [str(c) for c in workforce.settings_row(session).escalation or []]
    agents = {
        a.id: n for a, n in ((a, u.display_name) for a, u in workforce.roster_agents(session))
    }
    agents |= _names(session, {m.agent_id for m in rows} - set(agents))
    seen: dict[tuple[int, str], int] = {}
    listed = []
    for m in rows:
        n = seen[(m.agent_id, m.kind)] = seen.get((m.agent_id, m.kind), 0) + 1
        level, consequence = level_for(n, consequences)
        listed.append(CountedMiss(m, n, level, consequence))
    return MissesReport(
        period, consequences, agents, listed, escalations(session, period, agent_id)
    )


# ---- weekly work summary -----------------------------------------------------------------


def week_start_of(day: dt.date) -> dt.date:
    """The Monday of a day's week."""
    return day - dt.timedelta(days=day.weekday())


def deadline(session: Session, week_start: dt.date, tz: str) -> dt.datetime:
    """When the summary of a week is due (UTC): the configured weekday and time of that week."""
    row = workforce.settings_row(session)
    day = week_start + dt.timedelta(days=row.weekly_summary_due_weekday)
    return dt.datetime.combine(day, row.weekly_summary_due_time, tzinfo=rm.zone(tz)).astimezone(
        dt.UTC
    )


def _parse_week(raw: Any, now: dt.datetime, tz: str) -> dt.date:
    this_week = week_start_of(workforce.local_day(now, tz))
    if raw is None or raw == "":
        return this_week
    try:
        day = dt.date.fromisoformat(str(raw))
    except ValueError:
        raise DomainError("invalid-input", "week_start: YYYY-MM-DD expected") from None
    if day.weekday() != 0:
        raise DomainError("invalid-input", "week_start: a Monday expected")
    if day > this_week or day < this_week - dt.timedelta(weeks=4):
        raise DomainError("weekly-summary-week", day.isoformat())
    return day


def submit_summary(
    session: Session,
    agent_id: int,
    went_well: Any,
    to_improve: Any,
    now: dt.datetime,
    tz: str,
    week_start: Any = None,
) -> WeeklySummary:
    """File the agent's summary for a week (this week unless given; up to 4 weeks back).

    Both parts are required and together must reach the configured minimum length (characters,
    so Chinese text counts per character); after the deadline it is accepted and marked late.
    """
    if not isinstance(went_well, str) or not isinstance(to_improve, str):
        raise DomainError("invalid-input", "went_well and to_improve: text expected")
    went_well, to_improve = went_well.strip(), to_improve.strip()
    if len(went_well) > MAX_SUMMARY_CHARS or len(to_improve) > MAX_SUMMARY_CHARS:
        raise DomainError("invalid-input", f"at most {MAX_SUMMARY_CHARS} characters per part")
    week = _parse_week(week_start, now, tz)
    minimum = workforce.settings_row(session).weekly_summary_min_chars
    if not went_well or not to_improve:
        raise DomainError("weekly-summary-incomplete")
    total = len(went_well) + len(to_improve)
    if total < minimum:
        raise DomainError("weekly-summary-too-short", f"{total}/{minimum}")
    if session.scalar(
        select(WeeklySummary.id).where(
            WeeklySummary.agent_id == agent_id, WeeklySummary.week_start == week
        )
    ):
        raise DomainError("weekly-summary-exists", week.isoformat())
    summary = WeeklySummary(
        agent_id=agent_id,
        week_start=week,
        went_well=went_well,
        to_improve=to_improve,
        submitted_at=_utc(now),
        late=_utc(now) > deadline(session, week, tz),
    )
    session.add(summary)
    session.flush()
    return summary


def summary_of(session: Session, agent_id: int, week_start: dt.date) -> WeeklySummary | None:
    return session.scalar(
        select(WeeklySummary).where(
            WeeklySummary.agent_id == agent_id, WeeklySummary.week_start == week_start
        )
    )


def summaries(session: Session, week_start: dt.date) -> list[WeeklySummary]:
    """Every summary filed for one week, in filing order."""
    return list(
        session.scalars(
            select(WeeklySummary)
            .where(WeeklySummary.week_start == week_start)
            .order_by(WeeklySummary.submitted_at)
        )
    )


@dataclass(frozen=True)
class WeeklyStatus:
    """What the agent's page shows about this week's summary (and last week's, if missing)."""

    week_start: dt.date
    due: dt.datetime
    min_chars: int
    due_soon: bool
    overdue: bool
    summary: WeeklySummary | None
    last_week_missing: bool
    last_week_start: dt.date


def weekly_status(session: Session, agent_id: int, now: dt.datetime, tz: str) -> WeeklyStatus:
    """What the agent's page shows about this week's summary (and last week's, if it is missing)."""
    now = _utc(now)
    week = week_start_of(workforce.local_day(now, tz))
    due = deadline(session, week, tz)
    mine = summary_of(session, agent_id, week)
    last_week = week - dt.timedelta(weeks=1)
    last = summary_of(session, agent_id, last_week)
    return WeeklyStatus(
        week_start=week,
        due=due,
        min_chars=workforce.settings_row(session).weekly_summary_min_chars,
        due_soon=mine is None and due - remind_before(session) <= now < due,
        overdue=mine is None and now >= due,
        summary=mine,
        last_week_missing=last is None and _worked(session, agent_id, last_week, tz),
        last_week_start=last_week,
    )


def _workers(session: Session, week_start: dt.date, tz: str) -> set[int]:
    shifts = workforce.published_shifts(session, week_start, week_start + dt.timedelta(days=6), tz)
    return {s.agent_id for s in shifts}


def _worked(session: Session, agent_id: int, week_start: dt.date, tz: str) -> bool:
    return bool(
        workforce.published_shifts(
            session, week_start, week_start + dt.timedelta(days=6), tz, agent_id
        )
    )


def agents_to_remind(session: Session, now: dt.datetime, tz: str) -> list[int]:
    """Agents on this week's roster without a summary and not reminded yet, once `now` is in
    the reminder window (the reminder lead before the deadline, until it). Each is recorded as
    reminded, so a late or repeated run, or a second scheduler, does not remind twice."""
    now = _utc(now)
    week = week_start_of(workforce.local_day(now, tz))
    due = deadline(session, week, tz)
    if not due - remind_before(session) <= now < due:
        return []
    filed = {s.agent_id for s in summaries(session, week)}
    done = set(
        session.scalars(select(WeeklyReminder.agent_id).where(WeeklyReminder.week_start == week))
    )
    out = sorted(_workers(session, week, tz) - filed - done)
    for agent_id in out:
        session.add(WeeklyReminder(agent_id=agent_id, week_start=week, at=now))
    session.flush()
    return out


def sweep_weekly_misses(
    session: Session, now: dt.datetime, tz: str, weeks_back: int = 2
) -> list[Miss]:
    """After a week's deadline, count a miss for each agent who had a published shift that week
    and filed no summary by the deadline (a late one does not undo it). Idempotent."""
    now = _utc(now)
    this_week = week_start_of(workforce.local_day(now, tz))
    added = []
    for back in range(weeks_back, -1, -1):
        week = this_week - dt.timedelta(weeks=back)
        due = deadline(session, week, tz)
        if now < due:
            continue
        on_time = {s.agent_id for s in summaries(session, week) if not s.late}
        for agent_id in sorted(_workers(session, week, tz) - on_time):
            miss = _add_miss(
                session,
                agent_id,
                "weekly-summary",
                workforce.local_day(due, tz),
                week.isoformat(),
                now,
            )
            if miss is not None:
                added.append(miss)
    return added
