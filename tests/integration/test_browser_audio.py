"""Browser audio through the web tier: a WebSocket client speaking the page's protocol talks
to a real SIPp caller through the worker's bridge, reattaches after a drop, and is refused
a call that is not its own."""

from __future__ import annotations

import contextlib
import json
import math
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import simple_websocket
from sqlalchemy import select

from console.core.models import Recording
from console.recordings.store import parse_keys, read_pcm
from tests.helpers import wait_until
from tests.integration.harness import AgentClient, Node, Sipp, start_node

SEQ = struct.Struct("<I")


@pytest.fixture
def browser_node(tmp_path: Path, sqlite_url: str) -> Iterator[Node]:
    yield from start_node(tmp_path, sqlite_url, with_phones=False)


def browser_headers(agent: AgentClient, origin: str | None = None) -> dict[str, str]:
    """What the agent's browser sends: her session cookie and user agent (the login is bound
    to it), and a page's origin when given. (This client's Host header has no port, so it
    cannot pass for a page of the node's own origin: it sends none, as non-browsers do.)"""
    cookie = "; ".join(f"{k}={v}" for k, v in agent.http.cookies.items())
    headers = {"Cookie": cookie, "User-Agent": str(agent.http.headers["User-Agent"])}
    if origin:
        headers["Origin"] = origin
    return headers


class Page:
    """The audio socket of an agent page: sends a tone, keeps what it hears."""

    def __init__(self, node: Node, agent: AgentClient, call_id: str, hz: float = 440) -> None:
        url = node.base_url.replace("http://", "ws://") + f"/api/v1/calls/{call_id}/audio"
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
        except simple_websocket.ConnectionClosed:
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
        with contextlib.suppress(simple_websocket.ConnectionClosed):  # the server closed first
            self.ws.close()
        for t in self._threads:
            t.join(2)


def refused(node: Node, agent: AgentClient, call_id: str, origin: str | None = None) -> int:
    url = node.base_url.replace("http://", "ws://") + f"/api/v1/calls/{call_id}/audio"
    ws = simple_websocket.Client.connect(url, headers=browser_headers(agent, origin))
    try:
        while True:
            ws.receive(timeout=5)
    except simple_websocket.ConnectionClosed as e:
        return int(e.reason)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(float) ** 2))) if len(x) else 0.0


def peak_hz(x: np.ndarray, rate: int) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(x.astype(float)))) * rate / len(x))


def test_agent_page_hears_the_caller_and_the_caller_hears_the_page(
    browser_node: Node, sipp: Sipp
) -> None:
    node = browser_node
    agent, other = AgentClient(node.base_url, "agent1"), AgentClient(node.base_url, "agent2")
    try:
        agent.available()
        sipp.start("caller_speaks.xml", target=node.sip_target, keys={"caller": "13800138000"})
        offer = agent.wait_for("call_offered")
        call_id = offer["call_id"]
        assert agent.call("answer", {"call_id": call_id})["ok"]
        agent.wait_for("call_answered", lambda d: d["call_id"] == call_id)

        assert refused(node, other, call_id) == 4403  # not her call
        assert refused(node, agent, "no-such-call") == 4404
        # A page of another site cannot borrow the agent's cookie to listen in.
        assert refused(node, agent, call_id, origin="http://evil.example") == 4403

        page = Page(node, agent, call_id)
        assert page.rate == 16000
        page.ping()
        time.sleep(2.5)
        # The page hears the caller's speech (SIPp's A-law recording), frame after frame.
        assert len(page.heard) > 80
        heard = np.frombuffer(b"".join(page.heard[10:]), dtype="<i2")
        assert rms(heard) > 300
        assert page.seqs == list(range(len(page.seqs)))
        assert {"type": "pong", "t": 123.5} in page.texts
        stats = [t for t in page.texts if t["type"] == "stats"]
        assert stats and stats[-1]["uplink_frames"] > 50  # type: ignore[operator]

        # A reload: the socket goes, the call stays, a new socket picks the call up again.
        page.close()
        time.sleep(0.5)
        again = Page(node, agent, call_id, hz=440)
        time.sleep(1.5)
        assert len(again.heard) > 40
        assert agent.call("hangup", {"call_id": call_id})["ok"]
        agent.wait_for("call_ended", lambda d: d["call_id"] == call_id)
        wait_until(lambda: again.closed is not None, timeout=5)
        assert again.closed is not None and int(again.closed.reason) in (1000, 4404)
        again.close()

        # The caller heard the page: the agent channel of the recording is the page's tone.
        def rows() -> list[Recording]:
            with node.hotline.sessions() as s:
                return list(s.scalars(select(Recording).where(Recording.call_id == call_id)))

        wait_until(lambda: {r.status for r in rows()} == {"complete"})
        agent_row = next(r for r in rows() if r.channel == "agent")
        keys = parse_keys(node.hotline.settings.effective_recording_keys)
        pcm = read_pcm(Path(agent_row.path), keys)
        tone = np.frombuffer(pcm.data, dtype="<i2")
        first = tone[int(0.5 * 16000) : int(2.0 * 16000)]  # the first page, before the reload
        assert rms(first) > 2000 and abs(peak_hz(first, 16000) - 440) < 5
    finally:
        agent.close()
        other.close()
