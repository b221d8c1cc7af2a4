"""The seam between the two ways to run: event bus and live state, in process or in Redis.

Agent reservation is a compare-and-set on the live state: in process under one lock, in
Redis inside one Lua script, so several telephony workers never reserve the same agent.

The live state also holds the waiting calls of every worker, one order per skill (priority
first, then arrival): a call is given an agent only if no call ahead of it in that order
could take her, so the oldest caller is served first whichever worker holds it.

Redis may go away and come back (empty, when it keeps nothing on disk). While it is away the
Redis implementations keep their callers running: a compare-and-set or a reservation that
cannot reach it did not happen, a waiting call's place is put back by its worker when Redis
returns, and the bus holds the events published meanwhile and sends them when it is back.
Reads still fail: an answer made up would be a lie. The live state lost with a restart is
restored from the database by console/agents/keeper.py, under the marker `<prefix>:live`.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from console.core.events import Event, from_wire
from console.core.states import AgentState

if TYPE_CHECKING:
    from redis.client import PubSub

log = logging.getLogger(__name__)
Handler = Callable[[Event], None]
T = TypeVar("T")


class Outage:
    """Logs a dependency (Redis, for the loops that need it) that cannot be reached once when
    the failures start and once when it works again, not at every failed call or tick."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._down = False
        self._lock = threading.Lock()

    def failed(self, err: BaseException) -> None:
        with self._lock:
            first, self._down = not self._down, True
        if first:
            log.warning(
                "%s failed (%s: %s); carrying on without it until it works again",
                self._what,
                type(err).__name__,
                err,
                # A refused or lost connection needs no trace; anything else does.
                exc_info=not isinstance(err, (OSError, *_redis_unreachable())),
            )

    def ok(self) -> bool:
        """It worked: True when that ends an outage."""
        if not self._down:  # the usual case, without the lock
            return False
        with self._lock:
            ended, self._down = self._down, False
        if ended:
            log.warning("%s works again", self._what)
        return ended


def _redis_unreachable() -> tuple[type[Exception], ...]:
    """What redis-py raises when Redis cannot be reached or does not answer in time."""
    import redis

    return (redis.ConnectionError, redis.TimeoutError)


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
    def reserve(self, skill: str, exclude: Iterable[int], call_id: str) -> AgentLive | None:
        """Ring the longest-idle available agent with the skill, not in exclude, for call_id.
        If the call waits in the skill's order, only an agent that no call ahead of it could
        take (each ahead taking its own best candidate) is given, and the call leaves the
        order; exclude is stored with it."""
        ...

    def wait(
        self,
        skill: str,
        call_id: str,
        priority: int,
        arrived: float,
        worker_id: str,
        exclude: Iterable[int] = (),
    ) -> None:
        """The call waits, unoffered, in the skill's order: higher priority first, then
        earlier arrival (wall clock, comparable across processes); exclude is merged into the
        agents it must not be given."""
        ...

    def unwait(self, call_id: str) -> None:
        """The call no longer waits (offered, answered, gone); idempotent."""
        ...

    def forget_worker(self, worker_id: str) -> list[str]:
        """Remove every waiting call of a worker (its process died or stopped); their ids."""
        ...

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


@dataclass
class _Waiting:
    """A call waiting in its skill's order (in process)."""

    skill: str
    priority: int
    arrived: float
    worker_id: str
    excluded: set[int]


def _order(call_id: str, w: _Waiting) -> tuple[int, float, str]:
    # Higher priority first, then earlier arrival; the call id breaks ties (as Redis orders
    # equal scores by member).
    return (-w.priority, w.arrived, call_id)


def _pick(candidates: list[int], ahead: Iterable[set[int]], excluded: set[int]) -> int | None:
    """The agent a call gets from candidates (best first) once each call ahead of it, in
    order, has taken its own best candidate outside its exclusions."""
    taken: set[int] = set()
    for theirs in ahead:
        mine = next((a for a in candidates if a not in taken and a not in theirs), None)
        if mine is not None:
            taken.add(mine)
    return next((a for a in candidates if a not in taken and a not in excluded), None)


