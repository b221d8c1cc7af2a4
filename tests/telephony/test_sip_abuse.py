"""A node under SIP abuse: INVITE floods and malformed messages against `hotline telephony`.

The node runs as its own process, started the way operators start it, so "the worker
survives" is a process that is still running, and the guard (Kamailio) is the one the
node starts itself. The trunk is 127.0.0.2; the attacker is 127.0.0.1 (or the trunk's own
address, for malformed traffic).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from siptest import Sipp, needs_sipp
from sqlalchemy import func, select

from console.core.bus import RedisLiveState
from console.core.db import make_engine, upgrade
from console.core.models import Call
from console.demo import seed
from console.node import build
from tests.conftest import REDIS_URL, free_media_port, free_port, make_settings

pytestmark = [pytest.mark.sip, needs_sipp]

TRUNK = "127.0.0.2"
ATTACKER = "127.0.0.1"


def wait_until(cond: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


class NodeProcess:
    """`hotline telephony` in its own process, with the guard it starts by itself."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.tmp_path = tmp_path
        self.db_url = f"sqlite:///{tmp_path / 'hotline.db'}"
        self.sip_port = free_port()
        self.log = tmp_path / "node.log"
        self.env = {
            **os.environ,
            "HOTLINE_DATA_DIR": str(tmp_path),
            "HOTLINE_DATABASE_URL": self.db_url,
            "HOTLINE_SECRET_KEY": "test-secret",
            "HOTLINE_SIP_PORT": str(self.sip_port),
            "HOTLINE_TRUNK_SOURCES": f"{TRUNK}/32",
            "HOTLINE_WORKER_ID": "w-abuse",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    def start(self) -> None:
        upgrade(self.db_url)
        hl = build(make_settings(self.tmp_path, self.db_url))
        try:
            with hl.sessions.begin() as s:
                seed(s)
        finally:
            hl.close()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "console.cli", "telephony"],
                env=self.env,
                stdout=out,
                stderr=out,
            )
        wait_until(lambda: b"SIP: " in self.log.read_bytes() or not self.alive(), 40)
        assert self.alive(), self.text()[-3000:]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def calls(self, open_only: bool = False) -> int:
        engine = make_engine(self.db_url)
        try:
            with engine.connect() as c:
                q = select(func.count()).select_from(Call)
                if open_only:
                    q = q.where(Call.ended_at.is_(None))
                return int(c.scalar(q) or 0)
        finally:
            engine.dispose()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    # The guard is part of the node whenever kamailio is installed (.ci/run installs it);
    # without it the flood aborts the worker, which is what these tests must catch.
    assert shutil.which("kamailio"), (
        "kamailio is not installed: run .ci/run (apt-get install kamailio)"
    )
    n = NodeProcess(tmp_path)
    n.start()
    try:
        yield n
    finally:
        code = n.stop()
        # The node stops its kamailio with it: nothing holds the public SIP port any more.
        guard_pid = tmp_path / "kamailio" / "kamailio.pid"
        assert code == 0, n.text()[-3000:]
        assert not guard_pid.exists()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", n.sip_port))


@pytest.fixture
def pool_node(tmp_path: Path) -> Iterator[NodeProcess]:
    """`hotline telephony --workers 2`: Kamailio's dispatcher in front of two workers."""
    prefix = "abuse" + uuid.uuid4().hex[:8]
    n = NodeProcess(
        tmp_path,
        HOTLINE_TELEPHONY_WORKERS="2",
        HOTLINE_REDIS_URL=REDIS_URL,
        HOTLINE_REDIS_PREFIX=prefix,
    )
    n.start()
    try:
        yield n
    finally:
        code = n.stop()
        RedisLiveState(REDIS_URL, prefix=prefix).clear()
        assert code == 0, n.text()[-3000:]
        assert not (tmp_path / "kamailio" / "kamailio.pid").exists()


