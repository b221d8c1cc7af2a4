from __future__ import annotations

import multiprocessing as mp
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from console.core.bus import InProcessBus, InProcessLiveState, LiveState, RedisBus, RedisLiveState
from console.core.events import agent_state_changed, call_offered
from tests.conftest import REDIS_URL
from tests.helpers import wait_until


@pytest.fixture(params=["memory", "redis"])
def live(request: pytest.FixtureRequest) -> Iterator[LiveState]:
    if request.param == "memory":
        yield InProcessLiveState()
        return
    state = RedisLiveState(REDIS_URL, prefix="t" + uuid.uuid4().hex[:8])
    yield state
    state.clear()
    state.close()


def test_reserve_picks_longest_idle_agent_with_the_skill(live: LiveState) -> None:
    for agent_id, skills in ((1, ["support"]), (2, ["sales"]), (3, ["support", "sales"])):
        live.ensure_agent(agent_id, skills)
    # Deliberate pauses: each agent's idle clock starts visibly later than the one before.
    live.transition(3, "available")
    time.sleep(0.01)
    live.transition(2, "available")
    time.sleep(0.01)
    live.transition(1, "available")
    got = live.reserve("support", [], "call-a")
    assert (
        got is not None and got.agent_id == 3 and got.state == "ringing" and got.call_id == "call-a"
    )
    got = live.reserve("support", [], "call-b")
    assert got is not None and got.agent_id == 1
    assert live.reserve("support", [], "call-c") is None
    assert live.reserve("sales", [2], "call-d") is None
    got = live.reserve("sales", [], "call-d")
    assert got is not None and got.agent_id == 2


def test_transition_is_compare_and_set(live: LiveState) -> None:
    live.ensure_agent(7, ["support"])
    assert live.transition(7, "on_call", expect=["ringing"]) is None
    assert live.transition(7, "available", expect=["offline"]) is not None
    live.reserve("support", [], "c1")
    assert live.transition(7, "available", expect=["ringing"], expect_call="other") is None
    done = live.transition(7, "not_ready", "missed", expect=["ringing"], expect_call="c1")
    assert done is not None and done.reason == "missed" and done.call_id is None
    assert live.reserve("support", [], "c2") is None


def _reserve_many(prefix: str, n: int, out: mp.Queue[list[int]]) -> None:
    state = RedisLiveState(REDIS_URL, prefix=prefix)
    got = []
    for i in range(n):
        a = state.reserve("support", [], f"{prefix}-{mp.current_process().pid}-{i}")
        if a is not None:
            got.append(a.agent_id)
    out.put(got)


def test_redis_reservation_is_atomic_across_processes() -> None:
    prefix = "t" + uuid.uuid4().hex[:8]
    state = RedisLiveState(REDIS_URL, prefix=prefix)
    try:
        for agent_id in range(1, 41):
            state.ensure_agent(agent_id, ["support"])
            state.transition(agent_id, "available")
        ctx = mp.get_context("spawn")
        out: mp.Queue[list[int]] = ctx.Queue()
        procs = [ctx.Process(target=_reserve_many, args=(prefix, 30, out)) for _ in range(4)]
        for p in procs:
            p.start()
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=10)
        reserved = [a for r in results for a in r]
        assert sorted(reserved) == list(range(1, 41))  # each agent once, none twice
    finally:
        state.clear()
        state.close()


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_bus_delivers_events_in_order(kind: str) -> None:
    channel = "t" + uuid.uuid4().hex
    bus = InProcessBus() if kind == "memory" else RedisBus(REDIS_URL, channel=channel)
    got: list[object] = []
    done = threading.Event()

    def handler(ev: object) -> None:
        got.append(ev)
        if len(got) == 3:
            done.set()

    bus.subscribe(handler)
    if kind == "redis":  # Redis drops what is published before the SUBSCRIBE has landed
        r = redis.Redis.from_url(REDIS_URL)
        try:
            wait_until(lambda: dict(r.pubsub_numsub(channel)).get(channel.encode(), 0) >= 1)
        finally:
            r.close()
    events = [
        agent_state_changed(agent_id=1, state="available", since=1.0),
        call_offered(
            call_id="c", agent_id=1, ring_timeout_s=15, offered_at=2.0, pop={"customers": []}
        ),
        agent_state_changed(agent_id=1, state="ringing", since=3.0, call_id="c"),
    ]
    for ev in events:
        bus.publish(ev)
    assert done.wait(5)
    assert got == events
    bus.close()


# --- one waiting order per skill across workers ----------------------------------------


def _available(live: LiveState, *agent_ids: int, skills: tuple[str, ...] = ("support",)) -> None:
    """The agents, in this order of idleness (the first has waited longest)."""
    for agent_id in agent_ids:
        live.ensure_agent(agent_id, skills)
        live.transition(agent_id, "available")
        time.sleep(0.01)  # each idle clock visibly later than the one before


def test_a_younger_call_waits_behind_an_older_one(live: LiveState) -> None:
    _available(live, 1)
    live.wait("support", "old", 0, 100.0, "w1")
    live.wait("support", "young", 0, 200.0, "w2")
    assert live.reserve("support", [], "young") is None  # the only agent is the old call's
    got = live.reserve("support", [], "old")
    assert got is not None and got.agent_id == 1 and got.call_id == "old"
    _available(live, 2)
    got = live.reserve("support", [], "young")  # the old call was offered: it left the order
    assert got is not None and got.agent_id == 2 and got.call_id == "young"


