"""B3 browser audio: latency and cost of the softphone path.

Starts a single node (`hotline run`, SQLite, one pjsua2 worker, the web server) in its own
process on loopback with browser audio at 8 kHz and then at 16 kHz. For 1 and then 4
concurrent calls, a SIPp caller that echoes every RTP packet it receives is answered by an
agent on browser audio, and a client speaking the page's WebSocket protocol
(/api/v1/calls/<id>/audio) streams 20 ms frames: silence with a one-frame click every
500 ms. A click travels page → web tier → the call's jitter buffer → bridge → RTP → the
caller → RTP back → pjmedia's jitter buffer → bridge → the browser leg → web tier → page,
and the time from sending the click to receiving its echo is the round trip; the one-way
added latency is half of it (the echo itself costs SIPp microseconds). The page's own audio
stack (AudioWorklet, output device) is not in this path: this measures what Hotline adds.

CPU: the user+system time of the node's process tree (`hotline run`, gunicorn's worker
under it, which holds the calls and serves the web, and Kamailio under that) over a window
with the calls streaming, minus an idle window with the agents signed in and no call,
divided by the number of calls.

Run: `python -m bench.audio` (about two minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import simple_websocket

from bench.common import cpu_seconds, machine
from console.core.db import upgrade
from console.core.settings import Settings
from console.demo import seed
from console.node import build
from console.users.services import create_user
from tests.conftest import free_media_port, free_port
from tests.integration.harness import SCENARIOS, AgentClient

SEQ = struct.Struct("<I")
CLICK_EVERY = 25  # frames: one click every 500 ms
AGENTS = ["agent1", "agent2", "agent3", "agent4"]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


class Page:
    """One agent page's audio socket: streams silence and clicks, times their echoes."""

    def __init__(self, base_url: str, agent: AgentClient, call_id: str) -> None:
        cookie = "; ".join(f"{k}={v}" for k, v in agent.http.cookies.items())
        url = base_url.replace("http://", "ws://") + f"/api/v1/calls/{call_id}/audio"
        headers = {"Cookie": cookie, "User-Agent": str(agent.http.headers["User-Agent"])}
        self.ws = simple_websocket.Client.connect(url, headers=headers)
        ready = json.loads(self.ws.receive(timeout=5))
        self.rate = int(ready["rate"])
        n = self.rate // 50
        self.silence = bytes(2 * n)
        self.click = struct.pack(
            f"<{n}h", *(int(12000 * math.sin(2 * math.pi * 1000 * i / self.rate)) for i in range(n))
        )
        self.sent_at: float | None = None
        self.round_trips: list[float] = []
        self.measuring = False
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._send, daemon=True),
            threading.Thread(target=self._receive, daemon=True),
        ]
        for t in self.threads:
            t.start()

    def _send(self) -> None:
        seq, start = 0, time.monotonic()
        try:
            while not self.stop.is_set():
                click = seq % CLICK_EVERY == 0 and seq > 0
                if click:
                    self.sent_at = time.monotonic()
                self.ws.send(SEQ.pack(seq) + (self.click if click else self.silence))
                seq += 1
                time.sleep(max(0.0, start + seq * 0.02 - time.monotonic()))
        except simple_websocket.ConnectionClosed:
            pass

    def _receive(self) -> None:
        try:
            while not self.stop.is_set():
                msg = self.ws.receive(timeout=0.5)
                if not isinstance(msg, bytes):
                    continue
                now = time.monotonic()
                pcm = memoryview(msg[SEQ.size :]).cast("h")
                loud = max((abs(v) for v in pcm), default=0) > 3000
                if loud and self.sent_at is not None:
                    if self.measuring:
                        self.round_trips.append((now - self.sent_at) * 1000)
                    self.sent_at = None
        except simple_websocket.ConnectionClosed:
            pass

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(simple_websocket.ConnectionClosed):
            self.ws.close()


def start_node(tmp: Path, rate: int) -> tuple[subprocess.Popen[bytes], str, str]:
    url = f"sqlite:///{tmp / 'b3.db'}"
    upgrade(url)
    sip_port, web_port = free_port(), free_port()
    settings = Settings(data_dir=tmp, database_url=url, secret_key="bench", sip_port=sip_port)
    hl = build(settings)
    with hl.sessions.begin() as s:
        seed(s)
        for name in AGENTS[2:]:
            create_user(s, name, name, "agent", name, skills=["support"])
    hl.close()
    log = tmp / "node.log"
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp),
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_SECRET_KEY": "bench",
        "HOTLINE_SIP_PORT": str(sip_port),
        "HOTLINE_WEB_PORT": str(web_port),
        "HOTLINE_WORKER_ID": f"b3-{rate}",
        "HOTLINE_BROWSER_AUDIO_RATE": str(rate),
        # The audio path's cost only: the scheduler's jobs (the QA analysis of the calls the
        # benchmark just recorded) would land in the measured windows.
        "HOTLINE_RUN_SCHEDULER": "false",
    }
    node = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while b"web: http" not in log.read_bytes():
        if node.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        time.sleep(0.1)
    time.sleep(0.5)
    return node, f"http://127.0.0.1:{web_port}", f"127.0.0.1:{sip_port}"


