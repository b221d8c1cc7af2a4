"""Failed sign-ins throttled per account and per source address, in process or in Redis.

After `max_failures` wrong passwords on one account (or `address_max_failures` from one
address) within `window_s`, sign-in there is refused for `lock_s`; each further lock within
a day doubles it, up to `lock_max_s`. A successful sign-in resets the account. Attempts are
counted before their password is checked, so parallel guesses get no more tries. The counters
live beside the live agent state: in Redis when several web processes share it, else in this
process. Nothing here knows Flask: the web layer passes the username and the address.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from console.core.settings import Settings

# How long the lock level (the doubling) is remembered after the last lock.
LOCK_MEMORY_S = 24 * 3600
# Usernames are at most 64 characters (users.username); a longer one names no account.
_USERNAME_KEY_MAX = 64


@dataclass(frozen=True)
class LoginPolicy:
    """The numbers of the throttle (from Settings)."""

    max_failures: int = 5
    address_max_failures: int = 20
    window_s: float = 900.0
    lock_s: float = 300.0
    lock_max_s: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        """The policy configured by the login_* settings."""
        return cls(
            max_failures=settings.login_max_failures,
            address_max_failures=settings.login_address_max_failures,
            window_s=float(settings.login_window_s),
            lock_s=float(settings.login_lock_s),
            lock_max_s=float(settings.login_lock_max_s),
        )


class LoginAttempts(Protocol):
    """Where attempts and locks are counted; every method is atomic per key.

    `step` takes a mode: "begin" counts an attempt before its password is checked (locking
    when it is one too many), "fail" locks when the failures reached the limit, "forgive"
    takes back the count of an attempt that turned out right. Each returns the time the
    key is locked until (0: not locked).
    """

    def locked_until(self, keys: Iterable[str]) -> float: ...
    def step(self, mode: str, key: str, now: float, limit: int, policy: LoginPolicy) -> float: ...
    def reset(self, key: str) -> None: ...
    def close(self) -> None: ...


def _lock_length(policy: LoginPolicy, level: int) -> float:
    return float(min(policy.lock_s * 2 ** (level - 1), policy.lock_max_s))


@dataclass
class _Entry:
    count: int = 0
    first_at: float = 0.0
    locked_until: float = 0.0
    level: int = 0
    locked_at: float = 0.0


class InProcessLoginAttempts:
    """Single-node counters guarded by one lock."""

    # Spraying random usernames must not grow memory without bound: past this many keys,
    # entries with nothing left to remember are dropped. The bar then doubles with what is
    # still alive, so a spray of live entries does not cost a full scan per attempt.
    PRUNE_ABOVE = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._prune_at = self.PRUNE_ABOVE

    def locked_until(self, keys: Iterable[str]) -> float:
        with self._lock:
            return max((e.locked_until for k in keys if (e := self._entries.get(k))), default=0.0)

    def step(self, mode: str, key: str, now: float, limit: int, policy: LoginPolicy) -> float:
        with self._lock:
            e = self._entries.get(key)
            if e is None:
                if len(self._entries) >= self._prune_at:
                    self._prune(now, policy)
                e = self._entries[key] = _Entry()
            if e.locked_until > now:
                return e.locked_until
            if mode == "forgive":
                e.count = max(0, e.count - 1)
                return 0.0
            if e.count == 0 or now - e.first_at > policy.window_s:
                e.count, e.first_at = 0, now
            if e.level and now - e.locked_at > LOCK_MEMORY_S:
                e.level = 0
            if mode == "begin":
                e.count += 1
                lock = e.count > limit
            else:
                e.count = max(e.count, 1)
                lock = e.count >= limit
            if lock:
                e.level += 1
                e.locked_until = now + _lock_length(policy, e.level)
                e.locked_at, e.count = now, 0
            return e.locked_until if e.locked_until > now else 0.0

    def reset(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _prune(self, now: float, policy: LoginPolicy) -> None:
        def alive(e: _Entry) -> bool:
            return (
                e.locked_until > now
                or (e.count > 0 and now - e.first_at <= policy.window_s)
                or (e.level > 0 and now - e.locked_at <= LOCK_MEMORY_S)
            )

        self._entries = {k: e for k, e in self._entries.items() if alive(e)}
        self._prune_at = max(self.PRUNE_ABOVE, 2 * len(self._entries))

    def close(self) -> None:
        pass


# One script per step, so two web processes counting the same account never lose a count
# or both let the sixth guess through. Times come from the caller's clock (tests inject
# one); the key's expiry only cleans up. The same steps as InProcessLoginAttempts.step.
_STEP_LUA = """
local key = KEYS[1]
local mode = ARGV[1]
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local lock_s = tonumber(ARGV[5])
local lock_max = tonumber(ARGV[6])
local memory = tonumber(ARGV[7])
local h = redis.call('HMGET', key, 'count', 'first_at', 'locked_until', 'level', 'locked_at')
local count = tonumber(h[1]) or 0
local first_at = tonumber(h[2]) or 0
local locked_until = tonumber(h[3]) or 0
local level = tonumber(h[4]) or 0
local locked_at = tonumber(h[5]) or 0
if locked_until > now then return tostring(locked_until) end
if mode == 'forgive' then
  if count > 0 then redis.call('HSET', key, 'count', count - 1) end
  return '0'
