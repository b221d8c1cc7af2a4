"""Workforce configuration and the published roster, as the roster engine's value types (no Flask).

Everything stored about workforce management is translated here into `roster.model` /
`roster.attendance` objects, so every other service (rosters, requests, attendance, handover)
reads the centre's rules and the published roster in one way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import holidays as holidays_lib
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.core.errors import DomainError
from console.core.models import (
    Agent,
    LeaveRequest,
    RosterPlan,
    RosterShift,
    ShiftTemplateRow,
    User,
    WorkforceSettings,
)
from console.workforce.defaults import DEFAULT_TEMPLATES
from roster import model as rm
from roster.attendance import AttendancePolicy

SETTINGS_ID = 1
DEFAULT_ESCALATION = ["verbal warning", "written warning", "fine", "final warning", "dismissal"]
HOLIDAY_COUNTRY = "CN"

# Settings a scheduler may change, with their kinds (checked before anything is stored).
SETTING_KINDS: dict[str, str] = {
    "seats": "int+",
    "max_hours_week": "num+",
    "min_rest_h": "num0",
    "max_consecutive_days": "int+",
    "min_rest_days_per_month": "int0",
    "max_late_shifts_per_week": "int0?",
    "holiday_reinforcement": "num+",
    "cleaning_template": "code?",
    "open_from": "time?",
    "open_to": "time?",
    "max_swaps_month": "int0",
    "attendance": "policy",
    "escalation": "strings",
    "weekly_summary_min_chars": "int0",
    "weekly_summary_due_weekday": "weekday",
    "weekly_summary_due_time": "time",
    "weekly_summary_remind_h": "int+",
    "handover_grace_min": "int0",
    "handover_file_window_h": "int+",
    "handover_takeover_early_min": "int0",
    "break_edge_min": "int0",
}


def settings_row(session: Session, *, create: bool = False) -> WorkforceSettings:
    """The centre's workforce settings; the defaults (stored only with `create`) until saved.

    Readers get an unsaved default row, so a read never inserts: two first readers on
    PostgreSQL would otherwise wait on each other's uncommitted insert.
    """
    row = session.get(WorkforceSettings, SETTINGS_ID)
    if row is None:
        row = WorkforceSettings(
            id=SETTINGS_ID,
            seats=20,
            max_hours_week=40.0,
            min_rest_h=11.0,
            max_consecutive_days=6,
            min_rest_days_per_month=3,
            max_late_shifts_per_week=None,
            holiday_reinforcement=1.5,
            cleaning_template=None,
            open_from=None,
            open_to=None,
            max_swaps_month=4,
            attendance={},
            escalation=list(DEFAULT_ESCALATION),
            weekly_summary_min_chars=200,
            weekly_summary_due_weekday=5,
            weekly_summary_due_time=dt.time(17, 0),
            weekly_summary_remind_h=2,
            handover_grace_min=30,
            handover_file_window_h=12,
            handover_takeover_early_min=60,
            break_edge_min=120,
        )
        if create:
            session.add(row)
            session.flush()
    return row


def parse_time(raw: Any, name: str) -> dt.time:
    """A wall-clock time from "HH:MM"; anything else is a DomainError naming the field."""
    if isinstance(raw, str):
        try:
            value = dt.time.fromisoformat(raw.strip())
        except ValueError:
            pass
        else:
            if value.second == 0 and value.microsecond == 0 and value.tzinfo is None:
                return value
    raise DomainError("invalid-input", f"{name}: HH:MM expected")


def _check(key: str, kind: str, value: Any) -> Any:
    def number(integer: bool, minimum: float, strict: bool) -> Any:
        ok = not isinstance(value, bool) and isinstance(value, int if integer else (int, float))
        if ok and math.isfinite(value) and (value > minimum if strict else value >= minimum):
            return value
        what = "an integer" if integer else "a number"
        raise DomainError(
            "invalid-input", f"{key} must be {what} {'>' if strict else '>='} {minimum:g}"
        )

    optional = kind.endswith("?")
    if optional and value is None:
        return None
    kind = kind.rstrip("?")
    if kind == "int+":
        return number(True, 0, True)
    if kind == "int0":
        return number(True, 0, False)
    if kind == "num+":
        return float(number(False, 0, True))
    if kind == "num0":
        return float(number(False, 0, False))
    if kind == "weekday":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
            return value
        raise DomainError("invalid-input", f"{key} must be 0 (Monday) to 6 (Sunday)")
    if kind == "time":
        return parse_time(value, key)
    if kind == "code":
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise DomainError("invalid-input", f"{key} must be a shift template code")
    if kind == "strings":
        if (
            isinstance(value, list)
            and all(isinstance(v, str) and v.strip() for v in value)
            and value
        ):
            return [v.strip() for v in value]
        raise DomainError("invalid-input", f"{key} must be a non-empty list of texts")
    if kind == "policy":
        if not isinstance(value, dict):
            raise DomainError("invalid-input", f"{key} must be an object")
        known = {f.name: f.type for f in dataclasses.fields(AttendancePolicy)}
        out: dict[str, Any] = {}
        for name, v in value.items():
            if name not in known:
                raise DomainError("invalid-input", f"unknown attendance setting {name}")
            integer = name in ("logout_count", "max_swaps", "severe_months")
            out[name] = _check(f"attendance.{name}", "int0" if integer else "num0", v)
        return out
    raise AssertionError(kind)


def update_settings(session: Session, data: dict[str, Any]) -> WorkforceSettings:
    """Change some workforce settings; every value is checked before anything is stored."""
    row = settings_row(session, create=True)
    values: dict[str, Any] = {}
    for key, value in data.items():
        kind = SETTING_KINDS.get(key)
        if kind is None:
            raise DomainError("invalid-input", f"unknown setting {key}")
        values[key] = _check(key, kind, value)
    cleaning = values.get("cleaning_template")
    if (
        cleaning is not None
        and session.scalar(select(ShiftTemplateRow).where(ShiftTemplateRow.code == cleaning))
        is None
    ):
        raise DomainError("invalid-input", f"cleaning_template: no shift template {cleaning}")
    opening = (values.get("open_from", row.open_from), values.get("open_to", row.open_to))
    if (opening[0] is None) != (opening[1] is None):
        raise DomainError(
            "invalid-input", "open_from and open_to are set together (both empty = 7x24)"
        )
    if "attendance" in values:
        values["attendance"] = {**(row.attendance or {}), **values["attendance"]}
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    return row


def attendance_policy(row: WorkforceSettings) -> AttendancePolicy:
    """The attendance rulebook with this centre's overrides (and its swap limit)."""
    overrides = dict(row.attendance or {})
    overrides.setdefault("max_swaps", row.max_swaps_month)
    return AttendancePolicy(**overrides)


