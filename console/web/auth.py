"""Login, logout and role checks for pages, API routes and Socket.IO events."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from console.i18n import DomainError, table
from console.models import User
from console.services import users

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


class LoggedIn:
    """The Flask-Login view of a user, detached from any database session."""

    def __init__(self, user: User, agent_id: int | None) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role
        self.language = user.language
        self.agent_id = agent_id
        self.is_authenticated = True
        self.is_active = True
        self.is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


def _hotline() -> Any:
    return current_app.extensions["hotline"]


def init_app(app: Flask, login: LoginManager) -> None:
    @login.user_loader
    def load(user_id: str) -> LoggedIn | None:
        token = session.get("token")
        if not token:
            return None
        with _hotline().sessions() as s:
            user = users.user_for_token(s, token)
            if user is None or str(user.id) != user_id:
                return None
            return LoggedIn(user, user.agent.id if user.agent else None)

    @login.unauthorized_handler
    def unauthorized() -> Any:
        if request.path.startswith("/api/"):
            return DomainError("login-required").as_dict("en") | {
                "message": DomainError("login-required").message(_lang())
            }, 401
        return redirect(url_for("auth.login", next=request.path))

    app.register_blueprint(bp)


def _lang() -> str:
    from console.web import language

    return language()


def json_body() -> dict[str, Any]:
    """The request's JSON object; anything else is a clear 400 (invalid-input)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("invalid-input", "JSON object expected")
    return data


def roles(*allowed: str) -> Callable[[F], F]:
    """Only logged-in users with one of these roles get through (401/403 otherwise)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if allowed and current_user.role not in allowed:
                raise DomainError("forbidden", status=403)
            return fn(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    lang = _lang()
    if request.method == "POST":
        with _hotline().sessions.begin() as s:
            user = users.authenticate(s, request.form.get("username", ""), request.form.get("password", ""))
            if user is not None:
                token = users.open_login_session(s, user)
                logged = LoggedIn(user, user.agent.id if user.agent else None)
        if user is not None:
            session.clear()
            session["token"] = token
            login_user(logged)
            nxt = request.args.get("next") or ""
            # Only local paths: an open redirect would leak the fresh session.
            if not nxt.startswith("/") or nxt.startswith("//"):
                nxt = url_for("console.home")
            return redirect(nxt)
        error = table(lang)["login.failed"]
    return render_template("login.html", t=table(lang), lang=lang, error=error), 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    # Read the user before revoking: afterwards the session no longer loads it.
    agent_id = getattr(current_user, "agent_id", None)
    token = session.get("token")
    if token:
        with _hotline().sessions.begin() as s:
            users.revoke_login_session(s, token)
    if agent_id is not None:
        # A signed-out agent must not be offered calls; busy agents keep their call.
        _hotline().agents.transition(agent_id, "offline", expect=["available", "not_ready"])
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
