"""Keeps the live agent state in Redis: finds it lost and restores it from the database.

A Redis without persistence that restarts comes back empty: agents vanish from the live state
(transitions find nobody, reservations no one) and the waiting order is gone. Every process of
the Redis-backed shape runs one keeper (built with the shared objects, console/node.py). It
looks every KEEP_INTERVAL_S at the marker `<prefix>:live`, written with the live state; when
the marker is missing, one process (the holder of a short-lived lock) restores every agent
with her skills and her last logged state (agents.services.last_states), straight into
Redis: no transition, so nothing is logged or published twice. The marker holds a new value
at each restore; every keeper that sees it change, or sees Redis work again after failing
itself, tells its listeners, so that each telephony worker puts its waiting calls back into
the shared order (TelephonyWorker._rejoin).

Workers learn of a restore from the marker, not from an event on the bus: pub/sub keeps
nothing, and a worker whose subscription is not back yet when the event is sent would never
hear it; the marker is there for every keeper to read at its next look.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from console.agents import services as agent_svc
from console.core.bus import Outage, RedisLiveState

log = logging.getLogger(__name__)

# How often each process looks at the marker: a lost live state is back within about this
# long (plus one read of the database) after Redis is.
KEEP_INTERVAL_S = 0.5
# The restorer's lock expires after this, should its process die while restoring.
RESTORE_LOCK_S = 10.0


class LiveKeeper:
    """One per process of the Redis-backed shape; `start` before anything changes states."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        live: RedisLiveState,
        interval_s: float = KEEP_INTERVAL_S,
    ) -> None:
        self._sessions = sessions
        self._live = live
        self._interval = interval_s
        self._token = uuid.uuid4().hex  # this process's, on the restore lock
        self._seen: str | None = None  # the marker's value at the last look
        self._listeners: list[Callable[[], None]] = []
        self._outage = Outage("keeping the live state")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_return(self, fn: Callable[[], None]) -> None:
        """Call fn (on the keeper's thread) whenever the live state was restored by any
        process, or Redis works again after this keeper found it out of reach: whatever this
        process keeps in the live state must be put back."""
        self._listeners.append(fn)

    def start(self) -> None:
        """Look once now (a first start restores the live state if Redis holds none, before
        this process changes any state), then every interval on a thread of its own."""
        self.check()
        self._thread = threading.Thread(target=self._run, name="hotline-live-keeper", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.check()
            except Exception as err:  # Redis or the database away: look again next tick
                self._outage.failed(err)

    def check(self) -> None:
        """One look: restore the live state if it is gone, tell the listeners if it came
        back (restored by any process) or Redis did."""
        generation = self._live.generation()
        if generation is None:
            generation = self._restore()
            if generation is None:
                return  # another process is restoring it: seen at a next look
        back = self._outage.ok()
        restored = self._seen is not None and generation != self._seen
        self._seen = generation
        if restored or back:
            for fn in list(self._listeners):
                try:
                    fn()
                except Exception:
                    log.exception("a listener of the live state's return failed")

    def _restore(self) -> str | None:
        """Restore the live state from the database if this process gets the lock; the
        marker's new value, or None when another process holds the lock."""
        if not self._live.lock_restore(self._token, RESTORE_LOCK_S):
            return None
        try:
            with self._sessions() as s:
                agents = agent_svc.last_states(s, time.time())
            generation = uuid.uuid4().hex
            if not self._live.restore(agents, generation):
                return self._live.generation()  # restored by another meanwhile
        finally:
            self._live.unlock_restore(self._token)
        if self._seen is None:  # this process starts, and Redis holds no live state
            log.info("live state of %d agent(s) loaded from the agent-state log", len(agents))
        else:
            log.warning(
                "the live state was lost (Redis restarted empty?): restored %d agent(s) from "
                "the agent-state log",
                len(agents),
            )
        return generation