def holidays_between(first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """Public holidays (China) between two local days, inclusive."""
    found = holidays_lib.country_holidays(HOLIDAY_COUNTRY, years=range(first.year, last.year + 1))
    return frozenset(d for d in found if first <= d <= last)


def engine_rules(row: WorkforceSettings, horizon: rm.Horizon | None = None) -> rm.Rules:
    """The roster engine's rules from the stored settings (holidays of the horizon included)."""
    hol: frozenset[dt.date] = frozenset()
    if horizon is not None:
        hol = holidays_between(horizon.start, horizon.start + dt.timedelta(days=horizon.days - 1))
    return rm.Rules(
        max_hours_week=row.max_hours_week,
        min_rest_h=row.min_rest_h,
        max_consecutive_days=row.max_consecutive_days,
        min_rest_days_per_month=row.min_rest_days_per_month,
        max_late_shifts_per_week=row.max_late_shifts_per_week,
        holidays=hol,
        holiday_reinforcement=row.holiday_reinforcement,
    )


def engine_site(row: WorkforceSettings, tz: str) -> rm.Site:
    """The (single) site: its seats in the centre's time zone."""
    return rm.Site(seats=row.seats, tz=tz)


# ---- shift templates --------------------------------------------------------------------

TEMPLATE_FIELDS = (
    "code",
    "name",
    "start",
    "end",
    "break_min",
    "break_paid",
    "on_site",
    "skills",
    "late",
    "active",
)


def engine_template(t: ShiftTemplateRow) -> rm.ShiftTemplate:
    """The roster engine's view of a stored template."""
    return rm.ShiftTemplate(
        code=t.code,
        start=t.start,
        end=t.end,
        break_min=t.break_min,
        break_paid=t.break_paid,
        on_site=t.on_site,
        skills=frozenset(t.skills or []),
        late=t.late,
    )


def templates(session: Session, active_only: bool = False) -> list[ShiftTemplateRow]:
    """Stored shift templates ordered by start time then code."""
    q = select(ShiftTemplateRow).order_by(ShiftTemplateRow.start, ShiftTemplateRow.code)
    if active_only:
        q = q.where(ShiftTemplateRow.active.is_(True))
    return list(session.scalars(q))


def engine_templates(session: Session) -> dict[str, rm.ShiftTemplate]:
    """Every stored template (active or not: old rosters still name retired ones) by code."""
    return {t.code: engine_template(t) for t in templates(session)}


def save_template(
    session: Session, data: dict[str, Any], template_id: int | None = None
) -> ShiftTemplateRow:
    """Create or change a shift template after checking every field."""
    row = session.get(ShiftTemplateRow, template_id) if template_id is not None else None
    if template_id is not None and row is None:
        raise DomainError("not-found")
    for key in data:
        if key not in TEMPLATE_FIELDS:
            raise DomainError("invalid-input", f"unknown field {key}")
    values: dict[str, Any] = {}
    if row is None or "code" in data:
        code = data.get("code")
        if not isinstance(code, str) or not code.strip() or len(code.strip()) > 16:
            raise DomainError("invalid-input", "code: 1 to 16 characters")
        values["code"] = code.strip()
        clash = session.scalar(
            select(ShiftTemplateRow).where(ShiftTemplateRow.code == values["code"])
        )
        if clash is not None and clash is not row:
            raise DomainError("already-exists", f"code {values['code']}")
        if row is not None and values["code"] != row.code:
            raise DomainError(
                "invalid-input", "code cannot change once created (rosters refer to it)"
            )
    for key in ("start", "end"):
        if row is None or key in data:
            values[key] = parse_time(data.get(key), key)
    if "name" in data or row is None:
        name = data.get("name", "")
        if not isinstance(name, str) or len(name) > 64:
            raise DomainError("invalid-input", "name: at most 64 characters")
        values["name"] = name.strip()
    if "break_min" in data or row is None:
        values["break_min"] = _check("break_min", "int0", data.get("break_min", 0))
    for key, default in (
        ("break_paid", False),
        ("on_site", True),
        ("late", False),
        ("active", True),
    ):
        if key in data or row is None:
            value = data.get(key, default)
            if not isinstance(value, bool):
                raise DomainError("invalid-input", f"{key} must be true or false")
            values[key] = value
    if "skills" in data or row is None:
        skills = data.get("skills", [])
        if not isinstance(skills, list) or not all(
            isinstance(s, str) and s.strip() for s in skills
        ):
            raise DomainError("invalid-input", "skills must be a list of skill names")
        values["skills"] = sorted({s.strip() for s in skills})
    if row is not None and any(
        k in values and values[k] != getattr(row, k)
        for k in ("start", "end", "break_min", "break_paid", "on_site")
    ):
        # Published shifts are read through their template: changing its times would move
        # shifts already worked and rewrite attendance. A new code is a new pattern.
        used = session.scalar(
            select(RosterShift.id)
            .join(RosterPlan, RosterPlan.id == RosterShift.roster_id)
            .where(RosterShift.template_code == row.code, RosterPlan.status == "published")
            .limit(1)
        )
        if used is not None:
            raise DomainError("template-in-use", row.code)
    start = values.get("start", row.start if row else None)
    end = values.get("end", row.end if row else None)
    if start == end:
        raise DomainError("invalid-input", "start and end must differ")
    if row is None:
        row = ShiftTemplateRow(**values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    # The break must fit inside the shift.
    eng = engine_template(row)
    if (
        eng.paid_minutes(dt.date(2026, 1, 5), "UTC") <= 0
        or row.break_min
        >= (
            eng.span(dt.date(2026, 1, 5), "UTC").end - eng.span(dt.date(2026, 1, 5), "UTC").start
        ).total_seconds()
        / 60
    ):
        raise DomainError("invalid-input", "break_min must be shorter than the shift")
    session.flush()
    return row


def seed_templates(session: Session) -> int:
    """Store the rulebooks' default templates that are missing; returns how many were added."""
    have = {t.code for t in templates(session)}
    added = 0
    for data in DEFAULT_TEMPLATES:
        if data["code"] not in have:
            save_template(session, dict(data))
            added += 1
    return added


# ---- agents as the roster engine sees them ---------------------------------------------


def roster_agents(session: Session) -> list[tuple[Agent, User]]:
    """Active agents (with their users) in a stable order."""
    rows = session.execute(
        select(Agent, User)
        .join(User, Agent.user_id == User.id)
        .where(User.active.is_(True))
        .order_by(Agent.id)
    )
    return [(a, u) for a, u in rows]


def engine_agent(
    agent: Agent,
    leave: frozenset[dt.date] = frozenset(),
    worked_before: tuple[tuple[dt.date, str], ...] = (),
) -> rm.Agent:
    """The roster engine's agent: id is the agent id as text."""
    return rm.Agent(
        id=str(agent.id),
        skills=frozenset(agent.skills or []),
        max_hours_week=agent.max_hours_week if agent.max_hours_week is not None else 168.0,
        unavailable=tuple(
            rm.Interval(dt.datetime.fromisoformat(u["from"]), dt.datetime.fromisoformat(u["to"]))
            for u in agent.unavailable or []
        ),
        leave=leave,
        flags=frozenset(agent.contract_flags or []),
        worked_before=worked_before,
    )


CONTRACT_FLAGS = (rm.FLAG_NO_LATE, rm.FLAG_NO_WEEKEND)
MAX_UNAVAILABLE = 100


def _instant(raw: Any, name: str) -> dt.datetime:
    if isinstance(raw, str):
        try:
            value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if value.tzinfo is not None:
                return value.astimezone(dt.UTC)
    raise DomainError("invalid-input", f"{name}: ISO 8601 date-time with a time zone expected")


def update_agent_terms(session: Session, agent_id: int, data: dict[str, Any]) -> tuple[Agent, User]:
    """Change an agent's weekly limit, contract flags or unavailable spans (all checked first)."""
    found = session.execute(
        select(Agent, User).join(User, Agent.user_id == User.id).where(Agent.id == agent_id)
    ).first()
    if found is None:
        raise DomainError("not-found")
    agent, user = found
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "max_hours_week":
            values[key] = None if value is None else _check(key, "num+", value)
        elif key == "contract_flags":
            if not isinstance(value, list) or any(f not in CONTRACT_FLAGS for f in value):
                raise DomainError(
                    "invalid-input", f"contract_flags: any of {', '.join(CONTRACT_FLAGS)}"
                )
            values[key] = sorted(set(value))
        elif key == "unavailable":
            if not isinstance(value, list) or len(value) > MAX_UNAVAILABLE:
                raise DomainError(
                    "invalid-input", f"unavailable: a list of at most {MAX_UNAVAILABLE} spans"
                )
            spans = []
            for i, span in enumerate(value):
                if not isinstance(span, dict):
                    raise DomainError("invalid-input", f"unavailable[{i}]: {{from, to}} expected")
                start, end = (
                    _instant(span.get("from"), f"unavailable[{i}].from"),
                    _instant(span.get("to"), f"unavailable[{i}].to"),
                )
                if end <= start:
                    raise DomainError("invalid-input", f"unavailable[{i}]: to must be after from")
                spans.append({"from": start.isoformat(), "to": end.isoformat()})
            values[key] = sorted(spans, key=lambda x: x["from"])
        else:
            raise DomainError("invalid-input", f"unknown field {key}")
    for key, value in values.items():
        setattr(agent, key, value)
    session.flush()
    return agent, user


def approved_leave(
    session: Session, first_day: dt.date, last_day: dt.date, agent_ids: set[int] | None = None
) -> dict[int, set[dt.date]]:
    """Local days of approved leave per agent between first_day and last_day."""
    q = select(LeaveRequest).where(
        LeaveRequest.status == "approved",
        LeaveRequest.first_day <= last_day,
        LeaveRequest.last_day >= first_day,
    )
    if agent_ids is not None:
        q = q.where(LeaveRequest.agent_id.in_(agent_ids))
    out: dict[int, set[dt.date]] = {}
    for r in session.scalars(q):
        day = max(r.first_day, first_day)
        while day <= min(r.last_day, last_day):
            out.setdefault(r.agent_id, set()).add(day)
            day += dt.timedelta(days=1)
    return out


# ---- the published roster --------------------------------------------------------------


@dataclass(frozen=True)
class PublishedShift:
    """One shift of the published roster: agent, local day, template and its real span (UTC)."""

    roster_id: int
    agent_id: int
    day: dt.date
    template_code: str
    queue_skill: str
    start: dt.datetime
    end: dt.datetime
    on_site: bool
    seat: int | None = None
    break_start: dt.datetime | None = None
    break_min: int = 0


def local_day(at: dt.datetime, tz: str) -> dt.date:
    """The local calendar day of an instant."""
    return at.astimezone(rm.zone(tz)).date()


def published_shifts(
    session: Session,
    first_day: dt.date,
    last_day: dt.date,
    tz: str,
    agent_id: int | None = None,
) -> list[PublishedShift]:
    """Published shifts starting on local days first_day..last_day, ordered by start.

    When several published rosters cover a day, the one published last is in force for it.
    """
    plans = list(
        session.scalars(
            select(RosterPlan)
            .where(RosterPlan.status == "published", RosterPlan.published_at.is_not(None))
            .order_by(RosterPlan.published_at, RosterPlan.id)
        )
    )
    in_force: dict[dt.date, int] = {}
    for plan in plans:
        for i in range(plan.days):
            day = plan.start + dt.timedelta(days=i)
            if first_day <= day <= last_day:
                in_force[day] = plan.id
    if not in_force:
        return []
    q = select(RosterShift).where(
        RosterShift.roster_id.in_(set(in_force.values())),
        RosterShift.day >= first_day,
        RosterShift.day <= last_day,
    )
    if agent_id is not None:
        q = q.where(RosterShift.agent_id == agent_id)
    tmap = engine_templates(session)
    out: list[PublishedShift] = []
    for s in session.scalars(q):
        if in_force.get(s.day) != s.roster_id:
            continue
        t = tmap.get(s.template_code)
        if t is None:
            continue
        span = t.span(s.day, tz)
        out.append(
            PublishedShift(
                s.roster_id,
                s.agent_id,
                s.day,
                s.template_code,
                s.queue_skill,
                span.start,
                span.end,
                t.on_site,
                s.seat,
                s.break_start,
                t.break_min,
            )
        )
    out.sort(key=lambda p: (p.start, p.agent_id))
    return out


def shifts_around(
    session: Session, at: dt.datetime, tz: str, agent_id: int | None = None
) -> list[PublishedShift]:
    """Published shifts that start from the day before `at` to the day after (covers night
    shifts)."""
    day = local_day(at, tz)
    return published_shifts(
        session, day - dt.timedelta(days=1), day + dt.timedelta(days=1), tz, agent_id
    )
