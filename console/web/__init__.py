"""The Flask application factory: blueprints, Socket.IO, login, CSRF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import IntegrityError

from console.core.i18n import DomainError, pick_language
from console.core.settings import PROJECT_ROOT, Settings
from console.node import Hotline, build

STATIC = PROJECT_ROOT / "static"


def create_app(
    settings: Settings | None = None, hotline: Hotline | None = None
) -> tuple[Flask, SocketIO]:
    """Build the web app; pass a Hotline to share it with the telephony side."""
    settings = settings or Settings.from_env()
    hotline = hotline or build(settings)
    app = Flask(
        __name__,
        static_folder=str(STATIC),
        static_url_path="/static",
        template_folder=str(Path(__file__).parent / "templates"),
    )
    app.config.update(
        SECRET_KEY=settings.effective_secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    app.extensions["hotline"] = hotline
    CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "users.login"
    login.session_protection = "strong"

    # async_mode threading: pjsua2 owns native threads that monkey-patching would break.
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=settings.redis_url or None,
        channel=f"{settings.redis_prefix}:socketio",
        cors_allowed_origins=None,  # same origin only
        manage_session=False,
    )
    app.extensions["hotline.socketio"] = socketio

    from console.agents import sockets
    from console.agents import views as console_views
    from console.attendance import views as attendance
    from console.calls import views as calls
    from console.forecasts import views as schedule
    from console.users import views as auth
    from console.web import api_docs

    auth.init_app(app, login)
    console_views.init_app(app)
    calls.init_app(app)
    from console.customers import views as customers

    customers.init_app(app)
    schedule.init_app(app)
    from console.handover import views as handover

    handover.init_app(app)
    from console.rosters import views as rosters

    rosters.init_app(app)
    from console.requests import views as requests_views
    from console.workforce import views as workforce_views

    requests_views.init_app(app)
    workforce_views.init_app(app)
    attendance.init_app(app)
    api_docs.init_app(app)
    from console.web import validation

    validation.init_app(app)  # checks every /api/v1 request against api_docs' document
    sockets.init_app(app, socketio)

    if hotline.bus.emit is None:
        hotline.bus.emit = lambda name, data, room: socketio.emit(name, data, to=room)

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Any:
        return jsonify(err.as_dict(language())), err.status

    @app.errorhandler(IntegrityError)
    def _conflict(err: IntegrityError) -> Any:
        # Two requests raced for the same unique thing (a double submit): the first won and
        # this one changed nothing.
        return jsonify(DomainError("duplicate", "").as_dict(language())), 409

    @app.errorhandler(CSRFError)
    def _csrf_error(err: CSRFError) -> Any:
        return jsonify(DomainError("csrf").as_dict(language())), 400

    return app, socketio


def language() -> str:
    """The current user's language, else the browser's, else the centre's default."""
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        language: str = current_user.language
        return language
    return pick_language(request.headers.get("Accept-Language") if request else None)


def hotline_of(app: Flask) -> Hotline:
    hotline: Hotline = app.extensions["hotline"]
    return hotline
