"""Leave and shift-swap requests: the agent asks, the partner answers, a scheduler decides."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_login import current_user

from console.core.errors import DomainError
from console.core.events import schedule_changed
from console.core.states import Role
from console.requests import schemas
from console.requests import services as req_svc
from console.web import errors
from console.web.access import hotline as hl
from console.web.access import json_body, my_agent_id, page, roles
from console.web.access import timezone as tz

bp = Blueprint("requests", __name__, template_folder="templates")
DECIDE_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _tell(*changes: schedule_changed) -> None:
    """Tell agents, after the change is committed, that their own schedule changed."""
    for change in changes:
        hl().bus.publish(change)


@bp.route("/schedule/requests")
@roles(*DECIDE_ROLES)
def requests_page() -> Any:
    return page("requests.html")


@bp.route("/api/v1/leave-requests", methods=["GET", "POST"])
@roles(Role.AGENT, *DECIDE_ROLES)
def leave_requests() -> Any:
    if request.method == "GET":
        with hl().sessions() as s:
            mine = my_agent_id() if current_user.role == Role.AGENT else None
            rows, names = req_svc.list_leave(s, mine, request.args.get("status"))
            return jsonify([schemas.leave_dict(r, names) for r in rows])
    agent_id = my_agent_id()
    if current_user.role != Role.AGENT:
        raise DomainError("forbidden")
    with hl().sessions.begin() as s:
        row = req_svc.request_leave(s, agent_id, json_body())
        return jsonify(schemas.leave_dict(row, req_svc.agent_names(s))), 201


@bp.route("/api/v1/leave-requests/<int:request_id>/cancel", methods=["POST"])
@roles(Role.AGENT)
def leave_cancel(request_id: int) -> Any:
    agent_id = my_agent_id()
    with hl().sessions.begin() as s:
        row = req_svc.cancel_leave(s, request_id, agent_id)
        return jsonify(schemas.leave_dict(row, req_svc.agent_names(s)))


@bp.route("/api/v1/leave-requests/<int:request_id>/decision", methods=["POST"])
@roles(*DECIDE_ROLES)
def leave_decision(request_id: int) -> Any:
    with hl().sessions.begin() as s:
        row, removed = req_svc.decide_leave(s, request_id, json_body(), current_user.id, tz())
        out = {
            **schemas.leave_dict(row, req_svc.agent_names(s)),
            "removed_shifts": schemas.removed_shifts(removed),
        }
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
            mine = my_agent_id() if current_user.role == Role.AGENT else None
            rows, names = req_svc.list_swaps(s, mine, request.args.get("status"))
            found = [schemas.swap_dict(r, names) for r in rows]
            return jsonify(schemas.swaps(found, current_user.language))
    if current_user.role != Role.AGENT:
        raise DomainError("forbidden")
    agent_id = my_agent_id()
    with hl().sessions.begin() as s:
        row = req_svc.request_swap(s, agent_id, json_body(), tz())
        out = schemas.swap(schemas.swap_dict(row, req_svc.agent_names(s)), current_user.language)
    _tell(schedule_changed(agent_id=out["partner_id"], kind="swap-requested", day=out["day"]))
    return jsonify(out), 201


@bp.route("/api/v1/swap-requests/<int:request_id>/answer", methods=["POST"])
@roles(Role.AGENT)
def swap_answer(request_id: int) -> Any:
    agent_id = my_agent_id()
    with hl().sessions.begin() as s:
        row = req_svc.answer_swap(s, request_id, agent_id, json_body())
        out = schemas.swap(schemas.swap_dict(row, req_svc.agent_names(s)), current_user.language)
    _tell(
        schedule_changed(agent_id=out["requester_id"], kind=f"swap-{out['status']}", day=out["day"])
    )
    return jsonify(out)


@bp.route("/api/v1/swap-requests/<int:request_id>/cancel", methods=["POST"])
@roles(Role.AGENT)
def swap_cancel(request_id: int) -> Any:
    agent_id = my_agent_id()
    with hl().sessions.begin() as s:
        row = req_svc.cancel_swap(s, request_id, agent_id)
        out = schemas.swap(schemas.swap_dict(row, req_svc.agent_names(s)), current_user.language)
    _tell(schedule_changed(agent_id=out["partner_id"], kind="swap-cancelled", day=out["day"]))
    return jsonify(out)


@bp.route("/api/v1/swap-requests/<int:request_id>/decision", methods=["POST"])
@roles(*DECIDE_ROLES)
def swap_decision(request_id: int) -> Any:
    with hl().sessions.begin() as s:
        row = req_svc.decide_swap(s, request_id, json_body(), current_user.id, tz())
        out = schemas.swap(schemas.swap_dict(row, req_svc.agent_names(s)), current_user.language)
    if out["status"] == "accepted" and out["violations"]:
        # Not approved: the swapped roster would break a hard rule; nothing changed but the list.
        err = DomainError("swap-violations", str(len(out["violations"])))
        return errors.response(err, current_user.language, request=out)
    _tell(
        *(
            schedule_changed(
                agent_id=a, kind=f"swap-{out['status']}", day=out["day"], roster_id=out["roster_id"]
            )
            for a in (out["requester_id"], out["partner_id"])
        )
    )
    return jsonify(out)