class InProcessLiveState:
    """Single-node live state guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._agents: dict[int, AgentLive] = {}
        self._waiting: dict[str, _Waiting] = {}

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
            w = self._waiting.get(call_id)
            ahead: list[set[int]] = []  # exclusions of the calls ahead, in order
            if w is not None:
                # Stored, so that a call behind this one knows whom it cannot take.
                w.excluded |= excluded
                excluded = set(w.excluded)
                if w.skill == skill:
                    me = _order(call_id, w)
                    order = sorted(
                        (
                            (_order(cid, o), o)
                            for cid, o in self._waiting.items()
                            if o.skill == skill
                        ),
                        key=lambda t: t[0],
                    )
                    ahead = [o.excluded for key, o in order if key < me]
            candidates = sorted(
                (
                    a
                    for a in self._agents.values()
                    if a.state == AgentState.AVAILABLE and skill in a.skills
                ),
                key=lambda a: (a.idle_since, a.agent_id),
            )
            best = _pick([a.agent_id for a in candidates], ahead, excluded)
            if best is None:
                return None
            self._waiting.pop(call_id, None)
            new = replace(
                self._agents[best],
                state=AgentState.RINGING,
                reason="",
                since=time.time(),
                call_id=call_id,
            )
            self._agents[best] = new
            return new

    def wait(
        self,
        skill: str,
        call_id: str,
        priority: int,
        arrived: float,
        worker_id: str,
        exclude: Iterable[int] = (),
    ) -> None:
        with self._lock:
            old = self._waiting.get(call_id)
            excluded = set(exclude) | (old.excluded if old else set())
            self._waiting[call_id] = _Waiting(skill, priority, arrived, worker_id, excluded)

    def unwait(self, call_id: str) -> None:
        with self._lock:
            self._waiting.pop(call_id, None)

    def forget_worker(self, worker_id: str) -> list[str]:
        with self._lock:
            gone = [cid for cid, w in self._waiting.items() if w.worker_id == worker_id]
            for cid in gone:
                del self._waiting[cid]
            return gone

    def clear(self) -> None:
        with self._lock:
            self._agents.clear()
            self._waiting.clear()


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

# The waiting calls. KEYS[1] '<p>:order:' (+ skill: sorted set of call ids, score
# -priority * 1e11 + arrived, so higher priority first, then earlier arrival; equal scores
# fall back to the call id), KEYS[2] '<p>:wait:' (+ call id: hash skill, worker, excluded
# agent ids comma-separated), KEYS[3] '<p>:worker-waits:' (+ worker id: set of call ids).
_WAITING_LUA = """
local function ids_of(csv, into)
  for s in string.gmatch(csv or '', '[^,]+') do into[s] = true end
  return into
end
local function csv_of(set)
  local out = {}
  for id in pairs(set) do table.insert(out, id) end
  return table.concat(out, ',')
end
local function unwait(call_id)
  local w = KEYS[2] .. call_id
  local held = redis.call('HMGET', w, 'skill', 'worker')
  if held[1] then redis.call('ZREM', KEYS[1] .. held[1], call_id) end
  if held[2] then redis.call('SREM', KEYS[3] .. held[2], call_id) end
  redis.call('DEL', w)
end
"""

# ARGV: call id, skill, priority score, worker id, excluded agent ids...
_WAIT_LUA = (
    _WAITING_LUA
    + """
local call_id, skill, score, worker = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local w = KEYS[2] .. call_id
local excluded = ids_of(redis.call('HGET', w, 'excluded'), {})
for i = 5, #ARGV do excluded[ARGV[i]] = true end
unwait(call_id)  -- it waits in one order only
redis.call('HSET', w, 'skill', skill, 'worker', worker, 'excluded', csv_of(excluded))
redis.call('ZADD', KEYS[1] .. skill, score, call_id)
redis.call('SADD', KEYS[3] .. worker, call_id)
return 1
"""
)

_UNWAIT_LUA = _WAITING_LUA + "unwait(ARGV[1])\nreturn 1\n"

_FORGET_WORKER_LUA = (
    _WAITING_LUA
    + """
