"""The supervisor's live page (wallboard and agent grid) and its API: the snapshot, and the
figures of a period recomputed from the call records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, jsonify, request

from console.core.errors import DomainError
from console.core.states import Role
from console.node import Hotline
from console.supervision import figures as fg
from console.supervision import schemas
from console.supervision import services as supervision
from console.web.access import hotline as hl
from console.web.access import page, roles

bp = Blueprint("supervision", __name__, template_folder="templates")
SUPERVISION_ROLES = (Role.SUPERVISOR, Role.ADMIN)
PERIODS = ("interval", "day", "hour")


# Intervals that tile an hour, so a shift day (which starts on the hour) holds whole intervals.
INTERVALS_MIN = (5, 10, 15, 20, 30, 60)


def init_app(app: Flask) -> None:
    settings = app.extensions["hotline"].settings
    if not 0 <= settings.shift_day_start_hour <= 23:
        raise ValueError("HOTLINE_SHIFT_DAY_START_HOUR must be an hour, 0-23")
    if settings.wallboard_interval_min not in INTERVALS_MIN:
        raise ValueError(f"HOTLINE_WALLBOARD_INTERVAL_MIN must be one of {INTERVALS_MIN}")
    app.register_blueprint(bp)


def snapshot(hotline: Hotline, now: dt.datetime | None = None) -> dict[str, Any]:
    """The full picture now, as the page (re)starts from it."""
    s = hotline.settings
    with hotline.sessions() as session:
        board = supervision.board(
            session,
            hotline.live.agents(),
            now or dt.datetime.now(dt.UTC),
            s.timezone,
            s.shift_day_start_hour,
            s.wallboard_interval_min,
        )
        return schemas.snapshot_dict(board)


@bp.route("/supervision")
@roles(*SUPERVISION_ROLES)
def supervision_page() -> Any:
    return page("supervision.html")


@bp.route("/api/v1/supervision/snapshot")
@roles(*SUPERVISION_ROLES)
def snapshot_api() -> Any:
    return jsonify(snapshot(hl()))


def _period(now: dt.datetime) -> tuple[str, fg.Period, str]:
    s = hl().settings
    which = request.args.get("period", "day")
    if which not in PERIODS:
        raise DomainError("invalid-input", "period")
    raw_day = request.args.get("day")
    if raw_day and which != "day":
        raise DomainError("invalid-input", "day")
    if which == "interval":
        return which, fg.interval_period(now, s.timezone, s.wallboard_interval_min), ""
    if which == "hour":
        return which, fg.sliding_hour(now.timestamp()), ""
    try:
        day = (
            dt.date.fromisoformat(raw_day)
            if raw_day
            else fg.shift_day(now, s.timezone, s.shift_day_start_hour)
        )
    except ValueError:
        raise DomainError("invalid-input", "day") from None
    return which, fg.shift_day_period(day, s.timezone, s.shift_day_start_hour), day.isoformat()


@bp.route("/api/v1/supervision/figures")
@roles(*SUPERVISION_ROLES)
def figures_api() -> Any:
    now = dt.datetime.now(dt.UTC)
    which, period, day = _period(now)
    with hl().sessions() as session:
        by_queue = supervision.recomputed(session, period)
    end = period.end if period.end != float("inf") else now.timestamp()
    return jsonify(
        {
            "period": which,
            "day": day or None,
            "start": period.start,
            "end": end,
            "queues": {fg.queue_key(q): schemas.figures_dict(s) for q, s in by_queue.items()},
            "total": schemas.figures_dict(fg.total(by_queue)),
        }
    )
