"""Hard-rule validator: every rejected roster names the rule (stable id) it breaks."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from roster.model import (
    FLAG_NO_LATE,
    FLAG_NO_WEEKEND,
    UTC,
    Agent,
    Horizon,
    Interval,
    Requirement,
    Roster,
    Rules,
    ShiftTemplate,
    Site,
    rostered_shifts,
    zone,
)

# Stable rule ids. The engine reports the id and the fields its message needs (see each call
# site); the console words them in the reader's language (catalog keys "rule.<id>").
RULE_IDS: tuple[str, ...] = (
    "max-hours-week",
    "min-rest",
    "max-consecutive-days",
    "rest-days-month",
    "max-late-week",
    "seat-limit",
    "leave",
    "availability",
    "skill",
    "template",
    "duty",
)

Param = str | int | float


@dataclass(frozen=True)
class Violation:
    """One broken hard rule: stable rule id, who, which local day, and the fields that explain
    it (hours, limits, codes...), named as in the rule's message."""

    rule_id: str
    agent_id: str
    day: dt.date
    params: Mapping[str, Param] = field(default_factory=dict)


def violation(rule_id: str, agent_id: str, day: dt.date, **params: Param) -> Violation:
    """Build a Violation of a known rule with the fields its message needs."""
    if rule_id not in RULE_IDS:
        raise ValueError(f"unknown rule id {rule_id}")
    return Violation(rule_id, agent_id, day, params)


def week_of(day: dt.date, week_start: int = 0) -> dt.date:
    """The first day of the calendar week containing `day`."""
    return day - dt.timedelta(days=(day.weekday() - week_start) % 7)


def required_rest_days(year: int, month: int, horizon: Horizon, rules: Rules) -> int:
    """Rest days required in a month, prorated (rounded up) when the horizon covers part of it."""
    month_len = calendar.monthrange(year, month)[1]
    covered = sum(1 for d in horizon.dates() if (d.year, d.month) == (year, month))
    if covered >= month_len:
        return rules.min_rest_days_per_month
    # Rounded to the nearest day (halves up): a 4-week roster inside a 31-day month still needs
    # 3 (2.7), a week needs 1 (0.7), but the single day of a month that a roster starting on
    # its 30th touches needs none (0.1): that month's rest days lie outside the horizon.
    return min(covered, math.floor(rules.min_rest_days_per_month * covered / month_len + 0.5))


def months_of(horizon: Horizon) -> list[tuple[int, int]]:
    """The (year, month) pairs the horizon touches, in order."""
    out: list[tuple[int, int]] = []
    for d in horizon.dates():
        if not out or out[-1] != (d.year, d.month):
            out.append((d.year, d.month))
    return out


def rest_hours(first: Interval, second: Interval) -> float:
    """Real hours between the end of one shift and the start of the next."""
    return (second.start - first.end).total_seconds() / 3600


def template_block(
    agent: Agent, template: ShiftTemplate, day: dt.date, site: Site
) -> tuple[str, str] | None:
    """Why an agent may never work `template` on `day` (rule id, detail), or None if allowed."""
    if day in agent.leave:
        return ("leave", "")
    if template.late and FLAG_NO_LATE in agent.flags:
        return ("availability", "contract: no late shifts")
    if day.weekday() >= 5 and FLAG_NO_WEEKEND in agent.flags:
        return ("availability", "contract: no weekends")
    span = template.span(day, site.tz)
    for u in agent.unavailable:
        if u.overlaps(span):
            return ("availability", f"{u.start.isoformat()}–{u.end.isoformat()}")
    if template.skills and not (template.skills & agent.skills):
        return ("skill", ",".join(sorted(template.skills)))
    return None