local ids = redis.call('SMEMBERS', KEYS[3] .. ARGV[1])
for _, id in ipairs(ids) do unwait(id) end
redis.call('DEL', KEYS[3] .. ARGV[1])
return ids
"""
)

# KEYS[4] available agents (sorted set by idle_since: longest idle first), KEYS[5] '<p>:agent:'.
# ARGV: skill, call id, excluded agent ids... One script, so the walk and the ringing are
# atomic against every other worker's reserve, wait and transition.
_RESERVE_ORDERED_LUA = (
    _WAITING_LUA
    + """
local skill, call_id = ARGV[1], ARGV[2]
local w = KEYS[2] .. call_id
local excluded = {}
for i = 3, #ARGV do excluded[ARGV[i]] = true end
if redis.call('EXISTS', w) == 1 then
  -- Stored, so that a call behind this one knows whom it cannot take.
  ids_of(redis.call('HGET', w, 'excluded'), excluded)
  redis.call('HSET', w, 'excluded', csv_of(excluded))
end
local candidates = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  local key = KEYS[5] .. id
  if redis.call('HGET', key, 'state') == 'available'
      and ids_of(redis.call('HGET', key, 'skills'), {})[skill] then
    table.insert(candidates, id)
  end
end
if #candidates == 0 then return nil end
-- Each call ahead of this one in the skill's order takes its own best candidate first.
local taken = {}
local rank = redis.call('ZRANK', KEYS[1] .. skill, call_id)
if rank and rank > 0 then
  for _, ahead in ipairs(redis.call('ZRANGE', KEYS[1] .. skill, 0, rank - 1)) do
    local theirs = ids_of(redis.call('HGET', KEYS[2] .. ahead, 'excluded'), {})
    for _, id in ipairs(candidates) do
      if not taken[id] and not theirs[id] then taken[id] = true break end
    end
  end
end
for _, id in ipairs(candidates) do
  if not taken[id] and not excluded[id] then
    local key = KEYS[5] .. id
    local now = redis.call('TIME')
    local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
    redis.call('HSET', key, 'state', 'ringing', 'reason', '', 'call_id', call_id, 'since', t)
    redis.call('ZREM', KEYS[4], id)
    unwait(call_id)
    local h = redis.call('HGETALL', key)
    table.insert(h, 1, id)
    return h
  end
