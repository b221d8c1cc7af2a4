"""The Flask application factory: blueprints, Socket.IO, login, CSRF."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from console.core.settings import PROJECT_ROOT
from console.node import Hotline, socketio_channel

STATIC = PROJECT_ROOT / "static"


def create_app(hotline: Hotline, socketio: SocketIO) -> Flask:
    """The Flask app of a node's web role, bound to its Socket.IO server; the composition root
    (console/node.py, web_app) builds both and calls this."""
    settings = hotline.settings
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
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=settings.redis_url or None,
        channel=socketio_channel(settings),
        cors_allowed_origins=None,  # same origin only
        manage_session=False,
    )
    app.extensions["hotline.socketio"] = socketio

    # Each feature's blueprint registers its own routes (and templates folder).
    from console.agents import sockets
    from console.agents import views as agents
    from console.attendance import views as attendance
    from console.calls import views as calls
    from console.customers import views as customers
    from console.forecasts import views as forecasts
    from console.handover import views as handover
    from console.quality import views as quality
    from console.recordings import views as recordings
    from console.requests import views as requests
    from console.rosters import views as rosters
    from console.softphone import views as softphone
    from console.supervision import sockets as supervision_sockets
    from console.supervision import views as supervision
    from console.users import views as users
    from console.web import api_docs, validation
    from console.workforce import views as workforce

    users.init_app(app, login)
    features = (agents, calls, customers, forecasts, handover, rosters, requests, workforce)
    for feature in (*features, attendance, recordings, softphone, quality, supervision):
        feature.init_app(app)
    api_docs.init_app(app)
    validation.init_app(app)  # checks every /api/v1 request against api_docs' document
    sockets.init_app(app, socketio)
    supervision_sockets.init_app(app, socketio)

    from console.web import errors

    errors.init_app(app)  # DomainError, IntegrityError and CSRFError as JSON errors

    return app
