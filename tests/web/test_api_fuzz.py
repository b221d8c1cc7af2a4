"""Schemathesis drives every documented operation of the served OpenAPI document, as each role.

A real app on a real SQLite database with the demo seed, called through WSGI (no port).
Each operation gets a fixed number of generated requests (derandomized: the same ones on
every run), valid ones and, where it has parameters or a body, invalid ones. Every response
must be no 5xx, a documented status code with a documented content type, and match its
documented schema; invalid requests must be refused with a 4xx.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from console.core.db import upgrade
from console.node import web_app
from tests.helpers import csrf, login, make_settings, seeded_hotline

# Requests per operation and role: 57 operations x 4 roles x 30 valid + 47 x 4 x 10 invalid
# ≈ 8,700 requests, under two minutes on the 2-core CI machine. Raise locally to hunt harder.
EXAMPLES = {"positive": 30, "negative": 10}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Invalid requests must also be refused (4xx): the validation layer, not the database, says no.
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
ROLES = {
    "agent": ("agent1", "/agent"),
    "supervisor": ("super1", "/calls"),
    "scheduler": ("planner", "/schedule/forecast"),
    "admin": ("admin", "/calls"),
}
USER_AGENT = "hotline-api-fuzz"
# Starting a solve runs CP-SAT on a background thread for its time limit (5-600 s): thousands
# of generated calls would keep both cores busy long after the test. tests/rosters/test_views.py
# drives it with real rosters instead.
SKIP = {("POST", "/api/v1/rosters/{roster_id}/solve")}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{tmp / 'hotline.db'}"
    upgrade(url)
    hl = seeded_hotline(make_settings(tmp, url))
    app, _ = web_app(hl)
    yield app
    hl.close()


def _credentials(app: Flask, role: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies of a signed-in user of this role (POST/PUT need the CSRF token)."""
    username, page = ROLES[role]
    browser = app.test_client()
    # Flask-Login's strong session protection ties the session to the User-Agent and address it
    # signed in with; the WSGI client sends no REMOTE_ADDR, so the fuzz names the address.
    browser.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    client = login(browser, username)
    token = csrf(client, page)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {
        "X-CSRFToken": token,
        "Accept-Language": "en",
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": "127.0.0.1",
    }, {"session": cookie.value}


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_holds_its_documented_contract_for_generated_requests(
    fuzz_app: Flask, role: str, mode: str
) -> None:
    headers, cookies = _credentials(fuzz_app, role)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)
    failures: list[str] = []
    ran = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        if mode == "negative" and not any(
            len(p) for p in (operation.path_parameters, operation.query, operation.body)
        ):
            continue  # nothing to make invalid: the positive run covers it
        generation = (
            schemathesis.GenerationMode.NEGATIVE
            if mode == "negative"
            else schemathesis.GenerationMode.POSITIVE
        )
        checks = NEGATIVE_CHECKS if mode == "negative" else CHECKS

        # Cookies go with the case: the WSGI client sends its own cookie jar, not a Cookie header.
        @given(case=operation.as_strategy(generation, cookies=cookies))
        @settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,  # the same requests on every run
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            # run() is called in this iteration, before `checks` is rebound.
            response = case.call_and_validate(headers=headers, checks=checks)  # noqa: B023
            # Signed in for real: a 401 here would mean the fuzz tested only the login check.
            assert response.status_code != 401, (case.method, case.path)

        try:
            run()
        except (Exception, BaseExceptionGroup) as err:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(err)[:1500]}")
        ran += 1
    assert ran > (50 if mode == "positive" else 35), ran
    print(f"{role} {mode}: {ran} operations in {time.monotonic() - started:.1f}s")
    assert not failures, "\n\n".join(failures)
