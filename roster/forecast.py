"""Call volume and handle-time forecast per 15- or 30-minute interval (pure)."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from roster.erlang import MAX_AHT_S, MAX_CALLS_PER_INTERVAL

__all__ = [
    "CSV_COLUMNS",
    "ForecastError",
    "ForecastRow",
    "HistoryCall",
    "Interval",
    "adjust",
    "build_forecast",
    "day_slots",
    "load_csv",
    "to_csv",
]

CSV_COLUMNS = ("start", "calls", "aht_s")
SUNDAY = 6
# Alternating profile/level fits converge in a handful of rounds; more changes nothing visible.
_FIT_ROUNDS = 8


class Interval(IntEnum):
    """Forecast interval length in minutes."""

    QUARTER_HOUR = 15
    HALF_HOUR = 30


@dataclass(frozen=True, slots=True)
class ForecastRow:
    """Forecast for one interval starting at `start` (aware, UTC)."""

    start: datetime
    calls: float
    aht_s: float


@dataclass(frozen=True, slots=True)
class HistoryCall:
    """One past call: arrival instant (aware) and handle time; None when never handled."""

    arrived_at: datetime
    handle_s: float | None


class ForecastError(ValueError):
    """Bad forecast input; `line` is the 1-based CSV line (header = 1) when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line
        self.reason = message


# --------------------------------------------------------------------------- slots


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {tz!r}") from err


def _interval(interval_min: int) -> int:
    try:
        return int(Interval(interval_min))
    except ValueError as err:
        raise ValueError(f"interval_min must be 15 or 30, got {interval_min!r}") from err


def _slot_key(local: datetime, interval_min: int) -> tuple[int, int]:
    # (minute of day floored to the interval, fold): fold tells the two 02:00 slots of the
    # autumn DST night apart, so a repeated wall-clock slot is a slot of its own.
    minute = (local.hour * 60 + local.minute) // interval_min * interval_min
    return minute, local.fold


def day_slots(day: date, tz: ZoneInfo, interval_min: int) -> list[tuple[datetime, int, int]]:
    """Real local wall-clock slots of `day`: (UTC start, minute of day, fold)."""
    # Walk in UTC from local midnight to the next one: a slot skipped by spring-forward never
    # appears, a repeated autumn slot appears twice, and the day has 23, 24 or 25 hours.
    begin = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    step = timedelta(minutes=interval_min)
    out: list[tuple[datetime, int, int]] = []
    t = begin
    while t < end:
        minute, fold = _slot_key(t.astimezone(tz), interval_min)
        out.append((t, minute, fold))
        t += step
    return out


# --------------------------------------------------------------------------- forecast


def _history_items(
    history: Iterable[HistoryCall | tuple[datetime, float | None]],
) -> Iterator[tuple[datetime, float | None]]:
    for item in history:
        if isinstance(item, HistoryCall):
            arrived, handle = item.arrived_at, item.handle_s
        else:
            arrived, handle = item
        if not isinstance(arrived, datetime) or arrived.tzinfo is None:
            raise ValueError(f"history call arrival must be an aware datetime, got {arrived!r}")
        if handle is not None and (not math.isfinite(handle) or handle < 0):
            raise ValueError(f"history call handle_s must be >= 0, got {handle!r}")
        yield arrived, handle


def _calendar(country: str, first: date, last: date) -> holidays_lib.HolidayBase:
    try:
        return holidays_lib.country_holidays(country, years=range(first.year, last.year + 1))
    except NotImplementedError as err:
        raise ValueError(f"no public-holiday calendar for country {country!r}") from err


def _holiday_set(
    holidays: set[date] | None, country: str | None, first: date, last: date
) -> set[date]:
    if holidays is not None:
        return set(holidays)
    if country is None:
        return set()
    return set(_calendar(country, first, last).keys())


