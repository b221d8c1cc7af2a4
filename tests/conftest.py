from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from console.container import Hotline, build
from console.db import upgrade
from console.demo import seed
from console.settings import Settings

PG_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS", "redis://127.0.0.1:6379/0")


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


@pytest.fixture(scope="session")
def pg_base() -> str:
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as c:
            c.execute(text("select 1"))
    except Exception as err:  # a missing server is a failure, not a skip
        raise RuntimeError(f"PostgreSQL not reachable at {PG_URL}: start it (see .ci/run)") from err
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture
def pg_url(pg_base: str) -> Iterator[str]:
    """A migrated PostgreSQL schema of this test's own, dropped afterwards."""
    schema = "t_" + secrets.token_hex(6)
    engine = create_engine(pg_base)
    with engine.begin() as c:
        c.execute(text(f"create schema {schema}"))
    try:
        url = f"{pg_base}?options=-csearch_path%3D{schema}"
        upgrade(url)
        yield url
    finally:
        with engine.begin() as c:
            c.execute(text(f"drop schema if exists {schema} cascade"))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hotline.db'}"
        upgrade(url)
        return url
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade(url)
    return url


def make_settings(tmp_path: Path, url: str, **kw: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "database_url": url,
        "secret_key": "test-secret",
        "sip_port": 0,
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def hotline(tmp_path: Path, db_url: str) -> Iterator[Hotline]:
    hl = build(make_settings(tmp_path, db_url))
    with hl.sessions.begin() as s:
        seed(s)
    hl.agents.load_agents()
    yield hl
    hl.close()
