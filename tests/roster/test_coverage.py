from __future__ import annotations

import datetime as dt

from roster.coverage import find_gaps
from roster.model import Horizon, Roster, ShiftTemplate, Site, zone

TZ = "Asia/Shanghai"
MON = dt.date(2026, 3, 2)
A = ShiftTemplate("A", dt.time(9), dt.time(17))
B = ShiftTemplate("B", dt.time(12), dt.time(20))
C = ShiftTemplate("C", dt.time(20), dt.time(22), on_site=False)
D = ShiftTemplate("D", dt.time(17), dt.time(0))
EARLY = ShiftTemplate("E", dt.time(8), dt.time(17, 30))
LATE = ShiftTemplate("L", dt.time(16), dt.time(1))
TEMPLATES = {t.code: t for t in (A, B, C, D, EARLY, LATE)}
SITE = Site(seats=5, tz=TZ)


def at(day: dt.date, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=zone(TZ)).astimezone(dt.UTC)


def roster(days: int, *codes: str) -> Roster:
    return Roster(
        {
            f"a{i}": {MON + dt.timedelta(days=d): code for d in range(days)}
            for i, code in enumerate(codes)
        }
    )


def test_a_b_c_leave_the_last_two_hours_of_a_nine_to_midnight_centre_open() -> None:
    gaps = find_gaps(
        roster(2, "A", "B", "C"), TEMPLATES, SITE, Horizon(MON, 2), dt.time(9), dt.time(0)
    )
    assert [(g.start, g.end, g.local_day) for g in gaps] == [
        (at(MON, 22), at(MON + dt.timedelta(days=1), 0), MON),
        (
            at(MON + dt.timedelta(days=1), 22),
            at(MON + dt.timedelta(days=2), 0),
            MON + dt.timedelta(days=1),
        ),
    ]
    assert gaps[0].minutes == 120


def test_shifts_that_join_end_to_end_seal_a_nine_to_midnight_centre() -> None:
    assert (
        find_gaps(roster(7, "A", "D"), TEMPLATES, SITE, Horizon(MON, 7), dt.time(9), dt.time(0))
        == []
    )


def test_a_missing_shift_on_one_day_is_flagged() -> None:
    r = roster(3, "A", "D")
    r.assignments["a1"][MON + dt.timedelta(days=1)] = None  # type: ignore[index]
    gaps = find_gaps(r, TEMPLATES, SITE, Horizon(MON, 3), dt.time(9), dt.time(0))
    tue = MON + dt.timedelta(days=1)
    assert [(g.start, g.end) for g in gaps] == [(at(tue, 17), at(tue + dt.timedelta(days=1), 0))]


def test_early_and_late_leave_the_night_open_in_a_seven_by_24_centre() -> None:
    gaps = find_gaps(roster(2, "E", "L"), TEMPLATES, SITE, Horizon(MON, 2))
    tue = MON + dt.timedelta(days=1)
    # The late shift of Monday covers Tuesday 00:00-01:00; nothing before 08:00.
    assert [(g.start, g.end) for g in gaps] == [(at(MON, 0), at(MON, 8)), (at(tue, 1), at(tue, 8))]