def _workday_set(
    workdays: set[date] | None, country: str | None, first: date, last: date
) -> set[date]:
    # Make-up working days (tiaoxiu): weekend days worked in exchange for a holiday bridge.
    if workdays is not None:
        return set(workdays)
    if country is None:
        return set()
    found: set[date] = getattr(_calendar(country, first, last), "weekend_workdays", set())
    return {d for d in found if first <= d <= last}


def _linear_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    # Ordinary least squares y = a + b·x; one point (or all at one x) means no trend.
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return my, 0.0
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


def build_forecast(
    history: Iterable[HistoryCall | tuple[datetime, float | None]],
    start: date,
    weeks: int,
    tz: str,
    interval_min: int = 30,
    holidays: set[date] | None = None,
    country: str | None = "CN",
    holiday_weekday: int = SUNDAY,
    holiday_factor: float = 1.0,
    workdays: set[date] | None = None,
) -> list[ForecastRow]:
    """Forecast `weeks` weeks from `start` with a weekday x interval profile and linear trend.

    Public holidays are forecast like `holiday_weekday` (times `holiday_factor`); make-up
    working days on a weekend (`workdays`, by default the country's) like an average Monday
    to Friday. Both are left out of the profile fit.
    """
    step = _interval(interval_min)
    zone = _zone(tz)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise ValueError(f"weeks must be a positive integer, got {weeks!r}")
    if holiday_weekday not in range(7):
        raise ValueError(
            f"holiday_weekday must be 0 (Monday) to 6 (Sunday), got {holiday_weekday!r}"
        )
    if not math.isfinite(holiday_factor) or holiday_factor < 0:
        raise ValueError(f"holiday_factor must be >= 0, got {holiday_factor!r}")

    # Count calls and handle time per real local slot, keyed by the slot's UTC start.
    counts: dict[tuple[date, int, int], float] = defaultdict(float)
    handled: dict[tuple[date, int, int], float] = defaultdict(float)
    handle_sum: dict[tuple[date, int, int], float] = defaultdict(float)
    days_seen: set[date] = set()
    for arrived, handle in _history_items(history):
        local = arrived.astimezone(zone)
        day = local.date()
        if day >= start:
            continue  # the forecast must not see its own period
        minute, fold = _slot_key(local, step)
        key = (day, minute, fold)
        counts[key] += 1
        days_seen.add(day)
        if handle is not None and handle > 0:
            handled[key] += 1
            handle_sum[key] += handle
    if not days_seen:
        raise ValueError("history has no calls before the forecast start")
    if not handled:
        raise ValueError("history has no handled calls to measure handle time from")

    first, last = min(days_seen), max(days_seen)
    end = start + timedelta(days=7 * weeks)
    off = _holiday_set(holidays, country, first, end)
    work = _workday_set(workdays, country, first, end) - off

    # Every day from the first to the last call is observed, quiet days included (a day with
    # no calls is information); holidays are left out of the fit entirely.
    observed: list[tuple[date, list[tuple[datetime, int, int]]]] = []
    d = first
    while d <= last:
        if d not in off and d not in work:
            observed.append((d, day_slots(d, zone, step)))
        d += timedelta(days=1)
    if not observed:
        raise ValueError("every day of the history is a public holiday")

    def week_of(day: date) -> int:
        return (day - start).days // 7  # negative for history: aligned to the forecast start

    # Multiplicative model calls(day, slot) = level[week] x share[weekday][slot], shares of a
    # standard week summing to 1. Fitted by alternating: shares from level-normalised days,
    # levels from the days' counts over their expected shares. This copes with partial weeks
    # and with holidays removed from a week.
    slots_per_day = 24 * 60 // step
    weeks_days: dict[int, list[tuple[date, list[tuple[datetime, int, int]]]]] = defaultdict(list)
    for day, slots in observed:
        weeks_days[week_of(day)].append((day, slots))
    level: dict[int, float] = {}
    for w, days in weeks_days.items():
        total = sum(counts.get((dd, m, f), 0.0) for dd, slots in days for _, m, f in slots)
        level[w] = total * 7 / len(days)
    share = [[0.0] * slots_per_day for _ in range(7)]
    for _ in range(_FIT_ROUNDS):
        acc = [[0.0] * slots_per_day for _ in range(7)]
        occurrences = [[0] * slots_per_day for _ in range(7)]
        for day, slots in observed:
            lv = level.get(week_of(day), 0.0)
            for _, m, f in slots:
                idx = m // step
                occurrences[day.weekday()][idx] += 1
                if lv > 0:
                    acc[day.weekday()][idx] += counts.get((day, m, f), 0.0) / lv
        grand = 0.0
        for wd in range(7):
            for i in range(slots_per_day):
                share[wd][i] = acc[wd][i] / occurrences[wd][i] if occurrences[wd][i] else 0.0
                grand += share[wd][i]
        if grand == 0:
            raise ValueError("history has no calls on any ordinary day")
        for wd in range(7):
            for i in range(slots_per_day):
                share[wd][i] /= grand
        for w, days in weeks_days.items():
            calls = 0.0
            expected = 0.0
            for day, slots in days:
                for _, m, f in slots:
                    calls += counts.get((day, m, f), 0.0)
                    expected += share[day.weekday()][m // step]
            level[w] = calls / expected if expected > 0 else 0.0

    fit_points = [(float(w), lv) for w, lv in sorted(level.items())]
    intercept, slope = _linear_fit(fit_points)

    aht = _aht_profile(observed, handled, handle_sum, step)

    # A make-up working day looks like an ordinary weekday: the Monday-Friday mean (index 7).
    share.append([sum(share[w][i] for w in range(5)) / 5 for i in range(slots_per_day)])
    aht.append([sum(aht[w][i] for w in range(5)) / 5 for i in range(slots_per_day)])
    rows: list[ForecastRow] = []
    d = start
    while d < end:
        lv = max(0.0, intercept + slope * week_of(d))
        holiday = d in off
        wd = holiday_weekday if holiday else (7 if d in work else d.weekday())
        factor = holiday_factor if holiday else 1.0
        for t, m, _ in day_slots(d, zone, step):
            i = m // step
            rows.append(ForecastRow(start=t, calls=lv * share[wd][i] * factor, aht_s=aht[wd][i]))
        d += timedelta(days=1)
    return rows


def _aht_profile(
    observed: list[tuple[date, list[tuple[datetime, int, int]]]],
    handled: dict[tuple[date, int, int], float],
    handle_sum: dict[tuple[date, int, int], float],
    step: int,
) -> list[list[float]]:
    # Handle time has no trend in the model: pooled mean per weekday x slot, falling back to
    # the weekday's mean and then the overall mean where a slot saw no handled call.
    slots_per_day = 24 * 60 // step
    n = [[0.0] * slots_per_day for _ in range(7)]
    s = [[0.0] * slots_per_day for _ in range(7)]
    for day, slots in observed:
        for _, m, f in slots:
            key = (day, m, f)
            if key in handled:
                n[day.weekday()][m // step] += handled[key]
                s[day.weekday()][m // step] += handle_sum[key]
    total_n = sum(map(sum, n))
    if total_n == 0:
        # Only holidays had handled calls: use them rather than fail.
        total_n = sum(handled.values())
        overall = sum(handle_sum.values()) / total_n
    else:
        overall = sum(map(sum, s)) / total_n
    out: list[list[float]] = []
    for wd in range(7):
        day_n = sum(n[wd])
        day_mean = sum(s[wd]) / day_n if day_n else overall
        out.append([s[wd][i] / n[wd][i] if n[wd][i] else day_mean for i in range(slots_per_day)])
    return out


# --------------------------------------------------------------------------- CSV and edits


def _parse_start(raw: str, zone: ZoneInfo | None, line: int) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ForecastError(f"start {raw!r} is not an ISO 8601 date-time", line) from None
    if value.tzinfo is None:
        if zone is None:
            raise ForecastError(
                f"start {raw!r} has no UTC offset; add one or pass the centre's time zone", line
            )
        # A repeated autumn wall-clock time reads as its first occurrence (fold=0); the second
        # one can only be written with an explicit offset, which to_csv always does.
        local = value.replace(tzinfo=zone)
        # A wall-clock time inside the spring-forward gap does not round-trip: reject it
        # instead of silently moving the interval by an hour.
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
            raise ForecastError(f"start {raw!r} does not exist in {zone.key} (DST change)", line)
        value = local
    return value.astimezone(UTC)


def _parse_number(name: str, raw: str, line: int) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ForecastError(f"{name} {raw!r} is not a number", line) from None
    if not math.isfinite(value) or value < 0:
        raise ForecastError(f"{name} must be a finite number >= 0, got {raw!r}", line)
    # The staffing engine's domain: a larger value would be stored and then refused on every read.
    limit = MAX_CALLS_PER_INTERVAL if name == "calls" else MAX_AHT_S
    if value > limit:
        raise ForecastError(f"{name} must be <= {limit:g}, got {raw.strip()[:32]!r}", line)
    return value


def load_csv(text: str, tz: str | None = None) -> list[ForecastRow]:
    """Parse a forecast CSV (start,calls,aht_s); naive starts are read in `tz`."""
    zone = _zone(tz) if tz is not None else None
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[ForecastRow] = []
    seen: dict[datetime, int] = {}
    for record in reader:
        line = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue  # blank lines (a trailing newline, spacing) carry nothing
        if header is None:
            header = [cell.strip().lstrip("\ufeff").lower() for cell in record]
            if tuple(header) != CSV_COLUMNS:
                raise ForecastError(
                    f"header must be {','.join(CSV_COLUMNS)}, got {','.join(record)}", line
                )
            continue
        if len(record) != len(CSV_COLUMNS):
            raise ForecastError(f"expected {len(CSV_COLUMNS)} columns, got {len(record)}", line)
        start = _parse_start(record[0], zone, line)
        calls = _parse_number("calls", record[1], line)
        aht_s = _parse_number("aht_s", record[2], line)
        if calls > 0 and aht_s == 0:
            raise ForecastError("aht_s must be > 0 when calls > 0", line)
        if start in seen:
            raise ForecastError(f"start {record[0].strip()} repeats line {seen[start]}", line)
        seen[start] = line
        rows.append(ForecastRow(start=start, calls=calls, aht_s=aht_s))
    if header is None:
        raise ForecastError("the CSV is empty; expected a header start,calls,aht_s", 1)
    rows.sort(key=lambda r: r.start)
    return rows


def to_csv(rows: Iterable[ForecastRow]) -> str:
    """Write rows as CSV with UTC ISO 8601 starts; load_csv reads it back unchanged."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        # repr() of a float is the shortest text that parses back to the same value.
        writer.writerow(
            [row.start.astimezone(UTC).isoformat(), repr(float(row.calls)), repr(float(row.aht_s))]
        )
    return out.getvalue()


def adjust(
    rows: Iterable[ForecastRow],
    start: datetime,
    end: datetime,
    factor: float,
    *,
    aht_factor: float = 1.0,
) -> list[ForecastRow]:
    """New rows with calls (and optionally AHT) scaled for intervals starting in [start, end)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("adjust needs aware start and end datetimes")
    if end <= start:
        raise ValueError(f"adjust window is empty: {start.isoformat()} .. {end.isoformat()}")
    for name, value in (("factor", factor), ("aht_factor", aht_factor)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return [
        replace(r, calls=r.calls * factor, aht_s=r.aht_s * aht_factor)
        if start <= r.start < end
        else r
        for r in rows
    ]
