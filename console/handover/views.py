"""Handover log, weekly summary and misses: agent page, supervisor page and the JSON API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request
from flask_login import current_user

from console.core.errors import DomainError
from console.core.i18n import table
from console.core.models import utcnow
from console.core.states import Role
from console.handover import schemas
from console.handover import services as handover
from console.web.access import hotline as hl
from console.web.access import json_body, roles
from console.web.access import timezone as _tz
from console.workforce import services as workforce

bp = Blueprint("handover", __name__, template_folder="templates")
LOG_ROLES = (Role.SCHEDULER, Role.SUPERVISOR, Role.ADMIN)
COMPLAINT_ROLES = (Role.SUPERVISOR, Role.ADMIN)
MAX_LOG_DAYS = 31


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _agent_id() -> int:
    if current_user.agent_id is None:
        raise DomainError("not-an-agent")
    return int(current_user.agent_id)


def _this_period() -> str:
    return handover.period_of(workforce.local_day(utcnow(), _tz()))


# ---- pages -------------------------------------------------------------------------------


@bp.route("/handover")
@roles(Role.AGENT)
def agent_page() -> Any:
    return render_template(
        "handover.html",
        t=table(current_user.language),
        lang=current_user.language,
        tz=_tz(),
        view="agent",
    )


@bp.route("/schedule/handover")
@roles(*LOG_ROLES)
def log_page() -> Any:
    with hl().sessions() as s:
        agents = [{"id": a.id, "name": u.display_name} for a, u in workforce.roster_agents(s)]
    return render_template(
        "handover.html",
        t=table(current_user.language),
        lang=current_user.language,
        tz=_tz(),
        view="log",
        agents=agents,
        period=_this_period(),
        can_record=current_user.role in COMPLAINT_ROLES,
    )


# ---- agent API ---------------------------------------------------------------------------


@bp.route("/api/v1/handover/mine")
@roles(Role.AGENT)
def mine() -> Any:
    agent_id, now = _agent_id(), utcnow()
    with hl().sessions() as s:
        shift = handover.shift_to_hand_over(s, agent_id, now, _tz())
        entry = handover.entry_for_shift(s, agent_id, shift) if shift else None
        incoming = handover.incoming(s, agent_id, now)
        taken_over = handover.taken_over(s, agent_id, now)
        names = handover.entry_names(s, [*([entry] if entry else []), *incoming, *taken_over])
        out = {
            "shift": schemas.shift_dict(shift) if shift else None,
            "entry": schemas.entry_dict(entry, names) if entry else None,
            "incoming": schemas.entries_dicts(incoming, names),
            "taken_over": schemas.entries_dicts(taken_over, names),
        }
    return jsonify(out)


@bp.route("/api/v1/handover", methods=["POST"])
@roles(Role.AGENT)
def file_entry() -> Any:
    data = json_body()
    agent_id = _agent_id()
    with hl().sessions.begin() as s:
        entry = handover.file_entry(
            s, agent_id, data.get("items"), data.get("notes"), utcnow(), _tz()
        )
        out = schemas.entry_dict(entry, handover.entry_names(s, [entry]))
    return jsonify(out), 201


@bp.route("/api/v1/handover/<int:entry_id>/acknowledge", methods=["POST"])
@roles(Role.AGENT)
def acknowledge(entry_id: int) -> Any:
    agent_id = _agent_id()
    with hl().sessions.begin() as s:
        entry = handover.acknowledge(s, entry_id, agent_id, utcnow(), hl().settings.timezone)
        out = schemas.entry_dict(entry, handover.entry_names(s, [entry]))
    return jsonify(out)


@bp.route("/api/v1/weekly-summaries/mine")
@roles(Role.AGENT)
def my_summary() -> Any:
    with hl().sessions() as s:
        return jsonify(
            schemas.weekly_status_dict(handover.weekly_status(s, _agent_id(), utcnow(), _tz()))
        )


@bp.route("/api/v1/weekly-summaries", methods=["GET", "POST"])
@roles()
def summaries() -> Any:
    if request.method == "POST":
        if current_user.role != Role.AGENT:
            raise DomainError("forbidden")
        data = json_body()
        agent_id = _agent_id()
        with hl().sessions.begin() as s:
            summary = handover.submit_summary(
                s,
                agent_id,
                data.get("went_well"),
                data.get("to_improve"),
                utcnow(),
                _tz(),
                data.get("week_start"),
            )
            out = schemas.summary_dict(summary)
        return jsonify(out), 201
    if current_user.role not in LOG_ROLES:
        raise DomainError("forbidden")
    raw = request.args.get("week_start")
    try:
        day = dt.date.fromisoformat(raw) if raw else workforce.local_day(utcnow(), _tz())
    except ValueError:
        raise DomainError("invalid-input", "week_start: YYYY-MM-DD expected") from None
    week = handover.week_start_of(day)
    with hl().sessions() as s:
        rows = handover.summaries(s, week)
        names = {a.id: u.display_name for a, u in workforce.roster_agents(s)}
        out = {
            "week_start": week.isoformat(),
            "due": handover.deadline(s, week, _tz()).isoformat(),
            "summaries": [schemas.summary_dict(r, names) for r in rows],
        }
    return jsonify(out)


# ---- supervisor / scheduler API ----------------------------------------------------------


@bp.route("/api/v1/handover")
@roles(*LOG_ROLES)
def log() -> Any:
    raw = request.args.get("days", "2")
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_LOG_DAYS:
        raise DomainError("invalid-input", f"days: 1–{MAX_LOG_DAYS}")
    with hl().sessions() as s:
        rows = schemas.log_dicts(handover.handover_log(s, utcnow(), _tz(), days))
        grace_min = int(handover.grace(s).total_seconds() // 60)
    return jsonify({"days": days, "grace_min": grace_min, "shifts": rows})


@bp.route("/api/v1/misses", methods=["GET", "POST"])
@roles(*LOG_ROLES)
def misses() -> Any:
    if request.method == "POST":
        if current_user.role not in COMPLAINT_ROLES:
            raise DomainError("forbidden")
        data = json_body()
        with hl().sessions.begin() as s:
            miss = handover.record_complaint(
                s, data.get("agent_id"), data.get("call_id"), utcnow(), _tz()
            )
            report = schemas.misses_report_dict(
                handover.misses_report(s, miss.period, miss.agent_id)
            )
            out = next(m for m in report["misses"] if m["id"] == miss.id)
        return jsonify(out), 201
    period = handover.parse_period(request.args.get("period") or _this_period())
    with hl().sessions() as s:
        return jsonify(schemas.misses_report_dict(handover.misses_report(s, period)))


@bp.route("/api/v1/misses/mine")
@roles(Role.AGENT)
def my_misses() -> Any:
    # The rulebook wants the process transparent to the agent: her own counts and levels.
    period = handover.parse_period(request.args.get("period") or _this_period())
    with hl().sessions() as s:
        return jsonify(schemas.misses_report_dict(handover.misses_report(s, period, _agent_id())))
