"""Quality for the roles that review calls: a call's analysis, the analysis' progress and a
batch run now; the recording library (pages, search, filter choices, saved filters) and the
player's data (a call's recordings and analysis, its waveform peaks). Agents and schedulers
get 403 (on a page: a page saying so)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from flask_login import current_user

from console.core.models import utcnow
from console.core.states import Role
from console.customers import services as customers
from console.quality import jobs, schemas
from console.quality import services as quality
from console.quality.services import FILTER_NAMES, LibraryFilter, RunTrigger
from console.recordings.store import parse_keys
from console.web.access import hotline as hl
from console.web.access import json_body, page, roles

bp = Blueprint("quality", __name__, template_folder="templates")
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


# ---- the recording library and the player --------------------------------------------------


def _review_page(template: str, **kw: Any) -> Any:
    # Any signed-in user reaches the route; the others get a page that says why, not JSON.
    if current_user.role not in REVIEW_ROLES:
        return page("quality_forbidden.html"), 403
    return page(template, **kw)


@bp.route("/quality/recordings")
@roles()
def library_page() -> Any:
    return _review_page("quality_library.html")


@bp.route("/quality/recordings/<call_id>")
@roles()
def player_page(call_id: str) -> Any:
    return _review_page("quality_player.html", call_id=call_id)


@bp.route("/api/v1/quality/recordings")
@roles(*REVIEW_ROLES)
def library() -> Any:
    args = request.args
    f = LibraryFilter.parse({k: v for k, v in args.items() if k in FILTER_NAMES})
    limit = int(args.get("limit", quality.LIBRARY_PAGE))
    offset = int(args.get("offset", 0))
    node = hl()
    with node.sessions() as s:
        found = quality.search_library(s, f, node.settings.timezone, limit, offset)
        return jsonify(schemas.library_page_dict(found, current_user.language))


@bp.route("/api/v1/quality/filter-choices")
@roles(*REVIEW_ROLES)
def filter_choices() -> Any:
    with hl().sessions() as s:
        return jsonify(schemas.choices_dict(quality.library_choices(s), current_user.language))


@bp.route("/api/v1/quality/recordings/<call_id>")
@roles(*REVIEW_ROLES)
def library_entry(call_id: str) -> Any:
    with hl().sessions() as s:
        entry = quality.library_entry(s, call_id)
        return jsonify(schemas.library_entry_dict(entry, current_user.language))


@bp.route("/api/v1/quality/recordings/<call_id>/peaks")
@roles(*REVIEW_ROLES)
def peaks(call_id: str) -> Any:
    points = int(request.args.get("points", quality.PEAK_POINTS))
    node = hl()
    with node.sessions.begin() as s:
        tracks = quality.peak_tracks(s, call_id)
        # Drawn from the recordings: audited as they are (the audio itself is audited when
        # it plays, GET /api/v1/recordings/<id>/audio).
        customers.audit(s, current_user.id, "waveform", "call", call_id)
    # Decrypted outside the transaction: a long call holds no database connection.
    keys = parse_keys(node.settings.effective_recording_keys)
    span = max(t.duration_s for t in tracks)
    channels = [quality.channel_peaks(t, keys, span, points) for t in tracks]
    return jsonify(schemas.peaks_dict(channels, points))


@bp.route("/api/v1/quality/saved-filters")
@roles(*REVIEW_ROLES)
def list_saved_filters() -> Any:
    with hl().sessions() as s:
        rows = quality.saved_filters(s, current_user.id)
        return jsonify([schemas.saved_filter_dict(r) for r in rows])


@bp.route("/api/v1/quality/saved-filters", methods=["POST"])
@roles(*REVIEW_ROLES)
def save_filter() -> Any:
    data = json_body()
    with hl().sessions.begin() as s:
        row = quality.save_filter(
            s, current_user.id, str(data.get("name") or ""), data.get("filters") or {}, utcnow()
        )
        out = schemas.saved_filter_dict(row)
    return jsonify(out), 201


@bp.route("/api/v1/quality/saved-filters/<int:filter_id>", methods=["DELETE"])
@roles(*REVIEW_ROLES)
def delete_saved_filter(filter_id: int) -> Any:
    with hl().sessions.begin() as s:
        quality.delete_filter(s, current_user.id, filter_id)
    return Response(status=204)
