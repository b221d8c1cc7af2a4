"""Workforce pages and API: forecast per interval and the staffing requirement."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, jsonify, render_template, request
from flask_login import current_user

from console.core.errors import DomainError
from console.core.i18n import table
from console.core.states import Role
from console.forecasts import schemas
from console.forecasts import services as forecasts
from console.web.access import hotline as hl
from console.web.access import json_body, roles

bp = Blueprint("forecasts", __name__, template_folder="templates")
PLAN_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)
DEFAULT_SPAN = dt.timedelta(days=7)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _instant(raw: str, name: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DomainError("invalid-input", f"{name}: ISO 8601 date-time expected") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@bp.route("/schedule/forecast")
@roles(*PLAN_ROLES)
def forecast_page() -> Any:
    with hl().sessions() as s:
        queues = [{"id": q.id, "name": q.name} for q in forecasts.queues(s)]
    today = dt.datetime.now(ZoneInfo(hl().settings.timezone)).date()
    return render_template(
        "forecast.html",
        t=table(current_user.language),
        lang=current_user.language,
        queues=queues,
        this_week=_iso_week(today),
    )


@bp.route("/api/v1/queues/<int:queue_id>/forecast")
@roles(*PLAN_ROLES)
def get_forecast(queue_id: int) -> Any:
    args = request.args
    since = (
        _instant(args["since"], "since")
        if args.get("since")
        else dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    until = _instant(args["until"], "until") if args.get("until") else since + DEFAULT_SPAN
    if until <= since or until - since > dt.timedelta(days=62):
        raise DomainError("invalid-input", "until must be after since, at most 62 days")
    with hl().sessions() as s:
        week = forecasts.table(s, queue_id, since, until)
        actual = forecasts.actual_calls(s, week, dt.datetime.now(dt.UTC))
        return jsonify(schemas.table_dict(week, actual))


@bp.route("/api/v1/queues/<int:queue_id>/forecast/generate", methods=["POST"])
@roles(*PLAN_ROLES)
def generate_forecast(queue_id: int) -> Any:
    data = json_body()
    try:
        start = dt.date.fromisoformat(str(data.get("start", "")))
    except ValueError:
        raise DomainError("invalid-input", "start: YYYY-MM-DD expected") from None
    weeks = data.get("weeks", 1)
    with hl().sessions.begin() as s:
        n = forecasts.generate(s, queue_id, start, weeks, hl().settings.timezone)
    return jsonify({"generated": n, "week": _iso_week(start)})


@bp.route("/api/v1/queues/<int:queue_id>/forecast/import", methods=["POST"])
@roles(*PLAN_ROLES)
def import_forecast(queue_id: int) -> Any:
    if request.mimetype == "text/csv":
        text = request.get_data(as_text=True)
    else:
        body_csv = json_body().get("csv")
        if not isinstance(body_csv, str):
            raise DomainError("invalid-input", "csv: text expected")
        text = body_csv
    tz = hl().settings.timezone
    with hl().sessions.begin() as s:
        rows = forecasts.import_csv(s, queue_id, text, tz)
    week = _iso_week(rows[0].start.astimezone(ZoneInfo(tz)).date()) if rows else None
    return jsonify({"imported": len(rows), "week": week})


@bp.route("/api/v1/queues/<int:queue_id>/forecast/<start>", methods=["PUT"])
@roles(*PLAN_ROLES)
def edit_forecast(queue_id: int, start: str) -> Any:
    at = _instant(start, "start")
    data = json_body()
    with hl().sessions.begin() as s:
        row = forecasts.edit(s, queue_id, at, data.get("calls"), data.get("aht_s"))
        out = schemas.interval_dict(row)
    return jsonify(out)


@bp.route("/api/v1/queues/<int:queue_id>/staffing-settings", methods=["GET", "PUT"])
@roles(*PLAN_ROLES)
def staffing_settings(queue_id: int) -> Any:
    if request.method == "GET":
        with hl().sessions() as s:
            return jsonify(schemas.settings_dict(forecasts.settings_of(s, queue_id)))
    data = json_body()
    with hl().sessions.begin() as s:
        return jsonify(schemas.settings_dict(forecasts.update_settings(s, queue_id, data)))
