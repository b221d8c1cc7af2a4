"""Solving rosters in the background: which solves run in this process, their heartbeat in the
database, and Stop (here at once, in another process through the bus). Built once per web
process by the composition root (console/node.py)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from console.core.errors import DomainError
from console.core.events import Event, roster_cancel_requested
from console.core.models import RosterPlan, utcnow
from console.core.notifier import Publisher
from console.rosters.services import (
    EDITABLE,
    Problem,
    get_plan,
    make_solver,
    problem,
    store_result,
)
from roster.solver import Progress, RosterSolver

log = logging.getLogger(__name__)

# Which process solves a roster, and when it last said so: with several web processes a solve
# runs in one of them, and another may only declare it dead once its heartbeat has stopped.
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
HEARTBEAT_S = 2.0
STALE_S = 30.0
# Progress is written at most this often; the page polls the roster while it solves.
PROGRESS_EVERY_S = 0.5


class RosterSolves:
    """The roster solves of this process."""

    def __init__(self, sessions: sessionmaker[Session], bus: Publisher, tz: str) -> None:
        self._sessions = sessions
        self._bus = bus
        self._tz = tz
        self._running: dict[int, RosterSolver] = {}
        self._lock = threading.Lock()

    def attach(self) -> int:
        """Fail the rosters a stopped process left 'solving' and hear Stop pressed in other
        processes; returns how many were failed."""
        with self._sessions.begin() as s:
            failed = self.recover_interrupted(s)
        self._bus.subscribe(self.on_bus)
        return failed

    def recover_interrupted(self, session: Session) -> int:
        """Rosters left 'solving' by a stopped process become 'failed' so they can be solved
        again; a solve another live process is running is left alone."""
        plans = session.scalars(select(RosterPlan).where(RosterPlan.status == "solving"))
        return sum(self.expire_if_dead(plan) for plan in plans)

    def is_running(self, roster_id: int) -> bool:
        """True when this process is solving the roster."""
        with self._lock:
            return roster_id in self._running

    def is_solving(self, plan: RosterPlan, now: float | None = None) -> bool:
        """True while some process is solving the roster: here, or elsewhere with a live
        heartbeat."""
        if plan.status != "solving":
            return False
        if self.is_running(plan.id):
            return True
        beat = (plan.progress or {}).get("beat")
        return isinstance(beat, int | float) and (now or time.time()) - beat <= STALE_S

    def expire_if_dead(self, plan: RosterPlan, now: float | None = None) -> bool:
        """A roster left 'solving' by a process that stopped becomes 'failed', to be solved
        again."""
        if plan.status != "solving" or self.is_solving(plan, now):
            return False
        plan.status = "failed"
        plan.error = "interrupted: the process solving it stopped"
        return True

    def start(
        self, roster_id: int, on_done: Callable[[int], None] | None = None
    ) -> threading.Thread:
        """Mark the roster solving and solve it on a background thread within its time limit."""
        with self._sessions.begin() as s:
            plan = get_plan(s, roster_id)
            self.expire_if_dead(plan)  # a solve whose process died may be started again at once
            if plan.status not in EDITABLE:
                raise DomainError("roster-not-editable", plan.status)
            p = problem(s, plan, self._tz)
            if not p.templates:
                raise DomainError("roster-no-templates")
            if not p.agents:
                raise DomainError("roster-no-agents")
            if not p.requirement.needed:
                raise DomainError("roster-no-forecast")
            limit = plan.time_limit_s
            solver = make_solver(p)
            with self._lock:
                if roster_id in self._running:
                    raise DomainError("roster-not-editable", "solving")
                self._running[roster_id] = solver
            plan.status = "solving"
            plan.error = ""
            plan.progress = {
                "elapsed_s": 0.0,
                "solutions": 0,
                "time_limit_s": limit,
                "owner": OWNER,
                "beat": time.time(),
            }
            plan.updated_at = utcnow()
        thread = threading.Thread(
            target=self._solve,
            args=(roster_id, solver, p, limit, on_done),
            name=f"roster-{roster_id}",
            daemon=True,
        )
        thread.start()
        return thread

    def cancel(self, roster_id: int) -> bool:
        """Stop a solve running in this process now; the best roster so far is kept."""
        with self._lock:
            solver = self._running.get(roster_id)
        if solver is None:
            return False
        solver.cancel()
        return True

    def request_cancel(self, session: Session, roster_id: int) -> bool:
        """Stop the roster's solve wherever it runs: here at once, in another process via the
        bus. False when nothing is solving it."""
        if self.cancel(roster_id):
            return True
        if not self.is_solving(get_plan(session, roster_id)):
            return False
        self._bus.publish(roster_cancel_requested(roster_id=roster_id))
        return True

    def on_bus(self, event: Event) -> None:
        """Bus handler: a Stop pressed in another process reaches the solve here."""
        if isinstance(event, roster_cancel_requested):
            self.cancel(event.roster_id)

    def _solve(
        self,
        roster_id: int,
        solver: RosterSolver,
        p: Problem,
        limit: int,
        on_done: Callable[[int], None] | None,
    ) -> None:
        sessions = self._sessions
        # The solver's callback only notes the latest figures; one writer thread stores them
        # at most every PROGRESS_EVERY_S, and at least every HEARTBEAT_S as the heartbeat.
        latest: dict[str, Any] = {"elapsed_s": 0.0, "solutions": 0, "time_limit_s": limit}
        done = threading.Event()

        def progress(pr: Progress) -> None:
            nonlocal latest
            gap = 100.0 * (pr.objective - pr.best_bound) / pr.objective if pr.objective > 0 else 0.0
            latest = {
                "elapsed_s": round(pr.elapsed_s, 2),
                "objective": pr.objective,
                "best_bound": pr.best_bound,
                "gap_pct": round(max(gap, 0.0), 2),
                "solutions": pr.solutions,
                "time_limit_s": limit,
            }

        def beat() -> None:
            written: dict[str, Any] | None = None
            last = time.monotonic()
            while not done.wait(PROGRESS_EVERY_S):
                figures = latest
                if figures is written and time.monotonic() - last < HEARTBEAT_S:
                    continue
                try:
                    with sessions.begin() as s:
                        plan = s.get(RosterPlan, roster_id)
                        if plan is None or plan.status != "solving":
                            return
                        plan.progress = {**figures, "owner": OWNER, "beat": time.time()}
                except Exception:  # a missed beat is retried on the next tick
                    log.exception("roster %s: progress write failed", roster_id)
                    continue
                written, last = figures, time.monotonic()

        beater = threading.Thread(target=beat, name=f"roster-{roster_id}-beat", daemon=True)
        beater.start()
        try:
            try:
                result = solver.solve(time_limit_s=limit, progress=progress)
            finally:  # the writer stops before the result or the failure is stored
                done.set()
                beater.join()
            with sessions.begin() as s:
                plan = get_plan(s, roster_id)
                plan.progress = {**latest, "owner": OWNER, "beat": time.time()}  # final figures
                store_result(s, plan, result, p, self._tz)
        except Exception as err:  # the page must learn that the solve died, not spin forever
            log.exception("roster %s: solve failed", roster_id)
            with sessions.begin() as s:
                failed = s.get(RosterPlan, roster_id)
                if failed is not None:
                    failed.status = "failed"
                    failed.error = f"{type(err).__name__}: {err}"
        finally:
            with self._lock:
                self._running.pop(roster_id, None)
            if on_done is not None:
                on_done(roster_id)
