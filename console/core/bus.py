"""The seam between the two ways to run: event bus and live state, in process or in Redis.

Agent reservation is a compare-and-set on the live state: in process under one lock, in
Redis inside one Lua script, so several telephony workers never reserve the same agent.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, cast

from console.core.events import Event, from_wire
from console.core.states import AgentState

if TYPE_CHECKING:
    from redis.client import PubSub

log = logging.getLogger(__name__)
Handler = Callable[[Event], None]


@dataclass(frozen=True)
class AgentLive:
    """What the live state knows about one agent right now."""

    agent_id: int
    state: str = AgentState.OFFLINE
    reason: str = ""
    since: float = 0.0
    idle_since: float = 0.0
    skills: tuple[str, ...] = ()
    call_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "agent_id": self.agent_id,
            "state": self.state,
            "reason": self.reason,
            "since": self.since,
            "idle_since": self.idle_since,
            "skills": list(self.skills),
            "call_id": self.call_id,
        }


class Bus(Protocol):
    def publish(self, event: Event) -> None: ...
    def subscribe(self, handler: Handler) -> None: ...
    def close(self) -> None: ...


class LiveState(Protocol):
    def ensure_agent(self, agent_id: int, skills: Iterable[str]) -> AgentLive: ...
    def get_agent(self, agent_id: int) -> AgentLive | None: ...
    def agents(self) -> list[AgentLive]: ...
    def transition(
        self,
        agent_id: int,
        state: str,
        reason: str = "",
        call_id: str | None = None,
        expect: Iterable[str] | None = None,
        expect_call: str | None = None,
    ) -> AgentLive | None: ...
    def reserve(self, skill: str, exclude: Iterable[int], call_id: str) -> AgentLive | None: ...
    def clear(self) -> None: ...


class _Dispatcher:
    """Runs handlers on one thread so publishers never block on slow subscribers."""

    def __init__(self, name: str) -> None:
        self._handlers: list[Handler] = []
        self._q: queue.Queue[Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def add(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def put(self, event: Event | None) -> None:
        self._q.put(event)

    def _run(self) -> None:
        while True:
            event = self._q.get()
            if event is None:
                return
            for handler in list(self._handlers):
                try:
                    handler(event)
                except Exception:  # a broken subscriber must not stop the others
                    log.exception("bus handler failed for %s", event.name)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=5)


class InProcessBus:
    """Single-node bus: every subscriber in this process sees every event, in order."""

    def __init__(self) -> None:
        self._dispatcher = _Dispatcher("hotline-bus")

    def publish(self, event: Event) -> None:
        self._dispatcher.put(event)

    def subscribe(self, handler: Handler) -> None:
        self._dispatcher.add(handler)

    def close(self) -> None:
        self._dispatcher.close()


class InProcessLiveState:
    """Single-node live state guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._agents: dict[int, AgentLive] = {}

    def ensure_agent(self, agent_id: int, skills: Iterable[str]) -> AgentLive:
        with self._lock:
            cur = self._agents.get(agent_id) or AgentLive(agent_id, since=time.time())
            cur = replace(cur, skills=tuple(skills))
            self._agents[agent_id] = cur
            return cur

    def get_agent(self, agent_id: int) -> AgentLive | None:
        with self._lock:
            return self._agents.get(agent_id)

    def agents(self) -> list[AgentLive]:
        with self._lock:
            return list(self._agents.values())

    def transition(
        self,
        agent_id: int,
        state: str,
        reason: str = "",
        call_id: str | None = None,
        expect: Iterable[str] | None = None,
        expect_call: str | None = None,
    ) -> AgentLive | None:
        with self._lock:
            cur = self._agents.get(agent_id)
            if cur is None:
                return None
            if expect is not None and cur.state not in set(expect):
                return None
            if expect_call is not None and cur.call_id != expect_call:
                return None
            now = time.time()
            new = replace(
                cur,
                state=state,
                reason=reason,
                since=now,
                call_id=call_id,
                idle_since=now if state == AgentState.AVAILABLE else cur.idle_since,
            )
            self._agents[agent_id] = new
            return new

    def reserve(self, skill: str, exclude: Iterable[int], call_id: str) -> AgentLive | None:
        excluded = set(exclude)
        with self._lock:
            candidates = [
                a
                for a in self._agents.values()
                if a.state == AgentState.AVAILABLE
                and skill in a.skills
                and a.agent_id not in excluded
            ]
            if not candidates:
                return None
            best = min(candidates, key=lambda a: (a.idle_since, a.agent_id))
            new = replace(
                best, state=AgentState.RINGING, reason="", since=time.time(), call_id=call_id
            )
            self._agents[best.agent_id] = new
            return new

    def clear(self) -> None:
        with self._lock:
            self._agents.clear()


# --- Redis --------------------------------------------------------------------------

_TRANSITION_LUA = """
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return nil end
local expect = ARGV[5]
if expect ~= '' then
  local cur = redis.call('HGET', key, 'state')
  local ok = false
  for s in string.gmatch(expect, '[^,]+') do if s == cur then ok = true end end
  if not ok then return nil end
end
local expect_call = ARGV[6]
if expect_call ~= '' and redis.call('HGET', key, 'call_id') ~= expect_call then return nil end
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('HSET', key, 'state', ARGV[2], 'reason', ARGV[3], 'call_id', ARGV[4], 'since', t)
if ARGV[2] == 'available' then
  redis.call('HSET', key, 'idle_since', t)
  redis.call('ZADD', KEYS[2], t, ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return redis.call('HGETALL', key)
"""