def call(workdir: Path, target: str, caller: str, seconds: float) -> subprocess.Popen[bytes]:
    """A SIPp caller echoing the audio it hears, on the line until Hotline hangs up."""
    cmd = [
        "sipp", "-sf", str(SCENARIOS / "caller.xml"), "-i", "127.0.0.1",
        "-p", str(free_port()), "-mp", str(free_media_port()), "-m", "1", "-l", "1",
        "-s", "10086", "-key", "caller", caller, "-t", "u1", "-nostdin",
        "-timeout", f"{int(seconds) + 30}s", "-rtp_echo", target,
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(
    tmp: Path, rate: int, concurrent: int, seconds: float
) -> tuple[list[float], float, float]:
    """Round trips (ms), busy and idle CPU (% of a core) with `concurrent` calls."""
    node, base_url, target = start_node(tmp, rate)
    clients = {name: AgentClient(base_url, name) for name in AGENTS[:concurrent]}
    pages: list[Page] = []
    callers: list[subprocess.Popen[bytes]] = []
    try:
        for cl in clients.values():
            cl.available()
        time.sleep(1.0)
        t0, c0 = time.monotonic(), cpu_seconds(node.pid)
        time.sleep(5.0)
        idle = (cpu_seconds(node.pid) - c0) / (time.monotonic() - t0) * 100
        workdir = tmp / "sipp"
        workdir.mkdir(exist_ok=True)
        for i in range(concurrent):
            callers.append(call(workdir, target, f"+861390001{rate % 100:02d}{i:02d}", seconds))
        answered: list[tuple[AgentClient, str]] = []
        for cl in clients.values():
            offer = cl.wait_for("call_offered", timeout=15)
            assert cl.call("answer", {"call_id": offer["call_id"]})["ok"]
            cl.wait_for("call_answered", timeout=15)
            answered.append((cl, offer["call_id"]))
        pages = [Page(base_url, cl, call_id) for cl, call_id in answered]
        time.sleep(2.0)  # jitter buffers settle
        for p in pages:
            p.measuring = True
        t0, c0 = time.monotonic(), cpu_seconds(node.pid)
        time.sleep(seconds)
        busy = (cpu_seconds(node.pid) - c0) / (time.monotonic() - t0) * 100
        for p in pages:
            p.measuring = False
        for cl, call_id in answered:
            cl.call("hangup", {"call_id": call_id})
    finally:
        for p in pages:
            p.close()
        for cl in clients.values():
            cl.close()
        for proc in callers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        node.send_signal(signal.SIGINT)
        node.wait(timeout=30)
    return [rt for p in pages for rt in p.round_trips], busy, idle


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring window per run")
    args = ap.parse_args()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"B3 browser audio — {machine()}")
    print(f"{'rate':>6}{'calls':>6}{'clicks':>8}{'rtt p50':>9}{'rtt p95':>9}"
          f"{'1way p50':>10}{'1way p95':>10}{'cpu/call %':>12}")  # fmt: skip
    results: dict[tuple[int, int], tuple[list[float], float]] = {}
    for rate in (8000, 16000):
        for concurrent in (1, 4):
            tmp = Path(tempfile.mkdtemp(prefix=f"hotline-b3-{rate}-{concurrent}-"))
            rtts, busy, idle = measure(tmp, rate, concurrent, args.seconds)
            per_call = (busy - idle) / concurrent
            results[(rate, concurrent)] = (rtts, per_call)
            print(
                f"{rate:>6}{concurrent:>6}{len(rtts):>8}{pct(rtts, 50):>9.1f}{pct(rtts, 95):>9.1f}"
                f"{pct(rtts, 50) / 2:>10.1f}{pct(rtts, 95) / 2:>10.1f}{per_call:>12.2f}"
            )
    one = [rt for (rate, n), (rtts, _) in results.items() if n == 1 for rt in rtts]
    four = [rt for (rate, n), (rtts, _) in results.items() if n == 4 for rt in rtts]
    cpu8 = results[(8000, 4)][1]
    cpu16 = results[(16000, 4)][1]
    print(
        f"RESULT B3 oneway_p50_ms={pct(one, 50) / 2:.1f} oneway_p95_ms={pct(one, 95) / 2:.1f} "
        f"cpu_pct_per_call={cpu8:.2f} cpu_pct_per_call_16k={cpu16:.2f} "
        f"calls4_oneway_p95_ms={pct(four, 95) / 2:.1f} clicks={len(one) + len(four)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