def agent_violations(
    agent: Agent,
    days: Mapping[dt.date, str | None],
    templates: Mapping[str, ShiftTemplate],
    rules: Rules,
    site: Site,
    horizon: Horizon,
    queues: Mapping[dt.date, str] | None = None,
) -> list[Violation]:
    """Every per-agent hard-rule violation in one agent's row of the roster."""
    out: list[Violation] = []
    worked: dict[dt.date, ShiftTemplate] = {}
    for day in horizon.dates():
        code = days.get(day)
        if code is None:
            continue
        t = templates.get(code)
        if t is None:
            out.append(violation("template", agent.id, day, code=code))
            continue
        worked[day] = t
        block = template_block(agent, t, day, site)
        if block is not None:
            rid, why = block
            out.append(violation(rid, agent.id, day, why=why, code=code))
        queue = (queues or {}).get(day)
        if queue is not None and (queue not in agent.skills or not t.serves(queue)):
            out.append(violation("skill", agent.id, day, code=code, why=f"queue {queue}"))

    # Shifts worked just before the horizon count for rest, runs and the first week's hours.
    prior = {d: templates[c] for d, c in agent.before(horizon.start).items() if c in templates}
    limit_h = min(agent.max_hours_week, rules.max_hours_week)
    week_minutes: dict[dt.date, int] = {}
    week_late: dict[dt.date, int] = {}
    for day, t in sorted({**prior, **worked}.items()):
        wk = week_of(day, rules.week_start)
        before = week_minutes.get(wk, 0)
        week_minutes[wk] = before + t.paid_minutes(day, site.tz)
        if day not in worked:
            week_late[wk] = week_late.get(wk, 0) + int(t.late)
            continue
        # Report once per week, on the shift that pushes it over the limit.
        if before <= limit_h * 60 < week_minutes[wk]:
            out.append(
                violation(
                    "max-hours-week",
                    agent.id,
                    day,
                    hours=week_minutes[wk] / 60,
                    week=wk.isoformat(),
                    limit=limit_h,
                )
            )
        if t.late:
            week_late[wk] = week_late.get(wk, 0) + 1
            cap = rules.max_late_shifts_per_week
            if cap is not None and week_late[wk] == cap + 1:
                out.append(
                    violation(
                        "max-late-week",
                        agent.id,
                        day,
                        count=week_late[wk],
                        week=wk.isoformat(),
                        limit=cap,
                    )
                )

    # Shifts are shorter than a day, so only the next two days can come within the rest time.
    for day, t in {**prior, **worked}.items():
        for k in (1, 2):
            nxt = day + dt.timedelta(days=k)
            if nxt in worked:
                rest = rest_hours(t.span(day, site.tz), worked[nxt].span(nxt, site.tz))
                if rest < rules.min_rest_h:
                    out.append(
                        violation("min-rest", agent.id, nxt, rest=rest, limit=rules.min_rest_h)
                    )

    run = agent.run_before(horizon.start)
    for i, day in enumerate(horizon.dates()):
        run = run + 1 if day in worked else 0
        # Once per run: where it passes the limit, or on day one if it came in past it.
        if run == rules.max_consecutive_days + 1 or (i == 0 and run > rules.max_consecutive_days):
            out.append(
                violation(
                    "max-consecutive-days",
                    agent.id,
                    day,
                    days=run,
                    limit=rules.max_consecutive_days,
                )
            )

    for year, month in months_of(horizon):
        in_month = [d for d in horizon.dates() if (d.year, d.month) == (year, month)]
        rest = sum(1 for d in in_month if d not in worked)
        need = required_rest_days(year, month, horizon, rules)
        if rest < need:
            out.append(
                violation(
                    "rest-days-month",
                    agent.id,
                    in_month[-1],
                    rest=rest,
                    month=f"{year}-{month:02d}",
                    limit=need,
                )
            )
    return out


def seat_violations(
    roster: Roster,
    agents: Sequence[Agent],
    templates: Mapping[str, ShiftTemplate],
    site: Site,
    horizon: Horizon,
) -> list[Violation]:
    """Instants when more agents are on site than the site has seats (exact event sweep)."""
    events: list[tuple[dt.datetime, int, str]] = []
    for agent_id, _, t, s in rostered_shifts(roster, agents, templates, site, horizon):
        if t.on_site:
            events.append((s.start, 1, agent_id))
            events.append((s.end, -1, agent_id))
    # Ends sort before starts at the same instant: a relief may take the seat just freed.
    events.sort(key=lambda e: (e[0], e[1]))
    out: list[Violation] = []
    count = 0
    over = False
    for at, delta, agent_id in events:
        count += delta
        if count > site.seats and not over:
            local = at.astimezone(zone(site.tz))
            out.append(
                violation(
                    "seat-limit",
                    agent_id,
                    local.date(),
                    count=count,
                    at=local.strftime("%Y-%m-%d %H:%M"),
                    limit=site.seats,
                )
            )
        over = count > site.seats
    return out


def duty_violations(roster: Roster, horizon: Horizon) -> list[Violation]:
    """Extra duties given to agents who do not work that day."""
    out: list[Violation] = []
    for duty, per_day in roster.duties.items():
        for day, agent_id in per_day.items():
            if day in horizon and roster.shift(agent_id, day) is None:
                out.append(violation("duty", agent_id, day, duty=duty))
    return out


def validate(
    roster: Roster,
    agents: Sequence[Agent],
    templates: Mapping[str, ShiftTemplate] | Iterable[ShiftTemplate],
    rules: Rules,
    site: Site,
    horizon: Horizon,
) -> list[Violation]:
    """Every hard-rule violation of `roster`; an empty list means the roster is acceptable."""
    tmap = templates if isinstance(templates, Mapping) else {t.code: t for t in templates}
    out: list[Violation] = []
    for a in agents:
        out.extend(
            agent_violations(
                a,
                roster.assignments.get(a.id, {}),
                tmap,
                rules,
                site,
                horizon,
                roster.queues.get(a.id),
            )
        )
    out.extend(seat_violations(roster, agents, tmap, site, horizon))
    out.extend(duty_violations(roster, horizon))
    return out


def reinforce(requirement: Requirement, rules: Rules, tz: str) -> Requirement:
    """The requirement with public-holiday intervals multiplied by the reinforcement factor."""
    if not rules.holidays:
        return requirement
    z = zone(tz)
    needed: dict[dt.datetime, dict[str, int]] = {}
    for at, per in requirement.needed.items():
        holiday = at.astimezone(z).date() in rules.holidays
        needed[at] = {
            s: math.ceil(n * rules.holiday_reinforcement) if holiday else n for s, n in per.items()
        }
    return Requirement(requirement.interval_min, needed)


def local_midnight_utc(day: dt.date, tz: str) -> dt.datetime:
    """Local midnight of `day` as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone(tz)).astimezone(UTC)