end
return nil
"""
)

# Priority dominates arrival (epoch seconds stay below 1e11 until the year 5138).
_PRIORITY_WEIGHT = 1e11

# Releases the restore lock only if it is still this process's (it may have expired and been
# taken by another).
_UNLOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
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
        self._reserve = self._r.register_script(_RESERVE_ORDERED_LUA)
        self._wait = self._r.register_script(_WAIT_LUA)
        self._unwait = self._r.register_script(_UNWAIT_LUA)
        self._forget_worker = self._r.register_script(_FORGET_WORKER_LUA)
        self._unlock = self._r.register_script(_UNLOCK_LUA)
        self._unreachable = _redis_unreachable()
        self._outage = Outage("the live state in Redis")

    def _write(self, op: Callable[[], T], failed: T) -> T:
        """A write the telephony worker's control loop makes, between others of the same call
        (hang-up, answer, a new caller): with Redis out of reach it did not happen, as a
        compare-and-set that lost, so the call's handling goes on. `failed` is the answer
        then. The worker puts its waiting calls back once Redis returns (LiveKeeper)."""
        try:
            result = op()
        except self._unreachable as err:
            self._outage.failed(err)
            return failed
        self._outage.ok()
        return result

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
        args: list[str | int] = [
            agent_id,
            state,
            reason,
            call_id or "",
            ",".join(expect) if expect is not None else "",
            expect_call or "",
        ]
        flat = self._write(
            lambda: self._transition(keys=[self._key(agent_id), self._avail], args=args), None
        )
        return _from_hash(agent_id, _pairs(flat)) if flat else None

    @property
    def _waiting_keys(self) -> list[str]:
        return [f"{self._p}:order:", f"{self._p}:wait:", f"{self._p}:worker-waits:"]

    def reserve(self, skill: str, exclude: Iterable[int], call_id: str) -> AgentLive | None:
        keys = [*self._waiting_keys, self._avail, f"{self._p}:agent:"]
        args = [skill, call_id, *[str(i) for i in exclude]]
        flat = self._write(lambda: self._reserve(keys=keys, args=args), None)
        if not flat:
            return None
        return _from_hash(int(flat[0]), _pairs(flat[1:]))

    def wait(
        self,
        skill: str,
        call_id: str,
        priority: int,
        arrived: float,
        worker_id: str,
        exclude: Iterable[int] = (),
    ) -> None:
        score = -priority * _PRIORITY_WEIGHT + arrived
        args = [call_id, skill, repr(score), worker_id, *[str(i) for i in exclude]]
        self._write(lambda: self._wait(keys=self._waiting_keys, args=args), None)

    def unwait(self, call_id: str) -> None:
        self._write(lambda: self._unwait(keys=self._waiting_keys, args=[call_id]), None)

    def forget_worker(self, worker_id: str) -> list[str]:
        none: list[str] = []
        ids = self._write(
            lambda: self._forget_worker(keys=self._waiting_keys, args=[worker_id]), none
        )
        return [str(i) for i in ids]

    # -- a live state lost, restored (console/agents/keeper.py) ------------------------
    @property
    def _marker(self) -> str:
        return f"{self._p}:live"

    def generation(self) -> str | None:
        """Which restore of the live state Redis holds (a new value at each); None when the
        live state is not there: never seeded, or lost with a Redis that restarted empty."""
        return cast("str | None", self._r.get(self._marker))

    def lock_restore(self, token: str, ttl_s: float) -> bool:
        """Take the short-lived right to restore the live state; False if another process
        holds it. It expires by itself if its holder dies while restoring."""
        key = f"{self._p}:restoring"
        return bool(self._r.set(key, token, nx=True, px=int(ttl_s * 1000)))

    def unlock_restore(self, token: str) -> None:
        self._unlock(keys=[f"{self._p}:restoring"], args=[token])

    def restore(self, agents: Iterable[AgentLive], generation: str) -> bool:
        """Write the agents as given (state, reason, call, times, skills) and the marker in
        one transaction, unless the marker is there: written or not. Nothing is published
        or logged: these are the states the log already holds, not changes."""
        import redis

        with self._r.pipeline() as pipe:
            try:
                # Checked and written atomically: a second restore would overwrite the states
                # of the agents routed since the first one.
                pipe.watch(self._marker)  # type: ignore[no-untyped-call]
                if pipe.exists(self._marker):
                    return False
                pipe.multi()
                for a in agents:
                    key = self._key(a.agent_id)
                    pipe.delete(key)  # an offline stand-in ensure_agent wrote meanwhile
                    pipe.hset(
                        key,
                        mapping={
                            "state": a.state,
                            "reason": a.reason,
                            "call_id": a.call_id or "",
                            "since": repr(a.since),
                            "idle_since": repr(a.idle_since),
                            "skills": ",".join(a.skills),
                        },
                    )
                    if a.state == AgentState.AVAILABLE:
                        pipe.zadd(self._avail, {str(a.agent_id): a.idle_since})
                    else:
                        pipe.zrem(self._avail, str(a.agent_id))
                    pipe.sadd(f"{self._p}:agents", a.agent_id)
                pipe.set(self._marker, generation)
                pipe.execute()
            except redis.WatchError:
                return False
        return True

    def clear(self) -> None:
        keys = list(self._r.scan_iter(f"{self._p}:*"))
        if keys:
            self._r.delete(*keys)

    def close(self) -> None:
        self._r.close()


# Events published while Redis is out of reach wait, in order, and go out once it is back;
# past this many (minutes of a busy node) the oldest are dropped.
PENDING_EVENTS_MAX = 1000
# They go out this long after this process is subscribed again, so that the other processes,
# whose listeners retry every 0.5 s, are subscribed again too and hear them.
PENDING_AFTER_S = 1.0
LISTEN_RETRY_S = 0.5


class RedisBus:
    """Pub/sub bus: every process subscribed sees every event, its own included.

    Through an outage of Redis: publishing never raises (the event waits in a bounded buffer
    and is sent when Redis is back), and the listener keeps retrying; redis-py's PubSub
    subscribes again to the channel as it reconnects (its on_connect). What Redis delivers
    while a process is not subscribed is lost to it: pub/sub keeps nothing."""

    def __init__(self, url: str, channel: str = "hl:events") -> None:
        import redis

        self._r = redis.Redis.from_url(url, decode_responses=True)
        self._channel = channel
        self._dispatcher = _Dispatcher("hotline-redis-bus")
        # redis-py leaves pubsub() unannotated; its result is a PubSub.
        open_pubsub: Callable[..., PubSub] = self._r.pubsub
        self._pubsub = open_pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(channel)
        self._unreachable = _redis_unreachable()
        # Two: the subscription may be fine while publishing fails, or the other way round.
        self._listening = Outage(f"listening on the Redis bus ({channel})")
        self._publishing = Outage(f"publishing on the Redis bus ({channel})")
        self._pending: deque[str] = deque()
        self._dropped = 0
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="hotline-redis-sub", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        subscribed = time.monotonic()  # since when, without a failure
        while not self._stop.is_set():
            try:
                msg = self._pubsub.get_message(timeout=0.2)
            except Exception as err:
                if self._stop.is_set():
                    return
                self._listening.failed(err)
                time.sleep(LISTEN_RETRY_S)
                continue
            if self._listening.ok():  # read again, so subscribed again
                subscribed = time.monotonic()
            if msg and msg.get("type") == "message":
                try:
                    self._dispatcher.put(from_wire(json.loads(msg["data"])))
                except Exception:
                    log.exception("bad bus message %r", msg)
            if self._pending and time.monotonic() - subscribed >= PENDING_AFTER_S:
                self._send_pending()

    def publish(self, event: Event) -> None:
        wire = json.dumps(event.to_wire())
        with self._pending_lock:
            if self._pending:  # behind the events still waiting, in order
                self._hold(wire)
                return
        try:
            self._r.publish(self._channel, wire)
        except self._unreachable as err:
            # The caller (a worker's call control, a request) goes on; the event follows.
            self._publishing.failed(err)
            with self._pending_lock:
                self._hold(wire)
            return
        self._publishing.ok()

    def _hold(self, wire: str) -> None:
        if len(self._pending) >= PENDING_EVENTS_MAX:
            self._pending.popleft()
            self._dropped += 1
        self._pending.append(wire)

    def _send_pending(self) -> None:
        """Send the events held while Redis was out of reach, oldest first."""
        with self._pending_lock:
            sent = 0
            while self._pending:
                try:
                    self._r.publish(self._channel, self._pending[0])
                except self._unreachable as err:
                    self._publishing.failed(err)
                    break
                self._publishing.ok()
                self._pending.popleft()
                sent += 1
            if not self._pending:
                log.warning(
                    "bus: sent %d event(s) held while Redis was out of reach, %d dropped",
                    sent,
                    self._dropped,
                )
                self._dropped = 0

    def subscribe(self, handler: Handler) -> None:
        self._dispatcher.add(handler)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self._pending:
            self._send_pending()  # a last try
        self._pubsub.close()
        self._dispatcher.close()
        self._r.close()
