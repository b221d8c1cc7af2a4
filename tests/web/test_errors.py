"""Errors the web layer maps for every route."""

from __future__ import annotations

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy.exc import IntegrityError


def test_a_lost_race_on_a_unique_key_is_a_409_that_says_so(web: tuple[Flask, SocketIO]) -> None:
    app, _ = web

    def double_submit() -> str:
        # What a second, simultaneous submit of the same thing meets in the database.
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))

    app.add_url_rule("/test-double-submit", view_func=double_submit)
    r = app.test_client().get("/test-double-submit", headers={"Accept-Language": "en"})
    assert r.status_code == 409
    assert r.get_json() == {"error": "duplicate", "message": "This already exists."}
