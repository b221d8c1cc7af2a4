from __future__ import annotations

import datetime as dt
import itertools

from roster.breaks import place_breaks
from roster.model import UTC, Agent, Horizon, Requirement, Roster, ShiftTemplate, Site, zone

TZ = "Asia/Shanghai"
MON = dt.date(2026, 3, 2)
DAY = Horizon(MON, 1)
SITE = Site(10, TZ)
EARLY = ShiftTemplate("E", dt.time(8), dt.time(17, 30), break_min=60)
SHORT = ShiftTemplate("S", dt.time(9), dt.time(12), break_min=30)
HOME = ShiftTemplate("C", dt.time(20), dt.time(22))
TEMPLATES = {t.code: t for t in (EARLY, SHORT, HOME)}


def local(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(MON, dt.time(hour, minute), tzinfo=zone(TZ)).astimezone(UTC)


def need(per_hour: dict[int, int]) -> Requirement:
    # Half-hour intervals, the same need in both halves of each listed hour.
    return Requirement(
        30, {local(h, m): {"general": n} for h, n in per_hour.items() for m in (0, 30)}
    )


def roster(*codes: str) -> tuple[Roster, list[Agent]]:
    agents = [Agent(f"a{i}") for i in range(len(codes))]
    assignments = {a.id: {MON: c} for a, c in zip(agents, codes, strict=True)}
    queues = {a.id: {MON: "general"} for a in agents}
    return Roster(assignments, queues), agents


def test_the_break_goes_where_demand_is_lowest_and_away_from_the_shift_ends() -> None:
    r, agents = roster("E")
    # Busy all day except 13:00-14:00.
    req = need({h: 1 for h in range(8, 18) if h != 13})
    breaks = place_breaks(r, agents, TEMPLATES, SITE, DAY, req)
    assert breaks == {("a0", MON): local(13)}


def test_colleagues_on_the_same_shift_are_staggered() -> None:
    r, agents = roster("E", "E", "E")
    req = need({h: 2 for h in range(8, 18)})  # three on, two needed: one may be away at a time
    breaks = place_breaks(r, agents, TEMPLATES, SITE, DAY, req)
    starts = sorted(breaks.values())
    assert len(starts) == 3
    for a, b in itertools.pairwise(starts):
        assert b - a >= dt.timedelta(hours=1)  # no two one-hour breaks overlap
    assert all(local(10) <= s <= local(14, 30) for s in starts)  # 2 h from either end


def test_a_short_shift_takes_its_break_inside_it_and_a_shift_without_break_none() -> None:
    r, agents = roster("S", "C")
    breaks = place_breaks(r, agents, TEMPLATES, SITE, DAY, need({}))
    assert set(breaks) == {("a0", MON)}
    assert local(9) <= breaks[("a0", MON)] <= local(11, 30)


def test_the_window_away_from_the_shift_ends_is_configurable() -> None:
    r, agents = roster("E")
    # Quietest at 09:00: outside the default window (2 h from the 08:00 start),
    # inside a 30-minute one.
    req = need({h: 1 for h in range(8, 18) if h != 9})
    assert place_breaks(r, agents, TEMPLATES, SITE, DAY, req) != {("a0", MON): local(9)}
    narrow = place_breaks(r, agents, TEMPLATES, SITE, DAY, req, dt.timedelta(minutes=30))
    assert narrow == {("a0", MON): local(9)}
