from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import create_engine, text

from console.core.db import upgrade
from console.node import Hotline, web_app

# Re-exported: bench/ and tests/telephony/ import these from here.
from tests.helpers import free_media_port as free_media_port
from tests.helpers import free_port as free_port
from tests.helpers import make_settings, seeded_hotline
from tests.integration.harness import Node, Sipp, start_node

PG_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS", "redis://127.0.0.1:6379/0")


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


@pytest.fixture
def hotline(tmp_path: Path, db_url: str) -> Iterator[Hotline]:
    hl = seeded_hotline(make_settings(tmp_path, db_url))
    yield hl
    hl.close()


@pytest.fixture
def web(hotline: Hotline) -> Iterator[tuple[Flask, SocketIO]]:
    app, socketio = web_app(hotline)
    app.config["TESTING"] = True
    yield app, socketio


# A served node with a telephony worker and SIPp peers: the integration and browser tests use both.
@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[Sipp]:
    workdir = tmp_path / "sipp"
    workdir.mkdir()
    peers = Sipp(workdir)
    yield peers
    peers.close()


@pytest.fixture
def node(tmp_path: Path, sqlite_url: str) -> Iterator[Node]:
    yield from start_node(tmp_path, sqlite_url)
