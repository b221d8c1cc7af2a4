"""Calls: the log for supervisors, admins and QA (page, JSON API, CSV export) and the agent's
wrap-up of her call."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    jsonify,
    render_template,
    request,
    stream_with_context,
)
from flask_login import current_user

from console.calls import schemas
from console.calls import services as call_svc
from console.core.errors import DomainError
from console.core.events import call_wrapped
from console.core.i18n import table
from console.core.states import AgentState, Role
from console.customers import services as customers
from console.web.access import current_agent_id, json_body, roles
from console.web.access import hotline as hl

bp = Blueprint("calls", __name__, template_folder="templates")
# QA reviewers search calls to find the recordings they score.
LOG_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.QA)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _filter() -> call_svc.CallFilter:
    return call_svc.CallFilter.from_args(request.args.to_dict(), hl().settings.country_code)


@bp.route("/calls")
@roles(*LOG_ROLES)
def calls_page() -> Any:
    return render_template("calls.html", t=table(current_user.language), lang=current_user.language)


@bp.route("/api/v1/calls")
@roles(*LOG_ROLES)
def list_calls() -> Any:
    f = _filter()
    with hl().sessions() as s:
        return jsonify(schemas.page_dict(call_svc.search(s, f)))


@bp.route("/api/v1/calls.csv")
@roles(*LOG_ROLES)
def export_calls() -> Any:
    f = _filter()
    hotline = hl()
    with hotline.sessions.begin() as s:
        customers.audit(s, current_user.id, "export", "calls", "csv", filter=request.args.to_dict())

    def generate() -> Any:
        with hotline.sessions() as s:
            names = call_svc.names(s)
            yield from schemas.export_csv(call_svc.log_rows(s, f), names)

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=calls.csv"},
    )


@bp.route("/api/v1/calls/<call_id>")
@roles(Role.AGENT, *LOG_ROLES)
def get_call(call_id: str) -> Any:
    # Agents see their own calls only.
    mine = current_user.agent_id if current_user.role == Role.AGENT else None
    with hl().sessions() as s:
        return jsonify(schemas.call_dict(call_svc.visible_call(s, call_id, mine)))


@bp.route("/calls/<call_id>")
@roles(*LOG_ROLES)
def call_page(call_id: str) -> Any:
    return render_template(
        "call.html", t=table(current_user.language), lang=current_user.language, call_id=call_id
    )


@bp.route("/api/v1/calls/<call_id>/timeline")
@roles(*LOG_ROLES)
def call_timeline(call_id: str) -> Any:
    with hl().sessions.begin() as s:
        tl = call_svc.timeline(s, call_id)
        if tl.customer is not None:  # the page shows whose call it was: a read of her file
            customers.audit(s, current_user.id, "view", "customer", tl.customer.id, call=call_id)
        return jsonify(schemas.timeline_dict(tl, current_user.language))


@bp.route("/api/v1/transfer-targets")
@roles(Role.AGENT)
def transfer_targets() -> Any:
    me, node = current_agent_id(), hl()
    with node.sessions() as s:
        known = call_svc.names(s)
    live = {a.agent_id: a.state for a in node.live.agents()}
    return jsonify(
        {
            "queues": [{"id": i, "name": n} for i, n in sorted(known.queues.items())],
            "agents": [
                {"id": i, "name": n, "state": live.get(i, AgentState.OFFLINE)}
                for i, n in sorted(known.agents.items(), key=lambda kv: kv[1])
                if i != me
            ],
            "outside": bool(node.settings.outbound_trunk),
        }
    )


@bp.route("/api/v1/calls/<call_id>/wrap-up", methods=["POST"])
@roles(Role.AGENT)
def wrap_up(call_id: str) -> Any:
    data = json_body()
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in tags.split(",")]
    if not isinstance(tags, list):
        raise DomainError("invalid-input", "tags")
    agent_id = current_agent_id()
    hotline = hl()
    with hotline.sessions.begin() as s:
        call = call_svc.wrap_up(
            s,
            call_id,
            agent_id,
            str(data.get("disposition") or ""),
            [str(t) for t in tags],
            str(data.get("notes") or ""),
        )
        result = schemas.call_dict(call)
    # The record is committed before the agent is freed: a wrap-up is never lost.
    hotline.agents.transition(
        agent_id, AgentState.AVAILABLE, expect=[AgentState.WRAP_UP], expect_call=call_id
    )
    hotline.bus.publish(
        call_wrapped(call_id=call_id, agent_id=agent_id, disposition=result["disposition"])
    )
    return jsonify(result)
