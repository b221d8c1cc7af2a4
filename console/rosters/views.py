"""Roster pages and API: build, solve, edit, publish, export; the agent's own schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from flask_login import current_user

from console.core.errors import DomainError
from console.core.events import schedule_changed
from console.core.states import Role
from console.requests import schemas as req_schemas
from console.requests import services as req_svc
from console.rosters import schemas
from console.rosters import services as rosters
from console.web.access import hotline as hl
from console.web.access import json_body, my_agent_id, page, roles
from console.web.access import timezone as tz
from console.workforce import services as workforce

bp = Blueprint("rosters", __name__, template_folder="templates")
PLAN_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)
DECIDE_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _tell(*changes: schedule_changed) -> None:
    """Tell agents, after the change is committed, that their own schedule changed."""
    for change in changes:
        hl().bus.publish(change)


def _day(raw: str | None, name: str, default: dt.date) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError("invalid-input", f"{name}: YYYY-MM-DD expected") from None


def _today() -> dt.date:
    return workforce.local_day(dt.datetime.now(dt.UTC), tz())


# ---- pages -----------------------------------------------------------------------------


@bp.route("/schedule/rosters")
@roles(*PLAN_ROLES)
def rosters_page() -> Any:
    today = _today()
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    return page("rosters.html", next_monday=monday.isoformat())


@bp.route("/schedule/rosters/<int:roster_id>")
@roles(*PLAN_ROLES)
def roster_page(roster_id: int) -> Any:
    with hl().sessions() as s:
        rosters.get_plan(s, roster_id)
    return page("roster.html", roster_id=roster_id)


@bp.route("/my/schedule")
@roles(Role.AGENT)
def my_schedule_page() -> Any:
    return page("my_schedule.html", today=_today().isoformat())


# ---- templates and rules ------------------------------------------------------------------


@bp.route("/api/v1/rosters", methods=["GET", "POST"])
@roles(*PLAN_ROLES)
def roster_list() -> Any:
    if request.method == "GET":
        with hl().sessions() as s:
            return jsonify(schemas.plan_summaries(rosters.list_plans(s)))
    with hl().sessions.begin() as s:
        plan = rosters.create(s, json_body(), current_user.id)
        return jsonify(schemas.plan_summary(plan)), 201


@bp.route("/api/v1/rosters/<int:roster_id>")
@roles(*PLAN_ROLES)
def roster_detail(roster_id: int) -> Any:
    with hl().sessions.begin() as s:
        plan = rosters.get_plan(s, roster_id)
        solves = hl().rosters
        solves.expire_if_dead(plan)  # its solving process stopped: the page may solve again
        detail = rosters.plan_detail(s, plan, tz(), solves.is_solving(plan))
        return jsonify(schemas.plan_detail(detail, current_user.language))


@bp.route("/api/v1/rosters/<int:roster_id>/solve", methods=["POST"])
@roles(*PLAN_ROLES)
def roster_solve(roster_id: int) -> Any:
    hl().rosters.start(roster_id)
    with hl().sessions() as s:
        return jsonify(schemas.plan_summary(rosters.get_plan(s, roster_id))), 202


@bp.route("/api/v1/rosters/<int:roster_id>/cancel", methods=["POST"])
@roles(*PLAN_ROLES)
def roster_cancel(roster_id: int) -> Any:
    with hl().sessions() as s:
        return jsonify({"cancelled": hl().rosters.request_cancel(s, roster_id)})


@bp.route("/api/v1/rosters/<int:roster_id>/shifts", methods=["PUT"])
@roles(*PLAN_ROLES)
def roster_edit(roster_id: int) -> Any:
    with hl().sessions.begin() as s:
        plan = rosters.get_plan(s, roster_id)
        violations = rosters.edit_shift(s, plan, tz(), json_body())
        return jsonify({"violations": schemas.violations(violations, current_user.language)})


@bp.route("/api/v1/rosters/<int:roster_id>/publish", methods=["POST"])
@roles(*PLAN_ROLES)
def roster_publish(roster_id: int) -> Any:
    with hl().sessions.begin() as s:
        plan = rosters.publish(s, rosters.get_plan(s, roster_id), tz(), current_user.id)
        out = schemas.plan_summary(plan)
        agents = rosters.rostered_agents(s, roster_id)
    _tell(
        *(
            schedule_changed(agent_id=a, kind="published", roster_id=roster_id)
            for a in sorted(agents)
        )
    )
    return jsonify(out)


@bp.route("/api/v1/rosters/<int:roster_id>/roster.csv")
@roles(*PLAN_ROLES)
def roster_export(roster_id: int) -> Any:
    with hl().sessions() as s:
        plan = rosters.get_plan(s, roster_id)
        detail = rosters.plan_detail(s, plan, tz(), running=False)
        body = schemas.roster_csv(detail, current_user.language)
        name = f"roster-{plan.start.isoformat()}.csv"
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.route("/api/v1/rosters/<int:roster_id>/coverage")
@roles(*PLAN_ROLES)
def roster_coverage(roster_id: int) -> Any:
    with hl().sessions.begin() as s:
        return jsonify(
            schemas.coverage_dict(rosters.coverage(s, rosters.get_plan(s, roster_id), tz()))
        )


# ---- an agent's own schedule ------------------------------------------------------------------


def _schedule_range() -> tuple[dt.date, dt.date]:
    today = _today()
    first = _day(request.args.get("from"), "from", today - dt.timedelta(days=today.weekday()))
    last = _day(request.args.get("to"), "to", first + dt.timedelta(days=41))
    if last < first or (last - first).days > 92:
        raise DomainError("invalid-input", "to must be after from, at most 92 days")
    return first, last


@bp.route("/api/v1/agent/schedule")
@roles(Role.AGENT)
def my_schedule() -> Any:
    agent_id = my_agent_id()
    first, last = _schedule_range()
    with hl().sessions() as s:
        return jsonify(req_schemas.schedule_dict(req_svc.schedule(s, agent_id, first, last, tz())))


@bp.route("/api/v1/agent/schedule.ics")
@roles(Role.AGENT)
def my_schedule_ics() -> Any:
    agent_id = my_agent_id()
    today = _today()
    with hl().sessions() as s:
        shifts = req_svc.calendar(
            s, agent_id, today - dt.timedelta(days=31), today + dt.timedelta(days=92), tz()
        )
    body = req_schemas.ical(shifts, tz())
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="hotline-schedule.ics"'},
    )


# ---- leave requests ------------------------------------------------------------------------------
