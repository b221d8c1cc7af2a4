"""Helpers for the telephony tests: free ports, a SIPp runner and an event recorder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"
SIPP = shutil.which("sipp")

# A missing sipp must fail the run, never skip it: .ci/run installs it.
needs_sipp = pytest.mark.sip


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on host (other processes may hold fixed ports)."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            try:
                tcp.bind((host, port))
            except OSError:
                continue
            return port
        finally:
            udp.close()
            tcp.close()
    raise RuntimeError("no free UDP+TCP port found")


def udp_port_bound(port: int, host: str = "127.0.0.1") -> bool:
    """True when someone holds the UDP port (binding it ourselves fails)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
        return False
    except OSError:
        return True
    finally:
        sock.close()


def tcp_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when a socket listens on host:port over TCP (read from /proc, no probe bound)."""
    want = "".join(f"{int(b):02X}" for b in reversed(host.split(".")))  # little-endian hex
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        addr, hex_port = fields[1].rsplit(":", 1)
        if fields[3] == "0A" and int(hex_port, 16) == port and addr in (want, "00000000"):
            return True  # 0A = LISTEN
    return False


class Sipp:
    """One SIPp process on a free port; always killed on exit of the with-block."""

    def __init__(
        self,
        scenario: str,
        target: str | None,
        workdir: Path,
        *,
        calls: int = 1,
        ip: str = "127.0.0.1",
        port: int | None = None,
        service: str = "4001",
        caller: str = "13800138000",
        pause_ms: int = 1000,
        transport: str = "u1",
        extra: Sequence[str] = (),
        timeout_s: float = 20.0,
    ) -> None:
        self.port = port or free_port(ip)
        self.ip = ip
        self.transport = transport
        self.workdir = workdir
        self.timeout_s = timeout_s
        self.args = [
            str(SIPP),
            "-sf", str(SCENARIOS / scenario),
            "-i", ip,
            "-p", str(self.port),
            "-m", str(calls),
            "-l", str(calls),
            "-r", "50",
            "-s", service,
            "-key", "caller", caller,
            "-d", str(pause_ms),
            "-t", transport,
            "-nostdin",
            "-timeout", f"{int(timeout_s)}s",
            "-timeout_error",
            "-trace_err",
            "-trace_msg",
            "-max_recv_loops", "1000",
            *extra,
        ]  # fmt: skip
        if target:
            self.args.append(target)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Sipp:
        self.proc = subprocess.Popen(
            self.args,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return self

    def wait_listening(self, timeout: float = 5.0) -> None:
        """Wait until a UAS SIPp has bound its UDP port (listens on its TCP port for t1)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.transport.startswith("t"):
                if tcp_listening(self.port, self.ip):
                    return
            elif udp_port_bound(self.port, self.ip):
                return
            time.sleep(0.02)
        raise AssertionError(f"sipp did not bind port {self.port}")

    def wait(self, timeout: float | None = None) -> int:
        """Wait for SIPp to exit and return its exit code (0 = all calls succeeded)."""
        assert self.proc is not None
        return self.proc.wait(timeout or self.timeout_s + 5)

    def messages(self) -> str:
        """Everything SIPp logged with -trace_msg (what it sent and received)."""
        return "\n".join(p.read_text(errors="replace") for p in self.workdir.glob("*_messages.log"))

    def errors(self) -> str:
        """SIPp's stderr plus its -trace_err log, for assertion messages."""
        text = ""
        if self.proc is not None and self.proc.stderr is not None and self.proc.poll() is not None:
            text = self.proc.stderr.read().decode(errors="replace")
        for p in self.workdir.glob("*_errors.log"):
            text += p.read_text(errors="replace")
        return text[-3000:]

    def __exit__(self, *exc: object) -> None:
        # SIPp can outlive -timeout: kill it explicitly.
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()


class EventRecorder:
    """on_event sink: records every event, optionally reacts through a handler."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.cond = threading.Condition()
        self.handler: Callable[[object], None] | None = None
        self.handler_errors: list[BaseException] = []

    def __call__(self, event: object) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()
        handler = self.handler
        if handler is not None:
            try:
                handler(event)
            except BaseException as exc:
                self.handler_errors.append(exc)

    def reset(self) -> None:
        with self.cond:
            self.events.clear()
        self.handler = None
        self.handler_errors.clear()

    def of(self, kind: type, **attrs: Any) -> list[Any]:
        """Recorded events of a type whose attributes equal attrs."""
        with self.cond:
            return [
                e
                for e in self.events
                if isinstance(e, kind) and all(getattr(e, k) == v for k, v in attrs.items())
            ]

    def wait_for(self, kind: type, count: int = 1, timeout: float = 8.0, **attrs: Any) -> list[Any]:
        """Wait until at least count matching events were recorded; return them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [
                    e
                    for e in self.events
                    if isinstance(e, kind) and all(getattr(e, k) == v for k, v in attrs.items())
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"waited {timeout}s for {count} x {kind.__name__}{attrs}; got {self.events}"
                    )
                self.cond.wait(remaining)
