"""The quality analysis for the roles that review calls: a call's analysis, the analysis'
progress, and a batch run now. Agents and schedulers get 403."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request

from console.core.states import Role
from console.quality import jobs, schemas
from console.quality import services as quality
from console.quality.services import RunTrigger
from console.recordings.store import parse_keys
from console.web.access import hotline as hl
from console.web.access import roles

bp = Blueprint("quality", __name__)
# Who reviews calls: QA reviewers, and the supervisors and admins who can hear them too.
REVIEW_ROLES = (Role.QA, Role.SUPERVISOR, Role.ADMIN)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/api/v1/calls/<call_id>/analysis")
@roles(*REVIEW_ROLES)
def call_analysis(call_id: str) -> Any:
    with hl().sessions() as s:
        row = quality.analysis_of_call(s, call_id)
        return jsonify(schemas.analysis_dict(row, quality.active_version(s)))


@bp.route("/api/v1/quality/analysis")
@roles(*REVIEW_ROLES)
def progress() -> Any:
    with hl().sessions() as s:
        return jsonify(schemas.progress_dict(quality.progress(s)))


@bp.route("/api/v1/quality/analysis/run", methods=["POST"])
@roles(*REVIEW_ROLES)
def run_now() -> Any:
    # The body is optional (validated against the document when there is one).
    data = request.get_json(silent=True) or {}
    node = hl()
    run = jobs.run_batch(
        node.sessions,
        parse_keys(node.settings.effective_recording_keys),
        int(data.get("limit", jobs.DEFAULT_ANALYSIS_BATCH)),
        RunTrigger.MANUAL,
        retry_failed=bool(data.get("retry_failed", False)),
    )
    with node.sessions() as s:
        return jsonify(schemas.run_result_dict(run, quality.progress(s)))
