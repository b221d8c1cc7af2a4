"""Plain helpers shared by test modules: free ports, settings, web logins, schema checks, a
TCP relay a test can cut.

Fixtures live in the conftest.py files and are taken by name; only functions are imported
from here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from console.core.settings import Settings
from console.demo import seed
from console.node import Hotline, build
from console.web.api_docs import spec


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def free_media_port() -> int:
    """An even port p with p..p+3 free for UDP on 127.0.0.1: SIPp binds its RTP echo on
    p (audio) and p+2 (video) and exits at once if either is taken."""
    for _ in range(50):
        base = free_port(socket.SOCK_DGRAM) & ~1
        socks = []
        try:
            for off in range(4):
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(u)
                u.bind(("127.0.0.1", base + off))
        except OSError:
            continue
        finally:
            for u in socks:
                u.close()
        return base
    raise RuntimeError("no free media ports")


def make_settings(tmp_path: Path, url: str, **kw: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "database_url": url,
        "secret_key": "test-secret",
        "sip_port": 0,
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


def wait_until(pred: Callable[[], object], timeout: float = 10.0, step: float = 0.05) -> None:
    """Poll pred every step seconds until it is true; fail only when it never becomes true.

    The timeout is a generous bound for "it never happened", not a speed requirement.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(step)
    raise AssertionError("condition not met in time")


def csrf(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, html[:300]
    return m.group(1)


def login(client: FlaskClient, username: str, password: str | None = None) -> FlaskClient:
    token = csrf(client)
    r = client.post(
        "/login",
        data={"username": username, "password": password or username, "csrf_token": token},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:200]
    return client


SPEC: dict[str, Any] = spec()
SPEC_URI = "urn:hotline:openapi"


def schema_validator(schema_name: str) -> Draft202012Validator:
    """A validator for one component schema, resolving its $refs inside the document."""
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, DRAFT202012))
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        # ISO 8601 with an explicit offset, as the API promises.
        return not isinstance(value, str) or dt.datetime.fromisoformat(value).tzinfo is not None

    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=checker,
    )


def assert_valid(schema_name: str, instance: Any) -> None:
    errors = sorted(schema_validator(schema_name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def seeded_hotline(settings: Settings) -> Hotline:
    """A node built from settings on a migrated database, with the demo data and its agents
    loaded into live state; the caller closes it."""
    hl = build(settings)
    with hl.sessions.begin() as s:
        seed(s)
    hl.agents.load_agents()
    return hl


class TcpProxy:
    """A loopback TCP relay to a server (the database) that a test can cut, as an
    unreachable server or a broken network is: open connections are reset and new ones
    refused until it is restored."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._up = threading.Event()
        self._up.set()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._up.is_set():
                client.close()  # the server is "down": refused at once
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """The server is gone: reset every connection, refuse new ones."""
        self._up.clear()
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self.cut()
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=2)
