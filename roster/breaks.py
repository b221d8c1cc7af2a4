"""Break plan: place each shift's break where the queue can best spare the agent (pure).

A template says how long its break is; this module says when. Shifts are taken in start order
and each break goes to the start time, on the requirement's interval grid and inside the
allowed window of the shift, that leaves the most agents above the requirement of the
agent's queue over the break. Breaks already placed count, so colleagues on the same shift
are staggered instead of all leaving the phones at once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence

from roster.model import Agent, Horizon, Requirement, Roster, ShiftTemplate, Site, rostered_shifts

BreakKey = tuple[str, dt.date]  # (agent id, local start day of the shift)
# By default no break in the first or the last two hours of a shift, when the shift allows it.
EDGE = dt.timedelta(hours=2)


def _slots(
    start: dt.datetime,
    end: dt.datetime,
    length: dt.timedelta,
    step: dt.timedelta,
    edge: dt.timedelta,
) -> list[dt.datetime]:
    """Candidate break starts: on the grid, `edge` away from both ends.

    A shift too short for both edges gets starts anywhere inside it.
    """
    first, last = start + edge, end - edge - length
    if last < first:  # a short shift: anywhere inside it
        first, last = start, end - length
    if last < first:
        return []
    # Align to the grid counted from the shift start (shifts start on the grid in practice).
    out, at = [], first
    offset = (at - start) % step
    if offset:
        at += step - offset
    while at <= last:
        out.append(at)
        at += step
    return out or [first]


def place_breaks(
    roster: Roster,
    agents: Sequence[Agent],
    templates: Mapping[str, ShiftTemplate],
    site: Site,
    horizon: Horizon,
    requirement: Requirement,
    edge: dt.timedelta = EDGE,
) -> dict[BreakKey, dt.datetime]:
    """Break start (aware UTC) for every rostered shift with a break, staggered against demand."""
    step = dt.timedelta(minutes=requirement.interval_min)
    shifts: list[tuple[dt.datetime, dt.datetime, str, dt.date, str, dt.timedelta]] = []
    staffed: Counter[tuple[dt.datetime, str]] = Counter()
    for agent_id, day, t, span in rostered_shifts(roster, agents, templates, site, horizon):
        skill = roster.queues.get(agent_id, {}).get(day, "")
        at = span.start
        while at < span.end:
            staffed[(at, skill)] += 1
            at += step
        if t.break_min > 0:
            shifts.append(
                (span.start, span.end, agent_id, day, skill, dt.timedelta(minutes=t.break_min))
            )
    shifts.sort()
    away: Counter[tuple[dt.datetime, str]] = Counter()
    out: dict[BreakKey, dt.datetime] = {}

    def cells(at: dt.datetime, length: dt.timedelta) -> list[dt.datetime]:
        # Grid cells the break touches (a cell counts when the break overlaps it at all).
        first = at - (at - at.replace(minute=0, second=0, microsecond=0)) % step
        out_: list[dt.datetime] = []
        c = first
        while c < at + length:
            out_.append(c)
            c += step
        return out_

    for start, end, agent_id, day, skill, length in shifts:
        best: tuple[float, dt.datetime] | None = None
        for at in _slots(start, end, length, step, edge):
            spare = min(
                staffed[(c, skill)] - away[(c, skill)] - requirement.needed.get(c, {}).get(skill, 0)
                for c in cells(at, length)
            )
            # Most spare agents wins; on a tie the earlier slot (a steady rhythm for the agent).
            if best is None or spare > best[0]:
                best = (spare, at)
        if best is None:
            continue
        at = best[1]
        for c in cells(at, length):
            away[(c, skill)] += 1
        out[(agent_id, day)] = at
    return out