end
if count == 0 or now - first_at > window then count = 0; first_at = now end
if level > 0 and now - locked_at > memory then level = 0 end
local lock = false
if mode == 'begin' then
  count = count + 1
  lock = count > limit
else
  if count == 0 then count = 1 end
  lock = count >= limit
end
if lock then
  level = level + 1
  locked_until = now + math.min(lock_s * 2 ^ (level - 1), lock_max)
  locked_at = now
  count = 0
end
redis.call('HSET', key, 'count', count, 'first_at', tostring(first_at),
  'locked_until', tostring(locked_until), 'level', level, 'locked_at', tostring(locked_at))
local keep = window
if level > 0 then keep = math.max(keep, memory) end
if locked_until > now then keep = math.max(keep, locked_until - now) end
redis.call('EXPIRE', key, math.ceil(keep))
if locked_until > now then return tostring(locked_until) end
return '0'
"""


class RedisLoginAttempts:
    """Counters shared by every web process of the scaled shape."""

    def __init__(self, url: str, prefix: str = "hl") -> None:
        import redis

        self._r = redis.Redis.from_url(url, decode_responses=True)
        self._p = prefix
        self._step = self._r.register_script(_STEP_LUA)

    def _key(self, key: str) -> str:
        return f"{self._p}:login:{key}"

    def locked_until(self, keys: Iterable[str]) -> float:
        pipe = self._r.pipeline()
        for k in keys:
            pipe.hget(self._key(k), "locked_until")
        return max((float(v) for v in pipe.execute() if v), default=0.0)

    def step(self, mode: str, key: str, now: float, limit: int, policy: LoginPolicy) -> float:
        result = self._step(
            keys=[self._key(key)],
            args=[
                mode,
                repr(now),
                limit,
                policy.window_s,
                policy.lock_s,
                policy.lock_max_s,
                LOCK_MEMORY_S,
            ],
        )
        return float(result)

    def reset(self, key: str) -> None:
        self._r.delete(self._key(key))

    def close(self) -> None:
        self._r.close()


def address_key(address: str | None) -> str | None:
    """The key of a source address: IPv6 by its /64, which one machine usually owns whole."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"addr:{address[:64]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"addr:{ip}"


def account_key(username: str) -> str | None:
    """The key of an account as typed (usernames are matched exactly, after trimming)."""
    name = username.strip()
    if not name or len(name) > _USERNAME_KEY_MAX:
        return None
    return f"user:{name}"


class LoginThrottle:
    """Refuses sign-in while an account or an address is locked; counts the attempts."""

    def __init__(
        self, store: LoginAttempts, policy: LoginPolicy, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock

    def _keys(self, username: str, address: str | None) -> list[tuple[str, int]]:
        keys = []
        account, addr = account_key(username), address_key(address)
        if account and self.policy.max_failures > 0:
            keys.append((account, self.policy.max_failures))
        if addr and self.policy.address_max_failures > 0:
            keys.append((addr, self.policy.address_max_failures))
        return keys

    def retry_after(self, username: str, address: str | None) -> int:
        """Whole seconds until sign-in may be tried again here (0: now)."""
        keys = [k for k in (account_key(username), address_key(address)) if k]
        return _seconds(self.store.locked_until(keys) - self.clock())

    def attempt(self, username: str, address: str | None) -> int:
        """Count an attempt before its password is checked; the seconds to wait (0: go on).

        Counting before checking means guesses sent in parallel cannot all be checked
        before the first of them has failed: the one past the limit is refused.
        """
        now = self.clock()
        counted: list[tuple[str, int]] = []
        for key, limit in self._keys(username, address):
            if self.store.step("begin", key, now, limit, self.policy) > now:
                for k, lim in counted:
                    self.store.step("forgive", k, now, lim, self.policy)
                return max(1, self.retry_after(username, address))
            counted.append((key, limit))
        return 0

    def failed(self, username: str, address: str | None) -> int:
        """The attempt's password was wrong; the seconds of the lock it caused (0: none)."""
        now = self.clock()
        until = max(
            (
                self.store.step("fail", key, now, limit, self.policy)
                for key, limit in self._keys(username, address)
            ),
            default=0.0,
        )
        return _seconds(until - now)

    def succeeded(self, username: str, address: str | None) -> None:
        """A successful sign-in clears the account's count and lock level.

        The address only takes back this attempt: one valid account must not let its holder
        wipe the address's count between guesses at other accounts.
        """
        now = self.clock()
        for key, limit in self._keys(username, address):
            if key.startswith("user:"):
                self.store.reset(key)
            else:
                self.store.step("forgive", key, now, limit, self.policy)

    def close(self) -> None:
        """Release the store's connection."""
        self.store.close()


def _seconds(delta: float) -> int:
    return max(0, math.ceil(delta))


def build_login_throttle(settings: Settings) -> LoginThrottle:
    """The throttle for this process: shared through Redis when one is configured."""
    store: LoginAttempts = (
        RedisLoginAttempts(settings.redis_url, prefix=settings.redis_prefix)
        if settings.redis_url
        else InProcessLoginAttempts()
    )
    return LoginThrottle(store, LoginPolicy.from_settings(settings))
