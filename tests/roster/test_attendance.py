from __future__ import annotations

import datetime as dt

import pytest

from console.attendance.schemas import entry_detail
from roster.adherence import ShiftAdherence, StateEntry, adherence, scheduled_shifts
from roster.attendance import (
    AttendancePolicy,
    LedgerEntry,
    level,
    monthly_ledger,
    monthly_ledgers,
)
from roster.model import Horizon, Roster, ShiftTemplate, Site, zone

TZ = "Asia/Shanghai"
SH = zone(TZ)
DAY_SHIFT = ShiftTemplate("D", dt.time(9), dt.time(18), break_min=60)
LATE = ShiftTemplate("L", dt.time(16), dt.time(1), late=True)
TEMPLATES = {t.code: t for t in (DAY_SHIFT, LATE)}
SITE = Site(seats=5, tz=TZ)
NOV = Horizon(dt.date(2026, 11, 1), 30)


def nov(d: int) -> dt.date:
    return dt.date(2026, 11, d)


def at(day: dt.date, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=SH)


WEEKDAYS = [d for d in NOV if d.weekday() < 5]  # 21 weekdays in November 2026


def month_results() -> list[ShiftAdherence]:
    """A scripted November for agents A (perfect), B (late/absent) and C (logouts, leave)."""
    roster = Roster({a: {d: "D" for d in WEEKDAYS} for a in "ABC"})
    shifts = scheduled_shifts(roster, TEMPLATES, SITE, NOV)
    # Who logs in how many minutes late, and who does not come at all.
    late = {("B", nov(3)): 10, ("B", nov(10)): 10, ("B", nov(17)): 45}
    missing = {("B", nov(24)), ("C", nov(25))}  # C is on approved leave on the 25th
    outs = {("C", nov(4)), ("C", nov(11)), ("C", nov(18))}  # 5-minute logouts at 11:00
    entries: list[StateEntry] = []
    for d in WEEKDAYS:
        for a in "ABC":
            if (a, d) in missing:
                continue
            # On-time agents log in 2 minutes early; late ones exactly that many minutes late.
            early = dt.timedelta(minutes=0 if (a, d) in late else 2)
            login = at(d, 9, late.get((a, d), 0)) - early
            entries.append(StateEntry(a, login, "available"))
            if (a, d) in outs:
                entries += [
                    StateEntry(a, at(d, 11), "offline"),
                    StateEntry(a, at(d, 11, 5), "available"),
                ]
            entries.append(StateEntry(a, at(d, 18, 1), "offline"))
    return adherence(shifts, entries)


def test_the_scripted_month_gives_the_hand_computed_ledgers() -> None:
    results = month_results()
    got = monthly_ledgers(results, TZ, 2026, 11, leave={"C": {nov(25)}}, swaps={"A": 4, "C": 5})
    assert sorted(got) == ["A", "B", "C"]

    a = got["A"]
    assert (a.entries, a.score, a.level) == ((), 10.0, None)

    b = got["B"]
    assert [(e.day, e.kind, e.points) for e in b.entries] == [
        (nov(3), "late", -0.5),
        (nov(10), "late", -0.5),
        (nov(17), "absence-late", -2.0),
        (nov(24), "absence", -5.0),
    ]
    assert b.score == 2.0
    assert b.level == "penalty"
    assert b.entries[0] == LedgerEntry(nov(3), "late", -0.5, {"code": "D", "late": 10.0})
    # The console words each deduction in the reader's language.
    assert entry_detail(b.entries[0], "en") == "10 min late for shift D"
    assert entry_detail(b.entries[0], "zh-CN") == "班次 D 迟到 10 分钟"
    assert entry_detail(b.entries[2], "en") == (
        "45 min late for shift D (over 30 min counts as absence)"
    )
    assert entry_detail(b.entries[3], "zh-CN") == "班次 D 无批准假期缺勤"

    c = got["C"]
    assert [(e.day, e.kind, e.points) for e in c.entries] == [
        (nov(18), "logouts", -5.0),
        (nov(30), "excess-swap", -5.0),
    ]
    assert entry_detail(c.entries[0], "en") == (
        "logged out during scheduled shifts 3 times this month (3rd on shift D)"
    )
    assert entry_detail(c.entries[1], "en") == (
        "shift swap 5 this month exceeds the 4 allowed (counts as absence)"
    )
    assert c.score == 0.0
    assert c.level == "penalty"


def test_without_approved_leave_the_missing_day_is_an_absence() -> None:
    c = monthly_ledger("C", 2026, 11, month_results(), TZ)
    assert [(e.day, e.kind, e.points) for e in c.entries] == [
        (nov(18), "logouts", -5.0),
        (nov(25), "absence", -5.0),
    ]
    assert (c.score, c.level) == (0.0, "penalty")


