"""Ordered background writes: history rows that must not delay the call path."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
# What a write returns is not used: the future only reports that it was committed.
Work = Callable[[Session], object]
# While the database cannot be reached, the write at the head is tried again after these
# many seconds, doubling up to the maximum; the ones behind it wait in order.
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 2.0


def unreachable(err: Exception) -> bool:
    """True for a failure of the database connection (server down, connection lost, SQLite
    busy), after which the same write can succeed later; False for a failed write (a
    constraint, a bug), which would fail again."""
    if isinstance(err, OperationalError | InterfaceError):
        return True
    return isinstance(err, DBAPIError) and err.connection_invalidated


class OrderedWriter:
    """Runs database writes one after another on a thread of its own, each in a transaction.

    Writes keep the order they were submitted in; `flush()` waits until everything
    submitted so far is committed, so a caller can make a synchronous write that depends
    on them. `close()` drains the queue: nothing submitted is dropped on a clean stop.
    While the database cannot be reached, a write is retried until it can (nothing
    acknowledged is lost): the writes behind it wait, in order.
    """

    def __init__(self, sessions: sessionmaker[Session], name: str) -> None:
        self._sessions = sessions
        self._q: queue.Queue[tuple[Work | None, Future[None]]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, work: Work) -> Future[None]:
        """Queue one write; the future completes when it is committed."""
        fut: Future[None] = Future()
        self._q.put((work, fut))
        return fut

    def flush(self, timeout: float = 30) -> None:
        """Wait until every write submitted so far is committed (or has failed)."""
        if threading.current_thread() is self._thread:
            return
        fut: Future[None] = Future()
        self._q.put((lambda s: None, fut))
        fut.result(timeout=timeout)

    @property
    def backlog(self) -> int:
        """Writes waiting to be committed."""
        return self._q.qsize()

    def _run(self) -> None:
        while True:
            work, fut = self._q.get()
            if work is None:
                fut.set_result(None)
                return
            self._write(work, fut)

    def _write(self, work: Work, fut: Future[None]) -> None:
        delay, down_since = RETRY_FIRST_S, 0.0
        while True:
            try:
                with self._sessions.begin() as session:
                    work(session)
            except Exception as err:
                if unreachable(err):
                    if not down_since:
                        down_since = time.monotonic()
                        log.warning("database unreachable; writes wait until it is back: %s", err)
                    time.sleep(delay)
                    delay = min(RETRY_MAX_S, delay * 2)
                    continue
                log.exception("background write failed")  # reported: the writer keeps going
                fut.set_exception(err)
                return
            if down_since:
                log.warning(
                    "database back after %.1f s; %d writes queued behind",
                    time.monotonic() - down_since,
                    self.backlog,
                )
            fut.set_result(None)
            return

    def close(self) -> None:
        """Commit what is queued, then stop."""
        fut: Future[None] = Future()
        self._q.put((None, fut))
        self._thread.join(timeout=30)
        if self._thread.is_alive():
            log.error("database unreachable at stop: %d writes were not committed", self.backlog)
