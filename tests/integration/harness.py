"""Real parts for call-flow tests: SIPp peers, a served node, a Socket.IO agent client, a
telephony worker in its own process."""

from __future__ import annotations

import contextlib
import json
import math
import queue
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import simple_websocket
import socketio
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from console.core.models import Agent, Queue, Recording, User
from console.demo import seed
from console.node import Hotline, build, build_worker, web_app
from telephony.worker import TelephonyWorker
from tests.helpers import free_media_port, free_port, make_settings, wait_until

SCENARIOS = Path(__file__).parent / "scenarios"


class Sipp:
    """One SIPp process on loopback, on ports it does not share with anything."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        scenario: str,
        *,
        target: str | None = None,
        calls: int = 1,
        ip: str = "127.0.0.1",
        port: int | None = None,
        service: str = "10086",
        keys: dict[str, str] | None = None,
        timeout_s: int = 30,
        rate: int = 10,
        transport: str = "u1",
        duration_ms: int | None = None,
        extra: tuple[str, ...] = (),
    ) -> tuple[subprocess.Popen[bytes], int]:
        pick_port = port is None
        keys = {"caller": "13800138000", **(keys or {})}
        hold_ms = keys.pop("hold_ms", None)
        if scenario == "caller.xml" and hold_ms:
            scenario = "caller_hangup.xml"  # hangs up by itself after -d ms
        for _ in range(5):
            port = free_port() if pick_port else port
            cmd = [
                "sipp",
                "-sf",
                str(SCENARIOS / scenario),
                "-i",
                ip,
                "-p",
                str(port),
                "-mp",
                str(free_media_port()),
                "-m",
                str(calls),
                "-l",
                str(calls),
                "-r",
                str(rate),
                "-s",
                service,
                "-t",
                transport,
                "-nostdin",
                "-timeout",
                f"{timeout_s}s",
                "-timeout_error",
                "-trace_err",
                "-trace_screen",
            ]
            if hold_ms or duration_ms:
                cmd += ["-d", str(hold_ms or duration_ms)]
            for k, v in keys.items():
                cmd += ["-key", k, v]
            cmd += extra
            if target:
                cmd.append(target)
            proc = subprocess.Popen(
                cmd, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            # SIPp binds its ports first and exits at once when one was taken since we
            # picked it (another process won the race): pick again rather than fail the test.
            try:
                proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                break
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if "Unable to bind" not in err:
                break
        assert port is not None
        self.procs.append(proc)
        return proc, port

    def wait(self, proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise

    def stats(self, proc: subprocess.Popen[bytes]) -> str:
        """Everything SIPp wrote about this run (screen dump and errors)."""
        out = []
        for f in sorted(self.workdir.glob(f"*_{proc.pid}_*")):
            out.append(f.read_text(errors="replace"))
        return "\n".join(out)

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a Flask(-SocketIO) app on a free loopback port; yields the base URL."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def login_session(base_url: str, username: str, password: str | None = None) -> requests.Session:
    """A requests session logged in through the real login form."""
    http = requests.Session()
    html = http.get(f"{base_url}/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert token
    r = http.post(
        f"{base_url}/login",
        data={"username": username, "password": password or username, "csrf_token": token.group(1)},
        allow_redirects=False,
    )
    assert r.status_code == 302, r.text[:200]
    page = http.get(f"{base_url}/").text
    http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return http


class AgentClient:
    """An agent as the browser is: logged-in HTTP session plus a Socket.IO connection."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.http = login_session(base_url, username)
        self.events: queue.Queue[tuple[str, dict[str, Any], float]] = queue.Queue()
        self.seen: list[tuple[str, dict[str, Any], float]] = []
        self.sio = socketio.Client(reconnection=False)
        for name in (
            "snapshot",
            "agent_state_changed",
            "call_offered",
            "call_offer_withdrawn",
            "call_answered",
            "call_ended",
            "call_wrapped",
            "recording_paused",
            "recording_failed",
            "call_held",
            "call_party",
            "call_control_failed",
            "call_transferred",
            "call_dialling",
        ):
            self.sio.on(name, self._handler(name))
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        self.sio.connect(
            base_url,
            headers={"Cookie": cookie, "User-Agent": str(self.http.headers["User-Agent"])},
            transports=["websocket"],
        )
        self.wait_for("snapshot")

    def _handler(self, name: str) -> Callable[[dict[str, Any]], None]:
        def on(data: dict[str, Any]) -> None:
            now = time.time()
            if isinstance(data, dict):
                data = {**data, "_received_at": now}
            self.events.put((name, data, now))

        return on

    def wait_for(
        self,
        name: str,
        pred: Callable[[dict[str, Any]], bool] = lambda d: True,
        timeout: float = 15,
    ) -> dict[str, Any]:
        for seen_name, data, _ in self.seen:
            if seen_name == name and pred(data):
                self.seen.remove((seen_name, data, _))
                return data
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {name} within {timeout}s; seen {[s[0] for s in self.seen]}"
                )
            try:
                item = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if item[0] == name and pred(item[1]):
                return item[1]
            self.seen.append(item)

    def call(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        result = self.sio.call(event, data or {}, timeout=10)
        assert isinstance(result, dict)
        return result

    def available(self) -> None:
        assert self.call("set_state", {"state": "available"})["ok"]

    def wrap_up(
        self, call_id: str, disposition: str = "resolved", tags: list[str] | None = None
    ) -> requests.Response:
        return self.http.post(
            f"{self.base_url}/api/v1/calls/{call_id}/wrap-up",
            json={"disposition": disposition, "tags": tags or [], "notes": "handled"},
        )

    def close(self) -> None:
        self.sio.disconnect()


@dataclass
class Node:
    hotline: Hotline
    worker: TelephonyWorker
    base_url: str
    phones: dict[str, int]  # agent username -> port of its SIPp phone

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.worker.sip_port}"

    def agent_id(self, username: str) -> int:
        with self.hotline.sessions() as s:
            return int(s.scalar(select(Agent.id).join(User).where(User.username == username)))


