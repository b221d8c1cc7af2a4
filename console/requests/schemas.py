"""Wire dicts and file shaping for leave and swap requests, in the reader's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import icalendar

from console.core.i18n import translate
from console.core.models import LeaveRequest, SwapRequest, utcnow
from console.requests.services import CalendarShift, OwnSchedule
from console.rosters import schemas as roster_schemas
from console.workforce.services import PublishedShift


def schedule_dict(own: OwnSchedule) -> dict[str, Any]:
    """The agent's own schedule (services.schedule)."""
    return {
        "agent_id": own.agent_id,
        "from": own.first.isoformat(),
        "to": own.last.isoformat(),
        "shifts": [
            {
                "day": s.day.isoformat(),
                "code": s.template_code,
                "name": own.template_names.get(s.template_code, s.template_code),
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "queue": s.queue_skill,
                "on_site": s.on_site,
                "seat": s.seat,
                "break_start": s.break_start.isoformat() if s.break_start else None,
                "break_end": (s.break_start + dt.timedelta(minutes=s.break_min)).isoformat()
                if s.break_start
                else None,
                "duties": own.duties.get(s.day, []),
                "roster_id": s.roster_id,
            }
            for s in own.shifts
        ],
        "swaps_this_month": own.swaps_this_month,
        "max_swaps_month": own.max_swaps_month,
        "colleagues": [{"id": k, "name": v} for k, v in own.colleagues.items()],
    }


def leave_dict(row: LeaveRequest, names: Mapping[int, str]) -> dict[str, Any]:
    """A leave request (names: services.agent_names)."""
    return {
        "id": row.id,
        "agent_id": row.agent_id,
        "agent": names.get(row.agent_id, str(row.agent_id)),
        "first_day": row.first_day.isoformat(),
        "last_day": row.last_day.isoformat(),
        "kind": row.kind,
        "reason": row.reason,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "decision_note": row.decision_note,
    }


def removed_shifts(shifts: Iterable[PublishedShift]) -> list[dict[str, Any]]:
    """The published shifts an approved leave took the agent off (services.decide_leave)."""
    return [
        {"day": s.day.isoformat(), "code": s.template_code, "roster_id": s.roster_id}
        for s in shifts
    ]


def swap_dict(row: SwapRequest, names: Mapping[int, str]) -> dict[str, Any]:
    """A swap request as stored, its violations not yet worded (names: services.agent_names)."""
    return {
        "id": row.id,
        "roster_id": row.roster_id,
        "requester_id": row.requester_id,
        "requester": names.get(row.requester_id, str(row.requester_id)),
        "day": row.day.isoformat(),
        "partner_id": row.partner_id,
        "partner": names.get(row.partner_id, str(row.partner_id)),
        "partner_day": row.partner_day.isoformat() if row.partner_day else None,
        "reason": row.reason,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "decision_note": row.decision_note,
        "violations": row.violations or [],
    }


def swap(stored: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A swap request (swap_dict) with its rule violations worded."""
    return {**stored, "violations": roster_schemas.violations(stored["violations"], language)}


def swaps(stored: Iterable[Mapping[str, Any]], language: str) -> list[dict[str, Any]]:
    return [swap(x, language) for x in stored]


def _both(key: str, **params: object) -> str:
    # A calendar file is often shared and synced: its labels carry both languages.
    return f"{translate(key, 'en', **params)} / {translate(key, 'zh-CN', **params)}"


def ical(shifts: Iterable[CalendarShift], tz: str) -> bytes:
    """The agent's published shifts (services.calendar) as an iCalendar (RFC 5545) file."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Hotline//Roster//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Hotline")
    cal.add("x-wr-timezone", tz)
    stamp = utcnow()
    for s in shifts:
        ev = icalendar.Event()
        ev.add("uid", s.uid)
        ev.add("dtstamp", stamp)
        ev.add("dtstart", s.start)
        ev.add("dtend", s.end)
        ev.add("summary", s.summary)
        extra = [f"duty: {d}" for d in s.duties]
        if s.break_start is not None:
            extra.append(f"{_both('ical.break')} {s.break_start}–{s.break_end}")
        ev.add("description", "\n".join([f"roster {s.roster_id}", *extra]))
        if not s.on_site:
            ev.add("location", _both("ical.home"))
        elif s.seat is not None:
            ev.add("location", _both("ical.seat", n=s.seat))
        cal.add_component(ev)
    out: bytes = cal.to_ical()
    return out