def sipp(
    scenario: str,
    target: str,
    workdir: Path,
    *,
    ip: str,
    calls: int,
    rate: int,
    limit: int,
    pause_ms: int = 1000,
    timeout_s: float = 60,
    trace: bool = True,
) -> Sipp:
    workdir.mkdir(exist_ok=True)
    runner = Sipp(
        scenario, target, workdir, calls=calls, ip=ip, service="10086", pause_ms=pause_ms,
        timeout_s=timeout_s,
        extra=["-r", str(rate), "-l", str(limit), "-mp", str(free_media_port())],
    )  # fmt: skip
    if not trace:
        runner.args.remove("-trace_msg")  # 10,000 INVITEs would write megabytes of trace
    return runner


def test_invite_flood_from_a_non_trunk_address_leaves_the_worker_answering_trunk_calls(
    node: NodeProcess, tmp_path: Path
) -> None:
    assert "guarded by kamailio" in node.text()
    _flood_while_trunk_calls_come_in(node, tmp_path, flood_calls=10_000)


def test_a_pool_of_workers_behind_kamailio_survives_the_flood_too(
    pool_node: NodeProcess, tmp_path: Path
) -> None:
    assert "kamailio dispatcher in front of 2 telephony worker processes" in pool_node.text()
    # 15 s at 500/s, outlasting the ten trunk calls: the guard is the same Kamailio with
    # more destinations.
    _flood_while_trunk_calls_come_in(pool_node, tmp_path, flood_calls=7_500)
    for log in (tmp_path / "workers").glob("*.log"):
        text = log.read_text(errors="replace")
        assert "rejected: 403" not in text and "Assertion" not in text, text[-3000:]


def _flood_while_trunk_calls_come_in(node: NodeProcess, tmp_path: Path, flood_calls: int) -> None:
    flood = sipp("flood_invite.xml", node.target, tmp_path / "flood", ip=ATTACKER,
                 calls=flood_calls, rate=500, limit=flood_calls, timeout_s=40,
                 trace=False)  # fmt: skip
    # 10 trunk calls, one a second, each 1 s on the line: at most 2 of the worker's 4
    # call slots at a time, so every one must be answered.
    legit = sipp("uac_call.xml", node.target, tmp_path / "legit", ip=TRUNK,
                 calls=10, rate=1, limit=3, pause_ms=1000, timeout_s=60)  # fmt: skip
    guard_log = tmp_path / "kamailio" / "kamailio.log"

    def guard_text() -> str:
        return guard_log.read_text(errors="replace") if guard_log.exists() else ""

    with flood:
        # The flood is on, and pike has blocked the attacker, before the calls come.
        assert wait_until(lambda: f"SIP flood from {ATTACKER}" in guard_text(), 30), guard_text()[
            -2000:
        ]
        with legit:
            assert legit.wait(60) == 0, legit.errors()
            # All ten calls were answered while the flood was still going on.
            assert flood.proc is not None and flood.proc.poll() is None, "the flood ended early"
        assert flood.wait(40) == 0, flood.errors()  # every INVITE was sent
    assert node.alive(), node.text()[-3000:]
    # Every trunk call reached the worker and was answered; no attacker INVITE reached it.
    assert wait_until(lambda: node.calls() == 10 and node.calls(open_only=True) == 0, 10), (
        node.calls(),
        node.calls(open_only=True),
    )
    text = node.text()
    assert "rejected: 403" not in text, text[-3000:]
    assert "Assertion" not in text
    assert f"SIP flood from {ATTACKER}" in guard_text(), guard_text()[-2000:]


# --------------------------------------------------------------------------- malformed traffic


