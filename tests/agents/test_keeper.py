"""The live state's keeper against a real Redis: a live state lost (as a Redis without
persistence comes back from a restart) is restored from the database, once, with each agent's
last logged state; nothing is logged or published again."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from console.agents import services as agent_svc
from console.agents.keeper import LiveKeeper
from console.core.bus import AgentLive, RedisLiveState
from console.core.events import Event
from console.core.models import Agent, AgentStateLog, Call, User
from console.core.states import AgentState, CallStatus
from console.node import Hotline
from tests.conftest import REDIS_URL
from tests.helpers import make_settings, seeded_hotline, wait_until


@pytest.fixture
def hl(tmp_path: Path, sqlite_url: str) -> Iterator[Hotline]:
    prefix = "t" + uuid.uuid4().hex[:10]
    hotline = seeded_hotline(
        make_settings(tmp_path, sqlite_url, redis_url=REDIS_URL, redis_prefix=prefix)
    )
    try:
        yield hotline
    finally:
        live = hotline.live
        hotline.close()  # the keeper first: it would restore what is cleared next
        assert isinstance(live, RedisLiveState)
        cleaner = RedisLiveState(REDIS_URL, prefix=prefix)
        cleaner.clear()
        cleaner.close()


def _ids(hl: Hotline) -> dict[str, int]:
    with hl.sessions() as s:
        return {
            u: a for u, a in s.execute(select(User.username, Agent.id).join(Agent.user)).tuples()
        }


def _log_rows(hl: Hotline) -> int:
    with hl.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(AgentStateLog)) or 0)


def _lose(live: RedisLiveState) -> None:
    """What a restart of a Redis that keeps nothing on disk leaves: nothing (the keeper
    restores it within half a second: not asserted here, it may already have)."""
    live.clear()


def _same(a: AgentLive, b: AgentLive) -> None:
    assert (a.agent_id, a.state, a.reason, a.call_id, a.skills) == (
        b.agent_id,
        b.state,
        b.reason,
        b.call_id,
        b.skills,
    )
    assert a.since == pytest.approx(b.since, abs=1e-3)


def test_a_lost_live_state_is_restored_from_the_log_without_new_transitions(hl: Hotline) -> None:
    live, keeper = hl.live, hl.keeper
    assert isinstance(live, RedisLiveState) and keeper is not None
    ids = _ids(hl)
    one, two = ids["agent1"], ids["agent2"]
    hl.agents.choose(two, "available")
    ringing = live.reserve("support", [], "call-x")  # agent2, the only one available
    assert ringing is not None and ringing.agent_id == two
    hl.agents.record(ringing)
    hl.agents.choose(one, "not_ready", "break")
    hl.agents.flush()
    before = {a.agent_id: a for a in live.agents()}
    logged = _log_rows(hl)
    heard: list[Event] = []
    hl.bus.subscribe(heard.append)
    returned: list[float] = []
    keeper.on_return(lambda: returned.append(time.monotonic()))
    generation = live.generation()

    _lose(live)
    lost = time.monotonic()
    wait_until(lambda: live.generation() is not None, 3)
    assert time.monotonic() - lost < 1.5  # the keeper looks every 0.5 s
    assert live.generation() != generation
    after = {a.agent_id: a for a in live.agents()}
    assert after.keys() == before.keys()
    for agent_id, was in before.items():
        _same(after[agent_id], was)
    assert after[two].state == "ringing" and after[two].call_id == "call-x"
    assert after[one].state == "not_ready" and after[one].reason == "break"
    # Written, not transitioned: no new log rows, no agent_state_changed on the bus.
    wait_until(lambda: len(returned) == 1, 2)
    time.sleep(0.3)
    hl.agents.flush()
    assert _log_rows(hl) == logged
    assert heard == []
    assert len(returned) == 1  # this process's listeners, told once

    # The restored states work as before: she answers the call she was ringing for, the
    # other one becomes available and is the one reserved next.
    assert live.transition(
        two, "on_call", call_id="call-x", expect=["ringing"], expect_call="call-x"
    )
    assert hl.agents.choose(one, "available").state == "available"
    got = live.reserve("support", [], "call-y")
    assert got is not None and got.agent_id == one


def test_one_process_restores_and_every_keeper_sees_it(
    hl: Hotline, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert hl.keeper is not None and isinstance(hl.live, RedisLiveState)
    prefix = hl.settings.redis_prefix
    reads: list[int] = []
    real = agent_svc.last_states

    def slow(s: object, now: float) -> list[AgentLive]:
        reads.append(1)
        time.sleep(0.3)  # every keeper of the node looks while this one restores
        return real(s, now)  # type: ignore[arg-type]

    monkeypatch.setattr(agent_svc, "last_states", slow)
    states = [RedisLiveState(REDIS_URL, prefix=prefix) for _ in range(3)]
    others = [LiveKeeper(hl.sessions, state) for state in states]  # other processes'
    for k in others:
        k.check()  # seen: the marker is there
    told = [0] * len(others)
    for n, k in enumerate(others):
        k.on_return(lambda n=n: told.__setitem__(n, told[n] + 1))
    _lose(hl.live)
    threads = [threading.Thread(target=k.check) for k in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_until(lambda: hl.live.generation() is not None, 3)
    for k in others:
        k.check()
    assert len(reads) == 1  # one process read the log and restored
    assert told == [1, 1, 1]
    assert len(hl.live.agents()) == 2
    for state in states:
        state.close()


def _at(seconds_ago: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)


def test_a_busy_state_follows_its_call_record_when_the_call_moved_on(hl: Hotline) -> None:
    """While Redis was away the worker's transitions did not happen, its call records did:
    the restore settles each busy state as the record says the call went on."""
    ids = _ids(hl)
    one, two = ids["agent1"], ids["agent2"]
    cases = {
        # last logged state of agent1, her call's record -> restored state, call
        "ended": (
            (
                "on_call",
                dict(status=CallStatus.WRAP_UP, agent_id=one, answered_at=_at(60), ended_at=_at(5)),
            ),
            ("wrap_up", True),
        ),
        "answered": (
            ("ringing", dict(status=CallStatus.CONNECTED, agent_id=one, answered_at=_at(5))),
            ("on_call", True),
        ),
        "withdrawn": (("ringing", dict(status=CallStatus.QUEUED)), ("available", False)),
        "abandoned": (
            ("ringing", dict(status=CallStatus.ENDED, ended_at=_at(5))),
            ("available", False),
        ),
        "wrapped": (
            (
                "wrap_up",
                dict(
                    status=CallStatus.ENDED,
                    agent_id=one,
                    answered_at=_at(60),
                    ended_at=_at(30),
                    wrapped_at=_at(5),
                ),
            ),
            ("available", False),
        ),
        "talking": (
            ("on_call", dict(status=CallStatus.CONNECTED, agent_id=one, answered_at=_at(60))),
            ("on_call", True),
        ),
        "still ringing": (("ringing", dict(status=CallStatus.RINGING)), ("ringing", True)),
    }
    for name, ((state, record), (want, keeps_call)) in cases.items():
        call_id = uuid.uuid4().hex
        with hl.sessions.begin() as s:
            s.add(Call(id=call_id, caller_number="13800000001", arrived_at=_at(90), **record))
            s.add(AgentStateLog(agent_id=one, state=state, call_id=call_id, at=_at(10)))
            s.add(AgentStateLog(agent_id=two, state="not_ready", reason="lunch", at=_at(20)))
        with hl.sessions() as s:
            got = {a.agent_id: a for a in agent_svc.last_states(s, time.time())}
        assert (got[one].state, got[one].call_id) == (want, call_id if keeps_call else None), name
        assert (got[two].state, got[two].reason) == ("not_ready", "lunch")
        if want == AgentState.AVAILABLE:
            assert got[one].idle_since == got[one].since
