from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from roster.forecast import (
    ForecastError,
    ForecastRow,
    HistoryCall,
    adjust,
    build_forecast,
    day_slots,
    load_csv,
    to_csv,
)

SHANGHAI = "Asia/Shanghai"
BERLIN = "Europe/Berlin"

# Known weekday x hour profile (calls per 30-minute slot in week 0, before the trend):
# open 08:00-20:00, a morning and an afternoon peak, quieter weekends.
DAY_WEIGHT = [5, 4, 4, 4, 5, 2, 1]  # Monday .. Sunday


def slot_weight(weekday: int, minute: int) -> int:
    hour = minute // 60
    if not 8 <= hour < 20:
        return 0
    peak = 2 if hour in (10, 15) else 1
    return DAY_WEIGHT[weekday] * peak


def synthetic_history(
    start: date,
    weeks: int,
    tz: str,
    level: list[float],
    aht: dict[int, float] | None = None,
    skip: set[date] | None = None,
    extra: dict[date, int] | None = None,
) -> list[HistoryCall]:
    zone = ZoneInfo(tz)
    calls: list[HistoryCall] = []
    for d in range(7 * weeks):
        day = start - timedelta(days=7 * weeks - d)
        week = d // 7
        if skip and day in skip:
            continue
        for t, minute, _ in day_slots(day, zone, 30):
            count = round(slot_weight(day.weekday(), minute) * level[week])
            if extra and day in extra and slot_weight(day.weekday(), minute):
                count = extra[day]
            handle = (aht or {}).get(day.weekday(), 240.0)
            for i in range(count):
                calls.append(HistoryCall(t + timedelta(seconds=1800 * i / max(count, 1)), handle))
    return calls


def by_day(rows: list[ForecastRow], tz: str) -> dict[date, list[ForecastRow]]:
    zone = ZoneInfo(tz)
    out: dict[date, list[ForecastRow]] = defaultdict(list)
    for r in rows:
        out[r.start.astimezone(zone).date()].append(r)
    return out


def test_recovers_the_weekday_profile_and_extrapolates_a_linear_trend() -> None:
    start = date(2025, 3, 3)  # a Monday
    # +5 % of the first week's volume per week: 20, 21, ... 25 calls per weight unit.
    level = [float(20 + w) for w in range(6)]
    history = synthetic_history(start, 6, SHANGHAI, level, aht={0: 300.0, 5: 180.0})
    rows = build_forecast(history, start, 2, SHANGHAI, holidays=set())
    days = by_day(rows, SHANGHAI)
    assert len(days) == 14 and all(len(v) == 48 for v in days.values())
    zone = ZoneInfo(SHANGHAI)
    for day, day_rows in days.items():
        week = (day - start).days // 7
        expected_level = 26 + week  # the trend carried on into weeks 0 and 1
        for r in day_rows:
            local = r.start.astimezone(zone)
            minute = local.hour * 60 + local.minute
            assert r.calls == pytest.approx(
                slot_weight(day.weekday(), minute) * expected_level, abs=1e-6
            )
    monday = days[start]
    assert {r.aht_s for r in monday} == {300.0}
    assert {r.aht_s for r in days[start + timedelta(days=5)]} == {180.0}
    assert {r.aht_s for r in days[start + timedelta(days=2)]} == {240.0}
    assert all(r.start.tzinfo is UTC for r in rows)
    assert [r.start for r in rows] == sorted(r.start for r in rows)


def test_geometric_growth_is_followed_within_a_few_percent() -> None:
    start = date(2025, 3, 3)
    level = [20 * 1.05**w for w in range(6)]
    history = synthetic_history(start, 6, SHANGHAI, level)
    rows = build_forecast(history, start, 1, SHANGHAI, holidays=set())
    week_total = sum(r.calls for r in rows)
    standard_week = sum(slot_weight(d, m) for d in range(7) for m in range(0, 1440, 30))
    assert week_total == pytest.approx(standard_week * 20 * 1.05**6, rel=0.03)


