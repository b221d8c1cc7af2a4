"""Every /api/v1 request is checked against the served OpenAPI document before its view runs.

One before_request hook finds the documented operation of the matched route and validates
its path and query parameters and its body with jsonschema, so the limits a client reads in
the document (types, ranges, lengths) are the ones the server enforces. The JSON parser
refuses NaN, Infinity and nesting too deep to parse, and errors on /api/ paths are JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException

from console.core.errors import DomainError
from console.core.i18n import translate
from console.web import errors
from console.web.access import language as request_language
from console.web.api_docs import spec

# A request body larger than this is refused with 413 before it is read. The largest
# legitimate body is a forecast CSV: 8 weeks of 15-minute rows is ~5,400 lines of ~40 bytes.
MAX_BODY_BYTES = 1024 * 1024
SPEC_URI = "urn:hotline:openapi"
# HTTP errors werkzeug raises before or around a view, as stable ids on the API.
_HTTP_IDS = {
    400: "invalid-input",
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    415: "unsupported-media-type",
}


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # 1e400 parses to inf: an unbounded value no field accepts.
        raise ValueError(f"{text[:32]} is out of range")
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with the standard's numbers only: no NaN/Infinity, no overflowing floats,
    and nesting too deep to parse is a ValueError (a 400), not a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite_float)
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def openapi_path(rule: str) -> str:
    """Flask's `<call_id>` / `<int:customer_id>` → OpenAPI's `{call_id}` / `{customer_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@functools.cache
def _registry() -> Registry:
    registry: Registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec(), DRAFT202012)
    )
    return registry


# Dates the console can compute with: a day before 0001-01-01 or an offset past 9999-12-31
# raises OverflowError deep in a service, and no schedule lives outside these years.
FIRST_YEAR, LAST_YEAR = 1970, 2999
FORMATS = FormatChecker(formats=())


def _date(value: object) -> bool:
    return (
        not isinstance(value, str) or FIRST_YEAR <= dt.date.fromisoformat(value).year <= LAST_YEAR
    )


def _date_time(value: object) -> bool:
    # What the views read: ISO 8601, "Z" or an offset, no offset = UTC.
    if not isinstance(value, str):
        return True
    at = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return FIRST_YEAR <= at.year <= LAST_YEAR


# jsonschema ships no type hints: the checks are registered by a call, not as decorators, so
# the functions keep their types.
FORMATS.checks("date", raises=ValueError)(_date)
FORMATS.checks("date-time", raises=ValueError)(_date_time)


@functools.cache
def _validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at this JSON pointer of the document (built once)."""
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry(), format_checker=FORMATS
    )


def _resolve(node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A `$ref` to a component followed once, with the pointer of what it names."""
    ref = node.get("$ref")
    if not ref:
        return node, None
    target: Any = spec()
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    return target, ref[1:]


def _operation(method: str, rule: str) -> tuple[str, str, dict[str, Any]] | None:
    path = openapi_path(rule)
    item = spec()["paths"].get(path)
    verb = "get" if method == "HEAD" else method.lower()
    if item is None or verb not in item:
        return None
    return path, verb, item[verb]


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    """A query string value as the type its schema names; left a string when it is not one."""
    types = schema.get("type")
    kinds = set(types) if isinstance(types, list) else {types}
    try:
        if "integer" in kinds and re.fullmatch(r"[+-]?\d+", raw.strip()):
            return int(raw)
        if "number" in kinds:
            value = float(raw)
            return value if math.isfinite(value) else raw
    except ValueError:  # e.g. more digits than int() converts
        return raw
    if "boolean" in kinds and raw.strip().lower() in ("true", "false", "1", "0"):
        return raw.strip().lower() in ("true", "1")
    return raw


def _field(error: ValidationError, where: str) -> str:
    """Where the error is, as a dotted path under the parameter name or the body."""
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        parts += [str(n) for n in error.validator_value if n not in error.instance][:1]
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        parts += [str(k) for k in error.instance if k not in error.schema.get("properties", {})][:1]
    if where != "body" or not parts:
        parts.insert(0, where)
    return ".".join(parts)[:80]


def _narrow(error: ValidationError) -> ValidationError:
    """For a failed oneOf/anyOf, the branch error that got furthest: it names the real problem."""
    if str(error.validator) in ("oneOf", "anyOf") and error.context:
        return max(error.context, key=lambda e: len(list(e.absolute_path)))
    return error


def _detail(error: ValidationError, where: str, language: str) -> str:
    kind = str(error.validator)
    known = {
        "type",
        "maximum",
        "minimum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "maxItems",
        "minItems",
        "maxProperties",
        "enum",
        "required",
        "additionalProperties",
        "pattern",
        "format",
    }
    key = f"invalid.{kind}" if kind in known else "invalid.other"
    limit = (
        error.validator_value if not isinstance(error.validator_value, (dict, list, bool)) else ""
    )
    return translate(key, language, field=_field(error, where), limit=limit)


def _first_error(validator: Draft202012Validator, value: Any) -> ValidationError | None:
    errors = list(validator.iter_errors(value))
    return (
        min(errors, key=lambda e: (len(list(e.absolute_path)), str(e.validator)))
        if errors
        else None
    )


def _invalid(error: ValidationError, where: str) -> DomainError:
    """invalid-input, or the stable id the schema names for the broken keyword in `x-errors`
    (e.g. `{"enum": "invalid-grade"}`), so the schema keeps the domain's own error ids."""
    error = _narrow(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    error_id = schema.get("x-errors", {}).get(str(error.validator))
    if error.validator == "required" and isinstance(error.instance, dict):
        # A missing field's own schema names the id of its absence.
        props = schema.get("properties", {})
        missing = [n for n in error.validator_value if n not in error.instance]
        ids = [props.get(n, {}).get("x-errors", {}).get("required") for n in missing]
        error_id = next((i for i in ids if i), error_id)
    return DomainError(error_id or "invalid-input", _detail(error, where, request_language()))


def validate_request() -> None:
    """Raise a 400/415 DomainError when the request breaks its operation's documented contract."""
    rule = request.url_rule
    if rule is None or not rule.rule.startswith("/api/"):
        return
    found = _operation(request.method, rule.rule)
    if found is None:
        return
    path, verb, op = found
    if op.get("security") != [] and not current_user.is_authenticated:
        # The view answers 401 before it reads any input; say that rather than 400.
        return
    base = f"/paths/{_escape(path)}"
    item = spec()["paths"][path]
    # Path-level parameters first, then the operation's own (which may override them).
    for where, params in (
        (base, item.get("parameters", [])),
        (f"{base}/{verb}", op.get("parameters", [])),
    ):
        for i, p in enumerate(params):
            param, pointer = _resolve(p)
            _check_parameter(param, pointer or f"{where}/parameters/{i}")
    if "requestBody" in op:
        _check_body(op["requestBody"], f"{base}/{verb}/requestBody")


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def _check_parameter(param: dict[str, Any], pointer: str) -> None:
    name, place = param["name"], param["in"]
    schema = param.get("schema", {})
    if place == "path":
        value: Any = (request.view_args or {}).get(name)
        if value is None:
            return
        if isinstance(value, str):
            value = _coerce(value, schema)
    elif place == "query":
        if name not in request.args:
            if param.get("required"):
                raise DomainError(
                    "invalid-input",
                    translate("invalid.required", request_language(), field=name, limit=""),
                )
            return
        value = _coerce(request.args[name], schema)
    else:
        return
    error = _first_error(_validator(f"{pointer}/schema"), value)
    if error is not None:
        raise _invalid(error, name)


def _check_body(body: dict[str, Any], pointer: str) -> None:
    body, ref = _resolve(body)
    pointer = ref or pointer
    content = body.get("content", {})
    has_body = bool(request.content_length) or bool(request.get_data(cache=True))
    if not has_body:
        if body.get("required"):
            raise DomainError(
                "invalid-input",
                translate("invalid.required", request_language(), field="body", limit=""),
            )
        return
    mimetype = request.mimetype or ""
    if not mimetype and "application/json" in content:
        # No Content-Type at all: the body is read as JSON, so a bare word is a 400, not a 415.
        data = request.get_json(force=True, silent=True)
    elif mimetype not in content:
        raise DomainError("unsupported-media-type", ", ".join(content))
    elif mimetype == "application/json":
        data = request.get_json(silent=True)
    else:
        return  # text/csv: its view parses it; MAX_BODY_BYTES bounds it
    if data is None:
        # Not JSON, NaN/Infinity, a float beyond double range, or nested too deep.
        raise DomainError("invalid-json")
    schema_pointer = f"{pointer}/content/{_escape('application/json')}/schema"
    error = _first_error(_validator(schema_pointer), data)
    if error is not None:
        raise _invalid(error, "body")


def _http_error(err: HTTPException) -> Any:
    if not request.path.startswith("/api/") or err.code not in _HTTP_IDS:
        return err
    error_id = _HTTP_IDS[err.code]
    detail = {413: f"{MAX_BODY_BYTES // 1024} KiB", 400: "request"}.get(err.code, "")
    # The table gives each of these ids the status of the HTTP error it stands for.
    response = errors.response(DomainError(error_id, detail), request_language())
    if err.code == 405:
        response.headers["Allow"] = err.get_response().headers.get("Allow", "")
    return response


def init_app(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(validate_request)
    app.register_error_handler(HTTPException, _http_error)
