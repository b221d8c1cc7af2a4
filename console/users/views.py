"""Login, logout and role checks for pages, API routes and Socket.IO events."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user

from console.core.errors import DomainError
from console.core.i18n import table, translate
from console.core.models import User
from console.core.states import AgentState, AudioPath
from console.users import services as users
from console.web import errors
from console.web.access import hotline as hl
from console.web.access import language as request_language

bp = Blueprint("users", __name__, template_folder="templates")
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


def init_app(app: Flask, login: LoginManager) -> None:
    # Flask-Login ships no type hints: its hooks are registered by a call, not as decorators,
    # so the functions keep their types.
    def load(user_id: str) -> LoggedIn | None:
        token = session.get("token")
        if not token:
            return None
        with hl().sessions() as s:
            user = users.user_for_token(s, token)
            if user is None or str(user.id) != user_id:
                return None
            return LoggedIn(user, user.agent.id if user.agent else None)

    def unauthorized() -> Any:
        if request.path.startswith("/api/"):
            return errors.response(DomainError("login-required"), request_language())
        return redirect(url_for("users.login", next=request.path))

    login.user_loader(load)
    login.unauthorized_handler(unauthorized)
    app.register_blueprint(bp)


# Browsers drop tabs and newlines anywhere in a URL, strip leading controls and spaces, and
# read "\" as "/": "/\t/evil.example" arrives as "//evil.example", another host.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")
_NEXT_MAX = 2048


def safe_next(raw: str | None) -> str | None:
    """The ?next= target as a normalised path on this site, or None if it could leave it."""
    if not raw or len(raw) > _NEXT_MAX or not raw.isascii():
        # Non-ASCII covers lookalikes (U+FF0F fullwidth solidus, U+2215 division slash) that
        # some parsers map to "/"; no page of the app has such a path.
        return None
    # The query value is decoded once already; a second decoding catches "%5C", "%09",
    # "%2F%2F" in case a proxy or the browser decodes again.
    if _URL_UNSAFE.search(raw) or _URL_UNSAFE.search(unquote(raw)):
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    segments: list[str] = []
    for seg in parts.path.split("/")[1:]:
        # Browsers treat "%2e" as "."; empty segments are collapsed so "/.//evil" cannot
        # become "//evil" once dot segments are removed.
        plain = unquote(seg)
        if plain in ("", "."):
            continue
        if plain == "..":
            if segments:
                segments.pop()
            continue
        segments.append(seg)
    path = "/" + "/".join(segments)
    if path != "/" and parts.path.endswith("/"):
        path += "/"
    if unquote(path).startswith("//"):
        return None
    return path + ("?" + parts.query if parts.query else "")


AUDIO_COOKIE = "hl_audio"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    lang = request_language()
    # The audio choice of the last sign-in on this browser is offered again.
    audio = request.cookies.get(AUDIO_COOKIE, "")
    if request.method == "GET":
        return render_template("login.html", t=table(lang), lang=lang, error=None, audio=audio)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    throttle = hl().logins
    address = request.remote_addr
    # While locked the password is not even checked: a right guess must not be confirmed.
    wait = throttle.attempt(username, address)
    if wait:
        return _locked(lang, wait)
    with hl().sessions.begin() as s:
        user = users.authenticate(s, username, password)
        if user is not None:
            users.choose_audio(s, user, request.form.get("audio", ""))
            token = users.open_login_session(s, user)
            logged = LoggedIn(user, user.agent.id if user.agent else None)
        else:
            wait = throttle.failed(username, address)
            users.audit_failed_login(s, username, address, wait)
    if user is None:
        if wait:
            return _locked(lang, wait)
        error = table(lang)["login.failed"]
        page = render_template(
            "login.html", t=table(lang), lang=lang, error=error, audio=request.form.get("audio")
        )
        return page, 401
    throttle.succeeded(username, address)
    session.clear()
    session["token"] = token
    login_user(logged)
    # Only paths on this site: an open redirect would carry a freshly signed-in user to a
    # look-alike page asking for her password again.
    response = redirect(safe_next(request.args.get("next")) or url_for("agents.home"))
    choice = request.form.get("audio", "")
    if choice in tuple(AudioPath):
        response.set_cookie(
            AUDIO_COOKIE, choice, max_age=365 * 86400, httponly=True, samesite="Lax"
        )
    return response


def _locked(lang: str, seconds: int) -> Any:
    if seconds < 60:
        wait = translate("login.wait_seconds", lang, n=seconds)
    else:
        wait = translate("login.wait_minutes", lang, n=-(-seconds // 60))
    error = translate("login.locked", lang, wait=wait)
    page = render_template("login.html", t=table(lang), lang=lang, error=error, locked=True)
    return page, 429, {"Retry-After": str(seconds)}


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    # Read the user before revoking: afterwards the session no longer loads it.
    agent_id = getattr(current_user, "agent_id", None)
    token = session.get("token")
    if token:
        with hl().sessions.begin() as s:
            users.revoke_login_session(s, token)
    if agent_id is not None:
        # A signed-out agent must not be offered calls; busy agents keep their call.
        hl().agents.transition(
            agent_id, AgentState.OFFLINE, expect=[AgentState.AVAILABLE, AgentState.NOT_READY]
        )
    logout_user()
    session.clear()
    return redirect(url_for("users.login"))
