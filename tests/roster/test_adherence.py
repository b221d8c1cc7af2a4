from __future__ import annotations

import ast
import datetime as dt
import sys
from pathlib import Path

import pytest

from roster.adherence import (
    ScheduledShift,
    StateEntry,
    adherence,
    current_adherence,
    scheduled_shifts,
)
from roster.model import UTC, Horizon, Roster, ShiftTemplate, Site, zone

TZ = "Asia/Shanghai"
SH = zone(TZ)
DAY = dt.date(2026, 11, 3)  # a Tuesday
EARLY = ShiftTemplate("E", dt.time(8), dt.time(17, 30), break_min=90)
LATE = ShiftTemplate("L", dt.time(16), dt.time(1), break_min=60, late=True)
A = ShiftTemplate("A", dt.time(9), dt.time(17))
TEMPLATES = {t.code: t for t in (EARLY, LATE, A)}
SITE = Site(seats=5, tz=TZ)


def at(day: dt.date, h: int, m: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, h, m, s, tzinfo=SH)


def shift(code: str = "A", agent: str = "a", day: dt.date = DAY) -> ScheduledShift:
    span = TEMPLATES[code].span(day, TZ)
    return ScheduledShift(agent, span.start, span.end, code)


def log(agent: str, *items: tuple[dt.datetime, str]) -> list[StateEntry]:
    return [StateEntry(agent, t, s) for t, s in items]


def test_scheduled_shifts_come_from_the_roster_in_real_time() -> None:
    roster = Roster({"b": {DAY: "L", DAY + dt.timedelta(1): None}, "a": {DAY: "E"}})
    got = scheduled_shifts(roster, TEMPLATES, SITE, Horizon(DAY, 2))
    assert got == [
        ScheduledShift(
            "a",
            dt.datetime(2026, 11, 3, 0, tzinfo=UTC),
            dt.datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
            "E",
        ),
        ScheduledShift(
            "b",
            dt.datetime(2026, 11, 3, 8, tzinfo=UTC),
            dt.datetime(2026, 11, 3, 17, tzinfo=UTC),
            "L",
        ),
    ]


def test_scheduled_shifts_reject_an_unknown_template() -> None:
    with pytest.raises(ValueError, match="unknown shift template X"):
        scheduled_shifts(Roster({"a": {DAY: "X"}}), TEMPLATES, SITE, Horizon(DAY, 1))


def test_scheduled_minutes_follow_dst_in_the_site_zone() -> None:
    # Europe/Berlin springs forward in the night of 28/29 March 2026: 22:00–06:00 is 7 h.
    night = ShiftTemplate("N", dt.time(22), dt.time(6))
    site = Site(seats=1, tz="Europe/Berlin")
    day = dt.date(2026, 3, 28)
    [x] = scheduled_shifts(Roster({"a": {day: "N"}}), {"N": night}, site, Horizon(day, 1))
    [r] = adherence([x], [])
    assert r.scheduled_min == 420.0


def test_logged_in_minutes_late_early_and_logouts_for_a_day_shift() -> None:
    entries = log(
        "a",
        (at(DAY, 8, 55), "available"),
        (at(DAY, 10), "offline"),
        (at(DAY, 10, 0, 30), "available"),  # 30 s out: below the 1-minute threshold
        (at(DAY, 11), "on_call"),  # logged-in to logged-in: no change
        (at(DAY, 12), "offline"),
        (at(DAY, 12, 5), "wrap_up"),  # 5 min out: a logout
        (at(DAY, 16, 30), "offline"),  # leaves 30 min early: also a logout
    )
    [r] = adherence([shift()], entries)
    assert r.scheduled_min == 480.0
    assert r.logged_in_min == 60 + 119.5 + 265
    assert r.adherence_pct == pytest.approx(100 * 444.5 / 480)
    assert r.late_start_min == 0.0
    assert r.early_leave_min == 30.0
    assert r.logouts == 2
    assert not r.absent


def test_logout_threshold_is_configurable_and_strict() -> None:
    entries = log(
        "a",
        (at(DAY, 9), "available"),
        (at(DAY, 10), "offline"),
        (at(DAY, 10, 1), "available"),  # exactly 1 min: not more than the default
        (at(DAY, 12), "offline"),
        (at(DAY, 12, 5), "available"),
        (at(DAY, 17, 10), "offline"),
    )
    assert adherence([shift()], entries)[0].logouts == 1
    assert adherence([shift()], entries, dt.timedelta(seconds=30))[0].logouts == 2
    assert adherence([shift()], entries, dt.timedelta(minutes=5))[0].logouts == 0


def test_login_before_the_shift_that_ended_does_not_hide_lateness() -> None:
    entries = log(
        "a",
        (at(DAY, 7), "available"),
        (at(DAY, 7, 30), "offline"),  # offline before the shift: not a logout
        (at(DAY, 9, 10), "not_ready"),
    )
    [r] = adherence([shift()], entries)
    assert r.late_start_min == 10.0
    assert r.early_leave_min == 0.0  # still logged in at the end
    assert r.logged_in_min == 470.0
    assert r.logouts == 0


