"""The centre's workforce set-up for schedulers: shift templates, working-hour rules, agents'
contract terms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request

from console.core.states import Role
from console.web.access import hotline as hl
from console.web.access import json_body, roles
from console.workforce import schemas
from console.workforce import services as workforce

bp = Blueprint("workforce", __name__)
PLAN_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/api/v1/shift-templates", methods=["GET", "POST"])
@roles(*PLAN_ROLES)
def shift_templates() -> Any:
    if request.method == "GET":
        with hl().sessions() as s:
            return jsonify([schemas.template_dict(t) for t in workforce.templates(s)])
    with hl().sessions.begin() as s:
        row = workforce.save_template(s, json_body())
        return jsonify(schemas.template_dict(row)), 201


@bp.route("/api/v1/shift-templates/<int:template_id>", methods=["PUT"])
@roles(*PLAN_ROLES)
def shift_template(template_id: int) -> Any:
    with hl().sessions.begin() as s:
        return jsonify(schemas.template_dict(workforce.save_template(s, json_body(), template_id)))


@bp.route("/api/v1/workforce-settings", methods=["GET", "PUT"])
@roles(*PLAN_ROLES)
def workforce_settings() -> Any:
    if request.method == "GET":
        with hl().sessions.begin() as s:
            return jsonify(schemas.settings_dict(workforce.settings_row(s)))
    with hl().sessions.begin() as s:
        return jsonify(schemas.settings_dict(workforce.update_settings(s, json_body())))


@bp.route("/api/v1/roster-agents")
@roles(*PLAN_ROLES)
def roster_agents() -> Any:
    with hl().sessions() as s:
        return jsonify([schemas.agent_terms(a, u) for a, u in workforce.roster_agents(s)])


@bp.route("/api/v1/roster-agents/<int:agent_id>", methods=["PUT"])
@roles(*PLAN_ROLES)
def roster_agent(agent_id: int) -> Any:
    with hl().sessions.begin() as s:
        return jsonify(schemas.agent_terms(*workforce.update_agent_terms(s, agent_id, json_body())))