def start_node(
    tmp_path: Path,
    db_url: str,
    ring_timeout_s: int = 15,
    with_phones: bool = True,
    **settings: object,
) -> Iterator[Node]:
    hl = build(
        make_settings(tmp_path, db_url, sip_port=free_port(), worker_id="w-test", **settings)
    )
    phones: dict[str, int] = {}
    with hl.sessions.begin() as s:
        seed(s)
        s.execute(update(Queue).values(ring_timeout_s=ring_timeout_s))
        if with_phones:
            for name in ("agent1", "agent2"):
                phones[name] = free_port()
                agent = s.scalar(select(Agent).join(User).where(User.username == name))
                assert agent is not None
                agent.sip_contact = f"sip:{name}@127.0.0.1:{phones[name]}"
    hl.agents.load_agents()
    app, _ = web_app(hl)
    worker = build_worker(hl)
    worker.start()
    try:
        with serve(app) as base_url:
            yield Node(hl, worker, base_url, phones)
    finally:
        worker.stop()
        hl.close()


class WorkerProcess:
    """`hotline telephony` in its own process, as in the scaled-out shape."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        seen = self.log.stat().st_size if self.log.exists() else 0
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "telephony"], env=self.env, stdout=out, stderr=out
        )
        wait_until(
            lambda: b"SIP: " in self.log.read_bytes()[seen:] or self.proc.poll() is not None, 30
        )  # type: ignore[union-attr]
        assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]

    def crash(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def recordings_of(sessions: sessionmaker[Session], call_id: str) -> list[Recording]:
    """The recording rows of a call, oldest first."""
    with sessions() as s:
        return list(
            s.scalars(select(Recording).where(Recording.call_id == call_id).order_by(Recording.id))
        )


SEQ = struct.Struct("<I")


def browser_headers(agent: AgentClient, origin: str | None = None) -> dict[str, str]:
    """What the agent's browser sends: her session cookie and user agent (the login is bound
    to it), and a page's origin when given. (This client's Host header has no port, so it
    cannot pass for a page of the node's own origin: it sends none, as non-browsers do.)"""
    cookie = "; ".join(f"{k}={v}" for k, v in agent.http.cookies.items())
    headers = {"Cookie": cookie, "User-Agent": str(agent.http.headers["User-Agent"])}
    if origin:
        headers["Origin"] = origin
    return headers


class AudioPage:
    """The audio socket of an agent page: sends a tone, keeps what it hears."""

    def __init__(self, base_url: str, agent: AgentClient, call_id: str, hz: float = 440) -> None:
        url = base_url.replace("http://", "ws://") + f"/api/v1/calls/{call_id}/audio"
        self.ws = simple_websocket.Client.connect(url, headers=browser_headers(agent))
        self.hz = hz
        self.heard: list[bytes] = []
        self.seqs: list[int] = []
        self.texts: list[dict[str, object]] = []
        self.closed: simple_websocket.ConnectionClosed | None = None
        ready = json.loads(self.ws.receive(timeout=5))
        assert ready["type"] == "ready" and ready["frame_ms"] == 20
        self.rate = int(ready["rate"])
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._speak, daemon=True),
            threading.Thread(target=self._listen, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _speak(self) -> None:
        n = self.rate // 50
        seq, start = 0, time.monotonic()
        try:
            while not self._stop.is_set():
                t0 = seq * n
                pcm = struct.pack(
                    f"<{n}h",
                    *(
                        int(6000 * math.sin(2 * math.pi * self.hz * (t0 + i) / self.rate))
                        for i in range(n)
                    ),
                )
                self.ws.send(SEQ.pack(seq) + pcm)
                seq += 1
                time.sleep(max(0.0, start + seq * 0.02 - time.monotonic()))
        except (simple_websocket.ConnectionClosed, OSError):  # closed under a send: gone
            pass

    def _listen(self) -> None:
        try:
            while not self._stop.is_set():
                msg = self.ws.receive(timeout=0.5)
                if isinstance(msg, bytes):
                    self.seqs.append(SEQ.unpack_from(msg)[0])
                    self.heard.append(msg[SEQ.size :])
                elif msg is not None:
                    self.texts.append(json.loads(msg))
        except simple_websocket.ConnectionClosed as e:
            self.closed = e

    def ping(self) -> None:
        self.ws.send(json.dumps({"type": "ping", "t": 123.5}))

    def close(self) -> None:
        self._stop.set()
        self._threads[0].join(2)  # the speaker first: no send on a socket being closed
        with contextlib.suppress(simple_websocket.ConnectionClosed):  # the server closed first
            self.ws.close()
        for t in self._threads:
            t.join(2)
