"""Wire dicts for the handover log, weekly summaries and misses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from console.core.models import HandoverEntry, WeeklySummary
from console.handover.services import HandoverLog, MissesReport, WeeklyStatus
from console.workforce.services import PublishedShift


def _iso(at: dt.datetime | None) -> str | None:
    if at is None:
        return None
    return (at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)).isoformat()


def shift_dict(shift: PublishedShift) -> dict[str, Any]:
    """The wire shape of a published shift."""
    return {
        "agent_id": shift.agent_id,
        "day": shift.day.isoformat(),
        "template_code": shift.template_code,
        "start": _iso(shift.start),
        "end": _iso(shift.end),
    }


def entry_dict(entry: HandoverEntry, names: dict[int, str]) -> dict[str, Any]:
    """The wire shape of a handover entry (names: agent id → display name)."""
    return {
        "id": entry.id,
        "author_id": entry.author_id,
        "author_name": names.get(entry.author_id, ""),
        "shift_day": entry.shift_day.isoformat(),
        "template_code": entry.template_code,
        "created_at": _iso(entry.created_at),
        "items": [
            {"text": str(i.get("text", "")), "ref": str(i.get("ref", ""))}
            for i in entry.items or []
        ],
        "notes": entry.notes or "",
        "acknowledged_by": entry.acknowledged_by,
        "acknowledged_by_name": names.get(entry.acknowledged_by, "")
        if entry.acknowledged_by
        else None,
        "acknowledged_at": _iso(entry.acknowledged_at),
    }


def entries_dicts(entries: list[HandoverEntry], names: dict[int, str]) -> list[dict[str, Any]]:
    """Wire shapes of several entries, with author and acknowledger names
    (services.entry_names)."""
    return [entry_dict(e, names) for e in entries]


def log_dicts(log: HandoverLog) -> list[dict[str, Any]]:
    """The handover log (services.handover_log): each shift with its status and entry."""
    return [
        shift_dict(r.shift)
        | {
            "agent_name": r.agent_name,
            "status": r.status,
            "entry": entry_dict(r.entry, log.entry_names) if r.entry else None,
        }
        for r in log.shifts
    ]


def misses_report_dict(report: MissesReport) -> dict[str, Any]:
    """A period's misses (services.misses_report): each miss with its ordinal, and per agent
    the levels."""
    names = report.names
    listed = [
        {
            "id": c.miss.id,
            "agent_id": c.miss.agent_id,
            "agent_name": names.get(c.miss.agent_id, ""),
            "kind": c.miss.kind,
            "ref": c.miss.ref,
            "at": _iso(c.miss.at),
            "occurrence": c.occurrence,
            "level": c.level,
            "consequence": c.consequence,
        }
        for c in report.misses
    ]
    per_agent: dict[int, dict[str, Any]] = {}
    for e in report.escalations:
        row = per_agent.setdefault(
            e.agent_id,
            {"agent_id": e.agent_id, "agent_name": names.get(e.agent_id, ""), "kinds": {}},
        )
        row["kinds"][e.kind] = {"count": e.count, "level": e.level, "consequence": e.consequence}
    return {
        "period": report.period,
        "escalation": report.escalation,
        "agents": sorted(per_agent.values(), key=lambda r: r["agent_id"]),
        "misses": listed,
    }


def summary_dict(summary: WeeklySummary, names: dict[int, str] | None = None) -> dict[str, Any]:
    """The wire shape of a weekly summary."""
    return {
        "id": summary.id,
        "agent_id": summary.agent_id,
        "agent_name": (names or {}).get(summary.agent_id, ""),
        "week_start": summary.week_start.isoformat(),
        "went_well": summary.went_well,
        "to_improve": summary.to_improve,
        "chars": len(summary.went_well) + len(summary.to_improve),
        "submitted_at": _iso(summary.submitted_at),
        "late": summary.late,
    }


def weekly_status_dict(status: WeeklyStatus) -> dict[str, Any]:
    """What the agent's page shows about this week's summary (services.weekly_status)."""
    return {
        "week_start": status.week_start.isoformat(),
        "due": _iso(status.due),
        "min_chars": status.min_chars,
        "due_soon": status.due_soon,
        "overdue": status.overdue,
        "summary": summary_dict(status.summary) if status.summary else None,
        "last_week_missing": status.last_week_missing,
        "last_week_start": status.last_week_start.isoformat(),
    }
