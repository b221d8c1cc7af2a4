"""`hotline run` serves its web role with gunicorn (gthread worker) as a real process tree on
loopback: HTTP sign-in, Socket.IO over WebSocket and long-polling, the audio WebSocket of a
call answered in the browser, a worker killed and replaced, and clean stops on SIGTERM
(the call hung up, its record closed) and on Ctrl+C."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import socketio
import websocket
from sqlalchemy.orm import Session

from console.core.db import make_engine, upgrade
from console.core.models import Call
from console.demo import seed
from console.node import build
from console.softphone.session import NO_SUCH_CALL
from tests.helpers import free_port, make_settings, wait_until
from tests.integration.harness import AgentClient, AudioPage, Sipp, browser_headers

STOP_WITHIN_S = 10.0  # generous: the node stops in about 2 s on an idle 2-core machine


def descendants(pid: int) -> set[int]:
    """Every live process under pid (not pid itself)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class RunningNode:
    proc: subprocess.Popen[bytes]
    log: Path
    base_url: str
    sip_target: str
    db_url: str

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The worker pids the node announced, in order ("web: ... worker pid N")."""
        found = re.findall(r"^web: http\S+ .*worker pid (\d+)\)", self.text(), re.M)
        return [int(p) for p in found]

    def stop(self, sig: signal.Signals, group: bool = False) -> float:
        """Send sig (to the whole process group, as Ctrl+C in a terminal does, when group);
        the seconds until the master has exited."""
        t0 = time.monotonic()
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired as late:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise AssertionError(f"no exit 30 s after {sig.name}:\n{self.text()[-3000:]}") from late
        return time.monotonic() - t0


@contextlib.contextmanager
def started(tmp_path: Path, db_url: str, command: str) -> Iterator[RunningNode]:
    """`python -m console.cli <command>` on free loopback ports, the demo users seeded
    (without the demo's roster solve); killed with its process group if a test left it."""
    upgrade(db_url)
    hl = build(make_settings(tmp_path, db_url))
    with hl.sessions.begin() as s:
        seed(s)
    hl.close()
    web_port, sip_port = free_port(), free_port()
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp_path),
        "HOTLINE_DATABASE_URL": db_url,
        "HOTLINE_SECRET_KEY": "test-secret",
        "HOTLINE_WEB_PORT": str(web_port),
        "HOTLINE_SIP_PORT": str(sip_port),
        "HOTLINE_WEB_THREADS": "32",
    }
    env.pop("GUNICORN_CMD_ARGS", None)
    log = tmp_path / "node.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", command],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group, as a terminal would give it
        )
    running = RunningNode(
        proc, log, f"http://127.0.0.1:{web_port}", f"127.0.0.1:{sip_port}", db_url
    )
    try:
        wait_until(lambda: running.worker_pids() or proc.poll() is not None, 60)
        assert proc.poll() is None, running.text()[-3000:]
        yield running
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def node(tmp_path: Path, sqlite_url: str) -> Iterator[RunningNode]:
    with started(tmp_path, sqlite_url, "run") as running:
        yield running


