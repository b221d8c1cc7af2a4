"""Browser audio in the scaled shape: the page's socket is relayed by the web tier to the
worker that holds the call.

The page must reach its audio the way it reaches the page (Chromium refuses `ws://` to a
private address from a page of another address space), so it always connects to the web
tier. When the call's browser leg lives in another process, the web tier opens a socket to
that worker's internal audio server (bound to loopback or the node's private network, its
address registered with the worker's heartbeat) and copies messages both ways; close codes
pass through. The worker trusts the web tier by a token: an HMAC of the call and agent under
the node's secret key, which every process of a node shares.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import threading
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from simple_websocket import Client, ConnectionClosed, Server
from werkzeug.serving import BaseWSGIServer, make_server

from console.softphone.hub import AudioHub
from console.softphone.session import NO_SUCH_CALL, NOT_YOURS, serve_agent

log = logging.getLogger(__name__)


def audio_token(secret: str, call_id: str, agent_id: int) -> str:
    message = f"{call_id}:{agent_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class InternalAudioServer:
    """The worker's audio endpoint for the web tier: `ws://host:port/internal/audio/<call>`.

    A bare WSGI app on Werkzeug's threaded server (no Flask: the worker has no web role);
    every request must be a WebSocket handshake carrying the web tier's token."""

    PREFIX = "/internal/audio/"

    def __init__(self, hub: AudioHub, secret: str, host: str = "127.0.0.1", port: int = 0):
        self._hub = hub
        self._secret = secret
        self._server: BaseWSGIServer = make_server(host, port, self._app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="internal-audio", daemon=True
        )

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if (
            not path.startswith(self.PREFIX)
            or "websocket" not in str(environ.get("HTTP_UPGRADE", "")).lower()
        ):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        call_id = unquote(path[len(self.PREFIX) :])
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        ws = Server(environ)
        with contextlib.suppress(ConnectionClosed):
            self._serve(ws, call_id, query)
        with contextlib.suppress(Exception):
            ws.close()
        # The response was the WebSocket: tell Werkzeug there is nothing more to write
        # (what Flask-Sock does under Werkzeug too).
        raise ConnectionError

    def _serve(self, ws: Any, call_id: str, query: dict[str, list[str]]) -> None:
        agent = query.get("agent", [""])[0]
        token = query.get("token", [""])[0]
        agent_id = int(agent) if agent.isdigit() else None
        if agent_id is None or not hmac.compare_digest(
            token, audio_token(self._secret, call_id, agent_id)
        ):
            ws.close(NOT_YOURS, "forbidden")
            return
        leg = self._hub.get(call_id, agent_id)
        if leg is None:
            held = self._hub.holds_call(call_id)
            ws.close(NOT_YOURS if held else NO_SUCH_CALL, "forbidden" if held else "call-not-found")
            return
        serve_agent(ws, self._hub, leg, agent_id)

    @property
    def url(self) -> str:
        """Base URL the web tier connects to (call id appended)."""
        return f"ws://{self.host}:{self.port}/internal/audio"

    def start(self) -> InternalAudioServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()


def relay(page: Any, base_url: str, call_id: str, agent_id: int, secret: str) -> None:
    """Copy the page's socket to the worker's and back until either side closes."""
    token = audio_token(secret, call_id, agent_id)
    url = f"{base_url}/{quote(call_id)}?agent={agent_id}&token={token}"
    try:
        worker = Client.connect(url)
    except (OSError, ConnectionClosed) as e:
        log.warning("audio relay to %s failed: %s", base_url, e)
        page.close(NO_SUCH_CALL, "call-not-found")
        return
    done = threading.Event()
    close: list[tuple[int, str]] = []

    def to_page() -> None:
        try:
            while not done.is_set():
                message = worker.receive(timeout=0.5)
                if message is not None:
                    page.send(message)
        except ConnectionClosed as e:
            close.append((int(e.reason), str(e.message or "")))
        finally:
            done.set()

    back = threading.Thread(target=to_page, name=f"audio-relay-{call_id}", daemon=True)
    back.start()
    try:
        while not done.is_set():
            message = page.receive(timeout=0.5)
            if message is not None:
                worker.send(message)
    except ConnectionClosed:
        pass  # the page left: the worker's leg waits for it (grace period)
    finally:
        done.set()
        with contextlib.suppress(ConnectionClosed):
            worker.close()
        back.join(timeout=2)
    if close:
        code, reason = close[0]
        with contextlib.suppress(ConnectionClosed):
            page.close(code if code >= 1000 else 1000, reason)
