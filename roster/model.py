"""Frozen value types of the roster engine: sites, agents, shift templates, rules, rosters."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = dt.UTC

# Agent contract flags understood by the solver and the validator.
FLAG_NO_LATE = "no-late"  # may not work a template marked late
FLAG_NO_WEEKEND = "no-weekend"  # may not work on Saturday or Sunday


@lru_cache(maxsize=64)
def zone(tz: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name (cached)."""
    return ZoneInfo(tz)


@dataclass(frozen=True)
class Site:
    """A physical site: a number of workstations (seats) in one time zone."""

    seats: int
    tz: str = "Asia/Shanghai"
    id: str = "main"


@dataclass(frozen=True)
class Interval:
    """A half-open span [start, end) of aware datetimes."""

    start: dt.datetime
    end: dt.datetime

    def overlaps(self, other: Interval) -> bool:
        """True when the two spans share any instant."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Agent:
    """An agent who can be rostered, with skills, limits, availability and leave."""

    id: str
    skills: frozenset[str] = frozenset({"general"})
    site: str = "main"
    max_hours_week: float = 40.0
    # Spans (aware datetimes) in which the agent cannot work at all.
    unavailable: tuple[Interval, ...] = ()
    # Approved leave, by local calendar day: no shift may *start* on such a day.
    leave: frozenset[dt.date] = frozenset()
    flags: frozenset[str] = frozenset()
    # Shifts already worked (published) on the days just before the horizon, as
    # (local day, template code): rest, consecutive days and the first week's hours
    # carry over from them into the new roster.
    worked_before: tuple[tuple[dt.date, str], ...] = ()

    def before(self, start: dt.date) -> dict[dt.date, str]:
        """The shifts worked before `start` (later entries win), by local day."""
        return {d: c for d, c in self.worked_before if d < start}

    def run_before(self, start: dt.date) -> int:
        """Consecutive working days that end the day before `start`."""
        days = self.before(start)
        run = 0
        while start - dt.timedelta(days=run + 1) in days:
            run += 1
        return run


@dataclass(frozen=True)
class ShiftTemplate:
    """A shift pattern; an end at or before the start means it crosses midnight."""

    code: str
    start: dt.time
    end: dt.time
    # Break minutes inside the shift; unpaid breaks are subtracted from worked hours.
    break_min: int = 0
    break_paid: bool = False
    # Not on site (on call from home) needs no seat.
    on_site: bool = True
    # Queues/skills this shift can serve; empty means every skill.
    skills: frozenset[str] = frozenset()
    # Late shifts are spread fairly and capped per week (Rules.max_late_shifts_per_week).
    late: bool = False

    @property
    def crosses_midnight(self) -> bool:
        """True when the shift ends on the next calendar day."""
        return self.end <= self.start

    def span(self, day: dt.date, tz: str) -> Interval:
        """The real span of this shift started on local `day`, in UTC."""
        z = zone(tz)
        end_day = day + dt.timedelta(days=1) if self.crosses_midnight else day
        start = dt.datetime.combine(day, self.start, tzinfo=z).astimezone(UTC)
        end = dt.datetime.combine(end_day, self.end, tzinfo=z).astimezone(UTC)
        return Interval(start, end)

    def paid_minutes(self, day: dt.date, tz: str) -> int:
        """Worked minutes on `day`: real elapsed time (DST-aware) minus an unpaid break."""
        s = self.span(day, tz)
        # Subtracting UTC datetimes gives elapsed time; same-zone local subtraction would not.
        elapsed = int((s.end - s.start).total_seconds() // 60)
        return elapsed - (0 if self.break_paid else self.break_min)

    def serves(self, skill: str) -> bool:
        """True when this shift may serve `skill`."""
        return not self.skills or skill in self.skills


# Holiday requirement factor ceiling: far above any duty roster (the API allows up to 10).
MAX_REINFORCEMENT = 100.0


@dataclass(frozen=True)
class Rules:
    """Hard-rule limits and soft-goal weights; every number is a configurable default."""

    max_hours_week: float = 40.0
    min_rest_h: float = 11.0
    max_consecutive_days: int = 6
    # Rest days per calendar month; a month only partly inside the horizon needs
    # ceil(min * covered_days / month_days) of them.
    min_rest_days_per_month: int = 3
    max_late_shifts_per_week: int | None = None
    week_start: int = 0  # Monday; weeks are calendar weeks in the site's zone
    # Objective weights (weighted sum, see solver.py): understaffing >> overstaffing >> fairness;
    # the fairness weights apply to the largest late / weekend shift count of any agent.
    weight_under: int = 1000
    weight_over: int = 10
    weight_fair_late: int = 1
    weight_fair_weekend: int = 1
    # Public holidays get requirement * factor (rounded up): a reinforced duty roster.
    holidays: frozenset[dt.date] = frozenset()
    holiday_reinforcement: float = 1.5

    def __post_init__(self) -> None:
        # An infinite factor made ceil() raise OverflowError in the coverage; a week has 168 h.
        for name, value, low, high in (
            ("max_hours_week", self.max_hours_week, 0.0, 168.0),
            ("min_rest_h", self.min_rest_h, 0.0, 168.0),
            ("holiday_reinforcement", self.holiday_reinforcement, 0.0, MAX_REINFORCEMENT),
        ):
            if not (
                isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high
            ):
                raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")


@dataclass(frozen=True)
class Horizon:
    """The local calendar days a roster covers: `days` days from `start` (1–6 weeks)."""

    start: dt.date
    days: int

    def dates(self) -> list[dt.date]:
        """Every local day of the horizon, in order."""
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and 0 <= (day - self.start).days < self.days

    def __iter__(self) -> Iterator[dt.date]:
        return iter(self.dates())


@dataclass(frozen=True)
class Requirement:
    """Agents needed per interval: interval start (aware UTC) -> skill -> count."""

    interval_min: int
    needed: Mapping[dt.datetime, Mapping[str, int]] = field(default_factory=dict, hash=False)

    def skills(self) -> set[str]:
        """Every skill that appears in the requirement."""
        return {s for per in self.needed.values() for s in per}

    def total(self) -> int:
        """Required agent-intervals, summed over intervals and skills."""
        return sum(n for per in self.needed.values() for n in per.values())


@dataclass(frozen=True)
class Roster:
    """A roster: agent -> day -> template code (None = rest), queue per shift and extra duties."""

    assignments: Mapping[str, Mapping[dt.date, str | None]] = field(
        default_factory=dict, hash=False
    )
    # Which queue/skill the agent serves on that shift; missing means "any of the agent's".
    queues: Mapping[str, Mapping[dt.date, str]] = field(default_factory=dict, hash=False)
    # Extra duties (e.g. office cleaning): duty name -> day -> agent id.
    duties: Mapping[str, Mapping[dt.date, str]] = field(default_factory=dict, hash=False)

    def shift(self, agent_id: str, day: dt.date) -> str | None:
        """The template code the agent works on `day`, or None."""
        return self.assignments.get(agent_id, {}).get(day)


def rostered_shifts(
    roster: Roster,
    agents: Iterable[Agent],
    templates: Mapping[str, ShiftTemplate],
    site: Site,
    horizon: Horizon,
) -> Iterator[tuple[str, dt.date, ShiftTemplate, Interval]]:
    """Every shift the roster gives agents of this site: (agent id, local day, template, span)."""
    for a in agents:
        if a.site != site.id:
            continue
        for day in horizon.dates():
            code = roster.shift(a.id, day)
            t = templates.get(code) if code else None
            if t is not None:
                yield a.id, day, t, t.span(day, site.tz)
