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


def plan_detail(detail: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The roster grid (services.plan_detail) with its violations and explanations worded."""
    return {
        **detail,
        "violation_list": violations(detail["violation_list"], language),
        "result": result(detail["result"], language),
    }


def roster_csv(detail: Mapping[str, Any], language: str) -> str:
    """The roster (services.plan_detail) as a sheet to post or open in a spreadsheet: one row
    per agent, one column per day ("E #6" = shift E at seat 6, "+cleaning" = the duty), paid
    hours, then a legend of the shift times."""
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
