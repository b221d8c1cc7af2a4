"""Wire dicts for forecasts and staffing settings."""

from __future__ import annotations

import math
from typing import Any

from console.core.models import ForecastInterval, StaffingSettings
from console.forecasts.services import SETTING_FIELDS, Accuracy, ForecastTable, accuracy


def settings_dict(cfg: StaffingSettings) -> dict[str, Any]:
    """The wire shape of staffing settings."""
    return {"queue_id": cfg.queue_id, **{f: getattr(cfg, f) for f in SETTING_FIELDS}}


def interval_dict(row: ForecastInterval) -> dict[str, Any]:
    """One stored forecast interval (services.edit)."""
    return {
        "start": row.start.isoformat(),
        "calls": row.calls,
        "aht_s": row.aht_s,
        "edited": row.edited,
    }


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def accuracy_dict(a: Accuracy | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "intervals": a.intervals,
        "forecast_calls": a.forecast_calls,
        "actual_calls": a.actual_calls,
        "wape_pct": a.wape_pct,
        "bias_pct": a.bias_pct,
    }


def table_dict(t: ForecastTable, actual: list[int | None] | None = None) -> dict[str, Any]:
    """The forecast table (services.table); with `actual` (services.actual_calls) each row
    also carries `actual_calls` and the table the forecast's `accuracy`."""
    rows = [
        {
            "start": r.start.isoformat(),
            "calls": r.calls,
            "aht_s": r.aht_s,
            "edited": row.edited,
            "traffic_erlangs": r.traffic_erlangs,
            "agents": r.agents,
            "service_level": r.service_level,
            "asa_s": _finite(r.asa_s),
            "occupancy": r.occupancy,
            "p_abandon": r.p_abandon,
            "agents_with_shrinkage": r.agents_with_shrinkage,
        }
        for r, row in zip(t.sized, t.stored, strict=True)
    ]
    out: dict[str, Any] = {
        "queue_id": t.queue_id,
        "since": t.since.isoformat(),
        "until": t.until.isoformat(),
        "model": t.inputs.model,
        "settings": settings_dict(t.settings),
        "rows": rows,
    }
    if actual is None:
        return out
    out["rows"] = [r | {"actual_calls": a} for r, a in zip(rows, actual, strict=True)]
    out["accuracy"] = accuracy_dict(accuracy([r.calls for r in t.sized], actual))
    return out