def test_no_login_during_the_shift_is_an_absence() -> None:
    entries = log("a", (at(DAY, 17, 5), "available"), (at(DAY, 18), "offline"))
    [r] = adherence([shift(), shift(agent="b")], entries)[:1]
    assert (r.logged_in_min, r.adherence_pct, r.late_start_min, r.early_leave_min) == (
        0.0,
        0.0,
        None,
        None,
    )
    assert r.logouts == 0
    assert r.absent


def test_a_shift_crossing_midnight() -> None:
    entries = log(
        "a",
        (at(DAY, 16, 5), "available"),
        (at(DAY, 20), "on_call"),
        (at(DAY + dt.timedelta(1), 0, 30), "offline"),
    )
    [r] = adherence([shift("L")], entries)
    assert r.scheduled_min == 540.0
    assert r.logged_in_min == 505.0
    assert r.adherence_pct == pytest.approx(100 * 505 / 540)
    assert r.late_start_min == 5.0
    assert r.early_leave_min == 30.0
    assert r.logouts == 1


def test_entries_at_the_same_instant_last_one_wins_and_order_does_not_matter() -> None:
    entries = log(
        "a",
        (at(DAY, 17, 30), "offline"),
        (at(DAY, 9), "offline"),
        (at(DAY, 9), "available"),
        (at(DAY, 8), "offline"),
    )
    [r] = adherence([shift()], entries)
    assert (r.late_start_min, r.logged_in_min, r.logouts) == (0.0, 480.0, 0)


def test_results_are_per_agent_and_shift_in_order() -> None:
    d2 = DAY + dt.timedelta(1)
    entries = log("b", (at(DAY, 9), "available")) + log("a", (at(d2, 9, 3), "available"))
    got = adherence([shift(day=d2), shift(agent="b"), shift()], entries)
    assert [(r.shift.agent_id, r.shift.start, r.late_start_min) for r in got] == [
        ("a", at(DAY, 9), None),
        ("a", at(d2, 9), 3.0),
        ("b", at(DAY, 9), 0.0),
    ]


def test_current_adherence() -> None:
    shifts = [shift(agent="a"), shift(agent="b"), shift("L", agent="c")]
    now = at(DAY, 10)
    got = current_adherence(
        shifts, {"a": "on_call", "b": "offline", "c": "available", "d": "offline"}, now
    )
    assert {k: (v.scheduled, v.state, v.in_adherence) for k, v in got.items()} == {
        "a": (True, "on_call", True),
        "b": (True, "offline", False),
        "c": (False, "available", False),  # logged in while not rostered
        "d": (False, "offline", True),
    }
    assert got["a"].shift == shifts[0]
    # No state reported: offline.
    assert not current_adherence(shifts, {}, now)["a"].in_adherence
    # The end is exclusive.
    assert not current_adherence(shifts, {"a": "available"}, at(DAY, 17))["a"].scheduled


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        StateEntry("a", dt.datetime(2026, 11, 3, 9), "available")
    with pytest.raises(ValueError, match="unknown agent state"):
        StateEntry("a", at(DAY, 9), "lunch")
    with pytest.raises(ValueError, match="ends before"):
        ScheduledShift("a", at(DAY, 9), at(DAY, 9), "A")
    with pytest.raises(ValueError, match="aware"):
        current_adherence([], {}, dt.datetime(2026, 11, 3, 9))
    with pytest.raises(ValueError, match="unknown agent state"):
        current_adherence([], {"a": "away"}, at(DAY, 9))


def test_adherence_and_attendance_import_only_the_standard_library() -> None:
    root = Path(__file__).resolve().parents[2] / "roster"
    allowed = set(sys.stdlib_module_names) | {"roster"}
    for name in ("adherence.py", "attendance.py"):
        mods: set[str] = set()
        for node in ast.walk(ast.parse((root / name).read_text())):
            if isinstance(node, ast.Import):
                mods |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods.add(node.module.split(".")[0])
        assert mods <= allowed, name


def test_offline_during_the_planned_break_is_neither_a_logout_nor_missing_time() -> None:
    span = EARLY.span(DAY, TZ)
    lunch = ScheduledShift("a", span.start, span.end, "E", at(DAY, 12), at(DAY, 13, 30))
    entries = log(
        "a",
        (at(DAY, 8), "available"),
        (at(DAY, 12), "offline"),
        (at(DAY, 13, 30), "available"),
        (at(DAY, 17, 30), "offline"),
    )
    (r,) = adherence([lunch], entries)
    assert (
        r.logouts == 0
        and r.scheduled_min == 480
        and r.logged_in_min == 480
        and r.adherence_pct == 100
    )
    # Back 20 minutes after the break ends: that part is a logout, and missing time.
    late_back = log(
        "a",
        (at(DAY, 8), "available"),
        (at(DAY, 12), "offline"),
        (at(DAY, 13, 50), "available"),
        (at(DAY, 17, 30), "offline"),
    )
    (r,) = adherence([lunch], late_back)
    assert r.logouts == 1 and r.logged_in_min == 460
    # Staying on the desk through the break earns no extra minutes.
    (r,) = adherence([lunch], log("a", (at(DAY, 8), "available"), (at(DAY, 17, 30), "offline")))
    assert r.logged_in_min == 480 and r.adherence_pct == 100
    with pytest.raises(ValueError):
        ScheduledShift("a", span.start, span.end, "E", at(DAY, 7), at(DAY, 8))
