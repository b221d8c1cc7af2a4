"""The supervisor's figures, pure: what each call contributes to a queue's counts over a
period, the shift day and the current interval. No Flask, no database: services.py turns call
records into CallFacts, and static/supervision/figures.js is the browser's copy of the same
arithmetic (tests keep them equal). Definitions: docs/supervision.md.

Times are epoch seconds (floats). Sums of durations are kept as whole milliseconds, so that
adding the same calls in any order (the server from its records, the browser event by event)
gives the very same numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo

ABANDONED = "abandoned"  # console.core.states.EndReason.ABANDONED
INBOUND = "inbound"
# A queue's defaults (console/core/models.py Queue; docs/rules.md §3.1, §7.1).
DEFAULT_SERVICE_LEVEL_S = 20
DEFAULT_RING_TIMEOUT_S = 15
SLIDING_HOUR_S = 3600.0


@dataclass(frozen=True)
class CallFacts:
    """What the figures read of one call record."""

    id: str
    queue_id: int | None
    agent_id: int | None
    direction: str
    transferred: bool  # the continuation of a transfer (its record has a parent)
    arrived_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    wrapped_at: float | None = None
    wait_s: float | None = None
    ring_s: float | None = None
    talk_s: float | None = None
    wrap_up_s: float | None = None
    end_reason: str | None = None

    @property
    def final(self) -> bool:
        """Nothing about the call can change any more: ended, and wrapped up if answered."""
        if self.ended_at is None:
            return False
        return self.answered_at is None or self.wrapped_at is not None

    @property
    def contact(self) -> bool:
        """A caller reaching a queue: inbound, and not the second half of a transfer."""
        return self.direction == INBOUND and not self.transferred


@dataclass(frozen=True)
class QueueRule:
    """A queue's thresholds: service level (answered within) and three rings (ring timeout)."""

    service_level_s: int = DEFAULT_SERVICE_LEVEL_S
    ring_timeout_s: int = DEFAULT_RING_TIMEOUT_S


DEFAULT_RULE = QueueRule()


@dataclass
class Sums:
    """Counts of a queue (or all queues) over a period; rates are derived (figures())."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    lost: int = 0  # ended unanswered otherwise: no capacity, never acknowledged, worker died
    waiting: int = 0  # not answered, not ended yet
    within_sl: int = 0
    within_rings: int = 0
    wait_ms: int = 0  # of the answered contacts
    handled: int = 0  # answered inbound records wrapped up
    handle_ms: int = 0  # their talk (hold included) plus wrap-up

    def add(self, other: Sums, sign: int = 1) -> None:
        """Add (or with sign -1 take away) another's counts."""
        for name in SUM_FIELDS:
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in SUM_FIELDS}


SUM_FIELDS = tuple(f.name for f in fields(Sums))