def test_severe_after_three_months_at_or_below_the_penalty_threshold() -> None:
    results = month_results()
    b = monthly_ledger("B", 2026, 11, results, TZ, previous_scores=[9.0, 1.5, 2.0])
    assert (b.score, b.level) == (2.0, "severe")
    assert monthly_ledger("B", 2026, 11, results, TZ, previous_scores=[1.5, 2.5]).level == (
        "penalty"
    )
    assert level(2.0, [1.0, 2.0]) == "severe"
    assert level(2.0, [0.0]) == "penalty"  # only two months running
    assert level(2.1, [0.0, 0.0]) == "warning"
    assert level(5.0) == "warning"
    assert level(5.5) is None
    assert level(1.0, [2.0], AttendancePolicy(severe_months=2)) == "severe"


def test_every_number_is_policy() -> None:
    results = month_results()
    # A 10-minute grace: B's 10-minute lates no longer count (late means *more than* grace).
    b = monthly_ledger("B", 2026, 11, results, TZ, policy=AttendancePolicy(late_grace_min=10))
    assert [e.kind for e in b.entries] == ["absence-late", "absence"]
    assert (b.score, b.level) == (3.0, "warning")
    # Two logouts trigger, so C's three give one deduction; five swaps allowed.
    p = AttendancePolicy(logout_count=2, logout_points=1.0, max_swaps=5)
    c = monthly_ledger("C", 2026, 11, results, TZ, leave={nov(25)}, swaps=5, policy=p)
    assert [(e.day, e.kind, e.points) for e in c.entries] == [(nov(11), "logouts", -1.0)]
    assert c.score == 9.0


def test_every_third_logout_costs_points_again() -> None:
    roster = Roster({"A": {nov(2): "D", nov(3): "D"}})
    shifts = scheduled_shifts(roster, TEMPLATES, SITE, NOV)
    entries: list[StateEntry] = []
    for d in (nov(2), nov(3)):
        entries.append(StateEntry("A", at(d, 9), "available"))
        for h in (10, 11, 12):
            entries += [
                StateEntry("A", at(d, h), "offline"),
                StateEntry("A", at(d, h, 10), "available"),
            ]
    ledger = monthly_ledger("A", 2026, 11, adherence(shifts, entries), TZ)
    assert [(e.day, e.kind, e.points) for e in ledger.entries] == [
        (nov(2), "logouts", -5.0),
        (nov(3), "logouts", -5.0),
    ]
    assert entry_detail(ledger.entries[1], "zh-CN") == "本月当班期间登出 6 次(第 6 次在班次 D)"
    assert ledger.score == 0.0


def test_a_shift_crossing_midnight_counts_on_its_start_day() -> None:
    # 30 November 16:00 – 1 December 01:00; login 16:05, logged in to the end.
    roster = Roster({"D": {nov(30): "L"}})
    shifts = scheduled_shifts(roster, TEMPLATES, SITE, NOV)
    entries = [
        StateEntry("D", at(nov(30), 16, 5), "available"),
        StateEntry("D", at(dt.date(2026, 12, 1), 1), "offline"),
    ]
    [r] = adherence(shifts, entries)
    assert (r.scheduled_min, r.logged_in_min, r.late_start_min, r.early_leave_min) == (
        540.0,
        535.0,
        5.0,
        0.0,
    )
    nov_ledger = monthly_ledger("D", 2026, 11, [r], TZ)
    assert nov_ledger.entries == (LedgerEntry(nov(30), "late", -0.5, {"code": "L", "late": 5.0}),)
    assert nov_ledger.score == 9.5
    dec_ledger = monthly_ledger("D", 2026, 12, [r], TZ)
    assert (dec_ledger.entries, dec_ledger.score) == ((), 10.0)


def test_shifts_not_over_yet_are_not_judged() -> None:
    results = month_results()
    b = monthly_ledger("B", 2026, 11, results, TZ, until=at(nov(20), 12))
    assert [e.day for e in b.entries] == [nov(3), nov(10), nov(17)]
    assert b.score == 7.0


def test_listed_agents_without_shifts_keep_ten_points() -> None:
    got = monthly_ledgers([], TZ, 2026, 11, agents=["Z"])
    assert (got["Z"].score, got["Z"].entries, got["Z"].level) == (10.0, (), None)


@pytest.mark.parametrize("swaps, score", [(0, 10.0), (4, 10.0), (6, 0.0)])
def test_swaps_beyond_the_allowance_count_as_absences(swaps: int, score: float) -> None:
    ledger = monthly_ledger("A", 2026, 11, [], TZ, swaps=swaps)
    assert ledger.score == score
    assert all(e.kind == "excess-swap" and e.day == nov(30) for e in ledger.entries)