def test_falling_volume_is_clamped_at_zero() -> None:
    start = date(2025, 3, 3)
    history = synthetic_history(start, 4, SHANGHAI, [12, 8, 4, 1])
    rows = build_forecast(history, start, 4, SHANGHAI, holidays=set())
    assert min(r.calls for r in rows) == 0.0
    assert sum(r.calls for r in by_day(rows, SHANGHAI)[start + timedelta(days=21)]) == 0.0


def test_holidays_are_left_out_of_the_profile_and_forecast_like_a_sunday() -> None:
    start = date(2025, 3, 3)
    strange = start - timedelta(days=12)  # a Wednesday with ten times the traffic
    history = synthetic_history(start, 6, SHANGHAI, [20.0] * 6, extra={strange: 200})
    off_in_forecast = start + timedelta(days=2)  # Wednesday of week 0
    rows = build_forecast(history, start, 1, SHANGHAI, holidays={strange, off_in_forecast})
    days = by_day(rows, SHANGHAI)
    zone = ZoneInfo(SHANGHAI)
    for day, day_rows in days.items():
        profile_day = 6 if day == off_in_forecast else day.weekday()
        for r in day_rows:
            local = r.start.astimezone(zone)
            assert r.calls == pytest.approx(
                slot_weight(profile_day, local.hour * 60 + local.minute) * 20
            )

    # The holiday factor scales the Sunday-like day; another weekday can be chosen.
    half = build_forecast(
        history,
        start,
        1,
        SHANGHAI,
        holidays={strange, off_in_forecast},
        holiday_factor=0.5,
        holiday_weekday=5,
    )
    saturday_total = sum(slot_weight(5, m) for m in range(0, 1440, 30)) * 20
    assert sum(r.calls for r in by_day(half, SHANGHAI)[off_in_forecast]) == pytest.approx(
        saturday_total / 2
    )

    # Without excluding it, the strange Wednesday leaks into the profile.
    leaky = build_forecast(history, start, 1, SHANGHAI, holidays=set())
    assert sum(r.calls for r in by_day(leaky, SHANGHAI)[off_in_forecast]) > sum(
        r.calls for r in days[start + timedelta(days=1)]
    )


def test_default_holidays_come_from_the_country_calendar() -> None:
    start = date(2025, 9, 29)  # Monday before the National Day holidays (Oct 1-8 2025)
    history = synthetic_history(start, 4, SHANGHAI, [20.0] * 4)
    rows = by_day(build_forecast(history, start, 1, SHANGHAI), SHANGHAI)
    sunday_total = sum(slot_weight(6, m) for m in range(0, 1440, 30)) * 20
    assert sum(r.calls for r in rows[date(2025, 10, 1)]) == pytest.approx(sunday_total)
    assert sum(r.calls for r in rows[date(2025, 9, 30)]) == pytest.approx(sunday_total * 4)
    none = by_day(build_forecast(history, start, 1, SHANGHAI, country=None), SHANGHAI)
    assert sum(r.calls for r in none[date(2025, 10, 1)]) == pytest.approx(sunday_total * 4)


def flat_history(first: date, last: date, tz: str) -> list[tuple[datetime, float | None]]:
    zone = ZoneInfo(tz)
    out: list[tuple[datetime, float | None]] = []
    d = first
    while d <= last:
        for t, _, _ in day_slots(d, zone, 30):
            out.append((t + timedelta(minutes=5), 120.0))  # one call in every real slot
            out.append((t + timedelta(minutes=20), None))  # and one abandoned call
        d += timedelta(days=1)
    return out


def test_dst_spring_forward_sunday_has_23_hours_of_slots() -> None:
    start = date(2025, 3, 24)  # the week holding Sunday 30 March 2025
    history = flat_history(start - timedelta(days=42), start - timedelta(days=1), BERLIN)
    rows = build_forecast(history, start, 1, BERLIN, country=None)
    days = by_day(rows, BERLIN)
    sunday = days[date(2025, 3, 30)]
    assert len(sunday) == 46
    assert sum(r.calls for r in sunday) == pytest.approx(46 * 2)
    local = [r.start.astimezone(ZoneInfo(BERLIN)).time() for r in sunday]
    assert time(2, 0) not in local and time(2, 30) not in local and time(3, 0) in local
    assert all(len(v) == 48 for d, v in days.items() if d != date(2025, 3, 30))
    assert {r.aht_s for r in rows} == {120.0}  # abandoned calls count as volume, not in AHT
    starts = [r.start for r in rows]
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(starts))


