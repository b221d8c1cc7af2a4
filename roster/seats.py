"""Seat plan: give every on-site shift a workstation so that no two overlapping shifts share one.

Shifts are intervals in time, so this is interval partitioning: taking shifts by start time and
giving each a seat free at that moment never needs more seats than the largest number of
agents on site at once (the seat-limit rule already keeps that within the site's seats). Among
the free seats a shift gets the one it had before (a republished or swapped roster keeps people
where they were), else the one its agent used last, else the lowest number.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping, Sequence

from roster.model import Agent, Horizon, Roster, ShiftTemplate, Site, rostered_shifts

SeatKey = tuple[str, dt.date]  # (agent id, local start day of the shift)


class SeatPlanError(ValueError):
    """More agents on site at one instant than the site has seats."""


def assign_seats(
    roster: Roster,
    agents: Sequence[Agent],
    templates: Mapping[str, ShiftTemplate],
    site: Site,
    horizon: Horizon,
    previous: Mapping[SeatKey, int] | None = None,
) -> dict[SeatKey, int]:
    """Seat number (1..site.seats) for every on-site shift of the roster at this site."""
    shifts = sorted(
        (span.start, span.end, agent_id, day)
        for agent_id, day, t, span in rostered_shifts(roster, agents, templates, site, horizon)
        if t.on_site
    )
    prev = dict(previous or {})
    free = set(range(1, site.seats + 1))
    busy: list[tuple[dt.datetime, int]] = []  # (end, seat), earliest end first
    last_seat: dict[str, int] = {}
    out: dict[SeatKey, int] = {}
    for start, end, agent_id, day in shifts:
        # A seat freed at this very instant may be taken by the relief starting now.
        while busy and busy[0][0] <= start:
            free.add(heapq.heappop(busy)[1])
        if not free:
            local = start.astimezone(dt.UTC).isoformat()
            raise SeatPlanError(
                f"no free seat for {agent_id} at {local}: "
                f"more agents on site than {site.seats} seats"
            )
        wanted = (prev.get((agent_id, day)), last_seat.get(agent_id))
        seat = next((s for s in wanted if s is not None and s in free), min(free))
        free.discard(seat)
        heapq.heappush(busy, (end, seat))
        last_seat[agent_id] = seat
        out[(agent_id, day)] = seat
    return out
