"""The call log for supervisors and admins: page, JSON API, CSV export."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
)
from flask_login import current_user

from console.container import Hotline
from console.i18n import DomainError, table
from console.models import Call
from console.services import calls as call_svc
from console.services import customers
from console.states import Role
from console.web.auth import roles

bp = Blueprint("calls", __name__)
# QA reviewers search calls to find the recordings they score.
LOG_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.QA)


def hl() -> Hotline:
    hotline: Hotline = current_app.extensions["hotline"]
    return hotline


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
        return jsonify(call_svc.search(s, f))


@bp.route("/api/v1/calls.csv")
@roles(*LOG_ROLES)
def export_calls() -> Any:
    f = _filter()
    hotline = hl()
    with hotline.sessions.begin() as s:
        customers.audit(s, current_user.id, "export", "calls", "csv", filter=request.args.to_dict())

    def generate() -> Any:
        with hotline.sessions() as s:
            yield from call_svc.export_csv(s, f)

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=calls.csv"},
    )


@bp.route("/api/v1/calls/<call_id>")
@roles(Role.AGENT, *LOG_ROLES)
def get_call(call_id: str) -> Any:
    with hl().sessions() as s:
        call = s.get(Call, call_id)
        if call is None:
            raise DomainError("call-not-found", status=404)
        # Agents see their own calls only.
        if current_user.role == Role.AGENT and call.agent_id != current_user.agent_id:
            raise DomainError("forbidden", status=403)
        return jsonify(call_svc.call_dict(call))
