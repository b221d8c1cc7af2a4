"""The agent console page and the agent's own API (who she is, her state, her own calls)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from console.agents import services as agent_svc
from console.agents.services import NOT_READY_REASONS
from console.calls import schemas as call_schemas
from console.calls import services as call_svc
from console.core.i18n import table
from console.core.states import AgentState, NotReadyReason, Role
from console.node import Hotline
from console.web.access import current_agent_id, roles
from console.web.access import hotline as hl

bp = Blueprint("agents", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def agent_snapshot(hotline: Hotline, agent_id: int) -> dict[str, Any]:
    """What an agent's console needs on (re)connect: state, and the call in hand."""
    live = hotline.live.get_agent(agent_id)
    snap: dict[str, Any] = {"agent": live.as_dict() if live else None, "offer": None, "call": None}
    if live is None or not live.call_id:
        return snap
    with hotline.sessions() as s:
        in_hand = call_svc.call_in_hand(s, live.call_id)
        if in_hand is None:
            return snap
        info = call_schemas.call_in_hand_dict(in_hand)
        ring_timeout_s = in_hand.ring_timeout_s
    if live.state == AgentState.RINGING:
        snap["offer"] = {
            "call_id": info["id"],
            "agent_id": agent_id,
            "ring_timeout_s": ring_timeout_s,
            "offered_at": live.since,
            "pop": info["pop"],
        }
    else:
        snap["call"] = info
    return snap


@bp.route("/")
@roles()
def home() -> Any:
    if current_user.role == Role.AGENT:
        return redirect(url_for("agents.agent_page"))
    if current_user.role == Role.SCHEDULER:
        return redirect(url_for("forecasts.forecast_page"))
    if current_user.role == Role.QA:  # reviewers come to hear and score recordings
        return redirect(url_for("quality.library_page"))
    if current_user.role in (Role.SUPERVISOR, Role.ADMIN):
        return redirect(url_for("supervision.supervision_page"))  # the wallboard
    return redirect(url_for("calls.calls_page"))


@bp.route("/agent")
@roles(Role.AGENT)
def agent_page() -> Any:
    return render_template("agent.html", t=table(current_user.language), lang=current_user.language)


@bp.route("/api/v1/me")
@roles()
def me() -> Any:
    agent_id = current_user.agent_id
    with hl().sessions() as s:
        audio = agent_svc.audio_of(s, agent_id)[0] if agent_id is not None else None
        no_phone = agent_id is not None and agent_svc.phone_without_contact(s, agent_id)
        dispositions = [
            {
                "code": d.code,
                "label": d.label_zh if current_user.language == "zh-CN" else d.label_en,
            }
            for d in call_svc.active_dispositions(s)
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
                if r
                not in (
                    NotReadyReason.MISSED,
                    NotReadyReason.PHONE_UNREACHABLE,
                    NotReadyReason.AUDIO_LOST,
                )
            ),
            "dispositions": dispositions,
            "i18n": table(current_user.language),
            "timezone": hl().settings.timezone,
            # The agent page starts its softphone on answered calls when path is "browser".
            # phone_missing: she chose her SIP phone, but none is set up for her.
            "audio": {
                "path": audio,
                "rate": hl().settings.browser_audio_rate,
                "phone_missing": no_phone,
            },
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
        agent_id=current_agent_id(),
        needs_wrap_up=pending.needs_wrap_up,
        limit=100 if pending.needs_wrap_up else 20,
    )
    with hl().sessions() as s:
        page = call_schemas.page_dict(call_svc.search(s, f))
    return jsonify(page)
