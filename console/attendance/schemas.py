"""Wire dicts and CSV shaping for attendance, in the reader's language.

The engine (roster/attendance.py) reports each deduction as a kind and the fields that explain
it; the sentences are made here from the catalog ("ledger.<kind>").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from console.attendance.services import AgentView, History, JudgedShift, LedgerView, Realtime
from console.core.i18n import translate
from console.workforce.services import PublishedShift
from roster import attendance as att
from roster.attendance import LedgerEntry


def _r1(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def shift_dict(p: PublishedShift) -> dict[str, Any]:
    """The wire shape of a published shift."""
    return {
        "day": p.day.isoformat(),
        "template_code": p.template_code,
        "queue_skill": p.queue_skill,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "on_site": p.on_site,
        "seat": p.seat,
        "break_start": p.break_start.isoformat() if p.break_start else None,
        "break_end": (p.break_start + dt.timedelta(minutes=p.break_min)).isoformat()
        if p.break_start
        else None,
    }


def judged_dict(j: JudgedShift, name: str) -> dict[str, Any]:
    """The wire shape of one shift's adherence."""
    r = j.result
    return {
        "agent_id": j.shift.agent_id,
        "name": name,
        **shift_dict(j.shift),
        "scheduled_min": _r1(r.scheduled_min),
        "logged_in_min": _r1(r.logged_in_min),
        "adherence_pct": _r1(r.adherence_pct),
        "clock_in": j.clock_in.isoformat() if j.clock_in else None,
        "clock_out": j.clock_out.isoformat() if j.clock_out else None,
        "without_relief": j.without_relief,
        "late_start_min": _r1(r.late_start_min),
        "early_leave_min": _r1(r.early_leave_min),
        "absent": r.absent,
        "on_leave": j.on_leave,
        "logouts": r.logouts,
    }


def history_dict(h: History) -> dict[str, Any]:
    """Adherence per ended shift of a range, with totals (services.history)."""
    t = h.totals
    return {
        "from": h.first_day.isoformat(),
        "to": h.last_day.isoformat(),
        "shifts": [
            judged_dict(j, h.names.get(j.shift.agent_id, str(j.shift.agent_id))) for j in h.judged
        ],
        "totals": {
            "shifts": t.shifts,
            "scheduled_min": t.scheduled_min,
            "logged_in_min": t.logged_in_min,
            "adherence_pct": t.adherence_pct,
            "late": t.late,
            "absent": t.absent,
            "logouts": t.logouts,
        },
    }


def realtime_dict(rt: Realtime) -> dict[str, Any]:
    """Every active agent now (services.realtime), with the counts the page heads."""
    rows = [
        {
            "agent_id": r.agent_id,
            "name": r.name,
            "scheduled": r.scheduled,
            "shift": shift_dict(r.shift) if r.shift is not None else None,
            "clocked_in": r.clock.clocked_in,
            "clocked_in_since": r.clock.since.isoformat() if r.clock.since else None,
            "state": r.state,
            "in_adherence": r.in_adherence,
            "reason": r.reason,
        }
        for r in rt.agents
    ]
    return {
        "at": rt.at.isoformat(),
        "agents": rows,
        "scheduled": sum(1 for r in rt.agents if r.scheduled),
        "out_of_adherence": sum(1 for r in rt.agents if not r.in_adherence),
    }


def policy_dict(p: att.AttendancePolicy) -> dict[str, Any]:
    """The rule numbers a reader needs to understand a score."""
    return {
        "start_points": p.start_points,
        "warning_at": p.warning_at,
        "penalty_at": p.penalty_at,
        "severe_months": p.severe_months,
        "late_points": p.late_points,
        "absence_late_after_min": p.absence_late_after_min,
        "absence_late_points": p.absence_late_points,
        "absence_points": p.absence_points,
        "logout_count": p.logout_count,
        "logout_points": p.logout_points,
        "max_swaps": p.max_swaps,
        "excess_swap_points": p.excess_swap_points,
    }


def _ordinal(n: int, language: str) -> str:
    if not language.startswith("en"):
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def entry_detail(e: LedgerEntry, language: str) -> str:
    """Why one deduction was made, in the reader's language."""
    params: dict[str, Any] = dict(e.params)
    if "logouts" in params:
        params["ordinal"] = _ordinal(int(params["logouts"]), language)
    return translate(f"ledger.{e.kind}", language, **params)


def ledger_dict(v: LedgerView, language: str) -> dict[str, Any]:
    """The wire shape of one agent's ledger; reasons in the reader's language."""
    return {
        "agent_id": v.agent_id,
        "name": v.name,
        "month": f"{v.ledger.year:04d}-{v.ledger.month:02d}",
        "score": v.ledger.score,
        "level": v.ledger.level,
        "previous_scores": list(v.previous_scores),
        "shifts": v.shifts,
        "late": v.late,
        "absences": v.absences,
        "logouts": v.logouts,
        "leave_days": v.leave_days,
        "swaps": v.swaps,
        "entries": [
            {
                "day": e.day.isoformat(),
                "kind": e.kind,
                "points": e.points,
                "detail": entry_detail(e, language),
            }
            for e in v.ledger.entries
        ],
    }


LEDGER_CSV_COLUMNS = (
    "agent_id",
    "name",
    "month",
    "score",
    "level",
    "shifts",
    "late",
    "absences",
    "logouts",
    "leave_days",
    "swaps",
    "deductions",
)


def ledger_csv(views: list[LedgerView], language: str) -> str:
    """The month's ledgers as CSV for payroll and HR: one row per agent, every deduction listed
    (day, kind, points, reason in the reader's language)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(LEDGER_CSV_COLUMNS)
    for v in views:
        d = ledger_dict(v, language)
        d["level"] = d["level"] or ""
        d["deductions"] = "; ".join(
            f"{e['day']} {e['kind']} {e['points']:g} {e['detail']}" for e in d["entries"]
        )
        writer.writerow([d[c] for c in LEDGER_CSV_COLUMNS])
    return buf.getvalue()


def agent_view(v: AgentView, language: str) -> dict[str, Any]:
    """What the agent console shows (services.agent_view), the ledger worded."""
    return {
        "agent_id": v.agent_id,
        "clocked_in": v.status.clocked_in,
        "clocked_in_since": v.status.since.isoformat() if v.status.since else None,
        "current_shift": shift_dict(v.current_shift) if v.current_shift else None,
        "today": [shift_dict(p) for p in v.today],
        "next_shift": shift_dict(v.next_shift) if v.next_shift else None,
        "policy": policy_dict(v.policy),
        "ledger": ledger_dict(v.ledger, language),
    }