def test_run_serves_the_web_role_with_gunicorn_and_stops_cleanly_on_sigterm(
    node: RunningNode, sipp: Sipp
) -> None:
    # The process tree: the master (`hotline run`) and one worker process, which holds the
    # node (its SIP guard, when Kamailio is installed, runs under it).
    (worker,) = node.worker_pids()
    tree = descendants(node.proc.pid)
    assert worker in tree
    python_children = [p for p in tree if "console.cli" in command(p)]
    assert python_children == [worker]
    assert "32 threads" in node.text()
    assert "Starting gunicorn" in node.text() and "Using worker: HotlineWorker" in node.text()

    r = requests.get(f"{node.base_url}/login", timeout=5)
    assert r.status_code == 200
    assert r.headers["Server"].startswith("gunicorn")

    # Socket.IO over its WebSocket transport: signed in, the agent's snapshot arrives and
    # a request over the socket changes her state.
    agent = AgentClient(node.base_url, "agent1")
    assert agent.sio.transport() == "websocket"
    agent.available()
    agent.wait_for("agent_state_changed", lambda d: d["state"] == "available")

    # And over long-polling (a browser's first transport, or the only one behind a proxy
    # without WebSocket upgrade): left waiting in a poll when the node stops.
    poller = socketio.Client(reconnection=False)
    snapshots: list[object] = []
    poller.on("snapshot", snapshots.append)
    cookie = "; ".join(f"{k}={v}" for k, v in agent.http.cookies.items())
    poller.connect(
        node.base_url,
        headers={"Cookie": cookie, "User-Agent": str(agent.http.headers["User-Agent"])},
        transports=["polling"],
    )
    wait_until(lambda: snapshots, 10)
    assert poller.transport() == "polling"

    # The audio WebSocket (Flask-Sock on gunicorn): the handshake succeeds and the socket is
    # closed with the application's code for a call that does not exist. (websocket-client:
    # simple-websocket's client drops a close frame that arrives with the handshake.)
    url = node.base_url.replace("http://", "ws://") + "/api/v1/calls/no-such-call/audio"
    headers = browser_headers(agent)
    ws = websocket.create_connection(url, header=[f"{k}: {v}" for k, v in headers.items()])
    try:
        opcode, data = ws.recv_data(control_frame=True)
    finally:
        ws.close()
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert struct.unpack("!H", data[:2])[0] == NO_SUCH_CALL

    # A call on the line, answered in the browser: its audio socket carries the call.
    caller, _ = sipp.start(
        "caller.xml", target=node.sip_target, keys={"caller": "13800138000"}, timeout_s=60
    )
    call_id = agent.wait_for("call_offered")["call_id"]
    assert agent.call("answer", {"call_id": call_id})["ok"]
    agent.wait_for("call_answered", lambda d: d["call_id"] == call_id)
    page = AudioPage(node.base_url, agent, call_id)
    wait_until(lambda: len(page.heard) > 25, 10)  # half a second of the call's audio

    tree = descendants(node.proc.pid)
    took = node.stop(signal.SIGTERM)  # what docker stop and systemd send
    assert node.proc.returncode == 0, node.text()[-3000:]
    assert took < STOP_WITHIN_S, took
    wait_until(lambda: not any(alive(p) for p in tree), 5)
    text = node.text()
    assert "Traceback" not in text, text[-3000:]
    assert "Scheduler has been shut down" in text
    assert f"Worker exiting (pid: {worker})" in text
    # The call was hung up (the caller got its BYE) and its record closed.
    assert caller.wait(timeout=15) == 0
    engine = make_engine(node.db_url)
    try:
        with Session(engine) as s:
            call = s.get(Call, call_id)
            assert call is not None and call.end_reason == "worker-stopped"
            assert call.ended_at is not None
    finally:
        engine.dispose()
    wait_until(lambda: page.closed is not None, 5)
    page.close()
    wait_until(lambda: not agent.sio.connected and not poller.connected, 5)
    with contextlib.suppress(Exception):
        poller.disconnect()
    agent.close()


def test_a_killed_worker_is_replaced_and_ctrl_c_stops_the_node_cleanly(
    node: RunningNode,
) -> None:
    (first,) = node.worker_pids()
    os.kill(first, signal.SIGKILL)
    # The master starts a new worker; it builds the node afresh (the telephony worker
    # closes the dead one's calls) and serves.
    wait_until(lambda: len(node.worker_pids()) == 2 or node.proc.poll() is not None, 60)
    assert node.proc.poll() is None, node.text()[-3000:]
    second = node.worker_pids()[1]
    assert second != first and second in descendants(node.proc.pid)
    assert not alive(first)
    agent = AgentClient(node.base_url, "agent1")
    agent.available()
    agent.wait_for("agent_state_changed", lambda d: d["state"] == "available")

    # Ctrl+C in a terminal: SIGINT to master and worker at once (and the master then sends
    # the worker SIGQUIT): still a graceful stop.
    tree = descendants(node.proc.pid)
    took = node.stop(signal.SIGINT, group=True)
    assert node.proc.returncode == 0, node.text()[-3000:]
    assert took < STOP_WITHIN_S, took
    wait_until(lambda: not any(alive(p) for p in tree), 5)
    text = node.text()
    assert "Traceback" not in text, text[-3000:]
    assert f"Worker exiting (pid: {second})" in text
    agent.close()


def test_the_web_role_alone_is_served_the_same_way(tmp_path: Path, sqlite_url: str) -> None:
    """`hotline web`, the scaled shape's web process: no telephony, no scheduler."""
    with started(tmp_path, sqlite_url, "web") as web:
        (worker,) = web.worker_pids()
        assert "SIP: " not in web.text()
        r = requests.get(f"{web.base_url}/login", timeout=5)
        assert r.status_code == 200 and r.headers["Server"].startswith("gunicorn")
        agent = AgentClient(web.base_url, "agent2")
        assert agent.sio.transport() == "websocket"
        took = web.stop(signal.SIGTERM)
        assert web.proc.returncode == 0, web.text()[-3000:]
        assert took < STOP_WITHIN_S, took
        assert not alive(worker)
        assert "Traceback" not in web.text(), web.text()[-3000:]
        wait_until(lambda: not agent.sio.connected, 5)
        agent.close()