def test_a_call_ahead_takes_only_its_own_best_agent(live: LiveState) -> None:
    _available(live, 1, 2)
    live.wait("support", "old", 0, 100.0, "w1")
    live.wait("support", "young", 0, 200.0, "w2")
    got = live.reserve("support", [], "young")  # agent 1 is the old call's, agent 2 is free
    assert got is not None and got.agent_id == 2
    got = live.reserve("support", [], "old")
    assert got is not None and got.agent_id == 1


def test_priority_goes_before_arrival(live: LiveState) -> None:
    _available(live, 1)
    live.wait("support", "early", 0, 100.0, "w1")
    live.wait("support", "urgent", 1, 200.0, "w2")
    assert live.reserve("support", [], "early") is None
    got = live.reserve("support", [], "urgent")
    assert got is not None and got.call_id == "urgent"


def test_a_call_behind_gets_the_agent_the_head_excluded(live: LiveState) -> None:
    _available(live, 1)
    # The head rejected agent 1: stored with it when it waits again ...
    live.wait("support", "head", 0, 100.0, "w1", exclude=[1])
    live.wait("support", "second", 0, 200.0, "w2")
    got = live.reserve("support", [], "second")
    assert got is not None and got.agent_id == 1 and got.call_id == "second"


def test_the_exclusions_given_to_reserve_are_stored_with_the_call(live: LiveState) -> None:
    _available(live, 1)
    live.wait("support", "head", 0, 100.0, "w1")
    live.wait("support", "second", 0, 200.0, "w2")
    assert live.reserve("support", [1], "head") is None  # she rejected it: stored with it
    got = live.reserve("support", [], "second")
    assert got is not None and got.agent_id == 1


def test_a_call_of_another_skill_is_not_held_back(live: LiveState) -> None:
    _available(live, 1, skills=("support", "sales"))
    live.wait("sales", "old-sales", 0, 100.0, "w1")
    live.wait("support", "young-support", 0, 200.0, "w2")
    got = live.reserve("support", [], "young-support")
    assert got is not None and got.call_id == "young-support"


def test_a_call_not_waiting_is_reserved_as_before(live: LiveState) -> None:
    _available(live, 1)
    live.wait("support", "old", 0, 100.0, "w1")
    got = live.reserve("support", [], "direct")  # e.g. offered straight to an agent
    assert got is not None and got.call_id == "direct"


def test_forget_worker_removes_only_that_workers_calls(live: LiveState) -> None:
    _available(live, 1)
    live.wait("support", "a", 0, 100.0, "w1")
    live.wait("support", "b", 0, 200.0, "w1")
    live.wait("support", "c", 0, 300.0, "w2")
    live.wait("support", "d", 0, 400.0, "w2")
    assert sorted(live.forget_worker("w1")) == ["a", "b"]
    assert live.forget_worker("w1") == []
    assert live.reserve("support", [], "d") is None  # c of w2 is still ahead
    got = live.reserve("support", [], "c")
    assert got is not None and got.call_id == "c"


def test_unwait_is_idempotent(live: LiveState) -> None:
    _available(live, 1)
    live.wait("support", "old", 0, 100.0, "w1")
    live.wait("support", "young", 0, 200.0, "w2")
    live.unwait("old")
    live.unwait("old")
    live.unwait("never-waited")
    got = live.reserve("support", [], "young")
    assert got is not None and got.call_id == "young"
    live.unwait("young")  # it left the order when reserved
    assert live.forget_worker("w2") == []


def _serve_own_calls(
    state: LiveState, mine: list[str], served: list[tuple[str, int]], lock: threading.Lock
) -> None:
    """What a worker's router does on each agent becoming available: try its own waiting
    calls oldest first; a call that lost stays waiting for the next try."""
    waiting = list(mine)
    deadline = time.monotonic() + 10
    while waiting and time.monotonic() < deadline:
        for call_id in list(waiting):
            got = state.reserve("support", [], call_id)
            if got is not None:
                waiting.remove(call_id)
                with lock:
                    served.append((call_id, got.agent_id))
        if not any(a.state == "available" for a in state.agents()):
            return  # every agent taken: this round is over


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_two_workers_racing_serve_callers_in_order_each_agent_once(kind: str) -> None:
    prefix = "t" + uuid.uuid4().hex[:8]
    shared = InProcessLiveState()
    # Two live-state objects on one prefix stand for two worker processes.
    workers: list[LiveState] = (
        [shared, shared]
        if kind == "memory"
        else [RedisLiveState(REDIS_URL, prefix=prefix), RedisLiveState(REDIS_URL, prefix=prefix)]
    )
    try:
        agents = [1, 2, 3, 4]
        for agent_id in agents:
            workers[0].ensure_agent(agent_id, ["support"])
        calls = [f"c{i:02d}" for i in range(20)]  # in arrival order, alternating workers
        for i, call_id in enumerate(calls):
            workers[i % 2].wait("support", call_id, 0, 1000.0 + i, f"w{i % 2}")
        lock = threading.Lock()
        remaining = list(calls)
        while remaining:
            for agent_id in agents:
                workers[0].transition(agent_id, "available")
            served: list[tuple[str, int]] = []
            threads = [
                threading.Thread(
                    target=_serve_own_calls,
                    args=(w, [c for c in remaining if int(c[1:]) % 2 == n], served, lock),
                )
                for n, w in enumerate(workers)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # The oldest four callers, whichever worker holds them, one agent each.
            assert sorted(c for c, _ in served) == remaining[:4]
            assert sorted(a for _, a in served) == agents
            remaining = remaining[4:]
    finally:
        for w in workers:
            w.clear()
            if isinstance(w, RedisLiveState):
                w.close()