def ms(seconds: float | None) -> int:
    """Whole milliseconds, rounded half up as the browser's Math.round does."""
    if seconds is None:
        return 0
    return int((seconds * 1000 + 0.5) // 1)


def contribution(call: CallFacts, rule: QueueRule = DEFAULT_RULE) -> Sums:
    """What one call adds to its queue's sums (in the period it arrived in)."""
    s = Sums()
    if call.direction != INBOUND:
        return s
    if call.answered_at is not None and call.wrapped_at is not None:
        s.handled = 1
        s.handle_ms = ms(call.talk_s) + ms(call.wrap_up_s)
    if not call.contact:
        return s
    s.offered = 1
    if call.answered_at is not None:
        s.answered = 1
        wait = call.wait_s if call.wait_s is not None else call.answered_at - call.arrived_at
        s.wait_ms = ms(wait)
        s.within_sl = int(wait <= rule.service_level_s)
        s.within_rings = int((call.ring_s or 0.0) <= rule.ring_timeout_s)
    elif call.ended_at is not None:
        if call.end_reason == ABANDONED:
            s.abandoned = 1
        else:
            s.lost = 1
    else:
        s.waiting = 1
    return s


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds."""

    start: float
    end: float

    def holds(self, at: float) -> bool:
        return self.start <= at < self.end


def queue_key(queue_id: int | None) -> str:
    """How sums by queue are keyed on the wire: the queue id, or "none"."""
    return "none" if queue_id is None else str(queue_id)


def sums_by_queue(
    calls: Iterable[CallFacts],
    period: Period,
    rules: Mapping[int, QueueRule],
) -> dict[int | None, Sums]:
    """Each queue's sums over the calls that arrived in the period (None: calls without a
    queue); queues without calls are absent."""
    out: dict[int | None, Sums] = {}
    for call in calls:
        if not period.holds(call.arrived_at):
            continue
        rule = rules.get(call.queue_id, DEFAULT_RULE) if call.queue_id is not None else DEFAULT_RULE
        out.setdefault(call.queue_id, Sums()).add(contribution(call, rule))
    return out


def total(by_queue: Mapping[int | None, Sums]) -> Sums:
    """All queues together."""
    t = Sums()
    for s in by_queue.values():
        t.add(s)
    return t


def _ratio(part: int, whole: int) -> float | None:
    # Half up, with the very operations figures.js does (Python's round() is half-even).
    return math.floor(part / whole * 10000 + 0.5) / 10000 if whole else None


def _tenths(total_ms: int, count: int) -> float | None:
    """An average of milliseconds in seconds to 0.1, half up (as figures.js)."""
    return math.floor(total_ms / count / 100 + 0.5) / 10 if count else None


@dataclass(frozen=True)
class Figures:
    """The wallboard's figures of one queue over one period."""

    sums: Sums
    abandon_rate: float | None  # abandoned / offered
    service_level: float | None  # answered within the threshold / offered and settled
    asa_s: float | None  # average wait of the answered contacts
    aht_s: float | None  # average talk + wrap-up of the handled calls
    three_rings: float | None  # answered within the ring timeout / answered


def figures(sums: Sums) -> Figures:
    """Rates and averages from the counts (rates to 4 decimals, seconds to 0.1)."""
    settled = sums.answered + sums.abandoned + sums.lost
    return Figures(
        sums=sums,
        abandon_rate=_ratio(sums.abandoned, sums.offered),
        service_level=_ratio(sums.within_sl, settled),
        asa_s=_tenths(sums.wait_ms, sums.answered),
        aht_s=_tenths(sums.handle_ms, sums.handled),
        three_rings=_ratio(sums.within_rings, sums.answered),
    )


# ---- periods --------------------------------------------------------------------------------


def shift_day(at: dt.datetime, tz: str, start_hour: int) -> dt.date:
    """The shift day an instant belongs to: local day D runs from D start_hour:00 to D+1
    start_hour:00, so a shift that crosses midnight stays on the day it started."""
    local = at.astimezone(ZoneInfo(tz))
    day = local.date()
    if local.time() < dt.time(start_hour):
        day -= dt.timedelta(days=1)
    return day


def shift_day_period(day: dt.date, tz: str, start_hour: int) -> Period:
    """The instants of a shift day (wall-clock bounds, so a DST change keeps them)."""
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(day, dt.time(start_hour), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(start_hour), tzinfo=zone)
    return Period(start.timestamp(), end.timestamp())


def interval_period(at: dt.datetime, tz: str, minutes: int) -> Period:
    """The local-time interval of `minutes` (15, 30, 60) holding an instant."""
    local = at.astimezone(ZoneInfo(tz))
    minute_of_day = local.hour * 60 + local.minute
    first = minute_of_day - minute_of_day % minutes
    start = local.replace(hour=first // 60, minute=first % 60, second=0, microsecond=0)
    return Period(start.timestamp(), start.timestamp() + minutes * 60)


def sliding_hour(now: float) -> Period:
    """The last hour up to now (and calls arriving from now on)."""
    return Period(now - SLIDING_HOUR_S, float("inf"))
