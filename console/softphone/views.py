"""The agent page's audio socket: `GET /api/v1/calls/<call_id>/audio` upgraded to a WebSocket.

Same origin as the page (Chromium refuses `ws://` to a private address from a page of
another address space), authenticated by the session cookie, and only for the agent the call
was answered by. Wire format (static/softphone/hl-softphone): binary messages are a 4-byte
little-endian sequence number and one 20 ms frame of 16-bit mono PCM at the leg's rate;
text messages are JSON (`ready`, `ping`/`pong`, `mute`, `stats`, `state`).

The browser leg outlives the socket: a reload or a network blip closes the socket, the call
stays, and the next socket attaches to the same leg. In the scaled shape the leg lives in the
worker's process and this socket is relayed to it (console/softphone/relay.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, request
from flask_login import current_user
from flask_sock import Sock

from console.softphone import services
from console.softphone.relay import relay
from console.softphone.session import NO_SUCH_CALL, NOT_YOURS, serve_agent
from console.web.access import hotline as hl

bp = Blueprint("softphone", __name__)
sock = Sock()


def init_app(app: Flask) -> None:
    sock.init_app(app)
    app.register_blueprint(bp)


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return True  # not a browser: the session cookie still decides
    return urlsplit(origin).netloc == request.host


def _route(path: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`sock.route(path, bp=bp)` with its type (Flask-Sock ships no type hints)."""
    register: Callable[[Callable[..., None]], Callable[..., None]] = sock.route(path, bp=bp)
    return register


@_route("/api/v1/calls/<call_id>/audio")
def audio(ws: Any, call_id: str) -> None:
    if not current_user.is_authenticated or not _same_origin():
        ws.close(NOT_YOURS, "forbidden")
        return
    node = hl()
    me = current_user.agent_id
    leg = node.audio.get(call_id, me)
    if leg is not None:  # the worker holding the call runs in this process
        serve_agent(ws, node.audio, leg, me)
        return
    if node.audio.holds_call(call_id):  # held here, but not hers
        ws.close(NOT_YOURS, "forbidden")
        return
    # Held by a worker in another process (the scaled shape): relay to it.
    with node.sessions() as s:
        route = services.audio_route(s, call_id)
    if route is None:
        ws.close(NO_SUCH_CALL, "call-not-found")
        return
    live = node.live.get_agent(me) if me is not None else None
    consulted = live is not None and live.call_id == call_id  # a colleague she consults
    if me is None or (route.agent_id != me and not consulted):
        ws.close(NOT_YOURS, "forbidden")
        return
    relay(ws, route.audio_url, call_id, me, node.settings.effective_secret_key)