def _invite(rng: random.Random, n: int, src: tuple[str, int], dst: tuple[str, int]) -> str:
    host, port = src
    sdp = (
        f"v=0\r\no=- {n} 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        f"m=audio {rng.randrange(10000, 60000, 2)} RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\n"
    )
    return (
        f"INVITE sip:10086@{dst[0]}:{dst[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-m{n}-{rng.getrandbits(32):x}\r\n"
        f"From: <sip:1390000{n:04d}@{host}:{port}>;tag=m{n}\r\n"
        f"To: <sip:10086@{dst[0]}:{dst[1]}>\r\n"
        f"Call-ID: malformed-{n}-{rng.getrandbits(48):x}@{host}\r\n"
        "CSeq: 1 INVITE\r\n"
        f"Contact: <sip:1390000{n:04d}@{host}:{port}>\r\n"
        "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    )


def mutant(rng: random.Random, n: int, src: tuple[str, int], dst: tuple[str, int]) -> bytes:
    """One broken SIP datagram: random bytes, flipped bytes, cut, dropped or garbled headers."""
    text = _invite(rng, n, src, dst)
    lines = text.split("\r\n")
    kind = n % 10
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 1400))
    if kind == 1:
        raw = bytearray(text.encode())
        for _ in range(rng.randrange(1, 20)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    if kind == 2:
        raw = text.encode()
        return raw[: rng.randrange(1, len(raw))]
    if kind == 3:
        del lines[rng.randrange(1, 10)]  # a mandatory header goes missing
    elif kind == 4:
        i = rng.randrange(1, 10)
        name = lines[i].split(":", 1)[0]
        junk = rng.choice(
            ["", ";;;", "<sip:", "999999999999999999999", "\x00\x01", "@@@", " " * 300]
        )
        lines[i] = f"{name}: {junk}"
    elif kind == 5:
        lines[0] = rng.choice(
            [
                "INVITE  SIP/2.0",
                "INVITE sip: SIP/9.9",
                "INV1TE sip:10086@x SIP/2.0",
                "INVITE sip:10086@[::1 SIP/2.0",
                "SIP/2.0 200",
            ]
        )
    elif kind == 6:
        lines.insert(rng.randrange(1, 10), "X-Big: " + "A" * rng.randrange(1000, 20000))
    elif kind == 7:
        i = lines.index(next(line for line in lines if line.startswith("Content-Length")))
        lines[i] = f"Content-Length: {rng.choice([-1, 0, 3, 99999, 2**40])}"
    elif kind == 8:
        body_at = lines.index("")  # the SDP goes wrong
        for j in range(body_at + 1, len(lines)):
            if lines[j] and rng.random() < 0.5:
                lines[j] = lines[j][: rng.randrange(len(lines[j]))] + rng.choice(
                    ["=", "IN IP4 999.1.1.1", "RTP/SAVP", "\x7f"]
                )
    else:
        lines.insert(rng.randrange(1, 10), lines[rng.randrange(1, 10)])  # a header twice
        lines[1] = lines[1].replace("branch=", "branch=bad")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape")


def send_malformed(target: tuple[str, int], total: int, per_s: int, seed_: int = 17) -> int:
    """Send total broken datagrams, alternately from the trunk and the attacker address."""
    rng = random.Random(seed_)
    socks = []
    for host in (TRUNK, ATTACKER):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, 0))
        s.setblocking(False)
        socks.append(s)
    sent = 0
    start = time.monotonic()
    try:
        for n in range(total):
            s = socks[n % 2]
            data = mutant(rng, n, s.getsockname(), target)
            try:
                s.sendto(data[:65000], target)
                sent += 1
            except BlockingIOError:
                pass
            if n % 50 == 49:
                for r in socks:  # drain answers so the kernel keeps accepting ours
                    try:
                        while r.recv(65535):
                            pass
                    except BlockingIOError:
                        pass
                ahead = (n + 1) / per_s - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)  # pace the burst at per_s datagrams a second
    finally:
        for s in socks:
            s.close()
    return sent


