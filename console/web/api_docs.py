"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json (public)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response

bp = Blueprint("api_docs", __name__)
SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.json"


@functools.cache
def spec_bytes() -> bytes:
    """The document as shipped in the package (read once)."""
    return SPEC_PATH.read_bytes()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/api/v1/openapi.json")
def openapi() -> Any:
    # No login: the document describes the API and contains no data.
    return Response(spec_bytes(), mimetype="application/json")
