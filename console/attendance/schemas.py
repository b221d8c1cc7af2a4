"""Wire dicts and CSV shaping for attendance, in the reader's language.

The engine (roster/attendance.py) reports each deduction as a kind and the fields that explain
it; the sentences are made here from the catalog ("ledger.<kind>").
"""

from __future__ import annotations

import csv
import io
from typing import Any

from console.attendance.services import AgentView, LedgerView
from console.core.i18n import translate
from roster.attendance import LedgerEntry


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
    return {**v.fields, "ledger": ledger_dict(v.ledger, language)}