def test_dst_autumn_sunday_has_25_hours_and_the_repeated_slot_counts_twice() -> None:
    start = date(2025, 10, 20)
    history = flat_history(start - timedelta(days=42), start - timedelta(days=1), BERLIN)
    rows = build_forecast(history, start, 1, BERLIN, country=None, interval_min=15)
    sunday = by_day(rows, BERLIN)[date(2025, 10, 26)]
    assert len(sunday) == 100
    assert sum(r.calls for r in sunday) == pytest.approx(50 * 2)  # 1 call per 15 min, 25 h
    two_am = [r for r in sunday if r.start.astimezone(ZoneInfo(BERLIN)).time() == time(2, 0)]
    assert len(two_am) == 2 and two_am[1].start - two_am[0].start == timedelta(hours=1)


def test_history_across_dst_changes_keeps_a_flat_profile_flat() -> None:
    # The history holds both Berlin DST Sundays of 2025, with their 46 and 50 real slots.
    start = date(2025, 11, 3)
    history = flat_history(date(2025, 3, 3), start - timedelta(days=1), BERLIN)
    rows = build_forecast(history, start, 1, BERLIN, country=None)
    assert {round(r.calls, 9) for r in rows} == {2.0}


def test_build_forecast_rejects_bad_arguments() -> None:
    history = [HistoryCall(datetime(2025, 3, 1, 9, tzinfo=UTC), 100.0)]
    with pytest.raises(ValueError, match="interval_min must be 15 or 30"):
        build_forecast(history, date(2025, 3, 3), 1, SHANGHAI, interval_min=20)
    with pytest.raises(ValueError, match="unknown time zone"):
        build_forecast(history, date(2025, 3, 3), 1, "Mars/Olympus")
    with pytest.raises(ValueError, match="weeks must be a positive integer"):
        build_forecast(history, date(2025, 3, 3), 0, SHANGHAI)
    with pytest.raises(ValueError, match="aware datetime"):
        build_forecast([(datetime(2025, 3, 1, 9), 100.0)], date(2025, 3, 3), 1, SHANGHAI)
    with pytest.raises(ValueError, match="no calls before the forecast start"):
        build_forecast(history, date(2025, 2, 1), 1, SHANGHAI)
    with pytest.raises(ValueError, match="no handled calls"):
        build_forecast([(datetime(2025, 3, 1, 9, tzinfo=UTC), None)], date(2025, 3, 3), 1, SHANGHAI)
    with pytest.raises(ValueError, match="no public-holiday calendar"):
        build_forecast(history, date(2025, 3, 3), 1, SHANGHAI, country="XX")


# ---------------------------------------------------------------- CSV


def test_csv_round_trip_is_exact() -> None:
    start = date(2025, 3, 24)
    history = flat_history(start - timedelta(days=14), start - timedelta(days=1), BERLIN)
    rows = build_forecast(history, start, 1, BERLIN, country=None)
    rows = adjust(rows, rows[10].start, rows[20].start, 1 / 3)
    text = to_csv(rows)
    assert text.splitlines()[0] == "start,calls,aht_s"
    assert load_csv(text) == rows


