"""Wire dicts and file shaping for leave and swap requests, in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import icalendar

from console.core.i18n import translate
from console.core.models import utcnow
from console.requests.services import CalendarShift
from console.rosters import schemas as roster_schemas


def swap(stored: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A swap request (services.swap_dict) with its rule violations worded."""
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
