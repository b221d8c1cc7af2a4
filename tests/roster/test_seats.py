from __future__ import annotations

import datetime as dt

import pytest

from roster.model import Agent, Horizon, Roster, ShiftTemplate, Site
from roster.seats import SeatPlanError, assign_seats

TZ = "Asia/Shanghai"
MON = dt.date(2026, 3, 2)
WEEK = Horizon(MON, 7)
EARLY = ShiftTemplate("E", dt.time(8), dt.time(17, 30))
LATE = ShiftTemplate("L", dt.time(16), dt.time(1), late=True)
MORNING = ShiftTemplate("M", dt.time(8), dt.time(16))
HOME = ShiftTemplate("C", dt.time(20), dt.time(22), on_site=False)
TEMPLATES = {t.code: t for t in (EARLY, LATE, MORNING, HOME)}


def _roster(rows: dict[str, str]) -> Roster:
    return Roster(
        {
            a: {MON + dt.timedelta(days=i): (None if c == "." else c) for i, c in enumerate(codes)}
            for a, codes in rows.items()
        }
    )


def _overlapping_share_no_seat(roster: Roster, seats: dict[tuple[str, dt.date], int]) -> None:
    spans = [(TEMPLATES[roster.shift(a, d)].span(d, TZ), s) for (a, d), s in seats.items()]  # type: ignore[index]
    for i, (x, sx) in enumerate(spans):
        for y, sy in spans[i + 1 :]:
            assert not (x.overlaps(y) and sx == sy)


def test_overlapping_shifts_get_different_seats_and_home_shifts_none() -> None:
    roster = _roster({"a": "E......", "b": "L......", "c": "C......"})
    seats = assign_seats(roster, [Agent("a"), Agent("b"), Agent("c")], TEMPLATES, Site(2, TZ), WEEK)
    assert seats == {("a", MON): 1, ("b", MON): 2}  # 16:00-17:30 overlap; C is from home


def test_a_relief_takes_the_seat_freed_at_the_same_instant() -> None:
    # M ends at 16:00 when L starts: one seat is enough for both.
    roster = _roster({"a": "M......", "b": "L......"})
    seats = assign_seats(roster, [Agent("a"), Agent("b")], TEMPLATES, Site(1, TZ), WEEK)
    assert seats == {("a", MON): 1, ("b", MON): 1}


def test_agents_keep_their_seat_from_day_to_day_and_across_a_republish() -> None:
    roster = _roster({"a": "EEEEE..", "b": "EEEEE..", "c": "LLLLL.."})
    agents = [Agent("a"), Agent("b"), Agent("c")]
    seats = assign_seats(roster, agents, TEMPLATES, Site(3, TZ), WEEK)
    _overlapping_share_no_seat(roster, seats)
    for agent in "abc":
        assert len({s for (a, _), s in seats.items() if a == agent}) == 1
    # The previous plan put b in seat 3 on Monday: it stays there when the roster is re-seated.
    moved = {**seats, ("b", MON): 3, ("c", MON): 2}
    again = assign_seats(roster, agents, TEMPLATES, Site(3, TZ), WEEK, previous=moved)
    assert again[("b", MON)] == 3 and again[("c", MON)] == 2


def test_more_agents_on_site_than_seats_is_refused() -> None:
    roster = _roster({"a": "E......", "b": "E......"})
    with pytest.raises(SeatPlanError):
        assign_seats(roster, [Agent("a"), Agent("b")], TEMPLATES, Site(1, TZ), WEEK)
