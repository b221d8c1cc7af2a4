"""Domain errors on the wire: the one table of HTTP statuses and the one renderer.

A `DomainError` carries an id and the values of its message; here the id gets its HTTP
status (`STATUS`, 400 for any id not listed) and the message its language. The JSON shape
is `{"error": id, "message": text}` plus whatever the error adds (`DomainError.data()`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError

from console.core.errors import DomainError
from console.core.i18n import translate
from console.customers.services import COLUMN_LABELS, CustomerImportError, ImportProblem
from console.web.access import language as request_language

# Every error id whose HTTP status is not 400, and that status.
STATUS: dict[str, int] = {
    # 401: nobody is signed in
    "login-required": 401,
    # 403: signed in, but not allowed this
    "forbidden": 403,
    "not-an-agent": 403,
    "call-not-offered": 403,
    # 404: no such thing
    "not-found": 404,
    "agent-not-found": 404,
    "call-not-found": 404,
    "recording-not-found": 404,
    "analysis-not-found": 404,
    "quality-filter-not-found": 404,
    "queue-not-found": 404,
    "customer-not-found": 404,
    "miss-unknown-call": 404,
    # 405, 413, 415: the HTTP request itself (Werkzeug's errors, see validation.py)
    "method-not-allowed": 405,
    "too-large": 413,
    "unsupported-media-type": 415,
    # 409: the request is sound but the state of things refuses it
    "duplicate": 409,
    "agent-busy": 409,
    "not-in-wrap-up": 409,
    "phone-taken": 409,
    "already-clocked-in": 409,
    "not-clocked-in": 409,
    "relief-not-arrived": 409,
    "handover-no-shift": 409,
    "handover-already-filed": 409,
    "handover-own-entry": 409,
    "handover-not-on-duty": 409,
    "handover-already-acknowledged": 409,
    "miss-exists": 409,
    "weekly-summary-exists": 409,
    "request-decided": 409,
    "swap-past": 409,
    "swap-no-shift": 409,
    "swap-partner-busy": 409,
    "swap-violations": 409,
    "roster-not-editable": 409,
    "roster-starts-in-past": 409,
    "roster-violations": 409,
    "template-in-use": 409,
    "agent-offline": 409,
    "no-outbound-trunk": 409,
    "agent-not-available": 409,
    "queue-has-no-number": 409,
    "no-telephony": 409,
    "dial-needs-browser-audio": 409,
    "quality-filter-name-taken": 409,
    "quality-filters-full": 409,
}

# An import error's message lists this many of its problems (the wire data lists them all).
IMPORT_PROBLEMS_SHOWN = 50


def status(err: DomainError) -> int:
    """The HTTP status of the error's id."""
    return STATUS.get(err.error_id, 400)


def message(err: DomainError, language: str) -> str:
    """The error's message in the language (an import error lists its problems)."""
    if isinstance(err, CustomerImportError):
        return _import_message(err, language)
    return _text(err.error_id, language, detail=err.detail, **err.params)


def as_dict(err: DomainError, language: str) -> dict[str, Any]:
    """The wire shape: id, message, and the error's own data (import problems get theirs)."""
    out: dict[str, Any] = {"error": err.error_id, "message": message(err, language)}
    out.update(err.data())
    if isinstance(err, CustomerImportError):
        out["problems"] = [
            row | {"message": problem_message(p, language)}
            for row, p in zip(err.rows(), err.problems, strict=True)
        ]
    return out


def response(err: DomainError, language: str | None = None, **extra: Any) -> Response:
    """The JSON response for the error (in the request's language unless one is given)."""
    body = as_dict(err, language or request_language()) | extra
    out = jsonify(body)
    out.status_code = status(err)
    return out


def problem_message(problem: ImportProblem, language: str) -> str:
    """One bad line of an import file as one line of text."""
    text = _text(problem.error_id, language, detail=problem.detail, line=problem.other_line)
    if not problem.column:
        return translate("import.problem_line", language, line=problem.line, message=text)
    label = problem.column
    if problem.column in COLUMN_LABELS:
        label = translate(COLUMN_LABELS[problem.column], language)
    return translate("import.problem_at", language, line=problem.line, column=label, message=text)


def _import_message(err: CustomerImportError, language: str) -> str:
    """A summary line, then one line per problem (the first IMPORT_PROBLEMS_SHOWN)."""
    lines = [translate("import.failed", language, n=len(err.problems))]
    lines += ["  " + problem_message(p, language) for p in err.problems[:IMPORT_PROBLEMS_SHOWN]]
    if len(err.problems) > IMPORT_PROBLEMS_SHOWN:
        more = len(err.problems) - IMPORT_PROBLEMS_SHOWN
        lines.append("  " + translate("import.more", language, n=more))
    return "\n".join(lines)


def _text(error_id: str, language: str, **params: object) -> str:
    return translate(f"error.{error_id}", language, **params).strip()


def init_app(app: Flask) -> None:
    """Answer every DomainError, lost unique-key race and CSRF failure with the wire shape."""

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Response:
        return response(err)

    @app.errorhandler(IntegrityError)
    def _conflict(err: IntegrityError) -> Response:
        # Two requests raced for the same unique thing (a double submit): the first won and
        # this one changed nothing.
        return response(DomainError("duplicate"))

    @app.errorhandler(CSRFError)
    def _csrf_error(err: CSRFError) -> Response:
        return response(DomainError("csrf"))
