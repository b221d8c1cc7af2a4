"""Quality on the wire: a call's analysis, the analysis' progress, a run; the recording
library's rows, choices and saved filters, and a call's waveform peaks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from console.core.i18n import keys, translate
from console.core.models import CallAnalysis, QaAnalysisRun, QaSavedFilter
from console.quality.defaults import FLAG_AT
from console.quality.jobs import RunResult
from console.quality.services import (
    ChannelPeaks,
    LibraryChoices,
    LibraryEntry,
    LibraryNames,
    LibraryPage,
    LibraryRow,
    Progress,
)
from console.recordings.schemas import recording_dict


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def analysis_dict(row: CallAnalysis, active_version: int | None) -> dict[str, Any]:
    """A call's analysis; `current` says it ran with the active rules version."""
    return {
        "call_id": row.call_id,
        "status": row.status,
        "rules_version": row.rules_version,
        "current": row.rules_version == active_version,
        "error": row.error,
        "error_detail": row.error_detail,
        "analysed_at": _iso(row.analysed_at),
        "duration_s": row.duration_s,
        "metrics": row.metrics or {},
        "segments": row.segments or {},
        "rules": row.rule_results or [],
    }


def run_dict(row: QaAnalysisRun | RunResult) -> dict[str, Any]:
    return {
        "trigger": str(row.trigger),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "analysed": row.analysed,
        "failed": row.failed,
    }


def progress_dict(p: Progress) -> dict[str, Any]:
    return {
        "rules_version": p.rules_version,
        "done": p.done,
        "pending": p.pending,
        "failed": p.failed,
        "last_run": run_dict(p.last_run) if p.last_run is not None else None,
    }


def run_result_dict(run: RunResult, p: Progress) -> dict[str, Any]:
    """A run asked for: what it did, and the progress after it."""
    return {"run": run_dict(run), "requeued": run.requeued, "progress": progress_dict(p)}


# ---- the recording library -----------------------------------------------------------------

# The metrics a library row shows as badges.
ROW_METRICS = ("longest_silence_s", "overtalk_s", "agent_first_word_s", "hold_s")


def rule_label(rule_id: str, language: str) -> str:
    """A phrase rule's name in the reader's language (its id when the catalog has none)."""
    key = f"quality.rule.{rule_id}"
    return translate(key, language) if key in keys() else rule_id


def _failed_rules(row: CallAnalysis | None, language: str) -> list[dict[str, str]]:
    seen: list[str] = []
    for verdict in (row.rule_results or []) if row is not None else []:
        if verdict.get("status") == "failed" and verdict.get("rule_id") not in seen:
            seen.append(str(verdict.get("rule_id")))
    return [{"id": r, "label": rule_label(r, language)} for r in seen]


def _analysis_state(row: CallAnalysis | None, names: LibraryNames, language: str) -> dict[str, Any]:
    if row is None:
        return {"status": "waiting", "current": False, "error": None, "error_message": None}
    error = row.error
    return {
        "status": row.status,
        "current": row.rules_version == names.rules_version,
        "error": error,
        "error_message": translate(f"error.{error}", language, detail="").strip()
        if error
        else None,
    }


def library_row_dict(item: LibraryRow, names: LibraryNames, language: str) -> dict[str, Any]:
    """A recorded call as the library lists it, in the reader's language."""
    call, analysis = item.call, item.analysis
    metrics = (analysis.metrics or {}) if analysis is not None else {}
    shown = {m: metrics.get(m) for m in ROW_METRICS}
    flags = [
        m
        for m, at in FLAG_AT.items()
        if isinstance(shown.get(m), int | float) and float(shown[m] or 0) >= at
    ]
    disposition = names.dispositions.get(call.disposition_code or "")
    label = None
    if disposition is not None:
        label = disposition.label_zh if language == "zh-CN" else disposition.label_en
    return {
        "call_id": call.id,
        "arrived_at": _iso(call.arrived_at),
        "answered_at": _iso(call.answered_at),
        "agent_id": call.agent_id,
        "agent": names.calls.agents.get(call.agent_id or 0),
        "queue_id": call.queue_id,
        "queue": names.calls.queues.get(call.queue_id or 0),
        "caller_number": call.caller_number,
        "caller_number_invalid": call.caller_number_invalid,
        "duration_s": call.talk_s,
        "disposition": call.disposition_code,
        "disposition_label": label or call.disposition_code,
        "tags": [t.tag for t in call.tags],
        "analysis": _analysis_state(analysis, names, language),
        "metrics": shown,
        "flags": flags,
        "failed_rules": _failed_rules(analysis, language),
    }


def library_page_dict(page: LibraryPage, language: str) -> dict[str, Any]:
    """One page of the library with the total count."""
    return {
        "total": page.total,
        "items": [library_row_dict(r, page.names, language) for r in page.rows],
    }


def library_entry_dict(entry: LibraryEntry, language: str) -> dict[str, Any]:
    """A recorded call for the player: its row, its recordings, its analysis (or null) with
    each rule's name in the reader's language."""
    analysis = entry.row.analysis
    verdicts = (analysis.rule_results or []) if analysis is not None else []
    rule_ids = sorted({str(r.get("rule_id")) for r in verdicts})
    return {
        "call": library_row_dict(entry.row, entry.names, language),
        "recordings": [recording_dict(r) for r in entry.recordings],
        "analysis": None
        if analysis is None
        else analysis_dict(analysis, entry.names.rules_version),
        "rule_labels": {r: rule_label(r, language) for r in rule_ids},
    }


def choices_dict(c: LibraryChoices, language: str) -> dict[str, Any]:
    """What the library's filters offer, in the reader's language."""
    return {
        "agents": [{"id": i, "name": n} for i, n in c.agents],
        "queues": [{"id": i, "name": n} for i, n in c.queues],
        "dispositions": [
            {"code": d.code, "label": d.label_zh if language == "zh-CN" else d.label_en}
            for d in c.dispositions
        ],
        "tags": c.tags,
        "rules": [{"id": r, "label": rule_label(r, language)} for r in c.rule_ids],
        "flag_at": FLAG_AT,
    }


def saved_filter_dict(row: QaSavedFilter) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "filters": row.filters or {},
        "created_at": _iso(row.created_at),
    }


def peaks_dict(channels: list[ChannelPeaks], points: int) -> dict[str, Any]:
    """Both channels' peaks on one timeline (the longer channel's length)."""
    return {
        "points": points,
        "duration_s": max((c.duration_s for c in channels), default=0.0),
        "channels": {
            c.side: {
                "sample_rate": c.sample_rate,
                "duration_s": c.duration_s,
                "low": c.low,
                "high": c.high,
            }
            for c in channels
        },
    }
