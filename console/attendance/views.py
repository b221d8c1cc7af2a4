"""Attendance pages and API: clock-in/out for agents; adherence and the ledger for planners."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request
from flask_login import current_user

from console.attendance import schemas
from console.attendance import services as attendance
from console.core.errors import DomainError
from console.core.events import agent_clocked
from console.core.i18n import table
from console.core.states import Role
from console.customers import services as customers
from console.web.access import hotline as hl
from console.web.access import json_body, roles
from console.web.access import timezone as _tz
from console.workforce import services as workforce

bp = Blueprint("attendance", __name__, template_folder="templates")
PLAN_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _agent_id() -> int:
    agent_id = getattr(current_user, "agent_id", None)
    if agent_id is None:
        raise DomainError("agent-not-found")
    return int(agent_id)


def _day(raw: str | None, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        raise DomainError("invalid-input", f"{name}: YYYY-MM-DD expected") from None


def _live_states() -> dict[int, str]:
    return {a.agent_id: a.state for a in hl().live.agents()}


@bp.route("/schedule/attendance")
@roles(*PLAN_ROLES)
def attendance_page() -> Any:
    now = _now()
    today = workforce.local_day(now, _tz())
    return render_template(
        "attendance.html",
        t=table(current_user.language),
        lang=current_user.language,
        today=today.isoformat(),
        week_ago=(today - dt.timedelta(days=6)).isoformat(),
        month=f"{today.year:04d}-{today.month:02d}",
    )


@bp.route("/api/v1/agent/clock", methods=["POST"])
@roles(Role.AGENT)
def clock() -> Any:
    data = json_body()
    agent_id = _agent_id()
    now = _now()
    with hl().sessions.begin() as s:
        event = attendance.clock(
            s,
            agent_id,
            data.get("kind"),
            now,
            _tz(),
            without_relief=data.get("without_relief") is True,
        )
        out: dict[str, Any] = {
            "kind": event.kind,
            "at": event.at.isoformat(),
            "source": event.source,
        }
        clocked = agent_clocked(
            agent_id=agent_id, kind=event.kind, at=event.at.timestamp(), source=event.source
        )
    hl().bus.publish(clocked)  # committed first: a supervisor's grid shows it at once
    with hl().sessions() as s:
        view = attendance.agent_view(s, agent_id, _tz(), now)
        out["status"] = schemas.agent_view(view, current_user.language)
    return jsonify(out)


@bp.route("/api/v1/agent/attendance")
@roles(Role.AGENT)
def my_attendance() -> Any:
    agent_id = _agent_id()
    with hl().sessions() as s:
        view = attendance.agent_view(s, agent_id, _tz(), _now())
        return jsonify(schemas.agent_view(view, current_user.language))


@bp.route("/api/v1/adherence/now")
@roles(*PLAN_ROLES)
def adherence_now() -> Any:
    states = _live_states()
    with hl().sessions() as s:
        return jsonify(schemas.realtime_dict(attendance.realtime(s, _tz(), _now(), states)))


@bp.route("/api/v1/adherence")
@roles(*PLAN_ROLES)
def adherence_history() -> Any:
    args = request.args
    first = _day(args.get("from"), "from")
    last = _day(args.get("to"), "to")
    agent_id = None
    if args.get("agent_id"):
        try:
            agent_id = int(args["agent_id"])
        except ValueError:
            raise DomainError("invalid-input", "agent_id: a number expected") from None
    with hl().sessions() as s:
        return jsonify(
            schemas.history_dict(attendance.history(s, first, last, _tz(), _now(), agent_id))
        )


@bp.route("/api/v1/attendance/ledger.csv")
@roles(*PLAN_ROLES)
def ledger_csv() -> Any:
    now = _now()
    year, month = attendance.parse_month(request.args.get("month"), workforce.local_day(now, _tz()))
    label = f"{year:04d}-{month:02d}"
    with hl().sessions.begin() as s:
        customers.audit(s, current_user.id, "export", "attendance-ledger", label)
    with hl().sessions() as s:
        _, views = attendance.ledgers(s, year, month, _tz(), now)
        body = schemas.ledger_csv(views, current_user.language)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=attendance-{label}.csv"},
    )


@bp.route("/api/v1/attendance/ledger")
@roles(*PLAN_ROLES)
def ledger() -> Any:
    now = _now()
    year, month = attendance.parse_month(request.args.get("month"), workforce.local_day(now, _tz()))
    with hl().sessions() as s:
        policy, views = attendance.ledgers(s, year, month, _tz(), now)
        return jsonify(
            {
                "month": f"{year:04d}-{month:02d}",
                "policy": schemas.policy_dict(policy),
                "ledgers": [schemas.ledger_dict(v, current_user.language) for v in views],
            }
        )