# Longest idle first: the sorted set is ordered by idle_since.
_RESERVE_LUA = """
local skill = ARGV[1]
local call_id = ARGV[2]
local excluded = {}
for i = 3, #ARGV do excluded[ARGV[i]] = true end
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  if not excluded[id] then
    local key = KEYS[2] .. id
    local skills = redis.call('HGET', key, 'skills') or ''
    local has = false
    for s in string.gmatch(skills, '[^,]+') do if s == skill then has = true end end
    if has and redis.call('HGET', key, 'state') == 'available' then
      local now = redis.call('TIME')
      local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
      redis.call('HSET', key, 'state', 'ringing', 'reason', '', 'call_id', call_id, 'since', t)
      redis.call('ZREM', KEYS[1], id)
      local h = redis.call('HGETALL', key)
      table.insert(h, 1, id)
      return h
    end
  end
end
return nil
"""


def _from_hash(agent_id: int, raw: dict[str, str]) -> AgentLive:
    return AgentLive(
        agent_id=agent_id,
        state=raw.get("state", AgentState.OFFLINE),
        reason=raw.get("reason", ""),
        since=float(raw.get("since") or 0),
        idle_since=float(raw.get("idle_since") or 0),
        skills=tuple(s for s in raw.get("skills", "").split(",") if s),
        call_id=raw.get("call_id") or None,
    )


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


class RedisLiveState:
    """Live state shared by every process of the scaled shape."""

    def __init__(self, url: str, prefix: str = "hl") -> None:
        import redis

        self._r = redis.Redis.from_url(url, decode_responses=True)
        self._p = prefix
        self._transition = self._r.register_script(_TRANSITION_LUA)
        self._reserve = self._r.register_script(_RESERVE_LUA)

    def _key(self, agent_id: int) -> str:
        return f"{self._p}:agent:{agent_id}"

    def _hash(self, key: str) -> dict[str, str]:
        # decode_responses=True: Redis answers str, which redis-py's types do not tell apart.
        return cast("dict[str, str]", self._r.hgetall(key))

    @property
    def _avail(self) -> str:
        return f"{self._p}:available"

    def ensure_agent(self, agent_id: int, skills: Iterable[str]) -> AgentLive:
        key = self._key(agent_id)
        pipe = self._r.pipeline()
        pipe.hsetnx(key, "state", AgentState.OFFLINE)
        pipe.hsetnx(key, "since", str(time.time()))
        pipe.hset(key, "skills", ",".join(skills))
        pipe.sadd(f"{self._p}:agents", agent_id)
        pipe.execute()
        return _from_hash(agent_id, self._hash(key))

    def get_agent(self, agent_id: int) -> AgentLive | None:
        raw = self._hash(self._key(agent_id))
        return _from_hash(agent_id, raw) if raw else None

    def agents(self) -> list[AgentLive]:
        ids = sorted(int(i) for i in self._r.smembers(f"{self._p}:agents"))
        pipe = self._r.pipeline()
        for i in ids:
            pipe.hgetall(self._key(i))
        return [_from_hash(i, raw) for i, raw in zip(ids, pipe.execute(), strict=True) if raw]

    def transition(
        self,
        agent_id: int,
        state: str,
        reason: str = "",
        call_id: str | None = None,
        expect: Iterable[str] | None = None,
        expect_call: str | None = None,
    ) -> AgentLive | None:
        flat = self._transition(
            keys=[self._key(agent_id), self._avail],
            args=[
                agent_id,
                state,
                reason,
                call_id or "",
                ",".join(expect) if expect is not None else "",
                expect_call or "",
            ],
        )
        return _from_hash(agent_id, _pairs(flat)) if flat else None

    def reserve(self, skill: str, exclude: Iterable[int], call_id: str) -> AgentLive | None:
        flat = self._reserve(
            keys=[self._avail, f"{self._p}:agent:"],
            args=[skill, call_id, *[str(i) for i in exclude]],
        )
        if not flat:
            return None
        return _from_hash(int(flat[0]), _pairs(flat[1:]))

    def clear(self) -> None:
        keys = list(self._r.scan_iter(f"{self._p}:*"))
        if keys:
            self._r.delete(*keys)

    def close(self) -> None:
        self._r.close()


class RedisBus:
    """Pub/sub bus: every process subscribed sees every event, its own included."""

    def __init__(self, url: str, channel: str = "hl:events") -> None:
        import redis

        self._r = redis.Redis.from_url(url, decode_responses=True)
        self._channel = channel
        self._dispatcher = _Dispatcher("hotline-redis-bus")
        # redis-py leaves pubsub() unannotated; its result is a PubSub.
        open_pubsub: Callable[..., PubSub] = self._r.pubsub
        self._pubsub = open_pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(channel)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="hotline-redis-sub", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._pubsub.get_message(timeout=0.2)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("redis bus read failed; retrying")
                time.sleep(0.5)
                continue
            if msg and msg.get("type") == "message":
                try:
                    self._dispatcher.put(from_wire(json.loads(msg["data"])))
                except Exception:
                    log.exception("bad bus message %r", msg)

    def publish(self, event: Event) -> None:
        self._r.publish(self._channel, json.dumps(event.to_wire()))

    def subscribe(self, handler: Handler) -> None:
        self._dispatcher.add(handler)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._pubsub.close()
        self._dispatcher.close()
        self._r.close()
