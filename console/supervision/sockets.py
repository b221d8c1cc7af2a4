"""Socket.IO for the supervisor's page: the snapshot on (re)connect, and the record facts of the
calls that changed (`supervision_calls`) after the raw events the `supervisors` room hears.

Why a second delta: call events carry the moments their process saw, not the record's (the
answer is stamped before the ordered writer stores it, an end carries no time at all), and
the wallboard's figures must equal the figures recomputed from the records. So each web
process reads the changed calls' records once and sends their facts to the supervisor pages
connected to it, through a room of its own (`supervision:<process>`): with several web
processes on one Redis message queue, every page hears each call once.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_login import current_user
from flask_socketio import SocketIO, disconnect, join_room

from console.core.errors import DomainError
from console.core.events import (
    Event,
    call_answered,
    call_arrived,
    call_dialling,
    call_ended,
    call_transferred,
    call_wrapped,
)
from console.node import Hotline
from console.supervision import schemas
from console.supervision import services as supervision
from console.supervision.views import SUPERVISION_ROLES, snapshot
from console.web import errors
from console.web.access import hotline as hl

log = logging.getLogger(__name__)

# The answer's record is written by the telephony worker's ordered writer a moment after
# call_answered: its facts are read again until they show the answer (every 0.2 s, 5 s at most).
ANSWER_RETRY_S = 0.2
ANSWER_TRIES = 25
# The feed's thread ends after this long without work and starts again with the next call.
IDLE_S = 30.0


class SupervisionFeed:
    """Reads the records of calls that changed and sends their facts to this process's
    supervisor pages (batched: one read and one message for a burst)."""

    def __init__(self, hotline: Hotline, emit: Callable[[str, dict[str, Any], str], None]) -> None:
        self._hl = hotline
        self._emit = emit
        self.room = f"supervision:{uuid.uuid4().hex}"
        self._inbox: queue.Queue[tuple[str, bool]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.listeners: Callable[[], bool] = lambda: True

    def on_bus(self, event: Event) -> None:
        """Bus handler: note the calls whose records changed."""
        if isinstance(event, call_transferred):
            ids = [(event.call_id, False), (event.new_call_id, False)]
        elif isinstance(event, call_arrived | call_ended | call_wrapped | call_dialling):
            ids = [(event.call_id, False)]
        elif isinstance(event, call_answered):
            ids = [(event.call_id, True)]
        else:
            return
        if not self.listeners():
            return
        for item in ids:
            self._inbox.put(item)
        self._ensure_running()

    def _ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="hotline-supervision-feed", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        # call id -> (when to read it, tries left, whether its answer must show)
        pending: dict[str, tuple[float, int, bool]] = {}
        while True:
            timeout = ANSWER_RETRY_S if pending else IDLE_S
            try:
                call_id, answered = self._inbox.get(timeout=timeout)
            except queue.Empty:
                if not pending:
                    with self._lock:
                        if self._inbox.empty():
                            self._thread = None
                            return
                    continue
            else:
                self._add(pending, call_id, answered, time.monotonic())
                while True:  # the whole burst in one read
                    try:
                        call_id, answered = self._inbox.get_nowait()
                    except queue.Empty:
                        break
                    self._add(pending, call_id, answered, time.monotonic())
            try:
                self._send(pending)
            except Exception:  # the database may be away a moment; the next event retries
                log.exception("supervision feed: reading calls failed")
                pending.clear()

    @staticmethod
    def _add(
        pending: dict[str, tuple[float, int, bool]], call_id: str, answered: bool, now: float
    ) -> None:
        _, tries, was_answered = pending.get(call_id, (now, ANSWER_TRIES, False))
        pending[call_id] = (now, tries, answered or was_answered)

    def _send(self, pending: dict[str, tuple[float, int, bool]]) -> None:
        now = time.monotonic()
        due = [c for c, (at, _, _) in pending.items() if at <= now]
        if not due:
            return
        with self._hl.sessions() as session:
            calls = supervision.live_calls(session, due)
        ready = []
        found = {c.facts.id for c in calls}
        for c in calls:
            _, tries, answered = pending[c.facts.id]
            if answered and c.facts.answered_at is None and tries > 1:
                pending[c.facts.id] = (now + ANSWER_RETRY_S, tries - 1, True)
                continue
            pending.pop(c.facts.id)
            ready.append(c)
        for call_id in due:
            if call_id not in found:
                pending.pop(call_id, None)
        if ready:
            self._emit(schemas.CALLS, schemas.calls_dict(ready), self.room)


def _sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]  # set by Flask-SocketIO
    return sid


def _supervisor_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Login re-checked at every event, and the role: an agent is refused (and joins nothing)."""

    @functools.wraps(fn)
    def inner(*args: Any) -> Any:
        if not current_user.is_authenticated:
            disconnect()
            return {"ok": False, "error": "login-required"}
        if current_user.role not in SUPERVISION_ROLES:
            return errors.as_dict(DomainError("forbidden"), current_user.language) | {"ok": False}
        return {"ok": True} | fn(*args)

    return inner


def init_app(app: Flask, socketio: SocketIO) -> None:
    hotline: Hotline = app.extensions["hotline"]
    feed = SupervisionFeed(hotline, lambda name, data, room: socketio.emit(name, data, to=room))

    def listeners() -> bool:
        # Rooms are per process (also behind a message queue): is any page of ours open?
        manager = socketio.server.manager if socketio.server else None
        if manager is None:
            return False
        try:
            return any(True for _ in manager.get_participants("/", feed.room))
        except RuntimeError:  # the rooms changed under us (a page joining): assume one is
            return True

    feed.listeners = listeners
    hotline.bus.subscribe(feed.on_bus)
    app.extensions["hotline.supervision_feed"] = feed

    # Asked by the page on every (re)connect: it joins this process's feed room and gets the
    # full picture; the raw events come through the `supervisors` room it joined on connect.
    register: Callable[[Callable[..., Any]], Callable[..., Any]] = socketio.on(schemas.SNAPSHOT)

    @register
    @_supervisor_only
    def supervision_snapshot(data: Any = None) -> dict[str, Any]:
        join_room(feed.room)
        return {"snapshot": snapshot(hl())}
