"""Agent console pages and the agent's own API (state, wrap-up, customers, own calls)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from console.container import Hotline
from console.events import call_wrapped
from console.i18n import DomainError, table
from console.models import Call, Disposition, Queue, User
from console.services import calls as call_svc
from console.services import customers
from console.services.agents import NOT_READY_REASONS
from console.states import DEFAULT_RING_TIMEOUT_S, AgentState, NotReadyReason, Role
from console.web.auth import json_body, roles

bp = Blueprint("console", __name__)


def hl() -> Hotline:
    hotline: Hotline = current_app.extensions["hotline"]
    return hotline


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _agent_id() -> int:
    if current_user.agent_id is None:
        raise DomainError("agent-not-found", status=404)
    return int(current_user.agent_id)


def agent_snapshot(hotline: Hotline, agent_id: int) -> dict[str, Any]:
    """What an agent's console needs on (re)connect: state, and the call in hand."""
    live = hotline.live.get_agent(agent_id)
    snap: dict[str, Any] = {"agent": live.as_dict() if live else None, "offer": None, "call": None}
    if live is None or not live.call_id:
        return snap
    with hotline.sessions() as s:
        call = s.get(Call, live.call_id)
        if call is None:
            return snap
        q = s.get(Queue, call.queue_id) if call.queue_id else None
        pop = call_svc.screen_pop(
            s,
            call.caller_number,
            call.caller_number_invalid,
            q,
            wait_started=call.arrived_at.timestamp(),
        )
        info = call_svc.call_dict(call)
        info["pop"] = pop
        info["wrap_up_limit_s"] = q.wrap_up_s if q else 0
        if live.state == AgentState.RINGING:
            snap["offer"] = {
                "call_id": call.id,
                "agent_id": agent_id,
                "ring_timeout_s": q.ring_timeout_s if q else DEFAULT_RING_TIMEOUT_S,
                "offered_at": live.since,
                "pop": pop,
            }
        else:
            snap["call"] = info
    return snap


@bp.route("/")
@roles()
def home() -> Any:
    if current_user.role == Role.AGENT:
        return redirect(url_for("console.agent_page"))
    if current_user.role == Role.SCHEDULER:
        return redirect(url_for("schedule.forecast_page"))
    return redirect(url_for("calls.calls_page"))


@bp.route("/agent")
@roles(Role.AGENT)
def agent_page() -> Any:
    return render_template("agent.html", t=table(current_user.language), lang=current_user.language)


@bp.route("/api/v1/me")
@roles()
def me() -> Any:
    with hl().sessions() as s:
        dispositions = [
            {
                "code": d.code,
                "label": d.label_zh if current_user.language == "zh-CN" else d.label_en,
            }
            for d in s.scalars(
                select(Disposition).where(Disposition.active).order_by(Disposition.id)
            )
        ]
    return jsonify(
        {
            "user": {
                "id": current_user.id,
                "username": current_user.username,
                "display_name": current_user.display_name,
                "role": current_user.role,
                "language": current_user.language,
                "agent_id": current_user.agent_id,
            },
            "reasons": list(
                r
                for r in NOT_READY_REASONS
                if r not in (NotReadyReason.MISSED, NotReadyReason.PHONE_UNREACHABLE)
            ),
            "dispositions": dispositions,
            "i18n": table(current_user.language),
            "timezone": hl().settings.timezone,
        }
    )


@bp.route("/api/v1/agent/calls")
@roles(Role.AGENT)
def my_calls() -> Any:
    # ?needs_wrap_up=1: her answered calls still without a disposition (the node died
    # mid-call), however old, so the console can offer them for wrap-up.
    pending = call_svc.CallFilter.from_args(
        {"needs_wrap_up": request.args.get("needs_wrap_up", "")}
    )
    f = call_svc.CallFilter(
        agent_id=_agent_id(),
        needs_wrap_up=pending.needs_wrap_up,
        limit=100 if pending.needs_wrap_up else 20,
    )
    with hl().sessions() as s:
        page = call_svc.search(s, f)
    return jsonify(page)


@bp.route("/api/v1/calls/<call_id>/wrap-up", methods=["POST"])
@roles(Role.AGENT)
def wrap_up(call_id: str) -> Any:
    data = json_body()
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in tags.split(",")]
    if not isinstance(tags, list):
        raise DomainError("invalid-input", "tags")
    agent_id = _agent_id()
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
        result = call_svc.call_dict(call)
    # The record is committed before the agent is freed: a wrap-up is never lost.
    hotline.agents.transition(
        agent_id, AgentState.AVAILABLE, expect=[AgentState.WRAP_UP], expect_call=call_id
    )
    hotline.bus.publish(
        call_wrapped(call_id=call_id, agent_id=agent_id, disposition=result["disposition"])
    )
    return jsonify(result)


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
                live = hotline.live.get_agent(_agent_id())
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
