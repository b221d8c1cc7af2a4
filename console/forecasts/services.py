"""Forecast per queue interval and the staffing requirement it implies (no Flask)."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.core.errors import DomainError
from console.core.models import Call, ForecastInterval, Queue, StaffingSettings
from roster.erlang import (
    MAX_AHT_S,
    MAX_CALLS_PER_INTERVAL,
    StaffingInputs,
    StaffingRow,
    requirement,
)
from roster.forecast import ForecastError, ForecastRow, HistoryCall, build_forecast, load_csv

# A quarter of history is enough for the weekday profile and the trend; older weeks mostly
# describe a centre that no longer exists, and reading them costs time on every generate.
HISTORY_WEEKS = 13
MAX_WEEKS = 8
SETTING_FIELDS = (
    "interval_min",
    "target_sl",
    "target_answer_s",
    "shrinkage",
    "max_occupancy",
    "patience_s",
)
OPTIONAL_FIELDS = ("max_occupancy", "patience_s")


def _queue(session: Session, queue_id: int) -> Queue:
    q = session.get(Queue, queue_id)
    if q is None:
        raise DomainError("queue-not-found")
    return q


def _defaults(queue_id: int) -> StaffingSettings:
    return StaffingSettings(
        queue_id=queue_id,
        interval_min=30,
        target_sl=0.8,
        target_answer_s=20.0,
        shrinkage=0.3,
        max_occupancy=None,
        patience_s=None,
    )


def settings_of(session: Session, queue_id: int) -> StaffingSettings:
    """The queue's staffing settings; the defaults (not stored) when never saved."""
    _queue(session, queue_id)
    return session.get(StaffingSettings, queue_id) or _defaults(queue_id)


def _inputs(cfg: StaffingSettings) -> StaffingInputs:
    return StaffingInputs(
        interval_min=cfg.interval_min,
        target_sl=cfg.target_sl,
        target_answer_s=cfg.target_answer_s,
        shrinkage=cfg.shrinkage,
        max_occupancy=cfg.max_occupancy,
        patience_s=cfg.patience_s,
    )


def update_settings(session: Session, queue_id: int, data: dict[str, Any]) -> StaffingSettings:
    """Change some staffing settings; every value is checked before anything is stored."""
    current = settings_of(session, queue_id)
    values = {f: getattr(current, f) for f in SETTING_FIELDS}
    for key, value in data.items():
        if key not in SETTING_FIELDS:
            raise DomainError("invalid-input", f"unknown setting {key}")
        if value is None and key in OPTIONAL_FIELDS:
            values[key] = None
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise DomainError("invalid-input", f"{key} must be a number")
        values[key] = value
    if values["interval_min"] not in (15, 30) or isinstance(values["interval_min"], float):
        raise DomainError("invalid-input", "interval_min must be 15 or 30")
    if not 0 <= values["shrinkage"] < 1:
        raise DomainError("invalid-input", "shrinkage must be in [0, 1)")
    try:
        inputs: dict[str, Any] = {
            k: float(v) if k != "interval_min" and v is not None else v for k, v in values.items()
        }
        StaffingInputs(**inputs)
    except ValueError as err:
        raise DomainError("invalid-input", str(err)) from None
    stored = session.get(StaffingSettings, queue_id)
    if stored is None:
        stored = _defaults(queue_id)
        session.add(stored)
    for key, value in values.items():
        setattr(stored, key, float(value) if key != "interval_min" and value is not None else value)
    session.flush()
    return stored


def _history(session: Session, queue_id: int, before: dt.datetime) -> list[HistoryCall]:
    since = before - dt.timedelta(weeks=HISTORY_WEEKS)
    rows = session.execute(
        select(Call.arrived_at, Call.talk_s, Call.wrap_up_s).where(
            Call.queue_id == queue_id, Call.arrived_at >= since, Call.arrived_at < before
        )
    )
    out = []
    for arrived, talk, wrap in rows:
        handle = None if talk is None else talk + (wrap or 0.0)
        out.append(HistoryCall(arrived, handle))
    return out


def _store(session: Session, queue_id: int, rows: list[ForecastRow], *, keep_edited: bool) -> int:
    """Write rows over the range they cover; with keep_edited, edited rows win over new ones."""
    if not rows:
        return 0
    first, last = rows[0].start, rows[-1].start
    existing = {
        r.start: r
        for r in session.scalars(
            select(ForecastInterval).where(
                ForecastInterval.queue_id == queue_id,
                ForecastInterval.start >= first,
                ForecastInterval.start <= last,
            )
        )
    }
    written = 0
    for row in rows:
        old = existing.pop(row.start, None)
        if old is not None and keep_edited and old.edited:
            continue
        if old is None:
            old = ForecastInterval(queue_id=queue_id, start=row.start)
            session.add(old)
        old.calls = round(row.calls, 4)
        old.aht_s = round(row.aht_s, 2)
        old.edited = False
        written += 1
    if keep_edited:
        # Generated rows replace the whole range: stale unedited rows off the new grid go.
        stale = [r.id for r in existing.values() if not r.edited]
        if stale:
            session.execute(delete(ForecastInterval).where(ForecastInterval.id.in_(stale)))
    session.flush()
    return written


def generate(session: Session, queue_id: int, start_date: dt.date, weeks: int, tz: str) -> int:
    """Forecast `weeks` weeks from the queue's call history; scheduler-edited rows are kept."""
    cfg = settings_of(session, queue_id)
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise DomainError("invalid-input", f"weeks must be 1 to {MAX_WEEKS}")
    begin = dt.datetime.combine(start_date, dt.time(0), tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)
    history = _history(session, queue_id, begin)
    if not history:
        raise DomainError("forecast-no-history")
    try:
        rows = build_forecast(history, start_date, weeks, tz, interval_min=cfg.interval_min)
    except ValueError as err:
        raise DomainError("forecast-no-history", str(err)) from None
    return _store(session, queue_id, rows, keep_edited=True)


