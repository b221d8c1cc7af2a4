"""Wire dicts and CSV shaping for rosters, in the reader's language.

The engine and the services keep rule ids and the fields a message needs; the sentences are
made here, from the catalog ("rule.<id>" for hard-rule violations, "explain.<reason>" for
understaffed intervals).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from console.core.i18n import keys, translate
from console.core.models import RosterPlan
from console.rosters.services import Coverage, PlanDetail
from console.workforce import schemas as workforce_schemas


def plan_summary(plan: RosterPlan) -> dict[str, Any]:
    """A roster in the list: its dates, status and how many violations it has."""
    return {
        "id": plan.id,
        "name": plan.name,
        "start": plan.start.isoformat(),
        "days": plan.days,
        "status": plan.status,
        "time_limit_s": plan.time_limit_s,
        "created_at": plan.created_at.isoformat(),
        "published_at": plan.published_at.isoformat() if plan.published_at else None,
        "violations": len(plan.violations or []),
    }


def plan_summaries(plans: Iterable[RosterPlan]) -> list[dict[str, Any]]:
    return [plan_summary(p) for p in plans]


def grid_dict(d: PlanDetail) -> dict[str, Any]:
    """The roster grid (services.plan_detail) as stored: violations and explanations not yet
    worded (plan_detail words them)."""
    plan = d.plan
    return {
        **plan_summary(plan),
        "days_list": [day.isoformat() for day in d.days],
        "templates": [workforce_schemas.template_dict(t) for t in d.templates],
        "agents": [
            {
                "id": a.agent.id,
                "name": a.user.display_name or a.user.username,
                "skills": list(a.agent.skills or []),
                "leave": [day.isoformat() for day in a.leave],
                "shifts": {
                    day.isoformat(): {
                        "code": s.template_code,
                        "queue": s.queue_skill,
                        "edited": s.edited,
                        "seat": s.seat,
                        "break_start": s.break_start.isoformat() if s.break_start else None,
                    }
                    for day, s in a.shifts.items()
                },
                "hours": a.hours,
                "active": a.active,
            }
            for a in d.agents
        ],
        "duties": [
            {"duty": x.duty, "day": x.day.isoformat(), "agent_id": x.agent_id} for x in d.duties
        ],
        "progress": plan.progress or {},
        "result": plan.result or {},
        "violation_list": plan.violations or [],
        "error": plan.error,
        "running": d.running,
    }


def coverage_dict(c: Coverage) -> dict[str, Any]:
    """Required vs scheduled agents per interval and the sealed-coverage gaps
    (services.coverage)."""
    return {
        "interval_min": c.interval_min,
        "rows": [
            {"start": at.isoformat(), "required": need, "scheduled": staffed}
            for at, need, staffed in c.rows
        ],
        "gaps": [
            {
                "start": g.start.isoformat(),
                "end": g.end.isoformat(),
                "day": g.local_day.isoformat(),
                "minutes": g.minutes,
            }
            for g in c.gaps
        ],
        "opening": None
        if c.open_from is None
        else {
            "from": c.open_from.strftime("%H:%M"),
            "to": c.open_to.strftime("%H:%M") if c.open_to else None,
        },
    }


def _old_message(stored: Mapping[str, Any], language: str) -> str:
    # Rows stored before the messages moved to the catalog carry both sentences.
    zh = language.startswith("zh")
    return str(stored.get("message_zh" if zh else "message_en") or stored.get("message_en") or "")


def violation(stored: Mapping[str, Any], language: str) -> dict[str, Any]:
    """One stored violation ({rule, agent_id, agent, day, params}) with its message."""
    params = stored.get("params")
    if params is None and ("message_en" in stored or "message_zh" in stored):
        message = _old_message(stored, language)
    else:
        message = translate(f"rule.{stored['rule']}", language, **(params or {}))
    out = {k: v for k, v in stored.items() if k not in ("params", "message_en", "message_zh")}
    return {**out, "message": message}


def violations(stored: Iterable[Mapping[str, Any]], language: str) -> list[dict[str, Any]]:
    return [violation(v, language) for v in stored]


def explanation(stored: Mapping[str, Any], language: str) -> dict[str, Any]:
    """One stored understaffed-interval explanation with its message."""
    out = {
        k: v
        for k, v in stored.items()
        if k not in ("local", "blocked_by", "message_en", "message_zh")
    }
    if "local" not in stored:
        return {**out, "message": _old_message(stored, language)}
    reason = str(stored["reason"])
    skill = stored["skill"]
    key = f"explain.{reason}"
    why = translate(key, language, skill=skill) if key in keys() else reason
    blocked: Mapping[str, int] = stored.get("blocked_by") or {}
    detail = ", ".join(f"{r}: {c}" for r, c in blocked.items())
    message = translate(
        "explain.line",
        language,
        at=stored["local"],
        skill=skill,
        missing=stored["missing"],
        reason=why,
        detail=translate("explain.detail", language, detail=detail) if detail else "",
    )
    return {**out, "message": message}


def result(stored: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A solve's stored figures, explanations in the reader's language."""
    if "explanations" not in stored:
        return dict(stored)
    return {**stored, "explanations": [explanation(e, language) for e in stored["explanations"]]}


def plan_detail(d: PlanDetail, language: str) -> dict[str, Any]:
    """The roster grid (services.plan_detail) with its violations and explanations worded."""
    detail = grid_dict(d)
    return {
        **detail,
        "violation_list": violations(detail["violation_list"], language),
        "result": result(detail["result"], language),
    }


def roster_csv(d: PlanDetail, language: str) -> str:
    """The roster (services.plan_detail) as a sheet to post or open in a spreadsheet: one row
    per agent, one column per day ("E #6" = shift E at seat 6, "+cleaning" = the duty), paid
    hours, then a legend of the shift times."""
    detail = grid_dict(d)
    duties: dict[tuple[int, str], list[str]] = defaultdict(list)
    for x in detail["duties"]:
        duties[(x["agent_id"], x["day"])].append(x["duty"])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            translate("roster_csv.agent", language),
            translate("roster_csv.skills", language),
            *detail["days_list"],
            translate("roster_csv.hours", language),
        ]
    )
    leave = translate("roster_csv.leave", language)
    for a in detail["agents"]:
        row = [a["name"], " ".join(a["skills"])]
        for day in detail["days_list"]:
            cell = a["shifts"].get(day)
            if cell:
                text = cell["code"] + (f" #{cell['seat']}" if cell["seat"] else "")
            else:
                text = leave if day in a["leave"] else ""
            text += "".join(f" +{duty}" for duty in duties.get((a["id"], day), []))
            row.append(text.strip())
        row.append(f"{a['hours']:g}")
        w.writerow(row)
    w.writerow([])
    for t in detail["templates"]:
        if any(t["code"] == c["code"] for a in detail["agents"] for c in a["shifts"].values()):
            w.writerow([t["code"], t["name"], f"{t['start']}–{t['end']}"])
    return buf.getvalue()