def test_load_csv_reads_offsets_and_local_times() -> None:
    text = (
        "start,calls,aht_s\n"
        "2025-03-30T01:30:00Z,6,220\n"
        "2025-03-30T01:30:00+01:00,4,200\n"
        "2025-03-30T03:00,5.5,210\n"  # local wall clock, just after the spring-forward gap
        "\n"
    )
    rows = load_csv(text, tz=BERLIN)
    assert rows == [
        ForecastRow(datetime(2025, 3, 30, 0, 30, tzinfo=UTC), 4.0, 200.0),
        ForecastRow(datetime(2025, 3, 30, 1, 0, tzinfo=UTC), 5.5, 210.0),
        ForecastRow(datetime(2025, 3, 30, 1, 30, tzinfo=UTC), 6.0, 220.0),
    ]
    assert all(r.start.tzinfo is UTC for r in rows)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the CSV is empty"),
        ("when,calls,aht_s\n", 1, "header must be start,calls,aht_s"),
        (
            "start,calls,aht_s\n2025-03-03T08:00:00+08:00,12,200\n2025-03-03T08:30:00+08:00,abc,200\n",
            3,
            "calls 'abc' is not a number",
        ),
        (
            "start,calls,aht_s\n2025-03-03T08:00:00+08:00,12,-1\n",
            2,
            "aht_s must be a finite number >= 0",
        ),
        ("start,calls,aht_s\n2025-03-03T08:00:00+08:00,12\n", 2, "expected 3 columns, got 2"),
        ("start,calls,aht_s\n\n2025-03-03 08:00,12,200\n", 3, "has no UTC offset"),
        ("start,calls,aht_s\nyesterday,12,200\n", 2, "is not an ISO 8601 date-time"),
        (
            "start,calls,aht_s\n2025-03-03T08:00:00+08:00,12,0\n",
            2,
            "aht_s must be > 0 when calls > 0",
        ),
        (
            "start,calls,aht_s\n2025-03-03T08:00:00+08:00,1,200\n2025-03-03T00:00:00Z,2,200\n",
            3,
            "repeats line 2",
        ),
        (
            "start,calls,aht_s\n2025-03-03T08:00:00+08:00,nan,200\n",
            2,
            "calls must be a finite number",
        ),
    ],
)
def test_load_csv_reports_the_bad_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ForecastError, match=message) as err:
        load_csv(text)
    assert err.value.line == line
    assert str(err.value).startswith(f"line {line}: ")
    assert isinstance(err.value, ValueError)


def test_load_csv_rejects_a_local_time_inside_the_dst_gap() -> None:
    with pytest.raises(ForecastError, match="does not exist in Europe/Berlin") as err:
        load_csv("start,calls,aht_s\n2025-03-30T02:30,4,200\n", tz=BERLIN)
    assert err.value.line == 2


# ---------------------------------------------------------------- edits


def test_adjust_scales_only_the_window_and_returns_new_rows() -> None:
    t0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
    rows = [ForecastRow(t0 + timedelta(minutes=30 * i), 10.0, 200.0) for i in range(6)]
    out = adjust(rows, t0 + timedelta(hours=1), t0 + timedelta(hours=2), 1.5, aht_factor=1.1)
    assert [r.calls for r in out] == [10.0, 10.0, 15.0, 15.0, 10.0, 10.0]
    assert [round(r.aht_s, 6) for r in out] == [200.0, 200.0, 220.0, 220.0, 200.0, 200.0]
    assert [r.calls for r in rows] == [10.0] * 6
    assert out is not rows
    with pytest.raises(ValueError, match="factor must be a finite number >= 0"):
        adjust(rows, t0, t0 + timedelta(hours=1), -1)
    with pytest.raises(ValueError, match="aware start and end"):
        adjust(rows, datetime(2025, 3, 3), t0, 2)
    with pytest.raises(ValueError, match="window is empty"):
        adjust(rows, t0, t0, 2)


def test_a_make_up_working_saturday_is_forecast_like_a_weekday_not_a_weekend() -> None:
    # China 2026: Saturday 14 February is worked (调休) for the Spring Festival bridge.
    start = date(2026, 2, 9)
    history = synthetic_history(start, 4, SHANGHAI, [20.0] * 4)
    rows = by_day(build_forecast(history, start, 1, SHANGHAI), SHANGHAI)
    weekday_mean = sum(slot_weight(w, m) for w in range(5) for m in range(0, 1440, 30)) * 20 / 5
    assert sum(r.calls for r in rows[date(2026, 2, 14)]) == pytest.approx(weekday_mean)
    # Without the calendar it is an ordinary Saturday.
    plain = by_day(build_forecast(history, start, 1, SHANGHAI, country=None), SHANGHAI)
    saturday = sum(slot_weight(5, m) for m in range(0, 1440, 30)) * 20
    assert sum(r.calls for r in plain[date(2026, 2, 14)]) == pytest.approx(saturday)
