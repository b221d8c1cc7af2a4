"""Seed data for a new centre: the shift templates a centre starts with (names as the centre
writes them, in both languages; they are stored and edited like any template)."""

from __future__ import annotations

from typing import Any

# The rulebooks' shift patterns (docs/rules.md §1.1): early, late crossing midnight, A/B, C on call.
DEFAULT_TEMPLATES: list[dict[str, Any]] = [
    {"code": "E", "name": "Early 早班", "start": "08:00", "end": "17:30", "break_min": 60},
    {
        "code": "L",
        "name": "Late 晚班",
        "start": "16:00",
        "end": "01:00",
        "break_min": 60,
        "late": True,
    },
    {
        "code": "A",
        "name": "A 班",
        "start": "09:00",
        "end": "17:00",
        "break_min": 30,
        "break_paid": True,
    },
    {
        "code": "B",
        "name": "B 班",
        "start": "12:00",
        "end": "20:00",
        "break_min": 30,
        "break_paid": True,
    },
    {
        "code": "C",
        "name": "C 班 (on call from home 居家值守)",
        "start": "20:00",
        "end": "22:00",
        "on_site": False,
    },
]
