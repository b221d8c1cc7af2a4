"""Quality analysis on the wire: a call's analysis, the analysis' progress, a run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from console.core.models import CallAnalysis, QaAnalysisRun
from console.quality.jobs import RunResult
from console.quality.services import Progress


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