def import_csv(
    session: Session, queue_id: int, text: str, tz: str | None = None
) -> list[ForecastRow]:
    """Store a forecast CSV (start,calls,aht_s); a bad line stores nothing."""
    cfg = settings_of(session, queue_id)
    try:
        rows = load_csv(text, tz)
    except ForecastError as err:
        raise DomainError("forecast-csv-invalid", f"{err.line}: {err.reason}") from None
    step = dt.timedelta(minutes=cfg.interval_min)
    for a, b in itertools.pairwise(rows):
        if b.start - a.start < step:
            raise DomainError(
                "invalid-input",
                f"{a.start.isoformat()} and {b.start.isoformat()} are closer than "
                f"{cfg.interval_min} min",
            )
    _store(session, queue_id, rows, keep_edited=False)
    return rows


def _number(name: str, value: Any, limit: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise DomainError("invalid-input", f"{name} must be a number >= 0")
    if value > limit:
        # Stored, it would be refused by the staffing engine on every read of the forecast.
        raise DomainError("invalid-input", f"{name} must be <= {limit:g}")
    return float(value)


def edit(
    session: Session, queue_id: int, start: dt.datetime, calls: Any, aht_s: Any
) -> ForecastInterval:
    """The scheduler's own figures for one interval; generate keeps them from now on."""
    _queue(session, queue_id)
    c, a = _number("calls", calls, MAX_CALLS_PER_INTERVAL), _number("aht_s", aht_s, MAX_AHT_S)
    if c > 0 and a == 0:
        raise DomainError("invalid-input", "aht_s must be > 0 when calls > 0")
    row = session.scalar(
        select(ForecastInterval).where(
            ForecastInterval.queue_id == queue_id, ForecastInterval.start == start
        )
    )
    if row is None:
        raise DomainError("not-found")
    row.calls, row.aht_s, row.edited = c, a, True
    session.flush()
    return row


@dataclass(frozen=True)
class ForecastTable:
    """Forecast rows in [since, until) with the staffing requirement of each interval: the
    stored rows and, in the same order, what the engine sized from them."""

    queue_id: int
    since: dt.datetime
    until: dt.datetime
    settings: StaffingSettings
    inputs: StaffingInputs
    stored: list[ForecastInterval]
    sized: list[StaffingRow]


def actual_calls(session: Session, t: ForecastTable, now: dt.datetime) -> list[int | None]:
    """For each interval of `t` already over (start + interval <= now), the calls that arrived
    in it; None for the others.

    Only the forecast page wants this; the roster's requirement reads the table alone."""
    step = dt.timedelta(minutes=t.settings.interval_min)
    starts = [r.start for r in t.sized]
    past = [x for x in starts if x + step <= now]
    counts = dict.fromkeys(past, 0)
    if past:
        arrived = session.scalars(
            select(Call.arrived_at).where(
                Call.queue_id == t.queue_id,
                Call.arrived_at >= past[0],
                Call.arrived_at < past[-1] + step,
            )
        )
        for at in arrived:
            i = bisect.bisect_right(past, at) - 1
            if i >= 0 and at < past[i] + step:
                counts[past[i]] += 1
    return [counts.get(x) for x in starts]


@dataclass(frozen=True)
class Accuracy:
    """How well a forecast met the calls that came, over the intervals that have actuals."""

    intervals: int
    forecast_calls: float
    actual_calls: int
    wape_pct: float | None
    bias_pct: float | None


def accuracy(calls: list[float], actual: list[int | None]) -> Accuracy | None:
    """How well the forecast met the calls that came, over the rows that have actuals: WAPE =
    sum |forecast - actual| / sum actual (the usual contact-centre figure: it weighs busy
    intervals more than quiet ones and survives intervals with no calls)."""
    done = [(c, a) for c, a in zip(calls, actual, strict=True) if a is not None]
    if not done:
        return None
    forecast = sum(c for c, _ in done)
    arrived = sum(a for _, a in done)
    error = sum(abs(c - a) for c, a in done)
    return Accuracy(
        intervals=len(done),
        forecast_calls=round(forecast, 2),
        actual_calls=arrived,
        wape_pct=round(100 * error / arrived, 1) if arrived else None,
        bias_pct=round(100 * (forecast - arrived) / arrived, 1) if arrived else None,
    )


def table(session: Session, queue_id: int, since: dt.datetime, until: dt.datetime) -> ForecastTable:
    """Forecast rows in [since, until) with the staffing requirement of each interval."""
    cfg = settings_of(session, queue_id)
    stored = list(
        session.scalars(
            select(ForecastInterval)
            .where(
                ForecastInterval.queue_id == queue_id,
                ForecastInterval.start >= since,
                ForecastInterval.start < until,
            )
            .order_by(ForecastInterval.start)
        )
    )
    inputs = _inputs(cfg)
    try:
        sized = requirement(stored, inputs)
    except ValueError as err:
        raise DomainError("invalid-input", str(err)) from None
    return ForecastTable(queue_id, since, until, cfg, inputs, stored, sized)


def queues(session: Session) -> list[Queue]:
    """Every queue, in the order they were set up (the forecast page's queue picker)."""
    return list(session.scalars(select(Queue).order_by(Queue.id)))
