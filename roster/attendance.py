"""The monthly 10-point attendance score (docs/rules.md §2.2), built from shift adherence (pure)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from roster.adherence import ShiftAdherence

LEVEL_WARNING = "warning"
LEVEL_PENALTY = "penalty"
LEVEL_SEVERE = "severe"


@dataclass(frozen=True)
class AttendancePolicy:
    """Every number of the attendance rulebook; points are deductions (positive values)."""

    start_points: float = 10.0
    # Late only when the first login is more than this many minutes after shift start.
    late_grace_min: float = 0.0
    late_points: float = 0.5
    # Strictly more than this many minutes late counts as an absence (absence_late_points).
    absence_late_after_min: float = 30.0
    absence_late_points: float = 2.0
    # No login at all during a scheduled shift without approved leave.
    absence_points: float = 5.0
    # Every `logout_count`-th logout during scheduled shifts in a month costs logout_points.
    logout_count: int = 3
    logout_points: float = 5.0
    max_swaps: int = 4
    # Each approved swap beyond max_swaps counts as an absence.
    excess_swap_points: float = 5.0
    warning_at: float = 5.0
    penalty_at: float = 2.0
    # At or below penalty_at this many months running (this month included): severe.
    severe_months: int = 3


@dataclass(frozen=True)
class LedgerEntry:
    """One deduction: local day, kind, points (negative) and the fields that explain it (shift
    code, minutes late, counts); the console words them in the reader's language."""

    day: dt.date
    kind: str  # "late" | "absence-late" | "absence" | "logouts" | "excess-swap"
    points: float
    params: Mapping[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class Ledger:
    """One agent's attendance for one calendar month: deductions, score and level."""

    agent_id: str
    year: int
    month: int
    entries: tuple[LedgerEntry, ...]
    score: float
    level: str | None


def _minutes(minutes: float) -> float:
    # To a tenth: 12.25 -> 12.3 (the console shows 10.0 as "10").
    return round(minutes, 1)


def level(
    score: float, previous_scores: Sequence[float] = (), policy: AttendancePolicy | None = None
) -> str | None:
    """Level for a month's score; `previous_scores` are earlier months, oldest first."""
    p = policy or AttendancePolicy()
    if score <= p.penalty_at:
        # Severe needs this month and the severe_months-1 months just before it all at or
        # below the penalty threshold; a shorter history cannot be "running" long enough.
        before = list(previous_scores)[len(previous_scores) - (p.severe_months - 1) :]
        if len(before) == p.severe_months - 1 and all(s <= p.penalty_at for s in before):
            return LEVEL_SEVERE
        return LEVEL_PENALTY
    if score <= p.warning_at:
        return LEVEL_WARNING
    return None


def monthly_ledger(
    agent_id: str,
    year: int,
    month: int,
    results: Iterable[ShiftAdherence],
    tz: str,
    *,
    leave: Collection[dt.date] = frozenset(),
    swaps: int = 0,
    previous_scores: Sequence[float] = (),
    until: dt.datetime | None = None,
    policy: AttendancePolicy | None = None,
) -> Ledger:
    """The agent's ledger for a month; shifts count on their local start day in `tz`."""
    p = policy or AttendancePolicy()
    mine = sorted(
        (
            r
            for r in results
            if r.shift.agent_id == agent_id
            and (r.shift.day(tz).year, r.shift.day(tz).month) == (year, month)
            # A shift not over yet at `until` cannot be judged (it would look like an absence).
            and (until is None or r.shift.end <= until)
        ),
        key=lambda r: r.shift.start,
    )
    entries: list[LedgerEntry] = []
    logouts = 0
    for r in mine:
        day, code = r.shift.day(tz), r.shift.template_code
        if day in leave:
            continue  # approved leave exempts the whole shift, logouts included
        late = r.late_start_min
        if late is None:
            entries.append(
                LedgerEntry(
                    day,
                    "absence",
                    -p.absence_points,
                    {"code": code},
                )
            )
        elif late > p.absence_late_after_min:
            entries.append(
                LedgerEntry(
                    day,
                    "absence-late",
                    -p.absence_late_points,
                    {
                        "code": code,
                        "late": _minutes(late),
                        "after": _minutes(p.absence_late_after_min),
                    },
                )
            )
        elif late > p.late_grace_min:
            entries.append(
                LedgerEntry(
                    day,
                    "late",
                    -p.late_points,
                    {"code": code, "late": _minutes(late)},
                )
            )
        for _ in range(r.logouts):
            logouts += 1
            # Every logout_count-th logout of the month costs points, on the day it happens.
            if p.logout_count > 0 and logouts % p.logout_count == 0:
                entries.append(
                    LedgerEntry(
                        day,
                        "logouts",
                        -p.logout_points,
                        {"code": code, "logouts": logouts},
                    )
                )
    # Swap counts carry no dates, so the excess is booked on the month's last day.
    last_day = dt.date(year, month, calendar.monthrange(year, month)[1])
    for n in range(p.max_swaps + 1, swaps + 1):
        entries.append(
            LedgerEntry(
                last_day,
                "excess-swap",
                -p.excess_swap_points,
                {"n": n, "max": p.max_swaps},
            )
        )
    score = p.start_points + sum(e.points for e in entries)
    return Ledger(agent_id, year, month, tuple(entries), score, level(score, previous_scores, p))


def monthly_ledgers(
    results: Sequence[ShiftAdherence],
    tz: str,
    year: int,
    month: int,
    *,
    agents: Iterable[str] = (),
    leave: Mapping[str, Collection[dt.date]] | None = None,
    swaps: Mapping[str, int] | None = None,
    history: Mapping[str, Sequence[float]] | None = None,
    until: dt.datetime | None = None,
    policy: AttendancePolicy | None = None,
) -> dict[str, Ledger]:
    """Ledgers for every agent with a shift in `results` or listed in `agents`."""
    leave, swaps, history = leave or {}, swaps or {}, history or {}
    ids = set(agents) | {r.shift.agent_id for r in results} | set(swaps)
    return {
        a: monthly_ledger(
            a,
            year,
            month,
            results,
            tz,
            leave=leave.get(a, frozenset()),
            swaps=swaps.get(a, 0),
            previous_scores=history.get(a, ()),
            until=until,
            policy=policy,
        )
        for a in sorted(ids)
    }
