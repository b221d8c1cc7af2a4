"""The ordered writer while the database cannot be reached: nothing submitted is lost."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select

from console.calls import services as call_svc
from console.calls.writer import OrderedWriter
from console.core.db import make_engine, make_session_factory
from console.core.models import WorkerHeartbeat
from tests.helpers import TcpProxy


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)
    user = host[0] + "@" if len(host) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def test_writes_wait_in_order_while_the_database_is_unreachable_and_land_when_it_is_back(
    pg_url: str,
) -> None:
    upstream = urlsplit(pg_url)
    proxy = TcpProxy((upstream.hostname or "127.0.0.1", upstream.port or 5432))
    engine = make_engine(_through(pg_url, proxy.port))
    writer = OrderedWriter(make_session_factory(engine), "test-writer")
    try:
        writer.submit(lambda s: call_svc.worker_seen(s, "before")).result(timeout=10)
        proxy.cut()
        done: list[str] = []
        futures = []
        for n in range(5):
            name = f"during-{n}"
            fut = writer.submit(lambda s, name=name: call_svc.worker_seen(s, name))
            fut.add_done_callback(lambda _f, name=name: done.append(name))
            futures.append(fut)
        time.sleep(2)
        assert done == [] and writer.backlog == 4  # the first is being retried
        proxy.restore()
        for fut in futures:
            fut.result(timeout=15)  # committed, none failed
        assert done == [f"during-{n}" for n in range(5)]  # in the order submitted
        with make_session_factory(make_engine(pg_url))() as s:
            names = set(s.scalars(select(WorkerHeartbeat.worker_id)))
        assert names == {"before", *done}
    finally:
        proxy.restore()
        writer.close()
        engine.dispose()
        proxy.close()
