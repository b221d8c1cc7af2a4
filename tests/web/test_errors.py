"""Errors the web layer maps for every route."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy.exc import IntegrityError

from console.core.errors import DomainError
from console.core.i18n import LANGUAGES, translate
from console.customers.services import CustomerImportError, ImportProblem
from console.web import errors
from console.web.validation import _HTTP_IDS

CONSOLE = Path(__file__).resolve().parents[2] / "console"


def test_a_lost_race_on_a_unique_key_is_a_409_that_says_so(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web

    def double_submit() -> str:
        # What a second, simultaneous submit of the same thing meets in the database.
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))

    app.add_url_rule("/test-double-submit", view_func=double_submit)
    r = app.test_client().get("/test-double-submit", headers={"Accept-Language": "en"})
    assert r.status_code == 409
    assert r.get_json() == {"error": "duplicate", "message": "This already exists."}


def _id_positions(trees: list[ast.Module]) -> dict[str, int]:
    """Which positional argument is the error id, for DomainError, its subclasses and the
    records that carry an id (a parameter or dataclass field named error_id)."""
    positions: dict[str, int] = {}
    for tree in trees:
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            fields = [
                n.target.id
                for n in cls.body
                if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            ]
            for fn in cls.body:
                if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                    fields = [a.arg for a in fn.args.args[1:]]
            if "error_id" in fields:
                positions[cls.name] = fields.index("error_id")
    return positions


def raised_ids() -> set[str]:
    """Every error id written as a literal where an error (or import problem) is built."""
    trees = [ast.parse(p.read_text(), filename=str(p)) for p in sorted(CONSOLE.rglob("*.py"))]
    positions = _id_positions(trees)
    assert {"DomainError", "CustomerFieldError", "ImportProblem"} <= positions.keys()
    ids: set[str] = set()
    for tree in trees:
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "__init__":  # super().__init__("csv-invalid", ...) in a subclass
                name = "DomainError"
            if name not in positions:
                continue
            args = [a for a in call.args if not isinstance(a, ast.Starred)]
            arg = next((k.value for k in call.keywords if k.arg == "error_id"), None)
            if arg is None and len(args) > positions[name]:
                arg = args[positions[name]]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                ids.add(arg.value)
    return ids


def _schema_ids() -> set[str]:
    """The ids the OpenAPI documents name for broken keywords (x-errors) and in examples."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            found.update(v for v in node.get("x-errors", {}).values() if isinstance(v, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for doc in CONSOLE.rglob("openapi.json"):
        walk(json.loads(doc.read_text()))
    return found


def test_every_error_id_has_a_message_in_every_language() -> None:
    ids = raised_ids() | _schema_ids() | set(_HTTP_IDS.values()) | set(errors.STATUS)
    assert {"forbidden", "not-found", "phone-taken", "csv-invalid", "csv-quote"} <= ids
    missing = sorted(
        f"{language}: error.{i}"
        for i in ids
        for language in LANGUAGES
        if translate(f"error.{i}", language) == f"error.{i}"
    )
    assert missing == []


def test_the_status_table_lists_only_ids_that_occur_and_only_statuses_other_than_400() -> None:
    known = raised_ids() | set(_HTTP_IDS.values()) | {"login-required", "duplicate", "csrf"}
    assert sorted(set(errors.STATUS) - known) == []
    assert all(400 < code < 500 for code in errors.STATUS.values())
    # Werkzeug's HTTP errors keep their own status under their id.
    assert {code: errors.STATUS.get(i, 400) for code, i in _HTTP_IDS.items()} == {
        code: code for code in _HTTP_IDS
    }


def _documented_statuses() -> dict[str, set[int]]:
    """Each error id an OpenAPI response example shows, and under which status codes."""
    found: dict[str, set[int]] = {}

    def walk(node: object, code: int | None) -> None:
        if isinstance(node, dict):
            if code and isinstance(node.get("error"), str):
                found.setdefault(node["error"], set()).add(code)
            for key, value in node.items():
                if key == "responses" and isinstance(value, dict):
                    for status, response in value.items():
                        walk(response, int(status) if str(status).isdigit() else None)
                else:
                    walk(value, code)
        elif isinstance(node, list):
            for value in node:
                walk(value, code)

    for doc in CONSOLE.rglob("openapi.json"):
        walk(json.loads(doc.read_text()), None)
    return found


def test_each_documented_error_example_has_the_status_of_the_table() -> None:
    documented = _documented_statuses()
    assert documented["not-found"] == {404}
    assert {
        i: codes for i, codes in documented.items() if codes != {errors.status(DomainError(i))}
    } == {}


def test_every_non_400_id_is_in_the_table() -> None:
    # The statuses the API has always answered with for these ids (tests and clients rely
    # on them); any other id is a 400.
    expected = {
        401: {"login-required"},
        403: {"forbidden", "not-an-agent", "call-not-offered"},
        404: {
            "not-found",
            "agent-not-found",
            "call-not-found",
            "queue-not-found",
            "recording-not-found",
        },
        409: {"duplicate", "phone-taken", "swap-partner-busy", "request-decided"},
        415: {"unsupported-media-type"},
    }
    assert {
        code: {i for i in ids if errors.STATUS.get(i) == code} for code, ids in expected.items()
    } == expected
    for i in ("invalid-input", "csrf", "already-exists", "swap-request-partner-busy"):
        assert i not in errors.STATUS and errors.status(DomainError(i)) == 400


def test_the_renderer_translates_the_id_with_its_detail_and_params() -> None:
    err = DomainError("swap-no-shift", "2026-03-02")
    assert errors.message(err, "en") == "No published shift on 2026-03-02 to swap."
    assert errors.as_dict(err, "zh-CN") == {
        "error": "swap-no-shift",
        "message": "2026-03-02 没有可调换的已发布班次。",
    }
    assert errors.status(err) == 409
    # No detail: the placeholder is left empty and the text trimmed.
    assert errors.message(DomainError("duplicate"), "en") == "This already exists."
    # Named params fill their own placeholders.
    assert errors.message(DomainError("phone-repeated", "+861", line=3), "en") == (
        "The number +861 is also on line 3 of this file."
    )
    app = Flask(__name__)
    with app.app_context():
        r = errors.response(DomainError("forbidden"), "en", extra=1)
    assert r.status_code == 403
    assert r.get_json() == {
        "error": "forbidden",
        "message": errors.message(DomainError("forbidden"), "en"),
        "extra": 1,
    }


def test_the_renderer_lists_each_import_problem_with_its_message() -> None:
    err = CustomerImportError(
        [ImportProblem(2, "grade", "invalid-grade"), ImportProblem(4, "", "csv-quote")]
    )
    assert err.data() == {
        "problems": [
            {"line": 2, "column": "grade", "error": "invalid-grade"},
            {"line": 4, "column": "", "error": "csv-quote"},
        ]
    }
    wire = errors.as_dict(err, "zh-CN")
    assert wire["error"] == "csv-invalid" and errors.status(err) == 400
    assert [(p["line"], p["error"]) for p in wire["problems"]] == [
        (2, "invalid-grade"),
        (4, "csv-quote"),
    ]
    assert wire["problems"][0]["message"] == errors.problem_message(err.problems[0], "zh-CN")
    assert wire["problems"][0]["message"].startswith("第 2 行,等级:")
    lines = errors.message(err, "en").splitlines()
    assert len(lines) == 3 and lines[1] == "  " + errors.problem_message(err.problems[0], "en")
