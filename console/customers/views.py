"""Customer records from the agent console: create (and attach to the call in hand), read, edit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_login import current_user

from console.core.states import Role
from console.customers import schemas
from console.customers import services as customers
from console.web.access import current_agent_id, json_body, roles
from console.web.access import hotline as hl

bp = Blueprint("customers", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/api/v1/customers", methods=["POST"])
@roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def create_customer() -> Any:
    hotline = hl()
    payload = json_body()
    call_id = payload.get("call_id")
    # An agent may attach the new file to a call she took or is being offered right now.
    offered_to_me: str | None = None
    if call_id and current_user.role == Role.AGENT:
        live = hotline.live.get_agent(current_agent_id())
        offered_to_me = live.call_id if live else None
    with hotline.sessions.begin() as s:
        user = customers.user_row(s, current_user.id)
        c = customers.create_customer(s, user, payload, hotline.settings.country_code)
        if call_id:
            # A customer registered during a call becomes that call's customer (一户一档).
            agent = current_user.agent_id if current_user.role == Role.AGENT else None
            customers.attach_to_call(s, c, str(call_id), agent, offered_to_me)
        data = schemas.customer_dict(customers.customer_file(s, c))
    return jsonify(data), 201


@bp.route("/api/v1/customers/<int:customer_id>", methods=["GET", "PUT"])
@roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def customer(customer_id: int) -> Any:
    hotline = hl()
    with hotline.sessions.begin() as s:
        user = customers.user_row(s, current_user.id)
        if request.method == "PUT":
            c = customers.update_customer(
                s, user, customer_id, json_body(), hotline.settings.country_code
            )
            return jsonify(schemas.customer_dict(customers.customer_file(s, c)))
        return jsonify(schemas.customer_dict(customers.get_customer(s, user, customer_id)))
