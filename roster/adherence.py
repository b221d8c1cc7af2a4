"""Schedule adherence: scheduled shifts compared with the agent-state log (pure, stdlib only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from roster.model import Horizon, Roster, ShiftTemplate, Site, zone

# Agent states reported by the telephony layer; every state except OFFLINE is "logged in".
OFFLINE = "offline"
STATES: frozenset[str] = frozenset(
    {"available", "not_ready", "ringing", "on_call", "wrap_up", OFFLINE}
)
DEFAULT_LOGOUT_THRESHOLD = dt.timedelta(minutes=1)


def _aware(value: dt.datetime, what: str) -> None:
    # Naive datetimes would silently compare in an unknown zone; refuse them early.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {value!r}")


def _minutes(span: dt.timedelta) -> float:
    return span.total_seconds() / 60


@dataclass(frozen=True)
class ScheduledShift:
    """One rostered shift of one agent: a real span [start, end) and its template code."""

    agent_id: str
    start: dt.datetime
    end: dt.datetime
    template_code: str
    # The planned break [break_start, break_end), if any: not working time, so neither
    # scheduled minutes nor a logout.
    break_start: dt.datetime | None = None
    break_end: dt.datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.start, "shift start")
        _aware(self.end, "shift end")
        if self.end <= self.start:
            raise ValueError(f"shift {self.template_code} of {self.agent_id} ends before it starts")
        if (self.break_start is None) != (self.break_end is None):
            raise ValueError("a break needs both its start and its end")
        if self.break_start is not None and self.break_end is not None:
            _aware(self.break_start, "break start")
            _aware(self.break_end, "break end")
            if not self.start <= self.break_start < self.break_end <= self.end:
                raise ValueError(f"the break of {self.template_code} must lie inside the shift")

    def off_minutes(self, lo: dt.datetime, hi: dt.datetime) -> dt.timedelta:
        """How much of [lo, hi) falls in the planned break."""
        if self.break_start is None or self.break_end is None:
            return dt.timedelta()
        return max(dt.timedelta(), min(hi, self.break_end) - max(lo, self.break_start))

    def day(self, tz: str) -> dt.date:
        """The local calendar day (in `tz`) on which the shift starts."""
        # A shift crossing midnight belongs to the day it starts, as in the roster.
        return self.start.astimezone(zone(tz)).date()


@dataclass(frozen=True)
class StateEntry:
    """An agent-state change: from `at` the agent is in `state` until her next entry."""

    agent_id: str
    at: dt.datetime
    state: str

    def __post_init__(self) -> None:
        _aware(self.at, "state time")
        if self.state not in STATES:
            raise ValueError(f"unknown agent state {self.state!r}")

    @property
    def logged_in(self) -> bool:
        """True for every state other than offline."""
        return self.state != OFFLINE


@dataclass(frozen=True)
class ShiftAdherence:
    """Adherence of one agent on one shift; late/early are None when she never logged in."""

    shift: ScheduledShift
    scheduled_min: float
    logged_in_min: float
    adherence_pct: float
    late_start_min: float | None
    early_leave_min: float | None
    logouts: int

    @property
    def absent(self) -> bool:
        """True when the agent was not logged in at any instant of the shift."""
        return self.late_start_min is None


@dataclass(frozen=True)
class CurrentAdherence:
    """Real-time adherence of one agent: scheduled now or not, logged in or not."""

    agent_id: str
    shift: ScheduledShift | None
    state: str
    in_adherence: bool

    @property
    def scheduled(self) -> bool:
        """True when the agent has a shift running now."""
        return self.shift is not None


def scheduled_shifts(
    roster: Roster, templates: Mapping[str, ShiftTemplate], site: Site, horizon: Horizon
) -> list[ScheduledShift]:
    """Every rostered shift in the horizon as real spans, sorted by agent then start."""
    out: list[ScheduledShift] = []
    for agent_id in sorted(roster.assignments):
        for day in horizon.dates():
            code = roster.shift(agent_id, day)
            if code is None:
                continue
            if code not in templates:
                raise ValueError(f"unknown shift template {code} for {agent_id} on {day}")
            # Reuse the template's DST-aware span rather than redoing local-time math here.
            span = templates[code].span(day, site.tz)
            out.append(ScheduledShift(agent_id, span.start, span.end, code))
    return out


# A run of one login status: (start, logged_in); it lasts until the next run's start.
_Run = tuple[dt.datetime, bool]


def _runs(entries: Iterable[StateEntry]) -> list[_Run]:
    # Only logged-in vs offline matters, so consecutive same-status entries merge into one run.
    runs: list[_Run] = []
    # sorted() is stable: of entries at the same instant the last one given wins.
    for e in sorted(entries, key=lambda e: e.at):
        if runs and runs[-1][0] == e.at:
            runs.pop()
        if runs and runs[-1][1] == e.logged_in:
            continue
        runs.append((e.at, e.logged_in))
    return runs


def _by_agent(entries: Iterable[StateEntry]) -> dict[str, list[StateEntry]]:
    grouped: dict[str, list[StateEntry]] = {}
    for e in entries:
        grouped.setdefault(e.agent_id, []).append(e)
    return grouped


def _shift_adherence(
    shift: ScheduledShift, runs: Sequence[_Run], threshold: dt.timedelta
) -> ShiftAdherence:
    s, e = shift.start, shift.end
    logged = dt.timedelta()
    first_in: dt.datetime | None = None
    last_in: dt.datetime | None = None
    logouts = 0
    for i, (start, is_in) in enumerate(runs):
        # Before the first entry the status is unknown and counts as offline; the last
        # run lasts past the shift (it is clipped to the shift below).
        end = runs[i + 1][0] if i + 1 < len(runs) else e
        lo, hi = max(start, s), min(end, e)
        if is_in:
            if lo < hi:
                logged += hi - lo - shift.off_minutes(lo, hi)
                first_in = lo if first_in is None else first_in
                last_in = hi
        elif i > 0 and s < start < e and (hi - lo) - shift.off_minutes(lo, hi) > threshold:
            # A logout is a drop from logged in to offline inside the shift; an early
            # leave (offline until the shift ends) is one too when it lasts long enough.
            # Being offline during the planned break is not one.
            logouts += 1
    scheduled = _minutes(e - s - shift.off_minutes(s, e))
    logged_min = _minutes(logged)
    return ShiftAdherence(
        shift=shift,
        scheduled_min=scheduled,
        logged_in_min=logged_min,
        adherence_pct=100 * logged_min / scheduled,
        late_start_min=None if first_in is None else _minutes(first_in - s),
        early_leave_min=None if last_in is None else _minutes(e - last_in),
        logouts=logouts,
    )


def adherence(
    shifts: Iterable[ScheduledShift],
    entries: Iterable[StateEntry],
    logout_threshold: dt.timedelta = DEFAULT_LOGOUT_THRESHOLD,
) -> list[ShiftAdherence]:
    """Per agent and shift: scheduled/logged-in minutes, adherence %, late, early, logouts."""
    runs = {agent: _runs(es) for agent, es in _by_agent(entries).items()}
    ordered = sorted(shifts, key=lambda x: (x.agent_id, x.start))
    return [_shift_adherence(x, runs.get(x.agent_id, []), logout_threshold) for x in ordered]


def current_adherence(
    shifts: Iterable[ScheduledShift], latest_states: Mapping[str, str], now: dt.datetime
) -> dict[str, CurrentAdherence]:
    """Per agent now: in adherence when logged in during a shift or offline outside one."""
    _aware(now, "now")
    running: dict[str, ScheduledShift] = {}
    agents: set[str] = set(latest_states)
    for x in shifts:
        agents.add(x.agent_id)
        if x.start <= now < x.end:
            running[x.agent_id] = x
    out: dict[str, CurrentAdherence] = {}
    for agent_id in sorted(agents):
        # An agent with no reported state has never logged in: treat her as offline.
        state = latest_states.get(agent_id, OFFLINE)
        if state not in STATES:
            raise ValueError(f"unknown agent state {state!r}")
        shift = running.get(agent_id)
        logged_in = state != OFFLINE
        # Being logged in while not rostered is out of adherence too (unplanned overtime).
        out[agent_id] = CurrentAdherence(agent_id, shift, state, logged_in == (shift is not None))
    return out


def clock_entries(
    events: Iterable[tuple[str, dt.datetime, str]], max_open: dt.timedelta | None = None
) -> list[StateEntry]:
    """Clock-in/out events (agent, at, "in"|"out") as a login stream for `adherence`.

    A clock-in counts as "available" until the clock-out; with `max_open`, a clock-in left
    open longer than that (a forgotten clock-out) ends after `max_open`.
    """
    out: list[StateEntry] = []
    by_agent: dict[str, list[tuple[dt.datetime, str]]] = {}
    for agent_id, at, kind in events:
        _aware(at, "clock time")
        if kind not in ("in", "out"):
            raise ValueError(f"unknown clock event {kind!r}")
        by_agent.setdefault(agent_id, []).append((at, kind))
    for agent_id, evs in sorted(by_agent.items()):
        evs.sort(key=lambda x: x[0])
        for i, (at, kind) in enumerate(evs):
            out.append(StateEntry(agent_id, at, "available" if kind == "in" else OFFLINE))
            if kind == "in" and max_open is not None:
                nxt = evs[i + 1][0] if i + 1 < len(evs) else None
                if nxt is None or nxt - at > max_open:
                    out.append(StateEntry(agent_id, at + max_open, OFFLINE))
    return out


def attendance_adherence(
    shifts: Iterable[ScheduledShift],
    clock: Iterable[StateEntry],
    desk: Iterable[StateEntry],
    logout_threshold: dt.timedelta = DEFAULT_LOGOUT_THRESHOLD,
) -> list[ShiftAdherence]:
    """Adherence where presence comes from the time clock and the desk from the state log.

    Late start, early leave and absence follow clock-in/out (the attendance record);
    logged-in minutes, adherence % and logouts follow the agent-state log (the service desk).
    """
    ordered = sorted(shifts, key=lambda x: (x.agent_id, x.start))
    present = adherence(ordered, clock, logout_threshold)
    at_desk = adherence(ordered, desk, logout_threshold)
    return [
        ShiftAdherence(
            shift=p.shift,
            scheduled_min=d.scheduled_min,
            logged_in_min=d.logged_in_min,
            adherence_pct=d.adherence_pct,
            late_start_min=p.late_start_min,
            early_leave_min=p.early_leave_min,
            logouts=d.logouts,
        )
        for p, d in zip(present, at_desk, strict=True)
    ]
