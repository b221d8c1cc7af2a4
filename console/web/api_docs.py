"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json (public)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response

bp = Blueprint("api_docs", __name__)
SPEC_PATH = Path(__file__).resolve().parent / "openapi.json"
# Each feature package documents its own paths and component schemas in its openapi.json;
# they are merged into the main document (shared parts: info, security, Error, Socket.IO).
FEATURES_DIR = SPEC_PATH.parent.parent


@functools.cache
def spec() -> dict[str, Any]:
    """The whole document: web/openapi.json plus every feature's fragment (read once)."""
    doc: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    for part in sorted(FEATURES_DIR.glob("*/openapi.json")):
        if part == SPEC_PATH:
            continue
        frag = json.loads(part.read_text(encoding="utf-8"))
        for key, value in frag.get("paths", {}).items():
            if key in doc["paths"]:
                raise ValueError(f"{part.parent.name}: path {key} is documented twice")
            doc["paths"][key] = value
        for section, items in frag.get("components", {}).items():
            target = doc["components"].setdefault(section, {})
            for name, value in items.items():
                if name in target:
                    raise ValueError(
                        f"{part.parent.name}: components.{section}.{name} is defined twice"
                    )
                target[name] = value
    return doc


@functools.cache
def spec_bytes() -> bytes:
    """The merged document as served (built once)."""
    return json.dumps(spec(), ensure_ascii=False).encode("utf-8")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/api/v1/openapi.json")
def openapi() -> Any:
    # No login: the document describes the API and contains no data.
    return Response(spec_bytes(), mimetype="application/json")
