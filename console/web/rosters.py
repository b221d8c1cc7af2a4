"""Roster pages and API: templates, rules, solve, edit, publish; agents' schedules, leave and
swaps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import select

from console.container import Hotline
from console.events import schedule_changed
from console.i18n import DomainError, table
from console.models import Agent, RosterShift
from console.services import requests as req_svc
from console.services import rosters, workforce
from console.states import Role
from console.web.auth import json_body, roles

bp = Blueprint("rosters", __name__)
PLAN_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)
DECIDE_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)


def hl() -> Hotline:
    hotline: Hotline = current_app.extensions["hotline"]
    return hotline


def tz() -> str:
    return hl().settings.timezone


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    hotline = app.extensions["hotline"]
    with hotline.sessions.begin() as s:
        rosters.recover_interrupted(s)
    hotline.bus.subscribe(rosters.on_bus)  # Stop pressed on another web process


def _page(template: str, **kw: Any) -> Any:
    return render_template(
        template, t=table(current_user.language), lang=current_user.language, **kw
    )


def _my_agent_id() -> int:
    with hl().sessions() as s:
        agent_id = s.scalar(select(Agent.id).where(Agent.user_id == current_user.id))
    if agent_id is None:
        raise DomainError("forbidden", status=403)
    return agent_id


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
    return _page("rosters.html", next_monday=monday.isoformat())


@bp.route("/schedule/rosters/<int:roster_id>")
@roles(*PLAN_ROLES)
def roster_page(roster_id: int) -> Any:
    with hl().sessions() as s:
        rosters.get_plan(s, roster_id)
    return _page("roster.html", roster_id=roster_id)


@bp.route("/schedule/requests")
@roles(*DECIDE_ROLES)
def requests_page() -> Any:
    return _page("requests.html")


@bp.route("/my/schedule")
@roles(Role.AGENT)
def my_schedule_page() -> Any:
    return _page("my_schedule.html", today=_today().isoformat())


# ---- templates and rules ------------------------------------------------------------------


@bp.route("/api/v1/shift-templates", methods=["GET", "POST"])
@roles(*PLAN_ROLES)
def shift_templates() -> Any:
    if request.method == "GET":
        with hl().sessions() as s:
            return jsonify([workforce.template_dict(t) for t in workforce.templates(s)])
    with hl().sessions.begin() as s:
        row = workforce.save_template(s, json_body())
        return jsonify(workforce.template_dict(row)), 201


@bp.route("/api/v1/shift-templates/<int:template_id>", methods=["PUT"])
@roles(*PLAN_ROLES)
def shift_template(template_id: int) -> Any:
    with hl().sessions.begin() as s:
        return jsonify(
            workforce.template_dict(workforce.save_template(s, json_body(), template_id))
        )


@bp.route("/api/v1/workforce-settings", methods=["GET", "PUT"])
@roles(*PLAN_ROLES)
def workforce_settings() -> Any:
    if request.method == "GET":
        with hl().sessions.begin() as s:
            return jsonify(workforce.settings_dict(workforce.settings_row(s)))
    with hl().sessions.begin() as s:
        return jsonify(workforce.settings_dict(workforce.update_settings(s, json_body())))


@bp.route("/api/v1/roster-agents")
@roles(*PLAN_ROLES)
def roster_agents() -> Any:
    with hl().sessions() as s:
        return jsonify([workforce.agent_terms(a, u) for a, u in workforce.roster_agents(s)])


@bp.route("/api/v1/roster-agents/<int:agent_id>", methods=["PUT"])
@roles(*PLAN_ROLES)
def roster_agent(agent_id: int) -> Any:
    with hl().sessions.begin() as s:
        return jsonify(
            workforce.agent_terms(*workforce.update_agent_terms(s, agent_id, json_body()))
        )


# ---- rosters --------------------------------------------------------------------------------


@bp.route("/api/v1/rosters", methods=["GET", "POST"])
@roles(*PLAN_ROLES)
def roster_list() -> Any:
    if request.method == "GET":
        with hl().sessions() as s:
            return jsonify(rosters.list_plans(s))
    with hl().sessions.begin() as s:
        plan = rosters.create(s, json_body(), current_user.id)
        return jsonify(rosters.plan_summary(plan)), 201


@bp.route("/api/v1/rosters/<int:roster_id>")
@roles(*PLAN_ROLES)
def roster_detail(roster_id: int) -> Any:
    with hl().sessions.begin() as s:
        plan = rosters.get_plan(s, roster_id)
        rosters.expire_if_dead(plan)  # its solving process stopped: the page may solve again
        return jsonify(rosters.plan_detail(s, plan, tz()))


@bp.route("/api/v1/rosters/<int:roster_id>/solve", methods=["POST"])
@roles(*PLAN_ROLES)
def roster_solve(roster_id: int) -> Any:
    rosters.start_solve(hl().sessions, tz(), roster_id)
    with hl().sessions() as s:
        return jsonify(rosters.plan_summary(rosters.get_plan(s, roster_id))), 202


@bp.route("/api/v1/rosters/<int:roster_id>/cancel", methods=["POST"])
@roles(*PLAN_ROLES)
def roster_cancel(roster_id: int) -> Any:
    with hl().sessions() as s:
        return jsonify({"cancelled": rosters.request_cancel(s, hl().bus, roster_id)})


@bp.route("/api/v1/rosters/<int:roster_id>/shifts", methods=["PUT"])
@roles(*PLAN_ROLES)
def roster_edit(roster_id: int) -> Any:
    with hl().sessions.begin() as s:
        plan = rosters.get_plan(s, roster_id)
        violations = rosters.edit_shift(s, plan, tz(), json_body())
        return jsonify({"violations": violations})


@bp.route("/api/v1/rosters/<int:roster_id>/publish", methods=["POST"])
@roles(*PLAN_ROLES)
def roster_publish(roster_id: int) -> Any:
    with hl().sessions.begin() as s:
        plan = rosters.publish(s, rosters.get_plan(s, roster_id), tz(), current_user.id)
        out = rosters.plan_summary(plan)
        agents = set(
            s.scalars(select(RosterShift.agent_id).where(RosterShift.roster_id == roster_id))
        )
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
        body = rosters.roster_csv(s, plan, tz(), current_user.language)
        name = f"roster-{plan.start.isoformat()}.csv"
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.route("/api/v1/rosters/<int:roster_id>/coverage")
@roles(*PLAN_ROLES)
def roster_coverage(roster_id: int) -> Any:
    with hl().sessions.begin() as s:
        return jsonify(rosters.coverage(s, rosters.get_plan(s, roster_id), tz()))


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
    agent_id = _my_agent_id()
    first, last = _schedule_range()
    with hl().sessions() as s:
        return jsonify(req_svc.schedule(s, agent_id, first, last, tz()))


@bp.route("/api/v1/agent/schedule.ics")
@roles(Role.AGENT)
def my_schedule_ics() -> Any:
    agent_id = _my_agent_id()
    today = _today()
    with hl().sessions() as s:
        body = req_svc.ical(
            s, agent_id, today - dt.timedelta(days=31), today + dt.timedelta(days=92), tz()
        )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="hotline-schedule.ics"'},
    )


# ---- leave requests ------------------------------------------------------------------------------


@bp.route("/api/v1/leave-requests", methods=["GET", "POST"])
@roles(Role.AGENT, *DECIDE_ROLES)
def leave_requests() -> Any:
    if request.method == "GET":
        with hl().sessions() as s:
            mine = _my_agent_id() if current_user.role == Role.AGENT else None
            return jsonify(req_svc.list_leave(s, mine, request.args.get("status")))
    agent_id = _my_agent_id()
    if current_user.role != Role.AGENT:
        raise DomainError("forbidden", status=403)
    with hl().sessions.begin() as s:
        return jsonify(req_svc.leave_dict(s, req_svc.request_leave(s, agent_id, json_body()))), 201


@bp.route("/api/v1/leave-requests/<int:request_id>/cancel", methods=["POST"])
@roles(Role.AGENT)
def leave_cancel(request_id: int) -> Any:
    agent_id = _my_agent_id()
    with hl().sessions.begin() as s:
        return jsonify(req_svc.leave_dict(s, req_svc.cancel_leave(s, request_id, agent_id)))


@bp.route("/api/v1/leave-requests/<int:request_id>/decision", methods=["POST"])
@roles(*DECIDE_ROLES)
def leave_decision(request_id: int) -> Any:
    with hl().sessions.begin() as s:
        row, removed = req_svc.decide_leave(s, request_id, json_body(), current_user.id, tz())
        out = {**req_svc.leave_dict(s, row), "removed_shifts": removed}
    _tell(
        schedule_changed(
            agent_id=out["agent_id"], kind=f"leave-{out['status']}", day=out["first_day"]
        )
    )
    return jsonify(out)


# ---- swap requests -----------------------------------------------------------------------------


@bp.route("/api/v1/swap-requests", methods=["GET", "POST"])
@roles(Role.AGENT, *DECIDE_ROLES)
def swap_requests() -> Any:
    if request.method == "GET":
        with hl().sessions() as s:
            mine = _my_agent_id() if current_user.role == Role.AGENT else None
            return jsonify(req_svc.list_swaps(s, mine, request.args.get("status")))
    if current_user.role != Role.AGENT:
        raise DomainError("forbidden", status=403)
    agent_id = _my_agent_id()
    with hl().sessions.begin() as s:
        out = req_svc.swap_dict(s, req_svc.request_swap(s, agent_id, json_body(), tz()))
    _tell(schedule_changed(agent_id=out["partner_id"], kind="swap-requested", day=out["day"]))
    return jsonify(out), 201


@bp.route("/api/v1/swap-requests/<int:request_id>/answer", methods=["POST"])
@roles(Role.AGENT)
def swap_answer(request_id: int) -> Any:
    agent_id = _my_agent_id()
    with hl().sessions.begin() as s:
        out = req_svc.swap_dict(s, req_svc.answer_swap(s, request_id, agent_id, json_body()))
    _tell(
        schedule_changed(agent_id=out["requester_id"], kind=f"swap-{out['status']}", day=out["day"])
    )
    return jsonify(out)


@bp.route("/api/v1/swap-requests/<int:request_id>/cancel", methods=["POST"])
@roles(Role.AGENT)
def swap_cancel(request_id: int) -> Any:
    agent_id = _my_agent_id()
    with hl().sessions.begin() as s:
        out = req_svc.swap_dict(s, req_svc.cancel_swap(s, request_id, agent_id))
    _tell(schedule_changed(agent_id=out["partner_id"], kind="swap-cancelled", day=out["day"]))
    return jsonify(out)


@bp.route("/api/v1/swap-requests/<int:request_id>/decision", methods=["POST"])
@roles(*DECIDE_ROLES)
def swap_decision(request_id: int) -> Any:
    with hl().sessions.begin() as s:
        row = req_svc.decide_swap(s, request_id, json_body(), current_user.id, tz())
        out = req_svc.swap_dict(s, row)
    if out["status"] == "accepted" and out["violations"]:
        # Not approved: the swapped roster would break a hard rule; nothing changed but the list.
        err = DomainError("swap-violations", str(len(out["violations"])), status=409)
        return jsonify({**err.as_dict(current_user.language), "request": out}), 409
    _tell(
        *(
            schedule_changed(
                agent_id=a, kind=f"swap-{out['status']}", day=out["day"], roster_id=out["roster_id"]
            )
            for a in (out["requester_id"], out["partner_id"])
        )
    )
    return jsonify(out)
