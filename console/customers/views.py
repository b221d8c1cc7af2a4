"""Customer records from the agent console: create (and attach to the call in hand), read, edit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_login import current_user

from console.core.i18n import DomainError
from console.core.models import Call, User
from console.core.states import Role
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
    with hotline.sessions.begin() as s:
        user = s.get(User, current_user.id)
        payload = json_body()
        c = customers.create_customer(s, user, payload, hotline.settings.country_code)
        call_id = payload.get("call_id")
        if call_id:
            # A customer registered during a call becomes that call's customer (一户一档).
            call = s.get(Call, str(call_id))
            if call is None:
                raise DomainError("call-not-found", status=404)
            if current_user.role == Role.AGENT:
                live = hotline.live.get_agent(current_agent_id())
                if call.agent_id != current_user.agent_id and (
                    live is None or live.call_id != call.id
                ):
                    raise DomainError("call-not-offered", status=403)
            if call.customer_id is None:
                call.customer_id = c.id
        data = customers.customer_dict(s, c)
    return jsonify(data), 201


@bp.route("/api/v1/customers/<int:customer_id>", methods=["GET", "PUT"])
@roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
def customer(customer_id: int) -> Any:
    hotline = hl()
    with hotline.sessions.begin() as s:
        user = s.get_one(User, current_user.id)  # signed in: the row exists
        if request.method == "PUT":
            c = customers.update_customer(
                s, user, customer_id, json_body(), hotline.settings.country_code
            )
            return jsonify(customers.customer_dict(s, c))
        return jsonify(customers.get_customer(s, user, customer_id))
