"""Periodic job of the quality analysis: the due calls' recordings analysed, a batch a run.

It runs where the scheduler role runs: in the scaled shape that is a process of its own
(console/node.py starts the scheduler only there), so the decoding and the engine's numpy
work never share a process with the web or the telephony workers.

A run reads, in one short transaction, the active rules version and up to `batch` due calls
(their two complete mono recordings and the events the engine reads, see services.py).
Then per call, outside any transaction, it decrypts the caller's and the agent's file, runs
the engine (`qa.analyse_call`, and each language's phrase rules) and stores the result in a
transaction of its own: a long batch holds no lock, and a crash loses only the call under
way, which is due again at the next run. A file that cannot be read (missing, damaged,
encrypted with a key that is not configured) marks that call's analysis failed with the
error's id and detail; it is not retried until the rules change or someone asks
(`retry_failed`). A run stops taking new calls once its time budget is spent, so it ends
before the next one is due; what it left is due then.

There is no speech recognition yet, so no transcript: every phrase rule is then not
applicable (the engine's verdict on a call without transcript lines); the metrics are the
analysis.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from console.core.errors import DomainError
from console.core.models import utcnow
from console.quality import services as quality
from console.quality.services import AnalysisTask, RuleBook, RunTrigger
from console.recordings.store import RecordingKey, parse_keys, read_pcm
from qa import CallAnalysis as EngineAnalysis
from qa import RuleResult, analyse_call, evaluate_rules

if TYPE_CHECKING:
    from console.scheduler import JobContext

log = logging.getLogger(__name__)

ANALYSE_EVERY = dt.timedelta(minutes=1)
# Calls per run by default (JobContext.analysis_batch_size). The engine does more than three
# call-hours per CPU-minute (benchmark B6), so twenty typical calls take seconds.
DEFAULT_ANALYSIS_BATCH = 20
# A scheduled run takes no new call after this long, to end before the next one is due.
SCHEDULED_BUDGET_S = 45.0


@dataclass(frozen=True)
class Failure:
    """Why a call could not be analysed: an error id (its message is `error.<id>`)."""

    error_id: str
    detail: str


@dataclass(frozen=True)
class Outcome:
    """The engine's analysis of a call and each language's rule verdicts."""

    analysis: EngineAnalysis
    rules: Mapping[str, Mapping[str, RuleResult]]


@dataclass(frozen=True)
class RunResult:
    """What one run did."""

    trigger: RunTrigger
    started_at: dt.datetime
    finished_at: dt.datetime
    analysed: int  # stored as done
    failed: int  # stored as failed
    requeued: int = 0  # failed analyses queued again first (retry_failed)


def analyse_task(
    task: AnalysisTask, keys: tuple[RecordingKey, ...], book: RuleBook
) -> Outcome | Failure:
    """Decrypt the call's two channels and analyse them; a Failure says why it could not."""
    try:
        caller = read_pcm(Path(task.caller.path), keys)
        agent = read_pcm(Path(task.agent.path), keys)
    except DomainError as e:  # recording-not-found, recording-corrupt, recording-key-unknown
        return Failure(e.error_id, e.detail)
    except Exception as e:  # unreadable (permissions, I/O error) or unforeseen: failed once,
        # so one bad file never stops the calls behind it
        log.exception("recording of call %s unreadable", task.call_id)
        return Failure("analysis-failed", f"{type(e).__name__}: {e}")
    if caller.channels != 1 or agent.channels != 1:
        return Failure("analysis-failed", "the caller and agent recordings must be mono")
    try:
        analysis = analyse_call(
            caller.data, caller.sample_rate, agent.data, agent.sample_rate, events=task.events
        )
        duration = analysis.metrics.duration_s
        # No transcript: every rule is "not applicable", by the engine's own verdict.
        rules = {
            language: evaluate_rules(rules, {}, duration) for language, rules in book.rules.items()
        }
    except Exception as e:  # a bad file the engine refuses, or a bug: not retried forever
        log.exception("analysis of call %s failed", task.call_id)
        return Failure("analysis-failed", f"{type(e).__name__}: {e}")
    return Outcome(analysis, rules)


def _store(
    sessions: sessionmaker[Session],
    task: AnalysisTask,
    version: int,
    outcome: Outcome | Failure,
    now: dt.datetime,
) -> bool:
    """Store the outcome; False when it could not be (logged)."""
    for attempt in range(2):
        try:
            with sessions.begin() as s:
                if isinstance(outcome, Failure):
                    quality.store_failed(
                        s, task.call_id, version, outcome.error_id, outcome.detail, now
                    )
                else:
                    quality.store_done(
                        s, task.call_id, version, outcome.analysis, outcome.rules, now
                    )
            return True
        except IntegrityError:
            # Another run (the scheduled one and one asked for) stored this call first:
            # the second attempt finds its row and replaces it.
            if attempt:
                log.exception("cannot store the analysis of call %s", task.call_id)
    return False


def run_batch(
    sessions: sessionmaker[Session],
    keys: tuple[RecordingKey, ...],
    limit: int,
    trigger: RunTrigger,
    *,
    retry_failed: bool = False,
    budget_s: float | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> RunResult:
    """Analyse up to `limit` due calls (newest first) and keep the run as the last of its
    trigger; `retry_failed` first queues this version's failed analyses again."""
    started = clock()
    t0 = time.monotonic()
    with sessions.begin() as s:
        book = quality.rule_book(s, started)
        requeued = quality.requeue_failed(s, book.version) if retry_failed else 0
        tasks = quality.calls_to_analyse(s, book.version, limit)
    analysed = failed = 0
    for task in tasks:
        if budget_s is not None and time.monotonic() - t0 > budget_s:
            break
        outcome = analyse_task(task, keys, book)
        if not _store(sessions, task, book.version, outcome, clock()):
            continue
        if isinstance(outcome, Failure):
            failed += 1
            log.warning(
                "call %s not analysed: %s %s", task.call_id, outcome.error_id, outcome.detail
            )
        else:
            analysed += 1
    finished = clock()
    try:
        with sessions.begin() as s:
            quality.record_run(s, trigger, started, finished, analysed, failed)
    except IntegrityError:  # two runs of one trigger kept their first run at once
        log.info("analysis run of %s not kept: another one was", trigger)
    return RunResult(trigger, started, finished, analysed, failed, requeued)


def analyse_recordings(ctx: JobContext) -> RunResult | None:
    """The scheduled run: a batch of due calls, decrypted with the node's recording keys."""
    if not ctx.recording_keys:
        log.warning("quality analysis: the scheduler was given no recording keys; skipped")
        return None
    return run_batch(
        ctx.sessions,
        parse_keys(ctx.recording_keys),
        ctx.analysis_batch_size,
        RunTrigger.SCHEDULED,
        budget_s=SCHEDULED_BUDGET_S,
    )
