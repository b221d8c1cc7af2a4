"""A node's pool of telephony workers behind Kamailio's dispatcher, for real: Kamailio, two
`hotline telephony` processes, Redis and PostgreSQL on loopback, callers from SIPp."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from console.core.bus import RedisLiveState
from console.core.errors import DomainError
from console.core.models import Call
from console.node import Hotline, check_pool, web_app
from telephony.guard import guard_binary
from telephony.pool import WorkerPool
from tests.conftest import REDIS_URL
from tests.helpers import make_settings, seeded_hotline, wait_until
from tests.integration.harness import AgentClient, Sipp, serve


@pytest.fixture
def pool(tmp_path: Path, pg_url: str) -> Iterator[WorkerPool]:
    settings = make_settings(
        tmp_path,
        pg_url,
        redis_url=REDIS_URL,
        redis_prefix="t" + uuid.uuid4().hex[:10],
        telephony_workers=2,
        worker_id="node-a",
    )
    hl = seeded_hotline(settings)
    binary = guard_binary(settings)
    assert binary is not None, "kamailio is installed by .ci/run"
    # A dead worker comes back after 3 s: long enough to see calls go to the other one.
    pool = WorkerPool(hl, 2, binary, restart_delay_s=3.0)
    try:
        pool.start()
        yield pool
    finally:
        pool.stop()
        RedisLiveState(REDIS_URL, prefix=settings.redis_prefix).clear()
        hl.close()


def _open_calls(hl: Hotline) -> dict[str, str]:
    """Open call records: id -> the worker holding it."""
    with hl.sessions() as s:
        return {c.id: c.worker_id for c in s.scalars(select(Call).where(Call.ended_at.is_(None)))}


def _call(sipp: Sipp, pool: WorkerPool, caller: str) -> None:
    # The caller stays on the line (music, nobody available) until Hotline hangs up.
    sipp.start("caller.xml", target=pool.address, keys={"caller": caller}, timeout_s=120)


def _states(pool: WorkerPool) -> dict[str, str]:
    assert pool.guard is not None
    flags = pool.guard.destinations()
    return {w.worker_id: flags.get(w.port, "?") for w in pool.workers}


def test_calls_spread_over_the_workers_and_a_killed_worker_is_replaced(
    pool: WorkerPool, sipp: Sipp
) -> None:
    hl = pool.hotline
    w1, w2 = pool.workers
    # Active, and probed with OPTIONS (the first probe within a second or two).
    wait_until(lambda: _states(pool) == {w1.worker_id: "AP", w2.worker_id: "AP"}, 10)

    # Least-loaded first: two callers land on two workers.
    _call(sipp, pool, "13800000001")
    wait_until(lambda: len(_open_calls(hl)) == 1, 15)
    _call(sipp, pool, "13800000002")
    wait_until(lambda: len(_open_calls(hl)) == 2, 15)
    held = _open_calls(hl)
    assert sorted(held.values()) == [w1.worker_id, w2.worker_id]
    on_w1 = next(c for c, w in held.items() if w == w1.worker_id)

    # kill -9 the first worker: its call is closed within 5 s, it leaves the rotation and
    # new callers go to the other one while it comes back.
    pid = w1.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: on_w1 not in _open_calls(hl), 5)
    assert time.monotonic() - killed < 5
    with hl.sessions() as s:
        call = s.get(Call, on_w1)
        assert call is not None and call.end_reason == "worker-restart"
    _call(sipp, pool, "13800000004")  # while it is down: the other worker takes it
    wait_until(lambda: len(_open_calls(hl)) == 2, 15)
    assert list(_open_calls(hl).values()) == [w2.worker_id, w2.worker_id]

    # The supervisor starts it again on the same port; the probe puts it back in rotation.
    wait_until(lambda: w1.restarts == 1 and w1.pid not in (None, pid), 10)
    wait_until(lambda: _states(pool)[w1.worker_id] == "AP", 30)

    # Back in rotation, and the least loaded: the next caller goes to it.
    _call(sipp, pool, "13800000003")
    wait_until(lambda: len(_open_calls(hl)) == 3, 15)
    assert sorted(_open_calls(hl).values()) == [w1.worker_id, w2.worker_id, w2.worker_id]


def test_a_worker_that_refuses_is_skipped_and_callers_beyond_the_pool_are_refused(
    pool: WorkerPool, sipp: Sipp
) -> None:
    hl = pool.hotline
    # 2 workers x 4 slots: 8 waiting callers fill the node; the 9th gets 486 from Kamailio.
    for n in range(8):
        _call(sipp, pool, f"1380000{n:04d}")
    wait_until(lambda: len(_open_calls(hl)) == 8, 30)
    per_worker: dict[str, int] = {}
    for worker in _open_calls(hl).values():
        per_worker[worker] = per_worker.get(worker, 0) + 1
    assert per_worker == {w.worker_id: 4 for w in pool.workers}
    refused, _ = sipp.start(
        "caller.xml", target=pool.address, keys={"caller": "13900000009"}, timeout_s=20
    )
    assert sipp.wait(refused) != 0  # an unexpected 486 ends SIPp's call as failed
    assert "486" in sipp.stats(refused)
    assert len(_open_calls(hl)) == 8


def test_a_pool_needs_redis_and_at_least_one_worker(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as no_redis:
        check_pool(make_settings(tmp_path, "", telephony_workers=3))
    assert no_redis.value.error_id == "pool-needs-redis"
    with pytest.raises(DomainError) as none:
        check_pool(make_settings(tmp_path, "", telephony_workers=0))
    assert none.value.error_id == "pool-size"
    check_pool(make_settings(tmp_path, "", telephony_workers=1))  # the single node


@pytest.fixture
def pool_web(pool: WorkerPool) -> Iterator[tuple[WorkerPool, str]]:
    """The scaled shape for real: the web role in this process, the pool's two workers
    and Kamailio as processes, Redis and PostgreSQL between them."""
    app, _ = web_app(pool.hotline)
    with serve(app) as base_url:
        yield pool, base_url


def test_one_queue_across_the_workers_and_failover_with_agents_on_line(
    pool_web: tuple[WorkerPool, str], sipp: Sipp
) -> None:
    pool, base_url = pool_web
    hl = pool.hotline
    wait_until(lambda: set(_states(pool).values()) == {"AP"}, 10)
    agents = [AgentClient(base_url, name) for name in ("agent1", "agent2")]
    try:
        # Nobody is available: two callers wait, one on each worker, the first one first.
        _call(sipp, pool, "13800000001")
        wait_until(lambda: len(_open_calls(hl)) == 1, 15)
        first = next(iter(_open_calls(hl)))
        _call(sipp, pool, "13800000002")
        wait_until(lambda: len(_open_calls(hl)) == 2, 15)
        second = next(c for c in _open_calls(hl) if c != first)
        assert _open_calls(hl)[first] != _open_calls(hl)[second]

        # Whichever worker holds it, the caller who waited longest is offered first.
        agents[1].available()
        offer = agents[1].wait_for("call_offered")
        assert offer["call_id"] == first
        agents[0].available()
        assert agents[0].wait_for("call_offered")["call_id"] == second
        for agent, call_id in ((agents[1], first), (agents[0], second)):
            assert agent.call("answer", {"call_id": call_id})["ok"]
            agent.wait_for("call_answered", lambda d, c=call_id: d["call_id"] == c)

        # kill -9 the worker holding agent2's call: the call ends for her within 5 s, she
        # is free again, and the next caller is taken by the other worker.
        holder = next(w for w in pool.workers if w.worker_id == _open_calls(hl)[first])
        other = next(w for w in pool.workers if w is not holder)
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        ended = agents[1].wait_for("call_ended", lambda d: d["call_id"] == first, timeout=5)
        assert ended["end_reason"] == "worker-restart"
        live = hl.live.get_agent(offer["agent_id"])
        assert live is not None and live.state == "available" and live.call_id is None
        _call(sipp, pool, "13800000003")
        third = agents[1].wait_for("call_offered", timeout=15)
        assert _open_calls(hl)[third["call_id"]] == other.worker_id
    finally:
        for agent in agents:
            agent.close()
