"""Ordered background writes: history rows that must not delay the call path."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
# What a write returns is not used: the future only reports that it was committed.
Work = Callable[[Session], object]


class OrderedWriter:
    """Runs database writes one after another on a thread of its own, each in a transaction.

    Writes keep the order they were submitted in; `flush()` waits until everything
    submitted so far is committed, so a caller can make a synchronous write that depends
    on them. `close()` drains the queue: nothing submitted is dropped on a clean stop.
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

    def _run(self) -> None:
        while True:
            work, fut = self._q.get()
            if work is None:
                fut.set_result(None)
                return
            try:
                with self._sessions.begin() as session:
                    work(session)
            except Exception as err:  # logged and reported: the writer keeps going
                log.exception("background write failed")
                fut.set_exception(err)
            else:
                fut.set_result(None)

    def close(self) -> None:
        """Commit what is queued, then stop."""
        fut: Future[None] = Future()
        self._q.put((None, fut))
        self._thread.join(timeout=30)
