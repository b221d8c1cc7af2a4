"""A generated contact centre for the roster solver's benchmark and tests (pure).

Opening hours 08:00–01:00 in 30-minute intervals with a double daily peak, two skills,
an Erlang C requirement for 80 % in 20 s at 300 s AHT, the rule set's shift templates,
leave, evening unavailability and no-late contracts. `instance(n, weeks, seed)` is
deterministic for its arguments.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from roster.erlang import required_agents
from roster.model import (
    FLAG_NO_LATE,
    Agent,
    Horizon,
    Interval,
    Requirement,
    Rules,
    ShiftTemplate,
    Site,
    zone,
)
from roster.rules import reinforce

TZ = "Asia/Shanghai"
START = dt.date(2026, 6, 1)  # a Monday; June 2026 holds the Dragon Boat festival
HOLIDAYS = frozenset({dt.date(2026, 6, 19)})
STEP_MIN = 30
AHT_S = 300

TEMPLATES = [
    ShiftTemplate("E", dt.time(8, 0), dt.time(17, 30), break_min=90),
    ShiftTemplate("L", dt.time(16, 0), dt.time(1, 0), break_min=60, late=True),
    ShiftTemplate("A", dt.time(9, 0), dt.time(17, 0), break_min=60),
    ShiftTemplate("B", dt.time(12, 0), dt.time(20, 0), break_min=60),
    ShiftTemplate("C", dt.time(20, 0), dt.time(22, 0), on_site=False),
]


def open_slots(day: dt.date) -> list[dt.datetime]:
    """Interval starts (UTC) of the opening hours 08:00–01:00 of local `day`."""
    z = zone(TZ)
    first = dt.datetime.combine(day, dt.time(8), tzinfo=z)
    return [(first + dt.timedelta(minutes=STEP_MIN * i)).astimezone(dt.UTC) for i in range(34)]


def profile(local: dt.datetime) -> float:
    """Relative call volume: a double daily peak on a base load."""
    h = local.hour + local.minute / 60 + STEP_MIN / 120
    if h < 8:
        h += 24

    def peak(c: float, w: float) -> float:
        return math.exp(-(((h - c) / w) ** 2) / 2)

    weekend = 0.85 if local.weekday() >= 5 else 1.0
    return weekend * (0.25 + 1.0 * peak(10.5, 1.4) + 0.8 * peak(20.5, 1.3))


def requirement(scale: float, days: list[dt.date]) -> Requirement:
    """Erlang C requirement per interval and queue for a calls-per-interval scale."""
    z = zone(TZ)
    needed: dict[dt.datetime, dict[str, int]] = {}
    for day in days:
        for at in open_slots(day):
            calls = scale * profile(at.astimezone(z))
            needed[at] = {
                "service": required_agents(0.6 * calls, AHT_S, STEP_MIN * 60, 0.8, 20),
                "sales": required_agents(0.4 * calls, AHT_S, STEP_MIN * 60, 0.8, 20),
            }
    return reinforce(
        Requirement(STEP_MIN, needed), Rules(holidays=HOLIDAYS, holiday_reinforcement=1.25), TZ
    )


def instance(
    n_agents: int, weeks: int, seed: int
) -> tuple[list[Agent], Site, Horizon, Requirement, Rules]:
    """Generate one B5 instance."""
    rng = random.Random(seed * 1000 + n_agents)
    horizon = Horizon(START, 7 * weeks)
    days = horizon.dates()
    z = zone(TZ)
    agents: list[Agent] = []
    for i in range(n_agents):
        r = rng.random()
        skills = frozenset(
            {"service"} if r < 0.45 else {"sales"} if r < 0.75 else {"service", "sales"}
        )
        leave: frozenset[dt.date] = frozenset()
        if rng.random() < 0.30:
            first = rng.randrange(len(days))
            leave = frozenset(days[first : first + rng.randint(2, 5)])
        unavailable: tuple[Interval, ...] = ()
        if rng.random() < 0.10:
            wd = rng.randrange(7)
            unavailable = tuple(
                Interval(
                    dt.datetime.combine(d, dt.time(18), tzinfo=z).astimezone(dt.UTC),
                    dt.datetime.combine(d, dt.time(23), tzinfo=z).astimezone(dt.UTC),
                )
                for d in days
                if d.weekday() == wd
            )
        flags = frozenset({FLAG_NO_LATE}) if rng.random() < 0.10 else frozenset()
        agents.append(Agent(f"a{i:03d}", skills, leave=leave, unavailable=unavailable, flags=flags))
    # Capacity in agent-intervals: 5 shifts a week of ~17.5 covered intervals each, less leave.
    shifts = sum(5 * weeks - len(a.leave) * 5 / 7 for a in agents)
    target = 0.65 * shifts * 17.5
    lo, hi = 0.1, 1000.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if requirement(mid, days).total() < target:
            lo = mid
        else:
            hi = mid
    req = requirement(lo, days)
    onsite_peak = max(sum(per.values()) for per in req.needed.values())
    site = Site(seats=math.ceil(1.0 * onsite_peak), tz=TZ)
    rules = Rules(holidays=HOLIDAYS, holiday_reinforcement=1.25)
    return agents, site, horizon, req, rules
