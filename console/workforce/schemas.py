"""Wire dicts for the workforce set-up: settings, shift templates, agents' contract terms."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from console.core.models import Agent, ShiftTemplateRow, User, WorkforceSettings
from console.workforce import services


def _time_str(value: dt.time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def settings_dict(row: WorkforceSettings) -> dict[str, Any]:
    """The wire shape of the workforce settings."""
    out: dict[str, Any] = {}
    for key in services.SETTING_KINDS:
        value = getattr(row, key)
        out[key] = _time_str(value) if isinstance(value, dt.time) else value
    out["attendance"] = dataclasses.asdict(services.attendance_policy(row))
    return out


def template_dict(t: ShiftTemplateRow) -> dict[str, Any]:
    """The wire shape of a shift template, with its paid hours on an ordinary day."""
    eng = services.engine_template(t)
    return {
        "id": t.id,
        "code": t.code,
        "name": t.name,
        "start": _time_str(t.start),
        "end": _time_str(t.end),
        "break_min": t.break_min,
        "break_paid": t.break_paid,
        "on_site": t.on_site,
        "skills": list(t.skills or []),
        "late": t.late,
        "active": t.active,
        "crosses_midnight": eng.crosses_midnight,
        "paid_hours": eng.paid_minutes(dt.date(2026, 1, 5), "UTC") / 60,
    }


def agent_terms(agent: Agent, user: User) -> dict[str, Any]:
    """An agent's contract terms as the scheduler edits them."""
    return {
        "id": agent.id,
        "name": user.display_name or user.username,
        "skills": list(agent.skills or []),
        "max_hours_week": agent.max_hours_week,
        "contract_flags": list(agent.contract_flags or []),
        "unavailable": list(agent.unavailable or []),
    }
