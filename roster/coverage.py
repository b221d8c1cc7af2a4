"""Sealed coverage: within opening hours every interval must be covered by a rostered shift."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from roster.model import UTC, Horizon, Interval, Roster, ShiftTemplate, Site, zone


@dataclass(frozen=True)
class Gap:
    """A run of opening-hours intervals that no rostered shift covers ([start, end) in UTC)."""

    start: dt.datetime
    end: dt.datetime
    local_day: dt.date  # the opening day (local) the gap belongs to

    @property
    def minutes(self) -> int:
        """Length of the gap in minutes."""
        return int((self.end - self.start).total_seconds() // 60)


def opening_span(day: dt.date, open_from: dt.time, open_to: dt.time, tz: str) -> Interval:
    """Opening hours of local `day` in UTC.

    open_to <= open_from runs past midnight (equal = 24 h).
    """
    z = zone(tz)
    end_day = day + dt.timedelta(days=1) if open_to <= open_from else day
    return Interval(
        dt.datetime.combine(day, open_from, tzinfo=z).astimezone(UTC),
        dt.datetime.combine(end_day, open_to, tzinfo=z).astimezone(UTC),
    )


def find_gaps(
    roster: Roster,
    templates: Mapping[str, ShiftTemplate],
    site: Site,
    horizon: Horizon,
    open_from: dt.time = dt.time(0),
    open_to: dt.time = dt.time(0),
    interval_min: int = 30,
) -> list[Gap]:
    """Every interval of opening hours not covered by any rostered shift, merged into runs.

    7x24 is open_from == open_to (default); 09:00–24:00 is open_from=09:00, open_to=00:00.
    Shifts from the day before the horizon are unknown, so they are taken as absent.
    """
    spans: list[Interval] = []
    for per_day in roster.assignments.values():
        for day, code in per_day.items():
            t = templates.get(code) if code else None
            if t is not None:
                spans.append(t.span(day, site.tz))
    spans.sort(key=lambda s: s.start)
    step = dt.timedelta(minutes=interval_min)
    gaps: list[Gap] = []
    for day in horizon.dates():
        window = opening_span(day, open_from, open_to, site.tz)
        at = window.start
        while at < window.end:
            cell = Interval(at, min(at + step, window.end))
            # A cell is sealed when the union of shifts covers it: shifts "join end to end".
            if not _covered(cell, spans):
                if gaps and gaps[-1].end == cell.start and gaps[-1].local_day == day:
                    gaps[-1] = Gap(gaps[-1].start, cell.end, day)
                else:
                    gaps.append(Gap(cell.start, cell.end, day))
            at = cell.end
    return gaps


def _covered(cell: Interval, spans: list[Interval]) -> bool:
    reach = cell.start
    for s in spans:
        if s.start > reach:
            break
        if s.end > reach:
            reach = s.end
            if reach >= cell.end:
                return True
    return reach >= cell.end