def test_ten_thousand_malformed_messages_neither_crash_the_node_nor_hold_a_call_slot(
    node: NodeProcess, tmp_path: Path
) -> None:
    sent = send_malformed(("127.0.0.1", node.sip_port), 10_000, per_s=2000)
    burst_end = time.monotonic()
    assert sent >= 9_900
    assert node.alive(), node.text()[-3000:]
    # A mutated INVITE from the trunk that is still valid SIP is a call like any other: the
    # worker answers it, and ends it when the ACK never comes. Until then it may hold the
    # slots, so a trunk caller retries until it gets through (the wait only bounds "never").
    attempts = 0

    def answered() -> bool:
        nonlocal attempts
        attempts += 1
        with sipp("uac_call.xml", node.target, tmp_path / f"after-{attempts}", ip=TRUNK,
                  calls=1, rate=1, limit=1, pause_ms=500, timeout_s=10) as call:  # fmt: skip
            return call.wait(15) == 0

    assert wait_until(answered, 60, step=1.0), node.text()[-3000:]
    # 32 s after the burst no call slot is held: four concurrent trunk calls are all answered.
    # Deliberate: the ACK and BYE-transaction timeouts of every mutated call must run out.
    time.sleep(max(0.0, burst_end + 32 - time.monotonic()))
    assert wait_until(lambda: node.calls(open_only=True) == 0, 10), node.calls(open_only=True)
    with sipp("uac_call.xml", node.target, tmp_path / "four", ip=TRUNK,
              calls=4, rate=20, limit=4, pause_ms=3000, timeout_s=30) as four:  # fmt: skip
        assert four.wait(40) == 0, four.errors()
    assert node.alive(), node.text()[-3000:]
    assert "Assertion" not in node.text()


# --------------------------------------------------------------------------- the guard's config


@pytest.mark.parametrize(
    ("host", "transports", "trunks", "phones"),
    [
        ("127.0.0.1", ("udp", "tcp"), ("127.0.0.2/32", "10.0.0.0/8"), ("192.0.2.10:5062",)),
        ("0.0.0.0", ("udp",), (), ()),
    ],
)
def test_the_generated_kamailio_config_is_accepted_by_kamailio(
    tmp_path: Path, host: str, transports: tuple[str, ...], trunks: tuple[str, ...],
    phones: tuple[str, ...],
) -> None:  # fmt: skip
    from telephony.guard import SipGuard, plan_guard

    binary = shutil.which("kamailio")
    assert binary, "kamailio is not installed: run .ci/run (apt-get install kamailio)"
    settings = make_settings(tmp_path, "sqlite://", sip_host=host, sip_transports=transports,
                             trunk_sources=trunks)  # fmt: skip
    worker, config = plan_guard(settings, ["not-an-ip:5060", *phones])
    guard = SipGuard(config, binary, tmp_path / "kamailio")
    guard.write_config()
    guard.check()
    # The worker hides on loopback, trusts only the guard and sends its own calls through it.
    assert worker.sip_host == "127.0.0.1" and worker.sip_port == config.worker_port
    assert worker.trunk_sources == (f"{config.probe_host}:{config.public_port}",)
    assert (
        worker.sip_outbound_proxy
        == f"sip:{config.probe_host}:{config.public_port};lr;transport=udp"
    )
    assert worker.sip_media_host == host
    text = guard.cfg_path.read_text()
    for phone in phones:
        ip, port = phone.split(":")
        assert f'($si == "{ip}" && $sp == {port})' in text
    assert "not-an-ip" not in text


def test_the_guard_setting_turns_it_off_or_requires_it(tmp_path: Path) -> None:
    from telephony.guard import GuardError, guard_binary

    base = make_settings(tmp_path, "sqlite://")
    assert guard_binary(base.replace(sip_guard="off")) is None
    assert guard_binary(base.replace(sip_guard="auto", sip_guard_binary="no-such-kamailio")) is None
    with pytest.raises(GuardError):
        guard_binary(base.replace(sip_guard="on", sip_guard_binary="no-such-kamailio"))
    with pytest.raises(GuardError):
        guard_binary(base.replace(sip_guard="maybe"))


def test_a_node_without_the_guard_says_so_and_binds_the_public_port_itself(tmp_path: Path) -> None:
    n = NodeProcess(tmp_path, HOTLINE_SIP_GUARD="off")
    n.start()
    try:
        assert f"SIP: 127.0.0.1:{n.sip_port} (unguarded;" in n.text()
        assert not (tmp_path / "kamailio").exists()
    finally:
        assert n.stop() == 0, n.text()[-3000:]
