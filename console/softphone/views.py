"""The agent page's audio socket: `GET /api/v1/calls/<call_id>/audio` upgraded to a WebSocket.

Same origin as the page (Chromium refuses `ws://` to a private address from a page of
another address space), authenticated by the session cookie, and only for the agent the call
was answered by. Wire format (static/softphone/hl-softphone): binary messages are a 4-byte
little-endian sequence number and one 20 ms frame of 16-bit mono PCM at the leg's rate;
text messages are JSON (`ready`, `ping`/`pong`, `mute`, `stats`, `state`).

The browser leg outlives the socket: a reload or a network blip closes the socket, the call
stays, and the next socket attaches to the same leg.
"""

from __future__ import annotations

import json
import struct
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, request
from flask_login import current_user
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from console.softphone.hub import AudioHub, BrowserLeg
from console.web.access import hotline as hl

bp = Blueprint("softphone", __name__)
sock = Sock()
SEQ = struct.Struct("<I")
STATS_EVERY_S = 2.0
# Close codes the page understands (4000-4999 are the application's own).
NOT_YOURS = 4403
NO_SUCH_CALL = 4404


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
    hub = hl().audio
    leg = hub.get(call_id)
    if leg is None:
        # Ended, or held by a worker in another process (the scaled shape's relay is to come).
        ws.close(NO_SUCH_CALL, "call-not-found")
        return
    if leg.agent_id != current_user.agent_id:
        ws.close(NOT_YOURS, "forbidden")
        return
    ticket = leg.attach()
    ws.send(json.dumps({"type": "ready", "rate": leg.rate, "frame_ms": 20}))
    sender = threading.Thread(
        target=_send_loop, args=(ws, hub, leg, ticket), name=f"audio-out-{call_id}", daemon=True
    )
    sender.start()
    try:
        _receive_loop(ws, hub, leg, ticket)
    finally:
        leg.detach(ticket)
        sender.join(timeout=2)


def _live(hub: AudioHub, leg: BrowserLeg, ticket: int) -> bool:
    """The page still holds the leg, and the call still has it."""
    return leg.holds(ticket) and hub.get(leg.call_id) is leg


def _receive_loop(ws: Any, hub: AudioHub, leg: BrowserLeg, ticket: int) -> None:
    while _live(hub, leg, ticket):
        message = ws.receive(timeout=0.5)
        if message is None:
            continue
        if isinstance(message, bytes):
            leg.push_uplink(message[SEQ.size :])
            continue
        try:
            data = json.loads(message)
        except ValueError:
            continue
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "ping":
            ws.send(json.dumps({"type": "pong", "t": data.get("t")}))
        elif kind == "mute":
            leg.muted = bool(data.get("on"))
    if hub.get(leg.call_id) is not leg:
        ws.send(json.dumps({"type": "state", "state": "ended"}))
        ws.close(1000, "call ended")


def _send_loop(ws: Any, hub: AudioHub, leg: BrowserLeg, ticket: int) -> None:
    seq = 0
    next_stats = time.monotonic() + STATS_EVERY_S
    try:
        while _live(hub, leg, ticket):
            pcm = leg.next_downlink(0.5)
            if pcm is not None:
                ws.send(SEQ.pack(seq & 0xFFFFFFFF) + pcm)
                seq += 1
            if time.monotonic() >= next_stats:
                next_stats += STATS_EVERY_S
                stats = leg.stats
                ws.send(
                    json.dumps(
                        {
                            "type": "stats",
                            "uplink_frames": stats.uplink_frames,
                            "uplink_gaps": stats.uplink_gaps,
                        }
                    )
                )
    except ConnectionClosed:
        pass
