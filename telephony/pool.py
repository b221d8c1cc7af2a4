"""A node's pool of telephony workers behind one Kamailio dispatcher, and its supervisor.

The only installable pjsua2 build carries 4 calls per process (a waiting caller holds a
slot too), so a node that must carry more runs several `hotline telephony` processes, each
on its own loopback SIP port, and Kamailio in front spreads new calls over them by load
(telephony/guard.py, algorithm 10 with a per-worker limit). The workers share the queue,
the live agent state and the bus through Redis, and the records through the database.

The supervisor watches the processes. When one dies (a crash, kill -9), it takes that
worker out of Kamailio's rotation at once, closes the worker's open call records (end
reason `worker-restart`), frees its agents and removes its callers from the shared queue —
the calls are gone with the process's SIP stack — then starts it again on the same port,
where the dispatcher's health probe puts it back in rotation. A worker that keeps dying is
restarted less and less often (up to every 30 s).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from console.calls.recovery import close_worker_calls
from console.core.settings import Settings
from console.core.states import EndReason
from console.node import Hotline
from telephony.guard import (
    WORKER_HOST,
    GuardError,
    SipGuard,
    answers_options,
    phone_sources,
    plan_pool,
    set_parent_death_signal,
)

log = logging.getLogger(__name__)

__all__ = ["PoolWorker", "WorkerPool", "inbound_capacity"]

# Database connections each worker keeps (twice that at a peak).
WORKER_DB_CONNECTIONS = 2
# How long a starting worker may take to answer SIP (migrations checked, pjsua2 up).
START_TIMEOUT_S = 60.0
# A stopping worker hangs up its calls and closes their records; past this it is killed.
STOP_TIMEOUT_S = 20.0
WATCH_INTERVAL_S = 0.2
# Restart back-off for a worker that keeps dying: the first restart is at once, then
# doubling up to the maximum; a worker that ran this long counts as healthy again.
RESTART_MAX_DELAY_S = 30.0
HEALTHY_AFTER_S = 60.0


def inbound_capacity(max_calls: int, agents_have_phones: bool) -> int:
    """Inbound calls one worker takes: a call bridged to an agent's SIP phone needs a second
    slot for her leg, a browser-audio call none."""
    return max(1, max_calls // 2) if agents_have_phones else max_calls


@dataclass
class PoolWorker:
    """One worker process of the pool, by its slot in the dispatcher list."""

    settings: Settings
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    failures: int = 0  # deaths in a row without a healthy run between
    restart_at: float | None = None  # when a dead worker is started again
    restarts: int = 0
    in_rotation: bool = True  # in Kamailio's destination list

    @property
    def worker_id(self) -> str:
        return self.settings.worker_id

    @property
    def port(self) -> int:
        return self.settings.sip_port

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


@dataclass
class WorkerPool:
    """N `hotline telephony` processes behind one Kamailio, supervised."""

    hotline: Hotline
    count: int
    binary: str  # kamailio
    # How long after its death a worker is first started again (then back-off).
    restart_delay_s: float = 0.0
    workers: list[PoolWorker] = field(default_factory=list)
    guard: SipGuard | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start the workers, wait until each answers SIP, then Kamailio in front of them,
        then the supervisor."""
        settings = self.hotline.settings
        phones = phone_sources(self.hotline)
        maxload = inbound_capacity(settings.max_calls, bool(phones))
        planned, config = plan_pool(settings, phones, self.count, maxload)
        # A worker's database work is one control thread and two writers: a few
        # connections each, or N workers exhaust the server's (PostgreSQL: 100).
        planned = tuple(
            w.replace(database_pool_size=min(w.database_pool_size, WORKER_DB_CONNECTIONS))
            for w in planned
        )
        logs = settings.data_dir / "workers"
        logs.mkdir(parents=True, exist_ok=True)
        self.workers = [PoolWorker(w, logs / f"{w.worker_id}.log") for w in planned]
        try:
            for w in self.workers:
                self._spawn(w)
            for w in self.workers:
                self._wait_ready(w)
            self.guard = SipGuard(config, self.binary, settings.data_dir / "kamailio")
            self.guard.start()
        except BaseException:
            self.stop()
            raise
        self._watcher = threading.Thread(target=self._watch, name="hotline-pool", daemon=True)
        self._watcher.start()

    @property
    def address(self) -> str:
        """'host:port' callers send SIP to (Kamailio)."""
        assert self.guard is not None
        return self.guard.address

    def _spawn(self, w: PoolWorker) -> None:
        env = {
            **os.environ,
            **w.settings.to_env(),
            # Kamailio is the pool's; each worker is one process of it, with one slot set.
            "HOTLINE_SIP_GUARD": "off",
            "HOTLINE_TELEPHONY_WORKERS": "1",
        }
        out = w.log_path.open("ab")
        try:
            w.proc = subprocess.Popen(
                [sys.executable, "-m", "console.cli", "telephony"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                # Its own session: a Ctrl+C at the terminal reaches the supervisor only, which
                # stops the workers itself (a worker stopping on its own would be restarted).
                start_new_session=True,
                preexec_fn=set_parent_death_signal,
            )
        finally:
            out.close()
        w.started = time.monotonic()
        w.restart_at = None
        log.info("telephony worker %s started (pid %d)", w.worker_id, w.proc.pid)

    def _wait_ready(self, w: PoolWorker, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if w.proc is None or w.proc.poll() is not None:
                break
            if answers_options(WORKER_HOST, w.port):
                return
            time.sleep(0.1)
        tail = w.log_path.read_text(errors="replace")[-3000:] if w.log_path.exists() else ""
        raise GuardError(f"telephony worker {w.worker_id} did not start:\n{tail}")

    # -- supervision ------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL_S):
            for w in self.workers:
                try:
                    self._check(w)
                except Exception:
                    log.exception("supervising telephony worker %s failed", w.worker_id)
            try:
                with self._lock:
                    if not self._stop.is_set() and self.guard is not None:
                        self._check_guard(self.guard)
            except Exception:
                log.exception("supervising kamailio failed")

    def _check(self, w: PoolWorker) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            if w.proc is not None and w.proc.poll() is not None:
                self._died(w)
            if w.proc is None and w.restart_at is not None and time.monotonic() >= w.restart_at:
                self._spawn(w)
                w.restarts += 1
            if w.proc is not None and not w.in_rotation and answers_options(WORKER_HOST, w.port):
                assert self.guard is not None
                self.guard.put_back(w.port, w.restarts)
                w.in_rotation = True
                log.info("telephony worker %s is back in rotation", w.worker_id)

    def _check_guard(self, guard: SipGuard) -> None:
        """Kamailio died: start it again (its configuration names every worker afresh)."""
        if guard.proc is None or guard.proc.poll() is None:
            return
        log.warning("kamailio died (exit status %s); starting it again", guard.proc.returncode)
        guard.proc = None
        guard.start()
        for w in self.workers:
            if w.proc is None:  # not yet restarted: out of rotation until it is
                guard.take_out(w.port)
                w.in_rotation = False
            elif w.restarts:  # listed under its first id again
                w.in_rotation = True

    def _died(self, w: PoolWorker) -> None:
        assert w.proc is not None
        code = w.proc.returncode
        ran = time.monotonic() - w.started
        w.proc = None
        log.warning(
            "telephony worker %s died (exit status %s after %.0f s)", w.worker_id, code, ran
        )
        if self.guard is not None and w.in_rotation:
            try:
                self.guard.take_out(w.port)
                w.in_rotation = False
            except GuardError:
                log.exception("could not take worker %s out of Kamailio's rotation", w.worker_id)
        # The restart is planned first: closing the calls needs the database and Redis, and
        # when either is away the restarted worker closes them itself as it starts.
        w.failures = 1 if ran >= HEALTHY_AFTER_S else w.failures + 1
        delay = self.restart_delay_s
        if w.failures > 1:
            delay = max(delay, min(RESTART_MAX_DELAY_S, 2.0 ** (w.failures - 1)))
        w.restart_at = time.monotonic() + delay
        try:
            closed = close_worker_calls(self.hotline, w.worker_id, EndReason.WORKER_RESTART)
        except Exception:
            log.exception(
                "closing the calls of worker %s failed; it closes them at start", w.worker_id
            )
            return
        if closed:
            log.warning("closed %d call(s) of worker %s", len(closed), w.worker_id)

    # -- stop ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the supervisor, then the workers (each hangs up its calls and closes their
        records), then Kamailio. Idempotent."""
        self._stop.set()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.join(timeout=5)
        with self._lock:
            procs = [w.proc for w in self.workers if w.proc is not None]
            for proc in procs:
                if proc.poll() is None:
                    with contextlib.suppress(OSError):
                        proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            for proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("telephony worker pid %d did not stop; killing it", proc.pid)
                    proc.kill()
                    proc.wait(timeout=5)
            for w in self.workers:
                w.proc = None
        guard, self.guard = self.guard, None
        if guard is not None:
            guard.stop()  # after the workers: their BYEs to callers go out through it
