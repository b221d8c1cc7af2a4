"""One page's audio socket on a browser leg: the protocol of static/softphone/hl-softphone.

Binary messages both ways are a 4-byte little-endian sequence number and one 20 ms frame of
16-bit mono PCM at the leg's rate; text messages are JSON: `ready` first, `ping` answered
with `pong`, `mute`, `stats` every 2 s, `state` ended when the call ends. Used where the
leg is: by the web tier in a single-process node, by the worker's internal audio server in
the scaled shape (console/softphone/relay.py).
"""

from __future__ import annotations

import json
import struct
import threading
import time
from typing import Any

from simple_websocket import ConnectionClosed

from console.softphone.hub import AudioHub, BrowserLeg

SEQ = struct.Struct("<I")
STATS_EVERY_S = 2.0
# Close codes the page understands (4000-4999 are the application's own).
NOT_YOURS = 4403
NO_SUCH_CALL = 4404


def serve_agent(ws: Any, hub: AudioHub, leg: BrowserLeg, agent_id: int | None) -> None:
    """Serve the leg to the agent it belongs to; anyone else's socket is closed with 4403."""
    if leg.agent_id != agent_id:
        ws.close(NOT_YOURS, "forbidden")
        return
    serve_leg(ws, hub, leg)


def serve_leg(ws: Any, hub: AudioHub, leg: BrowserLeg) -> None:
    """Attach the socket to the leg until the page leaves, another page takes the leg, or
    the call ends (then the page is told and the socket closed with 1000)."""
    ticket = leg.attach()
    try:
        ws.send(json.dumps({"type": "ready", "rate": leg.rate, "frame_ms": 20}))
        sender = threading.Thread(
            target=_send_loop,
            args=(ws, hub, leg, ticket),
            name=f"audio-out-{leg.call_id}",
            daemon=True,
        )
        sender.start()
        try:
            _receive_loop(ws, hub, leg, ticket)
        finally:
            leg.detach(ticket)
            sender.join(timeout=2)
    except ConnectionClosed:
        leg.detach(ticket)


def _live(hub: AudioHub, leg: BrowserLeg, ticket: int) -> bool:
    """The page still holds the leg, and the call still has it."""
    return leg.holds(ticket) and hub.get(leg.call_id, leg.agent_id) is leg


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
    if hub.get(leg.call_id, leg.agent_id) is not leg:
        ws.send(json.dumps({"type": "state", "state": "ended"}))
        ws.close(1000, "call ended")


def _send_loop(ws: Any, hub: AudioHub, leg: BrowserLeg, ticket: int) -> None:
    seq = 0
    next_stats = time.monotonic() + STATS_EVERY_S
    held = False
    try:
        while _live(hub, leg, ticket):
            if leg.held != held:
                held = leg.held
                ws.send(json.dumps({"type": "state", "state": "held" if held else "connected"}))
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
